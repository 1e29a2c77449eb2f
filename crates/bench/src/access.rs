//! Access requests per second on one cloud instance: each is a courier at the door
//! answering a lock's challenge — the cloud checks the courier's, the lock's and the
//! camera's signatures, moves the delivery to `granted`, signs a grant, and writes
//! the grant, the audit line and the event in one transaction.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use doorstep_proto::{
    CameraHeartbeat, CourierResponse, GrantSubject, LockChallenge, LockId, Signed, SigningKey,
    Timestamp,
};
use futures_util::StreamExt;
use rand_core::RngCore;
use serde_json::{Value, json};

use crate::devices::{announce, approve, create_household};

/// What one run measured.
#[derive(Debug)]
pub struct AccessRun {
    /// Granted requests per second, all in flight `concurrency` at a time.
    pub per_second: f64,
    /// Each request's round trip (ms).
    pub latencies: Vec<f64>,
    pub refused: usize,
    /// Announcing and approving the deliveries beforehand (s).
    pub setup_s: f64,
}

/// Pairs a lock to a new household of `cloud`, approves `requests` deliveries for it,
/// then asks for entry to each, `concurrency` at a time.
///
/// The lock's side is played by this bench with the lock's own keys: it issues the
/// challenges and keeps the camera's signed "recording" heartbeat fresh, as the agent
/// does while a courier stands at the door.
pub async fn measure(
    cloud: &str,
    carrier_key: &str,
    account: usize,
    requests: usize,
    concurrency: usize,
    lock_dir: &Path,
) -> anyhow::Result<AccessRun> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .build()?;
    let home = create_household(&http, cloud, account).await?;
    let code: Value = http
        .post(format!("{cloud}/v1/locks/pairing-codes"))
        .bearer_auth(&home.token)
        .json(&json!({ "name": "Bench door", "kind": "door" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    doorstep_lock::identity::Paired::pair(
        cloud,
        code["code"].as_str().context("pairing code")?,
        lock_dir,
        None,
    )
    .await?;
    let paired = Arc::new(doorstep_lock::identity::Paired::load(lock_dir)?);
    let lock_id = paired.identity.lock_id.clone();
    let heartbeats = {
        let (http, cloud, paired) = (http.clone(), cloud.to_owned(), paired.clone());
        tokio::spawn(async move {
            for frame_seq in 1.. {
                let beat = Signed::sign(
                    &CameraHeartbeat {
                        lock: LockId(paired.identity.lock_id.clone()),
                        recording: true,
                        frame_seq,
                        captured_at: Timestamp::now(),
                    },
                    &paired.camera_key,
                );
                let _ = http
                    .post(format!("{cloud}/v1/lock/heartbeats"))
                    .bearer_auth(&paired.token)
                    .json(&json!({ "heartbeat": beat.to_base64() }))
                    .send()
                    .await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    let courier = Arc::new(SigningKey::generate());
    let started = Instant::now();
    let deliveries: Vec<String> = futures_util::stream::iter(0..requests)
        .map(|n| {
            let (http, home, courier, lock_id) = (&http, &home, &courier, &lock_id);
            async move {
                let delivery = announce(
                    http,
                    cloud,
                    carrier_key,
                    &home.id,
                    &courier.public_key(),
                    &format!("ACCESS-{account}-{n}"),
                )
                .await?;
                approve(http, cloud, home, &delivery, lock_id).await?;
                anyhow::Ok(delivery["id"].as_str().unwrap_or_default().to_owned())
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let setup_s = started.elapsed().as_secs_f64();
    // The camera's first heartbeat is in before the first request.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let outcomes: Vec<(bool, f64)> = futures_util::stream::iter(deliveries)
        .map(|delivery_id| {
            let (http, paired, courier) = (&http, &paired, &courier);
            async move {
                let mut nonce = [0u8; 32];
                rand_core::OsRng.fill_bytes(&mut nonce);
                let lock = LockId(paired.identity.lock_id.clone());
                let challenge = Signed::sign(
                    &LockChallenge {
                        lock: lock.clone(),
                        nonce,
                        issued_at: Timestamp::now(),
                    },
                    &paired.lock_key,
                );
                let response = Signed::sign(
                    &CourierResponse {
                        lock,
                        nonce,
                        subject: GrantSubject::Delivery(delivery_id.as_str().into()),
                        responded_at: Timestamp::now(),
                    },
                    courier.as_ref(),
                );
                let t0 = Instant::now();
                let granted = http
                    .post(format!(
                        "{cloud}/v1/courier/deliveries/{delivery_id}/access"
                    ))
                    .json(&json!({
                        "challenge": challenge.to_base64(),
                        "response": response.to_base64(),
                    }))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                (granted, crate::ms(t0.elapsed()))
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    heartbeats.abort();
    let granted = outcomes.iter().filter(|(ok, _)| *ok).count();
    Ok(AccessRun {
        per_second: granted as f64 / elapsed,
        latencies: outcomes.iter().map(|(_, ms)| *ms).collect(),
        refused: outcomes.len() - granted,
        setup_s,
    })
}
