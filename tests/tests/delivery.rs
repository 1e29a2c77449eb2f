//! A delivery as real processes on loopback: the cloud binary, a paired lock
//! agent, and this test playing the household (over the API) and the courier
//! (at the lock's control interface and the cloud).
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::time::Duration;

use doorstep_proto::*;
use serde_json::{Value, json};
use testkit::disk::SmallDisk;
use testkit::system::{
    CloudProcess, LockProcess, WebhookProcess, courier, create_account, eventually, lock_status,
    pairing_code, with_fingerprint,
};

struct World {
    _dir: tempfile::TempDir,
    cloud: CloudProcess,
    lock: LockProcess,
    http: reqwest::Client,
    household_key: SigningKey,
    household_id: String,
    device_id: String,
    access: String,
    lock_id: String,
    carrier_key: String,
    carrier_secret: String,
    /// The carrier's shipment-signing key.
    shipment_key: SigningKey,
    webhook_port: u16,
    courier: SigningKey,
}

impl World {
    async fn start() -> Self {
        Self::start_with_lock_in(None).await
    }

    /// A world whose lock keeps its data folder in `lock_dir` (a small disk, say).
    async fn start_with_lock_in(lock_dir: Option<std::path::PathBuf>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let lock_dir = lock_dir.unwrap_or_else(|| dir.path().join("lock"));
        let cloud = CloudProcess::start(&dir.path().join("cloud")).unwrap();
        let http = reqwest::Client::new();
        let household_key = SigningKey::generate();
        let created = create_account(&http, &cloud.url, "family@example.org", &household_key).await;
        let access = created["session"]["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, code) = pairing_code(&http, &cloud.url, &access).await;
        let lock = LockProcess::pair_and_run(
            &cloud.url,
            &with_fingerprint(&code, &household_key),
            &lock_dir,
        )
        .unwrap();
        let locks: Value = http
            .get(format!("{}/v1/locks", cloud.url))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The carrier's webhook port is chosen first, so carrier-add can name it.
        let webhook_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let carrier = cloud
            .add_carrier(
                "DHL",
                Some(&format!("http://127.0.0.1:{webhook_port}/hook")),
            )
            .unwrap();
        let (carrier_key, carrier_secret) =
            (carrier.api_key.clone(), carrier.webhook_secret.clone());
        let shipment_key = carrier.shipment_key;
        let world = Self {
            household_id: created["household_id"].as_str().unwrap().to_owned(),
            device_id: created["device_id"].as_str().unwrap().to_owned(),
            lock_id: locks[0]["id"].as_str().unwrap().to_owned(),
            _dir: dir,
            cloud,
            lock,
            http,
            household_key,
            access,
            carrier_key,
            carrier_secret,
            shipment_key,
            webhook_port,
            courier: SigningKey::generate(),
        };
        eventually(
            "the lock to come online",
            Duration::from_secs(10),
            || async { (world.lock_status().await["online"] == true).then_some(()) },
        )
        .await
        .unwrap();
        world
    }

    async fn lock_status(&self) -> Value {
        lock_status(&self.http, &self.lock.control)
            .await
            .unwrap_or_default()
    }

    async fn lock_post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.lock.control))
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or_default(),
        )
    }

    async fn cloud(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.cloud.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or_default(),
        )
    }

    async fn delivery_state(&self, id: &str) -> String {
        let (_, delivery) = self
            .cloud(
                reqwest::Method::GET,
                &format!("/v1/deliveries/{id}"),
                Some(&self.access),
                None,
            )
            .await;
        delivery["state"].as_str().unwrap_or_default().to_owned()
    }

    /// Announced by the carrier and approved (signed) by the household.
    async fn approved_delivery(&self, tracking: &str) -> String {
        let now = Timestamp::now();
        let (status, delivery) = self
            .cloud(
                reqwest::Method::POST,
                "/v1/carrier/shipments",
                Some(&self.carrier_key),
                Some(json!({
                    "tracking_id": tracking,
                    "household_id": self.household_id,
                    "window": { "not_before": now.0 - 60_000, "not_after": now.0 + 3_600_000 },
                    "courier_key": self.courier.public_key().to_base64(),
                })),
            )
            .await;
        assert_eq!(status, 201, "{delivery}");
        let id = delivery["id"].as_str().unwrap().to_owned();
        let approval = DeliveryApproval {
            household: HouseholdId(self.household_id.clone()),
            delivery: DeliveryId(id.clone()),
            lock: LockId(self.lock_id.clone()),
            carrier: "DHL".into(),
            courier: self.courier.public_key(),
            window: TimeWindow::new(Timestamp(now.0 - 60_000), Timestamp(now.0 + 3_600_000)),
            device: DeviceId(self.device_id.clone()),
            approved_at: now,
        };
        let (status, body) = self
            .cloud(
                reqwest::Method::POST,
                &format!("/v1/deliveries/{id}/approve"),
                Some(&self.access),
                Some(
                    json!({ "approval": Signed::sign(&approval, &self.household_key).to_base64() }),
                ),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        id
    }

    /// The courier asks the lock for a challenge and signs its answer: (challenge, response).
    async fn answer_challenge(&self, id: &str) -> (String, String) {
        let (status, challenge) = self.lock_post("/challenge", json!({})).await;
        assert_eq!(status, 200, "{challenge}");
        let envelope = challenge["challenge"].as_str().unwrap().to_owned();
        let parsed = Signed::<LockChallenge>::from_base64(&envelope)
            .unwrap()
            .peek()
            .unwrap();
        let response = Signed::sign(
            &CourierResponse {
                lock: parsed.lock,
                nonce: parsed.nonce,
                subject: GrantSubject::Delivery(DeliveryId(id.to_owned())),
                responded_at: Timestamp::now(),
            },
            &self.courier,
        )
        .to_base64();
        (envelope, response)
    }

    /// The courier at the door rings and gets a grant from the cloud: its signed
    /// answer to the lock's challenge, and the cloud's reply (200 asserted).
    async fn granted(&self, id: &str) -> (String, Value) {
        let (envelope, response) = self.answer_challenge(id).await;
        let (status, granted) = self
            .cloud(
                reqwest::Method::POST,
                &format!("/v1/courier/deliveries/{id}/access"),
                None,
                Some(json!({ "challenge": envelope, "response": response })),
            )
            .await;
        assert_eq!(status, 200, "{granted}");
        (response, granted)
    }

    /// The courier at the door: challenge from the lock, grant from the cloud, entry at the lock.
    async fn courier_enters(&self, id: &str) -> (u16, Value) {
        let (response, granted) = self.granted(id).await;
        self.lock_post(
            "/enter",
            json!({ "grant": granted["grant"], "response": response }),
        )
        .await
    }
}

