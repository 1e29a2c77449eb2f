//! The other side of a delivery: the carrier (announces shipments, is told of
//! reroutes) and the courier at the door (proves who it is to the lock, asks the
//! cloud for a grant, delivers, and leaves when the household blocks or reroutes).
//! A guest uses the same door steps with its own invitation.
#![deny(missing_docs)]

pub mod door;
pub mod webhook;

use doorstep_proto::SigningKey;

/// Reads a key file: the 32-byte seed, or the seed as base64url text (as
/// `doorstep-cloud carrier-add` prints a carrier's shipment-signing key).
pub fn read_key(path: &std::path::Path) -> anyhow::Result<SigningKey> {
    use base64::Engine;
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("key file {}: {e}", path.display()))?;
    let seed: [u8; 32] = match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(seed) => seed,
        Err(_) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(text.trim())
                    .ok()
            })
            .and_then(|decoded| <[u8; 32]>::try_from(decoded.as_slice()).ok())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "key file {} must hold 32 bytes or their base64url text",
                    path.display()
                )
            })?,
    };
    Ok(SigningKey::from_seed(&seed))
}

/// What a carrier signs for each shipment it announces.
#[derive(Debug, Clone)]
pub struct ShipmentFacts<'a> {
    /// The carrier's name, as the cloud knows it.
    pub carrier: &'a str,
    /// The household.
    pub household_id: &'a str,
    /// The tracking id.
    pub tracking_id: &'a str,
    /// The assigned courier's key.
    pub courier: doorstep_proto::PublicKey,
    /// The delivery window (ms).
    pub not_before: i64,
    /// The delivery window's end (ms).
    pub not_after: i64,
}

/// The carrier's signed `shipment` envelope (base64url) for an announcement:
/// under a household's standing policy, only this lets the courier in.
pub fn sign_shipment(facts: &ShipmentFacts<'_>, carrier_key: &SigningKey) -> String {
    use doorstep_proto::{
        Clock, HouseholdId, Shipment, Signed, SystemClock, TimeWindow, Timestamp,
    };
    let shipment = Shipment {
        carrier: facts.carrier.to_owned(),
        household: HouseholdId(facts.household_id.to_owned()),
        tracking: facts.tracking_id.to_owned(),
        courier: facts.courier,
        window: TimeWindow::new(Timestamp(facts.not_before), Timestamp(facts.not_after)),
        issued_at: SystemClock.read().now,
    };
    Signed::sign(&shipment, carrier_key).to_base64()
}

/// Writes a new key (0600) and returns it.
pub fn new_key(path: &std::path::Path) -> anyhow::Result<SigningKey> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let key = SigningKey::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(&key.to_seed())?;
    Ok(key)
}

/// A guest redeems the code the household gave them: makes their key (written to
/// `key_out`, 0600), proves they hold the code, and learns their guest id. The
/// household's Doorstep then signs them in; until it has, the door does not open.
pub async fn redeem_invitation(
    cloud: &str,
    code: &str,
    key_out: &std::path::Path,
) -> anyhow::Result<doorstep_api::Redeemed> {
    let code = doorstep_proto::InvitationCode::parse(code)?;
    let key = new_key(key_out)?;
    let request = doorstep_api::RedeemInvitation {
        id: code.id(),
        guest_key: key.public_key().to_base64(),
        proof: {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(code.proof(&key.public_key()))
        },
    };
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/v1/guest-invitations/redeem",
            cloud.trim_end_matches('/')
        ))
        .timeout(std::time::Duration::from_secs(30))
        .json(&request)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("the cloud at {cloud} did not answer: {e}"))?;
    let status = answer.status();
    let body = answer.bytes().await?;
    if !status.is_success() {
        // A key for a code that did not work is of no use to anyone.
        let _ = std::fs::remove_file(key_out);
        let message = serde_json::from_slice::<doorstep_api::ErrorBody>(&body)
            .map(|e| e.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
        anyhow::bail!("the code was not accepted: {message}");
    }
    Ok(serde_json::from_slice(&body)?)
}
