//! The live event feed of one signed-in device.
//!
//! One Server-Sent-Events stream per device, resumed after the last event this
//! device processed (kept in the [`Cache`], so also across restarts of the app): the
//! cloud replays what was missed and then continues live, so every event arrives
//! exactly once — no gap, no duplicate popup. Between connections the feed reports
//! itself offline and retries with jittered exponential backoff.
//!
//! Each event, in order: the cache is updated (the delivery it concerns is fetched
//! when the event does not carry it), a popup is shown when it deserves one and is
//! fresh, announced deliveries the household's signed policy admits are approved,
//! then the event is published to the shell and the cache saved.

use std::sync::Arc;
use std::time::Duration;

use doorstep_api::{Delivery, Event, EventData, EventPage};
use futures_util::StreamExt;
use rand_core::RngCore;
use secrecy::ExposeSecret;
use serde::Serialize;
use tokio::sync::{Mutex, broadcast, mpsc, watch};

use crate::alerts::{Intent, PopupKind, VisitPopup, alert_in, is_visit_event, visit_popup};
use crate::cache::Cache;
use crate::client::Client;
use crate::error::{CoreError, CoreResult};
use crate::popup::Notifier;
use crate::popup_board::{PopupBoard, PopupKey};

/// Events older than this when they reach the device are logged but not popped up
/// (a laptop opened after a week should not replay a week of doorbells).
const POPUP_FRESHNESS_MS: i64 = 10 * 60 * 1000;
/// The cloud sends a comment every 15 s; three missed ones mean the link is dead.
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Events loaded into the timeline at the first sync.
const FIRST_SYNC_EVENTS: i64 = 200;

/// Whether the device is hearing from the cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connection {
    /// Connecting (first time, or again).
    Connecting,
    /// Live: events arrive as they happen.
    Online,
    /// Cut off; what is shown is the cache. Retrying.
    Offline {
        /// Why, in a sentence.
        reason: String,
    },
    /// The device was signed out (from another device, or the session ended).
    SignedOut {
        /// Why.
        reason: String,
    },
}

/// What the feed tells its listeners.
#[derive(Debug, Clone)]
pub enum FeedUpdate {
    /// One event, in order, after the cache took it in.
    Event(Box<Event>),
    /// The connection changed.
    Connection(Connection),
}

/// What the feed does besides keeping the cache.
#[derive(Debug, Clone, Default)]
pub struct FeedOptions {
    /// Show popups through this notifier.
    pub popups: Option<Notifier>,
    /// Act for the household where it decided already: approve announced deliveries
    /// its signed policy admits, and sign in guests who redeemed their code.
    pub auto_approve: bool,
    /// The language popups are written in.
    pub language: crate::alerts::SharedLanguage,
    /// The kinds of popup turned off on this computer.
    pub muted: crate::alerts::MutedPopups,
}

/// A running feed; stops when dropped.
#[derive(Debug)]
pub struct Feed {
    updates: broadcast::Sender<FeedUpdate>,
    connection: watch::Receiver<Connection>,
    cache: Arc<Mutex<Cache>>,
    intents: Option<mpsc::UnboundedReceiver<Intent>>,
    popups: Option<PopupBoard>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Feed {
    /// Starts the feed for `client`.
    pub fn start(client: &Client, options: FeedOptions) -> Self {
        let (updates, _) = broadcast::channel(1024);
        let (connection_tx, connection) = watch::channel(Connection::Connecting);
        let (intent_tx, intents) = mpsc::unbounded_channel();
        let cache = Arc::new(Mutex::new(Cache::load(client.paths())));
        let popups = options
            .popups
            .clone()
            .map(|notifier| PopupBoard::new(notifier, intent_tx));
        let worker = Worker {
            client: client.clone(),
            options,
            updates: updates.clone(),
            connection: connection_tx,
            cache: cache.clone(),
            popups: popups.clone(),
        };
        let task = tokio::spawn(worker.run());
        Self {
            updates,
            connection,
            cache,
            intents: Some(intents),
            popups,
            task,
        }
    }

    /// The popups this feed has up (none when it shows no popups).
    pub fn popups(&self) -> Option<&PopupBoard> {
        self.popups.as_ref()
    }

    /// Every update from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FeedUpdate> {
        self.updates.subscribe()
    }

