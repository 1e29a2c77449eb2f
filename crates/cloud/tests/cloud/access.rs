//! The door, through the cloud: a grant only for an approved delivery, the
//! assigned courier at the lock, and a recording camera — and the grant is one the
//! lock itself accepts. Door reports complete the visit.

use doorstep_proto::*;
use serde_json::{Value, json};

use crate::deliveries::Scene;
use crate::on_both_databases;
use crate::stream::EventStream;
use crate::support::*;

struct Door<'a> {
    scene: &'a Scene,
    challenge: LockChallenge,
    /// The lock's (and the courier's) clock.
    at: Timestamp,
}

impl<'a> Door<'a> {
    fn new(scene: &'a Scene) -> Self {
        Self::at(scene, Timestamp::now())
    }

    /// A door whose clocks read `at` (a test on the cloud's manual clock).
    fn at(scene: &'a Scene, at: Timestamp) -> Self {
        Self {
            scene,
            challenge: LockChallenge {
                lock: LockId(scene.lock_id.clone()),
                nonce: rand_nonce(),
                issued_at: at,
            },
            at,
        }
    }

    fn signed_challenge(&self) -> String {
        Signed::sign(&self.challenge, &self.scene.lock_key).to_base64()
    }

    fn response(&self, delivery_id: &str, courier: &SigningKey) -> Signed<CourierResponse> {
        Signed::sign(
            &CourierResponse {
                lock: LockId(self.scene.lock_id.clone()),
                nonce: self.challenge.nonce,
                subject: GrantSubject::Delivery(delivery_id.into()),
                responded_at: self.at,
            },
            courier,
        )
    }

    fn heartbeat(&self, recording: bool) -> Signed<CameraHeartbeat> {
        self.heartbeat_at(recording, self.at)
    }

    fn heartbeat_at(&self, recording: bool, captured_at: Timestamp) -> Signed<CameraHeartbeat> {
        Signed::sign(
            &CameraHeartbeat {
                lock: LockId(self.scene.lock_id.clone()),
                recording,
                frame_seq: 1,
                captured_at,
            },
            &self.scene.camera_key,
        )
    }
}

fn rand_nonce() -> [u8; 32] {
    *uuid::Uuid::new_v4()
        .as_bytes()
        .repeat(2)
        .first_chunk::<32>()
        .unwrap()
}

struct NoHistory;
impl LockLedger for NoHistory {
    fn entry_used(&self, _: &EntryKey) -> bool {
        false
    }
    fn revoked(&self, _: &EntryGrant) -> bool {
        false
    }
    fn policy_version(&self) -> u64 {
        0
    }
}

