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
    /// Each of those processes: its name and PSS (MiB), largest first.
    pub per_process: Vec<(String, f64)>,
    /// Per launch, every line it printed up to its first screen, with when (ms
    /// after spawn) the bench read it.
    pub launch_lines: Vec<Vec<(f64, String)>>,
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

/// PSS (MiB) of each process in the tree under `root` (itself included), named,
/// largest first.
pub fn tree_pss(root: u32) -> Vec<(String, f64)> {
    let mut processes: Vec<(String, f64)> = process_tree(root)
        .into_iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let kib = rollup
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())?;
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            Some((name.trim().to_owned(), kib as f64 / 1024.0))
        })
        .collect();
    processes.sort_by(|a, b| b.1.total_cmp(&a.1));
    processes
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
            let mut lines = Vec::new();
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let at = crate::ms(started.elapsed());
                let shown = line.contains(&marker);
                lines.push((at, line));
                if shown {
                    let _ = tx.send(std::mem::take(&mut lines));
                }
            }
        });
        let lines = rx
            .recv_timeout(Duration::from_secs(60))
            .with_context(|| format!("{} never reported its first screen", program.display()))?;
        footprint
            .first_screen_ms
            .push(lines.last().map_or(0.0, |(at, _)| *at));
        footprint.launch_lines.push(lines);
        if launch + 1 == launches {
            std::thread::sleep(SETTLE);
            let per_process = tree_pss(process.pid());
            footprint.pss_mib = Some(per_process.iter().map(|(_, mib)| mib).sum());
            footprint.processes = per_process.len();
            footprint.per_process = per_process;
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
    let per_process = tree_pss(process.pid());
    process.stop();
    server.abort();
    Ok(Footprint {
        first_screen_ms: vec![loaded_after],
        pss_mib: Some(per_process.iter().map(|(_, mib)| mib).sum()),
        processes: per_process.len(),
        per_process,
        launch_lines: Vec::new(),
    })
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

/// A `key=value` field of a tracing line, as a number.
pub fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace().find_map(|word| {
        word.strip_prefix(key)?
            .strip_prefix('=')?
            .trim_matches('"')
            .parse()
            .ok()
    })
}

/// When (ms after spawn) the first line containing `text` was read.
pub fn line_at(lines: &[(f64, String)], text: &str) -> Option<f64> {
    lines
        .iter()
        .find(|(_, line)| line.contains(text))
        .map(|(at, _)| *at)
}
