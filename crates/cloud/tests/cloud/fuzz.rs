//! Every handler's body, every query, the lock channel and the video socket fed
//! arbitrary input: numbers at their extremes, wrong types, deep nesting, huge
//! strings, garbage frames. Nothing may answer 5xx, and the cloud must keep
//! serving the household afterwards. (Run by `make test`; `make fuzz` runs the
//! byte-level cargo-fuzz targets of the decoders.)

use futures_util::SinkExt;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::deliveries::Scene;
use crate::on_both_databases;
use crate::support::*;

/// Every field name a request body knows, so generated objects often hit real fields.
const KEYS: &[&str] = &[
    "email",
    "auth_key",
    "kdf_salt",
    "household_public_key",
    "wrapped_household_key",
    "time_zone",
    "device",
    "name",
    "public_key",
    "totp",
    "refresh_token",
    "recovery",
    "recovery_auth_key",
    "code",
    "lock_key",
    "camera_key",
    "kind",
    "label",
    "address",
    "tracking_id",
    "household_id",
    "window",
    "not_before",
    "not_after",
    "courier_key",
    "eta",
    "shipment",
    "approval",
    "revocation",
    "address_id",
    "heartbeat",
    "seq",
    "delivery_id",
    "guest_id",
    "at",
    "detail",
    "challenge",
    "response",
    "invitation",
    "policy",
    "lead_time_minutes",
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(i64::MIN)),
        Just(json!(i64::MAX)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1e308)),
        Just(json!(-0.5)),
        any::<i64>().prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        ".{0,24}".prop_map(Value::from),
        "[A-Za-z0-9_-]{40,60}".prop_map(Value::from),
        Just(Value::from("x".repeat(10_000))),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(String::from),
                        "[a-z_]{1,8}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// A body: mostly objects of known fields, sometimes anything at all.
fn request_body() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::collection::vec((prop::sample::select(KEYS).prop_map(String::from), json_value()), 0..8)
            .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        1 => json_value(),
    ]
}

fn sample<T: std::fmt::Debug>(runner: &mut TestRunner, strategy: &impl Strategy<Value = T>) -> T {
    strategy.new_tree(runner).unwrap().current()
}

