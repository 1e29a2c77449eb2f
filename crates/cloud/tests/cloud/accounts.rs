//! One login shared by several desktops: each device its own session; sign-out
//! of one leaves the others; rotating refresh tokens; brute force is stopped.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use doorstep_proto::Clock;
use doorstep_proto::SigningKey;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::*;

on_both_databases! {
    async fn two_devices_share_a_login_and_one_is_signed_out_from_the_other(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let (_, kitchen, study) = household_with_two_devices(&cloud, "home@example.org").await;
        assert_eq!(kitchen.household_id, study.household_id);
        assert_ne!(kitchen.device_id, study.device_id);

        let (status, devices) = cloud.get("/v1/devices", &study.access).await;
        assert_eq!(status, 200);
        let devices = devices.as_array().unwrap();
        assert_eq!(devices.len(), 2);
        let this: Vec<_> = devices.iter().filter(|d| d["this_device"] == true).collect();
        assert_eq!(this.len(), 1);
        assert_eq!(this[0]["name"], "Study desktop");

        // The kitchen laptop signs the study desktop out.
        let (status, _) = cloud.delete(&format!("/v1/devices/{}", study.device_id), &kitchen.access).await;
        assert_eq!(status, 204);
        let (status, body) = cloud.get("/v1/devices", &study.access).await;
        assert_eq!(status, 401);
        assert_eq!(body["code"], "unauthenticated");
        assert!(body["message"].as_str().unwrap().contains("signed out"));
        // The kitchen laptop is still in.
        let (status, devices) = cloud.get("/v1/devices", &kitchen.access).await;
        assert_eq!(status, 200);
        let study_row = devices.as_array().unwrap().iter().find(|d| d["id"] == study.device_id.as_str()).unwrap().clone();
        assert_eq!(study_row["signed_in"], false);

        // The log says which device did it.
        let (_, audit) = cloud.get("/v1/audit?action_prefix=device.sign_out", &kitchen.access).await;
        assert_eq!(audit[0]["device_id"], kitchen.device_id.as_str());
        assert_eq!(audit[0]["device_name"], "Kitchen laptop");
        assert_eq!(audit[0]["object_id"], study.device_id.as_str());
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn refresh_tokens_rotate_and_a_reused_one_signs_the_device_out(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let (_, laptop, desktop) = household_with_two_devices(&cloud, "rotate@example.org").await;

        let (status, tokens) = cloud.post("/v1/sessions/refresh", None, json!({ "refresh_token": laptop.refresh })).await;
        assert_eq!(status, 200, "{tokens}");
        let new_access = tokens["access_token"].as_str().unwrap().to_owned();
        let new_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(new_refresh, laptop.refresh);
        assert_eq!(cloud.get("/v1/devices", &new_access).await.0, 200);
        // The old access token no longer works after rotation.
        assert_eq!(cloud.get("/v1/devices", &laptop.access).await.0, 401);

        // A thief replays the old refresh token: refused, and the laptop is signed out.
        let (status, body) = cloud.post("/v1/sessions/refresh", None, json!({ "refresh_token": laptop.refresh })).await;
        assert_eq!(status, 401);
        assert!(body["message"].as_str().unwrap().contains("already used"), "{body}");
        assert_eq!(cloud.get("/v1/devices", &new_access).await.0, 401);
        assert_eq!(cloud.post("/v1/sessions/refresh", None, json!({ "refresh_token": new_refresh })).await.0, 401);
        // The other device is untouched.
        assert_eq!(cloud.get("/v1/devices", &desktop.access).await.0, 200);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn access_tokens_expire(backend: Backend) {
        let Some(cloud) = TestCloud::start_with_manual_clock(backend).await else { return };
        let household = Household::new("expiry@example.org");
        let (_, body) = cloud.post("/v1/accounts", None, household.create_body("Laptop")).await;
        let device = Device::from_response(&body);
        cloud.clock.as_ref().unwrap().advance(std::time::Duration::from_secs(cloud.settings.access_token_ttl_secs + 1));
        let (status, body) = cloud.get("/v1/devices", &device.access).await;
        assert_eq!(status, 401);
        assert!(body["message"].as_str().unwrap().contains("expired"), "{body}");
        // Refresh still works and gives a fresh access token.
        let (status, tokens) = cloud.post("/v1/sessions/refresh", None, json!({ "refresh_token": device.refresh })).await;
        assert_eq!(status, 200);
        assert_eq!(cloud.get("/v1/devices", tokens["access_token"].as_str().unwrap()).await.0, 200);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn sign_in_brute_force_is_stopped(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let household = Household::new("target@example.org");
        assert_eq!(cloud.post("/v1/accounts", None, household.create_body("Laptop")).await.0, 201);
        let mut wrong = household.sign_in_body("Attacker");
        wrong["auth_key"] = json!(base64_of(&[0u8; 32]));
        for _ in 0..cloud.settings.sign_in_max_failures {
            let (status, body) = cloud.post("/v1/sessions", None, wrong.clone()).await;
            assert_eq!(status, 401);
            assert_eq!(body["message"], "wrong e-mail address or password");
        }
        let (status, body) = cloud.post("/v1/sessions", None, wrong).await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["code"], "rate_limited");
        // Even the right key waits out the window: the attacker cannot tell.
        let (status, _) = cloud.post("/v1/sessions", None, household.sign_in_body("Owner")).await;
        assert_eq!(status, 429);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_wrong_password_and_an_unknown_account_look_the_same(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let household = Household::new("real@example.org");
        cloud.post("/v1/accounts", None, household.create_body("Laptop")).await;
        let mut wrong = household.sign_in_body("X");
        wrong["auth_key"] = json!(base64_of(&[1u8; 32]));
        let unknown = Household::new("nobody@example.org").sign_in_body("X");
        let (a, body_a) = cloud.post("/v1/sessions", None, wrong).await;
        let (b, body_b) = cloud.post("/v1/sessions", None, unknown).await;
        assert_eq!((a, b), (401, 401));
        assert_eq!(body_a, body_b);
        // KDF parameters exist for both, stable for the unknown one.
        let real = cloud.call(reqwest::Method::GET, "/v1/accounts/kdf?email=real@example.org", None, None).await.1;
        let fake1 = cloud.call(reqwest::Method::GET, "/v1/accounts/kdf?email=nobody@example.org", None, None).await.1;
        let fake2 = cloud.call(reqwest::Method::GET, "/v1/accounts/kdf?email=nobody@example.org", None, None).await.1;
        assert_eq!(real["algorithm"], "argon2id");
        assert_eq!(fake1, fake2);
        assert_ne!(real["salt"], fake1["salt"]);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn one_household_cannot_touch_anothers_devices(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let (_, alice, _) = household_with_two_devices(&cloud, "alice@example.org").await;
        let (_, mallory, _) = household_with_two_devices(&cloud, "mallory@example.org").await;
        let (status, body) = cloud.delete(&format!("/v1/devices/{}", alice.device_id), &mallory.access).await;
        assert_eq!(status, 404, "answered as not found, not forbidden");
        assert_eq!(body["code"], "not_found");
        assert_eq!(cloud.get("/v1/devices", &alice.access).await.0, 200);
        let (_, devices) = cloud.get("/v1/devices", &mallory.access).await;
        assert!(devices.as_array().unwrap().iter().all(|d| d["id"] != alice.device_id.as_str()));
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn an_email_can_hold_only_one_household(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let household = Household::new("Twice@Example.org");
        assert_eq!(cloud.post("/v1/accounts", None, household.create_body("A")).await.0, 201);
        let again = Household::new("twice@example.org");
        let (status, body) = cloud.post("/v1/accounts", None, again.create_body("B")).await;
        assert_eq!(status, 409);
        assert_eq!(body["code"], "conflict");
        assert_eq!(cloud.count("households").await, 1);
        cloud.finish().await;
    }
}

pub fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn code_at(secret: &str, at_ms: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        None,
        String::new(),
    )
    .unwrap();
    totp.generate(u64::try_from(at_ms / 1000).unwrap())
}

on_both_databases! {
    async fn with_the_second_factor_on_sign_in_needs_a_fresh_code(backend: Backend) {
        let Some(cloud) = TestCloud::start_with_manual_clock(backend).await else { return };
        let clock = cloud.clock.clone().unwrap();
        let (household, kitchen, _) = household_with_two_devices(&cloud, "totp@example.org").await;
        let (status, setup) = cloud.post("/v1/account/totp", Some(&kitchen.access), json!({})).await;
        assert_eq!(status, 200, "{setup}");
        assert!(setup["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/Doorstep"));
        let secret = setup["secret"].as_str().unwrap().to_owned();
        let (status, body) = cloud.post("/v1/account/totp/confirm", Some(&kitchen.access), json!({ "code": "000000" })).await;
        assert_eq!(status, 400, "{body}");
        let now = clock.read().now.0;
        let (status, _) = cloud.post("/v1/account/totp/confirm", Some(&kitchen.access), json!({ "code": code_at(&secret, now) })).await;
        assert_eq!(status, 204);

        // Password alone is no longer enough.
        let (status, body) = cloud.post("/v1/sessions", None, household.sign_in_body("New laptop")).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("totp_required")));
        // A code from the next step works once …
        clock.advance(std::time::Duration::from_secs(30));
        let now = clock.read().now.0;
        let mut with_code = household.sign_in_body("New laptop");
        with_code["totp"] = json!(code_at(&secret, now));
        assert_eq!(cloud.post("/v1/sessions", None, with_code.clone()).await.0, 200);
        // … and not twice (a code seen on the wire is worthless).
        let (status, body) = cloud.post("/v1/sessions", None, with_code).await;
        assert_eq!(status, 401, "{body}");
        assert!(body["message"].as_str().unwrap().contains("authenticator"), "{body}");
        cloud.finish().await;
    }
}

/// A client that connects from another loopback address (all of 127/8 is local).
fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last_octet]))
        .build()
        .unwrap()
}

