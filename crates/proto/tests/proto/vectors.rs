//! Committed test vectors (`crates/proto/vectors/`): fixed keys and objects and
//! their exact signed bytes, so any other implementation (or a future version of
//! this one) can prove it reads and writes the same format.
//! `DOORSTEP_UPDATE_VECTORS=1 cargo test -p doorstep-proto` rewrites them.

use std::path::PathBuf;

use doorstep_proto::*;
use serde_json::{Value, json};

use crate::common::{World, key};

fn vectors() -> Value {
    let world = World::new();
    let presented = world.genuine();
    let revocation = Revocation {
        household: world.trust.household.clone(),
        lock: world.trust.lock.clone(),
        target: RevocationTarget::Delivery("delivery-1".into()),
        device: DeviceId::from("laptop-1"),
        issued_at: crate::common::T0,
    };
    let challenge = Signed::sign(&presented.challenge, &world.lock_key);
    let cloud_time = CloudTime {
        lock: world.trust.lock.clone(),
        nonce: [11; 32],
        now: crate::common::T0,
    };
    let policy_grant = world.policy_grant(&world.policy(1), &world.shipment(), &world.carrier_key);
    let seeds = json!({
        "household": hex::encode([1u8; 32]),
        "cloud": hex::encode([2u8; 32]),
        "camera": hex::encode([3u8; 32]),
        "courier": hex::encode([4u8; 32]),
        "lock": hex::encode([5u8; 32]),
        "carrier": hex::encode([6u8; 32]),
    });
    let public = json!({
        "household": key(1).public_key().to_base64(),
        "cloud": key(2).public_key().to_base64(),
        "camera": key(3).public_key().to_base64(),
        "courier": key(4).public_key().to_base64(),
        "lock": key(5).public_key().to_base64(),
        "carrier": key(6).public_key().to_base64(),
    });
    let fingerprints = json!({
        "household": key(1).public_key().fingerprint(),
        "carrier": key(6).public_key().fingerprint(),
    });
    json!({
        "description": "Doorstep signed objects, format version 1. Keys are Ed25519 seeds (hex); objects are envelopes (hex). The grant, response, challenge and heartbeat together open lock 'lock-front' at the clock time 'now_ms', when the challenge was issued 5 s before by the lock's monotonic clock. Fingerprints are the first 100 bits of SHA-256 over the public key in the base32 alphabet ABCDEFGHJKLMNPQRSTUVWXYZ23456789.",
        "now_ms": crate::common::T0.0,
        "seeds": seeds,
        "public_keys": public,
        "fingerprints": fingerprints,
        "signed": {
            "delivery_approval": hex::encode(Signed::sign(&world.approval(), &world.household_key).to_bytes()),
            "entry_grant": hex::encode(presented.grant.to_bytes()),
            "lock_challenge": hex::encode(challenge.to_bytes()),
            "courier_response": hex::encode(presented.response.to_bytes()),
            "camera_heartbeat": hex::encode(presented.heartbeat.to_bytes()),
            "revocation": hex::encode(Signed::sign(&revocation, &world.household_key).to_bytes()),
            "delivery_policy": hex::encode(Signed::sign(&world.policy(1), &world.household_key).to_bytes()),
            "shipment": hex::encode(Signed::sign(&world.shipment(), &world.carrier_key).to_bytes()),
            "policy_entry_grant": hex::encode(Signed::sign(&policy_grant, &world.cloud_key).to_bytes()),
            "cloud_time": hex::encode(Signed::sign(&cloud_time, &world.cloud_key).to_bytes()),
        }
    })
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/v1.json")
}

#[test]
fn signed_bytes_match_the_committed_vectors() {
    let generated = serde_json::to_string_pretty(&vectors()).unwrap() + "\n";
    if std::env::var_os("DOORSTEP_UPDATE_VECTORS").is_some() {
        std::fs::write(path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path()).unwrap();
    assert!(
        committed == generated,
        "the signed format changed: if on purpose, bump FORMAT_VERSION and regenerate vectors"
    );
}

#[test]
fn the_committed_vectors_open_the_lock() {
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    let bytes = |name: &str| hex::decode(committed["signed"][name].as_str().unwrap()).unwrap();
    let world = World::new();
    let challenge = Signed::<LockChallenge>::from_bytes(&bytes("lock_challenge"))
        .unwrap()
        .verify(&key(5).public_key())
        .unwrap();
    let grant = Signed::<EntryGrant>::from_bytes(&bytes("entry_grant")).unwrap();
    let response = Signed::<CourierResponse>::from_bytes(&bytes("courier_response")).unwrap();
    let heartbeat = Signed::<CameraHeartbeat>::from_bytes(&bytes("camera_heartbeat")).unwrap();
    let request = EntryRequest {
        challenge: &challenge,
        grant: &grant,
        response: &response,
        heartbeat: &heartbeat,
        challenge_age: std::time::Duration::from_secs(5),
    };
    verify_entry(&world.trust, &world.ledger, &world.clock, request).unwrap();
}