async fn approved_delivery(cloud: &TestCloud, scene: &Scene, tracking: &str) -> Value {
    let delivery = scene.announce(cloud, tracking).await;
    let signed = Signed::sign(
        &scene.approval(&delivery, &scene.kitchen),
        &scene.household.household_key,
    )
    .to_base64();
    let (status, body) = cloud
        .post(
            &format!(
                "/v1/deliveries/{}/approve",
                delivery["id"].as_str().unwrap()
            ),
            Some(&scene.kitchen.access),
            json!({ "approval": signed }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn beat(cloud: &TestCloud, scene: &Scene, door: &Door<'_>, recording: bool) {
    let (status, body) = cloud
        .post(
            "/v1/lock/heartbeats",
            Some(&scene.lock_token),
            json!({ "heartbeat": door.heartbeat(recording).to_base64() }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

on_both_databases! {
    async fn an_approved_courier_at_a_recording_door_gets_a_grant_the_lock_accepts(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "door@example.org", 0).await;
        let delivery = approved_delivery(&cloud, &scene, "JJD1001").await;
        let id = delivery["id"].as_str().unwrap();
        let (_, page) = cloud.get("/v1/events", &scene.study.access).await;
        let mut stream = EventStream::connect(&cloud, &scene.study.access, page["last_seq"].as_i64()).await;

        let door = Door::new(&scene);
        beat(&cloud, &scene, &door, true).await;
        let response = door.response(id, &scene.courier);
        let (status, granted) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": response.to_base64() }))
            .await;
        assert_eq!(status, 200, "{granted}");

        // The lock, with only what it pinned at pairing, accepts the grant.
        let grant = Signed::<EntryGrant>::from_base64(granted["grant"].as_str().unwrap()).unwrap();
        let trust = LockTrust {
            lock: LockId(scene.lock_id.clone()),
            household: HouseholdId(scene.kitchen.household_id.clone()),
            household_key: scene.household.household_key.public_key(),
            cloud_key: scene.cloud_key,
            camera_key: scene.camera_key.public_key(),
        };
        let heartbeat = door.heartbeat(true);
        let entry = verify_entry(&trust, &NoHistory, &SystemClock, EntryRequest {
            challenge: &door.challenge,
            grant: &grant,
            response: &response,
            heartbeat: &heartbeat,
            challenge_age: std::time::Duration::from_secs(1),
        });
        assert!(entry.is_ok(), "{entry:?}");

        // The lock reports the door opening and closing: not yet delivered. Only
        // the bolt thrown again (`relocked`) completes the visit.
        let grant_id = grant.peek().unwrap().grant.to_string();
        for (seq, kind) in [(1, "grant_used"), (2, "unlocked"), (3, "door_opened"), (4, "door_closed")] {
            let (status, body) = cloud
                .post("/v1/lock/reports", Some(&scene.lock_token), json!({ "seq": seq, "kind": kind, "delivery_id": id, "at": Timestamp::now().0, "detail": { "grant": grant_id } }))
                .await;
            assert_eq!(status, 204, "{body}");
        }
        let (_, closed) = cloud.get(&format!("/v1/deliveries/{id}"), &scene.kitchen.access).await;
        assert_eq!((closed["state"].as_str(), closed["door"].as_str()), (Some("door_open"), Some("closed")), "{closed}");
        for (seq, kind) in [(5, "relocked")] {
            let (status, body) = cloud
                .post("/v1/lock/reports", Some(&scene.lock_token), json!({ "seq": seq, "kind": kind, "delivery_id": id, "at": Timestamp::now().0 }))
                .await;
            assert_eq!(status, 204, "{body}");
        }
        let kinds: Vec<String> = {
            let mut kinds = Vec::new();
            while kinds.len() < 4 {
                let kind = stream.next().await.1;
                // The camera watchdog may speak up when this test stops beating;
                // `delivery.door` follows each report (checked on the delivery).
                if !kind.starts_with("camera.") && kind != "delivery.door" {
                    kinds.push(kind);
                }
            }
            kinds
        };
        assert_eq!(kinds, ["delivery.at_door", "delivery.granted", "delivery.door_open", "delivery.completed"]);
        let (_, after) = cloud.get(&format!("/v1/deliveries/{id}"), &scene.kitchen.access).await;
        assert_eq!(after["state"], "completed");
        assert_eq!(after["door"], "locked");
        // The lock's own state, from its newest journal line of each.
        let (_, locks) = cloud.get("/v1/locks", &scene.kitchen.access).await;
        assert_eq!((locks[0]["bolt"].as_str(), locks[0]["door"].as_str()), (Some("locked"), Some("closed")), "{locks}");
        // A line uploaded late (an older seq) is history, not the state now.
        for (seq, kind) in [(7, "door_opened"), (6, "door_closed")] {
            let (status, body) = cloud
                .post("/v1/lock/reports", Some(&scene.lock_token), json!({ "seq": seq, "kind": kind, "at": Timestamp::now().0 }))
                .await;
            assert_eq!(status, 204, "{body}");
        }
        let (_, locks) = cloud.get("/v1/locks", &scene.kitchen.access).await;
        assert_eq!(locks[0]["door"], "open", "{locks}");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn no_approval_means_no_grant_but_the_household_is_told_the_courier_is_there(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "unapproved@example.org", 0).await;
        let delivery = scene.announce(&cloud, "JJD1002").await;
        let id = delivery["id"].as_str().unwrap();
        let door = Door::new(&scene);
        beat(&cloud, &scene, &door, true).await;
        let (status, body) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": door.response(id, &scene.courier).to_base64() }))
            .await;
        assert_eq!(status, 403);
        assert_eq!(body["code"], "entry_refused");
        let (_, after) = cloud.get(&format!("/v1/deliveries/{id}"), &scene.kitchen.access).await;
        assert_eq!(after["state"], "at_door");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn no_recording_camera_means_no_entry(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "camera@example.org", 0).await;
        let delivery = approved_delivery(&cloud, &scene, "JJD1003").await;
        let id = delivery["id"].as_str().unwrap();
        let door = Door::new(&scene);
        beat(&cloud, &scene, &door, false).await;
        let (status, body) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": door.response(id, &scene.courier).to_base64() }))
            .await;
        assert_eq!(status, 403, "{body}");
        assert!(body["message"].as_str().unwrap().contains("camera"), "{body}");
        let (_, after) = cloud.get(&format!("/v1/deliveries/{id}"), &scene.kitchen.access).await;
        assert_eq!(after["state"], "failed");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_courier_asking_for_a_delivery_not_assigned_to_it_gets_nothing(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "wrongcourier@example.org", 0).await;
        let delivery = approved_delivery(&cloud, &scene, "JJD1004").await;
        let id = delivery["id"].as_str().unwrap();
        let door = Door::new(&scene);
        beat(&cloud, &scene, &door, true).await;
        let stranger = SigningKey::generate();
        let (status, _) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": door.response(id, &stranger).to_base64() }))
            .await;
        assert_eq!(status, 404);
        let (_, after) = cloud.get(&format!("/v1/deliveries/{id}"), &scene.kitchen.access).await;
        assert_eq!(after["state"], "announced", "a stranger does not even make it 'at the door'");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_blocked_delivery_gets_no_grant(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "blocked@example.org", 0).await;
        let delivery = approved_delivery(&cloud, &scene, "JJD1005").await;
        let id = delivery["id"].as_str().unwrap();
        let (status, _) = cloud
            .post(&format!("/v1/deliveries/{id}/block"), Some(&scene.study.access), json!({ "revocation": scene.revocation(&delivery, &scene.study) }))
            .await;
        assert_eq!(status, 200);
        let door = Door::new(&scene);
        beat(&cloud, &scene, &door, true).await;
        let (status, body) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": door.response(id, &scene.courier).to_base64() }))
            .await;
        assert_ne!(status, 200, "{body}");
        assert!(body.get("grant").is_none());
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn lock_reports_are_stored_once_and_a_hole_raises_an_alert(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "journal@example.org", 0).await;
        let (_, page) = cloud.get("/v1/events", &scene.kitchen.access).await;
        let mut stream = EventStream::connect(&cloud, &scene.kitchen.access, page["last_seq"].as_i64()).await;
        let at = Timestamp::now().0;
        let report = |seq: i64, kind: &str| json!({ "seq": seq, "kind": kind, "at": at });
        assert_eq!(cloud.post("/v1/lock/reports", Some(&scene.lock_token), report(1, "relocked")).await.0, 204);
        assert_eq!(cloud.post("/v1/lock/reports", Some(&scene.lock_token), report(1, "relocked")).await.0, 204);
        assert_eq!(cloud.post("/v1/lock/reports", Some(&scene.lock_token), report(4, "jammed")).await.0, 204);
        let (_, kind, gap) = stream.next().await;
        assert_eq!(kind, "lock.event_gap");
        assert_eq!((gap["data"]["missing_from"].as_i64(), gap["data"]["missing_to"].as_i64()), (Some(2), Some(3)));
        assert_eq!(stream.next().await.1, "lock.jammed");
        assert_eq!(cloud.count("lock_journal").await, 2);
        let (status, body) = cloud.post("/v1/lock/reports", Some(&scene.lock_token), report(5, "exploded")).await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().starts_with("field `kind`"), "{body}");
        let (status, _) = cloud.post("/v1/lock/reports", Some(&scene.kitchen.access), report(6, "relocked")).await;
        assert_eq!(status, 401, "a device token is not a lock token");
        // A different line under a seq already stored: refused, and the household told.
        let (status, body) = cloud.post("/v1/lock/reports", Some(&scene.lock_token), report(1, "unlocked")).await;
        assert_eq!(status, 409, "{body}");
        assert!(body["message"].as_str().unwrap().starts_with("field `seq`"), "{body}");
        let (_, kind, conflict) = stream.next().await;
        assert_eq!(kind, "lock.journal_conflict");
        assert_eq!(conflict["data"]["seq"], 1);
        assert_eq!(cloud.count("lock_journal").await, 2);
        cloud.finish().await;
    }
}

fn policy(scene: &Scene, version: u64, carriers: Vec<String>) -> String {
    Signed::sign(
        &DeliveryPolicy {
            household: HouseholdId(scene.kitchen.household_id.clone()),
            version,
            locks: vec![LockId(scene.lock_id.clone())],
            carriers: carriers
                .into_iter()
                .map(|name| PinnedCarrier {
                    name,
                    keys: vec![scene.shipment_key.public_key()],
                })
                .collect(),
            hours: WeeklyHours {
                time_zone: "Europe/Berlin".into(),
                days: vec![1, 2, 3, 4, 5, 6, 7],
                from_minute: 0,
                until_minute: 1440,
            },
            max_window_minutes: 30,
            device: DeviceId(scene.kitchen.device_id.clone()),
            issued_at: Timestamp::now(),
        },
        &scene.household.household_key,
    )
    .to_base64()
}

on_both_databases! {
    async fn a_standing_policy_lets_a_matching_carrier_in_without_a_per_delivery_approval(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "policy@example.org", 0).await;
        let put = |body: serde_json::Value| cloud.call(reqwest::Method::PUT, "/v1/household/policy", Some(&scene.kitchen.access), Some(body));
        let (status, body) = put(json!({ "policy": policy(&scene, 2, vec![scene.carrier_name.clone()]) })).await;
        assert_eq!(status, 200, "{body}");
        let (status, _) = put(json!({ "policy": policy(&scene, 1, vec!["Anyone".into()]) })).await;
        assert_eq!(status, 409, "an older policy cannot replace a newer one");

        let delivery = scene.announce(&cloud, "JJD1006").await;
        let id = delivery["id"].as_str().unwrap();
        let door = Door::new(&scene);
        beat(&cloud, &scene, &door, true).await;
        let response = door.response(id, &scene.courier);
        let (status, granted) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": response.to_base64() }))
            .await;
        assert_eq!(status, 200, "{granted}");
        let grant = Signed::<EntryGrant>::from_base64(granted["grant"].as_str().unwrap()).unwrap();
        assert!(matches!(grant.peek().unwrap().authorization, Authorization::Policy(_)));
        let trust = LockTrust {
            lock: LockId(scene.lock_id.clone()),
            household: HouseholdId(scene.kitchen.household_id.clone()),
            household_key: scene.household.household_key.public_key(),
            cloud_key: scene.cloud_key,
            camera_key: scene.camera_key.public_key(),
        };
        let heartbeat = door.heartbeat(true);
        let verdict = verify_entry(&trust, &NoHistory, &SystemClock, EntryRequest { challenge: &door.challenge, grant: &grant, response: &response, heartbeat: &heartbeat, challenge_age: std::time::Duration::from_secs(1) });
        assert!(verdict.is_ok(), "{verdict:?}");

        // Policy version 3 drops the carrier: the next courier is not let in.
        let (status, _) = put(json!({ "policy": policy(&scene, 3, vec!["Someone else".into()]) })).await;
        assert_eq!(status, 200);
        let second = scene.announce(&cloud, "JJD1007").await;
        let id = second["id"].as_str().unwrap();
        let door = Door::new(&scene);
        let (status, body) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": door.response(id, &scene.courier).to_base64() }))
            .await;
        assert_eq!(status, 403, "{body}");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_policy_admits_only_what_a_pinned_carrier_key_signed(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "pinned@example.org", 0).await;
        let (status, body) = cloud
            .call(reqwest::Method::PUT, "/v1/household/policy", Some(&scene.kitchen.access), Some(json!({ "policy": policy(&scene, 1, vec![scene.carrier_name.clone()]) })))
            .await;
        assert_eq!(status, 200, "{body}");

        // A shipment signed by a key not registered for the carrier is refused at once.
        let window = scene.window();
        let stranger = SigningKey::generate();
        let (status, body) = cloud
            .post("/v1/carrier/shipments", Some(&scene.carrier_key), json!({
                "tracking_id": "JJD2001", "household_id": scene.kitchen.household_id, "window": window,
                "courier_key": scene.courier.public_key().to_base64(), "shipment": scene.shipment("JJD2001", &window, &stranger),
            }))
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(body["message"].as_str().unwrap().contains("field `shipment`"), "{body}");

        // A delivery with no carrier signature (as a row written straight into the
        // database would be) gets no grant under the policy.
        let unsigned = scene.announce_with(&cloud, "JJD2002", None, scene.window()).await;
        let id = unsigned["id"].as_str().unwrap();
        let door = Door::new(&scene);
        beat(&cloud, &scene, &door, true).await;
        let (status, body) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": door.response(id, &scene.courier).to_base64() }))
            .await;
        assert_eq!(status, 403, "{body}");

        // The signed one does, and the grant names the lock's challenge and the delivery its lock.
        let signed = scene.announce(&cloud, "JJD2003").await;
        let id = signed["id"].as_str().unwrap();
        let door = Door::new(&scene);
        beat(&cloud, &scene, &door, true).await;
        let (status, granted) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": door.response(id, &scene.courier).to_base64() }))
            .await;
        assert_eq!(status, 200, "{granted}");
        let grant = Signed::<EntryGrant>::from_base64(granted["grant"].as_str().unwrap()).unwrap().peek().unwrap();
        assert_eq!(grant.challenge, door.challenge.nonce);
        let (_, delivery) = cloud.get(&format!("/v1/deliveries/{id}"), &scene.kitchen.access).await;
        assert_eq!(delivery["lock_id"].as_str(), Some(scene.lock_id.as_str()), "a policy delivery is routed to its lock");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn one_skew_rule_a_slow_lock_still_works_and_a_far_off_one_is_told(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "skew@example.org", 0).await;
        let (_, page) = cloud.get("/v1/events", &scene.kitchen.access).await;
        let mut stream = EventStream::connect(&cloud, &scene.kitchen.access, page["last_seq"].as_i64()).await;
        let door = Door::new(&scene);
        let post_beat = |captured_at: Timestamp| {
            let body = json!({ "heartbeat": door.heartbeat_at(true, captured_at).to_base64() });
            cloud.post("/v1/lock/heartbeats", Some(&scene.lock_token), body)
        };
        // 20 s slow: inside the one 30 s skew, so the camera counts as recording.
        let slow = Timestamp::now().minus(std::time::Duration::from_secs(20));
        assert_eq!(post_beat(slow).await.0, 204);
        let delivery = approved_delivery(&cloud, &scene, "JJD1201").await;
        let id = delivery["id"].as_str().unwrap();
        let (status, body) = cloud
            .post(&format!("/v1/courier/deliveries/{id}/access"), None, json!({ "challenge": door.signed_challenge(), "response": door.response(id, &scene.courier).to_base64() }))
            .await;
        assert_eq!(status, 200, "a lock 20 s slow was refused: {body}");
        // After the clock stepped back, the newest heartbeat counts, not the largest stamp.
        assert_eq!(post_beat(Timestamp::now().plus(std::time::Duration::from_secs(25))).await.0, 204);
        assert_eq!(post_beat(Timestamp::now().minus(std::time::Duration::from_secs(25))).await.0, 204);
        let (_, locks) = cloud.get("/v1/locks", &scene.kitchen.access).await;
        let stamped = sqlx::query_scalar::<_, i64>("SELECT captured_at FROM lock_status")
            .fetch_one(&cloud.state().db.pool)
            .await
            .unwrap();
        assert!(stamped < Timestamp::now().0, "the older stamp, received last, is kept: {locks}");
        // 40 s off in either direction: refused, and the household told once.
        for off in [Timestamp::now().minus(std::time::Duration::from_secs(40)), Timestamp::now().plus(std::time::Duration::from_secs(40))] {
            let (status, body) = post_beat(off).await;
            assert_eq!(status, 400, "{body}");
            assert!(body["message"].as_str().unwrap().contains("clock is off"), "{body}");
        }
        let mut told = 0;
        while let Ok((_, kind, _)) = tokio::time::timeout(std::time::Duration::from_millis(500), stream.next()).await {
            if kind == "lock.clock_off" {
                told += 1;
            }
        }
        assert_eq!(told, 1, "one alarm, not one per heartbeat");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_grant_nobody_used_lapses_so_the_courier_can_ask_again_and_a_refused_one_too(backend: Backend) {
        let Some(cloud) = TestCloud::start_with_manual_clock(backend).await else { return };
        let clock = cloud.clock.clone().unwrap();
        let scene = Scene::new(&cloud, "lapse@example.org", 0).await;
        let delivery = approved_delivery(&cloud, &scene, "JJD-LAPSE").await;
        let id = delivery["id"].as_str().unwrap();
        let door = Door::at(&scene, clock.read().now);
        beat(&cloud, &scene, &door, true).await;
        let (status, first) = ask(&cloud, &door, id).await;
        assert_eq!(status, 200, "{first}");
        let (_, granted) = cloud.get(&format!("/v1/deliveries/{id}"), &scene.kitchen.access).await;
        assert_eq!(granted["state"], "granted");

        // The courier vanished with the grant: after the challenge it answers has
        // gone stale the grant lapses, and the delivery waits at the door again.
        clock.advance(std::time::Duration::from_secs(95));
        let lapsed = eventually_json(&cloud, &scene, id, |d| d["state"] == "at_door").await;
        assert_eq!(lapsed["door"], Value::Null, "{lapsed}");
        let (_, events) = cloud.get("/v1/events?after=0", &scene.kitchen.access).await;
        assert!(events["events"].as_array().unwrap().iter().any(|e| e["kind"] == "delivery.grant_lapsed"), "{events}");

        // Asking again is answered (not 409), with a new grant.
        let door = Door::at(&scene, clock.read().now);
        beat(&cloud, &scene, &door, true).await;
        let (status, second) = ask(&cloud, &door, id).await;
        assert_eq!(status, 200, "{second}");
        assert_ne!(first["grant"], second["grant"]);

        // The lock refuses that grant at the door (its reason journalled): the
        // delivery is at the door again at once, not stuck at "granted".
        let (status, body) = cloud
            .post("/v1/lock/reports", Some(&scene.lock_token), json!({ "seq": 1, "kind": "entry_refused", "delivery_id": id, "at": clock.read().now.0, "detail": { "reason": "the challenge was answered for another door" } }))
            .await;
        assert_eq!(status, 204, "{body}");
        let refused = eventually_json(&cloud, &scene, id, |d| d["state"] == "at_door").await;
        assert_eq!(refused["state"], "at_door");
        let door = Door::at(&scene, clock.read().now);
        beat(&cloud, &scene, &door, true).await;
        assert_eq!(ask(&cloud, &door, id).await.0, 200);
        cloud.finish().await;
    }
}

/// The courier at `door` asks the cloud to let it in for delivery `id`.
async fn ask(cloud: &TestCloud, door: &Door<'_>, id: &str) -> (u16, Value) {
    let body = json!({ "challenge": door.signed_challenge(), "response": door.response(id, &door.scene.courier).to_base64() });
    cloud
        .post(&format!("/v1/courier/deliveries/{id}/access"), None, body)
        .await
}

/// The delivery once `done` holds for it (the cloud's timers run on their own).
async fn eventually_json(
    cloud: &TestCloud,
    scene: &Scene,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..100 {
        let (_, delivery) = cloud
            .get(&format!("/v1/deliveries/{id}"), &scene.kitchen.access)
            .await;
        if done(&delivery) {
            return delivery;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("delivery {id} never reached the expected state");
}

on_both_databases! {
    async fn a_silent_lock_and_a_camera_that_stops_recording_are_told_once_and_again_when_back(backend: Backend) {
        let Some(cloud) = TestCloud::start_with_manual_clock(backend).await else { return };
        let clock = cloud.clock.clone().unwrap();
        let scene = Scene::new(&cloud, "quiet@example.org", 0).await;
        let (_, page) = cloud.get("/v1/events", &scene.study.access).await;
        let mut stream = EventStream::connect(&cloud, &scene.study.access, page["last_seq"].as_i64()).await;
        beat(&cloud, &scene, &Door::at(&scene, clock.read().now), true).await;

        // A minute of silence and a bit: offline, said once.
        clock.advance(std::time::Duration::from_secs(61));
        let (_, kind, event) = stream.next().await;
        assert_eq!(kind, "lock.offline", "{event}");
        assert_eq!(event["data"]["lock_id"], scene.lock_id.as_str());
        assert!(event["data"]["name"].as_str().is_some_and(|name| !name.is_empty()), "{event}");
        let (_, locks) = cloud.get("/v1/locks", &scene.kitchen.access).await;
        assert_eq!(locks[0]["online"], false, "{locks}");

        // Heard again: back online, and the next pass says nothing more.
        beat(&cloud, &scene, &Door::at(&scene, clock.read().now), true).await;
        let (_, kind, data) = stream.next().await;
        assert_eq!(kind, "lock.online", "{data}");

        // The lock is alive but its camera stopped recording: once that has
        // lasted as long as silence must, the camera is down; it records again: back.
        beat(&cloud, &scene, &Door::at(&scene, clock.read().now), false).await;
        clock.advance(std::time::Duration::from_secs(30));
        beat(&cloud, &scene, &Door::at(&scene, clock.read().now), false).await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let (_, listed) = cloud.get("/v1/events", &scene.study.access).await;
        assert!(
            !listed.to_string().contains("camera.offline"),
            "half the time is not yet an alarm"
        );
        clock.advance(std::time::Duration::from_secs(31));
        beat(&cloud, &scene, &Door::at(&scene, clock.read().now), false).await;
        let (_, kind, _) = stream.next().await;
        assert_eq!(kind, "camera.offline");
        beat(&cloud, &scene, &Door::at(&scene, clock.read().now), true).await;
        let (_, kind, _) = stream.next().await;
        assert_eq!(kind, "camera.online");

        // Each said once: a quiet second and nothing new is in the log.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let (_, all) = cloud.get("/v1/events", &scene.study.access).await;
        let told: Vec<&str> = all["events"].as_array().unwrap().iter()
            .filter_map(|e| e["kind"].as_str())
            .filter(|kind| kind.ends_with(".offline") || kind.ends_with(".online"))
            .collect();
        assert_eq!(told, ["lock.offline", "lock.online", "camera.offline", "camera.online"]);
        cloud.finish().await;
    }
}
