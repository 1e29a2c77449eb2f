//! The desktop app's footprint beside its references, in one private desktop
//! (Xvfb, D-Bus, keyring, notification server): start → first screen and idle
//! memory (PSS summed over the process and everything it started) for Doorstep,
//! for an empty Tauri window, and for Doorstep's UI build in Chromium's app mode.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use testkit::{DesktopSession, Guarded};

/// How long an app sits untouched before its memory is read.
const SETTLE: Duration = Duration::from_secs(5);

/// What one program measured.
#[derive(Debug, Default)]
pub struct Footprint {
    /// Spawn → its first screen reported (ms), one per launch.
    pub first_screen_ms: Vec<f64>,
    /// Idle PSS of the process tree (MiB), after the last launch settled.
    pub pss_mib: Option<f64>,
    /// How many processes that was.
    pub processes: usize,
}

/// Every process in the tree under `root` (itself included).
fn process_tree(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        // The parent is the second field after the command name (which may hold spaces).
        let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
            });
        if let Some(parent) = parent {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut tree = vec![root];
    let mut next = 0;
    while next < tree.len() {
        if let Some(kids) = children.get(&tree[next]) {
            tree.extend(kids);
        }
        next += 1;
    }
    tree
}

/// PSS (MiB) summed over the tree under `root`, and how many processes it has.
pub fn tree_pss_mib(root: u32) -> (f64, usize) {
    let tree = process_tree(root);
    let kib: u64 = tree
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .filter_map(|rollup| {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum();
    (kib as f64 / 1024.0, tree.len())
}

fn session_command(desktop: &DesktopSession, program: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .envs(desktop.env())
        .env("DOORSTEP_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// Starts `program` `launches` times, each time until it prints a line containing
/// `marker`; after the last, lets it settle and reads its memory.
pub fn measure_app(
    desktop: &DesktopSession,
    program: &Path,
    marker: &str,
    launches: usize,
) -> anyhow::Result<Footprint> {
    let mut footprint = Footprint::default();
    for launch in 0..launches {
        let started = Instant::now();
        let mut process = Guarded::spawn(
            &program.display().to_string(),
            session_command(desktop, program),
        )?;
        let stdout = process.take_stdout()?;
        let (tx, rx) = std::sync::mpsc::channel();
        let marker = marker.to_owned();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains(&marker) {
                    let _ = tx.send(Instant::now());
                }
            }
        });
        let shown = rx
            .recv_timeout(Duration::from_secs(60))
            .with_context(|| format!("{} never reported its first screen", program.display()))?;
        footprint.first_screen_ms.push(crate::ms(shown - started));
        if launch + 1 == launches {
            std::thread::sleep(SETTLE);
            let (pss, processes) = tree_pss_mib(process.pid());
            footprint.pss_mib = Some(pss);
            footprint.processes = processes;
        }
        process.stop();
    }
    Ok(footprint)
}

/// Doorstep's UI build (`ui/dist`) in Chromium's app mode, served from loopback;
/// its idle PSS once the page has loaded and settled.
pub async fn measure_chromium(
    desktop: &DesktopSession,
    ui_dist: &Path,
) -> anyhow::Result<Footprint> {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| which(name).is_some())
        .context("Chromium is not installed (`make bench` installs Debian's chromium)")?;
    if !ui_dist.join("index.html").is_file() {
        bail!("{} has no UI build; run `make ui`", ui_dist.display());
    }
    let (loaded_tx, mut loaded) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new()
        .fallback_service(tower_http::services::ServeDir::new(ui_dist))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let loaded = loaded_tx.clone();
                async move {
                    let script = request.uri().path().ends_with(".js");
                    let response = next.run(request).await;
                    if script {
                        let _ = loaded.send(());
                    }
                    response
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let profile = tempfile::tempdir()?;
    let mut command = session_command(desktop, Path::new(chromium));
    command
        .arg(format!("--app={url}"))
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args([
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--window-size=1100,720",
            "--password-store=basic",
        ])
        .stdout(Stdio::null());
    if nix::unistd::Uid::effective().is_root() {
        // Chromium refuses to run as root with its sandbox.
        command.arg("--no-sandbox");
    }
    let started = Instant::now();
    let mut process = Guarded::spawn(chromium, command)?;
    tokio::time::timeout(Duration::from_secs(60), loaded.recv())
        .await
        .context("Chromium never loaded the UI")?;
    let loaded_after = crate::ms(started.elapsed());
    tokio::time::sleep(SETTLE).await;
    let (pss, processes) = tree_pss_mib(process.pid());
    process.stop();
    server.abort();
    Ok(Footprint {
        first_screen_ms: vec![loaded_after],
        pss_mib: Some(pss),
        processes,
    })
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}
