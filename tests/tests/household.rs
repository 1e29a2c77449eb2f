//! The household side as real parts: two client cores signed into one login (two
//! keyring namespaces in a private Secret Service), the real cloud and lock
//! binaries, the courier client, and a real notification server receiving popups.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    reason = "a test fails by panicking and reports what it measured"
)]

use std::time::{Duration, Instant};

use doorstep_api::{Delivery, Event};
use doorstep_core::alerts::Intent;
use doorstep_core::popup::Notifier;
use doorstep_core::secrets::SecretStore;
use doorstep_core::{
    AppPaths, Client, Connection, CoreError, Credentials, ErrorKind, Feed, FeedOptions, FeedUpdate,
};
use doorstep_proto::{LockKind, SigningKey, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use testkit::DesktopSession;
use testkit::system::{CloudProcess, LockProcess, courier, eventually, lock_status};
use tokio::sync::broadcast;

const PASSWORD: &str = "correct horse battery staple";

fn credentials(cloud: &str, device: &str) -> Credentials {
    Credentials {
        cloud: cloud.to_owned(),
        email: "family@example.org".into(),
        password: SecretString::from(PASSWORD.to_owned()),
        totp: None,
        device_name: device.into(),
    }
}

/// A household with two devices, a paired lock, a carrier and its courier.
struct Home {
    desktop: DesktopSession,
    cloud: CloudProcess,
    lock: LockProcess,
    lock_control: String,
    kitchen: Client,
    /// The recovery key made with the login.
    recovery_key: doorstep_core::keys::RecoveryKey,
    laptop: Client,
    carrier_key: String,
    carrier: testkit::system::Carrier,
    courier_key_file: std::path::PathBuf,
    courier: SigningKey,
}

impl Home {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With extra environment for the cloud.
    async fn start_with(cloud_env: &[(&str, &str)]) -> Self {
        let desktop = DesktopSession::start().unwrap();
        desktop.enter();
        let root = desktop.root().to_path_buf();
        let cloud =
            CloudProcess::start_with(&root.join("cloud"), "127.0.0.1:0", cloud_env).unwrap();
        let home = desktop.doorstep_home();
        let (kitchen, recovery_key) = Client::create_account(
            &AppPaths::under(&home, "dev.doorstep.test.kitchen").unwrap(),
            credentials(&cloud.url, "Kitchen laptop"),
            "Europe/Berlin",
        )
        .await
        .unwrap();
        let laptop = Client::sign_in(
            &AppPaths::under(&home, "dev.doorstep.test.study").unwrap(),
            credentials(&cloud.url, "Study desktop"),
        )
        .await
        .unwrap();
        let code = kitchen
            .pairing_code("Front door", LockKind::Door)
            .await
            .unwrap();
        let lock = LockProcess::pair_and_run(&cloud.url, &code.code, &root.join("lock")).unwrap();
        eventually("the lock online", Duration::from_secs(10), || async {
            kitchen
                .locks()
                .await
                .ok()
                .filter(|locks| locks.iter().any(|l| l.online))
                .map(|_| ())
        })
        .await
        .unwrap();
        let carrier = cloud.add_carrier("DHL", None).unwrap();
        let carrier_key = carrier.api_key.clone();
        let courier = SigningKey::generate();
        let courier_key_file = root.join("courier.key");
        std::fs::write(&courier_key_file, courier.to_seed()).unwrap();
        Self {
            lock_control: lock.control.clone(),
            desktop,
            cloud,
            lock,
            kitchen,
            recovery_key,
            laptop,
            carrier_key,
            carrier,
            courier_key_file,
            courier,
        }
    }

    async fn announce(&self, tracking: &str) -> Delivery {
        let now = Timestamp::now().0;
        self.announce_for(tracking, (now - 60_000, now + 3_600_000))
            .await
    }

    /// A shipment for the window `(not_before, not_after)` (ms).
    async fn announce_for(&self, tracking: &str, window: (i64, i64)) -> Delivery {
        let household = &self.kitchen.account().household_id;
        let response = reqwest::Client::new()
            .post(format!("{}/v1/carrier/shipments", self.cloud.url))
            .bearer_auth(&self.carrier_key)
            .json(&json!({
                "tracking_id": tracking,
                "household_id": household,
                "window": { "not_before": window.0, "not_after": window.1 },
                "courier_key": self.courier.public_key().to_base64(),
                "shipment": self.carrier.sign(household, tracking, &self.courier.public_key(), window),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    async fn lock_back_online(&self) {
        let http = reqwest::Client::new();
        eventually("the lock back online", Duration::from_secs(15), || async {
            let status = lock_status(&http, &self.lock_control).await?;
            (status["online"] == true).then_some(())
        })
        .await
        .unwrap();
    }

    async fn courier_delivers(&self, tracking: &str) {
        let (code, output) = courier(
            &[
                "deliver",
                "--cloud",
                &self.cloud.url,
                "--lock",
                &self.lock_control,
                "--tracking",
                tracking,
                "--key",
                self.courier_key_file.to_str().unwrap(),
                "--inside-secs",
                "1",
            ],
            Some(&self.carrier_key),
        )
        .await
        .unwrap();
        assert_eq!(code, 0, "{output}");
    }
}

/// Waits for an event of `kind` (about `delivery`, when given) on `updates`.
async fn next_event(
    updates: &mut broadcast::Receiver<FeedUpdate>,
    kind: &str,
    delivery: Option<&str>,
    timeout: Duration,
) -> Event {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let update = tokio::time::timeout_at(deadline, updates.recv())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event within {timeout:?}"))
            .unwrap();
        if let FeedUpdate::Event(event) = update {
            let about = event.delivery_id();
            if event.kind() == kind && (delivery.is_none() || about == delivery) {
                return *event;
            }
        }
    }
}

fn feed_with_popups(client: &Client, auto_approve: bool) -> Feed {
    Feed::start(
        client,
        FeedOptions {
            popups: Some(Notifier::new("Doorstep")),
            auto_approve,
            language: Default::default(),
            muted: Default::default(),
        },
    )
}

async fn wait_for_connection(feed: &Feed, wanted: impl Fn(&Connection) -> bool) {
    let mut connection = feed.connection();
    tokio::time::timeout(Duration::from_secs(15), async {
        while !wanted(&connection.borrow_and_update()) {
            connection.changed().await.unwrap();
        }
    })
    .await
    .expect("the connection state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_of_one_login_see_each_others_actions_and_are_signed_out_separately() {
    let home = Home::start().await;
    let kitchen_feed = Feed::start(&home.kitchen, FeedOptions::default());
    let laptop_feed = Feed::start(&home.laptop, FeedOptions::default());
    let mut kitchen_events = kitchen_feed.subscribe();
    let mut laptop_events = laptop_feed.subscribe();
    wait_for_connection(&kitchen_feed, |c| *c == Connection::Online).await;
    wait_for_connection(&laptop_feed, |c| *c == Connection::Online).await;

    let delivery = home.announce("JJD-TWO-DEVICES").await;
    for updates in [&mut kitchen_events, &mut laptop_events] {
        next_event(
            updates,
            "delivery.announced",
            Some(&delivery.id),
            Duration::from_secs(5),
        )
        .await;
    }

    home.kitchen.approve(&delivery.id, None).await.unwrap();
    let approved = next_event(
        &mut laptop_events,
        "delivery.approved",
        Some(&delivery.id),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        approved.device_id.as_deref(),
        Some(home.kitchen.account().device_id.as_str()),
        "the event names the device that approved"
    );

    let pressed = Instant::now();
    let blocked = home.laptop.block(&delivery.id).await.unwrap();
    assert_eq!(blocked.state.as_str(), "blocked");
    next_event(
        &mut kitchen_events,
        "delivery.blocked",
        Some(&delivery.id),
        Duration::from_secs(5),
    )
    .await;
    // SPEC asks for under a second; the bench measures it, the test only reports it.
    eprintln!(
        "block on one device seen on the other after {:?}",
        pressed.elapsed()
    );
    // Blocking again is harmless.
    assert_eq!(
        home.kitchen
            .block(&delivery.id)
            .await
            .unwrap()
            .state
            .as_str(),
        "blocked"
    );

    let log = home.kitchen.audit(Some("delivery."), 20).await.unwrap();
    let who = |action: &str| {
        log.iter()
            .find(|e| e.action.as_str() == action)
            .and_then(|e| e.device_name.clone())
    };
    assert_eq!(who("delivery.approved").as_deref(), Some("Kitchen laptop"));
    assert_eq!(who("delivery.blocked").as_deref(), Some("Study desktop"));

    // Both devices keep their tokens in the keyring, each in its own namespace,
    // and nothing secret lands in their folders.
    for (client, app_id) in [
        (&home.kitchen, "dev.doorstep.test.kitchen"),
        (&home.laptop, "dev.doorstep.test.study"),
    ] {
        let store = SecretStore::new(app_id);
        let session = store
            .get("session")
            .unwrap()
            .expect("tokens in the keyring");
        let access: serde_json::Value =
            serde_json::from_str(secrecy::ExposeSecret::expose_secret(&session)).unwrap();
        let token = access["access_token"].as_str().unwrap();
        let refresh = access["refresh_token"].as_str().unwrap();
        for entry in walk(home.desktop.doorstep_home().join(app_id)) {
            let bytes = std::fs::read(&entry).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(token) && !text.contains(refresh),
                "{} holds a token",
                entry.display()
            );
        }
        assert!(client.account().cloud.starts_with("http://127.0.0.1"));
    }

    // The laptop is lost: the kitchen signs it out, and only it.
    home.kitchen
        .sign_out_device(&home.laptop.account().device_id)
        .await
        .unwrap();
    wait_for_connection(&laptop_feed, |c| matches!(c, Connection::SignedOut { .. })).await;
    let refused = home.laptop.deliveries().await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::NeedsSignIn, "{refused}");
    assert!(home.kitchen.deliveries().await.is_ok());
    assert_eq!(*kitchen_feed.connection().borrow(), Connection::Online);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloud_restarts_mid_delivery_and_the_feed_resumes_without_a_gap_or_a_second_popup() {
    let mut home = Home::start().await;
    let mut feed = feed_with_popups(&home.kitchen, false);
    let mut intents = feed.take_intents().unwrap();
    let mut updates = feed.subscribe();
    wait_for_connection(&feed, |c| *c == Connection::Online).await;
    let first_seq = feed.snapshot().await.last_seq;

    let delivery = home.announce("JJD-RESTART").await;
    let asked = home
        .desktop
        .wait_for_notification("Delivery announced", Duration::from_secs(5))
        .unwrap();
    let buttons: Vec<&str> = asked.actions.iter().map(|(id, _)| id.as_str()).collect();
    assert!(
        buttons.contains(&format!("approve:{}", delivery.id).as_str()),
        "{buttons:?}"
    );
    home.kitchen.approve(&delivery.id, None).await.unwrap();
    next_event(
        &mut updates,
        "delivery.approved",
        Some(&delivery.id),
        Duration::from_secs(5),
    )
    .await;

    // The cloud goes down and comes back on the same address.
    let address = home.cloud.url.trim_start_matches("http://").to_owned();
    let data_dir = home.cloud.data_dir.clone();
    home.cloud.stop();
    wait_for_connection(&feed, |c| matches!(c, Connection::Offline { .. })).await;
    home.cloud = CloudProcess::start_on(&data_dir, &address).unwrap();
    home.lock_back_online().await;
    // The courier does not wait for the feed: what happens before it reconnects is replayed.
    home.courier_delivers("JJD-RESTART").await;
    next_event(
        &mut updates,
        "delivery.completed",
        Some(&delivery.id),
        Duration::from_secs(20),
    )
    .await;

    let at_door = home
        .desktop
        .wait_for_notification("Courier at the door", Duration::from_secs(5))
        .unwrap();
    let buttons: Vec<(&str, &str)> = at_door
        .actions
        .iter()
        .map(|(id, label)| (id.as_str(), label.as_str()))
        .collect();
    assert!(
        buttons.contains(&(format!("watch:{}", delivery.id).as_str(), "Watch live")),
        "{buttons:?}"
    );
    assert!(
        buttons.contains(&(format!("block:{}", delivery.id).as_str(), "Block access")),
        "{buttons:?}"
    );
    home.desktop
        .wait_for_notification("Delivered", Duration::from_secs(5))
        .unwrap();

    // Every event once, in order, across the restart.
    let cache = feed.snapshot().await;
    let seqs: Vec<i64> = cache
        .events
        .iter()
        .map(|e| e.seq)
        .filter(|s| *s > first_seq)
        .collect();
    let expected: Vec<i64> = (first_seq + 1..=cache.last_seq).collect();
    assert_eq!(seqs, expected, "a gap or a duplicate in the event log");
    // One popup per moment, even though the stream was replayed.
    // A still of the courier added in the popup's place is the same moment, not
    // another popup: count each run of one title.
    let count = |title: &str| {
        let sent = home.desktop.notifications().unwrap();
        sent.iter()
            .enumerate()
            .filter(|(i, n)| n.summary == title && (*i == 0 || sent[i - 1].summary != title))
            .count()
    };
    assert_eq!(count("Courier at the door"), 1);
    assert_eq!(count("Delivered"), 1);
    assert_eq!(count("Delivery announced"), 1);
    // And one popup for the whole visit, updated in place: the question first,
    // every later step in its place.
    let sent = home.desktop.notifications().unwrap();
    let (first, later) = sent.split_first().unwrap();
    assert_eq!(first.summary, "Delivery announced");
    assert_eq!(first.replaces_id, 0);
    assert!(
        later
            .iter()
            .all(|n| n.replaces_id != 0 && n.replaces_id == later[0].replaces_id),
        "a second popup for one visit: {:?}",
        sent.iter()
            .map(|n| (n.summary.as_str(), n.replaces_id))
            .collect::<Vec<_>>()
    );

    // A click on the popup comes back as a typed intent: the body of "Delivered"
    // opens the clip.
    let before_click = home.desktop.notifications().unwrap().len();
    let clicked = std::process::Command::new("dunstctl")
        .args(["action", "0"])
        .status()
        .unwrap();
    assert!(clicked.success());
    let intent = tokio::time::timeout(Duration::from_secs(5), intents.recv())
        .await
        .expect("the click comes back");
    assert_eq!(intent, Some(Intent::WatchClip(delivery.id.clone())));
    // Clicked, it gets nothing late (a picture could bring it back where a server
    // closes a popup on a click), and signing out leaves nothing of the household up.
    feed.popups().unwrap().withdraw_all().unwrap();
    home.desktop
        .wait_for_popups_on_screen(0, Duration::from_secs(5))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        home.desktop.notifications().unwrap().len(),
        before_click,
        "the visit's popup came back after the click"
    );

    // The app restarts: it resumes from the cache, so nothing is shown twice.
    drop(feed);
    let restarted = feed_with_popups(&home.kitchen, false);
    wait_for_connection(&restarted, |c| *c == Connection::Online).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count("Courier at the door"), 1);
    assert_eq!(restarted.snapshot().await.last_seq, cache.last_seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_household_policy_approves_a_matching_delivery_without_asking() {
    let home = Home::start().await;
    home.kitchen
        .set_policy(
            vec!["DHL".into()],
            Vec::new(),
            doorstep_core::schedule_text::weekly("daily", "00:00-24:00", "Europe/Berlin").unwrap(),
            120,
        )
        .await
        .unwrap();
    let feed = feed_with_popups(&home.kitchen, true);
    let mut updates = feed.subscribe();
    wait_for_connection(&feed, |c| *c == Connection::Online).await;
    let delivery = home.announce("JJD-POLICY").await;
    let approved = next_event(
        &mut updates,
        "delivery.approved",
        Some(&delivery.id),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        approved.device_id.as_deref(),
        Some(home.kitchen.account().device_id.as_str())
    );
    assert!(
        !home
            .desktop
            .notifications()
            .unwrap()
            .iter()
            .any(|n| n.summary == "Delivery announced"),
        "no question when the policy already said yes"
    );

    // A window across local midnight, whatever the hour this runs at: "every day,
    // all day" admits it (it was refused whenever CI ran late in the evening).
    let all_day = doorstep_proto::WeeklyHours {
        time_zone: "Europe/Berlin".into(),
        days: (1..=7).collect(),
        from_minute: 0,
        until_minute: 1440,
    };
    // The next day's span starts at a local midnight still ahead.
    let midnight = all_day
        .window_at(Timestamp::now().plus_millis(86_400_000))
        .unwrap()
        .not_before
        .0;
    let across = home
        .announce_for("JJD-MIDNIGHT", (midnight - 3_600_000, midnight + 3_600_000))
        .await;
    next_event(
        &mut updates,
        "delivery.approved",
        Some(&across.id),
        Duration::from_secs(5),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_replaced_with_the_recovery_key_which_the_cloud_never_holds() {
    let home = Home::start().await;
    let feed = feed_with_popups(&home.kitchen, false);
    wait_for_connection(&feed, |c| *c == Connection::Online).await;
    let written_down = home.recovery_key.to_text();
    let paper = || doorstep_core::keys::RecoveryKey::parse(written_down.expose_secret()).unwrap();
    let new_password = "the new password, on paper too";
    let recovery = |recovery_key, device: &str| doorstep_core::Recovery {
        cloud: home.cloud.url.clone(),
        email: "family@example.org".into(),
        recovery_key,
        new_password: SecretString::from(new_password.to_owned()),
        totp: None,
        device_name: device.into(),
    };
    let hall = AppPaths::under(&home.desktop.doorstep_home(), "dev.doorstep.test.hall").unwrap();

    // Another recovery key (a guess) is refused, and nothing is kept.
    let error = Client::recover(
        &hall,
        recovery(doorstep_core::keys::RecoveryKey::generate(), "Guess"),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, CoreError::RecoveryRefused(_)), "{error}");
    assert_eq!(error.kind(), ErrorKind::Credentials);
    assert!(Client::restore(&hall).unwrap().is_none());

    // The one from paper: a new password, and a device that holds the household key
    // (its signed approval is accepted by the cloud and the lock's rules).
    let recovered = Client::recover(&hall, recovery(paper(), "Hall terminal"))
        .await
        .unwrap();
    assert_eq!(
        recovered.account().household_id,
        home.kitchen.account().household_id
    );
    let delivery = home.announce("JJD-RECOVERED").await;
    let approved = recovered.approve(&delivery.id, None).await.unwrap();
    assert!(approved.approved);

    // The old password opens nothing; the new one signs a device in.
    let study = AppPaths::under(&home.desktop.doorstep_home(), "dev.doorstep.test.other").unwrap();
    let error = Client::sign_in(&study, credentials(&home.cloud.url, "Study"))
        .await
        .unwrap_err();
    assert!(matches!(error, CoreError::WrongPassword), "{error}");
    let mut with_new = credentials(&home.cloud.url, "Study");
    with_new.password = SecretString::from(new_password.to_owned());
    Client::sign_in(&study, with_new).await.unwrap();

    // The devices signed in before stay signed in, and are told with a warning.
    home.desktop
        .wait_for_notification(
            "The household's password was changed",
            Duration::from_secs(10),
        )
        .unwrap();
    home.laptop.deliveries().await.unwrap();

    // The cloud's data folder in an attacker's hands holds neither the recovery key
    // nor its proof: only the proof's Argon2id hash and a seal they cannot open.
    let proof = home.recovery_key.auth_key_text();
    let symbols: String = written_down
        .expose_secret()
        .chars()
        .filter(|c| *c != '-')
        .collect();
    for entry in walk(home.cloud.data_dir.clone()) {
        let bytes = std::fs::read(&entry).unwrap();
        for secret in [
            written_down.expose_secret(),
            symbols.as_str(),
            proof.expose_secret(),
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a recovery secret",
                entry.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_unknown_delivery_and_an_unreachable_cloud_are_clear_errors() {
    let home = Home::start().await;
    let paths =
        AppPaths::under(&home.desktop.doorstep_home(), "dev.doorstep.test.intruder").unwrap();
    let mut wrong = credentials(&home.cloud.url, "Intruder");
    wrong.password = SecretString::from("not the password".to_owned());
    let error = Client::sign_in(&paths, wrong).await.unwrap_err();
    assert!(matches!(error, CoreError::WrongPassword), "{error}");
    assert!(
        Client::restore(&paths).unwrap().is_none(),
        "nothing kept after a failed sign-in"
    );

    // Confirming the password for a sensitive action: the right one works, a
    // wrong one is told as such.
    home.kitchen
        .confirm_password(&SecretString::from(PASSWORD.to_owned()), None)
        .await
        .unwrap();
    let error = home
        .kitchen
        .confirm_password(&SecretString::from("not the password".to_owned()), None)
        .await
        .unwrap_err();
    assert!(matches!(error, CoreError::WrongPassword), "{error}");

    let error = home.kitchen.block("no-such-delivery").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    let error = home.kitchen.reroute("x", "Nowhere").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid, "{error}");
    assert!(error.to_string().contains("add one first"), "{error}");

    let error = Client::sign_in(&paths, credentials("http://127.0.0.1:1", "Offline"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unreachable, "{error}");
    assert!(error.to_string().contains("cannot reach"), "{error}");
}

fn walk(dir: std::path::PathBuf) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_household_watches_the_entry_live_sees_it_go_stale_and_seeks_the_recording() {
    use doorstep_core::video::{LiveUpdate, LiveView};

    let home = Home::start().await;
    let feed = feed_with_popups(&home.kitchen, false);
    let mut updates = feed.subscribe();
    wait_for_connection(&feed, |c| *c == Connection::Online).await;
    let delivery = home.announce("JJD-LIVE").await;
    home.kitchen.approve(&delivery.id, None).await.unwrap();

    let courier = {
        let args: Vec<String> = [
            "deliver",
            "--cloud",
            &home.cloud.url,
            "--lock",
            &home.lock_control,
            "--tracking",
            "JJD-LIVE",
            "--key",
            home.courier_key_file.to_str().unwrap(),
            "--inside-secs",
            "5",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let carrier_key = home.carrier_key.clone();
        tokio::spawn(async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            courier(&args, Some(&carrier_key)).await.unwrap()
        })
    };
    next_event(
        &mut updates,
        "delivery.door_open",
        Some(&delivery.id),
        Duration::from_secs(10),
    )
    .await;

    let lock_id = home.kitchen.locks().await.unwrap()[0].id.clone();
    let mut live = LiveView::open(&home.kitchen, &lock_id).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        match live.next().await.unwrap().expect("the relay stays open") {
            LiveUpdate::Frame { frame, age_ms } => {
                assert!(age_ms < 2_000, "a live frame {age_ms} ms old");
                seen.push(frame.seq);
            }
            LiveUpdate::Stale { .. } => panic!("stale while the camera streams"),
        }
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "frames advance: {seen:?}"
    );
    let path = home.desktop.root().join("door.jpg");
    live.latest().unwrap().save(&path).unwrap();
    assert_eq!(&std::fs::read(&path).unwrap()[..2], &[0xFF, 0xD8], "a JPEG");

    // The camera is unplugged: the picture goes stale and the household is alerted.
    let http = reqwest::Client::new();
    http.post(format!("{}/camera/unplug", home.lock_control))
        .send()
        .await
        .unwrap();
    let stale = loop {
        match live.next().await.unwrap() {
            Some(LiveUpdate::Stale { silent_for }) => break silent_for,
            Some(LiveUpdate::Frame { .. }) => {}
            None => panic!("the relay closed instead of going quiet"),
        }
    };
    assert!(stale >= doorstep_core::video::STALE_AFTER, "{stale:?}");
    home.desktop
        .wait_for_notification("Camera lost during delivery", Duration::from_secs(5))
        .unwrap();
    http.post(format!("{}/camera/plug", home.lock_control))
        .send()
        .await
        .unwrap();
    let (code, output) = courier.await.unwrap();
    assert_eq!(code, 0, "{output}");
    next_event(
        &mut updates,
        "delivery.completed",
        Some(&delivery.id),
        Duration::from_secs(10),
    )
    .await;

    // The visit was recorded; seeking lands on the first frame at or after the time asked.
    let recordings = home.kitchen.recordings(Some(&delivery.id)).await.unwrap();
    let recording = recordings.first().expect("a recording of the visit");
    let start = home
        .kitchen
        .recording_frame(&recording.id, None)
        .await
        .unwrap();
    assert_eq!(start.captured_at, recording.started_at);
    let middle = recording.started_at + (recording.last_frame_at - recording.started_at) / 2;
    let sought = home
        .kitchen
        .recording_frame(&recording.id, Some(middle))
        .await
        .unwrap();
    assert!(
        sought.captured_at >= middle && sought.seq > start.seq,
        "{} vs {middle}",
        sought.captured_at
    );
    let error = home
        .kitchen
        .recording_frame("no-such-recording", None)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    // The clip says whose parcel it is.
    assert_eq!(
        recording.carrier.as_deref(),
        Some(delivery.carrier.as_str())
    );
    assert_eq!(
        recording.tracking_id.as_deref(),
        Some(delivery.tracking_id.as_str())
    );
    assert_eq!(recording.lock_name, "Front door");

    // Played back, every frame comes in capture order, and no faster than it was
    // filmed (batches of 50 are fetched ahead while the earlier ones play).
    let mut playback = doorstep_core::video::Playback::start(&home.kitchen, &recording.id, None)
        .await
        .unwrap();
    let began = std::time::Instant::now();
    let mut played = Vec::new();
    while let Some(message) = playback.next().await.unwrap() {
        played.push(
            doorstep_core::video::Frame::decode(&message)
                .unwrap()
                .captured_at,
        );
    }
    let took = began.elapsed();
    // The camera's post-roll may still have added a frame since the list was read.
    let now_listed = home.kitchen.recordings(Some(&delivery.id)).await.unwrap();
    let after = now_listed.iter().find(|r| r.id == recording.id).unwrap();
    assert!(
        (recording.frames..=after.frames).contains(&(played.len() as i64)),
        "every frame is played: {} of {}–{}",
        played.len(),
        recording.frames,
        after.frames
    );
    assert!(played.windows(2).all(|w| w[0] <= w[1]), "in capture order");
    assert_eq!(played[0], recording.started_at);
    assert!(*played.last().unwrap() >= recording.last_frame_at);
    let filmed = Duration::from_millis((recording.last_frame_at - recording.started_at) as u64);
    assert!(
        took + Duration::from_millis(50) >= filmed,
        "{filmed:?} of video played in {took:?}"
    );
    // From the middle, it starts there.
    let mut from_middle =
        doorstep_core::video::Playback::start(&home.kitchen, &recording.id, Some(middle))
            .await
            .unwrap();
    let first = from_middle.next().await.unwrap().unwrap();
    assert_eq!(
        doorstep_core::video::Frame::decode(&first)
            .unwrap()
            .captured_at,
        sought.captured_at
    );
    drop(from_middle);

    // Deleted from another computer of the household (once the camera is done with
    // it: until then the cloud says it is still recording), it is gone for every one.
    eventually("the recording deleted", Duration::from_secs(20), || async {
        match home.laptop.delete_recording(&recording.id).await {
            Ok(()) => Some(()),
            Err(e) if e.kind() == ErrorKind::Conflict => None,
            Err(e) => panic!("{e}"),
        }
    })
    .await
    .unwrap();
    let left = home.kitchen.recordings(Some(&delivery.id)).await.unwrap();
    assert!(left.iter().all(|r| r.id != recording.id), "{left:?}");
    let error = home
        .kitchen
        .recording_frame(&recording.id, None)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    let error = doorstep_core::video::Playback::start(&home.kitchen, &recording.id, None)
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_that_goes_silent_gets_one_popup_which_then_says_it_is_back() {
    let mut home = Home::start_with(&[("DOORSTEP_LOCK_OFFLINE_ALARM_SECS", "2")]).await;
    let feed = feed_with_popups(&home.kitchen, false);
    wait_for_connection(&feed, |c| *c == Connection::Online).await;

    // The lock's process stops (a power cut, say): the household hears of it.
    home.lock.stop();
    let offline = home
        .desktop
        .wait_for_notification("Front door is offline", Duration::from_secs(20))
        .unwrap();
    assert_eq!(offline.replaces_id, 0);
    assert!(
        offline.body.contains("Nobody can be let in"),
        "{}",
        offline.body
    );

    // Back: the same popup says so.
    home.lock = LockProcess::run(&home.desktop.root().join("lock")).unwrap();
    let back = home
        .desktop
        .wait_for_notification("Front door is back online", Duration::from_secs(20))
        .unwrap();
    assert_ne!(
        back.replaces_id, 0,
        "a second popup instead of the first one updated"
    );
    let offline_popups = home
        .desktop
        .notifications()
        .unwrap()
        .iter()
        .filter(|n| n.summary == "Front door is offline")
        .count();
    assert_eq!(offline_popups, 1, "told once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_invited_by_code_gets_in_and_a_redemption_without_the_code_lets_nobody_in() {
    use doorstep_core::invitations::InvitationState;
    use doorstep_proto::{GuestSchedule, WeeklyHours};
    let home = Home::start().await;
    let every_day = GuestSchedule::Weekly(WeeklyHours {
        time_zone: "Europe/Berlin".into(),
        days: (1..=7).collect(),
        from_minute: 0,
        until_minute: 24 * 60,
    });

    // Someone who knows only the code's name (it is all a breached cloud's database
    // holds) redeems it with their own key: the cloud cannot tell, the household's
    // devices can, and sign nobody in.
    let stolen = home
        .kitchen
        .invite_guest("Target", every_day.clone(), &[])
        .await
        .unwrap();
    let forger = SigningKey::generate();
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/guest-invitations/redeem", home.cloud.url))
        .json(&json!({
            "id": stolen.id,
            "guest_key": forger.public_key().to_base64(),
            "proof": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        200,
        "the cloud stores what it cannot check"
    );
    assert!(home.laptop.complete_redeemed().await.unwrap().is_empty());
    let listed = home.kitchen.invitations().await.unwrap();
    let stolen_now = listed.iter().find(|i| i.id == stolen.id).unwrap();
    assert_eq!(stolen_now.state, InvitationState::Refused);
    assert!(
        home.kitchen.guests().await.unwrap().is_empty(),
        "nobody was signed in"
    );

    // Ana redeems hers with doorstep-courier, which makes her key; the household's
    // feed signs her in by itself, and she opens the door in her hours.
    let feed = feed_with_popups(&home.laptop, true);
    wait_for_connection(&feed, |c| *c == Connection::Online).await;
    let invited = home
        .kitchen
        .invite_guest("Ana", every_day, &[])
        .await
        .unwrap();
    let key = home.desktop.root().join("ana.key");
    let (code, output) = courier(
        &[
            "guest",
            "--cloud",
            &home.cloud.url,
            "--code",
            &invited.code,
            "--key-out",
            key.to_str().unwrap(),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "{output}");
    let guest_id = output
        .lines()
        .find_map(|l| l.strip_prefix("Your guest id: "))
        .unwrap_or_else(|| panic!("{output}"))
        .to_owned();
    let ana_key = doorstep_courier::read_key(&key).unwrap().public_key();
    let ana = eventually(
        "Ana signed in by the feed",
        Duration::from_secs(15),
        || async {
            home.kitchen
                .guests()
                .await
                .ok()?
                .into_iter()
                .find(|g| g.id == guest_id)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        ana.public_key,
        ana_key.to_base64(),
        "her own key, not the cloud's"
    );
    let (code, output) = courier(
        &[
            "visit",
            "--cloud",
            &home.cloud.url,
            "--lock",
            &home.lock_control,
            "--guest",
            &guest_id,
            "--key",
            key.to_str().unwrap(),
            "--inside-secs",
            "1",
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "{output}");
    // Her visit was filmed, and the recording says whose visit it was.
    eventually("Ana's visit recorded", Duration::from_secs(20), || async {
        home.kitchen
            .recordings(None)
            .await
            .ok()?
            .into_iter()
            .find(|r| r.guest.as_deref() == Some("Ana") && r.delivery_id.is_none())
    })
    .await
    .unwrap();

    // A mistyped code is told in a sentence, and leaves no key behind.
    let wrong = home.desktop.root().join("wrong.key");
    let (code, output) = courier(
        &[
            "guest",
            "--cloud",
            &home.cloud.url,
            "--code",
            "ABCD-EFGH-JKLM",
            "--key-out",
            wrong.to_str().unwrap(),
        ],
        None,
    )
    .await
    .unwrap();
    assert_ne!(code, 0);
    assert!(output.contains("24 letters and digits"), "{output}");
    assert!(!wrong.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_of_popup_turned_off_is_not_shown_and_no_older_popup_stays_up_in_its_place() {
    use doorstep_core::alerts::{MutedPopups, PopupKind};
    let home = Home::start().await;
    let muted = MutedPopups::new([PopupKind::OnTheWay]);
    let feed = Feed::start(
        &home.kitchen,
        FeedOptions {
            popups: Some(Notifier::new("Doorstep")),
            auto_approve: false,
            language: Default::default(),
            muted: muted.clone(),
        },
    );
    let mut updates = feed.subscribe();
    wait_for_connection(&feed, |c| *c == Connection::Online).await;

    // "On the way" is off here: the announcement brings no popup.
    let delivery = home.announce("JJD-QUIET").await;
    next_event(
        &mut updates,
        "delivery.announced",
        Some(&delivery.id),
        Duration::from_secs(5),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        home.desktop.notifications().unwrap().is_empty(),
        "{:?}",
        home.desktop.notifications().unwrap()
    );

    // "At the door" is on; "how it ended" is turned off before the courier comes:
    // the at-door popup comes, and once delivered it is taken down rather than left
    // saying the courier is at the door.
    muted.set(PopupKind::Outcome, false);
    home.kitchen.approve(&delivery.id, None).await.unwrap();
    home.courier_delivers("JJD-QUIET").await;
    let at_door = home
        .desktop
        .wait_for_notification("Courier at the door", Duration::from_secs(10))
        .unwrap();
    next_event(
        &mut updates,
        "delivery.completed",
        Some(&delivery.id),
        Duration::from_secs(20),
    )
    .await;
    home.desktop
        .wait_for_popups_on_screen(0, Duration::from_secs(5))
        .unwrap();
    assert!(
        home.desktop
            .notifications()
            .unwrap()
            .iter()
            .all(|n| n.summary != "Delivered"),
        "an outcome popup although turned off"
    );
    let _ = at_door;
}
