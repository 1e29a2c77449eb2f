//! Deliveries end to end on the cloud: announce, approve (signed), block from two
//! devices at once, reroute with the carrier's webhook, and no cross-household access.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use doorstep_proto::*;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::stream::EventStream;
use crate::support::*;

/// What a carrier's webhook endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub idempotency_key: String,
    pub signature: String,
    pub body: String,
}

/// A carrier's webhook receiver on loopback; answers 500 to the first `fail_first` calls.
pub struct WebhookReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl WebhookReceiver {
    pub async fn start(fail_first: usize) -> Self {
        use axum::http::{HeaderMap, StatusCode};
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let calls = Arc::new(Mutex::new(0usize));
        let store = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let store = store.clone();
                let calls = calls.clone();
                async move {
                    let mut n = calls.lock().unwrap();
                    *n += 1;
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    store.lock().unwrap().push(Received {
                        idempotency_key: header("idempotency-key"),
                        signature: header("doorstep-signature"),
                        body,
                    });
                    if *n <= fail_first {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, received }
    }

    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the webhook received {} calls, expected {count}",
            self.received.lock().unwrap().len()
        );
    }
}

/// A household with two devices, a paired front-door lock, a carrier and an alternate address.
pub struct Scene {
    pub lock_key: SigningKey,
    pub camera_key: SigningKey,
    pub lock_token: String,
    pub cloud_key: PublicKey,
    pub household: Household,
    pub kitchen: Device,
    pub study: Device,
    pub lock_id: String,
    pub carrier_key: String,
    pub carrier_secret: String,
    pub carrier_name: String,
    /// The carrier's shipment-signing key (registered with the cloud).
    pub shipment_key: SigningKey,
    pub courier: SigningKey,
    pub address_id: String,
    pub webhook: WebhookReceiver,
}

