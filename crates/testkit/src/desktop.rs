//! A private desktop session for one test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process::{Guarded, quiet, wait_until};

const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Password of the throwaway login keyring each session creates.
const KEYRING_PASSWORD: &str = "doorstep-test-keyring";

/// Xvfb + a private D-Bus session + gnome-keyring + dunst + a popup capture.
///
/// Processes are dropped in reverse start order, so the bus outlives its services.
#[derive(Debug)]
pub struct DesktopSession {
    // Field order is drop order: capture and services before the bus and display.
    monitor: Guarded,
    notification_server: Guarded,
    keyring: Guarded,
    bus: Guarded,
    display_server: Guarded,
    display: String,
    bus_address: String,
    monitor_log: PathBuf,
    root: tempfile::TempDir,
}

/// A popup as the notification server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedNotification {
    /// Who sent it.
    pub app_name: String,
    /// Its title.
    pub summary: String,
    /// Its text.
    pub body: String,
    /// The popup it replaces in place (0: a new popup).
    pub replaces_id: u32,
    /// Its buttons as (id, label).
    pub actions: Vec<(String, String)>,
    /// When the bus carried the call (µs since the epoch, as `dbus-monitor` stamps it).
    pub sent_at_us: Option<u64>,
    /// The picture it shows (the `image-path` hint), if any.
    pub image_path: Option<String>,
}

impl DesktopSession {
    /// Starts a fresh desktop in a temporary folder that also serves as HOME and
    /// every XDG folder, so nothing touches the real user's files or keyring.
    pub fn start() -> Result<Self> {
        let root = tempfile::Builder::new()
            .prefix("doorstep-desktop-")
            .tempdir()?;
        for dir in ["home", "runtime", "data", "config", "cache", "doorstep"] {
            std::fs::create_dir_all(root.path().join(dir))?;
        }
        set_mode_700(&root.path().join("runtime"))?;

        let base_env = base_env(root.path());

        let mut xvfb = Command::new("Xvfb");
        xvfb.args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .envs(base_env.iter().cloned());
        let mut display_server = Guarded::spawn("Xvfb", xvfb)?;
        let display = format!(":{}", display_server.first_stdout_line(START_TIMEOUT)?);

        let mut dbus = Command::new("dbus-daemon");
        dbus.args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .envs(base_env.iter().cloned())
            .env("DISPLAY", &display);
        let mut bus = Guarded::spawn("dbus-daemon", dbus)?;
        let bus_address = bus.first_stdout_line(START_TIMEOUT)?;

        let session_env = |command: &mut Command| {
            command
                .envs(base_env.iter().cloned())
                .env("DISPLAY", &display)
                .env("DBUS_SESSION_BUS_ADDRESS", &bus_address);
        };

        let mut gnome_keyring = quiet("gnome-keyring-daemon");
        gnome_keyring
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped());
        session_env(&mut gnome_keyring);
        let mut keyring = Guarded::spawn("gnome-keyring-daemon", gnome_keyring)?;
        keyring.write_stdin_and_close(KEYRING_PASSWORD.as_bytes())?;
        wait_for_bus_name(&bus_address, "org.freedesktop.secrets")?;

        let mut dunst = quiet("dunst");
        session_env(&mut dunst);
        let mut notification_server = Guarded::spawn("dunst", dunst)?;
        wait_for_bus_name(&bus_address, "org.freedesktop.Notifications")
            .and_then(|()| notification_server.ensure_running())?;