    /// The connection state, as it changes.
    pub fn connection(&self) -> watch::Receiver<Connection> {
        self.connection.clone()
    }

    /// What popup clicks asked for; can be taken once.
    pub fn take_intents(&mut self) -> Option<mpsc::UnboundedReceiver<Intent>> {
        self.intents.take()
    }

    /// A copy of the cache as it is now.
    pub async fn snapshot(&self) -> Cache {
        self.cache.lock().await.clone()
    }

    /// A handle that reads the cache in place (no copy of all of it).
    pub fn reader(&self) -> CacheReader {
        CacheReader(self.cache.clone())
    }
}

/// Reads a running feed's cache in place; outlives nothing (the feed's worker keeps
/// writing it).
#[derive(Debug, Clone)]
pub struct CacheReader(Arc<Mutex<Cache>>);

impl CacheReader {
    /// What `read` takes from the cache as it is now.
    pub async fn read<T>(&self, read: impl FnOnce(&Cache) -> T) -> T {
        read(&*self.0.lock().await)
    }
}

struct Worker {
    client: Client,
    options: FeedOptions,
    updates: broadcast::Sender<FeedUpdate>,
    connection: watch::Sender<Connection>,
    cache: Arc<Mutex<Cache>>,
    popups: Option<PopupBoard>,
}

impl Worker {
    async fn run(self) {
        let mut failures = 0u32;
        loop {
            self.set(Connection::Connecting);
            let result = self.connect_once(&mut failures).await;
            let reason = match result {
                Ok(()) => "the cloud closed the stream".to_owned(),
                Err(CoreError::SignedOut { detail }) => {
                    // Signed out from elsewhere: nothing of this household stays up.
                    if let Some(popups) = &self.popups
                        && let Err(e) = popups.withdraw_all()
                    {
                        tracing::warn!(error = %e, "popups not withdrawn");
                    }
                    self.set(Connection::SignedOut { reason: detail });
                    return;
                }
                Err(e) => e.to_string(),
            };
            tracing::info!(%reason, "event stream interrupted");
            self.set(Connection::Offline { reason });
            tokio::time::sleep(backoff(failures)).await;
            failures = failures.saturating_add(1);
        }
    }

    fn set(&self, state: Connection) {
        tracing::debug!(?state, "feed connection");
        if *self.connection.borrow() != state {
            self.connection.send_replace(state.clone());
            let _ = self.updates.send(FeedUpdate::Connection(state));
        }
    }