impl Scene {
    pub async fn new(cloud: &TestCloud, email: &str, fail_webhooks: usize) -> Self {
        let (household, kitchen, study) = household_with_two_devices(cloud, email).await;
        let (status, code) = cloud
            .post(
                "/v1/locks/pairing-codes",
                Some(&kitchen.access),
                json!({ "name": "Front door", "kind": "door" }),
            )
            .await;
        assert_eq!(status, 201, "{code}");
        let lock_key = SigningKey::generate();
        let camera_key = SigningKey::generate();
        let (status, paired) = cloud
            .post(
                "/v1/locks/pair",
                None,
                json!({
                    "code": code["code"],
                    "lock_key": lock_key.public_key().to_base64(),
                    "camera_key": camera_key.public_key().to_base64(),
                }),
            )
            .await;
        assert_eq!(status, 201, "{paired}");
        assert_eq!(
            paired["household_public_key"],
            household.household_key.public_key().to_base64()
        );
        let webhook = WebhookReceiver::start(fail_webhooks).await;
        let carrier_name = format!("DHL-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
        let carrier = doorstep_cloud::operator::Operator::new(&cloud.state().db)
            .add_carrier(&carrier_name, Some(&webhook.url), true, Timestamp::now().0)
            .await
            .unwrap();
        let shipment_key = SigningKey::generate();
        doorstep_cloud::operator::Operator::new(&cloud.state().db)
            .add_carrier_key(
                &carrier_name,
                &shipment_key.public_key(),
                Timestamp::now().0,
            )
            .await
            .unwrap();
        let (status, address) = cloud
            .post("/v1/addresses", Some(&kitchen.access), json!({ "label": "Mrs Weber next door", "kind": "neighbour", "address": "Lindenstr. 3" }))
            .await;
        assert_eq!(status, 201, "{address}");
        Self {
            lock_token: paired["lock_token"].as_str().unwrap().into(),
            cloud_key: PublicKey::from_base64(paired["cloud_public_key"].as_str().unwrap())
                .unwrap(),
            lock_key,
            camera_key,
            household,
            kitchen,
            study,
            lock_id: paired["lock_id"].as_str().unwrap().into(),
            carrier_key: carrier.api_key,
            carrier_secret: carrier.webhook_secret,
            carrier_name,
            shipment_key,
            courier: SigningKey::generate(),
            address_id: address["id"].as_str().unwrap().into(),
            webhook,
        }
    }

    pub fn window(&self) -> Value {
        let now = Timestamp::now().0;
        json!({ "not_before": now - 60_000, "not_after": now + 3_600_000 })
    }

    /// The carrier's signed shipment for `tracking_id` in `window`, for this scene's courier.
    pub fn shipment(&self, tracking_id: &str, window: &Value, signer: &SigningKey) -> String {
        doorstep_courier::sign_shipment(
            &doorstep_courier::ShipmentFacts {
                carrier: &self.carrier_name,
                household_id: &self.kitchen.household_id,
                tracking_id,
                courier: self.courier.public_key(),
                not_before: window["not_before"].as_i64().unwrap(),
                not_after: window["not_after"].as_i64().unwrap(),
            },
            signer,
        )
    }

    /// Announces a shipment, signed by the carrier as every carrier does.
    pub async fn announce(&self, cloud: &TestCloud, tracking_id: &str) -> Value {
        let window = self.window();
        self.announce_with(
            cloud,
            tracking_id,
            Some(self.shipment(tracking_id, &window, &self.shipment_key)),
            window,
        )
        .await
    }

    /// Announces a shipment with the given (or no) carrier signature.
    pub async fn announce_with(
        &self,
        cloud: &TestCloud,
        tracking_id: &str,
        shipment: Option<String>,
        window: Value,
    ) -> Value {
        let (status, delivery) = cloud
            .post(
                "/v1/carrier/shipments",
                Some(&self.carrier_key),
                json!({
                    "tracking_id": tracking_id,
                    "household_id": self.kitchen.household_id,
                    "window": window,
                    "courier_key": self.courier.public_key().to_base64(),
                    "shipment": shipment,
                }),
            )
            .await;
        assert_eq!(status, 201, "{delivery}");
        delivery
    }

    pub fn approval(&self, delivery: &Value, device: &Device) -> DeliveryApproval {
        DeliveryApproval {
            household: HouseholdId(device.household_id.clone()),
            delivery: DeliveryId(delivery["id"].as_str().unwrap().into()),
            lock: LockId(self.lock_id.clone()),
            carrier: self.carrier_name.clone(),
            courier: self.courier.public_key(),
            window: TimeWindow::new(
                Timestamp(delivery["window"]["not_before"].as_i64().unwrap()),
                Timestamp(delivery["window"]["not_after"].as_i64().unwrap()),
            ),
            device: DeviceId(device.device_id.clone()),
            approved_at: Timestamp::now(),
        }
    }

    pub fn revocation(&self, delivery: &Value, device: &Device) -> String {
        Signed::sign(
            &Revocation {
                household: HouseholdId(device.household_id.clone()),
                lock: LockId(self.lock_id.clone()),
                target: RevocationTarget::Delivery(DeliveryId(
                    delivery["id"].as_str().unwrap().into(),
                )),
                device: DeviceId(device.device_id.clone()),
                issued_at: Timestamp::now(),
            },
            &self.household.household_key,
        )
        .to_base64()
    }
}

on_both_databases! {
    async fn an_announced_delivery_reaches_every_device_and_announcing_twice_is_harmless(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "announce@example.org", 0).await;
        let (_, page) = cloud.get("/v1/events", &scene.study.access).await;
        let last = page["last_seq"].as_i64().unwrap();
        let mut kitchen = EventStream::connect(&cloud, &scene.kitchen.access, Some(last)).await;
        let mut study = EventStream::connect(&cloud, &scene.study.access, Some(last)).await;

        let delivery = scene.announce(&cloud, "JJD0001").await;
        assert_eq!(delivery["state"], "announced");
        for stream in [&mut kitchen, &mut study] {
            let (_, kind, event) = stream.next().await;
            assert_eq!(kind, "delivery.announced");
            assert_eq!(event["data"]["tracking_id"], "JJD0001");
        }
        // Same announcement again: same delivery, no new event.
        let (status, again) = cloud
            .post("/v1/carrier/shipments", Some(&scene.carrier_key), json!({
                "tracking_id": "JJD0001",
                "household_id": scene.kitchen.household_id,
                "window": delivery["window"],
                "courier_key": scene.courier.public_key().to_base64(),
            }))
            .await;
        assert_eq!(status, 200);
        assert_eq!(again["id"], delivery["id"]);
        kitchen.nothing_more().await;
        // Different details under the same tracking id: refused.
        let (status, body) = cloud
            .post("/v1/carrier/shipments", Some(&scene.carrier_key), json!({
                "tracking_id": "JJD0001",
                "household_id": scene.kitchen.household_id,
                "window": scene.window(),
                "courier_key": SigningKey::generate().public_key().to_base64(),
            }))
            .await;
        assert_eq!(status, 409, "{body}");
        let (_, list) = cloud.get("/v1/deliveries", &scene.study.access).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn only_the_households_own_signature_approves(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "approve@example.org", 0).await;
        let delivery = scene.announce(&cloud, "JJD0002").await;
        let path = format!("/v1/deliveries/{}/approve", delivery["id"].as_str().unwrap());
        let approval = scene.approval(&delivery, &scene.kitchen);

        // Signed by the cloud's own key (a breach) — refused.
        let forged = Signed::sign(&approval, &cloud.state().cloud_key).to_base64();
        let (status, body) = cloud.post(&path, Some(&scene.kitchen.access), json!({ "approval": forged })).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["message"].as_str().unwrap().contains("household's key"), "{body}");

