//! The demo home as the app starts it: a local cloud, lock, camera and courier in
//! this process, and the household's feed receiving a whole delivery.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::time::Duration;

use doorstep_core::{AppPaths, Connection, Feed, FeedOptions, FeedUpdate};
use doorstep_demo::{DemoHome, Pace};
use testkit::DesktopSession;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_courier_announces_comes_in_and_the_feed_sees_it_all() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info,doorstep_cloud=warn")
        .with_test_writer()
        .try_init();
    let desktop = DesktopSession::start().unwrap();
    desktop.enter();
    let paths = AppPaths::under(&desktop.doorstep_home(), "dev.doorstep.test.demo").unwrap();
    let pace = Pace {
        arrival_after: Duration::from_secs(1),
        inside: Duration::from_secs(1),
        every: Duration::from_secs(600),
    };
    let (mut demo, client) = DemoHome::start(&paths, pace).await.unwrap();
    let feed = Feed::start(
        &client,
        FeedOptions {
            popups: Some(doorstep_core::popup::Notifier::new("Doorstep")),
            auto_approve: true,
            language: Default::default(),
            muted: Default::default(),
        },
    );
    let mut updates = feed.subscribe();
    let mut connection = feed.connection();
    tokio::time::timeout(Duration::from_secs(10), async {
        while *connection.borrow_and_update() != Connection::Online {
            connection.changed().await.unwrap();
        }
    })
    .await
    .expect("the feed online");
    demo.start_courier();

    let mut kinds = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !kinds.iter().any(|k| k == "delivery.completed") {
        match tokio::time::timeout_at(deadline, updates.recv()).await {
            Ok(Ok(FeedUpdate::Event(event))) => kinds.push(event.kind().to_owned()),
            Ok(Ok(FeedUpdate::Connection(state))) => assert!(
                matches!(state, Connection::Online | Connection::Connecting),
                "the feed dropped: {state:?} after {kinds:?}"
            ),
            Ok(Err(e)) => panic!("{e}"),
            Err(_) => panic!("no completed delivery; events: {kinds:?}"),
        }
    }
    for kind in [
        "delivery.announced",
        "delivery.approved",
        "delivery.at_door",
        "delivery.door_open",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing from {kinds:?}"
        );
    }
    desktop
        .wait_for_notification("Courier at the door", Duration::from_secs(5))
        .unwrap();

    // The demo comes back after a restart of the app, signed in to the same household.
    let household = client.account().household_id.clone();
    drop(feed);
    demo.stop().await;
    let (again, client) = DemoHome::start(&paths, pace).await.unwrap();
    assert_eq!(client.account().household_id, household);
    assert_eq!(client.locks().await.unwrap().len(), 1);
    again.stop().await;
}
