//! How many household devices one cloud process holds, and what each costs: event
//! streams are opened in steps while the cloud's resident memory is read from
//! /proc; at the end one event is sent and every stream must receive it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::devices::{Household, announce};

/// One step: streams open and the cloud's memory then.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub connections: usize,
    pub rss_kib: u64,
    /// (RSS now − RSS before the first stream) ÷ connections.
    pub kib_per_connection: f64,
}

#[derive(Debug, serde::Serialize)]
pub struct ScaleRun {
    pub steps: Vec<Step>,
    /// Why it stopped short of the goal, if it did.
    pub stopped: Option<String>,
    /// Streams that received the final event, of those open.
    pub received: usize,
    pub open: usize,
    /// Time from that event's announcement to the last stream having it (ms).
    pub last_received_ms: Option<f64>,
}

/// Resident memory of a process (KiB), from /proc.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

/// Raises this process's open-file limit (its children inherit it); returns the limit.
pub fn raise_fd_limit(wanted: u64) -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if setrlimit(Resource::RLIMIT_NOFILE, wanted, wanted).is_ok() {
        return wanted;
    }
    // Not allowed above the hard limit: take all of that.
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((_, hard)) => {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
            hard
        }
        Err(_) => 1024,
    }
}

/// One open event stream: a raw HTTP/1.1 request, then reading and counting.
async fn open_stream(
    source: std::net::Ipv4Addr,
    cloud: std::net::SocketAddr,
    request: Arc<Vec<u8>>,
    received: Arc<AtomicUsize>,
    last: Arc<std::sync::Mutex<Option<Instant>>>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind((source, 0).into())?;
    let mut stream = socket.connect(cloud).await?;
    stream.write_all(&request).await?;
    let mut buffer = vec![0u8; 512];
    let n = stream.read(&mut buffer).await?;
    if !buffer[..n].starts_with(b"HTTP/1.1 200") {
        bail!(
            "the stream was refused: {}",
            String::from_utf8_lossy(&buffer[..n.min(120)])
        );
    }
    Ok(tokio::spawn(async move {
        let mut buffer = [0u8; 512];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if memchr_event(&buffer[..n]) {
                        received.fetch_add(1, Ordering::Relaxed);
                        *last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                    }
                }
            }
        }
    }))
}

fn memchr_event(bytes: &[u8]) -> bool {
    let announced = doorstep_api::EventKind::DeliveryAnnounced
        .as_str()
        .as_bytes();
    bytes.windows(announced.len()).any(|w| w == announced)
}

/// The cloud's memory with `connections` streams open, once they have settled.
async fn step(pid: u32, base: u64, connections: usize) -> anyhow::Result<Step> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = rss_kib(pid)?;
    Ok(Step {
        connections,
        rss_kib: rss,
        kib_per_connection: rss.saturating_sub(base) as f64 / connections.max(1) as f64,
    })
}

/// Opens streams for `devices` (tokens of one household) up to `steps.last()`,
/// reading the cloud's RSS (process `pid`) after each step.
pub async fn measure(
    cloud_url: &str,
    pid: u32,
    home: &Household,
    devices: &[String],
    steps: &[usize],
    carrier_key: &str,
) -> anyhow::Result<ScaleRun> {
    let cloud: std::net::SocketAddr = cloud_url
        .trim_start_matches("http://")
        .parse()
        .context("the cloud's address")?;
    let http = reqwest::Client::new();
    let last_seq: i64 = http
        .get(format!("{cloud_url}/v1/events?limit=1"))
        .bearer_auth(&home.token)
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?["last_seq"]
        .as_i64()
        .unwrap_or_default();
    let requests: Vec<Arc<Vec<u8>>> = devices
        .iter()
        .map(|token| {
            Arc::new(
                format!(
                    "GET /v1/events/stream?after={last_seq} HTTP/1.1\r\nHost: {cloud}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
                )
                .into_bytes(),
            )
        })
        .collect();
    let received = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(std::sync::Mutex::new(None));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = rss_kib(pid)?;
    let mut tasks = Vec::new();
    let mut run = ScaleRun {
        steps: Vec::new(),
        stopped: None,
        received: 0,
        open: 0,
        last_received_ms: None,
    };
    'steps: for &goal in steps {
        while tasks.len() < goal {
            let batch: Vec<_> = (tasks.len()..goal.min(tasks.len() + 500))
                .map(|n| {
                    // A source address per 20,000 streams: one address has ~28,000 ports.
                    let source = std::net::Ipv4Addr::new(127, 0, 1, (n / 20_000) as u8 + 1);
                    open_stream(
                        source,
                        cloud,
                        requests[n % requests.len()].clone(),
                        received.clone(),
                        last.clone(),
                    )
                })
                .collect();
            for opened in futures_util::future::join_all(batch).await {
                match opened {
                    Ok(task) => tasks.push(task),
                    Err(e) => {
                        run.stopped = Some(format!("stopped at {} streams: {e:#}", tasks.len()));
                        break 'steps;
                    }
                }
            }
        }
        run.steps.push(step(pid, base, tasks.len()).await?);
    }
    // Stopped short: what it holds then is a step too.
    if run.steps.last().map(|s| s.connections) != Some(tasks.len()) && !tasks.is_empty() {
        run.steps.push(step(pid, base, tasks.len()).await?);
    }
    run.open = tasks.len();
    let t0 = Instant::now();
    announce(
        &http,
        cloud_url,
        carrier_key,
        &home.id,
        &doorstep_proto::SigningKey::generate().public_key(),
        "SCALE-1",
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while received.load(Ordering::Relaxed) < run.open && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    run.received = received.load(Ordering::Relaxed);
    run.last_received_ms = (*last.lock().unwrap_or_else(|e| e.into_inner()))
        .map(|at| crate::ms(at.saturating_duration_since(t0)));
    for task in tasks {
        task.abort();
    }
    Ok(run)
}
