//! Access requests per second on one cloud instance: each is a courier at the door
//! answering a lock's challenge — the cloud checks the courier's, the lock's and the
//! camera's signatures, moves the delivery to `granted`, signs a grant, and writes
//! the grant, the audit line and the event in one transaction.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use doorstep_proto::{CameraHeartbeat, LockId, Signed, SigningKey, Timestamp};
use futures_util::StreamExt;
use serde_json::json;

use crate::devices::{access_request, announce, approve, create_household, pairing_code};

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

/// A household of the run: its device, its paired lock (keys loaded), and the
/// camera heartbeats kept fresh for it.
struct Door {
    home: crate::devices::Household,
    paired: Arc<doorstep_lock::identity::Paired>,
    heartbeats: tokio::task::JoinHandle<()>,
}

/// Pairs a lock to a new household of `cloud` (account number `account`) and keeps
/// its camera's signed "recording" heartbeat fresh, as the agent does while a
/// courier stands at the door.
async fn door(
    http: &reqwest::Client,
    cloud: &str,
    account: usize,
    lock_dir: &Path,
) -> anyhow::Result<Door> {
    let home = create_household(http, cloud, account).await?;
    let code = pairing_code(http, cloud, &home, "Bench door").await?;
    doorstep_lock::identity::Paired::pair(cloud, &code, lock_dir, None).await?;
    let paired = Arc::new(doorstep_lock::identity::Paired::load(lock_dir)?);
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
    Ok(Door {
        home,
        paired,
        heartbeats,
    })
}

/// `households` households with a lock each; approves `requests` deliveries spread
/// over them, then asks for entry to each, `concurrency` at a time. (Couriers of
/// many households, as one instance sees them: one household's events are numbered
/// in one sequence, so a single household's requests would queue on it.)
///
/// The locks' side is played by this bench with each lock's own keys: it issues the
/// challenges and sends the camera heartbeats.
pub async fn measure(
    cloud: &str,
    carrier_key: &str,
    first_account: usize,
    households: usize,
    requests: usize,
    concurrency: usize,
    lock_dir: &Path,
) -> anyhow::Result<AccessRun> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .build()?;
    let mut doors = Vec::with_capacity(households);
    for n in 0..households.max(1) {
        doors.push(
            door(
                &http,
                cloud,
                first_account + n,
                &lock_dir.join(n.to_string()),
            )
            .await?,
        );
    }

    let courier = Arc::new(SigningKey::generate());
    let all = &doors;
    let started = Instant::now();
    let deliveries: Vec<(usize, String)> = futures_util::stream::iter(0..requests)
        .map(|n| {
            let (http, door, courier) = (&http, &all[n % all.len()], &courier);
            async move {
                let delivery = announce(
                    http,
                    cloud,
                    carrier_key,
                    &door.home.id,
                    &courier.public_key(),
                    &format!("ACCESS-{first_account}-{n}"),
                )
                .await?;
                approve(
                    http,
                    cloud,
                    &door.home,
                    &delivery,
                    &door.paired.identity.lock_id,
                )
                .await?;
                anyhow::Ok((
                    n % all.len(),
                    delivery["id"].as_str().unwrap_or_default().to_owned(),
                ))
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let setup_s = started.elapsed().as_secs_f64();
    // Every camera's first heartbeat is in before the first request.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let outcomes: Vec<(bool, f64)> = futures_util::stream::iter(deliveries)
        .map(|(door, delivery_id)| {
            let (http, paired, courier) = (&http, &all[door].paired, &courier);
            async move {
                let body = access_request(
                    &paired.identity.lock_id,
                    &paired.lock_key,
                    courier,
                    &delivery_id,
                );
                let t0 = Instant::now();
                let granted = http
                    .post(format!(
                        "{cloud}/v1/courier/deliveries/{delivery_id}/access"
                    ))
                    .json(&body)
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
    for door in doors {
        door.heartbeats.abort();
    }
    let granted = outcomes.iter().filter(|(ok, _)| *ok).count();
    Ok(AccessRun {
        per_second: granted as f64 / elapsed,
        latencies: outcomes.iter().map(|(_, ms)| *ms).collect(),
        refused: outcomes.len() - granted,
        setup_s,
    })
}
