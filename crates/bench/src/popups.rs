//! Courier at the door → popup, at the real client: one more household whose two
//! devices are `doorstep-core` clients with their live feeds and popups on, in the
//! bench's private desktop session (its keyring, its notification server). Timed from
//! the cloud committing `delivery.at_door` (the event's stamp) to the `Notify` call on
//! the session bus (`dbus-monitor`'s stamp), one sample per device.

use std::time::Duration;

use anyhow::{Context, bail};
use doorstep_api::EventData;
use doorstep_core::{AppPaths, Client, Connection, Credentials, Feed, FeedOptions, FeedUpdate};
use doorstep_proto::SigningKey;
use secrecy::SecretString;
use testkit::DesktopSession;

use crate::devices::announce;

const AT_DOOR: &str = "Courier at the door";

fn credentials(cloud: &str, device: &str) -> Credentials {
    Credentials {
        cloud: cloud.to_owned(),
        email: "popups@bench.invalid".into(),
        password: SecretString::from("a bench password that is long enough"),
        totp: None,
        device_name: device.into(),
    }
}

async fn online(feed: &Feed) -> anyhow::Result<()> {
    let mut connection = feed.connection();
    tokio::time::timeout(Duration::from_secs(30), async {
        while *connection.borrow_and_update() != Connection::Online {
            connection.changed().await?;
        }
        anyhow::Ok(())
    })
    .await
    .context("a device's feed never came online")?
}

/// `samples` couriers at the door; returns commit → popup call per device (ms).
pub async fn measure(
    desktop: &DesktopSession,
    cloud: &str,
    carrier_key: &str,
    samples: usize,
) -> anyhow::Result<Vec<f64>> {
    let home = desktop.doorstep_home();
    let (first, _recovery_key) = Client::create_account(
        &AppPaths::under(&home, "dev.doorstep.bench.kitchen")?,
        credentials(cloud, "Kitchen laptop"),
        "Europe/Berlin",
    )
    .await?;
    let second = Client::sign_in(
        &AppPaths::under(&home, "dev.doorstep.bench.study")?,
        credentials(cloud, "Study desktop"),
    )
    .await?;
    let options = || FeedOptions {
        popups: Some(doorstep_core::popup::Notifier::new("Doorstep")),
        ..FeedOptions::default()
    };
    let feeds = [
        Feed::start(&first, options()),
        Feed::start(&second, options()),
    ];
    for feed in &feeds {
        online(feed).await?;
    }
    let mut events = feeds[0].subscribe();
    let http = reqwest::Client::new();
    let household = first.account().household_id.clone();
    let mut times = Vec::new();
    for sample in 0..samples {
        let courier = SigningKey::generate();
        let delivery = announce(
            &http,
            cloud,
            carrier_key,
            &household,
            &courier.public_key(),
            &format!("POPUP-{sample}"),
        )
        .await?;
        let id = delivery["id"].as_str().context("delivery id")?.to_owned();
        // The courier reaches the door minutes after the announcement, not while the
        // devices are still taking it in: wait until they have.
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let FeedUpdate::Event(event) = events.recv().await?
                    && matches!(event.what, EventData::DeliveryAnnounced(_))
                {
                    return anyhow::Ok(());
                }
            }
        })
        .await
        .context("the announcement never reached the first device")??;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = popups_at_door(desktop)?.len();
        // At the door without an approval: the cloud records the arrival and refuses.
        http.post(format!("{cloud}/v1/courier/deliveries/{id}/access"))
            .json(&crate::devices::access_request(
                "bench-door",
                &SigningKey::generate(),
                &courier,
                &id,
            ))
            .send()
            .await?;
        let committed_at = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let FeedUpdate::Event(event) = events.recv().await?
                    && matches!(event.what, EventData::DeliveryAtDoor(_))
                {
                    return anyhow::Ok(event.at);
                }
            }
        })
        .await
        .context("the at-door event never reached the first device")??;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let shown = loop {
            let all = popups_at_door(desktop)?;
            if all.len() >= before + 2 {
                break all[before..before + 2].to_vec();
            }
            if std::time::Instant::now() > deadline {
                bail!(
                    "\"{AT_DOOR}\" reached {} of 2 devices within 10 s",
                    all.len() - before
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        for sent_at_us in shown {
            times.push(sent_at_us as f64 / 1000.0 - committed_at as f64);
        }
    }
    Ok(times)
}

/// Bus stamps of every at-door popup so far.
fn popups_at_door(desktop: &DesktopSession) -> anyhow::Result<Vec<u64>> {
    Ok(desktop
        .notifications()?
        .into_iter()
        .filter(|n| n.summary == AT_DOOR)
        .filter_map(|n| n.sent_at_us)
        .collect())
}
