//! `doorstep`, the household's command line, as a person uses it: sign up, pair a
//! lock, watch a delivery arrive, approve, block, reroute — and clear errors with
//! documented exit codes when something is wrong.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use doorstep_proto::SigningKey;
use serde_json::Value;
use testkit::DesktopSession;
use testkit::system::{CloudProcess, LockProcess, binary, courier, eventually};

const PASSWORD: &str = "correct horse battery staple";

struct Cli<'a> {
    desktop: &'a DesktopSession,
    cloud: String,
}

impl Cli<'_> {
    /// Runs `doorstep` with `args` (and `stdin`); returns exit code, stdout, stderr.
    fn run(&self, app_id: &str, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut child = Command::new(binary("doorstep").unwrap())
            .args(args)
            .envs(self.desktop.env())
            .env("DOORSTEP_CLOUD", &self.cloud)
            .env("DOORSTEP_APP_ID", app_id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let output = child.wait_with_output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn ok_json(&self, app_id: &str, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let (code, out, err) = self.run(app_id, &all, None);
        assert_eq!(code, 0, "doorstep {args:?}: {err}");
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
}

/// `doorstep watch --json` in the background, its lines arriving on a channel.
struct Watch {
    _child: testkit::Guarded,
    lines: mpsc::Receiver<Value>,
}

impl Watch {
    fn start(desktop: &DesktopSession, cloud: &str, app_id: &str) -> Self {
        let mut command = Command::new(binary("doorstep").unwrap());
        command
            .args(["--json", "watch"])
            .envs(desktop.env())
            .env("DOORSTEP_CLOUD", cloud)
            .env("DOORSTEP_APP_ID", app_id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = testkit::Guarded::spawn("doorstep watch", command).unwrap();
        let stdout = child.take_stdout().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str::<Value>(&line)
                    && tx.send(value).is_err()
                {
                    break;
                }
            }
        });
        let watch = Self {
            _child: child,
            lines,
        };
        // Events before the first sync are history, not news: start once it is live.
        loop {
            let line = watch
                .lines
                .recv_timeout(Duration::from_secs(20))
                .expect("`doorstep watch` never went online");
            if line["connection"]["state"] == "online" {
                return watch;
            }
        }
    }

    fn wait_for(&self, kind: &str, delivery: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("`doorstep watch` printed no {kind} for {delivery}"));
            let about = line["data"]["id"]
                .as_str()
                .or(line["data"]["delivery_id"].as_str());
            if line["kind"] == kind && about == Some(delivery) {
                return line;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_up_pairs_a_lock_watches_a_delivery_and_blocks_and_reroutes() {
    let desktop = DesktopSession::start().unwrap();
    let root = desktop.root().to_path_buf();
    let cloud = CloudProcess::start(&root.join("cloud")).unwrap();
    let cli = Cli {
        desktop: &desktop,
        cloud: cloud.url.clone(),
    };
    let me = "dev.doorstep.test.cli";

    let (code, out, err) = cli.run(
        me,
        &[
            "signup",
            "--email",
            "family@example.org",
            "--password-stdin",
            "--device-name",
            "Hall terminal",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Created the household login family@example.org"),
        "{out}"
    );
    let household = cli.ok_json(me, &["status"])["account"]["household_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let code = cli.ok_json(me, &["locks", "pair-code", "--name", "Front door"]);
    let lock = LockProcess::pair_and_run(
        &cloud.url,
        code["code"].as_str().unwrap(),
        &root.join("lock"),
    )
    .unwrap();
    eventually("the lock online", Duration::from_secs(10), || async {
        let locks = cli.ok_json(me, &["locks", "list"]);
        (locks[0]["online"] == true).then_some(())
    })
    .await
    .unwrap();
    cli.ok_json(
        me,
        &[
            "addresses",
            "add",
            "--label",
            "Mrs Weber",
            "--address",
            "Hauptstr. 2",
        ],
    );

    let watch = Watch::start(&desktop, &cloud.url, me);
    let carrier = cloud.add_carrier("DHL", None).unwrap();
    let carrier_key = carrier.api_key.clone();
    let shipment_key = root.join("shipment.key");
    carrier.write_shipment_key(&shipment_key).unwrap();
    let courier_key = root.join("courier.key");
    std::fs::write(&courier_key, SigningKey::generate().to_seed()).unwrap();
    let announce = |tracking: &str| {
        let (carrier_key, cloud, household, key, shipment_key) = (
            carrier_key.clone(),
            cloud.url.clone(),
            household.clone(),
            courier_key.to_str().unwrap().to_owned(),
            shipment_key.to_str().unwrap().to_owned(),
        );
        let tracking = tracking.to_owned();
        async move {
            let (code, out) = courier(
                &[
                    "announce",
                    "--cloud",
                    &cloud,
                    "--household",
                    &household,
                    "--tracking",
                    &tracking,
                    "--courier-key",
                    &key,
                    "--carrier",
                    "DHL",
                    "--shipment-key",
                    &shipment_key,
                ],
                Some(&carrier_key),
            )
            .await
            .unwrap();
            assert_eq!(code, 0, "{out}");
        }
    };
    let delivery_id = |tracking: &str| {
        let deliveries = cli.ok_json(me, &["deliveries"]);
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["tracking_id"] == tracking)
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .unwrap()
    };

    // A delivery: announced, approved by hand, delivered inside.
    announce("JJD-CLI-1").await;
    let first = delivery_id("JJD-CLI-1");
    watch.wait_for("delivery.announced", &first);
    let approved = cli.ok_json(me, &["approve", &first]);
    assert_eq!(approved["approved"], true);
    let (code, out) = courier(
        &[
            "deliver",
            "--cloud",
            &cloud.url,
            "--lock",
            &lock.control,
            "--tracking",
            "JJD-CLI-1",
            "--key",
            courier_key.to_str().unwrap(),
            "--inside-secs",
            "1",
        ],
        Some(&carrier_key),
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}");
    watch.wait_for("delivery.at_door", &first);
    watch.wait_for("delivery.completed", &first);

    // Another: blocked before the courier comes, then rerouted to the neighbour.
    announce("JJD-CLI-2").await;
    let second = delivery_id("JJD-CLI-2");
    watch.wait_for("delivery.announced", &second);
    assert_eq!(cli.ok_json(me, &["block", &second])["state"], "blocked");
    watch.wait_for("delivery.blocked", &second);
    let rerouted = cli.ok_json(me, &["reroute", &second, "--to", "Mrs Weber"]);
    assert_eq!(rerouted["state"], "rerouted");
    assert_eq!(rerouted["rerouted_to"]["label"], "Mrs Weber");
    watch.wait_for("delivery.rerouted", &second);

    // A guest with weekly hours, then revoked; the policy signed and shown.
    let guest_key = SigningKey::generate().public_key().to_base64();
    let guest = cli.ok_json(
        me,
        &[
            "guests",
            "add",
            "--name",
            "Cleaner",
            "--key",
            &guest_key,
            "--days",
            "mon-fri",
            "--hours",
            "08:00-12:00",
        ],
    );
    assert_eq!(guest[0]["name"], "Cleaner");
    assert_eq!(
        guest[0]["schedule"]["weekly"]["days"],
        serde_json::json!([1, 2, 3, 4, 5])
    );
    cli.ok_json(me, &["guests", "revoke", "Cleaner"]);
    let guests = cli.ok_json(me, &["guests", "list"]);
    assert_eq!(guests[0]["revoked"], true);
    let (code, _, err) = cli.run(
        me,
        &[
            "guests",
            "add",
            "--name",
            "Late",
            "--key",
            &guest_key,
            "--days",
            "mon",
            "--hours",
            "25:00-26:00",
        ],
        None,
    );
    assert_eq!(code, 7, "{err}");
    assert!(err.contains("hours"), "{err}");
    let policy = cli.ok_json(
        me,
        &[
            "policy",
            "set",
            "--carrier",
            "DHL",
            "--days",
            "mon-sat",
            "--hours",
            "08:00-18:00",
        ],
    );
    assert_eq!(policy["version"], 1);
    // The policy pins the key DHL signs its shipments with.
    assert_eq!(
        cli.ok_json(me, &["policy", "show"])["carriers"],
        serde_json::json!([{ "name": "DHL", "keys": [carrier.shipment_key.public_key().to_base64()] }])
    );
    let lead = cli.ok_json(me, &["lead-time", "15"]);
    assert_eq!(lead["ok"], true);

    // The log says who did it, from which device.
    let log = cli.ok_json(me, &["log", "--filter", "delivery."]);
    let blocked = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "delivery.blocked")
        .unwrap();
    assert_eq!(blocked["device_name"], "Hall terminal");

    // Human output for the same.
    let (code, out, _) = cli.run(me, &["deliveries"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains("rerouted") && out.contains("completed"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mistakes_get_a_sentence_and_a_documented_exit_code() {
    let desktop = DesktopSession::start().unwrap();
    let cloud = CloudProcess::start(&desktop.root().join("cloud")).unwrap();
    let cli = Cli {
        desktop: &desktop,
        cloud: cloud.url.clone(),
    };
    let me = "dev.doorstep.test.cli";
    let other = "dev.doorstep.test.cli2";
    let password = format!("{PASSWORD}\n");

    // Not signed in: 3.
    let (code, _, err) = cli.run(me, &["deliveries"], None);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("not signed in"), "{err}");
    // Invalid input: 7.
    let (code, _, err) = cli.run(
        me,
        &["signup", "--email", "not-an-address", "--password-stdin"],
        Some(&password),
    );
    assert_eq!(code, 7, "{err}");
    assert!(err.contains("not an e-mail address"), "{err}");
    let (code, _, err) = cli.run(
        me,
        &["signup", "--email", "a@example.org", "--password-stdin"],
        Some("short\n"),
    );
    assert_eq!(code, 7, "{err}");
    assert!(err.contains("at least 10 characters"), "{err}");
    // Wrong usage (clap): 2.
    let (code, _, _) = cli.run(me, &["block"], None);
    assert_eq!(code, 2);
    // A link to a delivery, and none to something that is not one.
    let (code, out, err) = cli.run(me, &["open", "0193abc-d_1"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "doorstep://delivery/0193abc-d_1");
    let (code, _, err) = cli.run(me, &["open", "../settings"], None);
    assert_eq!(code, 7, "{err}");
    assert!(err.contains("is not a delivery id"), "{err}");

    let (code, _, err) = cli.run(
        me,
        &[
            "signup",
            "--email",
            "family@example.org",
            "--password-stdin",
        ],
        Some(&password),
    );
    assert_eq!(code, 0, "{err}");
    // Wrong password: 4, and nothing kept.
    let (code, _, err) = cli.run(
        other,
        &["login", "--email", "family@example.org", "--password-stdin"],
        Some("wrong password 123\n"),
    );
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("wrong e-mail or password"), "{err}");
    // Unknown delivery: 5.
    let (code, _, err) = cli.run(me, &["block", "no-such-delivery"], None);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("not found"), "{err}");
    // Cloud unreachable: 8.
    let (code, _, err) = cli.run(
        other,
        &[
            "login",
            "--cloud",
            "http://127.0.0.1:1",
            "--email",
            "family@example.org",
            "--password-stdin",
        ],
        Some(&password),
    );
    assert_eq!(code, 8, "{err}");
    assert!(err.contains("cannot reach the Doorstep cloud"), "{err}");

    // Expired session: the second device is signed out from the first: 3, with why.
    let (code, _, err) = cli.run(
        other,
        &[
            "login",
            "--email",
            "family@example.org",
            "--password-stdin",
            "--device-name",
            "Old laptop",
        ],
        Some(&password),
    );
    assert_eq!(code, 0, "{err}");
    let second_id = cli.ok_json(other, &["status"])["account"]["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    cli.ok_json(me, &["devices", "sign-out", &second_id]);
    let (code, _, err) = cli.run(other, &["deliveries"], None);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("signed out"), "{err}");
    // The first device is still in.
    let devices = cli.ok_json(me, &["devices", "list"]);
    assert!(
        devices
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["this_device"] == true && d["signed_in"] == true)
    );
    // Errors never echo the password.
    assert!(!err.contains(PASSWORD));

    // No keyring: a sentence saying what to install, exit 9, and no account made.
    let output = Command::new(binary("doorstep").unwrap())
        .args([
            "signup",
            "--email",
            "nokeyring@example.org",
            "--password-stdin",
        ])
        .envs(desktop.env())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("DOORSTEP_CLOUD", &cloud.url)
        .env("DOORSTEP_APP_ID", "dev.doorstep.test.cli3")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(password.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(9), "{err}");
    assert!(err.contains("apt-get install gnome-keyring"), "{err}");
}

#[test]
fn a_forgotten_password_is_replaced_from_the_command_line_with_the_recovery_key() {
    let desktop = DesktopSession::start().unwrap();
    let cloud = CloudProcess::start(&desktop.root().join("cloud")).unwrap();
    let cli = Cli {
        desktop: &desktop,
        cloud: cloud.url.clone(),
    };
    let (kitchen, hall) = ("dev.doorstep.test.cli", "dev.doorstep.test.cli2");
    let new_password = "a new password, written down this time";

    // The recovery key is shown once, at sign-up.
    let (code, out, err) = cli.run(
        kitchen,
        &[
            "signup",
            "--email",
            "family@example.org",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert_eq!(code, 0, "{err}");
    let recovery_key = out
        .lines()
        .map(str::trim)
        .find(|line| line.len() == 39 && line.split('-').count() == 8)
        .unwrap_or_else(|| panic!("no recovery key in {out}"))
        .to_owned();
    assert!(out.contains("Write it down"), "{out}");

    // A wrong key, or one mistyped: refused with a sentence, nothing kept.
    let mut wrong = recovery_key.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();
    let (code, _, err) = cli.run(
        hall,
        &["recover", "--email", "family@example.org", "--stdin"],
        Some(&format!("{wrong}\n{new_password}\n")),
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("wrong e-mail address or recovery key"),
        "{err}"
    );
    let (code, _, err) = cli.run(
        hall,
        &["recover", "--email", "family@example.org", "--stdin"],
        Some(&format!("{}0\n{new_password}\n", &recovery_key[..38])),
    );
    assert_eq!(code, 7, "{err}");
    assert!(err.contains("a recovery key has no '0'"), "{err}");
    let (code, _, _) = cli.run(hall, &["status"], None);
    assert_eq!(code, 3, "not signed in after a refused recovery");

    // Typed in lower case with spaces, as from paper: a new password, signed in.
    let typed = recovery_key.to_lowercase().replace('-', " ");
    let (code, out, err) = cli.run(
        hall,
        &["recover", "--email", "family@example.org", "--stdin"],
        Some(&format!("{typed}\n{new_password}\n")),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("The new password is set"), "{out}");
    assert!(!out.contains(&recovery_key) && !err.contains(&recovery_key));
    cli.ok_json(hall, &["status"]);

    // The old password is gone, the new one works.
    let (code, _, err) = cli.run(
        "dev.doorstep.test.cli3",
        &["login", "--email", "family@example.org", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert_eq!(code, 4, "{err}");
    let (code, _, err) = cli.run(
        "dev.doorstep.test.cli3",
        &["login", "--email", "family@example.org", "--password-stdin"],
        Some(&format!("{new_password}\n")),
    );
    assert_eq!(code, 0, "{err}");

    // A new recovery key retires the old one.
    let renewed = cli.ok_json(hall, &["recovery-key"])["recovery_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(renewed, recovery_key);
    let (code, _, err) = cli.run(
        "dev.doorstep.test.cli4",
        &["recover", "--email", "family@example.org", "--stdin"],
        Some(&format!("{recovery_key}\n{PASSWORD}\n")),
    );
    assert_eq!(code, 4, "the old key no longer works: {err}");
    let (code, _, err) = cli.run(
        "dev.doorstep.test.cli4",
        &["recover", "--email", "family@example.org", "--stdin"],
        Some(&format!("{renewed}\n{PASSWORD}\n")),
    );
    assert_eq!(code, 0, "{err}");
}