    async fn connect_once(&self, failures: &mut u32) -> CoreResult<()> {
        if !self.cache.lock().await.synced {
            self.first_sync().await?;
        }
        let session = self.client.session();
        let after = self.cache.lock().await.last_seq;
        let token = session.access_token().await?;
        let cloud = session.cloud();
        let response = cloud
            .http()
            .get(cloud.url(&format!("/v1/events/stream?after={after}")))
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(|e| cloud.unreachable(&e))?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            session.refresh_after_rejection(&token).await?;
            return Err(CoreError::Unreachable {
                url: cloud.base().to_owned(),
                detail: "the access token was refreshed; reconnecting".into(),
            });
        }
        if !response.status().is_success() {
            let status = response.status();
            let bytes = response.bytes().await.unwrap_or_default();
            return Err(crate::cloud::api_error(status, &bytes));
        }
        self.set(Connection::Online);
        *failures = 0;
        let mut stream = eventsource_stream::EventStream::new(response.bytes_stream());
        loop {
            let next = tokio::time::timeout(SILENCE_LIMIT, stream.next())
                .await
                .map_err(|_| CoreError::Unreachable {
                    url: cloud.base().to_owned(),
                    detail: "nothing heard for 45 s".into(),
                })?;
            let Some(message) = next else {
                return Ok(());
            };
            let message = message.map_err(|e| CoreError::Unreachable {
                url: cloud.base().to_owned(),
                detail: e.to_string(),
            })?;
            if message.data.is_empty() {
                continue;
            }
            let event: Event = serde_json::from_str(&message.data)
                .map_err(|e| CoreError::Protocol(format!("event: {e}")))?;
            self.process(event).await?;
        }
    }

    /// A device's first connection: today's deliveries and the recent timeline, no
    /// popups for any of it.
    async fn first_sync(&self) -> CoreResult<()> {
        let session = self.client.session();
        let deliveries = self.client.deliveries().await?;
        let head: EventPage = session.get("/v1/events?after=0&limit=1").await?;
        let from = (head.last_seq - FIRST_SYNC_EVENTS).max(0);
        let recent: EventPage = session
            .get(&format!(
                "/v1/events?after={from}&limit={FIRST_SYNC_EVENTS}"
            ))
            .await?;
        let mut cache = self.cache.lock().await;
        for event in &recent.events {
            cache.apply(event, None);
        }
        for delivery in deliveries {
            cache.deliveries.insert(delivery.id.clone(), delivery);
        }
        cache.last_seq = cache.last_seq.max(head.last_seq);
        cache.synced = true;
        cache.save(self.client.paths())?;
        Ok(())
    }

    async fn process(&self, event: Event) -> CoreResult<()> {
        let mut cache = self.cache.lock().await;
        if event.seq <= cache.last_seq {
            // Already processed (the stream can repeat across a reconnect).
            return Ok(());
        }
        let fresh = self.client.now().0 - event.at < POPUP_FRESHNESS_MS;
        // The popup goes out the instant the event is here (SPEC §9): from the
        // delivery the event carries or the one already known, moved to the event's
        // state. Only a delivery never seen before is fetched first.
        let embedded = embedded_delivery(&event);
        let known = embedded.clone().or_else(|| known_delivery(&cache, &event));
        if fresh && let Some(known) = &known {
            self.popup(&event, Some(known));
        }
        let delivery = match embedded {
            Some(delivery) => Some(delivery),
            None => self.delivery_of(&event).await,
        };
        if fresh {
            // Again from the delivery as the cloud has it now: an update only where
            // that says more (the board does not resend an unchanged popup).
            if known.is_none() || delivery.is_some() {
                self.popup(&event, delivery.as_ref());
            }
            if matches!(event.what, EventData::DeliveryAnnounced(_))
                && self.options.auto_approve
                && let Some(delivery) = &delivery
            {
                self.auto_approve(&event, delivery).await;
            }
        }
        if fresh
            && matches!(
                event.what,
                EventData::DeliveryAtDoor(_) | EventData::DeliveryDoorOpen(_)
            )
            && let (Some(popups), Some(delivery)) = (&self.popups, &delivery)
        {
            self.add_picture(popups.clone(), delivery);
        }
        if matches!(event.what, EventData::GuestRedeemed(_)) && self.options.auto_approve {
            // Off the feed's path: signing a guest in is a few requests.
            let client = self.client.clone();
            tokio::spawn(async move {
                match client.complete_redeemed().await {
                    Ok(added) => {
                        for guest in added {
                            tracing::info!(guest_id = %guest.id, "signed in a guest who redeemed their code");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "redeemed invitation not signed in"),
                }
            });
        }
        cache.apply(&event, delivery);
        cache.save(self.client.paths())?;
        drop(cache);
        let _ = self.updates.send(FeedUpdate::Event(Box::new(event)));
        Ok(())
    }

    /// Fetches the delivery an event concerns (its data names it but is not it).
    async fn delivery_of(&self, event: &Event) -> Option<Delivery> {
        let id = event.delivery_id()?;
        match self.client.delivery(id).await {
            Ok(delivery) => Some(delivery),
            Err(e) => {
                tracing::warn!(delivery_id = id, error = %e, "could not fetch the delivery of an event");
                None
            }
        }
    }

    /// Adds the camera's still to the visit's popup once the camera has one (it
    /// starts filming at the door): never before the popup, which goes out at once.
    fn add_picture(&self, popups: PopupBoard, delivery: &Delivery) {
        let client = self.client.clone();
        let delivery_id = delivery.id.clone();
        let lock_id = delivery.lock_id.clone();
        tokio::spawn(async move {
            let lock_id = match lock_id {
                Some(lock) => lock,
                // Under a policy the delivery names no lock until the lock reports;
                // with one lock, it is that one.
                None => match client.locks().await.unwrap_or_default().as_slice() {
                    [only] => only.id.clone(),
                    _ => return,
                },
            };
            for _ in 0..SNAPSHOT_TRIES {
                match client.snapshot(&lock_id).await {
                    Ok(frame) => {
                        let path = picture_path(&client, &delivery_id);
                        if let Some(folder) = path.parent() {
                            prune_pictures(folder);
                        }
                        let written = path
                            .parent()
                            .map_or(Ok(()), std::fs::create_dir_all)
                            .and_then(|()| std::fs::write(&path, &frame.jpeg));
                        let shown = written.map_err(|e| e.to_string()).and_then(|()| {
                            popups
                                .add_picture(PopupKey::Visit(delivery_id.clone()), path)
                                .map_err(|e| e.to_string())
                        });
                        if let Err(e) = shown {
                            tracing::warn!(error = %e, "the popup's picture was not added");
                        }
                        return;
                    }
                    Err(e) if e.kind() == crate::error::ErrorKind::NotFound => {
                        tokio::time::sleep(SNAPSHOT_RETRY).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "no picture for the popup");
                        return;
                    }
                }
            }
        });
    }

    fn popup(&self, event: &Event, delivery: Option<&Delivery>) {
        // An announcement the policy will approve needs no question (if the policy
        // does not admit it, `auto_approve` asks).
        if matches!(event.what, EventData::DeliveryAnnounced(_)) && self.options.auto_approve {
            return;
        }
        self.show_alert(event, delivery);
    }

    /// Brings the popup `event` is part of up to date: the visit's one popup for an
    /// event in a delivery's course, else the alarm's; clicks come back as intents.
    fn show_alert(&self, event: &Event, delivery: Option<&Delivery>) {
        let Some(popups) = &self.popups else {
            return;
        };
        let language = self.options.language.get();
        let shown = match delivery {
            Some(delivery) if is_visit_event(event) => {
                let key = PopupKey::Visit(delivery.id.clone());
                // Turned off here: nothing of this stage, and no older stage's
                // popup left up as if it were still true.
                if !self
                    .options
                    .muted
                    .shows(PopupKind::of_visit(delivery.state))
                {
                    if let Err(e) = popups.withdraw(&key) {
                        tracing::warn!(error = %e, "popup not withdrawn");
                    }
                    return;
                }
                match visit_popup(language, event, delivery, self.client.now().0) {
                    VisitPopup::Show(alert) => popups.show(key, alert),
                    VisitPopup::Settle(alert) => popups.update(key, alert),
                    VisitPopup::Withdraw => popups.withdraw(&key),
                }
            }
            // Alarms; and a visit's step whose delivery could not be fetched, in
            // the words of the event alone, in the visit's place.
            _ => match alert_in(language, event, delivery) {
                Some(_)
                    if !self.options.muted.shows(
                        event
                            .what
                            .delivery_state()
                            .map_or_else(|| PopupKind::of_alarm(event), PopupKind::of_visit),
                    ) =>
                {
                    Ok(())
                }
                Some(alert) => {
                    let key = match event.delivery_id() {
                        Some(id) if is_visit_event(event) => PopupKey::Visit(id.to_owned()),
                        _ => PopupKey::Alarm {
                            lock_id: event.what.lock_id().map(str::to_owned),
                            kind: crate::alerts::alarm_topic(event).to_owned(),
                        },
                    };
                    // "Back online" answers an "offline" this device showed; alone it
                    // would be news of nothing.
                    if matches!(
                        event.what,
                        EventData::LockOnline(_) | EventData::CameraOnline(_)
                    ) {
                        popups.update(key, alert)
                    } else {
                        popups.show(key, alert)
                    }
                }
                None => Ok(()),
            },
        };
        if let Err(e) = shown {
            tracing::warn!(error = %e, kind = event.kind(), "popup not shown");
        }
    }

    async fn auto_approve(&self, event: &Event, delivery: &Delivery) {
        match crate::approvals::approve_by_policy(&self.client, delivery).await {
            Ok(true) => {
                tracing::info!(delivery_id = %delivery.id, "approved by the household's policy")
            }
            Ok(false) => self.show_alert(event, Some(delivery)),
            Err(e) => {
                tracing::warn!(delivery_id = %delivery.id, error = %e, "auto-approval failed")
            }
        }
    }
}

