//! What a lock learns at pairing and keeps in its data folder: its own and its
//! camera's keys, its cloud token, and the pinned household and cloud keys.

use std::path::{Path, PathBuf};

use doorstep_proto::{HouseholdId, LockId, LockTrust, PublicKey, SigningKey};
use serde::{Deserialize, Serialize};

/// The public part, in `identity.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    /// The cloud's base URL.
    pub cloud: String,
    /// This lock.
    pub lock_id: String,
    /// Its household.
    pub household_id: String,
    /// Pinned: signs approvals, policies, invitations, revocations.
    pub household_public_key: PublicKey,
    /// Pinned: signs grants.
    pub cloud_public_key: PublicKey,
    /// Its name.
    pub name: String,
    /// Door or garage.
    pub kind: String,
    /// A certificate authority to trust for the cloud's HTTPS (PEM), besides the
    /// public roots: for a private or test deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_pem: Option<String>,
}

/// Everything, loaded.
#[derive(Debug)]
pub struct Paired {
    /// Public part.
    pub identity: Identity,
    /// The lock's device key (signs challenges).
    pub lock_key: SigningKey,
    /// The camera's device key (signs heartbeats).
    pub camera_key: SigningKey,
    /// The lock's credential for the cloud.
    pub token: String,
}

impl Paired {
    /// What `verify_entry` trusts.
    pub fn trust(&self) -> LockTrust {
        LockTrust {
            lock: LockId(self.identity.lock_id.clone()),
            household: HouseholdId(self.identity.household_id.clone()),
            household_key: self.identity.household_public_key,
            cloud_key: self.identity.cloud_public_key,
            camera_key: self.camera_key.public_key(),
        }
    }

    /// Loads a paired lock's folder.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let identity_path = dir.join("identity.json");
        let text = std::fs::read_to_string(&identity_path).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a paired lock's folder ({e}); run `doorstep-lock pair` first",
                dir.display()
            )
        })?;
        let identity: Identity = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", identity_path.display()))?;
        Ok(Self {
            identity,
            lock_key: read_key(&dir.join("lock.key"))?,
            camera_key: read_key(&dir.join("camera.key"))?,
            token: std::fs::read_to_string(dir.join("cloud.token"))
                .map_err(|e| anyhow::anyhow!("cloud.token: {e}"))?
                .trim()
                .to_owned(),
        })
    }

    /// An HTTP client that trusts the public roots and the pinned CA, if any.
    pub fn http_client(ca_cert_pem: Option<&str>) -> anyhow::Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10));
        if let Some(pem) = ca_cert_pem {
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
        }
        Ok(builder.build()?)
    }

    /// TLS settings for the WebSocket links (`wss://`): public roots plus the pinned CA.
    pub fn tls_config(&self) -> anyhow::Result<std::sync::Arc<rustls::ClientConfig>> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = &self.identity.ca_cert_pem {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(cert.map_err(|e| anyhow::anyhow!("ca certificate: {e}"))?)?;
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(std::sync::Arc::new(config))
    }

    /// Pairs with the cloud using a one-time code and writes the folder.
    pub async fn pair(
        cloud: &str,
        code: &str,
        dir: &Path,
        ca_cert: Option<&Path>,
    ) -> anyhow::Result<Self> {
        if dir.join("identity.json").exists() {
            anyhow::bail!(
                "{} already holds a paired lock; use another folder",
                dir.display()
            );
        }
        let (code, fingerprint) = split_pairing_code(code)?;
        let lock_key = SigningKey::generate();
        let camera_key = SigningKey::generate();
        let cloud = cloud.trim_end_matches('/').to_owned();
        let ca_cert_pem = match ca_cert {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("--ca-cert {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let response = Self::http_client(ca_cert_pem.as_deref())?
            .post(format!("{cloud}/v1/locks/pair"))
            .json(&doorstep_api::Pair {
                code,
                lock_key: lock_key.public_key().to_base64(),
                camera_key: camera_key.public_key().to_base64(),
            })
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot reach the cloud at {cloud}: {}", e.without_url())
            })?;
        let status = response.status();
        if !status.is_success() {
            let reason = response
                .json::<doorstep_api::ErrorBody>()
                .await
                .map_or_else(|_| "no reason given".to_owned(), |body| body.message);
            anyhow::bail!("pairing refused ({status}): {reason}");
        }
        let paired: doorstep_api::Paired = response
            .json()
            .await
            .map_err(|e| anyhow::anyhow!("the cloud's pairing answer is unreadable: {e}"))?;
        let household_public_key = PublicKey::from_base64(&paired.household_public_key)?;
        if household_public_key.fingerprint() != fingerprint {
            anyhow::bail!(
                "the household key the cloud sent (fingerprint {}) does not match the fingerprint in the pairing code ({fingerprint}): the cloud may be compromised; the lock was not paired",
                household_public_key.fingerprint()
            );
        }
        let identity = Identity {
            cloud,
            lock_id: paired.lock_id,
            household_id: paired.household_id,
            household_public_key,
            cloud_public_key: PublicKey::from_base64(&paired.cloud_public_key)?,
            name: paired.name,
            kind: paired.kind,
            ca_cert_pem,
        };
        let token = paired.lock_token;
        std::fs::create_dir_all(dir)?;
        write_private(&dir.join("lock.key"), &lock_key.to_seed())?;
        write_private(&dir.join("camera.key"), &camera_key.to_seed())?;
        write_private(&dir.join("cloud.token"), token.as_bytes())?;
        std::fs::write(
            dir.join("identity.json"),
            serde_json::to_string_pretty(&identity)?,
        )?;
        Ok(Self {
            identity,
            lock_key,
            camera_key,
            token,
        })
    }
}

/// Splits a pairing code as the household's device shows it,
/// `CODE-FFFF-FFFF-FFFF-FFFF-FFFF`, into the cloud's one-time code and the
/// household key's fingerprint, which the lock checks the cloud's answer against.
pub fn split_pairing_code(code: &str) -> anyhow::Result<(String, String)> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let (one_time, fingerprint) = code.split_once('-').ok_or_else(|| {
        anyhow::anyhow!(
            "the pairing code has no household fingerprint (it looks like CODE-XXXX-XXXX-XXXX-XXXX-XXXX): copy the whole code the app shows"
        )
    })?;
    let fingerprint = doorstep_proto::normalize_fingerprint(fingerprint).ok_or_else(|| {
        anyhow::anyhow!(
            "the pairing code's household fingerprint is not 20 letters and digits: copy the whole code the app shows"
        )
    })?;
    Ok((one_time.to_uppercase(), fingerprint))
}

fn read_key(path: &PathBuf) -> anyhow::Result<SigningKey> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let seed: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("{} is not a 32-byte key", path.display()))?;
    Ok(SigningKey::from_seed(&seed))
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}