        // For another courier — refused.
        let mut other = approval.clone();
        other.courier = SigningKey::generate().public_key();
        let (status, body) = cloud
            .post(&path, Some(&scene.kitchen.access), json!({ "approval": Signed::sign(&other, &scene.household.household_key).to_base64() }))
            .await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().contains("courier"), "{body}");

        // The real one.
        let signed = Signed::sign(&approval, &scene.household.household_key).to_base64();
        let (status, approved) = cloud.post(&path, Some(&scene.kitchen.access), json!({ "approval": signed })).await;
        assert_eq!(status, 200, "{approved}");
        assert_eq!(approved["approved"], true);
        assert_eq!(approved["approved_by"], scene.kitchen.device_id.as_str());
        assert_eq!(approved["lock_id"], scene.lock_id.as_str());
        // Approving twice changes nothing.
        let (status, again) = cloud.post(&path, Some(&scene.kitchen.access), json!({ "approval": signed })).await;
        assert_eq!(status, 200);
        assert_eq!(again["revision"], approved["revision"]);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn block_pressed_on_two_devices_at_once_blocks_once(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "block@example.org", 0).await;
        let delivery = scene.announce(&cloud, "JJD0003").await;
        let id = delivery["id"].as_str().unwrap();
        let (_, page) = cloud.get("/v1/events", &scene.study.access).await;
        let mut stream = EventStream::connect(&cloud, &scene.study.access, page["last_seq"].as_i64()).await;

        let path = format!("/v1/deliveries/{id}/block");
        let kitchen_body = json!({ "revocation": scene.revocation(&delivery, &scene.kitchen) });
        let study_body = json!({ "revocation": scene.revocation(&delivery, &scene.study) });
        let (a, b) = tokio::join!(
            cloud.post(&path, Some(&scene.kitchen.access), kitchen_body),
            cloud.post(&path, Some(&scene.study.access), study_body),
        );
        assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
        assert_eq!(a.1["state"], "blocked");
        assert_eq!(b.1["state"], "blocked");

        let (_, kind, event) = stream.next().await;
        assert_eq!(kind, "delivery.blocked");
        assert!(event["device_id"] == scene.kitchen.device_id.as_str() || event["device_id"] == scene.study.device_id.as_str());
        stream.nothing_more().await;
        let (_, audit) = cloud.get("/v1/audit?action_prefix=delivery.blocked", &scene.kitchen.access).await;
        assert_eq!(audit.as_array().unwrap().len(), 1, "blocked once: {audit}");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_reroute_reaches_the_carrier_once_signed_and_retried(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        // The carrier's endpoint fails twice before it accepts.
        let scene = Scene::new(&cloud, "reroute@example.org", 2).await;
        let delivery = scene.announce(&cloud, "JJD0004").await;
        let path = format!("/v1/deliveries/{}/reroute", delivery["id"].as_str().unwrap());
        let (status, rerouted) = cloud.post(&path, Some(&scene.kitchen.access), json!({ "address_id": scene.address_id })).await;
        assert_eq!(status, 200, "{rerouted}");
        assert_eq!(rerouted["state"], "rerouted");
        assert_eq!(rerouted["rerouted_to"]["label"], "Mrs Weber next door");
        // Pressed again on the other device: same answer, no second notice.
        let (status, _) = cloud.post(&path, Some(&scene.study.access), json!({ "address_id": scene.address_id })).await;
        assert_eq!(status, 200);

        let calls = scene.webhook.wait_for(3).await;
        assert!(calls.iter().all(|c| c.idempotency_key == calls[0].idempotency_key), "one notice, retried");
        let last = calls.last().unwrap();
        let body: Value = serde_json::from_str(&last.body).unwrap();
        assert_eq!(body["tracking_id"], "JJD0004");
        assert_eq!(body["address"]["address"], "Lindenstr. 3");
        // The signature checks out with the carrier's secret.
        let t: i64 = last.signature.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
        assert_eq!(last.signature, doorstep_cloud::webhook_signature(&scene.carrier_secret, t, &last.body));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(scene.webhook.received.lock().unwrap().len(), 3, "no further calls once accepted");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn another_household_cannot_read_or_act_on_a_delivery_by_id(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "victim@example.org", 0).await;
        let delivery = scene.announce(&cloud, "JJD0005").await;
        let id = delivery["id"].as_str().unwrap();
        let intruder = Scene::new(&cloud, "intruder@example.org", 0).await;

        let (status, body) = cloud.get(&format!("/v1/deliveries/{id}"), &intruder.kitchen.access).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
        let (status, _) = cloud
            .post(&format!("/v1/deliveries/{id}/block"), Some(&intruder.kitchen.access), json!({ "revocation": intruder.revocation(&delivery, &intruder.kitchen) }))
            .await;
        assert!(status == 404 || status == 400, "{status}");
        let (status, _) = cloud
            .post(&format!("/v1/deliveries/{id}/reroute"), Some(&intruder.kitchen.access), json!({ "address_id": intruder.address_id }))
            .await;
        assert_eq!(status, 404);
        // The victim's own address cannot be used by the intruder either.
        let (status, _) = cloud
            .post(&format!("/v1/deliveries/{id}/reroute"), Some(&intruder.kitchen.access), json!({ "address_id": scene.address_id }))
            .await;
        assert_eq!(status, 404);
        let (_, untouched) = cloud.get(&format!("/v1/deliveries/{id}"), &scene.kitchen.access).await;
        assert_eq!(untouched["state"], "announced");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_pairing_code_works_once(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let (_, kitchen, _) = household_with_two_devices(&cloud, "pair@example.org").await;
        let (_, code) = cloud.post("/v1/locks/pairing-codes", Some(&kitchen.access), json!({ "name": "Garage", "kind": "garage" })).await;
        let pair = json!({
            "code": code["code"],
            "lock_key": SigningKey::generate().public_key().to_base64(),
            "camera_key": SigningKey::generate().public_key().to_base64(),
        });
        let (status, paired) = cloud.post("/v1/locks/pair", None, pair.clone()).await;
        assert_eq!(status, 201);
        assert_eq!(paired["kind"], "garage");
        assert_eq!(paired["cloud_public_key"], cloud.state().cloud_key.public_key().to_base64());
        let (status, _) = cloud.post("/v1/locks/pair", None, pair).await;
        assert_eq!(status, 404, "a used code pairs nothing");
        let (_, locks) = cloud.get("/v1/locks", &kitchen.access).await;
        assert_eq!(locks.as_array().unwrap().len(), 1);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn approaching_follows_the_eta_and_the_households_lead_time_then_the_window_expires(backend: Backend) {
        let Some(cloud) = TestCloud::start_with_manual_clock(backend).await else { return };
        let clock = cloud.clock.clone().unwrap();
        let scene = Scene::new(&cloud, "eta@example.org", 0).await;
        let (status, household) = cloud
            .call(reqwest::Method::PATCH, "/v1/household", Some(&scene.kitchen.access), Some(json!({ "lead_time_minutes": 15 })))
            .await;
        assert_eq!(status, 200, "{household}");
        assert_eq!(household["lead_time_minutes"], 15);
        let (status, body) = cloud
            .call(reqwest::Method::PATCH, "/v1/household", Some(&scene.kitchen.access), Some(json!({ "lead_time_minutes": 0 })))
            .await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().starts_with("field `lead_time_minutes`"));
        let (_, page) = cloud.get("/v1/events", &scene.study.access).await;
        let mut stream = EventStream::connect(&cloud, &scene.study.access, page["last_seq"].as_i64()).await;

        let delivery = scene.announce(&cloud, "JJD0006").await;
        assert_eq!(stream.next().await.1, "delivery.announced");
        let now = clock.read().now;
        let (status, body) = cloud
            .post("/v1/carrier/shipments/JJD0006/eta", Some(&scene.carrier_key), json!({ "eta": now.0 + 40 * 60_000 }))
            .await;
        assert_eq!(status, 204, "{body}");
        stream.nothing_more().await;

        clock.advance(Duration::from_secs(26 * 60)); // ETA now 14 minutes away.
        let (_, kind, event) = stream.next().await;
        assert_eq!(kind, "delivery.approaching");
        assert_eq!(event["data"]["minutes"], 14);
        assert_eq!(event["data"]["delivery_id"], delivery["id"]);

        clock.advance(Duration::from_secs(2 * 3600)); // Past the window.
        let (_, kind, _) = stream.next().await;
        assert_eq!(kind, "delivery.expired");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn numbers_at_their_extremes_are_refused_and_a_bad_stored_row_stops_no_timer(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "extremes@example.org", 0).await;
        let announce = |tracking_id: &str, window: Value, eta: Value| {
            json!({
                "tracking_id": tracking_id,
                "household_id": scene.kitchen.household_id,
                "window": window,
                "courier_key": scene.courier.public_key().to_base64(),
                "eta": eta,
            })
        };
        let refused = |(status, body): (u16, Value), field: &str| {
            assert_eq!(status, 400, "{body}");
            assert_eq!(body["code"], "invalid_request", "{body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.starts_with(&format!("field `{field}`")), "{body}");
        };
        let carrier = Some(scene.carrier_key.as_str());
        for (window, field) in [
            (json!({ "not_before": -1, "not_after": i64::MAX }), "window.not_after"),
            (json!({ "not_before": -1, "not_after": 1 }), "window.not_before"),
            (json!({ "not_before": 0, "not_after": i64::MAX }), "window.not_after"),
            (json!({ "not_before": i64::MIN, "not_after": 0 }), "window.not_before"),
        ] {
            refused(cloud.post("/v1/carrier/shipments", carrier, announce("JJD9001", window, Value::Null)).await, field);
        }
        for eta in [json!(i64::MIN), json!(i64::MAX), json!(-1)] {
            refused(cloud.post("/v1/carrier/shipments", carrier, announce("JJD9002", scene.window(), eta)).await, "eta");
        }
        let far = scene.window()["not_after"].as_i64().unwrap() + 3 * 24 * 3600 * 1000;
        refused(cloud.post("/v1/carrier/shipments", carrier, announce("JJD9003", scene.window(), json!(far))).await, "eta");
        refused(cloud.post("/v1/carrier/shipments", carrier, announce("../../etc", scene.window(), Value::Null)).await, "tracking_id");
        let (_, list) = cloud.get("/v1/deliveries", &scene.study.access).await;
        assert_eq!(list.as_array().unwrap().len(), 0, "nothing half-written: {list}");

        scene.announce(&cloud, "JJD9004").await;
        for eta in [json!(i64::MIN), json!(i64::MAX), json!(far)] {
            refused(cloud.post("/v1/carrier/shipments/JJD9004/eta", carrier, json!({ "eta": eta })).await, "eta");
        }
        for seq in [json!(i64::MAX), json!(-1), json!(u64::MAX)] {
            let body = json!({ "seq": seq, "kind": "booted", "at": Timestamp::now().0 });
            refused(cloud.post("/v1/lock/reports", Some(&scene.lock_token), body).await, "seq");
        }
        let body = json!({ "seq": 1, "kind": "booted", "at": i64::MIN });
        refused(cloud.post("/v1/lock/reports", Some(&scene.lock_token), body).await, "at");

        // A row stored before these checks (an ETA of -2^63) stops no timer:
        // another delivery still becomes "approaching".
        sqlx::query("UPDATE deliveries SET eta = $1 WHERE tracking_id = 'JJD9004'")
            .bind(i64::MIN)
            .execute(&cloud.state().db.pool)
            .await
            .unwrap();
        let (_, page) = cloud.get("/v1/events", &scene.study.access).await;
        let mut stream = EventStream::connect(&cloud, &scene.study.access, page["last_seq"].as_i64()).await;
        let soon = scene.announce(&cloud, "JJD9005").await;
        assert_eq!(stream.next().await.1, "delivery.announced");
        let (status, body) = cloud
            .post("/v1/carrier/shipments/JJD9005/eta", carrier, json!({ "eta": Timestamp::now().0 + 30_000 }))
            .await;
        assert_eq!(status, 204, "{body}");
        let mut approached = Vec::new();
        while approached.len() < 2 {
            let (_, kind, event) = stream.next().await;
            if kind == "delivery.approaching" {
                approached.push(event["data"]["delivery_id"].as_str().unwrap().to_owned());
            }
        }
        assert!(approached.contains(&soon["id"].as_str().unwrap().to_owned()), "{approached:?}");
        let (status, _) = cloud.get("/healthz", "").await;
        assert_eq!(status, 200);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn webhooks_reach_only_public_addresses_and_never_follow_a_redirect(backend: Backend) {
        // A cloud as deployed: webhooks only to public addresses.
        let Some(cloud) = TestCloud::start_with(backend, |s| s.webhooks_allow_private = false, false).await else { return };
        for inside in [
            "http://169.254.169.254/latest/meta-data/",
            "http://localhost:9000/hook",
            "http://[::1]:9000/hook",
            "http://10.0.0.7/hook",
            "http://192.168.1.20/hook",
        ] {
            let refused = doorstep_cloud::operator::Operator::new(&cloud.state().db).add_carrier("Inside", Some(inside), false, Timestamp::now().0).await;
            let message = refused.expect_err(inside).to_string();
            assert!(message.contains("not a public address"), "{inside}: {message}");
        }
        // A URL stored before the rule (or under other settings) is not called either.
        let scene = Scene::new(&cloud, "ssrf@example.org", 0).await;
        let delivery = scene.announce(&cloud, "JJD0051").await;
        let path = format!("/v1/deliveries/{}/reroute", delivery["id"].as_str().unwrap());
        let (status, body) = cloud.post(&path, Some(&scene.kitchen.access), json!({ "address_id": scene.address_id })).await;
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(scene.webhook.received.lock().unwrap().is_empty(), "the cloud called a loopback webhook");
        let error: Option<String> = sqlx::query_scalar("SELECT last_error FROM webhook_outbox")
            .fetch_one(&cloud.state().db.pool)
            .await
            .unwrap();
        assert!(error.unwrap_or_default().contains("not a public address"));
        cloud.finish().await;

        // Allowed to reach loopback (a test setup), a redirect is still not followed.
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let target = WebhookReceiver::start(0).await;
        let location = target.url.clone();
        let redirecting = axum::Router::new().route(
            "/hook",
            axum::routing::post(move || {
                let location = location.clone();
                async move { (axum::http::StatusCode::TEMPORARY_REDIRECT, [("location", location)]) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let redirect_url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, redirecting).await.unwrap() });
        let scene = Scene::new(&cloud, "redirect@example.org", 0).await;
        sqlx::query("UPDATE carriers SET webhook_url = $1 WHERE name = $2")
            .bind(&redirect_url)
            .bind(&scene.carrier_name)
            .execute(&cloud.state().db.pool)
            .await
            .unwrap();
        let delivery = scene.announce(&cloud, "JJD0052").await;
        let path = format!("/v1/deliveries/{}/reroute", delivery["id"].as_str().unwrap());
        let (status, body) = cloud.post(&path, Some(&scene.kitchen.access), json!({ "address_id": scene.address_id })).await;
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(target.received.lock().unwrap().is_empty(), "the cloud followed a redirect");
        cloud.finish().await;
    }
}