/// How often, and how far apart, a popup's picture is asked for while the camera
/// starts filming.
const SNAPSHOT_TRIES: usize = 10;
const SNAPSHOT_RETRY: std::time::Duration = std::time::Duration::from_millis(500);

/// Where the still for a visit's popup is kept: the app's cache, one per delivery
/// (the notification server reads the file by its path).
fn picture_path(client: &Client, delivery_id: &str) -> std::path::PathBuf {
    let safe: String = delivery_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    client
        .paths()
        .cache_dir()
        .join("popup-pictures")
        .join(format!("{safe}.jpg"))
}

/// Stills of visits over a day old are of no popup any more.
fn prune_pictures(folder: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(24 * 3600));
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The whole delivery, when the event carries it (announcements, blocks, reroutes …).
fn embedded_delivery(event: &Event) -> Option<Delivery> {
    event.what.delivery().cloned()
}

/// The cached delivery an event concerns, moved to the state the event names.
fn known_delivery(cache: &Cache, event: &Event) -> Option<Delivery> {
    let mut delivery = cache.deliveries.get(event.delivery_id()?)?.clone();
    if let Some(state) = event.what.delivery_state() {
        delivery.state = state;
    }
    if let EventData::DeliveryDoor(door) = &event.what {
        delivery.door = Some(door.door);
    }
    Some(delivery)
}

