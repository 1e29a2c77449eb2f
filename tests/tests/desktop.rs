//! The desktop services the app relies on, for real: the Secret Service keyring
//! and a notification server, in a private session per test.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]

use std::process::Command;
use std::time::Duration;

use doorstep_core::popup::{Notifier, Popup};
use doorstep_core::secrets::SecretStore;
use secrecy::{ExposeSecret, SecretString};
use testkit::DesktopSession;

#[test]
fn a_secret_is_stored_read_and_deleted_in_the_real_keyring() {
    let desktop = DesktopSession::start().unwrap();
    desktop.enter();
    let store = SecretStore::new("dev.doorstep.test");
    let token = SecretString::from("refresh-token-7f3a".to_owned());

    store.set("refresh-token", &token).unwrap();

    let read = store
        .get("refresh-token")
        .unwrap()
        .expect("the secret is there");
    assert_eq!(read.expose_secret(), "refresh-token-7f3a");
    // Another client of the same Secret Service sees it: the write reached
    // gnome-keyring, not an in-memory stand-in.
    let lookup = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            "dev.doorstep.test",
            "username",
            "refresh-token",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&lookup.stdout),
        "refresh-token-7f3a"
    );

    store.delete("refresh-token").unwrap();
    assert!(store.get("refresh-token").unwrap().is_none());
    // Deleting twice is fine: sign-out can be repeated.
    store.delete("refresh-token").unwrap();
}

#[test]
fn namespaces_keep_two_builds_apart() {
    let desktop = DesktopSession::start().unwrap();
    desktop.enter();
    let release = SecretStore::new("dev.doorstep.app");
    let test = SecretStore::new("dev.doorstep.app.e2e");
    release
        .set("refresh-token", &SecretString::from("release".to_owned()))
        .unwrap();
    assert!(test.get("refresh-token").unwrap().is_none());
}

#[test]
fn without_a_keyring_the_error_says_what_to_install() {
    let desktop = DesktopSession::start().unwrap();
    desktop.enter();
    // A bus with nothing on it: no Secret Service answers.
    // SAFETY: single-threaded test process (nextest), before any other thread.
    #[allow(unsafe_code, reason = "point the keyring client at a dead bus")]
    unsafe {
        std::env::set_var(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus-here", desktop.root().display()),
        );
    }
    let err = SecretStore::new("dev.doorstep.test")
        .set("refresh-token", &SecretString::from("x".to_owned()))
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("no secure store is available"),
        "{message}"
    );
    assert!(message.contains("gnome-keyring"), "{message}");
}

#[test]
fn a_popup_with_two_actions_reaches_the_notification_server() {
    let desktop = DesktopSession::start().unwrap();
    desktop.enter();
    let popup = Popup::new("Courier at the door", "DHL is at your front door.")
        .with_action("watch", "Watch live")
        .with_action("block", "Block access");

    Notifier::new("Doorstep").show(&popup).unwrap();

    let received = desktop
        .wait_for_notification("Courier at the door", Duration::from_secs(5))
        .unwrap();
    assert_eq!(received.app_name, "Doorstep");
    assert_eq!(received.body, "DHL is at your front door.");
    assert_eq!(
        received.actions,
        vec![
            ("watch".to_owned(), "Watch live".to_owned()),
            ("block".to_owned(), "Block access".to_owned()),
        ]
    );
}

#[test]
fn the_notification_server_names_itself() {
    let desktop = DesktopSession::start().unwrap();
    desktop.enter();
    let info = Notifier::new("Doorstep").server_info().unwrap();
    assert_eq!(info.name, "dunst");
}

#[test]
fn a_visit_keeps_one_popup_updated_in_place_until_it_is_withdrawn() {
    use doorstep_core::alerts::{Alert, Intent};
    use doorstep_core::popup::Urgency;
    use doorstep_core::popup_board::{PopupBoard, PopupKey};

    let desktop = DesktopSession::start().unwrap();
    desktop.enter();
    let (intents, mut clicks) = tokio::sync::mpsc::unbounded_channel();
    let board = PopupBoard::new(Notifier::new("Doorstep"), intents);
    let visit = PopupKey::Visit("d1".into());
    let step = |title: &str, default: Intent| Alert {
        popup: Popup::new(title, "DHL")
            .urgency(Urgency::Critical)
            .with_action("default", "Open")
            .with_action("block:d1", "Block access"),
        default,
    };

    for title in ["Courier arriving in 5 min", "Courier at the door"] {
        board
            .show(visit.clone(), step(title, Intent::Open("d1".into())))
            .unwrap();
    }
    // The same again is not sent again; the next step replaces it.
    board
        .show(
            visit.clone(),
            step("Courier at the door", Intent::Open("d1".into())),
        )
        .unwrap();
    board
        .show(
            visit.clone(),
            step("Courier inside now", Intent::WatchLive("d1".into())),
        )
        .unwrap();
    // An alarm has a popup of its own.
    let alarm = PopupKey::Alarm {
        lock_id: Some("l1".into()),
        kind: "lock.jammed".into(),
    };
    board
        .show(
            alarm.clone(),
            Alert {
                popup: Popup::new("Lock jammed", "Check the door.").with_action("default", "Open"),
                default: Intent::OpenLog,
            },
        )
        .unwrap();

    desktop
        .wait_for_notification("Lock jammed", Duration::from_secs(5))
        .unwrap();
    let sent = desktop.notifications().unwrap();
    let titles: Vec<&str> = sent.iter().map(|n| n.summary.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Courier arriving in 5 min",
            "Courier at the door",
            "Courier inside now",
            "Lock jammed"
        ]
    );
    assert_eq!(sent[0].replaces_id, 0, "the visit's first popup is new");
    assert_ne!(sent[1].replaces_id, 0);
    assert_eq!(sent[1].replaces_id, sent[2].replaces_id, "updated in place");
    assert_eq!(
        sent[3].replaces_id, 0,
        "an alarm is not a step of the visit"
    );
    desktop
        .wait_for_popups_on_screen(2, Duration::from_secs(5))
        .unwrap();

    // A click on the body means what the newest version says, once.
    let clicked = Command::new("dunstctl")
        .args(["action", "0"])
        .envs(desktop.env())
        .status()
        .unwrap();
    assert!(clicked.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let click = loop {
        if let Ok(click) = clicks.try_recv() {
            break click;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the click never came back"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        [Intent::WatchLive("d1".into()), Intent::OpenLog].contains(&click),
        "{click:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(clicks.try_recv().is_err(), "one click, one intent");

    // Clicked, a popup gets no late picture: on a server that closes a popup on a
    // click, that would bring it back. What comes next for it still takes its place.
    let clicked_key = if click == Intent::OpenLog {
        alarm.clone()
    } else {
        visit.clone()
    };
    board
        .add_picture(clicked_key.clone(), desktop.root().join("still.jpg"))
        .unwrap();
    assert_eq!(
        desktop.notifications().unwrap().len(),
        sent.len(),
        "a picture sent for a clicked popup"
    );
    board
        .show(
            clicked_key,
            step("Delivered", Intent::WatchClip("d1".into())),
        )
        .unwrap();
    let after = desktop.notifications().unwrap();
    assert_eq!(after.len(), sent.len() + 1);
    assert_ne!(after.last().unwrap().replaces_id, 0, "in its place");

    board.withdraw_all().unwrap();
    desktop
        .wait_for_popups_on_screen(0, Duration::from_secs(5))
        .unwrap();
    let closed = desktop.closed_notifications().unwrap();
    assert_eq!(closed.len(), 2, "{closed:?}");
}
