//! The recovery key: a proof of it opens the household key's second seal and sets a
//! new password; a wrong one, an unknown login or a login without one are refused
//! alike and counted like failed sign-ins; a new key needs a recent password and
//! retires the old one; every device hears of a reset.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::*;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A household's creation with a recovery key whose proof is `[proof; 32]` and
/// whose seal is `[seal; 48]`.
fn create_with_recovery(household: &Household, device: &str, proof: u8, seal: u8) -> Value {
    let mut body = household.create_body(device);
    body["recovery"] = json!({
        "auth_key": b64(&[proof; 32]),
        "wrapped_household_key": b64(&[seal; 48]),
    });
    body
}

fn open_body(email: &str, proof: u8) -> Value {
    json!({ "email": email, "recovery_auth_key": b64(&[proof; 32]) })
}

/// A reset to the password whose auth key is `[password; 32]`.
fn reset_body(email: &str, proof: u8, password: u8, device: &str) -> Value {
    json!({
        "email": email,
        "recovery_auth_key": b64(&[proof; 32]),
        "auth_key": b64(&[password; 32]),
        "kdf_salt": b64(&[password; 16]),
        "wrapped_household_key": b64(&[password; 48]),
        "device": device_body(device),
    })
}

const REFUSED: &str = "wrong e-mail address or recovery key";

