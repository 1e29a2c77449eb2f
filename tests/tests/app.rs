//! The real app window (test configuration) under Xvfb, driven through WebDriver.
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

use testkit::{AppUnderTest, DesktopSession};

#[tokio::test]
async fn the_computer_check_button_asks_rust_and_shows_its_answer() {
    let desktop = DesktopSession::start().unwrap();
    let app = AppUnderTest::launch(&desktop).await.unwrap();
    app.screenshot("welcome").await.unwrap();
    assert_eq!(app.unnamed_controls().await.unwrap(), Vec::<String>::new());

    app.click("[data-testid=run-check]").await.unwrap();

    let headline = app.text("[data-testid=check-headline]").await.unwrap();
    assert_eq!(headline, "This computer has everything Doorstep needs.");
    let keyring = app.text("[data-testid=check-keyring]").await.unwrap();
    assert!(keyring.contains("stores and returns secrets"), "{keyring}");
    let popups = app.text("[data-testid=check-notifications]").await.unwrap();
    assert!(popups.contains("dunst"), "{popups}");
    // The test build keeps its data in the test's own folder, under its own identifier.
    let meta = app.text("[data-testid=check-result] .meta").await.unwrap();
    let expected = desktop.doorstep_home().join("dev.doorstep.app.e2e");
    assert!(meta.contains(&expected.display().to_string()), "{meta}");
    app.screenshot("welcome-computer-checked").await.unwrap();

    app.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_made_in_the_window_writes_down_its_recovery_key_and_gets_back_in_with_it() {
    let desktop = DesktopSession::start().unwrap();
    let cloud = testkit::system::CloudProcess::start(&desktop.root().join("cloud")).unwrap();
    let app = AppUnderTest::launch(&desktop).await.unwrap();
    let fill = |css: &'static str, value: String| fill_in(&app, css, value);
    let password = "correct horse battery staple";

    // A new household shows its recovery key once, before anything else.
    app.click("[data-testid=create-account]").await.unwrap();
    fill("[data-testid=cloud]", cloud.url.clone()).await;
    fill("[data-testid=email]", "family@example.org".into()).await;
    fill("[data-testid=password]", password.into()).await;
    app.click("[data-testid=submit]").await.unwrap();
    let first_key = app.text("[data-testid=recovery-key]").await.unwrap();
    assert_eq!(first_key.len(), 39, "{first_key}");
    assert_eq!(first_key.split('-').count(), 8, "{first_key}");
    app.screenshot("recovery-key-shown").await.unwrap();
    assert_eq!(app.unnamed_controls().await.unwrap(), Vec::<String>::new());

    // The window is closed on that screen. Opened again, the household is signed in
    // and Home reminds it to make a recovery key it can write down.
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.close().await.unwrap();
    let app = AppUnderTest::launch(&desktop).await.unwrap();
    let fill = |css: &'static str, value: String| fill_in(&app, css, value);
    app.wait_for("[data-testid=recovery-reminder]")
        .await
        .unwrap();
    app.screenshot("recovery-reminder").await.unwrap();
    app.click("[data-testid=recovery-reminder] button")
        .await
        .unwrap();

    // Settings make a new one (freshly signed in, no password asked); the first
    // stops working, and the reminder goes.
    app.click("[data-testid=new-recovery-key-button]")
        .await
        .unwrap();
    let new_key = app.text("[data-testid=new-recovery-key]").await.unwrap();
    assert_eq!(new_key.len(), 39, "{new_key}");
    assert_ne!(new_key, first_key);
    app.screenshot("settings-recovery-key").await.unwrap();
    app.click("[data-testid=nav-home]").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.script("return document.querySelector('[data-testid=recovery-reminder]') === null;")
            .await
            .unwrap(),
        serde_json::json!(true)
    );
    app.click("[data-testid=nav-settings]").await.unwrap();

    // The home took this computer's time zone; it can be moved.
    let zone_of_page = app
        .script("return Intl.DateTimeFormat().resolvedOptions().timeZone;")
        .await
        .unwrap();
    let zone = || {
        let app = &app;
        async move {
            app.wait_for("[data-testid=time-zone]")
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default()
        }
    };
    assert_eq!(serde_json::json!(zone().await), zone_of_page);
    let moved = if zone_of_page == "Asia/Tokyo" {
        "Europe/Berlin"
    } else {
        "Asia/Tokyo"
    };
    fill("[data-testid=time-zone]", moved.into()).await;
    app.click("[data-testid=time-zone-save]").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.click("[data-testid=nav-home]").await.unwrap();
    app.click("[data-testid=nav-settings]").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(zone().await, moved);

    // Signed out, the password forgotten: the recovery key from paper gets back in.
    app.click("[data-testid=sign-out]").await.unwrap();
    app.click("[data-testid=sign-in]").await.unwrap();
    app.click("[data-testid=forgot] summary").await.unwrap();
    app.click("[data-testid=use-recovery-key]").await.unwrap();
    fill("[data-testid=cloud]", cloud.url.clone()).await;
    fill("[data-testid=email]", "family@example.org".into()).await;
    fill("[data-testid=recovery-key-input]", first_key.clone()).await;
    fill(
        "[data-testid=password]",
        "a new password for the family".into(),
    )
    .await;
    app.click("[data-testid=submit]").await.unwrap();
    let error = app.text("[data-testid=form-error]").await.unwrap();
    assert!(error.contains("recovery key"), "{error}");
    app.screenshot("recovery-refused").await.unwrap();
    fill(
        "[data-testid=recovery-key-input]",
        new_key.to_lowercase().replace('-', " "),
    )
    .await;
    app.click("[data-testid=submit]").await.unwrap();
    app.wait_for("[data-testid=sign-out]").await.unwrap();
    app.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_home_shows_the_courier_live_and_block_and_reroute_work() {
    let desktop = DesktopSession::start().unwrap();
    // This process plays a second computer of the household: same keyring and bus.
    desktop.enter();
    // The courier comes 3 s after announcing and stays inside 40 s: time to watch and block.
    let log = desktop.root().join("app.log");
    let app = AppUnderTest::launch_with_env(
        &desktop,
        &[
            ("DOORSTEP_DEMO_PACE", "3,40,600"),
            (
                "DOORSTEP_LOG",
                "debug,tao=info,wry=info,sqlx=warn,hyper=info,h2=info",
            ),
            ("DOORSTEP_LOG_FILE", log.to_str().unwrap()),
        ],
    )
    .await
    .unwrap();
    // On failure, the app's own log is in the test output.
    let _log = DumpOnPanic(log.clone());
    let tray = (0..50)
        .find_map(|_| {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("tray icon ready") || text.contains("no tray icon") {
                return Some(text);
            }
            std::thread::sleep(Duration::from_millis(100));
            None
        })
        .unwrap_or_default();
    assert!(
        tray.contains("tray icon ready"),
        "the tray icon was not made"
    );

    app.click("[data-testid=try-demo]").await.unwrap();
    app.wait_for("[data-testid=demo-label]").await.unwrap();
    eventually_text(&app, "[data-testid=connection]", |t| {
        t.contains("Cloud connected")
    })
    .await;
    app.wait_for("[data-testid=delivery-row]").await.unwrap();
    // The lock's own state, not the cloud's: its bolt and door as it reported them.
    eventually_text(&app, "[data-testid=lock-state]", |t| t.contains("Locked")).await;
    app.screenshot("home-demo").await.unwrap();

    // The courier arrives: the popup reaches the notification server with its buttons.
    let at_door = desktop
        .wait_for_notification("Courier at the door", Duration::from_secs(30))
        .unwrap();
    let labels: Vec<&str> = at_door.actions.iter().map(|(_, l)| l.as_str()).collect();
    assert!(
        labels.contains(&"Watch live") && labels.contains(&"Block access"),
        "{labels:?}"
    );
    // Once the camera films, the same popup shows the courier (a still in its place;
    // the first popup never waited for it).
    let with_picture = desktop
        .wait_for_notification_where(
            "the visit's popup with the camera's still",
            Duration::from_secs(15),
            |n| n.image_path.is_some() && n.replaces_id != 0,
        )
        .unwrap();
    let still = std::fs::read(with_picture.image_path.as_deref().unwrap()).unwrap();
    assert_eq!(&still[..2], &[0xFF, 0xD8], "a JPEG");

    app.wait_for("[data-testid=delivery-row][data-state=door_open]")
        .await
        .unwrap();
    // Home says so at the top, with Block at hand.
    let banner = eventually_text(&app, "[data-testid=inside-banner]", |t| {
        t.contains("is inside now")
    })
    .await;
    assert!(banner.contains("Block access"), "{banner}");
    // With the camera's picture of now.
    app.wait_for("[data-testid=banner-picture]").await.unwrap();
    app.screenshot("home-courier-inside").await.unwrap();
    app.click("[data-testid=delivery-row][data-state=door_open]")
        .await
        .unwrap();
    app.wait_for("[data-testid=delivery-state]").await.unwrap();
    // Live frames advance: the frame number burned into the picture changes on the
    // page (under "Details": the numbers are there for whoever asks).
    app.click("[data-testid=live-details] summary")
        .await
        .unwrap();
    let first: u64 = app
        .text("[data-testid=frame-seq]")
        .await
        .unwrap()
        .parse()
        .unwrap();
    let later = eventually_text(&app, "[data-testid=frame-seq]", |t| {
        t.parse::<u64>().is_ok_and(|n| n >= first + 5)
    })
    .await;
    assert!(later.parse::<u64>().unwrap() > first);
    let age = app.text("[data-testid=frame-age]").await.unwrap();
    assert!(age.ends_with("ms old when it arrived"), "{age}");
    app.screenshot("delivery-live").await.unwrap();
    assert_eq!(app.unnamed_controls().await.unwrap(), Vec::<String>::new());

    // In a small window (800×600) Block is on screen while the video plays, without
    // scrolling, and stays there when the page is scrolled to its end.
    app.set_window_size(800, 600).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for scroll in ["0", "document.documentElement.scrollHeight"] {
        app.script(&format!("window.scrollTo(0, {scroll});"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let [top, bottom, width, height] = app.geometry("[data-testid=block]").await.unwrap();
        assert!(
            width <= 820.0 && height <= 620.0,
            "the window did not shrink: {width}×{height}"
        );
        assert!(
            top >= 0.0 && bottom <= height,
            "Block is off screen at 800×600 (scrolled to {scroll}): top {top}, bottom {bottom}, viewport height {height}"
        );
    }
    app.screenshot("delivery-live-800x600").await.unwrap();
    app.script("window.scrollTo(0, 0);").await.unwrap();
    app.set_window_size(1100, 720).await.unwrap();

    // A second device joins the demo household with its login.
    let second = second_device(&desktop).await;
    let second_feed = doorstep_core::Feed::start(&second, doorstep_core::FeedOptions::default());
    let mut second_events = second_feed.subscribe();

    // The camera is unplugged mid-entry: the picture goes stale and a banner says why.
    let demo = demo_state(&desktop);
    let lock = demo["lock_control"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    http.post(format!("{lock}/camera/unplug"))
        .send()
        .await
        .unwrap();
    app.wait_for("[data-testid=stale]").await.unwrap();
    app.wait_for("[data-testid=feed-lost]").await.unwrap();
    app.screenshot("delivery-feed-lost").await.unwrap();
    http.post(format!("{lock}/camera/plug"))
        .send()
        .await
        .unwrap();
    // Plugged back, the picture is live again and the banner goes: the page says what
    // the household sees.
    testkit::system::eventually(
        "the feed-lost banner gone",
        Duration::from_secs(10),
        || async {
            let gone = app
                .script("return document.querySelector('[data-testid=feed-lost]') === null;")
                .await
                .ok()?;
            (gone == true).then_some(())
        },
    )
    .await
    .unwrap();

    // Block from the keyboard: Tab reaches the button, Enter presses it.
    app.wait_for("[data-testid=block]").await.unwrap();
    app.tab_to("[data-testid=block]", 30).await.unwrap();
    app.press(AppUnderTest::ENTER).await.unwrap();
    app.wait_for("[data-testid=delivery-state][data-state=blocked]")
        .await
        .unwrap();
    let result = app.text("[data-testid=action-result]").await.unwrap();
    assert!(result.contains("Blocked"), "{result}");
    // "Locked" only from the lock's own report of its bolt thrown.
    app.wait_for("[data-testid=door-state][data-door=locked]")
        .await
        .unwrap();
    // The lock really relocked (the courier closed the door and left).
    testkit::system::eventually("the lock relocked", Duration::from_secs(10), || async {
        let status = testkit::system::lock_status(&http, &lock).await?;
        (status["bolt"] == "locked" && status["door"] == "closed").then_some(())
    })
    .await
    .unwrap();
    // The picture stays a while to see the courier leave, and what cannot be done
    // now says why.
    app.wait_for("[data-testid=video-after-block]")
        .await
        .unwrap();
    app.wait_for("[data-testid=live-canvas]").await.unwrap();
    let why = app.text("[data-testid=why-disabled]").await.unwrap();
    assert!(why.contains("You can still send the parcel"), "{why}");
    app.screenshot("delivery-blocked").await.unwrap();
    // The second device saw the block.
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(doorstep_core::FeedUpdate::Event(event)) = second_events.recv().await
                && matches!(event.what, doorstep_api::EventData::DeliveryBlocked(_))
            {
                return;
            }
        }
    })
    .await
    .expect("the second device sees the block");

    // Blocked and locked, the visit is over: Home lists it under "Last visits", no
    // longer under "Deliveries now"; it opens from there (to reroute it).
    app.click("[data-testid=nav-home]").await.unwrap();
    app.wait_for("[data-testid=past-row][data-state=blocked]")
        .await
        .unwrap();
    let still_now = app
        .script("return document.querySelectorAll('[data-testid=delivery-row][data-state=blocked]').length;")
        .await
        .unwrap();
    assert_eq!(
        still_now, 0,
        "a blocked, locked visit stays under Deliveries now"
    );
    app.click("[data-testid=past-row][data-state=blocked]")
        .await
        .unwrap();
    app.wait_for("[data-testid=delivery-state][data-state=blocked]")
        .await
        .unwrap();

    // Reroute the blocked parcel to the neighbour.
    let select = app.wait_for("[data-testid=reroute-address]").await.unwrap();
    select.select_by_index(1).await.unwrap();
    app.click("[data-testid=reroute]").await.unwrap();
    app.wait_for("[data-testid=delivery-state][data-state=rerouted]")
        .await
        .unwrap();
    let to = app.text("[data-testid=rerouted-to]").await.unwrap();
    assert!(to.contains("Mrs Weber"), "{to}");
    app.screenshot("delivery-rerouted").await.unwrap();
    // The carrier's webhook received the new address, signed, for this parcel.
    let title = app.text("#delivery-title").await.unwrap();
    let inbox = demo_file(&desktop, doorstep_demo::CARRIER_INBOX);
    let notice = testkit::system::eventually(
        "the carrier's webhook to receive the reroute",
        Duration::from_secs(15),
        || async {
            let text = std::fs::read_to_string(&inbox).ok()?;
            text.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|l| l["notice"]["address"]["label"] == "Mrs Weber next door")
        },
    )
    .await
    .unwrap();
    assert_eq!(
        notice["notice"]["address"]["address"], "Hauptstraße 2",
        "{notice}"
    );
    let tracking = notice["notice"]["tracking_id"].as_str().unwrap();
    assert!(
        title.ends_with(tracking),
        "{notice} is for the parcel on the page, {title}"
    );

    // The visit's recording plays from the delivery page at the speed it was filmed:
    // its time advances, it pauses, and the seek bar moves it.
    app.click("[data-testid=watch-recording]").await.unwrap();
    app.wait_for("[data-testid=player]").await.unwrap();
    let elapsed = || async {
        app.script(
            "return Number(document.querySelector('[data-testid=elapsed]')?.dataset.ms ?? -1);",
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap()
    };
    testkit::system::eventually("the recording playing", Duration::from_secs(15), || async {
        (elapsed().await >= 1_500.0).then_some(())
    })
    .await
    .unwrap();
    app.wait_for("[data-testid=play-pause][data-playing=true]")
        .await
        .unwrap();
    app.screenshot("recording-playing").await.unwrap();
    app.click("[data-testid=play-pause]").await.unwrap();
    app.wait_for("[data-testid=play-pause][data-playing=false]")
        .await
        .unwrap();
    let paused_at = elapsed().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(elapsed().await, paused_at, "paused, the time stands still");
    let total = app
        .script(
            "const s = document.querySelector('[data-testid=seek]'); \
             const middle = Math.round((Number(s.min) + Number(s.max)) / 2); \
             s.value = middle; \
             s.dispatchEvent(new Event('input', { bubbles: true })); \
             s.dispatchEvent(new Event('change', { bubbles: true })); \
             return Number(s.max) - Number(s.min);",
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    let sought = elapsed().await;
    assert!(
        (sought - total / 2.0).abs() <= 100.0,
        "seeking to the middle of {total} ms shows {sought} ms"
    );
    let shown = app.text("[data-testid=elapsed]").await.unwrap();
    assert!(shown.contains(" / "), "{shown}");

    // Every clip in the list says whose parcel it was, with a picture; one is deleted
    // (asked first), once the camera is done with it.
    app.click("[data-testid=nav-recordings]").await.unwrap();
    app.wait_for("[data-testid=thumbnail]").await.unwrap();
    let titles = app.text(".clips").await.unwrap();
    assert!(titles.contains(tracking), "{titles}");
    let rows = || async {
        app.script("return document.querySelectorAll('[data-testid=recording-row]').length;")
            .await
            .unwrap()
            .as_u64()
            .unwrap()
    };
    let before = rows().await;
    testkit::system::eventually("a recording deleted", Duration::from_secs(30), || async {
        app.click("[data-testid=recording-row]:last-child [data-testid=recording-delete]")
            .await
            .ok()?;
        app.click("[data-testid=recording-delete-confirm]")
            .await
            .ok()?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        (rows().await == before - 1).then_some(())
    })
    .await
    .unwrap();

    // The delivery policy is signed on save: its version goes up.
    app.click("[data-testid=nav-settings]").await.unwrap();
    eventually_text(&app, "[data-testid=policy-version]", |t| {
        t.contains("version 1")
    })
    .await;
    // The rules in plain words: carriers ticked, weekdays toggled, times picked.
    app.wait_for("[data-testid=policy-carriers] [data-carrier='Demo Parcel Co.']")
        .await
        .unwrap();
    let ticked = app
        .script("return document.querySelector(\"[data-carrier='Demo Parcel Co.']\").checked;")
        .await
        .unwrap();
    assert_eq!(ticked, true, "the demo's policy lets the demo carrier in");
    // Nobody ticked: a sentence says what to do, and nothing is saved.
    app.click("[data-testid=policy-carriers] [data-carrier='Demo Parcel Co.']")
        .await
        .unwrap();
    app.click("[data-testid=policy-save]").await.unwrap();
    app.screenshot("policy-refused").await.unwrap();
    let refused = app.text("[role=alert]").await.unwrap();
    assert!(refused.contains("Tick at least one carrier"), "{refused}");
    // A policy pins the keys of carriers the cloud knows; the page shows their
    // fingerprints to compare with the carrier's own.
    app.click("[data-testid=policy-carriers] [data-carrier='Demo Parcel Co.']")
        .await
        .unwrap();
    let sunday = "[data-testid=policy-days] [data-day='7']";
    if app
        .wait_for(sunday)
        .await
        .unwrap()
        .attr("aria-pressed")
        .await
        .unwrap()
        .as_deref()
        != Some("true")
    {
        app.click(sunday).await.unwrap();
    }
    app.script(
        "const field = document.querySelector('[data-testid=policy-until]'); field.value = '20:30'; \
         field.dispatchEvent(new Event('input', { bubbles: true }));",
    )
    .await
    .unwrap();
    app.wait_for("[data-testid=policy-max-window]")
        .await
        .unwrap()
        .select_by_value("240")
        .await
        .unwrap();
    let summary = app.text("[data-testid=policy-summary]").await.unwrap();
    assert!(
        summary.contains("Demo Parcel Co.") && summary.contains("20:30"),
        "{summary}"
    );
    app.screenshot("policy-editor").await.unwrap();
    app.click("[data-testid=policy-save]").await.unwrap();
    eventually_text(&app, "[data-testid=policy-version]", |t| {
        t.contains("version 2")
    })
    .await;
    let signed = second.policy().await.unwrap().expect("a policy");
    assert_eq!(signed.carrier_names(), vec!["Demo Parcel Co.".to_owned()]);
    assert!(signed.hours.days.contains(&7), "{:?}", signed.hours.days);
    assert_eq!(signed.hours.until_minute, 20 * 60 + 30);
    assert_eq!(signed.max_window_minutes, 240);
    eventually_text(&app, "[data-testid=policy-fingerprints]", |t| {
        t.contains("Demo Parcel Co.") && t.matches('-').count() >= 4
    })
    .await;

    // Signed in, the app starts at login (so popups come after a restart) until the
    // person turns it off: a desktop autostart entry appears and goes.
    let autostart_entry = || {
        ["home/.config/autostart", "config/autostart"]
            .iter()
            .map(|dir| desktop.root().join(dir).join("Doorstep (test).desktop"))
            .find(|path| path.is_file())
    };
    let toggle = app.wait_for("[data-testid=autostart]").await.unwrap();
    assert!(
        toggle.is_selected().await.unwrap(),
        "on by default once signed in"
    );
    let entry = autostart_entry().expect("an autostart entry");
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(text.contains("doorstep-app-e2e"), "{text}");
    toggle.click().await.unwrap();
    for _ in 0..50 {
        if autostart_entry().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(autostart_entry().is_none(), "turned off, the entry is gone");
    assert!(!toggle.is_selected().await.unwrap());

    // Which popups this computer shows is chosen per kind, and remembered here.
    let guests_kind = "[data-testid=popup-kinds] [data-kind=guest]";
    assert!(
        app.wait_for(guests_kind)
            .await
            .unwrap()
            .is_selected()
            .await
            .unwrap()
    );
    app.click(guests_kind).await.unwrap();
    testkit::system::eventually("the choice remembered", Duration::from_secs(5), || async {
        let prefs = std::fs::read_to_string(
            desktop
                .doorstep_home()
                .join("dev.doorstep.app.e2e/data/device-prefs.json"),
        )
        .ok()?;
        prefs.contains("\"guest\"").then_some(())
    })
    .await
    .unwrap();
    app.click(guests_kind).await.unwrap();

    // Guests are invited by code, never asked for a key. A one-time guest (a plumber
    // on one day) is that day's hours in the household's zone, not every such weekday.
    app.click("[data-testid=nav-guests]").await.unwrap();
    let in_three_days = doorstep_proto::Timestamp::now().plus_millis(3 * 24 * 3_600_000);
    let day = doorstep_proto::wall_time("UTC", in_three_days).unwrap()[..10].to_owned();
    let type_name = |name: &'static str| {
        let app = &app;
        async move {
            let field = app.wait_for("[data-testid=guest-name]").await.unwrap();
            field.clear().await.unwrap();
            field.send_keys(name).await.unwrap();
        }
    };
    let pick = |field: &'static str, value: String| {
        let app = &app;
        async move {
            app.script(&format!(
                "const field = document.querySelector('[data-testid={field}]'); field.value = '{value}'; \
                 field.dispatchEvent(new Event('input', {{ bubbles: true }})); \
                 field.dispatchEvent(new Event('change', {{ bubbles: true }}));"
            ))
            .await
            .unwrap();
        }
    };
    type_name("Plumber").await;
    app.click("[data-testid=guest-once]").await.unwrap();
    app.wait_for("[data-testid=guest-day]").await.unwrap();
    // WebKit's date and time fields take their value from script as a picker gives it.
    pick("guest-day", day.clone()).await;
    // Backwards hours are said in a sentence, not parser text.
    pick("guest-from", "10:00".into()).await;
    pick("guest-until", "09:00".into()).await;
    app.click("[data-testid=guest-add]").await.unwrap();
    let refused = app.text("[role=alert]").await.unwrap();
    assert!(
        refused.contains("ends before it starts: from 10:00 until 09:00"),
        "{refused}"
    );
    pick("guest-until", "12:00".into()).await;
    app.click("[data-testid=guest-add]").await.unwrap();
    app.wait_for("[data-testid=invite-code]").await.unwrap();
    let waiting = eventually_text(
        &app,
        "[data-testid=invitation-row][data-name=Plumber]",
        |t| t.contains("Once: "),
    )
    .await;
    assert!(
        waiting.contains("10:00")
            && waiting.contains("12:00")
            && waiting.contains("Waiting for the code"),
        "{waiting}"
    );
    app.click("[data-testid=invitation-made] button")
        .await
        .unwrap();

    // A one-time visit over several days (a dog sitter's weekend): first and last
    // day with their times, the end earlier in the day than the start; the form
    // says what it will let in before the code is made.
    let later = |days: i64| {
        let at = doorstep_proto::Timestamp::now().plus_millis(days * 24 * 3_600_000);
        doorstep_proto::wall_time("UTC", at).unwrap()[..10].to_owned()
    };
    type_name("Dog sitter").await;
    pick("guest-day", later(3)).await;
    pick("guest-until-day", later(5)).await;
    pick("guest-from", "18:00".into()).await;
    pick("guest-until", "09:00".into()).await;
    let summary = app.text("[data-testid=guest-once-summary]").await.unwrap();
    // (English shows a 12-hour clock.)
    assert!(
        summary.contains("6:00") && summary.contains("9:00"),
        "{summary}"
    );
    // Backwards across days is a sentence too.
    pick("guest-until-day", later(2)).await;
    app.click("[data-testid=guest-add]").await.unwrap();
    let refused = app.text("[role=alert]").await.unwrap();
    assert!(refused.contains("ends before it starts"), "{refused}");
    pick("guest-until-day", later(5)).await;
    app.click("[data-testid=guest-add]").await.unwrap();
    app.wait_for("[data-testid=invite-code]").await.unwrap();
    let weekend = eventually_text(
        &app,
        "[data-testid=invitation-row][data-name='Dog sitter']",
        |t| t.contains("Once: "),
    )
    .await;
    assert!(
        weekend.contains("6:00") && weekend.contains("9:00"),
        "{weekend}"
    );
    app.screenshot("guests-one-time-over-days").await.unwrap();
    app.click("[data-testid=invitation-made] button")
        .await
        .unwrap();

    // A weekly guest: the household makes the code, the guest redeems it with
    // doorstep-courier (which makes their key), the app signs them in, and the guest
    // opens the door in their hours.
    type_name("Ana").await;
    app.click("[data-testid=guest-weekly]").await.unwrap();
    for day in 1..=7 {
        let toggle = format!("[data-testid=guest-days] [data-day='{day}']");
        if app
            .wait_for(&toggle)
            .await
            .unwrap()
            .attr("aria-pressed")
            .await
            .unwrap()
            .as_deref()
            != Some("true")
        {
            app.click(&toggle).await.unwrap();
        }
    }
    pick("guest-from", "00:00".into()).await;
    pick("guest-until", "23:59".into()).await;
    app.click("[data-testid=guest-add]").await.unwrap();
    let code = app.text("[data-testid=invite-code]").await.unwrap();
    assert_eq!(code.len(), 29, "{code}");
    let command = app.text("[data-testid=redeem-command]").await.unwrap();
    assert!(command.contains(&code), "{command}");
    app.screenshot("guest-invitation").await.unwrap();
    let cloud = format!("http://127.0.0.1:{}", demo["port"]);
    let key_file = desktop.root().join("ana.key");
    let key_path = key_file.to_str().unwrap();
    let (status, output) = testkit::system::courier(
        &[
            "guest",
            "--cloud",
            &cloud,
            "--code",
            &code.to_lowercase(),
            "--key-out",
            key_path,
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 0, "{output}");
    let guest_id = output
        .lines()
        .find_map(|l| l.strip_prefix("Your guest id: "))
        .unwrap_or_else(|| panic!("{output}"))
        .trim()
        .to_owned();
    // The household's app checks her proof and signs her in by itself.
    app.wait_for(&format!("[data-testid=guest-row][data-id='{guest_id}']"))
        .await
        .unwrap();
    // A code works once: a second try is told so in a sentence.
    let (status, output) = testkit::system::courier(
        &[
            "guest",
            "--cloud",
            &cloud,
            "--code",
            &code,
            "--key-out",
            &format!("{key_path}.2"),
        ],
        None,
    )
    .await
    .unwrap();
    assert_ne!(status, 0, "{output}");
    assert!(output.contains("redeemed already"), "{output}");
    let (status, output) = testkit::system::courier(
        &[
            "visit",
            "--cloud",
            &cloud,
            "--lock",
            &lock,
            "--guest",
            &guest_id,
            "--key",
            key_path,
            "--inside-secs",
            "1",
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 0, "the guest gets in: {output}");
    let saved = second.guests().await.unwrap();
    let ana = saved.iter().find(|g| g.name == "Ana").unwrap();
    assert!(
        matches!(ana.schedule, doorstep_proto::GuestSchedule::Weekly(_)),
        "{:?}",
        ana.schedule
    );

    // A second lock is paired from the app: the code (with the household key's
    // fingerprint at its end) goes to the lock, and Home says when it is there.
    app.click("[data-testid=nav-home]").await.unwrap();
    app.click("[data-testid=add-lock]").await.unwrap();
    app.wait_for("[data-testid=lock-name]")
        .await
        .unwrap()
        .send_keys("Garage")
        .await
        .unwrap();
    app.wait_for("[data-testid=lock-kind]")
        .await
        .unwrap()
        .select_by_value("garage")
        .await
        .unwrap();
    app.click("[data-testid=make-pairing-code]").await.unwrap();
    let pairing = app.text("[data-testid=pairing-code]").await.unwrap();
    let fingerprint = second.household_fingerprint();
    assert!(pairing.ends_with(&fingerprint), "{pairing} / {fingerprint}");
    app.screenshot("add-lock").await.unwrap();
    let _garage = testkit::system::LockProcess::pair_and_run(
        &cloud,
        &pairing,
        &desktop.root().join("garage"),
    )
    .unwrap();
    let paired = app.text("[data-testid=lock-paired]").await.unwrap();
    assert!(paired.contains("Garage"), "{paired}");

    // Every main screen, in light and dark, English and German.
    for (language, theme) in [
        ("en", "light"),
        ("en", "dark"),
        ("de", "light"),
        ("de", "dark"),
    ] {
        app.click("[data-testid=nav-settings]").await.unwrap();
        app.wait_for("[data-testid=language]")
            .await
            .unwrap()
            .select_by_value(language)
            .await
            .unwrap();
        app.wait_for("[data-testid=theme]")
            .await
            .unwrap()
            .select_by_value(theme)
            .await
            .unwrap();
        for section in [
            "home",
            "activity",
            "recordings",
            "guests",
            "household",
            "settings",
        ] {
            app.click(&format!("[data-testid=nav-{section}]"))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(400)).await;
            app.screenshot(&format!("{section}-{theme}-{language}"))
                .await
                .unwrap();
            if section == "activity" {
                // The day in words: no action codes, actor ids or state arrows.
                let log = app.text("[data-testid=activity]").await.unwrap();
                for raw in ["delivery.", "lock.", "video.", "device:", "lock:", "→", "_"] {
                    assert!(
                        !log.contains(raw),
                        "the activity log ({language}) shows {raw:?}:\n{log}"
                    );
                }
                if language == "de" {
                    assert!(log.contains("Heute"), "{log}");
                }
            }
            if language == "de" {
                // German everywhere: none of the English words of these screens.
                let page = app
                    .script("return document.body.innerText;")
                    .await
                    .unwrap()
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                for english in [
                    "Sign out",
                    "Cloud connected",
                    "Camera recording",
                    "Add a lock",
                    "Nothing on its way",
                    "Last visits",
                    "Delete",
                    "Withdraw",
                    "Waiting for",
                    "Every week",
                    "Make an invitation code",
                    "Let couriers in",
                    "Save these rules",
                    "Popups on this computer",
                    "Signed in",
                ] {
                    assert!(
                        !page.contains(english),
                        "{section} in German shows {english:?}:\n{page}"
                    );
                }
            }
            let unnamed = app.unnamed_controls().await.unwrap();
            assert!(
                unnamed.is_empty(),
                "{section} ({language}): controls without an accessible name: {unnamed:#?}"
            );
        }
    }
    let nav = app.text("[data-testid=nav-settings]").await.unwrap();
    assert_eq!(nav, "Einstellungen");
    // Popups follow the language chosen in the page.
    app.click("[data-testid=test-popup]").await.unwrap();
    desktop
        .wait_for_notification("Doorstep-Testhinweis", Duration::from_secs(5))
        .unwrap();

    // Signing out comes back to the welcome screen at once (it used to leave a blank
    // window until the app restarted), and the demo's login leaves the keyring.
    app.click("[data-testid=sign-out]").await.unwrap();
    app.wait_for("[data-testid=try-demo]").await.unwrap();
    app.screenshot("signed-out-de").await.unwrap();
    // One popup per visit: each delivery's first popup is new and every later one
    // replaces it (never a stack), and signing out took them all down.
    let sent = desktop.notifications().unwrap();
    let mut visits: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for popup in &sent {
        let visit = popup
            .actions
            .iter()
            .find_map(|(id, _)| id.split_once(':').map(|(_, delivery)| delivery.to_owned()));
        if let Some(visit) = visit {
            visits.entry(visit).or_default().push(popup.replaces_id);
        }
    }
    assert!(!visits.is_empty());
    for (visit, replaces) in &visits {
        let in_place = &replaces[1..];
        assert!(
            replaces[0] == 0 && in_place.iter().all(|id| *id != 0 && *id == in_place[0]),
            "visit {visit}: popups {replaces:?} (0 = a new popup)"
        );
    }
    // Nothing of the household stays on the screen (a popup that expired or was
    // dismissed is gone already; every other one was closed).
    desktop
        .wait_for_popups_on_screen(0, Duration::from_secs(10))
        .unwrap();
    assert!(
        doorstep_core::secrets::SecretStore::new("dev.doorstep.app.e2e")
            .get(doorstep_demo::DEMO_PASSWORD_ENTRY)
            .unwrap()
            .is_none(),
        "the demo password outlived the sign-out"
    );

    app.close().await.unwrap();
}

/// Types `value` into the field `css`, replacing what it held.
async fn fill_in(app: &AppUnderTest, css: &str, value: String) {
    let field = app.wait_for(css).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(&value).await.unwrap();
}

async fn eventually_text(app: &AppUnderTest, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let text = app.text(css).await.unwrap_or_default();
        if ok(&text) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{css} stayed {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct DumpOnPanic(std::path::PathBuf);

impl Drop for DumpOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            #[allow(clippy::print_stderr, reason = "the app's log explains a failure")]
            {
                eprintln!("--- app log ---\n{log}");
            }
        }
    }
}

fn demo_file(desktop: &DesktopSession, name: &str) -> std::path::PathBuf {
    desktop
        .doorstep_home()
        .join("dev.doorstep.app.e2e/data/demo")
        .join(name)
}

fn demo_state(desktop: &DesktopSession) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(demo_file(desktop, "demo.json")).unwrap()).unwrap()
}

/// A second core signed in to the demo household, as another computer would be.
async fn second_device(desktop: &DesktopSession) -> doorstep_core::Client {
    let account: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            desktop
                .doorstep_home()
                .join("dev.doorstep.app.e2e/config/account.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let password = doorstep_core::secrets::SecretStore::new("dev.doorstep.app.e2e")
        .get(doorstep_demo::DEMO_PASSWORD_ENTRY)
        .unwrap()
        .expect("the demo password in the keyring");
    doorstep_core::Client::sign_in(
        &doorstep_core::AppPaths::under(&desktop.doorstep_home(), "dev.doorstep.test.second")
            .unwrap(),
        doorstep_core::Credentials {
            cloud: account["cloud"].as_str().unwrap().to_owned(),
            email: account["email"].as_str().unwrap().to_owned(),
            password,
            totp: None,
            device_name: "Second computer".into(),
        },
    )
    .await
    .unwrap()
}