#[tokio::test]
async fn a_courier_is_let_in_delivers_and_the_door_relocks() {
    let world = World::start().await;
    let id = world.approved_delivery("JJD-HAPPY").await;
    let (status, body) = world.courier_enters(&id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(world.lock_status().await["bolt"], "unlocked");

    world.lock_post("/door/open", json!({})).await;
    eventually("door_open in the cloud", Duration::from_secs(5), || async {
        (world.delivery_state(&id).await == "door_open").then_some(())
    })
    .await
    .unwrap();
    world.lock_post("/door/close", json!({})).await;
    eventually("the lock to relock", Duration::from_secs(3), || async {
        (world.lock_status().await["bolt"] == "locked").then_some(())
    })
    .await
    .unwrap();
    eventually("completed in the cloud", Duration::from_secs(5), || async {
        (world.delivery_state(&id).await == "completed").then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn block_while_the_door_is_open_relocks_at_once_and_the_visit_is_blocked() {
    let world = World::start().await;
    let id = world.approved_delivery("JJD-BLOCK").await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    world.block(&id).await;
    assert_eq!(world.delivery_state(&id).await, "blocked");
    // The revocation reaches the lock over its channel and the bolt is thrown.
    eventually("the bolt to be thrown", Duration::from_secs(3), || async {
        matches!(
            world.lock_status().await["bolt"].as_str(),
            Some("locking" | "locked")
        )
        .then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_grant_presented_twice_opens_once_even_across_a_lock_restart() {
    let mut world = World::start().await;
    let id = world.approved_delivery("JJD-REPLAY").await;
    let (envelope, response) = world.answer_challenge(&id).await;
    let (_, granted) = world
        .cloud(
            reqwest::Method::POST,
            &format!("/v1/courier/deliveries/{id}/access"),
            None,
            Some(json!({ "challenge": envelope, "response": response })),
        )
        .await;
    let enter = json!({ "grant": granted["grant"], "response": response });
    assert_eq!(world.lock_post("/enter", enter.clone()).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    world.lock_post("/door/close", json!({})).await;

    // Power cut and back: the lock remembers the grant from its journal.
    world.lock.stop();
    world.lock = LockProcess::run(&world.lock.data_dir).unwrap();
    eventually(
        "the lock to come back online",
        Duration::from_secs(10),
        || async { (world.lock_status().await["online"] == true).then_some(()) },
    )
    .await
    .unwrap();
    assert_eq!(
        world.lock_status().await["bolt"],
        "locked",
        "fail-secure after restart"
    );
    let (status, challenge) = world.lock_post("/challenge", json!({})).await;
    assert_eq!(status, 200);
    let parsed = Signed::<LockChallenge>::from_base64(challenge["challenge"].as_str().unwrap())
        .unwrap()
        .peek()
        .unwrap();
    let fresh_response = Signed::sign(
        &CourierResponse {
            lock: parsed.lock,
            nonce: parsed.nonce,
            subject: GrantSubject::Delivery(DeliveryId(id.clone())),
            responded_at: Timestamp::now(),
        },
        &world.courier,
    )
    .to_base64();
    let (status, body) = world
        .lock_post(
            "/enter",
            json!({ "grant": granted["grant"], "response": fresh_response }),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("already used"),
        "{body}"
    );
    assert_eq!(world.lock_status().await["bolt"], "locked");
}

#[tokio::test]
async fn with_the_cloud_down_the_lock_stays_shut() {
    let mut world = World::start().await;
    let id = world.approved_delivery("JJD-OFFLINE").await;
    let (envelope, response) = world.answer_challenge(&id).await;
    let (_, granted) = world
        .cloud(
            reqwest::Method::POST,
            &format!("/v1/courier/deliveries/{id}/access"),
            None,
            Some(json!({ "challenge": envelope, "response": response })),
        )
        .await;
    // The cloud goes away after issuing the grant: the lock may have missed a block.
    world.cloud.stop();
    eventually("the lock to notice", Duration::from_secs(60), || async {
        (world.lock_status().await["online"] == false).then_some(())
    })
    .await
    .unwrap();
    let (status, body) = world
        .lock_post(
            "/enter",
            json!({ "grant": granted["grant"], "response": response }),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("offline"),
        "{body}"
    );
    assert_eq!(world.lock_status().await["bolt"], "locked");
}

impl World {
    async fn events_after(&self, after: i64) -> Vec<Value> {
        let (_, page) = self
            .cloud(
                reqwest::Method::GET,
                &format!("/v1/events?after={after}"),
                Some(&self.access),
                None,
            )
            .await;
        page["events"].as_array().cloned().unwrap_or_default()
    }

    async fn last_seq(&self) -> i64 {
        let (_, page) = self
            .cloud(
                reqwest::Method::GET,
                "/v1/events?limit=1",
                Some(&self.access),
                None,
            )
            .await;
        page["last_seq"].as_i64().unwrap_or(0)
    }
}

#[tokio::test]
async fn the_camera_unplugged_mid_entry_alerts_the_household_and_the_recording_shows_the_gap() {
    let world = World::start().await;
    let id = world.approved_delivery("JJD-CAMERA").await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    let since = world.last_seq().await;
    let unplugged_at = Timestamp::now().0;
    world.lock_post("/camera/unplug", json!({})).await;
    let alert = eventually(
        "a camera.feed_lost event",
        Duration::from_secs(5),
        || async {
            world
                .events_after(since)
                .await
                .into_iter()
                .find(|e| e["kind"] == "camera.feed_lost")
        },
    )
    .await
    .unwrap();
    assert_eq!(alert["data"]["delivery_id"], id.as_str());
    let plugged_at = Timestamp::now().0;
    world.lock_post("/camera/plug", json!({})).await;
    eventually(
        "a camera.feed_restored event",
        Duration::from_secs(5),
        || async {
            world
                .events_after(since)
                .await
                .into_iter()
                .find(|e| e["kind"] == "camera.feed_restored")
        },
    )
    .await
    .unwrap();

    // The recording shows the gap: nothing was captured while the camera was unplugged.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, list) = world
        .cloud(
            reqwest::Method::GET,
            &format!("/v1/recordings?delivery_id={id}"),
            Some(&world.access),
            None,
        )
        .await;
    let rid = list[0]["id"].as_str().unwrap().to_owned();
    let middle = (unplugged_at + plugged_at) / 2;
    let frame = world
        .http
        .get(format!(
            "{}/v1/recordings/{rid}/frame?at={middle}",
            world.cloud.url
        ))
        .bearer_auth(&world.access)
        .send()
        .await
        .unwrap();
    assert_eq!(frame.status(), 200);
    let captured: i64 = frame.headers()["frame-captured-at"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        captured >= plugged_at - 100,
        "a frame from while the camera was unplugged: {captured} in {unplugged_at}..{plugged_at}"
    );
}

#[tokio::test]
async fn a_lock_offline_at_arrival_fails_the_delivery_and_it_can_be_rerouted() {
    let world = World::start().await;
    let id = world.approved_delivery("JJD-LOCKDOWN").await;
    world.lock_post("/network/down", json!({})).await;
    eventually(
        "the cloud to see the lock offline",
        Duration::from_secs(15),
        || async {
            let (_, locks) = world
                .cloud(reqwest::Method::GET, "/v1/locks", Some(&world.access), None)
                .await;
            (locks[0]["online"] == false).then_some(())
        },
    )
    .await
    .unwrap();
    // The courier still reaches the lock at the door, but the cloud has lost it.
    let (envelope, response) = world.answer_challenge(&id).await;
    let (status, body) = world
        .cloud(
            reqwest::Method::POST,
            &format!("/v1/courier/deliveries/{id}/access"),
            None,
            Some(json!({ "challenge": envelope, "response": response })),
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        body["message"].as_str().unwrap().contains("offline"),
        "{body}"
    );
    assert_eq!(world.delivery_state(&id).await, "failed");
    assert_eq!(world.lock_status().await["bolt"], "locked");

    let (_, address) = world
        .cloud(reqwest::Method::POST, "/v1/addresses", Some(&world.access), Some(json!({ "label": "Parcel locker", "kind": "locker", "address": "Hauptbahnhof, locker 12" })))
        .await;
    let (status, body) = world
        .cloud(
            reqwest::Method::POST,
            &format!("/v1/deliveries/{id}/reroute"),
            Some(&world.access),
            Some(json!({ "address_id": address["id"] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "rerouted");
}

impl World {
    fn courier_key_file(&self) -> std::path::PathBuf {
        let path = self._dir.path().join("courier.key");
        if !path.exists() {
            std::fs::write(&path, self.courier.to_seed()).unwrap();
        }
        path
    }

    fn announce_only(&self, tracking: &str) -> impl std::future::Future<Output = String> + '_ {
        let tracking = tracking.to_owned();
        async move {
            let now = Timestamp::now();
            let (status, delivery) = self
                .cloud(
                    reqwest::Method::POST,
                    "/v1/carrier/shipments",
                    Some(&self.carrier_key),
                    Some(json!({
                        "tracking_id": tracking,
                        "household_id": self.household_id,
                        "window": { "not_before": now.0 - 60_000, "not_after": now.0 + 3_600_000 },
                        "courier_key": self.courier.public_key().to_base64(),
                    })),
                )
                .await;
            assert_eq!(status, 201, "{delivery}");
            delivery["id"].as_str().unwrap().to_owned()
        }
    }
}

#[tokio::test]
async fn the_courier_client_delivers_inside_and_exits_zero() {
    let world = World::start().await;
    let id = world.approved_delivery("JJD-CLI").await;
    let key = world.courier_key_file();
    let (code, output) = courier(
        &[
            "deliver",
            "--cloud",
            &world.cloud.url,
            "--lock",
            &world.lock.control,
            "--tracking",
            "JJD-CLI",
            "--key",
            key.to_str().unwrap(),
            "--inside-secs",
            "1",
        ],
        Some(&world.carrier_key),
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("Delivered inside."), "{output}");
    eventually("completed in the cloud", Duration::from_secs(5), || async {
        (world.delivery_state(&id).await == "completed").then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_block_while_the_courier_is_inside_sends_it_away() {
    let world = World::start().await;
    let id = world.approved_delivery("JJD-CLI-BLOCK").await;
    let key = world.courier_key_file();
    let cloud_url = world.cloud.url.clone();
    let lock_url = world.lock.control.clone();
    let carrier_key = world.carrier_key.clone();
    let key_arg = key.to_str().unwrap().to_owned();
    let visit = tokio::spawn(async move {
        courier(
            &[
                "deliver",
                "--cloud",
                &cloud_url,
                "--lock",
                &lock_url,
                "--tracking",
                "JJD-CLI-BLOCK",
                "--key",
                &key_arg,
                "--inside-secs",
                "20",
            ],
            Some(&carrier_key),
        )
        .await
        .unwrap()
    });
    eventually("the door to be open", Duration::from_secs(10), || async {
        (world.delivery_state(&id).await == "door_open").then_some(())
    })
    .await
    .unwrap();
    world.block(&id).await;
    let (code, output) = visit.await.unwrap();
    assert_eq!(code, 4, "{output}");
    assert!(output.contains("blocked"), "{output}");
    eventually("the bolt thrown", Duration::from_secs(3), || async {
        (world.lock_status().await["bolt"] == "locked").then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_reroute_before_arrival_reaches_the_carrier_and_the_courier_goes_elsewhere() {
    let world = World::start().await;
    let webhook = WebhookProcess::start_on(world.webhook_port, &world.carrier_secret).unwrap();
    let id = world.announce_only("JJD-REROUTE").await;
    let (_, address) = world
        .cloud(reqwest::Method::POST, "/v1/addresses", Some(&world.access), Some(json!({ "label": "Mrs Weber next door", "kind": "neighbour", "address": "Lindenstr. 3" })))
        .await;
    let (status, body) = world
        .cloud(
            reqwest::Method::POST,
            &format!("/v1/deliveries/{id}/reroute"),
            Some(&world.access),
            Some(json!({ "address_id": address["id"] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let line = webhook.next(Duration::from_secs(10)).unwrap();
    let notice: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(notice["notice"]["tracking_id"], "JJD-REROUTE");
    assert_eq!(notice["notice"]["address"]["address"], "Lindenstr. 3");

    let key = world.courier_key_file();
    let (code, output) = courier(
        &[
            "deliver",
            "--cloud",
            &world.cloud.url,
            "--lock",
            &world.lock.control,
            "--tracking",
            "JJD-REROUTE",
            "--key",
            key.to_str().unwrap(),
        ],
        Some(&world.carrier_key),
    )
    .await
    .unwrap();
    assert_eq!(code, 5, "{output}");
    assert!(output.contains("Lindenstr. 3"), "{output}");
}

impl World {
    async fn pair_another_lock(&self, name: &str, kind: &str) -> (String, LockProcess) {
        let (_, code) = self
            .cloud(
                reqwest::Method::POST,
                "/v1/locks/pairing-codes",
                Some(&self.access),
                Some(json!({ "name": name, "kind": kind })),
            )
            .await;
        let lock = LockProcess::pair_and_run(
            &self.cloud.url,
            &with_fingerprint(&code, &self.household_key),
            &self._dir.path().join(name),
        )
        .unwrap();
        let (_, locks) = self
            .cloud(reqwest::Method::GET, "/v1/locks", Some(&self.access), None)
            .await;
        let id = locks
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        eventually("the new lock online", Duration::from_secs(10), || async {
            let status = lock_status(&self.http, &lock.control).await?;
            (status["online"] == true).then_some(())
        })
        .await
        .unwrap();
        (id, lock)
    }
}

#[tokio::test]
async fn the_cloud_restarts_mid_delivery_and_everyone_resumes_without_losing_anything() {
    let mut world = World::start().await;
    let id = world.approved_delivery("JJD-RESTART").await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    eventually("door_open in the cloud", Duration::from_secs(5), || async {
        (world.delivery_state(&id).await == "door_open").then_some(())
    })
    .await
    .unwrap();

    let address = world.cloud.url.trim_start_matches("http://").to_owned();
    world.cloud.stop();
    // Meanwhile at the door: the courier leaves and the lock relocks, offline.
    world.lock_post("/door/close", json!({})).await;
    eventually(
        "the lock to relock offline",
        Duration::from_secs(3),
        || async { (world.lock_status().await["bolt"] == "locked").then_some(()) },
    )
    .await
    .unwrap();
    world.cloud = CloudProcess::start_on(&world.cloud.data_dir.clone(), &address).unwrap();

    // The lock reconnects and uploads its journal; the visit completes in the cloud.
    eventually(
        "completed after the restart",
        Duration::from_secs(20),
        || async { (world.delivery_state(&id).await == "completed").then_some(()) },
    )
    .await
    .unwrap();
    let events = world.events_after(0).await;
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert!(
        !events.iter().any(|e| e["kind"] == "lock.event_gap"),
        "the lock's journal arrived whole"
    );
}

#[tokio::test]
async fn a_garage_lock_takes_a_delivery() {
    let world = World::start().await;
    let (garage_id, garage) = world.pair_another_lock("Garage", "garage").await;
    let now = Timestamp::now();
    let (_, delivery) = world
        .cloud(
            reqwest::Method::POST,
            "/v1/carrier/shipments",
            Some(&world.carrier_key),
            Some(json!({
                "tracking_id": "JJD-GARAGE",
                "household_id": world.household_id,
                "window": { "not_before": now.0 - 60_000, "not_after": now.0 + 3_600_000 },
                "courier_key": world.courier.public_key().to_base64(),
            })),
        )
        .await;
    let id = delivery["id"].as_str().unwrap().to_owned();
    let approval = DeliveryApproval {
        household: HouseholdId(world.household_id.clone()),
        delivery: DeliveryId(id.clone()),
        lock: LockId(garage_id.clone()),
        carrier: "DHL".into(),
        courier: world.courier.public_key(),
        window: TimeWindow::new(Timestamp(now.0 - 60_000), Timestamp(now.0 + 3_600_000)),
        device: DeviceId(world.device_id.clone()),
        approved_at: now,
    };
    let (status, _) = world
        .cloud(
            reqwest::Method::POST,
            &format!("/v1/deliveries/{id}/approve"),
            Some(&world.access),
            Some(json!({ "approval": Signed::sign(&approval, &world.household_key).to_base64() })),
        )
        .await;
    assert_eq!(status, 200);
    let key = world.courier_key_file();
    let (code, output) = courier(
        &[
            "deliver",
            "--cloud",
            &world.cloud.url,
            "--lock",
            &garage.control,
            "--tracking",
            "JJD-GARAGE",
            "--key",
            key.to_str().unwrap(),
            "--inside-secs",
            "1",
        ],
        Some(&world.carrier_key),
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "{output}");
    eventually(
        "completed through the garage",
        Duration::from_secs(5),
        || async { (world.delivery_state(&id).await == "completed").then_some(()) },
    )
    .await
    .unwrap();
    // The front door never moved: its journal has no unlock.
    let front = std::fs::read_to_string(world.lock.data_dir.join("journal.jsonl")).unwrap();
    assert!(!front.contains("\"unlocked\""), "{front}");
    assert_eq!(world.lock_status().await["bolt"], "locked");
}

#[tokio::test]
async fn a_guest_gets_in_inside_its_window_and_not_outside() {
    let world = World::start().await;
    let now = Timestamp::now();
    let mut guests = Vec::new();
    for (name, window) in [
        (
            "Ana (cleaner)",
            TimeWindow::new(Timestamp(now.0 - 3_600_000), Timestamp(now.0 + 3_600_000)),
        ),
        (
            "Ben (dog sitter, next week)",
            TimeWindow::new(
                Timestamp(now.0 + 7 * 86_400_000),
                Timestamp(now.0 + 8 * 86_400_000),
            ),
        ),
    ] {
        let key = SigningKey::generate();
        let guest_id = format!(
            "{:032x}",
            u128::from_le_bytes(key.public_key().as_bytes()[..16].try_into().unwrap())
        );
        let guest_id = format!(
            "{}-{}-{}-{}-{}",
            &guest_id[0..8],
            &guest_id[8..12],
            &guest_id[12..16],
            &guest_id[16..20],
            &guest_id[20..32]
        );
        let invitation = GuestInvitation {
            household: HouseholdId(world.household_id.clone()),
            guest: GuestId(guest_id.clone()),
            name: name.into(),
            guest_key: key.public_key(),
            locks: vec![LockId(world.lock_id.clone())],
            schedule: GuestSchedule::Once(window),
            device: DeviceId(world.device_id.clone()),
            issued_at: now,
        };
        let (status, body) = world
            .cloud(reqwest::Method::POST, "/v1/guests", Some(&world.access), Some(json!({ "invitation": Signed::sign(&invitation, &world.household_key).to_base64() })))
            .await;
        assert_eq!(status, 201, "{body}");
        let path = world
            ._dir
            .path()
            .join(format!("guest-{}.key", guests.len()));
        std::fs::write(&path, key.to_seed()).unwrap();
        guests.push((guest_id, path));
    }
    let visit = |guest: &(String, std::path::PathBuf)| {
        let args: Vec<String> = [
            "visit",
            "--cloud",
            &world.cloud.url,
            "--lock",
            &world.lock.control,
            "--guest",
            &guest.0,
            "--key",
            guest.1.to_str().unwrap(),
            "--inside-secs",
            "1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            courier(&args, None).await.unwrap()
        }
    };
    let (code, output) = visit(&guests[0]).await;
    assert_eq!(code, 0, "{output}");
    let (code, output) = visit(&guests[1]).await;
    assert_eq!(code, 3, "{output}");
    assert!(output.contains("outside your hours"), "{output}");
    let events = world.events_after(0).await;
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "guest.granted" && e["data"]["name"] == "Ana (cleaner)")
    );
    assert!(events.iter().any(|e| e["kind"] == "guest.refused"));
    // Ana's visit is logged like a delivery: door opened, closed, and ended only
    // once the lock reported its bolt thrown again.
    let visit = eventually(
        "Ana's visit to end in the log",
        Duration::from_secs(10),
        || async {
            let kinds: Vec<String> = world
                .events_after(0)
                .await
                .iter()
                .filter_map(|e| e["kind"].as_str())
                .filter(|k| k.starts_with("guest.door") || *k == "guest.visit_ended")
                .map(str::to_owned)
                .collect();
            kinds
                .iter()
                .any(|k| k == "guest.visit_ended")
                .then_some(kinds)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        visit,
        ["guest.door_open", "guest.door_closed", "guest.visit_ended"],
        "the visit ends on the relock, after the door closed"
    );
    let ended = world
        .events_after(0)
        .await
        .into_iter()
        .find(|e| e["kind"] == "guest.visit_ended")
        .unwrap();
    assert_eq!(
        ended["data"]["detail"],
        "door locked — confirmed by the lock"
    );
}

#[tokio::test]
async fn the_entry_is_watched_live_and_recorded_including_what_the_camera_buffered_while_cut_off() {
    use futures_util::StreamExt;

    let world = World::start().await;
    let id = world.approved_delivery("JJD-VIDEO").await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;

    // Live: a household device sees frames, newest first, advancing.
    let mut live = world.open_live().await;
    let mut seqs = Vec::new();
    while seqs.len() < 5 {
        let message = tokio::time::timeout(Duration::from_secs(5), live.next())
            .await
            .expect("no live frame")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Binary(bytes) = message {
            assert_eq!(
                &bytes[16..18],
                &[0xFF, 0xD8],
                "a JPEG after the 16-byte header"
            );
            seqs.push(u64::from_be_bytes(bytes[0..8].try_into().unwrap()));
        }
    }
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "frames advance: {seqs:?}"
    );
    drop(live);

    // Cut off for a moment: the camera keeps what it captures and uploads it later.
    world.lock_post("/network/down", json!({})).await;
    let cut_from = Timestamp::now().0;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cut_to = Timestamp::now().0;
    world.lock_post("/network/up", json!({})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    world.lock_post("/door/close", json!({})).await;

    let recordings = eventually(
        "a recording of the delivery",
        Duration::from_secs(10),
        || async {
            let (_, list) = world
                .cloud(
                    reqwest::Method::GET,
                    &format!("/v1/recordings?delivery_id={id}"),
                    Some(&world.access),
                    None,
                )
                .await;
            let list = list.as_array().cloned().unwrap_or_default();
            (!list.is_empty()
                && list
                    .iter()
                    .map(|r| r["frames"].as_i64().unwrap_or(0))
                    .sum::<i64>()
                    > 30)
                .then_some(list)
        },
    )
    .await
    .unwrap();
    let recording = &recordings[0];
    let rid = recording["id"].as_str().unwrap();

    // Play from the start, then seek into the moment the camera was cut off.
    let first = world
        .http
        .get(format!("{}/v1/recordings/{rid}/frame", world.cloud.url))
        .bearer_auth(&world.access)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "image/jpeg");
    let middle = (cut_from + cut_to) / 2;
    let seek = world
        .http
        .get(format!(
            "{}/v1/recordings/{rid}/frame?at={middle}",
            world.cloud.url
        ))
        .bearer_auth(&world.access)
        .send()
        .await
        .unwrap();
    assert_eq!(seek.status(), 200);
    let captured: i64 = seek.headers()["frame-captured-at"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        captured >= middle && captured <= cut_to + 200,
        "the frame from the outage is there: {captured} in {cut_from}..{cut_to}"
    );

    let (_, audit) = world
        .cloud(
            reqwest::Method::GET,
            "/v1/audit?action_prefix=video.",
            Some(&world.access),
            None,
        )
        .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"video.live_view") && actions.contains(&"video.playback"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn with_the_camera_down_before_unlock_nobody_gets_in() {
    let world = World::start().await;
    let id = world.approved_delivery("JJD-NOCAM").await;
    world.lock_post("/camera/unplug", json!({})).await;
    // Longer than a lock stays "online" without a word (5 s): the lock says it is
    // alive without its camera, so the reason told is the camera, not the lock.
    tokio::time::sleep(Duration::from_millis(6500)).await;
    let (_, locks) = world
        .cloud(reqwest::Method::GET, "/v1/locks", Some(&world.access), None)
        .await;
    assert_eq!(
        (&locks[0]["online"], &locks[0]["camera_recording"]),
        (&json!(true), &json!(false)),
        "{locks}"
    );
    let (envelope, response) = world.answer_challenge(&id).await;
    let (status, body) = world
        .cloud(
            reqwest::Method::POST,
            &format!("/v1/courier/deliveries/{id}/access"),
            None,
            Some(json!({ "challenge": envelope, "response": response })),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("camera"),
        "{body}"
    );
    assert_eq!(world.delivery_state(&id).await, "failed");
    assert_eq!(world.lock_status().await["bolt"], "locked");
}

#[tokio::test]
async fn a_grant_for_one_households_lock_opens_nothing_at_the_neighbours() {
    let world = World::start().await;
    // The neighbours use the same cloud, with their own lock.
    let neighbours_key = SigningKey::generate();
    let neighbours = create_account(
        &world.http,
        &world.cloud.url,
        "neighbours@example.org",
        &neighbours_key,
    )
    .await;
    let (_, code) = world
        .cloud(
            reqwest::Method::POST,
            "/v1/locks/pairing-codes",
            neighbours["session"]["access_token"].as_str(),
            Some(json!({ "name": "Their door", "kind": "door" })),
        )
        .await;
    let their_lock = LockProcess::pair_and_run(
        &world.cloud.url,
        &with_fingerprint(&code, &neighbours_key),
        &world._dir.path().join("neighbours"),
    )
    .unwrap();
    eventually("their lock online", Duration::from_secs(10), || async {
        let status = lock_status(&world.http, &their_lock.control).await?;
        (status["online"] == true).then_some(())
    })
    .await
    .unwrap();

    // A genuine grant for our delivery at our door …
    let id = world.approved_delivery("JJD-NEIGHBOUR").await;
    let (envelope, response) = world.answer_challenge(&id).await;
    let (status, granted) = world
        .cloud(
            reqwest::Method::POST,
            &format!("/v1/courier/deliveries/{id}/access"),
            None,
            Some(json!({ "challenge": envelope, "response": response })),
        )
        .await;
    assert_eq!(status, 200, "{granted}");
    // … taken to the neighbours' lock, answering its own fresh challenge.
    let challenge: Value = world
        .http
        .post(format!("{}/challenge", their_lock.control))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parsed = Signed::<LockChallenge>::from_base64(challenge["challenge"].as_str().unwrap())
        .unwrap()
        .peek()
        .unwrap();
    let answer = Signed::sign(
        &CourierResponse {
            lock: parsed.lock,
            nonce: parsed.nonce,
            subject: GrantSubject::Delivery(DeliveryId(id.clone())),
            responded_at: Timestamp::now(),
        },
        &world.courier,
    )
    .to_base64();
    let refused = world
        .http
        .post(format!("{}/enter", their_lock.control))
        .json(&json!({ "grant": granted["grant"], "response": answer }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("another lock"),
        "{body}"
    );
    let status = lock_status(&world.http, &their_lock.control).await.unwrap();
    assert_eq!(status["bolt"], "locked");
}

#[tokio::test]
async fn a_lock_pairs_and_keeps_its_channel_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let cloud = CloudProcess::start_tls(&dir.path().join("cloud"), &cert, &key).unwrap();
    assert!(cloud.url.starts_with("https://"), "{}", cloud.url);
    let url = cloud.url.replace("127.0.0.1", "localhost");
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let household_key = SigningKey::generate();
    let created = create_account(&http, &url, "tls@example.org", &household_key).await;
    let (_, code) = pairing_code(
        &http,
        &url,
        created["session"]["access_token"].as_str().unwrap(),
    )
    .await;
    let lock = LockProcess::pair_and_run_trusting(
        &url,
        &with_fingerprint(&code, &household_key),
        &dir.path().join("lock"),
        Some(&cert),
    )
    .unwrap();
    // Online means the wss:// channel is up and synced, through a verified certificate.
    eventually(
        "the lock online over wss",
        Duration::from_secs(10),
        || async {
            let status = lock_status(&http, &lock.control).await?;
            (status["online"] == true).then_some(())
        },
    )
    .await
    .unwrap();
}

// ---------------------------------------------------------------------------
// The breached cloud (docs/signed-formats.md, threat table): an attacker holds a
// copy of the cloud's data folder with its signing key, and its own courier key.
// It mints and edits grants in this (separate) process and presents them at the
// lock as a courier would. The door must stay shut, and the household hear of it.

/// What an attacker took: the cloud's signing key from a copy of its data folder.
fn stolen_cloud_key(world: &World) -> SigningKey {
    let copy = world._dir.path().join("stolen");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(
        world.cloud.data_dir.join("signing-key"),
        copy.join("signing-key"),
    )
    .unwrap();
    let seed: [u8; 32] = std::fs::read(copy.join("signing-key"))
        .unwrap()
        .try_into()
        .unwrap();
    SigningKey::from_seed(&seed)
}

impl World {
    /// The household signs a standing policy for DHL, pinning the key DHL signs with.
    async fn set_policy(&self, version: u64) -> Signed<DeliveryPolicy> {
        let policy = DeliveryPolicy {
            household: HouseholdId(self.household_id.clone()),
            version,
            locks: vec![LockId(self.lock_id.clone())],
            carriers: vec![PinnedCarrier {
                name: "DHL".into(),
                keys: vec![self.shipment_key.public_key()],
            }],
            hours: WeeklyHours {
                time_zone: "Europe/Berlin".into(),
                days: (1..=7).collect(),
                from_minute: 0,
                until_minute: 1440,
            },
            max_window_minutes: 120,
            device: DeviceId(self.device_id.clone()),
            issued_at: Timestamp::now(),
        };
        let signed = Signed::sign(&policy, &self.household_key);
        let (status, body) = self
            .cloud(
                reqwest::Method::PUT,
                "/v1/household/policy",
                Some(&self.access),
                Some(json!({ "policy": signed.to_base64() })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        // The lock takes the policy from its channel.
        eventually(
            "the lock to see the policy",
            Duration::from_secs(10),
            || async {
                (self.lock_status().await["journal_seq"]
                    .as_u64()
                    .unwrap_or(0)
                    > 0)
                .then_some(())
            },
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        signed
    }

    /// A fresh lock challenge answered by `key` for `subject`: (challenge, response envelope).
    async fn challenge_answered_by(
        &self,
        key: &SigningKey,
        subject: GrantSubject,
    ) -> (LockChallenge, String) {
        let (status, challenge) = self.lock_post("/challenge", json!({})).await;
        assert_eq!(status, 200, "{challenge}");
        let parsed = Signed::<LockChallenge>::from_base64(challenge["challenge"].as_str().unwrap())
            .unwrap()
            .peek()
            .unwrap();
        let response = Signed::sign(
            &CourierResponse {
                lock: parsed.lock.clone(),
                nonce: parsed.nonce,
                subject,
                responded_at: Timestamp::now(),
            },
            key,
        )
        .to_base64();
        (parsed, response)
    }

    /// The attacker mints a grant with the stolen cloud key and presents it at the lock.
    async fn present_minted(
        &self,
        cloud_key: &SigningKey,
        holder: &SigningKey,
        subject: GrantSubject,
        authorization: Authorization,
        window: TimeWindow,
    ) -> (u16, Value) {
        let (challenge, response) = self.challenge_answered_by(holder, subject.clone()).await;
        let grant = EntryGrant {
            grant: GrantId(format!("minted-{}", Timestamp::now().0)),
            household: HouseholdId(self.household_id.clone()),
            lock: LockId(self.lock_id.clone()),
            subject,
            holder: holder.public_key(),
            window,
            challenge: challenge.nonce,
            authorization,
            carrier: Some("DHL".into()),
            issued_at: Timestamp::now(),
        };
        self.lock_post(
            "/enter",
            json!({ "grant": Signed::sign(&grant, cloud_key).to_base64(), "response": response }),
        )
        .await
    }

    async fn events_of(&self, kind: &str) -> Vec<Value> {
        let (_, page) = self
            .cloud(
                reqwest::Method::GET,
                "/v1/events?after=0",
                Some(&self.access),
                None,
            )
            .await;
        page["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["kind"] == kind)
            .collect()
    }
}

impl World {
    /// The household's approval of delivery `id` for `courier` in `window`.
    fn approval_for(&self, id: &str, courier: PublicKey, window: TimeWindow) -> DeliveryApproval {
        DeliveryApproval {
            household: HouseholdId(self.household_id.clone()),
            delivery: DeliveryId(id.to_owned()),
            lock: LockId(self.lock_id.clone()),
            carrier: "DHL".into(),
            courier,
            window,
            device: DeviceId(self.device_id.clone()),
            approved_at: Timestamp::now(),
        }
    }
}

fn window_around_now(before_ms: i64, after_ms: i64) -> TimeWindow {
    let now = Timestamp::now().0;
    TimeWindow::new(Timestamp(now - before_ms), Timestamp(now + after_ms))
}

#[tokio::test]
async fn a_breached_cloud_opens_nothing_under_a_policy_a_per_delivery_approval_or_a_guest_invitation()
 {
    let world = World::start().await;
    let policy = world.set_policy(1).await;
    let cloud_key = stolen_cloud_key(&world);
    let attacker = SigningKey::generate();
    let window = window_around_now(60_000, 30 * 60_000);
    let ghost = GrantSubject::Delivery(DeliveryId("never-announced".into()));
    let shipment_for = |courier: &SigningKey| Shipment {
        carrier: "DHL".into(),
        household: HouseholdId(world.household_id.clone()),
        tracking: "FORGED-1".into(),
        courier: courier.public_key(),
        window,
        issued_at: Timestamp::now(),
    };

    // 1. The household's genuine policy, with a shipment the cloud key (or any key
    //    the household did not pin) signed for the attacker's courier key.
    for signer in [&cloud_key, &attacker] {
        let entry = PolicyEntry {
            policy: policy.clone(),
            shipment: Signed::sign(&shipment_for(&attacker), signer),
        };
        let (status, body) = world
            .present_minted(
                &cloud_key,
                &attacker,
                ghost.clone(),
                Authorization::Policy(entry),
                window,
            )
            .await;
        assert_eq!(status, 403, "{body}");
    }
    // 2. A policy the cloud signed itself.
    let mut widened = policy.peek().unwrap();
    widened.version = 99;
    let entry = PolicyEntry {
        policy: Signed::sign(&widened, &cloud_key),
        shipment: Signed::sign(&shipment_for(&attacker), &world.shipment_key),
    };
    let (status, body) = world
        .present_minted(
            &cloud_key,
            &attacker,
            ghost.clone(),
            Authorization::Policy(entry),
            window,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // 3. A genuine DHL shipment, handed to the attacker's key by the grant.
    let entry = PolicyEntry {
        policy: policy.clone(),
        shipment: Signed::sign(&shipment_for(&world.courier), &world.shipment_key),
    };
    let (status, body) = world
        .present_minted(
            &cloud_key,
            &attacker,
            ghost.clone(),
            Authorization::Policy(entry),
            window,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // 4. A per-delivery approval: the household's, for another courier; and one the cloud signed.
    let id = world.approved_delivery("JJD-BREACH").await;
    let approval = world.approval_for(&id, attacker.public_key(), window);
    let subject = GrantSubject::Delivery(DeliveryId(id.clone()));
    let (status, body) = world
        .present_minted(
            &cloud_key,
            &attacker,
            subject.clone(),
            Authorization::Approval(Signed::sign(&approval, &cloud_key)),
            window,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // 5. A guest invitation the cloud signed for the attacker.
    let invitation = GuestInvitation {
        household: HouseholdId(world.household_id.clone()),
        guest: GuestId("guest-forged".into()),
        name: "Nobody".into(),
        guest_key: attacker.public_key(),
        locks: vec![LockId(world.lock_id.clone())],
        schedule: GuestSchedule::Once(window),
        device: DeviceId(world.device_id.clone()),
        issued_at: Timestamp::now(),
    };
    let (status, body) = world
        .present_minted(
            &cloud_key,
            &attacker,
            GrantSubject::Guest(GuestId("guest-forged".into())),
            Authorization::Guest(Signed::sign(&invitation, &cloud_key)),
            window,
        )
        .await;
    assert_eq!(status, 403, "{body}");

    assert_eq!(
        world.lock_status().await["bolt"],
        "locked",
        "the door stayed shut"
    );
    // Every attempt reached the lock, and the household hears of each.
    eventually(
        "the refusals to reach the household",
        Duration::from_secs(10),
        || async { (world.events_of("lock.entry_refused").await.len() >= 6).then_some(()) },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn one_approval_opens_the_door_once_whatever_grants_a_breached_cloud_mints() {
    let world = World::start().await;
    let id = world.approved_delivery("JJD-ONCE").await;
    let (response, granted) = world.granted(&id).await;
    let (status, body) = world
        .lock_post(
            "/enter",
            json!({ "grant": granted["grant"], "response": response }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    world.lock_post("/door/open", json!({})).await;
    world.lock_post("/door/close", json!({})).await;
    eventually("the relock", Duration::from_secs(10), || async {
        (world.lock_status().await["bolt"] == "locked").then_some(())
    })
    .await
    .unwrap();

    // With the cloud key and the courier's key: fresh grants, fresh grant ids, fresh
    // challenges, the household's genuine approval inside.
    let cloud_key = stolen_cloud_key(&world);
    let issued = Signed::<EntryGrant>::from_base64(granted["grant"].as_str().unwrap())
        .unwrap()
        .peek()
        .unwrap();
    for _ in 0..2 {
        let (status, body) = world
            .present_minted(
                &cloud_key,
                &world.courier,
                issued.subject.clone(),
                issued.authorization.clone(),
                issued.window,
            )
            .await;
        assert_eq!(status, 403, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("already used"),
            "{body}"
        );
    }
    assert_eq!(world.lock_status().await["bolt"], "locked");
}

#[tokio::test]
async fn a_lock_refuses_to_pair_with_a_household_key_other_than_the_one_its_code_names() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = CloudProcess::start(&dir.path().join("cloud")).unwrap();
    let http = reqwest::Client::new();
    // The cloud's record holds a key the attacker swapped in; the household's device
    // shows the fingerprint of the key it really holds.
    let real = SigningKey::generate();
    let swapped = SigningKey::generate();
    let created = create_account(&http, &cloud.url, "swapped@example.org", &swapped).await;
    let (status, code) = pairing_code(
        &http,
        &cloud.url,
        created["session"]["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{code}");
    let error = LockProcess::pair_and_run(
        &cloud.url,
        &with_fingerprint(&code, &real),
        &dir.path().join("lock"),
    )
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("does not match the fingerprint in the pairing code"),
        "{message}"
    );
    assert!(
        !dir.path().join("lock").join("identity.json").exists(),
        "nothing was pinned"
    );
    // A code without a fingerprint is refused too, with what to do.
    let error = LockProcess::pair_and_run(
        &cloud.url,
        code["code"].as_str().unwrap(),
        &dir.path().join("lock2"),
    )
    .unwrap_err();
    assert!(
        format!("{error:#}").contains("no household fingerprint"),
        "{error:#}"
    );
}

#[tokio::test]
async fn a_block_reaches_the_lock_for_a_delivery_a_policy_admitted_online_and_after_a_reconnect() {
    let mut world = World::start().await;
    world.set_policy(1).await;
    let now = Timestamp::now().0;
    let window = (now - 60_000, now + 3_600_000);
    let shipment = doorstep_courier::sign_shipment(
        &doorstep_courier::ShipmentFacts {
            carrier: "DHL",
            household_id: &world.household_id,
            tracking_id: "JJD-POLICY",
            courier: world.courier.public_key(),
            not_before: window.0,
            not_after: window.1,
        },
        &world.shipment_key,
    );
    let (status, delivery) = world
        .cloud(
            reqwest::Method::POST,
            "/v1/carrier/shipments",
            Some(&world.carrier_key),
            Some(json!({
                "tracking_id": "JJD-POLICY", "household_id": world.household_id,
                "window": { "not_before": window.0, "not_after": window.1 },
                "courier_key": world.courier.public_key().to_base64(), "shipment": shipment,
            })),
        )
        .await;
    assert_eq!(status, 201, "{delivery}");
    let id = delivery["id"].as_str().unwrap().to_owned();
    // No per-delivery approval: the policy and the carrier's signature let the courier in.
    let (status, body) = world.courier_enters(&id).await;
    assert_eq!(status, 200, "{body}");
    world.lock_post("/door/open", json!({})).await;

    // The lock loses its channel; the household blocks meanwhile.
    world.lock_post("/network/down", json!({})).await;
    world.block(&id).await;
    world.lock_post("/network/up", json!({})).await;
    // Back online, the lock gets the block and throws the bolt once the door closes.
    eventually(
        "the lock to learn of the block",
        Duration::from_secs(15),
        || async {
            let status = world.lock_status().await;
            (status["online"] == true && status["bolt"] != "unlocked").then_some(())
        },
    )
    .await
    .unwrap();
    world.lock_post("/door/close", json!({})).await;
    eventually("the relock", Duration::from_secs(10), || async {
        (world.lock_status().await["bolt"] == "locked").then_some(())
    })
    .await
    .unwrap();
    let _ = &mut world;
}

/// Restarts the World's lock under libfaketime with `faketime` (its FAKETIME
/// setting); the monotonic clock is left alone, as a real clock step leaves it.
fn restart_lock_with_faketime(world: &mut World, faketime: &str) -> bool {
    let Some(library) = testkit::system::libfaketime() else {
        eprintln!(
            "skipped: libfaketime is not installed (Debian package `faketime`; `make test` installs it)"
        );
        return false;
    };
    world.lock.stop();
    world.lock = LockProcess::run_with_env(
        &world.lock.data_dir,
        &[
            ("LD_PRELOAD", library.to_str().unwrap()),
            ("FAKETIME", faketime),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            ("FAKETIME_DONT_RESET", "1"),
        ],
    )
    .unwrap();
    true
}

#[tokio::test]
async fn the_locks_system_clock_slow_fast_or_at_1970_neither_opens_outside_a_window_nor_shuts_a_genuine_courier_out()
 {
    let mut world = World::start().await;
    let cloud_key = stolen_cloud_key(&world);
    for (faketime, tracking) in [
        ("-10m", "JJD-SLOW"),
        ("+10m", "JJD-FAST"),
        ("@1970-01-01 00:00:00", "JJD-1970"),
    ] {
        if !restart_lock_with_faketime(&mut world, faketime) {
            return;
        }
        eventually(
            "the lock back online with the cloud's time",
            Duration::from_secs(15),
            || async {
                let status = world.lock_status().await;
                (status["online"] == true && status["clock_set"] == true).then_some(())
            },
        )
        .await
        .unwrap();
        // A genuine courier, inside the approved window, gets in.
        let id = world.approved_delivery(tracking).await;
        let (status, body) = world.courier_enters(&id).await;
        assert_eq!(status, 200, "{faketime}: {body}");
        world.lock_post("/door/open", json!({})).await;
        world.lock_post("/door/close", json!({})).await;
        eventually("the relock", Duration::from_secs(10), || async {
            (world.lock_status().await["bolt"] == "locked").then_some(())
        })
        .await
        .unwrap();
        // An unused approval whose window ended 5 minutes ago, and one that opens in
        // 8 minutes, minted into grants by the breached cloud: both refused.
        for (window, expect) in [
            (window_around_now(60 * 60_000, -5 * 60_000), "closed"),
            (window_around_now(-8 * 60_000, 30 * 60_000), "not opened"),
        ] {
            let (status, delivery) = world
                .cloud(reqwest::Method::POST, "/v1/carrier/shipments", Some(&world.carrier_key), Some(json!({
                    "tracking_id": format!("{tracking}-{}", expect.replace(' ', "-")), "household_id": world.household_id,
                    "window": { "not_before": window.not_before.0, "not_after": window.not_after.0.max(Timestamp::now().0 + 60_000) },
                    "courier_key": world.courier.public_key().to_base64(),
                })))
                .await;
            assert_eq!(status, 201, "{delivery}");
            let id = delivery["id"].as_str().unwrap().to_owned();
            let approval = world.approval_for(&id, world.courier.public_key(), window);
            let (status, body) = world
                .present_minted(
                    &cloud_key,
                    &world.courier,
                    GrantSubject::Delivery(DeliveryId(id)),
                    Authorization::Approval(Signed::sign(&approval, &world.household_key)),
                    window,
                )
                .await;
            assert_eq!(status, 403, "{faketime}: {body}");
            assert!(
                body["message"].as_str().unwrap().contains(expect),
                "{faketime}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn a_lock_whose_clock_steps_back_two_hours_while_running_and_across_a_restart_opens_no_expired_grant()
 {
    let mut world = World::start().await;
    let cloud_key = stolen_cloud_key(&world);
    let Some(library) = testkit::system::libfaketime() else {
        eprintln!("skipped: libfaketime is not installed (Debian package `faketime`)");
        return;
    };
    let offset_file = world._dir.path().join("faketime-offset");
    std::fs::write(&offset_file, "+0").unwrap();
    let start = |world: &mut World| {
        world.lock.stop();
        world.lock = LockProcess::run_with_env(
            &world.lock.data_dir,
            &[
                ("LD_PRELOAD", library.to_str().unwrap()),
                ("FAKETIME_TIMESTAMP_FILE", offset_file.to_str().unwrap()),
                ("FAKETIME_NO_CACHE", "1"),
                ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            ],
        )
        .unwrap();
    };
    start(&mut world);
    eventually(
        "online with the cloud's time",
        Duration::from_secs(15),
        || async {
            let status = world.lock_status().await;
            (status["online"] == true && status["clock_set"] == true).then_some(())
        },
    )
    .await
    .unwrap();
    // An approval whose window ended almost 2 h ago.
    let window = window_around_now(4 * 3_600_000, -(2 * 3_600_000 - 5 * 60_000));
    let id = world.announce_only("JJD-STEP").await;
    let approval = world.approval_for(&id, world.courier.public_key(), window);
    let authorization = Authorization::Approval(Signed::sign(&approval, &world.household_key));
    let subject = GrantSubject::Delivery(DeliveryId(id));
    // Spoofed NTP steps the lock's system clock back 2 h while it runs…
    std::fs::write(&offset_file, "-2h").unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, body) = world
        .present_minted(
            &cloud_key,
            &world.courier,
            subject.clone(),
            authorization.clone(),
            window,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("closed"),
        "{body}"
    );
    // …and across a restart (the cloud's time is still now, above the floor).
    start(&mut world);
    eventually("online again", Duration::from_secs(15), || async {
        (world.lock_status().await["online"] == true).then_some(())
    })
    .await
    .unwrap();
    let (status, body) = world
        .present_minted(&cloud_key, &world.courier, subject, authorization, window)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(world.lock_status().await["bolt"], "locked");
}

type LiveView =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl World {
    /// The household's live view of the lock's camera, as its device opens it.
    async fn open_live(&self) -> LiveView {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!(
            "{}/v1/locks/{}/live",
            self.cloud.url.replacen("http", "ws", 1),
            self.lock_id
        );
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", self.access).parse().unwrap(),
        );
        tokio_tungstenite::connect_async(request).await.unwrap().0
    }

    async fn delivery(&self, id: &str) -> Value {
        self.cloud(
            reqwest::Method::GET,
            &format!("/v1/deliveries/{id}"),
            Some(&self.access),
            None,
        )
        .await
        .1
    }

    async fn block(&self, id: &str) {
        let revocation = Signed::sign(
            &Revocation {
                household: HouseholdId(self.household_id.clone()),
                lock: LockId(self.lock_id.clone()),
                target: RevocationTarget::Delivery(DeliveryId(id.to_owned())),
                device: DeviceId(self.device_id.clone()),
                issued_at: Timestamp::now(),
            },
            &self.household_key,
        );
        let (status, body) = self
            .cloud(
                reqwest::Method::POST,
                &format!("/v1/deliveries/{id}/block"),
                Some(&self.access),
                Some(json!({ "revocation": revocation.to_base64() })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Waits until the cloud shows `door` for delivery `id`; fails if it ever shows "locked" first.
    async fn door_becomes(&self, id: &str, door: &str) -> Value {
        eventually(
            &format!("the door to be {door}"),
            Duration::from_secs(10),
            || async {
                let delivery = self.delivery(id).await;
                if door != "locked" {
                    assert_ne!(
                        delivery["door"], "locked",
                        "told locked while {door}: {delivery}"
                    );
                }
                (delivery["door"] == door).then_some(delivery)
            },
        )
        .await
        .unwrap()
    }
}

#[tokio::test]
async fn a_jammed_motor_is_never_told_as_locked_and_fails_the_delivery() {
    // Block while the motor is jammed: the bolt stays withdrawn, and the household
    // sees "jammed", never "locked".
    let world = World::start().await;
    let id = world.approved_delivery("JJD-JAM-BLOCK").await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    world.lock_post("/motor/jam", json!({})).await;
    world.block(&id).await;
    let delivery = world.door_becomes(&id, "jammed").await;
    assert_eq!(delivery["state"], "blocked");
    assert_eq!(world.lock_status().await["bolt"], "unlocked");
    let alarms = world.events_of("lock.jammed").await;
    assert!(
        alarms
            .iter()
            .any(|e| e["data"]["delivery_id"] == id.as_str()),
        "{alarms:?}"
    );

    // A jam as the door closes: not delivered, failed, and the door is NOT locked.
    let world = World::start().await;
    let id = world.approved_delivery("JJD-JAM-CLOSE").await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    world.lock_post("/motor/jam", json!({})).await;
    world.lock_post("/door/close", json!({})).await;
    let delivery = world.door_becomes(&id, "jammed").await;
    eventually("the delivery to fail", Duration::from_secs(5), || async {
        (world.delivery_state(&id).await == "failed").then_some(())
    })
    .await
    .unwrap();
    assert_ne!(delivery["state"], "completed");
    let failed = world.events_of("delivery.failed").await;
    assert_eq!(failed[0]["data"]["reason"], "jammed", "{failed:?}");

    // And the courier's client does not call it delivered.
    let world = World::start().await;
    world.approved_delivery("JJD-JAM-COURIER").await;
    let courier_key = world.courier_key_file();
    let lock = world.lock.control.clone();
    let jam = async {
        // Jam the motor once the courier is inside.
        eventually("the courier inside", Duration::from_secs(15), || async {
            (world.lock_status().await["door"] == "open").then_some(())
        })
        .await
        .unwrap();
        world.lock_post("/motor/jam", json!({})).await;
    };
    let cloud_url = world.cloud.url.clone();
    let args = [
        "deliver",
        "--cloud",
        &cloud_url,
        "--lock",
        &lock,
        "--tracking",
        "JJD-JAM-COURIER",
        "--key",
        courier_key.to_str().unwrap(),
        "--inside-secs",
        "2",
    ];
    let visit = courier(&args, Some(&world.carrier_key));
    let ((code, said), ()) = tokio::join!(async { visit.await.unwrap() }, jam);
    assert_eq!(code, 6, "{said}");
    assert!(said.contains("did NOT lock"), "{said}");
}

#[tokio::test]
async fn a_lock_agent_keeps_its_folder_to_itself_and_boots_reading_the_door_sensor() {
    let mut world = World::start().await;
    let data_dir = world.lock.data_dir.clone();
    let second = LockProcess::run(&data_dir);
    assert!(second.is_err(), "a second agent ran on the same folder");
    let refused = format!("{:#}", second.unwrap_err());
    assert!(
        refused.contains("first line") || refused.contains("exited"),
        "{refused}"
    );

    // A door left open through a power cut reads open after it, not closed.
    world.lock_post("/door/open", json!({})).await;
    world.lock.stop();
    world.lock = LockProcess::run(&data_dir).unwrap();
    let status = world.lock_status().await;
    assert_eq!(status["door"], "open", "{status}");
    assert_eq!(status["bolt"], "locked", "{status}");
    let rebooted = eventually(
        "the household told of the restart",
        Duration::from_secs(10),
        || async {
            let events = world.events_of("lock.rebooted").await;
            events
                .iter()
                .any(|e| e["data"]["detail"]["door"] == "open")
                .then_some(events)
        },
    )
    .await
    .unwrap();
    assert!(!rebooted.is_empty());
}

#[tokio::test]
async fn a_journal_cut_back_in_time_reuses_no_seq_and_a_used_approval_stays_shut() {
    let mut world = World::start().await;
    let id = world.approved_delivery("JJD-REWIND").await;
    let delivery = world.delivery(&id).await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    world.lock_post("/door/close", json!({})).await;
    eventually("completed", Duration::from_secs(10), || async {
        (world.delivery_state(&id).await == "completed").then_some(())
    })
    .await
    .unwrap();
    let uploaded = eventually("the journal uploaded", Duration::from_secs(10), || async {
        let status = world.lock_status().await;
        let seq = status["journal_seq"].as_u64()?;
        (status["uploaded_through"].as_u64() == Some(seq)).then_some(seq)
    })
    .await
    .unwrap();

    // The journal is cut back to its first line (a restored backup, a damaged disk).
    world.lock.stop();
    let journal = world.lock.data_dir.join("journal.jsonl");
    let first = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    std::fs::write(&journal, format!("{first}\n")).unwrap();
    world.lock = LockProcess::run(&world.lock.data_dir).unwrap();
    eventually("online again", Duration::from_secs(10), || async {
        (world.lock_status().await["online"] == true).then_some(())
    })
    .await
    .unwrap();
    let status = world.lock_status().await;
    assert!(
        status["journal_seq"].as_u64().unwrap() > uploaded,
        "{status}"
    );

    // The breached cloud mints a grant for the used approval: the lock no longer
    // remembers using it, and refuses it anyway.
    let cloud_key = stolen_cloud_key(&world);
    let window = TimeWindow::new(
        Timestamp(delivery["window"]["not_before"].as_i64().unwrap()),
        Timestamp(delivery["window"]["not_after"].as_i64().unwrap()),
    );
    let mut approval = world.approval_for(&id, world.courier.public_key(), window);
    approval.approved_at = Timestamp::now().minus(Duration::from_secs(60));
    let (status, body) = world
        .present_minted(
            &cloud_key,
            &world.courier,
            GrantSubject::Delivery(DeliveryId(id.clone())),
            Authorization::Approval(Signed::sign(&approval, &world.household_key)),
            window,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("lost its record"),
        "{body}"
    );
    assert_eq!(world.lock_status().await["bolt"], "locked");
    let told = eventually("the household told", Duration::from_secs(10), || async {
        let events = world.events_of("lock.journal_rewound").await;
        (!events.is_empty()).then_some(events)
    })
    .await
    .unwrap();
    assert_eq!(told[0]["data"]["detail"]["uploaded"], uploaded);
    // The cloud saw no seq twice with different lines.
    assert!(world.events_of("lock.journal_conflict").await.is_empty());
}

#[tokio::test]
async fn signing_out_ends_the_devices_live_view_at_once() {
    use futures_util::StreamExt;

    let world = World::start().await;
    let id = world.approved_delivery("JJD-SIGNOUT").await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    let mut live = world.open_live().await;
    let first = tokio::time::timeout(Duration::from_secs(5), live.next())
        .await
        .expect("a live frame");
    assert!(matches!(first, Some(Ok(_))), "{first:?}");

    let (status, body) = world
        .cloud(
            reqwest::Method::DELETE,
            "/v1/sessions/current",
            Some(&world.access),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match live.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => return frame,
                None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the live view kept streaming after sign-out");
    if let Some(frame) = ended {
        assert_eq!(u16::from(frame.code), 4001, "{frame:?}");
    }
}

#[tokio::test]
async fn a_frozen_picture_is_never_handed_to_a_new_viewer_as_current() {
    use futures_util::StreamExt;

    let world = World::start().await;
    let id = world.approved_delivery("JJD-FROZEN").await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    let mut live = world.open_live().await;
    let frame = tokio::time::timeout(Duration::from_secs(5), live.next()).await;
    assert!(
        matches!(frame, Ok(Some(Ok(_)))),
        "frames while the camera runs"
    );
    drop(live);

    // The camera goes dark: its last frame ages in the relay's cache.
    world.lock_post("/camera/unplug", json!({})).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut late = world.open_live().await;
    let handed = tokio::time::timeout(Duration::from_millis(1500), async {
        loop {
            match late.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Binary(_))) => return true,
                None | Some(Err(_)) => return false,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(
        !handed,
        "a 2 s old frame was handed out as the current picture"
    );
}

#[tokio::test]
async fn each_visit_is_one_recording_filed_under_it_and_the_camera_stops_after_it() {
    let world = World::start().await;
    let mut ids = Vec::new();
    for tracking in ["JJD-VISIT-1", "JJD-VISIT-2"] {
        let id = world.approved_delivery(tracking).await;
        assert_eq!(world.courier_enters(&id).await.0, 200);
        world.lock_post("/door/open", json!({})).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        world.lock_post("/door/close", json!({})).await;
        eventually("completed", Duration::from_secs(10), || async {
            (world.delivery_state(&id).await == "completed").then_some(())
        })
        .await
        .unwrap();
        ids.push(id);
    }
    // The camera stops a short post-roll after the second visit, not minutes later.
    eventually("the camera to stop", Duration::from_secs(10), || async {
        (world.lock_status().await["camera"]["recording"] == false).then_some(())
    })
    .await
    .unwrap();
    let mut recordings = Vec::new();
    for id in &ids {
        let list = eventually("the visit's recording", Duration::from_secs(10), || async {
            let (_, list) = world
                .cloud(
                    reqwest::Method::GET,
                    &format!("/v1/recordings?delivery_id={id}"),
                    Some(&world.access),
                    None,
                )
                .await;
            let list = list.as_array().cloned().unwrap_or_default();
            (!list.is_empty()).then_some(list)
        })
        .await
        .unwrap();
        assert_eq!(list.len(), 1, "one recording per visit: {list:?}");
        recordings.push(list[0]["id"].as_str().unwrap().to_owned());
    }
    assert_ne!(recordings[0], recordings[1], "two visits, two recordings");
}

#[tokio::test]
async fn a_full_disk_at_the_lock_opens_nothing_loses_no_alarm_and_bricks_nothing() {
    let Some(disk) = SmallDisk::mount("4m").unwrap() else {
        return;
    };
    let mut world = World::start_with_lock_in(Some(disk.path().join("lock"))).await;
    let id = world.approved_delivery("JJD-FULL").await;
    disk.fill().unwrap();
    // The journal's last page may still have room for a few lines: garbage
    // from a courier's app (journalled as refusals) uses it up.
    eventually(
        "the journal to meet the full disk",
        Duration::from_secs(10),
        || async {
            world
                .lock_post(
                    "/enter",
                    json!({ "grant": "garbage", "response": "garbage" }),
                )
                .await;
            (world.lock_status().await["journal_unwritten"].as_u64() > Some(0)).then_some(())
        },
    )
    .await
    .unwrap();

    // The grant cannot be recorded as used: the bolt does not move.
    let (status, body) = world.courier_enters(&id).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("could not record"),
        "{body}"
    );
    let status = world.lock_status().await;
    assert_eq!(status["bolt"], "locked", "{status}");
    assert!(
        status["journal_unwritten"].as_u64().unwrap() >= 1,
        "{status}"
    );
    // An alarm raised meanwhile is kept, not lost.
    world.lock_post("/door/open", json!({})).await;

    // Space again: the waiting lines are written and reach the household, in order.
    disk.free().unwrap();
    eventually(
        "the waiting lines written",
        Duration::from_secs(10),
        || async { (world.lock_status().await["journal_unwritten"] == 0).then_some(()) },
    )
    .await
    .unwrap();
    let told = eventually("the household told", Duration::from_secs(10), || async {
        let forced = world.events_of("lock.forced").await;
        let refused = world.events_of("lock.entry_refused").await;
        (!forced.is_empty() && !refused.is_empty()).then_some(refused)
    })
    .await
    .unwrap();
    assert!(
        told.iter().any(|e| e["data"]["delivery_id"] == id.as_str()),
        "{told:?}"
    );
    world.lock_post("/door/close", json!({})).await;

    // The lock was never bricked: it restarts on its journal, and the approval,
    // never used, still lets the courier in.
    world.lock.stop();
    world.lock = LockProcess::run(&world.lock.data_dir).unwrap();
    eventually("online again", Duration::from_secs(10), || async {
        (world.lock_status().await["online"] == true).then_some(())
    })
    .await
    .unwrap();
    let (status, body) = world.courier_enters(&id).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_worn_motor_that_does_not_confirm_the_relock_in_time_is_told_as_not_locked_until_it_does()
{
    let world = World::start().await;
    let id = world.approved_delivery("JJD-SLOW-MOTOR").await;
    assert_eq!(world.courier_enters(&id).await.0, 200);
    world.lock_post("/door/open", json!({})).await;
    world.door_becomes(&id, "open").await;
    // Each stroke now takes longer than the cloud waits for the relock report.
    let (status, body) = world
        .lock_post("/motor/slow", json!({ "stroke_ms": 9000 }))
        .await;
    assert_eq!(status, 200, "{body}");
    world.lock_post("/door/close", json!({})).await;
    world.door_becomes(&id, "closed").await;

    // No report of the bolt thrown in time: "door NOT locked", the entry fails
    // and the household is alarmed — never "locked" or "delivered" meanwhile.
    let unconfirmed = world.door_becomes(&id, "unconfirmed").await;
    assert_ne!(unconfirmed["state"], "completed", "{unconfirmed}");
    eventually("the delivery to fail", Duration::from_secs(5), || async {
        (world.delivery_state(&id).await == "failed").then_some(())
    })
    .await
    .unwrap();
    let failed = world.events_of("delivery.failed").await;
    assert_eq!(
        failed[0]["data"]["reason"], "relock unconfirmed",
        "{failed:?}"
    );
    let alarms = world.events_of("lock.relock_unconfirmed").await;
    assert_eq!(alarms[0]["data"]["delivery_id"], id.as_str(), "{alarms:?}");
    assert_eq!(world.lock_status().await["bolt"], "locking");

    // When the bolt is finally thrown the lock says so, and the household is told
    // the truth: locked (the failed delivery stays failed).
    let locked = world.door_becomes(&id, "locked").await;
    assert_eq!(locked["state"], "failed");
    assert_eq!(world.lock_status().await["bolt"], "locked");
}

#[tokio::test]
async fn a_grant_the_lock_refuses_lapses_at_once_and_the_courier_gets_in_asking_again() {
    let world = World::start().await;
    let id = world.approved_delivery("JJD-REFUSED-GRANT").await;
    let (_, granted) = world.granted(&id).await;
    assert_eq!(world.delivery_state(&id).await, "granted");
    // The courier rang again before presenting it: the grant answers a challenge
    // the lock no longer holds, so the lock refuses it and journals why.
    let (_, newer) = world.answer_challenge(&id).await;
    let (status, refused) = world
        .lock_post(
            "/enter",
            json!({ "grant": granted["grant"], "response": newer }),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(world.lock_status().await["bolt"], "locked");
    eventually(
        "the refused grant to lapse in the cloud",
        Duration::from_secs(10),
        || async { (world.delivery_state(&id).await == "at_door").then_some(()) },
    )
    .await
    .unwrap();
    let lapsed = world.events_of("delivery.grant_lapsed").await;
    assert_eq!(lapsed.len(), 1, "{lapsed:?}");
    let alarms = world.events_of("lock.entry_refused").await;
    assert_eq!(alarms[0]["data"]["delivery_id"], id.as_str(), "{alarms:?}");

    // Not stuck at "granted": asking again lets the courier in.
    let (status, body) = world.courier_enters(&id).await;
    assert_eq!(status, 200, "{body}");
    world.lock_post("/door/open", json!({})).await;
    world.door_becomes(&id, "open").await;
}

/// A breached cloud (its data folder and key in an attacker's hands) on the
/// lock's channel: a valid signed time for the lock's nonce, then forgeries and junk.
#[allow(
    clippy::result_large_err,
    reason = "tungstenite fixes the handshake callback's error type"
)]
async fn breached_channel(listener: tokio::net::TcpListener, world_lock: String, key: SigningKey) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let nonce = std::sync::Arc::new(std::sync::Mutex::new(None::<[u8; 32]>));
        let seen = nonce.clone();
        let callback =
            move |request: &tokio_tungstenite::tungstenite::handshake::server::Request,
                  response| {
                let header = request
                    .headers()
                    .get("x-doorstep-time-nonce")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| {
                        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v)
                            .ok()
                    })
                    .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
                *seen.lock().unwrap() = header;
                Ok(response)
            };
        // The lock's other requests (heartbeats, reports) are not WebSockets: dropped.
        let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
            continue;
        };
        let lock = world_lock.clone();
        let key = SigningKey::from_seed(&key.to_seed());
        let nonce = nonce.lock().unwrap().unwrap_or_default();
        tokio::spawn(async move {
            let time = Signed::sign(
                &CloudTime {
                    lock: LockId(lock.clone()),
                    nonce,
                    now: Timestamp::now(),
                },
                &key,
            );
            let forged_policy = Signed::sign(
                &DeliveryPolicy {
                    household: HouseholdId("any".into()),
                    version: 99,
                    locks: vec![LockId(lock.clone())],
                    carriers: vec![],
                    hours: WeeklyHours {
                        time_zone: "UTC".into(),
                        days: (1..=7).collect(),
                        from_minute: 0,
                        until_minute: 1440,
                    },
                    max_window_minutes: 120,
                    device: DeviceId("attacker".into()),
                    issued_at: Timestamp::now(),
                },
                &key,
            );
            let mut messages = vec![
                Message::text(json!({ "type": "hello", "protocol": 1, "lock_id": lock, "keepalive_secs": 15, "capabilities": [], "time": time.to_base64() }).to_string()),
                Message::text(json!({ "type": "policy", "policy": forged_policy.to_base64() }).to_string()),
                Message::text(json!({ "type": "revocation", "revocation": "bm90IGEgcmV2b2NhdGlvbg" }).to_string()),
                Message::text(json!({ "type": "hello", "keepalive_secs": 0, "time": 7 }).to_string()),
                Message::text("{\"type\": \"open_the_door\"}"),
                Message::text("[".repeat(10_000)),
                Message::text("not json at all"),
                Message::binary(vec![0u8; 1024]),
                Message::text(json!({ "type": "synced" }).to_string()),
            ];
            // And a flood: it must not fill the lock's disk.
            messages.extend((0..200).map(|n| Message::text(format!("{{\"type\": \"junk-{n}\"}}"))));
            for message in messages {
                if socket.send(message).await.is_err() {
                    return;
                }
            }
            // A message larger than a lock takes ends only this connection.
            let _ = socket.send(Message::text("x".repeat(1024 * 1024))).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
    }
}

#[tokio::test]
async fn forgeries_and_junk_from_a_breached_cloud_on_the_lock_channel_change_nothing_and_are_told()
{
    let mut world = World::start().await;
    let key = stolen_cloud_key(&world);
    let address = world.cloud.url.trim_start_matches("http://").to_owned();
    world.cloud.stop();
    let listener = tokio::net::TcpListener::bind(&address).await.unwrap();
    let fake = tokio::spawn(breached_channel(listener, world.lock_id.clone(), key));

    let journal = world.lock.data_dir.join("journal.jsonl");
    let refused = || {
        std::fs::read_to_string(&journal)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("message_refused"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let lines = eventually(
        "the lock to journal the forgeries",
        Duration::from_secs(20),
        || async {
            let lines = refused();
            (lines.len() >= 5).then_some(lines)
        },
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let lines = refused().len().max(lines.len());
    assert!(
        lines <= 10 + 1,
        "a flood journals at most ten refusals a minute, not {lines}"
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        text.contains("a policy not signed by the household"),
        "{text}"
    );
    assert!(
        !text.contains("policy_seen"),
        "the forged policy was not taken: {text}"
    );
    let status = world.lock_status().await;
    assert_eq!(status["bolt"], "locked", "{status}");

    // The honest cloud back: the refusals reach the household as alarms.
    fake.abort();
    let _ = fake.await;
    world.cloud = CloudProcess::start_on(&world.cloud.data_dir.clone(), &address).unwrap();
    let alarms = eventually(
        "the household to hear of it",
        Duration::from_secs(30),
        || async {
            let alarms = world.events_of("lock.message_refused").await;
            (!alarms.is_empty()).then_some(alarms)
        },
    )
    .await
    .unwrap();
    assert!(
        alarms.iter().any(|a| a["data"]["detail"]
            .to_string()
            .contains("not signed by the household")),
        "{alarms:?}"
    );
}
