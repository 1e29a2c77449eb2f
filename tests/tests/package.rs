//! The installable package, installed for real: `dpkg -i` of the `.deb` that
//! `make test` builds (`scripts/package.sh --debug`), the installed app opened to its
//! first screen under Xvfb through WebDriver, a second launch handing a
//! `doorstep://` link to the first, and `dpkg -r` leaving nothing behind.
//!
//! It changes the machine, so it runs only as root (CI); elsewhere it says why it
//! skipped.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::{AppUnderTest, DesktopSession};

const PACKAGE: &str = "doorstep";
const INSTALLED: &str = "/usr/bin/doorstep-app";
const DESKTOP_ENTRY: &str = "/usr/share/applications/Doorstep.desktop";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn built_deb() -> PathBuf {
    let dir = testkit::system::profile_dir().unwrap().join("bundle/deb");
    std::fs::read_dir(&dir)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .unwrap_or_else(|| {
            panic!(
                "no .deb in {}; `make test` builds it (scripts/package.sh --debug)",
                dir.display()
            )
        })
}

fn dpkg(args: &[&str]) -> std::process::Output {
    Command::new("dpkg")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("dpkg runs")
}

fn is_installed() -> bool {
    let status = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", PACKAGE])
        .output()
        .expect("dpkg-query runs");
    String::from_utf8_lossy(&status.stdout).contains("install ok installed")
}

/// Removes the package however the test ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        if is_installed() {
            let _ = dpkg(&["-r", PACKAGE]);
        }
    }
}

#[tokio::test]
async fn the_deb_installs_opens_to_its_first_screen_takes_a_link_and_removes_cleanly() {
    if !is_root() || Command::new("dpkg").arg("--version").output().is_err() {
        eprintln!(
            "skipped: installing the .deb needs root and dpkg (CI runs it); the package itself was built by `make test`"
        );
        return;
    }
    let deb = built_deb();

    let installed = dpkg(&["-i", deb.to_str().unwrap()]);
    assert!(
        installed.status.success(),
        "dpkg -i {}: {}",
        deb.display(),
        String::from_utf8_lossy(&installed.stderr)
    );
    let _removal = Installed;
    assert!(is_installed());
    let depends = Command::new("dpkg-query")
        .args(["-W", "-f=${Depends}", PACKAGE])
        .output()
        .unwrap();
    let depends = String::from_utf8_lossy(&depends.stdout).into_owned();
    assert!(
        depends.contains("libwebkit2gtk-4.1-0") && depends.contains("libgtk-3-0"),
        "{depends}"
    );
    let entry = std::fs::read_to_string(DESKTOP_ENTRY).unwrap();
    for line in [
        "Name=Doorstep",
        "Exec=doorstep-app %u",
        "Icon=doorstep-app",
        "MimeType=x-scheme-handler/doorstep",
    ] {
        assert!(entry.lines().any(|l| l == line), "{line} missing:\n{entry}");
    }
    assert!(Path::new("/usr/share/icons/hicolor/128x128/apps/doorstep-app.png").is_file());
    let files = dpkg(&["-L", PACKAGE]);
    let files = String::from_utf8_lossy(&files.stdout).into_owned();
    assert!(
        !files.contains("e2e"),
        "the test build is not shipped:\n{files}"
    );

    // The installed app opens to its first screen.
    let desktop = DesktopSession::start().unwrap();
    let log = desktop.root().join("installed-app.log");
    let log_path = log.display().to_string();
    let app = AppUnderTest::launch_binary(
        &desktop,
        Path::new(INSTALLED),
        &[("DOORSTEP_LOG_FILE", &log_path)],
    )
    .await
    .unwrap();
    app.wait_for("[data-testid=try-demo]").await.unwrap();
    app.screenshot("installed-first-screen").await.unwrap();

    // A second launch with a link hands it to the running app and exits.
    let mut second = Command::new(INSTALLED)
        .arg("doorstep://log")
        .envs(desktop.env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let exited = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            panic!("the second launch kept running beside the first");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exited.success(), "{exited}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("opening a link")
    {
        assert!(
            Instant::now() < deadline,
            "the running app never took the link:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And the first window is still the one answering.
    app.wait_for("[data-testid=try-demo]").await.unwrap();
    app.close().await.unwrap();

    let removed = dpkg(&["-r", PACKAGE]);
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    assert!(!is_installed());
    assert!(!Path::new(INSTALLED).exists());
    assert!(!Path::new(DESKTOP_ENTRY).exists());
}