on_both_databases! {
    async fn the_recovery_key_sets_a_new_password_and_a_wrong_one_changes_nothing(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let household = Household::new("forgetful@example.org");
        let (status, body) = cloud.post("/v1/accounts", None, create_with_recovery(&household, "Kitchen laptop", 5, 8)).await;
        assert_eq!(status, 201, "{body}");
        let kitchen = Device::from_response(&body);
        let (_, page) = cloud.get("/v1/events", &kitchen.access).await;
        let mut stream = crate::stream::EventStream::connect(&cloud, &kitchen.access, page["last_seq"].as_i64()).await;

        // A wrong key and an unknown login are told apart by nothing.
        for (email, proof) in [(household.email.as_str(), 6), ("nobody@example.org", 5)] {
            let (status, body) = cloud.post("/v1/accounts/recovery/open", None, open_body(email, proof)).await;
            assert_eq!((status, body["message"].as_str()), (401, Some(REFUSED)), "{email}: {body}");
        }
        // The right one hands out the seal it made, not the password's.
        let (status, opened) = cloud.post("/v1/accounts/recovery/open", None, open_body(&household.email, 5)).await;
        assert_eq!(status, 200, "{opened}");
        assert_eq!(opened["wrapped_household_key"], b64(&[8; 48]));
        assert_eq!(opened["household_public_key"], household.household_key.public_key().to_base64());

        // A reset with a wrong key changes nothing: the old password still works.
        let (status, body) = cloud.post("/v1/accounts/recovery/reset", None, reset_body(&household.email, 6, 3, "Thief")).await;
        assert_eq!((status, body["message"].as_str()), (401, Some(REFUSED)), "{body}");
        assert_eq!(cloud.post("/v1/sessions", None, household.sign_in_body("Study")).await.0, 200);

        // With the right key: a new password, this device signed in with it.
        let (status, signed_in) = cloud.post("/v1/accounts/recovery/reset", None, reset_body(&household.email, 5, 3, "New laptop")).await;
        assert_eq!(status, 200, "{signed_in}");
        assert_eq!(signed_in["wrapped_household_key"], b64(&[3; 48]));
        let new_laptop = Device::from_response(&signed_in);
        assert_eq!(cloud.get("/v1/devices", &new_laptop.access).await.0, 200);
        let (status, body) = cloud.post("/v1/sessions", None, household.sign_in_body("Study")).await;
        assert_eq!((status, body["message"].as_str()), (401, Some("wrong e-mail address or password")));
        let with_new = json!({ "email": household.email, "auth_key": b64(&[3; 32]), "device": device_body("Study") });
        let (status, body) = cloud.post("/v1/sessions", None, with_new).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["wrapped_household_key"], b64(&[3; 48]));
        let (_, kdf) = cloud.call(reqwest::Method::GET, &format!("/v1/accounts/kdf?email={}", household.email), None, None).await;
        assert_eq!(kdf["salt"], b64(&[3; 16]));
        // The recovery key stays what it was: it still opens the same seal.
        let (_, opened) = cloud.post("/v1/accounts/recovery/open", None, open_body(&household.email, 5)).await;
        assert_eq!(opened["wrapped_household_key"], b64(&[8; 48]));

        // The kitchen laptop stays signed in and hears of it, naming the new device.
        assert_eq!(cloud.get("/v1/devices", &kitchen.access).await.0, 200);
        let mut kinds = Vec::new();
        while !kinds.iter().any(|k| k == "account.password_reset") {
            let (_, kind, event) = stream.next().await;
            if kind == "account.password_reset" {
                assert_eq!(event["data"]["device_id"], new_laptop.device_id.as_str());
            }
            kinds.push(kind);
        }
        let (_, audit) = cloud.get("/v1/audit?action_prefix=account.password_reset", &kitchen.access).await;
        assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
        assert_eq!(audit[0]["device_name"], "New laptop");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_login_without_a_recovery_key_is_refused_like_a_wrong_key(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let household = Household::new("older@example.org");
        assert_eq!(cloud.post("/v1/accounts", None, household.create_body("Laptop")).await.0, 201);
        let (status, body) = cloud.post("/v1/accounts/recovery/open", None, open_body(&household.email, 5)).await;
        assert_eq!((status, body["message"].as_str()), (401, Some(REFUSED)), "{body}");
        let (status, body) = cloud.post("/v1/accounts/recovery/reset", None, reset_body(&household.email, 5, 3, "X")).await;
        assert_eq!((status, body["message"].as_str()), (401, Some(REFUSED)), "{body}");
        assert_eq!(cloud.post("/v1/sessions", None, household.sign_in_body("Laptop")).await.0, 200);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn guessing_recovery_keys_is_stopped_like_guessing_passwords(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let household = Household::new("guessed@example.org");
        assert_eq!(cloud.post("/v1/accounts", None, create_with_recovery(&household, "Laptop", 5, 8)).await.0, 201);
        for guess in 0..cloud.settings.sign_in_max_failures {
            let proof = 100 + u8::try_from(guess).unwrap();
            let (status, _) = cloud.post("/v1/accounts/recovery/open", None, open_body(&household.email, proof)).await;
            assert_eq!(status, 401);
        }
        let (status, body) = cloud.post("/v1/accounts/recovery/open", None, open_body(&household.email, 5)).await;
        assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
        let (status, _) = cloud.post("/v1/accounts/recovery/reset", None, reset_body(&household.email, 5, 3, "X")).await;
        assert_eq!(status, 429, "the right key waits out the window too");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_new_recovery_key_needs_a_recent_password_and_retires_the_old_one(backend: Backend) {
        let Some(cloud) = TestCloud::start_with(backend, |s| s.access_token_ttl_secs = 3600, true).await else { return };
        let clock = cloud.clock.clone().unwrap();
        let household = Household::new("renewed@example.org");
        let (_, body) = cloud.post("/v1/accounts", None, create_with_recovery(&household, "Laptop", 5, 8)).await;
        let laptop = Device::from_response(&body);
        let new_key = json!({ "auth_key": b64(&[6; 32]), "wrapped_household_key": b64(&[9; 48]) });

        // A thief with only an access token, minutes later, cannot swap it.
        clock.advance(std::time::Duration::from_secs(600));
        let (status, body) = cloud.call(reqwest::Method::PUT, "/v1/accounts/recovery", Some(&laptop.access), Some(new_key.clone())).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("reauth_required")), "{body}");
        // Malformed fields are named before anything else.
        let (status, body) = cloud.call(reqwest::Method::PUT, "/v1/accounts/recovery", Some(&laptop.access), Some(json!({ "auth_key": "x", "wrapped_household_key": b64(&[9; 48]) }))).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["message"].as_str().unwrap().contains("recovery.auth_key"), "{body}");

        let (status, _) = cloud.post("/v1/sessions/current/confirm", Some(&laptop.access), json!({ "auth_key": household.auth_key })).await;
        assert_eq!(status, 204);
        let (status, body) = cloud.call(reqwest::Method::PUT, "/v1/accounts/recovery", Some(&laptop.access), Some(new_key)).await;
        assert_eq!(status, 204, "{body}");
        let (status, _) = cloud.post("/v1/accounts/recovery/open", None, open_body(&household.email, 5)).await;
        assert_eq!(status, 401, "the old key no longer works");
        let (status, opened) = cloud.post("/v1/accounts/recovery/open", None, open_body(&household.email, 6)).await;
        assert_eq!(status, 200, "{opened}");
        assert_eq!(opened["wrapped_household_key"], b64(&[9; 48]));
        let (_, audit) = cloud.get("/v1/audit?action_prefix=account.recovery_key_set", &laptop.access).await;
        assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
        cloud.finish().await;
    }
}
