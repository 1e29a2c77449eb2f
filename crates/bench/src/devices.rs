//! Household devices as the cloud sees them: accounts, sessions, event streams,
//! and the carrier's and household's signed calls the measurements drive.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use doorstep_proto::{
    CourierResponse, DeliveryApproval, DeviceId, GrantSubject, HouseholdId, LockChallenge, LockId,
    PublicKey, Signed, SigningKey, TimeWindow, Timestamp,
};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Wall-clock milliseconds, with the fraction (the cloud stamps events in whole ms).
pub fn wall_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// An event as a device received it.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// Index of the household it belongs to.
    pub household: usize,
    /// Its kind (`None` for one this build does not know).
    pub kind: Option<doorstep_api::EventKind>,
    /// When the cloud committed it (its `at`, ms since the epoch).
    pub committed_at: i64,
    pub received: Instant,
    pub received_wall_ms: f64,
}

/// One household: its key, its first device's token.
pub struct Household {
    pub id: String,
    pub device_id: String,
    pub token: String,
    pub key: SigningKey,
}

pub async fn create_household(
    http: &reqwest::Client,
    cloud: &str,
    n: usize,
) -> anyhow::Result<Household> {
    let key = SigningKey::generate();
    let created: Value = http
        .post(format!("{cloud}/v1/accounts"))
        .json(&json!({
            "email": format!("bench-{n}@bench.invalid"),
            "auth_key": b64(&[7; 32]),
            "kdf_salt": b64(&[1; 16]),
            "household_public_key": key.public_key().to_base64(),
            "wrapped_household_key": b64(&[9; 73]),
            "time_zone": "Europe/Berlin",
            "device": { "name": "bench device 1", "public_key": SigningKey::generate().public_key().to_base64() },
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(Household {
        id: created["household_id"]
            .as_str()
            .context("household_id")?
            .to_owned(),
        device_id: created["device_id"]
            .as_str()
            .context("device_id")?
            .to_owned(),
        token: created["session"]["access_token"]
            .as_str()
            .context("token")?
            .to_owned(),
        key,
    })
}

/// A second device of the same login.
pub async fn second_device(
    http: &reqwest::Client,
    cloud: &str,
    n: usize,
) -> anyhow::Result<String> {
    let signed: Value = http
        .post(format!("{cloud}/v1/sessions"))
        .json(&json!({
            "email": format!("bench-{n}@bench.invalid"),
            "auth_key": b64(&[7; 32]),
            "device": { "name": "bench device 2", "public_key": SigningKey::generate().public_key().to_base64() },
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(signed["session"]["access_token"]
        .as_str()
        .context("token")?
        .to_owned())
}

/// Opens an event stream; every event is reported with its arrival time.
pub fn listen(
    http: reqwest::Client,
    cloud: String,
    token: String,
    household: usize,
    arrivals: mpsc::UnboundedSender<Arrival>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(response) = http
            .get(format!("{cloud}/v1/events/stream"))
            .bearer_auth(&token)
            .send()
            .await
        else {
            return;
        };
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            let (received, received_wall_ms) = (Instant::now(), wall_ms());
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let message: String = buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    message
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(str::to_owned)
                };
                let (Some(kind), Some(data)) = (field("event: "), field("data: ")) else {
                    continue;
                };
                let committed_at = serde_json::from_str::<Value>(&data)
                    .ok()
                    .and_then(|v| v["at"].as_i64())
                    .unwrap_or_default();
                let _ = arrivals.send(Arrival {
                    household,
                    kind: doorstep_api::EventKind::from_name(&kind),
                    committed_at,
                    received,
                    received_wall_ms,
                });
            }
        }
    })
}

pub async fn announce(
    http: &reqwest::Client,
    cloud: &str,
    carrier_key: &str,
    household: &str,
    courier: &PublicKey,
    tracking: &str,
) -> anyhow::Result<Value> {
    let now = Timestamp::now().0;
    Ok(http
        .post(format!("{cloud}/v1/carrier/shipments"))
        .bearer_auth(carrier_key)
        .json(&json!({
            "tracking_id": tracking,
            "household_id": household,
            "window": { "not_before": now - 60_000, "not_after": now + 3_600_000 },
            "courier_key": courier.to_base64(),
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

pub async fn approve(
    http: &reqwest::Client,
    cloud: &str,
    home: &Household,
    delivery: &Value,
    lock_id: &str,
) -> anyhow::Result<()> {
    let window = &delivery["window"];
    let approval = Signed::sign(
        &DeliveryApproval {
            household: HouseholdId(home.id.clone()),
            delivery: delivery["id"].as_str().unwrap_or_default().into(),
            lock: LockId(lock_id.to_owned()),
            carrier: delivery["carrier"].as_str().unwrap_or_default().to_owned(),
            courier: PublicKey::from_base64(delivery["courier_key"].as_str().unwrap_or_default())?,
            window: TimeWindow::new(
                Timestamp(window["not_before"].as_i64().unwrap_or_default()),
                Timestamp(window["not_after"].as_i64().unwrap_or_default()),
            ),
            device: DeviceId(home.device_id.clone()),
            approved_at: Timestamp::now(),
        },
        &home.key,
    );
    http.post(format!(
        "{cloud}/v1/deliveries/{}/approve",
        delivery["id"].as_str().unwrap_or_default()
    ))
    .bearer_auth(&home.token)
    .json(&json!({ "approval": approval.to_base64() }))
    .send()
    .await?
    .error_for_status()?;
    Ok(())
}

pub async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        if start.elapsed() > limit {
            bail!("timed out");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A one-time code to pair a lock to `home`.
pub async fn pairing_code(
    http: &reqwest::Client,
    cloud: &str,
    home: &Household,
    name: &str,
) -> anyhow::Result<String> {
    let code: Value = http
        .post(format!("{cloud}/v1/locks/pairing-codes"))
        .bearer_auth(&home.token)
        .json(&json!({ "name": name, "kind": "door" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    // The household's device shows the code with its key's fingerprint.
    Ok(format!(
        "{}-{}",
        code["code"].as_str().context("pairing code")?,
        home.key.public_key().fingerprint()
    ))
}

/// A courier at `lock` asking to come in for `delivery_id`: the lock's fresh
/// challenge (signed with `lock_key`) and the courier's signed answer to it,
/// as the body of the access request.
pub fn access_request(
    lock: &str,
    lock_key: &SigningKey,
    courier: &SigningKey,
    delivery_id: &str,
) -> Value {
    use rand_core::RngCore;
    let mut nonce = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut nonce);
    let lock = LockId(lock.to_owned());
    let challenge = Signed::sign(
        &LockChallenge {
            lock: lock.clone(),
            nonce,
            issued_at: Timestamp::now(),
        },
        lock_key,
    );
    let response = Signed::sign(
        &CourierResponse {
            lock,
            nonce,
            subject: GrantSubject::Delivery(delivery_id.into()),
            responded_at: Timestamp::now(),
        },
        courier,
    );
    json!({ "challenge": challenge.to_base64(), "response": response.to_base64() })
}
