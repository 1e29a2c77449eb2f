//! `doorstep-bench`: SPEC §8 measured on the whole system, on loopback.
//!
//! The cloud, a lock with its camera, the courier and the carrier run here as the
//! same libraries the binaries are made of; household devices are real event-stream
//! and live-video connections. Every number printed comes from this run. What the
//! slice does not measure yet is listed under the table, not guessed.
#![allow(clippy::print_stdout, reason = "a bench prints its table")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use clap::Parser;
use doorstep_proto::{
    DeliveryApproval, DeviceId, HouseholdId, LockId, PublicKey, Revocation, RevocationTarget,
    Signed, SigningKey, TimeWindow, Timestamp,
};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

#[derive(Debug, Parser)]
#[command(
    name = "doorstep-bench",
    about = "Measures SPEC §8 on loopback and prints a table"
)]
struct Args {
    /// A few samples only: checks that every measurement runs, says nothing about speed.
    #[arg(long)]
    smoke: bool,
    /// Households connected (two devices each) for the fan-out measurement.
    #[arg(long)]
    households: Option<usize>,
    /// Where the JSON goes.
    #[arg(long, default_value = "target/bench")]
    out: std::path::PathBuf,
}

#[derive(Debug, serde::Serialize)]
struct Row {
    metric: String,
    target: String,
    unit: &'static str,
    samples: usize,
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
    verdict: &'static str,
    note: String,
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

fn row(
    metric: &str,
    target: &str,
    limit: Option<(f64, f64)>,
    mut values: Vec<f64>,
    note: &str,
) -> Row {
    values.sort_by(f64::total_cmp);
    let (p50, p95, p99) = (
        percentile(&values, 50.0),
        percentile(&values, 95.0),
        percentile(&values, 99.0),
    );
    // `limit` is (percentile, bound in ms).
    let verdict = match (limit, values.is_empty()) {
        (_, true) => "not measured",
        (None, false) => "see note",
        (Some((p, bound)), false) => {
            if percentile(&values, p).is_some_and(|v| v <= bound) {
                "met"
            } else {
                "missed"
            }
        }
    };
    Row {
        metric: metric.into(),
        target: target.into(),
        unit: "ms",
        samples: values.len(),
        p50,
        p95,
        p99,
        verdict,
        note: note.into(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One household: its key, its first device's token.
struct Household {
    id: String,
    device_id: String,
    token: String,
    key: SigningKey,
}

async fn create_household(
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
async fn second_device(http: &reqwest::Client, cloud: &str, n: usize) -> anyhow::Result<String> {
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

/// Opens an event stream; every event's kind is reported with its arrival time.
fn listen(
    http: reqwest::Client,
    cloud: String,
    token: String,
    household: usize,
    arrivals: mpsc::UnboundedSender<(usize, String, Instant)>,
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
            let now = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let message: String = buffer.drain(..end + 2).collect();
                if let Some(kind) = message.lines().find_map(|l| l.strip_prefix("event: ")) {
                    let _ = arrivals.send((household, kind.to_owned(), now));
                }
            }
        }
    })
}

async fn announce(
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

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let households = args.households.unwrap_or(if args.smoke { 3 } else { 1000 });
    let samples = if args.smoke { 2 } else { 200 };
    let entries = if args.smoke { 1 } else { 10 };
    let dir = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let cloud_handle = doorstep_cloud::start(
        listener,
        doorstep_cloud::Settings {
            data_dir: dir.path().join("cloud"),
            ..doorstep_cloud::Settings::default()
        },
    )
    .await?;
    let cloud = format!("http://{}", cloud_handle.addr);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let carrier = doorstep_cloud::carriers::create(
        &cloud_handle.state.db,
        "BenchPost",
        None,
        Timestamp::now().0,
    )
    .await?;
    let carrier_key = carrier.api_key;

    println!(
        "# doorstep-bench {}",
        if args.smoke {
            "(smoke: checks that it runs, not how fast)"
        } else {
            ""
        }
    );
    println!(
        "machine: {} cores, {} MiB memory; build: {}; households: {households} × 2 devices; samples: {samples}; entries: {entries}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory_mib(),
        if cfg!(debug_assertions) {
            "debug (numbers are not representative)"
        } else {
            "release"
        },
    );

    // ---- fan-out: an event for one household reaches both of its devices ----
    let started = Instant::now();
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel();
    let mut homes = Vec::with_capacity(households);
    let mut streams = Vec::new();
    for n in 0..households {
        let home = create_household(&http, &cloud, n).await?;
        let second = second_device(&http, &cloud, n).await?;
        for token in [home.token.clone(), second] {
            streams.push(listen(
                http.clone(),
                cloud.clone(),
                token,
                n,
                arrivals_tx.clone(),
            ));
        }
        homes.push(home);
    }
    let setup = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    while arrivals.try_recv().is_ok() {}
    let courier_key = SigningKey::generate();
    let mut fanout = Vec::new();
    for s in 0..samples {
        let n = s % households;
        let t0 = Instant::now();
        announce(
            &http,
            &cloud,
            &carrier_key,
            &homes[n].id,
            &courier_key.public_key(),
            &format!("FAN-{s}"),
        )
        .await?;
        let mut got = 0;
        while got < 2 {
            let (household, kind, at) =
                tokio::time::timeout(Duration::from_secs(10), arrivals.recv())
                    .await
                    .context("an event never reached a device")?
                    .context("streams ended")?;
            if household == n && kind == "delivery.announced" {
                fanout.push(ms(at - t0));
                got += 1;
            }
        }
    }
    let mut rows = vec![row(
        &format!(
            "event → every device of that household ({households} households × 2 devices connected)"
        ),
        "p99 ≤ 25 ms",
        Some((99.0, 25.0)),
        fanout,
        &format!(
            "trigger: the carrier's announcement (same path as at-door: write + event + stream); popup call not included; {households} households set up in {:.1} s",
            setup.as_secs_f64()
        ),
    )];

    // ---- one household with a real lock and camera ----
    let home = &homes[0];
    let code: Value = http
        .post(format!("{cloud}/v1/locks/pairing-codes"))
        .bearer_auth(&home.token)
        .json(&json!({ "name": "Front door", "kind": "door" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let lock_dir = dir.path().join("lock");
    doorstep_lock::identity::Paired::pair(
        &cloud,
        code["code"].as_str().context("code")?,
        &lock_dir,
        None,
    )
    .await?;
    let agent = doorstep_lock::agent::Agent::open(&lock_dir)?;
    let control = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let lock = format!("http://{}", control.local_addr()?);
    let lock_task = tokio::spawn(async move {
        let _ = agent.run(control).await;
    });
    let lock_id: String = doorstep_lock::identity::Paired::load(&lock_dir)?
        .identity
        .lock_id;
    wait_until(Duration::from_secs(10), || async {
        status(&http, &lock)
            .await
            .is_some_and(|s| s["online"] == true)
    })
    .await
    .context("the lock never came online")?;

    let (
        mut block_ms,
        mut motor_ms,
        mut first_frame_ms,
        mut frame_age_ms,
        mut playable_ms,
        mut seek_ms,
    ) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for e in 0..entries {
        let courier = Arc::new(SigningKey::generate());
        let tracking = format!("ENTRY-{e}");
        let delivery = announce(
            &http,
            &cloud,
            &carrier_key,
            &home.id,
            &courier.public_key(),
            &tracking,
        )
        .await?;
        let delivery_id = delivery["id"].as_str().context("delivery id")?.to_owned();
        approve(&http, &cloud, home, &delivery, &lock_id).await?;
        // The courier goes in and stays until told to leave.
        let visit = {
            let (cloud, lock, carrier_key, courier, delivery_id, tracking) = (
                cloud.clone(),
                lock.clone(),
                carrier_key.clone(),
                courier.clone(),
                delivery_id.clone(),
                tracking.clone(),
            );
            tokio::spawn(async move {
                let quiet = |_: &str| {};
                let visit = doorstep_courier::door::Visit {
                    cloud,
                    lock,
                    key: &courier,
                    visitor: doorstep_courier::door::Visitor::Courier {
                        delivery_id,
                        tracking_id: tracking,
                        carrier_key,
                    },
                    inside: Duration::from_secs(60),
                    say: &quiet,
                };
                visit.run().await
            })
        };
        wait_until(Duration::from_secs(10), || async {
            status(&http, &lock)
                .await
                .is_some_and(|s| s["door"] == "open")
        })
        .await
        .context("the courier never got in")?;

        // Live view: open → first frame, and frame ages.
        let ws = cloud.replacen("http://", "ws://", 1);
        for _ in 0..if args.smoke { 1 } else { 5 } {
            let t0 = Instant::now();
            let mut request =
                tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                    format!("{ws}/v1/locks/{lock_id}/live"),
                )?;
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {}", home.token).parse()?);
            let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
            let mut first = true;
            let mut frames = 0;
            while frames < 10 {
                let Some(Ok(message)) = socket.next().await else {
                    break;
                };
                if let tokio_tungstenite::tungstenite::Message::Binary(bytes) = message {
                    if first {
                        first_frame_ms.push(ms(t0.elapsed()));
                        first = false;
                    } else if bytes.len() > 16 {
                        let mut at = [0u8; 8];
                        at.copy_from_slice(&bytes[8..16]);
                        frame_age_ms.push((Timestamp::now().0 - i64::from_be_bytes(at)) as f64);
                    }
                    frames += 1;
                }
            }
        }

        // Block: request → the lock starts relocking (motor time reported apart).
        let revocation = Signed::sign(
            &Revocation {
                household: HouseholdId(home.id.clone()),
                lock: LockId(lock_id.clone()),
                target: RevocationTarget::Delivery(delivery_id.as_str().into()),
                device: DeviceId(home.device_id.clone()),
                issued_at: Timestamp::now(),
            },
            &home.key,
        );
        let t0 = Instant::now();
        http.post(format!("{cloud}/v1/deliveries/{delivery_id}/block"))
            .bearer_auth(&home.token)
            .json(&json!({ "revocation": revocation.to_base64() }))
            .send()
            .await?
            .error_for_status()?;
        let mut relocking = None;
        loop {
            let bolt = status(&http, &lock)
                .await
                .map(|s| s["bolt"].as_str().unwrap_or_default().to_owned());
            match bolt.as_deref() {
                Some("locking") if relocking.is_none() => relocking = Some(t0.elapsed()),
                Some("locked") => {
                    let done = t0.elapsed();
                    let started = relocking.unwrap_or(done);
                    block_ms.push(ms(started));
                    motor_ms.push(ms(done - started));
                    break;
                }
                _ => {}
            }
            if t0.elapsed() > Duration::from_secs(10) {
                bail!("the lock never relocked after a block");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let _ = visit.await;

        // The visit ended: its recording, and seeking in it. Only the first visit has
        // a recording of its own: the camera keeps recording a while after a visit,
        // and frames less than 10 s apart join one recording (of its first delivery).
        if e > 0 {
            continue;
        }
        let t0 = Instant::now();
        let recording = loop {
            let list: Value = http
                .get(format!("{cloud}/v1/recordings?delivery_id={delivery_id}"))
                .bearer_auth(&home.token)
                .send()
                .await?
                .json()
                .await?;
            if let Some(first) = list.as_array().and_then(|l| l.first()).cloned() {
                break first;
            }
            if t0.elapsed() > Duration::from_secs(10) {
                let all: Value = http
                    .get(format!("{cloud}/v1/recordings"))
                    .bearer_auth(&home.token)
                    .send()
                    .await?
                    .json()
                    .await?;
                bail!("no recording of visit {e} ({delivery_id}); recordings: {all}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        playable_ms.push(ms(t0.elapsed()));
        let (start, end) = (
            recording["started_at"].as_i64().unwrap_or_default(),
            recording["last_frame_at"].as_i64().unwrap_or_default(),
        );
        let id = recording["id"].as_str().unwrap_or_default().to_owned();
        for k in 0..if args.smoke { 2 } else { 100 } {
            let at = start + (end - start) * k / 100;
            let t0 = Instant::now();
            http.get(format!("{cloud}/v1/recordings/{id}/frame?at={at}"))
                .bearer_auth(&home.token)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            seek_ms.push(ms(t0.elapsed()));
        }
    }
    rows.push(row(
        "live view: open → first frame received (not drawn)",
        "p95 ≤ 150 ms, p99 ≤ 250 ms",
        Some((95.0, 150.0)),
        first_frame_ms,
        "a device's WebSocket to the cloud relay; drawing in the app is not included",
    ));
    rows.push(row(
        "frame age on arrival at the device (capture → received)",
        "p99 ≤ 80 ms (when drawn)",
        Some((99.0, 80.0)),
        frame_age_ms,
        "capture stamp to arrival at the viewer; the app's decode and draw are not included",
    ));
    rows.push(row(
        "block request → lock starts relocking",
        "p99 ≤ 20 ms",
        Some((99.0, 20.0)),
        block_ms,
        "signed revocation over HTTP, cloud → lock channel → bolt; polled every 1 ms",
    ));
    rows.push(row(
        "simulated motor time (reported apart)",
        "—",
        None,
        motor_ms,
        "the lock model's actuation time",
    ));
    rows.push(row(
        "visit ended → recording listed",
        "p99 ≤ 1 s",
        Some((99.0, 1000.0)),
        playable_ms,
        "measured from the courier leaving",
    ));
    rows.push(row(
        "recording seek",
        "p95 ≤ 150 ms",
        Some((95.0, 150.0)),
        seek_ms,
        "",
    ));
    for (metric, target) in [
        (
            "burst: every household at once → last popup",
            "≤ 2× bare NATS fan-out",
        ),
        (
            "camera stops → stale / alert on every device",
            "≤ 1 s / p99 ≤ 2 s",
        ),
        (
            "connected devices per instance, memory per connection",
            "≥ 50,000 at ≤ 16 KiB",
        ),
        (
            "access requests per second (SQLite / PostgreSQL)",
            "≥ 1,000 / s",
        ),
        (
            "desktop app idle PSS / cold start",
            "≤ empty Tauri + 40 MiB / ≤ 1.3×",
        ),
        (
            "references: NATS and Mosquitto fan-out, Chromium app mode",
            "same run",
        ),
    ] {
        rows.push(row(
            metric,
            target,
            None,
            Vec::new(),
            "not in this bench yet",
        ));
    }

    if args.smoke {
        // A smoke run checks that everything runs; its numbers judge nothing.
        for r in &mut rows {
            if r.verdict == "met" || r.verdict == "missed" {
                r.verdict = "smoke";
            }
        }
    }
    print_table(&rows);
    std::fs::create_dir_all(&args.out)?;
    let file = args.out.join(if args.smoke {
        "smoke.json"
    } else {
        "bench.json"
    });
    std::fs::write(
        &file,
        serde_json::to_vec_pretty(&json!({
            "smoke": args.smoke,
            "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "memory_mib": memory_mib(),
            "release": !cfg!(debug_assertions),
            "households": households,
            "rows": rows,
        }))?,
    )?;
    println!("\nJSON: {}", file.display());
    for stream in streams {
        stream.abort();
    }
    lock_task.abort();
    cloud_handle.stop().await;
    Ok(())
}

async fn approve(
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

async fn status(http: &reqwest::Client, lock: &str) -> Option<Value> {
    http.get(format!("{lock}/status"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> anyhow::Result<()>
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

fn memory_mib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn print_table(rows: &[Row]) {
    let cell = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.1}"));
    println!("\n| metric | target | n | p50 | p95 | p99 | verdict | note |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.metric,
            r.target,
            r.samples,
            cell(r.p50),
            cell(r.p95),
            cell(r.p99),
            r.verdict,
            r.note
        );
    }
    println!("\n(times in {})", rows.first().map_or("ms", |r| r.unit));
}