        let monitor_log = root.path().join("notifications.log");
        let mut dbus_monitor = Command::new("dbus-monitor");
        dbus_monitor
            .args([
                "--address",
                &bus_address,
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
                "type='method_call',interface='org.freedesktop.Notifications',member='CloseNotification'",
            ])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&monitor_log)?)
            .stderr(Stdio::null());
        let monitor = Guarded::spawn("dbus-monitor", dbus_monitor)?;
        // It prints NameLost once it has become a monitor; only then is capture on.
        wait_until("dbus-monitor to attach", START_TIMEOUT, || {
            std::fs::read_to_string(&monitor_log).is_ok_and(|log| log.contains("NameLost"))
        })?;

        Ok(Self {
            monitor,
            notification_server,
            keyring,
            bus,
            display_server,
            display,
            bus_address,
            monitor_log,
            root,
        })
    }

    /// The X display, e.g. `:3`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The private session bus.
    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// The folder `DOORSTEP_HOME` points to, under which the app keeps everything.
    pub fn doorstep_home(&self) -> PathBuf {
        self.root.path().join("doorstep")
    }

    /// The temporary folder holding the whole session.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Every variable a process needs to live in this desktop.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = base_env(self.root.path());
        env.push(("DISPLAY".into(), self.display.clone()));
        env.push(("DBUS_SESSION_BUS_ADDRESS".into(), self.bus_address.clone()));
        env.push((
            "DOORSTEP_HOME".into(),
            self.doorstep_home().display().to_string(),
        ));
        env
    }

    /// Points this test process at the session, for libraries that read the
    /// environment themselves (keyring, notify-rust).
    ///
    /// Call it first thing in a test, before any other thread starts: nextest runs
    /// every test in its own process, so no other test shares this environment.
    pub fn enter(&self) {
        for (key, value) in self.env() {
            // SAFETY: called before the test starts threads that read the environment.
            #[allow(
                unsafe_code,
                reason = "libraries under test read D-Bus and XDG variables"
            )]
            unsafe {
                std::env::set_var(key, value);
            }
        }
    }

    /// Every popup the notification server has been sent so far.
    pub fn notifications(&self) -> Result<Vec<ReceivedNotification>> {
        let log = std::fs::read_to_string(&self.monitor_log)?;
        Ok(parse_notify_calls(&log))
    }

    /// The ids of every popup a client asked the server to close, in order.
    pub fn closed_notifications(&self) -> Result<Vec<u32>> {
        let log = std::fs::read_to_string(&self.monitor_log)?;
        Ok(parse_close_calls(&log))
    }

    /// How many popups the notification server has on the screen now (dunst's own
    /// count: shown and queued to be shown).
    pub fn popups_on_screen(&self) -> Result<usize> {
        let mut total = 0;
        for which in ["displayed", "waiting"] {
            let mut dunstctl = Command::new("dunstctl");
            dunstctl
                .args(["count", which])
                .stdin(Stdio::null())
                .stderr(Stdio::null());
            for (key, value) in self.env() {
                dunstctl.env(key, value);
            }
            let out = dunstctl.output().context("dunstctl")?;
            if !out.status.success() {
                bail!("dunstctl count {which} failed");
            }
            total += String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<usize>()
                .with_context(|| format!("dunstctl count {which}"))?;
        }
        Ok(total)
    }

    /// Waits until the notification server has `expected` popups on the screen.
    pub fn wait_for_popups_on_screen(&self, expected: usize, timeout: Duration) -> Result<()> {
        let mut last = None;
        let waited = wait_until(&format!("{expected} popups on the screen"), timeout, || {
            last = self.popups_on_screen().ok();
            last == Some(expected)
        });
        waited.with_context(|| format!("popups on the screen: {last:?}"))
    }

    /// Waits until a popup whose summary is `summary` has arrived, and returns it.
    pub fn wait_for_notification(
        &self,
        summary: &str,
        timeout: Duration,
    ) -> Result<ReceivedNotification> {
        let mut found = None;
        let waited = wait_until(&format!("a popup titled {summary:?}"), timeout, || {
            found = self
                .notifications()
                .ok()
                .and_then(|all| all.into_iter().find(|n| n.summary == summary));
            found.is_some()
        });
        if let (Ok(()), Some(notification)) = (&waited, found) {
            return Ok(notification);
        }
        let seen = self.notifications().unwrap_or_default();
        let summaries: Vec<_> = seen.iter().map(|n| n.summary.as_str()).collect();
        bail!("no popup titled {summary:?} within {timeout:?}; popups received: {summaries:?}")
    }

    /// Waits for a popup `matches` picks, with what was received in the error.
    pub fn wait_for_notification_where(
        &self,
        what: &str,
        timeout: Duration,
        matches: impl Fn(&ReceivedNotification) -> bool,
    ) -> Result<ReceivedNotification> {
        let mut found = None;
        let waited = wait_until(what, timeout, || {
            found = self
                .notifications()
                .ok()
                .and_then(|all| all.into_iter().find(|n| matches(n)));
            found.is_some()
        });
        if let (Ok(()), Some(notification)) = (&waited, found) {
            return Ok(notification);
        }
        bail!(
            "no {what} within {timeout:?}; popups received: {:#?}",
            self.notifications().unwrap_or_default()
        )
    }

    /// Fails if any part of the desktop has died.
    pub fn check_services_alive(&mut self) -> Result<()> {
        self.display_server.ensure_running()?;
        self.bus.ensure_running()?;
        self.keyring.ensure_running()?;
        self.notification_server.ensure_running()?;
        self.monitor.ensure_running()
    }
}

fn base_env(root: &Path) -> Vec<(String, String)> {
    let dir = |name: &str| root.join(name).display().to_string();
    vec![
        ("HOME".into(), dir("home")),
        ("XDG_RUNTIME_DIR".into(), dir("runtime")),
        ("XDG_DATA_HOME".into(), dir("data")),
        ("XDG_CONFIG_HOME".into(), dir("config")),
        ("XDG_CACHE_HOME".into(), dir("cache")),
    ]
}

fn set_mode_700(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

fn wait_for_bus_name(bus_address: &str, name: &str) -> Result<()> {
    wait_until(&format!("{name} on the session bus"), START_TIMEOUT, || {
        Command::new("dbus-send")
            .args([
                &format!("--bus={bus_address}"),
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{name}"),
            ])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("boolean true"))
    })
    .with_context(|| format!("{name} never appeared; is its package installed?"))
}