on_both_databases! {
    async fn arbitrary_bodies_queries_and_messages_never_answer_5xx(backend: Backend) {
        let Some(cloud) = TestCloud::start_with(backend, |s| {
            // Floods of bogus requests are the point here, not the limits.
            s.accounts_per_address_per_hour = 0;
            s.pairings_per_address_per_minute = 0;
            s.access_requests_per_address_per_minute = 0;
        }, false).await else { return };
        let scene = Scene::new(&cloud, "fuzz@example.org", 0).await;
        let delivery = scene.announce(&cloud, "JJD-FUZZ").await;
        let id = delivery["id"].as_str().unwrap().to_owned();
        let device = scene.kitchen.access.clone();
        let routes: Vec<(reqwest::Method, String, Option<String>)> = vec![
            (reqwest::Method::POST, "/v1/accounts".into(), None),
            (reqwest::Method::POST, "/v1/sessions".into(), None),
            (reqwest::Method::POST, "/v1/sessions/refresh".into(), None),
            (reqwest::Method::POST, "/v1/accounts/recovery/open".into(), None),
            (reqwest::Method::POST, "/v1/accounts/recovery/reset".into(), None),
            (reqwest::Method::PUT, "/v1/accounts/recovery".into(), Some(device.clone())),
            (reqwest::Method::POST, "/v1/account/totp".into(), Some(device.clone())),
            (reqwest::Method::POST, "/v1/account/totp/confirm".into(), Some(device.clone())),
            (reqwest::Method::POST, "/v1/addresses".into(), Some(device.clone())),
            (reqwest::Method::POST, "/v1/locks/pairing-codes".into(), Some(device.clone())),
            (reqwest::Method::POST, "/v1/locks/pair".into(), None),
            (reqwest::Method::POST, "/v1/carrier/shipments".into(), Some(scene.carrier_key.clone())),
            (reqwest::Method::POST, "/v1/carrier/shipments/JJD-FUZZ/eta".into(), Some(scene.carrier_key.clone())),
            (reqwest::Method::PATCH, "/v1/household".into(), Some(device.clone())),
            (reqwest::Method::PUT, "/v1/household/policy".into(), Some(device.clone())),
            (reqwest::Method::POST, "/v1/lock/heartbeats".into(), Some(scene.lock_token.clone())),
            (reqwest::Method::POST, "/v1/lock/reports".into(), Some(scene.lock_token.clone())),
            (reqwest::Method::POST, format!("/v1/courier/deliveries/{id}/access"), None),
            (reqwest::Method::POST, "/v1/guests".into(), Some(device.clone())),
            (reqwest::Method::POST, "/v1/guest/someone/access".into(), None),
            (reqwest::Method::POST, format!("/v1/deliveries/{id}/approve"), Some(device.clone())),
            (reqwest::Method::POST, format!("/v1/deliveries/{id}/block"), Some(device.clone())),
            (reqwest::Method::POST, format!("/v1/deliveries/{id}/reroute"), Some(device.clone())),
            (reqwest::Method::POST, "/v1/sessions/current/confirm".into(), Some(device.clone())),
            (reqwest::Method::POST, "/v1/guests/someone/revoke".into(), Some(device.clone())),
            (reqwest::Method::POST, "/v1/lock/alive".into(), Some(scene.lock_token.clone())),
        ];
        let mut runner = TestRunner::new(Config { cases: 1, ..Config::default() });
        let bodies = request_body();
        // `make fuzz` raises the rounds (DOORSTEP_FUZZ_ROUNDS).
        let rounds: usize = std::env::var("DOORSTEP_FUZZ_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(40);
        for (method, path, token) in &routes {
            for _ in 0..rounds {
                let body = sample(&mut runner, &bodies);
                let (status, answer) = cloud.call(method.clone(), path, token.as_deref(), Some(body.clone())).await;
                assert!(status < 500, "{method} {path} with {body} answered {status}: {answer}");
            }
        }

        // Queries and path parameters.
        let text = "[ -~]{0,30}";
        for _ in 0..60 {
            let junk: String = sample(&mut runner, &text);
            let junk = urlencode(&junk);
            let n: Value = sample(&mut runner, &number());
            for path in [
                format!("/v1/events?after={n}&limit={n}"),
                format!("/v1/audit?limit={n}&action_prefix={junk}"),
                format!("/v1/recordings?delivery_id={junk}"),
                format!("/v1/recordings/{junk}/frame?at={n}"),
                format!("/v1/deliveries/{junk}"),
                format!("/v1/carrier/shipments/{junk}"),
            ] {
                let token = if path.starts_with("/v1/carrier") { &scene.carrier_key } else { &device };
                let (status, answer) = cloud.get(&path, token).await;
                assert!(status < 500, "GET {path} answered {status}: {answer}");
            }
        }

        // The lock channel and the video socket: garbage in, nobody else hurt.
        let ws = |path: &str| {
            let mut request = cloud.url(path).replacen("http", "ws", 1).into_client_request().unwrap();
            request.headers_mut().insert("authorization", format!("Bearer {}", scene.lock_token).parse().unwrap());
            request
        };
        let (mut channel, _) = tokio_tungstenite::connect_async(ws("/v1/lock/connect")).await.unwrap();
        let (mut video, _) = tokio_tungstenite::connect_async(ws("/v1/lock/video")).await.unwrap();
        let bytes = prop::collection::vec(any::<u8>(), 0..2048);
        for _ in 0..100 {
            let text = sample(&mut runner, &json_value()).to_string();
            let _ = channel.send(Message::text(text)).await;
            let mut frame: Vec<u8> = sample(&mut runner, &bytes);
            if frame.len() > 18 && sample(&mut runner, &any::<bool>()) {
                // A plausible header with extreme numbers, then a JPEG marker.
                let seq: u64 = sample(&mut runner, &any::<u64>());
                frame[0..8].copy_from_slice(&seq.to_be_bytes());
                let at = [i64::MIN, i64::MAX, -1, 0][usize::from(frame[8] % 4)];
                frame[8..16].copy_from_slice(&at.to_be_bytes());
                frame[16] = 0xFF;
                frame[17] = 0xD8;
            }
            let _ = video.send(Message::binary(frame)).await;
        }
        drop((channel, video));

        let (status, _) = cloud.get("/healthz", "").await;
        assert_eq!(status, 200, "the cloud is still healthy");
        let (status, list) = cloud.get("/v1/deliveries", &device).await;
        assert_eq!(status, 200, "{list}");
        cloud.finish().await;
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
