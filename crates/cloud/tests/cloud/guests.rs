//! Guests: a signed invitation with weekly or one-time windows in the home's time
//! zone; in them the door opens (the lock agrees), outside them it does not.

use doorstep_proto::*;
use serde_json::json;

use crate::deliveries::Scene;
use crate::on_both_databases;
use crate::stream::EventStream;
use crate::support::*;

fn utc(text: &str) -> Timestamp {
    Timestamp(chrono_like(text))
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` without pulling chrono into the tests.
fn chrono_like(text: &str) -> i64 {
    let n = |a: usize, b: usize| text[a..b].parse::<i64>().unwrap();
    let (y, m, d, hh, mm, ss) = (n(0, 4), n(5, 7), n(8, 10), n(11, 13), n(14, 16), n(17, 19));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000
}

struct GuestAtDoor {
    key: SigningKey,
    id: String,
}

fn invitation(
    scene: &Scene,
    guest: &GuestAtDoor,
    schedule: GuestSchedule,
    at: Timestamp,
) -> String {
    Signed::sign(
        &GuestInvitation {
            household: HouseholdId(scene.kitchen.household_id.clone()),
            guest: GuestId(guest.id.clone()),
            name: "Ana (cleaner)".into(),
            guest_key: guest.key.public_key(),
            locks: vec![LockId(scene.lock_id.clone())],
            schedule,
            device: DeviceId(scene.kitchen.device_id.clone()),
            issued_at: at,
        },
        &scene.household.household_key,
    )
    .to_base64()
}

async fn knock(
    cloud: &TestCloud,
    scene: &Scene,
    guest: &GuestAtDoor,
    now: Timestamp,
) -> (
    u16,
    serde_json::Value,
    LockChallenge,
    Signed<CourierResponse>,
    Signed<CameraHeartbeat>,
) {
    let heartbeat = Signed::sign(
        &CameraHeartbeat {
            lock: LockId(scene.lock_id.clone()),
            recording: true,
            frame_seq: 9,
            captured_at: now,
        },
        &scene.camera_key,
    );
    let (status, _) = cloud
        .post(
            "/v1/lock/heartbeats",
            Some(&scene.lock_token),
            json!({ "heartbeat": heartbeat.to_base64() }),
        )
        .await;
    assert_eq!(status, 204);
    let challenge = LockChallenge {
        lock: LockId(scene.lock_id.clone()),
        nonce: [now.0 as u8; 32],
        issued_at: now,
    };
    let response = Signed::sign(
        &CourierResponse {
            lock: challenge.lock.clone(),
            nonce: challenge.nonce,
            subject: GrantSubject::Guest(GuestId(guest.id.clone())),
            responded_at: now,
        },
        &guest.key,
    );
    let (status, body) = cloud
        .post(
            &format!("/v1/guest/{}/access", guest.id),
            None,
            json!({
                "challenge": Signed::sign(&challenge, &scene.lock_key).to_base64(),
                "response": response.to_base64(),
            }),
        )
        .await;
    (status, body, challenge, response, heartbeat)
}

on_both_databases! {
    async fn a_weekly_guest_gets_in_inside_its_hours_and_not_outside(backend: Backend) {
        let Some(cloud) = TestCloud::start_with_manual_clock(backend).await else { return };
        let clock = cloud.clock.clone().unwrap();
        // Tuesday 1 December 2026, 10:30 in Berlin.
        let inside = utc("2026-12-01T09:30:00Z");
        clock.set(inside);
        let scene = Scene::new(&cloud, "guest@example.org", 0).await;
        let guest = GuestAtDoor { key: SigningKey::generate(), id: uuid::Uuid::new_v4().to_string() };
        let schedule = GuestSchedule::Weekly(WeeklyHours { time_zone: "Europe/Berlin".into(), days: vec![2], from_minute: 9 * 60, until_minute: 12 * 60 });
        let (status, added) = cloud.post("/v1/guests", Some(&scene.kitchen.access), json!({ "invitation": invitation(&scene, &guest, schedule, inside) })).await;
        assert_eq!(status, 201, "{added}");
        assert_eq!(added["name"], "Ana (cleaner)");
        let (_, page) = cloud.get("/v1/events", &scene.study.access).await;
        let mut stream = EventStream::connect(&cloud, &scene.study.access, page["last_seq"].as_i64()).await;

        let (status, granted, challenge, response, heartbeat) = knock(&cloud, &scene, &guest, inside).await;
        assert_eq!(status, 200, "{granted}");
        let grant = Signed::<EntryGrant>::from_base64(granted["grant"].as_str().unwrap()).unwrap();
        let trust = LockTrust {
            lock: LockId(scene.lock_id.clone()),
            household: HouseholdId(scene.kitchen.household_id.clone()),
            household_key: scene.household.household_key.public_key(),
            cloud_key: scene.cloud_key,
            camera_key: scene.camera_key.public_key(),
        };
        struct Fresh;
        impl LockLedger for Fresh {
            fn entry_used(&self, _: &EntryKey) -> bool { false }
            fn revoked(&self, _: &EntryGrant) -> bool { false }
            fn policy_version(&self) -> u64 { 0 }
        }
        let verdict = verify_entry(&trust, &Fresh, &ManualClock::at(inside), EntryRequest { challenge: &challenge, grant: &grant, response: &response, heartbeat: &heartbeat, challenge_age: std::time::Duration::from_secs(1) });
        assert!(verdict.is_ok(), "{verdict:?}");
        let (_, kind, event) = stream.next().await;
        assert_eq!(kind, "guest.granted");
        assert_eq!(event["data"]["name"], "Ana (cleaner)");

        // 13:30 in Berlin the same day: outside the hours.
        let outside = utc("2026-12-01T12:30:00Z");
        clock.set(outside);
        let (status, body, ..) = knock(&cloud, &scene, &guest, outside).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["code"], "entry_refused");
        let (_, kind, _) = stream.next().await;
        assert_eq!(kind, "guest.refused");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_revoked_guest_and_a_forged_invitation_open_nothing(backend: Backend) {
        let Some(cloud) = TestCloud::start_with_manual_clock(backend).await else { return };
        let now = cloud.clock.as_ref().unwrap().read().now;
        let scene = Scene::new(&cloud, "revoked@example.org", 0).await;
        let guest = GuestAtDoor { key: SigningKey::generate(), id: uuid::Uuid::new_v4().to_string() };
        let once = GuestSchedule::Once(TimeWindow::new(now.plus_millis(-3_600_000), now.plus_millis(3_600_000)));

        // Signed with the cloud's key instead of the household's: refused.
        let forged = Signed::sign(
            &Signed::<GuestInvitation>::from_base64(&invitation(&scene, &guest, once.clone(), now)).unwrap().peek().unwrap(),
            &cloud.state().cloud_key,
        );
        let (status, body) = cloud.post("/v1/guests", Some(&scene.kitchen.access), json!({ "invitation": forged.to_base64() })).await;
        assert_eq!(status, 400, "{body}");

        let (status, _) = cloud.post("/v1/guests", Some(&scene.kitchen.access), json!({ "invitation": invitation(&scene, &guest, once, now) })).await;
        assert_eq!(status, 201);
        assert_eq!(knock(&cloud, &scene, &guest, now).await.0, 200);

        let revocation = Signed::sign(
            &Revocation {
                household: HouseholdId(scene.kitchen.household_id.clone()),
                lock: LockId(scene.lock_id.clone()),
                target: RevocationTarget::Guest(GuestId(guest.id.clone())),
                device: DeviceId(scene.study.device_id.clone()),
                issued_at: now,
            },
            &scene.household.household_key,
        );
        let path = format!("/v1/guests/{}/revoke", guest.id);
        assert_eq!(cloud.post(&path, Some(&scene.study.access), json!({ "revocation": revocation.to_base64() })).await.0, 204);
        assert_eq!(cloud.post(&path, Some(&scene.kitchen.access), json!({ "revocation": revocation.to_base64() })).await.0, 204);
        let (status, body, ..) = knock(&cloud, &scene, &guest, now).await;
        assert_eq!(status, 403, "{body}");
        let (_, guests) = cloud.get("/v1/guests", &scene.kitchen.access).await;
        assert_eq!(guests[0]["revoked"], true);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn moving_to_another_time_zone_tells_which_guests_keep_the_old_one(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "moving@example.org", 0).await;
        let guest = GuestAtDoor { key: SigningKey::generate(), id: uuid::Uuid::new_v4().to_string() };
        let schedule = GuestSchedule::Weekly(WeeklyHours { time_zone: "Europe/Berlin".into(), days: vec![2], from_minute: 9 * 60, until_minute: 12 * 60 });
        let (status, added) = cloud.post("/v1/guests", Some(&scene.kitchen.access), json!({ "invitation": invitation(&scene, &guest, schedule, Timestamp::now()) })).await;
        assert_eq!(status, 201, "{added}");
        let (_, page) = cloud.get("/v1/events", &scene.study.access).await;
        let mut stream = EventStream::connect(&cloud, &scene.study.access, page["last_seq"].as_i64()).await;
        let (status, body) = cloud
            .call(reqwest::Method::PATCH, "/v1/household", Some(&scene.kitchen.access), Some(json!({ "time_zone": "America/New_York" })))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(stream.next().await.1, "household.settings_changed");
        let (_, kind, event) = stream.next().await;
        assert_eq!(kind, "guests.time_zone_differs");
        assert_eq!(event["data"]["guests"][0]["name"], "Ana (cleaner)");
        assert_eq!(event["data"]["guests"][0]["time_zone"], "Europe/Berlin");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_guest_id_belongs_to_its_household_and_naming_another_households_objects_is_refused_and_logged(backend: Backend) {
        let Some(cloud) = TestCloud::start_with_manual_clock(backend).await else { return };
        let now = cloud.clock.as_ref().unwrap().read().now;
        let ours = Scene::new(&cloud, "ours@example.org", 0).await;
        let theirs = Scene::new(&cloud, "theirs@example.org", 0).await;
        let once = GuestSchedule::Once(TimeWindow::new(now.plus_millis(-3_600_000), now.plus_millis(3_600_000)));
        let id = uuid::Uuid::new_v4().to_string();
        let our_guest = GuestAtDoor { key: SigningKey::generate(), id: id.clone() };
        let their_guest = GuestAtDoor { key: SigningKey::generate(), id: id.clone() };

        // The same id in two households: both are created (a 409 would tell the
        // second household that the id is taken elsewhere).
        let (status, body) = cloud.post("/v1/guests", Some(&ours.kitchen.access), json!({ "invitation": invitation(&ours, &our_guest, once.clone(), now) })).await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = cloud.post("/v1/guests", Some(&theirs.kitchen.access), json!({ "invitation": invitation(&theirs, &their_guest, once.clone(), now) })).await;
        assert_eq!(status, 201, "{body}");
        // Within one household the id is taken.
        let (status, _) = cloud.post("/v1/guests", Some(&ours.kitchen.access), json!({ "invitation": invitation(&ours, &our_guest, once, now) })).await;
        assert_eq!(status, 409);

        // Each guest opens its own household's door, and only with its own key.
        assert_eq!(knock(&cloud, &ours, &our_guest, now).await.0, 200);
        assert_eq!(knock(&cloud, &theirs, &their_guest, now).await.0, 200);
        let impostor = GuestAtDoor { key: SigningKey::from_seed(&their_guest.key.to_seed()), id: id.clone() };
        let (status, body, ..) = knock(&cloud, &ours, &impostor, now).await;
        assert_eq!(status, 404, "their guest's key at our door: {body}");

        // They revoke their guest: ours still gets in.
        let revocation = Signed::sign(
            &Revocation {
                household: HouseholdId(theirs.kitchen.household_id.clone()),
                lock: LockId(theirs.lock_id.clone()),
                target: RevocationTarget::Guest(GuestId(id.clone())),
                device: DeviceId(theirs.kitchen.device_id.clone()),
                issued_at: now,
            },
            &theirs.household.household_key,
        );
        let (status, body) = cloud.post(&format!("/v1/guests/{id}/revoke"), Some(&theirs.kitchen.access), json!({ "revocation": revocation.to_base64() })).await;
        assert_eq!(status, 204, "{body}");
        assert_eq!(knock(&cloud, &theirs, &their_guest, now).await.0, 403);
        assert_eq!(knock(&cloud, &ours, &our_guest, now).await.0, 200);
        let (_, guests) = cloud.get("/v1/guests", &ours.kitchen.access).await;
        assert_eq!(guests[0]["revoked"], false);

        // Their device naming our delivery, lock, address and device gets the
        // 404 an unknown id gets, and our audit log records the attempt.
        let delivery = ours.announce(&cloud, "JJD-OURS-1").await;
        let delivery_id = delivery["id"].as_str().unwrap();
        let (status, body) = cloud.get(&format!("/v1/deliveries/{delivery_id}"), &theirs.kitchen.access).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "{body}");
        let (unknown_status, unknown) = cloud.get(&format!("/v1/deliveries/{}", uuid::Uuid::now_v7()), &theirs.kitchen.access).await;
        assert_eq!((status, &body), (unknown_status, &unknown), "a foreign id answers exactly like an unknown one");
        let (status, _) = cloud.post(&format!("/v1/deliveries/{delivery_id}/block"), Some(&theirs.kitchen.access), json!({ "revocation": theirs.revocation(&delivery, &theirs.kitchen) })).await;
        assert_eq!(status, 404);
        let (status, _) = cloud.delete(&format!("/v1/addresses/{}", ours.address_id), &theirs.kitchen.access).await;
        assert_eq!(status, 404);

        let (_, audit) = cloud.get("/v1/audit?action_prefix=access.", &ours.kitchen.access).await;
        let refused: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["object_id"].as_str().unwrap_or_default()).collect();
        assert!(refused.contains(&delivery_id), "{audit}");
        assert!(refused.contains(&ours.address_id.as_str()), "{audit}");
        assert!(audit.as_array().unwrap().iter().all(|e| e["actor"] == "system" && !e.to_string().contains(&theirs.kitchen.device_id)), "the asker is not named to us: {audit}");
        // A flood of such requests writes a bounded number of rows into our log.
        for _ in 0..40 {
            assert_eq!(cloud.get(&format!("/v1/deliveries/{delivery_id}"), &theirs.kitchen.access).await.0, 404);
        }
        let (_, audit) = cloud.get("/v1/audit?action_prefix=access.&limit=1000", &ours.kitchen.access).await;
        assert!(audit.as_array().unwrap().len() <= 20, "{}", audit.as_array().unwrap().len());
        let (_, their_audit) = cloud.get("/v1/audit?action_prefix=access.", &theirs.kitchen.access).await;
        assert_eq!(their_audit, json!([]), "the asker learns nothing from its own log");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn an_invitation_code_is_redeemed_once_by_a_guest_and_signed_in_only_for_their_key(backend: Backend) {
        let Some(cloud) = TestCloud::start_with_manual_clock(backend).await else { return };
        let clock = cloud.clock.clone().unwrap();
        let now = utc("2026-12-01T09:30:00Z");
        clock.set(now);
        let scene = Scene::new(&cloud, "codes@example.org", 0).await;
        let device = scene.kitchen.access.clone();
        let offer = |code: &InvitationCode, guest_id: &str, expires_at: i64| {
            json!({ "id": code.id(), "guest_id": guest_id, "name": "Ana", "sealed": "c2VhbGVkIHRlcm1z", "expires_at": expires_at })
        };
        let code = InvitationCode::generate();
        let guest_id = uuid::Uuid::new_v4().to_string();
        let (status, made) = cloud.post("/v1/guest-invitations", Some(&device), offer(&code, &guest_id, now.0 + 3_600_000)).await;
        assert_eq!(status, 201, "{made}");
        let (status, again) = cloud.post("/v1/guest-invitations", Some(&device), offer(&code, &guest_id, now.0 + 3_600_000)).await;
        assert_eq!(status, 409, "the same code twice: {again}");
        // What comes from outside is checked and named.
        for (body, named) in [
            (offer(&InvitationCode::generate(), &guest_id, now.0 + 31 * 24 * 3_600_000), "expires_at"),
            (offer(&InvitationCode::generate(), &guest_id, now.0 - 1), "expires_at"),
            (offer(&InvitationCode::generate(), "not-a-uuid", now.0 + 1), "guest_id"),
            (json!({ "id": "../../x", "guest_id": guest_id, "name": "Ana", "sealed": "c2Vh", "expires_at": now.0 + 1 }), "id"),
        ] {
            let (status, answer) = cloud.post("/v1/guest-invitations", Some(&device), body.clone()).await;
            assert_eq!(status, 400, "{body}: {answer}");
            assert!(answer["message"].as_str().unwrap().contains(named), "{answer}");
        }

        // The guest redeems it with the key they made and the code's proof.
        let guest = SigningKey::generate();
        let redeem = |code: &InvitationCode, key: &SigningKey, proof: [u8; 32]| {
            json!({ "id": code.id(), "guest_key": key.public_key().to_base64(), "proof": base64url(&proof) })
        };
        let (status, answer) = cloud.post("/v1/guest-invitations/redeem", None, redeem(&InvitationCode::generate(), &guest, [7; 32])).await;
        assert_eq!(status, 404, "an unknown code: {answer}");
        let (status, answer) = cloud.post("/v1/guest-invitations/redeem", None, json!({ "id": code.id(), "guest_key": guest.public_key().to_base64(), "proof": "AAAA" })).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains("proof"), "{answer}");
        let (_, page) = cloud.get("/v1/events", &scene.study.access).await;
        let mut events = EventStream::connect(&cloud, &scene.study.access, page["last_seq"].as_i64()).await;
        let (status, redeemed) = cloud.post("/v1/guest-invitations/redeem", None, redeem(&code, &guest, code.proof(&guest.public_key()))).await;
        assert_eq!(status, 200, "{redeemed}");
        assert_eq!((redeemed["guest_id"].as_str(), redeemed["name"].as_str()), (Some(guest_id.as_str()), Some("Ana")));
        let (_, kind, event) = events.next().await;
        assert_eq!(kind, "guest.redeemed");
        assert_eq!(event["data"]["invitation_id"], code.id(), "{event}");
        let (status, answer) = cloud.post("/v1/guest-invitations/redeem", None, redeem(&code, &SigningKey::generate(), [1; 32])).await;
        assert_eq!(status, 409, "a code works once: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("redeemed already"), "{answer}");
        let (status, pending) = cloud.get("/v1/guest-invitations", &device).await;
        assert_eq!(status, 200);
        assert_eq!(pending[0]["guest_key"], guest.public_key().to_base64(), "{pending}");

        // Signed in only for the key that redeemed it, by this household, once.
        let complete = format!("/v1/guest-invitations/{}/complete", code.id());
        let schedule = GuestSchedule::Weekly(WeeklyHours { time_zone: "Europe/Berlin".into(), days: vec![1, 2, 3, 4, 5, 6, 7], from_minute: 0, until_minute: 24 * 60 });
        let intruder = GuestAtDoor { key: SigningKey::generate(), id: guest_id.clone() };
        let (status, answer) = cloud.post(&complete, Some(&device), json!({ "invitation": invitation(&scene, &intruder, schedule.clone(), now) })).await;
        assert_eq!(status, 400, "another key than the guest's: {answer}");
        let (_, stranger, _) = household_with_two_devices(&cloud, "stranger@example.org").await;
        let ana = GuestAtDoor { key: guest, id: guest_id.clone() };
        let (status, answer) = cloud.post(&complete, Some(&stranger.access), json!({ "invitation": invitation(&scene, &ana, schedule.clone(), now) })).await;
        assert!(status == 400 || status == 404, "another household: {status} {answer}");
        let (status, added) = cloud.post(&complete, Some(&device), json!({ "invitation": invitation(&scene, &ana, schedule.clone(), now) })).await;
        assert_eq!(status, 201, "{added}");
        assert_eq!(added["id"], guest_id.as_str());
        let (status, answer) = cloud.post(&complete, Some(&device), json!({ "invitation": invitation(&scene, &ana, schedule.clone(), now) })).await;
        assert_eq!(status, 409, "twice: {answer}");
        let (_, pending) = cloud.get("/v1/guest-invitations", &device).await;
        assert_eq!(pending.as_array().unwrap().len(), 0, "{pending}");
        // And in the door she goes.
        let (status, granted, ..) = knock(&cloud, &scene, &ana, now).await;
        assert_eq!(status, 200, "{granted}");

        // An unredeemed code stops working when it expires, or when withdrawn.
        let late = InvitationCode::generate();
        let (status, _) = cloud.post("/v1/guest-invitations", Some(&device), offer(&late, &uuid::Uuid::new_v4().to_string(), now.0 + 60_000)).await;
        assert_eq!(status, 201);
        clock.set(Timestamp(now.0 + 61_000));
        let visitor = SigningKey::generate();
        let (status, answer) = cloud.post("/v1/guest-invitations/redeem", None, redeem(&late, &visitor, late.proof(&visitor.public_key()))).await;
        assert_eq!(status, 404, "expired: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("expired"), "{answer}");
        let withdrawn = InvitationCode::generate();
        let (status, _) = cloud.post("/v1/guest-invitations", Some(&device), offer(&withdrawn, &uuid::Uuid::new_v4().to_string(), now.0 + 3_600_000)).await;
        assert_eq!(status, 201);
        let (status, answer) = cloud.delete(&format!("/v1/guest-invitations/{}", withdrawn.id()), &stranger.access).await;
        assert_eq!(status, 404, "another household withdraws nothing: {answer}");
        let (status, _) = cloud.delete(&format!("/v1/guest-invitations/{}", withdrawn.id()), &device).await;
        assert_eq!(status, 204);
        let (status, _) = cloud.post("/v1/guest-invitations/redeem", None, redeem(&withdrawn, &visitor, withdrawn.proof(&visitor.public_key()))).await;
        assert_eq!(status, 404, "withdrawn");
        cloud.finish().await;
    }
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