/// Extracts the `Notify` calls from `dbus-monitor` output.
///
/// A call is `app_name, replaces_id, icon, summary, body, actions[], hints{}, timeout`;
/// only the first-level strings and the first array (the actions) matter here.
fn parse_notify_calls(log: &str) -> Vec<ReceivedNotification> {
    let mut out = Vec::new();
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        if !(line.starts_with("method call") && line.contains("member=Notify")) {
            continue;
        }
        let sent_at_us = line
            .split_whitespace()
            .find_map(|field| field.strip_prefix("time="))
            .and_then(|time| {
                let (secs, micros) = time.split_once('.').unwrap_or((time, "0"));
                Some(secs.parse::<u64>().ok()? * 1_000_000 + micros.parse::<u64>().ok()?)
            });
        let mut strings = Vec::new();
        let mut replaces_id = None;
        let mut actions = Vec::new();
        let mut in_actions = false;
        let mut actions_done = false;
        let mut image_path = None;
        while let Some(next) = lines.peek() {
            if next.starts_with("method call")
                || next.starts_with("signal")
                || next.starts_with("method return")
            {
                break;
            }
            let mut next = lines.next().unwrap_or_default().trim().to_owned();
            if replaces_id.is_none()
                && let Some(id) = next.strip_prefix("uint32 ")
            {
                replaces_id = id.trim().parse().ok();
            } else if next == "array [" && !actions_done {
                in_actions = true;
            } else if next == "]" && in_actions {
                in_actions = false;
                actions_done = true;
            } else if let Some(rest) = next.strip_prefix("string \"") {
                // Strings may span lines; they end with a quote at the end of a line.
                let mut value = rest.to_owned();
                while !value.ends_with('"') {
                    match lines.next() {
                        Some(more) => {
                            value.push('\n');
                            value.push_str(more);
                        }
                        None => break,
                    }
                }
                value.pop();
                next.clear();
                if in_actions {
                    actions.push(value);
                } else if !actions_done {
                    strings.push(value);
                } else if value == "image-path" {
                    // The hint's value is on the next line: `variant string "…"`.
                    image_path = lines
                        .peek()
                        .and_then(|line| line.trim().strip_prefix("variant"))
                        .and_then(|rest| rest.trim().strip_prefix("string \""))
                        .and_then(|rest| rest.strip_suffix('"'))
                        .map(str::to_owned);
                }
            }
        }
        if strings.len() >= 4 {
            let pairs = actions
                .chunks(2)
                .map(|pair| (pair[0].clone(), pair.get(1).cloned().unwrap_or_default()))
                .collect();
            out.push(ReceivedNotification {
                app_name: strings[0].clone(),
                summary: strings[2].clone(),
                body: strings.get(3).cloned().unwrap_or_default(),
                replaces_id: replaces_id.unwrap_or_default(),
                actions: pairs,
                sent_at_us,
                image_path,
            });
        }
    }
    out
}

/// Extracts the ids of the `CloseNotification` calls from `dbus-monitor` output.
fn parse_close_calls(log: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut lines = log.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("method call")
            && line.contains("member=CloseNotification")
            && let Some(id) = lines
                .next()
                .and_then(|next| next.trim().strip_prefix("uint32 "))
                .and_then(|id| id.trim().parse().ok())
        {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_calls_are_read_from_a_dbus_monitor_log() {
        let log = r#"signal time=1 sender=org.freedesktop.DBus -> destination=:1.2 serial=4 path=/org/freedesktop/DBus; interface=org.freedesktop.DBus; member=NameLost
   string ":1.2"
method call time=1732500000.123456 sender=:1.6 -> destination=:1.5 serial=10 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string "Doorstep"
   uint32 0
   string ""
   string "Courier at the door"
   string "DHL is at your
front door"
   array [
      string "watch"
      string "Watch live"
      string "block"
      string "Block access"
   ]
   array [
      dict entry(
         string "urgency"
         variant             byte 1
      )
      dict entry(
         string "image-path"
         variant             string "/tmp/still.jpg"
      )
   ]
   int32 -1
"#;
        let calls = parse_notify_calls(log);
        let closing = "method call time=2.0 sender=:1.6 -> destination=:1.5 serial=11 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=CloseNotification\n   uint32 7\n";
        assert_eq!(parse_close_calls(&format!("{log}{closing}")), vec![7]);
        assert_eq!(
            calls,
            vec![ReceivedNotification {
                app_name: "Doorstep".into(),
                summary: "Courier at the door".into(),
                body: "DHL is at your\nfront door".into(),
                replaces_id: 0,
                actions: vec![
                    ("watch".into(), "Watch live".into()),
                    ("block".into(), "Block access".into())
                ],
                sent_at_us: Some(1_732_500_000_123_456),
                image_path: Some("/tmp/still.jpg".into()),
            }]
        );
    }
}