/// POSTs `body` to `path` from `client` (another client address).
async fn post_from(
    cloud: &TestCloud,
    client: &reqwest::Client,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let response = client
        .post(cloud.url(path))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn sign_in_from(cloud: &TestCloud, client: &reqwest::Client, body: &Value) -> (u16, Value) {
    post_from(cloud, client, "/v1/sessions", body).await
}

on_both_databases! {
    async fn an_attacker_who_knows_the_email_locks_out_only_itself(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let household = Household::new("target@example.org");
        let create = household.create_body("Kitchen laptop");
        let kitchen_device = create["device"].clone();
        let (status, created) = cloud.post("/v1/accounts", None, create).await;
        assert_eq!(status, 201, "{created}");
        let mut wrong = household.sign_in_body("Attacker");
        wrong["auth_key"] = json!(URL_SAFE_NO_PAD.encode([8u8; 32]));

        // One address guessing: it is stopped after 5 tries; the owner elsewhere is not.
        let attacker = client_from(2);
        for _ in 0..5 {
            assert_eq!(sign_in_from(&cloud, &attacker, &wrong).await.0, 401);
        }
        let (status, body) = sign_in_from(&cloud, &attacker, &household.sign_in_body("Attacker")).await;
        assert_eq!(status, 429, "{body}");
        let owner = client_from(1);
        let (status, body) = sign_in_from(&cloud, &owner, &household.sign_in_body("Phone")).await;
        assert_eq!(status, 200, "the owner was locked out: {body}");

        // Many addresses guessing: past the account-wide limit, a new device waits,
        // a device that was signed in before still gets through.
        for octet in 10..20 {
            let client = client_from(octet);
            for _ in 0..5 {
                sign_in_from(&cloud, &client, &wrong).await;
            }
        }
        let (status, body) = sign_in_from(&cloud, &client_from(30), &household.sign_in_body("New tablet")).await;
        assert_eq!(status, 429, "{body}");
        let mut known = household.sign_in_body("Kitchen laptop");
        known["device"] = kitchen_device;
        let (status, body) = sign_in_from(&cloud, &client_from(31), &known).await;
        assert_eq!(status, 200, "a known device is let through: {body}");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn accounts_and_pairing_attempts_are_limited_per_address(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let flood = client_from(40);
        let mut created = 0;
        let mut limited = None;
        for n in 0..25 {
            let body = Household::new(&format!("flood{n}@example.org")).create_body("Bot");
            match post_from(&cloud, &flood, "/v1/accounts", &body).await {
                (201, _) => created += 1,
                (429, answer) => {
                    limited = Some(answer);
                    break;
                }
                (other, answer) => panic!("account creation answered {other}: {answer}"),
            }
        }
        assert_eq!(created, 20, "20 accounts an hour from one address");
        let limited = limited.expect("the 21st is refused");
        assert_eq!(limited["code"], "rate_limited", "{limited}");
        // Another address is not affected.
        let (status, _) = cloud.post("/v1/accounts", None, Household::new("calm@example.org").create_body("Laptop")).await;
        assert_eq!(status, 201);

        let guesser = client_from(41);
        let mut statuses = Vec::new();
        for _ in 0..12 {
            let body = json!({
                "code": "WRONGCODE-AAAA",
                "lock_key": SigningKey::generate().public_key().to_base64(),
                "camera_key": SigningKey::generate().public_key().to_base64(),
            });
            statuses.push(post_from(&cloud, &guesser, "/v1/locks/pair", &body).await.0);
        }
        assert!(!statuses[..10].contains(&429), "{statuses:?}");
        assert_eq!(statuses[10..], [429, 429], "{statuses:?}");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_stolen_access_token_alone_cannot_take_over_the_login(backend: Backend) {
        // Access tokens outlive the test's steps; the confirmation window does not.
        let Some(cloud) = TestCloud::start_with(backend, |s| s.access_token_ttl_secs = 3600, true).await else { return };
        let clock = cloud.clock.clone().unwrap();
        let (household, kitchen, study) = household_with_two_devices(&cloud, "takeover@example.org").await;
        // Fresh from signing in, a device may do sensitive things.
        let (status, body) = cloud.post("/v1/locks/pairing-codes", Some(&kitchen.access), json!({ "name": "Front door", "kind": "door" })).await;
        assert_eq!(status, 201, "{body}");

        // Ten minutes later, a thief with only the access token cannot.
        clock.advance(std::time::Duration::from_secs(600));
        let (_, page) = cloud.get("/v1/events", &study.access).await;
        let mut stream = crate::stream::EventStream::connect(&cloud, &study.access, page["last_seq"].as_i64()).await;
        for (method, path, body) in [
            (reqwest::Method::POST, "/v1/account/totp".to_owned(), None),
            (reqwest::Method::POST, "/v1/locks/pairing-codes".to_owned(), Some(json!({ "name": "Back door", "kind": "door" }))),
            (reqwest::Method::DELETE, format!("/v1/devices/{}", study.device_id), None),
            (reqwest::Method::PUT, "/v1/household/policy".to_owned(), Some(json!({ "policy": "AAAA" }))),
            (reqwest::Method::POST, "/v1/guests".to_owned(), Some(json!({ "invitation": "AAAA" }))),
        ] {
            let (status, answer) = cloud.call(method.clone(), &path, Some(&kitchen.access), body).await;
            assert_eq!(status, 403, "{method} {path}: {answer}");
            assert_eq!(answer["code"], "reauth_required", "{method} {path}: {answer}");
        }
        // A wrong password does not confirm; the right one does, and every device hears of it.
        let wrong = json!({ "auth_key": URL_SAFE_NO_PAD.encode([8u8; 32]) });
        let (status, answer) = cloud.post("/v1/sessions/current/confirm", Some(&kitchen.access), wrong).await;
        assert_eq!((status, answer["code"].as_str()), (403, Some("reauth_required")), "{answer}");
        // The device stays signed in after a typo.
        let (status, _) = cloud.get("/v1/deliveries", &kitchen.access).await;
        assert_eq!(status, 200);
        let right = json!({ "auth_key": household.auth_key });
        let (status, answer) = cloud.post("/v1/sessions/current/confirm", Some(&kitchen.access), right).await;
        assert_eq!(status, 204, "{answer}");
        let (_, kind, event) = stream.next().await;
        assert_eq!(kind, "device.confirmed");
        assert_eq!(event["data"]["device_id"], kitchen.device_id.as_str());
        let (status, body) = cloud.post("/v1/locks/pairing-codes", Some(&kitchen.access), json!({ "name": "Back door", "kind": "door" })).await;
        assert_eq!(status, 201, "{body}");
        // The confirmation lasts minutes, not for ever.
        clock.advance(std::time::Duration::from_secs(600));
        let (status, _) = cloud.post("/v1/locks/pairing-codes", Some(&kitchen.access), json!({ "name": "Shed", "kind": "door" })).await;
        assert_eq!(status, 403);
        cloud.finish().await;
    }
}