fn backoff(failures: u32) -> Duration {
    let ceiling = BACKOFF_FIRST
        .saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(BACKOFF_MAX);
    // "Equal jitter": at least half the ceiling, so reconnects spread out but never spin.
    let half = ceiling / 2;
    let jitter = u64::from(rand_core::OsRng.next_u32()) % (half.as_millis() as u64 + 1);
    half + Duration::from_millis(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_ceiling_and_is_jittered() {
        assert!(backoff(0) <= BACKOFF_FIRST && backoff(0) >= BACKOFF_FIRST / 2);
        for n in [10, 20, 1000] {
            let wait = backoff(n);
            assert!(wait <= BACKOFF_MAX && wait >= BACKOFF_MAX / 2, "{wait:?}");
        }
        let samples: std::collections::HashSet<Duration> = (0..20).map(|_| backoff(8)).collect();
        assert!(samples.len() > 1, "no jitter");
    }

    use doorstep_api::{DeliveryState, DeliveryStep, DeviceSignedIn};

    fn event(what: EventData) -> Event {
        Event {
            seq: 2,
            at: 0,
            device_id: None,
            what,
        }
    }

    #[test]
    fn a_popup_needs_no_fetch_for_a_delivery_already_known() {
        let mut cache = Cache::default();
        let announcement = event(EventData::DeliveryAnnounced(
            crate::approvals::tests::delivery("DHL", 9, 1).into(),
        ));
        // The announcement carries the whole delivery.
        assert_eq!(
            embedded_delivery(&announcement).map(|d| d.carrier),
            Some("DHL".to_owned())
        );
        cache.apply(&announcement, embedded_delivery(&announcement));
        // The arrival names it: the known one, moved to the event's state.
        let at_door = event(EventData::DeliveryAtDoor(DeliveryStep::new(
            "d1",
            DeliveryState::AtDoor,
        )));
        assert!(embedded_delivery(&at_door).is_none());
        let known = known_delivery(&cache, &at_door).map(|d| (d.carrier, d.state));
        assert_eq!(known, Some(("DHL".to_owned(), DeliveryState::AtDoor)));
        // Never seen before: it must be fetched.
        let other = event(EventData::DeliveryAtDoor(DeliveryStep::new(
            "d2",
            DeliveryState::AtDoor,
        )));
        assert!(known_delivery(&cache, &other).is_none());
        assert!(
            known_delivery(
                &cache,
                &event(EventData::DeviceSignedIn(DeviceSignedIn {
                    device_id: "k".into(),
                    name: "Kitchen".into(),
                }))
            )
            .is_none()
        );
    }
}
