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
