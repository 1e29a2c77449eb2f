//! What the password becomes on this device, and how the household key travels.
//!
//! The password never leaves the device. Argon2id (with the parameters and salt the
//! cloud hands out for the login) stretches it into one master secret; two keys are
//! expanded from it with HKDF-SHA256 under different labels:
//!
//! - the **auth key**, sent to the cloud in place of the password (the cloud stores
//!   only its Argon2id hash), and
//! - the **wrapping key**, which never leaves the device and encrypts the household's
//!   Ed25519 key (XChaCha20-Poly1305) so the cloud can store it without being able
//!   to use it. A breached cloud holds a ciphertext, not the key that opens doors.
//!
//! Wrapped blob: `1 ‖ nonce (24) ‖ ciphertext of the 32-byte seed ‖ tag (16)`, with the
//! login e-mail as associated data so a blob cannot be moved to another login.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use doorstep_api::KdfParams;
use doorstep_proto::SigningKey;
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use zeroize::Zeroizing;

use crate::encoding::{b64, unb64};

const WRAP_VERSION: u8 = 1;
const AUTH_LABEL: &[u8] = b"doorstep/v1 auth key";
const WRAP_LABEL: &[u8] = b"doorstep/v1 household wrapping key";

/// The two keys derived from a password.
pub struct PasswordKeys {
    auth_key: Zeroizing<[u8; 32]>,
    wrapping_key: SecretBox<[u8; 32]>,
}

impl std::fmt::Debug for PasswordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordKeys(..)")
    }
}

/// Why the password could not be turned into keys, or a wrapped key not opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The cloud asked for a derivation this client does not do, or absurd parameters.
    #[error("the cloud asked for key derivation this version cannot do ({0}); update Doorstep")]
    Unsupported(String),
    /// The blob is not a wrapped key, or the password is not the one it was wrapped with.
    #[error(
        "the household key could not be opened with this password (or it was damaged); \
         if the password was changed on another device, sign in with the new one"
    )]
    Unwrap,
}

impl PasswordKeys {
    /// Stretches `password` with the cloud's Argon2id parameters for this login.
    /// Deliberately slow (about a second): it is what makes a stolen auth-key hash
    /// expensive to attack.
    pub fn derive(password: &SecretString, params: &KdfParams) -> Result<Self, KeyError> {
        if params.algorithm != "argon2id" {
            return Err(KeyError::Unsupported(format!(
                "algorithm {:?}",
                params.algorithm
            )));
        }
        // Bounds that keep a hostile cloud from making the client hang or run out of memory.
        if !(8 * 1024..=1024 * 1024).contains(&params.memory_kib)
            || !(1..=16).contains(&params.iterations)
            || !(1..=8).contains(&params.parallelism)
        {
            return Err(KeyError::Unsupported(format!(
                "memory {} KiB, {} passes, {} lanes",
                params.memory_kib, params.iterations, params.parallelism
            )));
        }
        let salt = unb64(&params.salt)
            .ok()
            .filter(|s| (16..=64).contains(&s.len()))
            .ok_or_else(|| KeyError::Unsupported("a salt that is not 16–64 bytes".into()))?;
        let argon = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(
                params.memory_kib,
                params.iterations,
                params.parallelism,
                Some(32),
            )
            .map_err(|e| KeyError::Unsupported(e.to_string()))?,
        );
        let mut master = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(password.expose_secret().as_bytes(), &salt, master.as_mut())
            .map_err(|e| KeyError::Unsupported(e.to_string()))?;
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), master.as_ref());
        let mut auth_key = Zeroizing::new([0u8; 32]);
        let mut wrapping_key = Box::new([0u8; 32]);
        // 32-byte outputs from SHA-256 HKDF cannot fail.
        let _ = hkdf.expand(AUTH_LABEL, auth_key.as_mut());
        let _ = hkdf.expand(WRAP_LABEL, wrapping_key.as_mut());
        Ok(Self {
            auth_key,
            wrapping_key: SecretBox::new(wrapping_key),
        })
    }

    /// The auth key as the cloud expects it (base64url).
    pub fn auth_key_text(&self) -> SecretString {
        SecretString::from(b64(self.auth_key.as_ref()))
    }

    /// Encrypts the household key for the cloud to keep.
    pub fn wrap(&self, household_key: &SigningKey, email: &str) -> String {
        let cipher = XChaCha20Poly1305::new(self.wrapping_key.expose_secret().into());
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let seed = Zeroizing::new(household_key.to_seed());
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: seed.as_ref(),
                    aad: email.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut blob = Vec::with_capacity(1 + 24 + sealed.len());
        blob.push(WRAP_VERSION);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        b64(&blob)
    }

    /// Opens the household key the cloud kept.
    pub fn unwrap(&self, wrapped: &str, email: &str) -> Result<SigningKey, KeyError> {
        let blob = unb64(wrapped).map_err(|_| KeyError::Unwrap)?;
        if blob.len() != 1 + 24 + 32 + 16 || blob[0] != WRAP_VERSION {
            return Err(KeyError::Unwrap);
        }
        let cipher = XChaCha20Poly1305::new(self.wrapping_key.expose_secret().into());
        let seed = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&blob[1..25]),
                    Payload {
                        msg: &blob[25..],
                        aad: email.as_bytes(),
                    },
                )
                .map_err(|_| KeyError::Unwrap)?,
        );
        let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| KeyError::Unwrap)?;
        Ok(SigningKey::from_seed(&seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> KdfParams {
        KdfParams {
            algorithm: "argon2id".into(),
            salt: b64(&[3; 16]),
            // Small parameters keep the unit test quick; the cloud hands out 64 MiB.
            memory_kib: 8 * 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[test]
    fn the_same_password_opens_the_key_and_another_does_not() {
        let keys = PasswordKeys::derive(&"correct horse".into(), &params()).unwrap();
        let household = SigningKey::generate();
        let wrapped = keys.wrap(&household, "a@example.org");
        let again = PasswordKeys::derive(&"correct horse".into(), &params()).unwrap();
        assert_eq!(
            again
                .unwrap(&wrapped, "a@example.org")
                .unwrap()
                .public_key(),
            household.public_key()
        );
        assert_eq!(
            again.auth_key_text().expose_secret(),
            keys.auth_key_text().expose_secret()
        );
        let wrong = PasswordKeys::derive(&"wrong horse".into(), &params()).unwrap();
        assert!(matches!(
            wrong.unwrap(&wrapped, "a@example.org"),
            Err(KeyError::Unwrap)
        ));
        // Moved to another login, the blob does not open either.
        assert!(again.unwrap(&wrapped, "b@example.org").is_err());
    }

    #[test]
    fn the_auth_key_reveals_nothing_about_the_wrapping_key() {
        let keys = PasswordKeys::derive(&"pw".into(), &params()).unwrap();
        assert_ne!(
            keys.auth_key_text().expose_secret().as_bytes(),
            b64(keys.wrapping_key.expose_secret()).as_bytes()
        );
    }

    #[test]
    fn a_hostile_cloud_cannot_ask_for_absurd_work() {
        let mut huge = params();
        huge.memory_kib = 64 * 1024 * 1024;
        assert!(matches!(
            PasswordKeys::derive(&"pw".into(), &huge),
            Err(KeyError::Unsupported(_))
        ));
        let mut other = params();
        other.algorithm = "md5".into();
        assert!(PasswordKeys::derive(&"pw".into(), &other).is_err());
    }
}
