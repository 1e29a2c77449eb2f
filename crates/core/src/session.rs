//! The desktop app's side of a household: who is signed in on this computer, the
//! live feed that runs for them (pushing events to the window and showing popups),
//! the demo home when that is what it is, the live video view, and the body of
//! every command the window may call ([`crate::ipc`] declares them; its
//! [`HouseholdSession::call`] dispatches to the methods here).
//!
//! The shell (Tauri) is wiring only: it hands each invoke to [`HouseholdSession`]
//! and implements [`Shell`] to reach the window and the tray.

use std::sync::Arc;
use std::time::Instant;

use doorstep_api::{Address, AuditEntry, Delivery, Device, Recording};
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::alerts::{Intent, Language, SharedLanguage};
use crate::feed::CacheReader;
use crate::ipc::{
    ConnectionView, DeliveryView, FeedMessage, GuestView, HomeView, InvitationView, IpcError,
    Navigate, NewAccountView, PairingView, PolicyView, PopupKindView, RecordingFrame, SessionInfo,
    SettingsView, SystemCheck, request,
};
use crate::popup::{Notifier, Popup};
use crate::video::{LiveUpdate, LiveView, Playback};
use crate::{AppPaths, Client, Connection, CoreError, Credentials, Feed, FeedOptions, FeedUpdate};

/// The name popups are shown under.
const APP_NAME: &str = "Doorstep";

/// What the session needs from the window system.
pub trait Shell: Send + Sync + 'static {
    /// Pushes a feed message to the window (the `feed` event).
    fn feed(&self, message: FeedMessage);
    /// A popup was clicked: bring the window up on `to` (the `intent` event).
    fn navigate(&self, to: Navigate);
    /// What the tray shows changed (the deliveries, or the language).
    fn tray_changed(&self, tray: &crate::alerts::TrayView);
    /// Whether the app starts when the person logs in; `None` where this shell
    /// cannot start at login.
    fn autostart(&self) -> Option<bool> {
        None
    }
    /// Starts the app at login, or stops doing so.
    fn set_autostart(&self, enabled: bool) -> Result<(), String> {
        let _ = enabled;
        Err("this program cannot start itself at login".into())
    }
    /// The page drew its first screen: what can wait for it (the tray) comes now.
    fn first_screen_shown(&self) {}
}

/// Starts the demo home: a local cloud, lock, camera and courier. Implemented by
/// `doorstep-demo`; an app built without it has none.
pub trait DemoHomes: Send + Sync + 'static {
    /// Starts the demo home in `paths` and signs its household in.
    fn start<'a>(&'a self, paths: &'a AppPaths) -> DemoStart<'a>;
    /// Whether the last run of the app ran the demo (it starts again with the app).
    fn remembered(&self, paths: &AppPaths) -> bool;
    /// Forgets the demo: the next start of the app does not bring it back.
    fn forget(&self, paths: &AppPaths) -> Result<(), CoreError>;
}

/// The demo home starting: running with its household's client, or why not.
pub type DemoStart<'a> = BoxFuture<'a, Result<(Box<dyn RunningDemo>, Client), String>>;

/// A running demo home.
pub trait RunningDemo: Send + Sync + std::fmt::Debug {
    /// Sends the courier on its rounds (once the household's feed is live).
    fn start_courier(&mut self);
    /// Stops it.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// Where live frames go: called with each frame message as the window reads it
/// ([`crate::video::window_message`]); answers `false` once nobody is listening.
pub type FrameSink = Box<dyn FnMut(Vec<u8>) -> bool + Send>;

/// This computer's household session and everything that runs for it.
pub struct HouseholdSession {
    paths: AppPaths,
    app_version: String,
    started: Instant,
    language: SharedLanguage,
    /// The kinds of popup turned off on this computer.
    muted: crate::alerts::MutedPopups,
    shell: Arc<dyn Shell>,
    demos: Option<Arc<dyn DemoHomes>>,
    household: Mutex<Option<Household>>,
    first_screen: std::sync::Once,
    /// A link the app was opened with, shown once the first screen is up.
    opening: std::sync::Mutex<Option<Navigate>>,
}

impl std::fmt::Debug for HouseholdSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HouseholdSession")
            .field("paths", &self.paths)
            .field("demo", &self.demos.is_some())
            .finish_non_exhaustive()
    }
}

/// A signed-in household and what runs for it.
struct Household {
    client: Client,
    feed: Feed,
    demo: Option<Box<dyn RunningDemo>>,
    live: Option<JoinHandle<()>>,
    playback: Option<JoinHandle<()>>,
    forwarder: JoinHandle<()>,
}

type Answer<T> = Result<T, IpcError>;

/// The tray for the deliveries in `cache` as they are now.
async fn tray_for(language: Language, cache: &CacheReader) -> crate::alerts::TrayView {
    crate::alerts::tray_view(
        language,
        &cache
            .read(crate::cache::Cache::deliveries_newest_first)
            .await,
    )
}

fn not_signed_in() -> IpcError {
    IpcError::from(CoreError::NotSignedIn)
}

impl HouseholdSession {
    /// A session with nobody signed in yet. `started` is when the app started (for
    /// the first-screen log line); `demos`, when the app can run the demo home.
    pub fn new(
        paths: AppPaths,
        app_version: impl Into<String>,
        started: Instant,
        shell: Arc<dyn Shell>,
        demos: Option<Arc<dyn DemoHomes>>,
    ) -> Self {
        let muted =
            crate::alerts::MutedPopups::new(crate::prefs::DevicePrefs::load(&paths).popups_off);
        Self {
            paths,
            app_version: app_version.into(),
            started,
            language: SharedLanguage::default(),
            muted,
            shell,
            demos,
            household: Mutex::new(None),
            first_screen: std::sync::Once::new(),
            opening: std::sync::Mutex::new(None),
        }
    }

    /// Opens a `doorstep://` link (the app started with one, or a second launch
    /// passed one on): its page now, or once the first screen is up. Returns
    /// whether `link` was one.
    pub fn open_link(&self, link: &str) -> bool {
        let Some(to) = Navigate::from_link(link) else {
            return false;
        };
        tracing::info!(page = to.page, "opening a link");
        // Kept first, then taken by whichever comes second: this, or the first screen.
        *self.opening.lock().unwrap_or_else(|e| e.into_inner()) = Some(to);
        if self.first_screen.is_completed() {
            self.show_opening();
        }
        true
    }

    fn show_opening(&self) {
        let opening = self
            .opening
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(to) = opening {
            self.shell.navigate(to);
        }
    }

    /// The signed-in household's client.
    pub async fn client(&self) -> Answer<Client> {
        self.household
            .lock()
            .await
            .as_ref()
            .map(|h| h.client.clone())
            .ok_or_else(not_signed_in)
    }

    /// The client, the connection and a reader of the feed's cache.
    async fn with_cache(&self) -> Answer<(Client, ConnectionView, CacheReader)> {
        let household = self.household.lock().await;
        let current = household.as_ref().ok_or_else(not_signed_in)?;
        let connection = ConnectionView::from(&*current.feed.connection().borrow());
        Ok((current.client.clone(), connection, current.feed.reader()))
    }

    /// Once a household is signed in the app starts at login, unless the person
    /// chose otherwise on this computer: popups must come after a restart too.
    fn autostart_by_default(&self) {
        if crate::prefs::DevicePrefs::load(&self.paths)
            .autostart
            .is_none()
            && self.shell.autostart() == Some(false)
            && let Err(e) = self.shell.set_autostart(true)
        {
            tracing::warn!(error = %e, "could not make the app start at login");
        }
    }

    fn start_household(&self, client: Client) -> Household {
        self.autostart_by_default();
        let mut feed = Feed::start(
            &client,
            FeedOptions {
                popups: Some(Notifier::new(APP_NAME)),
                auto_approve: true,
                language: self.language.clone(),
                muted: self.muted.clone(),
            },
        );
        let mut updates = feed.subscribe();
        let mut intents = feed.take_intents();
        let cache = feed.reader();
        let shell = self.shell.clone();
        let acting = client.clone();
        let popups = feed.popups().cloned();
        let language = self.language.clone();
        let forwarder = tokio::spawn(async move {
            loop {
                tokio::select! {
                    update = updates.recv() => match update {
                        Ok(FeedUpdate::Event(event)) => {
                            shell.feed(FeedMessage::Event { event });
                            shell.tray_changed(&tray_for(language.get(), &cache).await);
                        }
                        Ok(FeedUpdate::Connection(state)) => {
                            shell.feed(FeedMessage::Connection { connection: ConnectionView::from(&state) });
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    },
                    Some(intent) = async { match intents.as_mut() { Some(rx) => rx.recv().await, None => None } } => {
                        on_intent(shell.as_ref(), &acting, popups.as_ref(), language.get(), &intent).await;
                    }
                }
            }
        });
        Household {
            client,
            feed,
            demo: None,
            live: None,
            playback: None,
            forwarder,
        }
    }

    /// Signs `client` in as this computer's household, stopping the previous one.
    async fn replace(&self, client: Client) -> Answer<SessionInfo> {
        let mut household = self.household.lock().await;
        if let Some(previous) = household.take() {
            previous.stop().await;
        }
        // Signed in elsewhere: the demo does not come back with the next start. Best
        // effort, as the sign-in itself has succeeded.
        if let Some(demos) = &self.demos
            && let Err(e) = demos.forget(&self.paths)
        {
            tracing::warn!(error = %e, "could not forget the demo home");
        }
        let started = self.start_household(client);
        let info = started.info();
        *household = Some(started);
        Ok(info)
    }

    /// Checks the keyring and the notification service this app needs.
    pub async fn system_check(&self, _: request::SystemCheck) -> Answer<SystemCheck> {
        let paths = self.paths.clone();
        let version = self.app_version.clone();
        // The keyring and notification probes block on D-Bus.
        tokio::task::spawn_blocking(move || crate::system::check(&paths, &version))
            .await
            .map_err(|e| {
                IpcError::internal(format!("the computer check stopped unexpectedly: {e}"))
            })
    }

    /// Who is signed in; restores the sign-in of an earlier run (the demo restarts
    /// with the app).
    pub async fn session(&self, _: request::Session) -> Answer<SessionInfo> {
        let mut household = self.household.lock().await;
        if household.is_none()
            && let Some(client) = Client::restore(&self.paths)?
        {
            if self
                .demos
                .as_ref()
                .is_some_and(|demos| demos.remembered(&self.paths))
            {
                drop(household);
                return self.start_demo(request::StartDemo {}).await;
            }
            *household = Some(self.start_household(client));
        }
        Ok(household
            .as_ref()
            .map_or_else(SessionInfo::signed_out, Household::info))
    }

    /// Starts the demo home and signs in to it.
    pub async fn start_demo(&self, _: request::StartDemo) -> Answer<SessionInfo> {
        let Some(demos) = self.demos.clone() else {
            return Err(IpcError::invalid(
                "This build of Doorstep has no demo home; sign in to your household instead.",
            ));
        };
        let mut household = self.household.lock().await;
        if let Some(current) = household.as_ref()
            && current.demo.is_some()
        {
            return Ok(current.info());
        }
        if let Some(previous) = household.take() {
            previous.stop().await;
        }
        let (mut demo, client) = demos
            .start(&self.paths)
            .await
            .map_err(|e| IpcError::internal(format!("the demo home could not start: {e}")))?;
        let mut started = self.start_household(client);
        // The courier sets off once the feed is live, so its first parcel is news
        // (with a popup) rather than history absorbed by the first sync.
        let mut connection = started.feed.connection();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while *connection.borrow_and_update() != Connection::Online {
                if connection.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        demo.start_courier();
        started.demo = Some(demo);
        let info = started.info();
        *household = Some(started);
        Ok(info)
    }

    /// Signs this computer in to a household login.
    pub async fn sign_in(
        &self,
        request::SignIn {
            cloud,
            email,
            password,
            totp,
        }: request::SignIn,
    ) -> Answer<SessionInfo> {
        let client = Client::sign_in(
            &self.paths,
            Credentials {
                cloud,
                email,
                password: SecretString::from(password),
                totp: totp.filter(|t| !t.trim().is_empty()),
                device_name: crate::client::default_device_name("Doorstep app"),
            },
        )
        .await?;
        self.replace(client).await
    }

    /// Creates a household login with this computer as its first device.
    pub async fn create_account(
        &self,
        request::CreateAccount {
            cloud,
            email,
            password,
            time_zone,
        }: request::CreateAccount,
    ) -> Answer<NewAccountView> {
        let (client, recovery_key) = Client::create_account(
            &self.paths,
            Credentials {
                cloud,
                email,
                password: SecretString::from(password),
                totp: None,
                device_name: crate::client::default_device_name("Doorstep app"),
            },
            &time_zone,
        )
        .await?;
        Ok(NewAccountView {
            session: self.replace(client).await?,
            recovery_key: recovery_key.to_text().expose_secret().to_owned(),
        })
    }

    /// Sets a new password with the recovery key and signs this computer in.
    pub async fn recover_account(
        &self,
        request::RecoverAccount {
            cloud,
            email,
            recovery_key,
            new_password,
            totp,
        }: request::RecoverAccount,
    ) -> Answer<SessionInfo> {
        let recovery_key =
            crate::keys::RecoveryKey::parse(&recovery_key).map_err(CoreError::from)?;
        let client = Client::recover(
            &self.paths,
            crate::client::Recovery {
                cloud,
                email,
                recovery_key,
                new_password: SecretString::from(new_password),
                totp: totp.filter(|t| !t.trim().is_empty()),
                device_name: crate::client::default_device_name("Doorstep app"),
            },
        )
        .await?;
        self.replace(client).await
    }

    /// Makes a new recovery key for the household to write down.
    pub async fn new_recovery_key(&self, _: request::NewRecoveryKey) -> Answer<String> {
        let client = self.client().await?;
        let recovery_key = client.new_recovery_key().await?;
        Ok(recovery_key.to_text().expose_secret().to_owned())
    }

    /// Signs this computer out (and forgets the demo).
    pub async fn sign_out(&self, _: request::SignOut) -> Answer<()> {
        let mut household = self.household.lock().await;
        if let Some(current) = household.take() {
            let client = current.client.clone();
            current.stop().await;
            client.sign_out().await?;
        }
        if let Some(demos) = &self.demos {
            demos.forget(&self.paths)?;
        }
        Ok(())
    }

    /// The home screen.
    pub async fn home(&self, _: request::Home) -> Answer<HomeView> {
        let (client, connection, cache) = self.with_cache().await?;
        // Offline, the cache is what there is; the locks need the cloud.
        let locks = client.locks().await.unwrap_or_default();
        Ok(HomeView {
            locks,
            deliveries: cache
                .read(crate::cache::Cache::deliveries_newest_first)
                .await,
            connection,
        })
    }

    /// One delivery's page.
    pub async fn delivery_view(
        &self,
        request::DeliveryView { id }: request::DeliveryView,
    ) -> Answer<DeliveryView> {
        let (client, _, cache) = self.with_cache().await?;
        let delivery = match client.delivery(&id).await {
            Ok(delivery) => delivery,
            Err(e) => cache
                .read(|c| c.deliveries.get(&id).cloned())
                .await
                .ok_or(e)?,
        };
        let timeline = cache
            .read(|c| {
                c.events
                    .iter()
                    .filter(|e| e.delivery_id() == Some(id.as_str()))
                    .cloned()
                    .collect()
            })
            .await;
        let addresses = client.addresses().await.unwrap_or_default();
        // A delivery the policy let in names no lock until the lock reports; with
        // one lock, that is the one the camera belongs to.
        let lock_id = match &delivery.lock_id {
            Some(lock) => Some(lock.clone()),
            None => match client.locks().await.unwrap_or_default().as_slice() {
                [only] => Some(only.id.clone()),
                _ => None,
            },
        };
        let recordings = client.recordings(Some(&id)).await.unwrap_or_default();
        Ok(DeliveryView {
            delivery,
            lock_id,
            timeline,
            addresses,
            recordings,
        })
    }

    /// Blocks access.
    pub async fn block(&self, request::Block { id }: request::Block) -> Answer<Delivery> {
        Ok(self.client().await?.block(&id).await?)
    }

    /// Reroutes to an alternate address.
    pub async fn reroute(
        &self,
        request::Reroute { id, address_id }: request::Reroute,
    ) -> Answer<Delivery> {
        Ok(self.client().await?.reroute(&id, &address_id).await?)
    }

    /// Approves entry.
    pub async fn approve(&self, request::Approve { id }: request::Approve) -> Answer<Delivery> {
        Ok(self.client().await?.approve(&id, None).await?)
    }

    /// Streams the lock's live frames to `sink` until it stops listening or
    /// [`Self::stop_live`]; one live view at a time.
    pub async fn watch_live(&self, lock_id: &str, mut sink: FrameSink) -> Answer<()> {
        let mut household = self.household.lock().await;
        let current = household.as_mut().ok_or_else(not_signed_in)?;
        if let Some(previous) = current.live.take() {
            previous.abort();
        }
        let mut view = LiveView::open(&current.client, lock_id).await?;
        current.live = Some(tokio::spawn(async move {
            while let Ok(Some(update)) = view.next().await {
                if let LiveUpdate::Frame { frame, .. } = update
                    && !sink(crate::video::window_message(&frame.to_message()))
                {
                    return;
                }
            }
        }));
        Ok(())
    }

    /// Streams a recording's frames to `sink` at the pace they were filmed, from the
    /// first captured at or after `from` (the start when `None`), then one empty
    /// message at its end; until the sink stops listening or [`Self::stop_playback`].
    /// One playback at a time; an unknown recording is an error here.
    pub async fn play_recording(
        &self,
        recording_id: &str,
        from: Option<i64>,
        mut sink: FrameSink,
    ) -> Answer<()> {
        let mut household = self.household.lock().await;
        let current = household.as_mut().ok_or_else(not_signed_in)?;
        if let Some(previous) = current.playback.take() {
            previous.abort();
        }
        let mut playback = Playback::start(&current.client, recording_id, from).await?;
        current.playback = Some(tokio::spawn(async move {
            loop {
                match playback.next().await {
                    Ok(Some(frame)) => {
                        if !sink(crate::video::window_message(&frame)) {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "playback stopped");
                        break;
                    }
                }
            }
            sink(Vec::new());
        }));
        Ok(())
    }

    /// Stops the playback.
    pub async fn stop_playback(&self, _: request::StopPlayback) -> Answer<()> {
        if let Some(current) = self.household.lock().await.as_mut()
            && let Some(playback) = current.playback.take()
        {
            playback.abort();
        }
        Ok(())
    }

    /// Deletes a recording.
    pub async fn delete_recording(
        &self,
        request::DeleteRecording { id }: request::DeleteRecording,
    ) -> Answer<()> {
        Ok(self.client().await?.delete_recording(&id).await?)
    }

    /// Stops the live view.
    pub async fn stop_live(&self, _: request::StopLive) -> Answer<()> {
        if let Some(current) = self.household.lock().await.as_mut()
            && let Some(live) = current.live.take()
        {
            live.abort();
        }
        Ok(())
    }

    /// Who did what, newest first.
    pub async fn activity(
        &self,
        request::Activity { prefix }: request::Activity,
    ) -> Answer<Vec<AuditEntry>> {
        Ok(self.client().await?.audit(prefix.as_deref(), 200).await?)
    }

    /// Recordings, newest first.
    pub async fn recordings(&self, _: request::Recordings) -> Answer<Vec<Recording>> {
        Ok(self.client().await?.recordings(None).await?)
    }

    /// One frame of a recording.
    pub async fn recording_frame(
        &self,
        request::RecordingFrame { id, at }: request::RecordingFrame,
    ) -> Answer<RecordingFrame> {
        let frame = self.client().await?.recording_frame(&id, at).await?;
        Ok(RecordingFrame::from(&frame))
    }

    /// The lock's camera picture now.
    pub async fn snapshot(
        &self,
        request::Snapshot { lock_id }: request::Snapshot,
    ) -> Answer<RecordingFrame> {
        let frame = self.client().await?.snapshot(&lock_id).await?;
        Ok(RecordingFrame::from(&frame))
    }

    /// Devices signed in to this login.
    pub async fn devices(&self, _: request::Devices) -> Answer<Vec<Device>> {
        Ok(self.client().await?.devices().await?)
    }

    /// Signs another device out.
    pub async fn sign_out_device(
        &self,
        request::SignOutDevice { id }: request::SignOutDevice,
    ) -> Answer<()> {
        Ok(self.client().await?.sign_out_device(&id).await?)
    }

    /// Confirms the password for the sensitive actions of the next minutes.
    pub async fn confirm_password(
        &self,
        request::ConfirmPassword { password, totp }: request::ConfirmPassword,
    ) -> Answer<()> {
        let password = SecretString::from(password);
        Ok(self
            .client()
            .await?
            .confirm_password(&password, totp.as_deref().filter(|t| !t.is_empty()))
            .await?)
    }

    /// The settings page.
    pub async fn settings(&self, _: request::Settings) -> Answer<SettingsView> {
        let client = self.client().await?;
        let household = client.household_settings().await?;
        Ok(SettingsView {
            lead_time_minutes: household.lead_time_minutes,
            addresses: client.addresses().await?,
            time_zone: household.time_zone,
        })
    }

    /// The home's time zone.
    pub async fn set_time_zone(
        &self,
        request::SetTimeZone { time_zone }: request::SetTimeZone,
    ) -> Answer<()> {
        self.client().await?.set_time_zone(&time_zone).await?;
        Ok(())
    }

    /// Minutes before arrival for "courier arriving".
    pub async fn set_lead_time(
        &self,
        request::SetLeadTime { minutes }: request::SetLeadTime,
    ) -> Answer<()> {
        self.client().await?.set_lead_time(minutes).await?;
        Ok(())
    }

    /// Adds a neighbour's address.
    pub async fn add_address(
        &self,
        request::AddAddress { label, address }: request::AddAddress,
    ) -> Answer<Address> {
        Ok(self
            .client()
            .await?
            .add_address(&label, doorstep_api::AddressKind::Neighbour, &address)
            .await?)
    }

    /// Removes an alternate address.
    pub async fn remove_address(
        &self,
        request::RemoveAddress { id }: request::RemoveAddress,
    ) -> Answer<()> {
        Ok(self.client().await?.remove_address(&id).await?)
    }

    /// Shows a test popup in the popups' language.
    pub async fn test_popup(&self, _: request::TestPopup) -> Answer<()> {
        let popup = match self.language.get() {
            Language::German => Popup::new(
                "Doorstep-Testhinweis",
                "Hinweise funktionieren: Sie sehen einen, wenn ein Kurier unterwegs oder an der Tür ist.",
            ),
            Language::English => Popup::new(
                "Doorstep test popup",
                "Popups work: you will see one when a courier is on the way or at the door.",
            ),
        }
        .expires_after(std::time::Duration::from_secs(4));
        tokio::task::spawn_blocking(move || Notifier::new(APP_NAME).show(&popup))
            .await
            .map_err(|e| IpcError::internal(e.to_string()))?
            .map_err(|e| IpcError::internal(e.to_string()))?;
        Ok(())
    }

    /// The standing delivery policy.
    pub async fn policy(&self, _: request::Policy) -> Answer<PolicyView> {
        Ok(PolicyView::from(
            self.client().await?.policy().await?.as_ref(),
        ))
    }

    /// Signs and saves a new delivery policy.
    pub async fn set_policy(
        &self,
        request::SetPolicy {
            carriers,
            days,
            hours,
            max_window_minutes,
        }: request::SetPolicy,
    ) -> Answer<PolicyView> {
        let client = self.client().await?;
        let zone = client.household_settings().await?.time_zone;
        let weekly = crate::schedule_text::weekly(&days, &hours, &zone)?;
        let carriers: Vec<String> = carriers
            .into_iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        let policy = client
            .set_policy(carriers, Vec::new(), weekly, max_window_minutes)
            .await?;
        Ok(PolicyView::from(Some(&policy)))
    }

    /// The carriers a policy can let in.
    pub async fn carriers(&self, _: request::Carriers) -> Answer<Vec<String>> {
        Ok(self.client().await?.carrier_names().await?)
    }

    /// Which kinds of popup this computer shows.
    pub async fn popup_kinds(&self, _: request::PopupKinds) -> Answer<Vec<PopupKindView>> {
        Ok(crate::alerts::PopupKind::ALL
            .iter()
            .map(|kind| PopupKindView {
                kind: *kind,
                on: self.muted.shows(*kind),
            })
            .collect())
    }

    /// Turns a kind of popup on or off on this computer; remembered.
    pub async fn set_popup_kind(
        &self,
        request::SetPopupKind { kind, on }: request::SetPopupKind,
    ) -> Answer<()> {
        self.muted.set(kind, on);
        let mut prefs = crate::prefs::DevicePrefs::load(&self.paths);
        prefs.popups_off = self.muted.off();
        prefs.save(&self.paths)?;
        Ok(())
    }

    /// Whether the app starts when the person logs in.
    pub async fn autostart(&self, _: request::Autostart) -> Answer<Option<bool>> {
        Ok(self.shell.autostart())
    }

    /// Starts the app at login, or stops doing so; remembered as the person's choice.
    pub async fn set_autostart(
        &self,
        request::SetAutostart { enabled }: request::SetAutostart,
    ) -> Answer<()> {
        self.shell.set_autostart(enabled).map_err(|e| {
            IpcError::from(CoreError::Invalid(format!(
                "Doorstep could not {} starting at login: {e}",
                if enabled { "turn on" } else { "turn off" }
            )))
        })?;
        // Only this choice changes; the computer's others stay.
        let mut prefs = crate::prefs::DevicePrefs::load(&self.paths);
        prefs.autostart = Some(enabled);
        prefs.save(&self.paths)?;
        Ok(())
    }

    /// The language popups are written in.
    pub async fn set_language(
        &self,
        request::SetLanguage { language }: request::SetLanguage,
    ) -> Answer<()> {
        let language = Language::from_tag(&language);
        self.language.set(language);
        let tray = match self.household.lock().await.as_ref() {
            Some(household) => tray_for(language, &household.feed.reader()).await,
            None => crate::alerts::tray_view(language, &[]),
        };
        self.shell.tray_changed(&tray);
        Ok(())
    }

    /// Guests.
    pub async fn guests(&self, _: request::Guests) -> Answer<Vec<GuestView>> {
        let client = self.client().await?;
        // A guest who redeemed a code while no device of the household was up is
        // signed in now.
        if let Err(e) = client.complete_redeemed().await {
            tracing::warn!(error = %e, "redeemed invitations not signed in");
        }
        let zone = client.household_settings().await?.time_zone;
        Ok(client
            .guests()
            .await?
            .iter()
            .map(|guest| GuestView::new(guest, &zone))
            .collect())
    }

    /// Invites a guest by code.
    pub async fn invite_guest(
        &self,
        request::InviteGuest {
            name,
            days,
            hours,
            once_on,
            until_day,
        }: request::InviteGuest,
    ) -> Answer<InvitationView> {
        let client = self.client().await?;
        let zone = client.household_settings().await?.time_zone;
        let schedule = match once_on {
            Some(day) => doorstep_proto::GuestSchedule::Once(crate::schedule_text::once_between(
                &day,
                until_day.as_deref().unwrap_or(&day),
                &hours,
                &zone,
            )?),
            None => doorstep_proto::GuestSchedule::Weekly(crate::schedule_text::weekly(
                &days, &hours, &zone,
            )?),
        };
        let invitation = client.invite_guest(&name, schedule, &[]).await?;
        Ok(InvitationView::new(
            &invitation,
            client.session().cloud().base(),
            &zone,
        ))
    }

    /// Invitations not yet signed in as guests.
    pub async fn guest_invitations(
        &self,
        _: request::GuestInvitations,
    ) -> Answer<Vec<InvitationView>> {
        let client = self.client().await?;
        let base = client.session().cloud().base().to_owned();
        let zone = client.household_settings().await?.time_zone;
        Ok(client
            .invitations()
            .await?
            .iter()
            .map(|i| InvitationView::new(i, &base, &zone))
            .collect())
    }

    /// A pairing code for a new lock.
    pub async fn pairing_code(
        &self,
        request::PairingCode { name, kind }: request::PairingCode,
    ) -> Answer<PairingView> {
        let kind = match kind.as_str() {
            "door" => doorstep_proto::LockKind::Door,
            "garage" => doorstep_proto::LockKind::Garage,
            other => {
                return Err(IpcError::from(CoreError::Invalid(format!(
                    "a lock is for a door or a garage, not {other:?}"
                ))));
            }
        };
        let client = self.client().await?;
        let code = client.pairing_code(name.trim(), kind).await?;
        Ok(PairingView {
            name: name.trim().to_owned(),
            code: code.code,
            expires_at: code.expires_at,
            cloud_url: client.session().cloud().base().to_owned(),
        })
    }

    /// Withdraws an invitation.
    pub async fn cancel_invitation(
        &self,
        request::CancelInvitation { id }: request::CancelInvitation,
    ) -> Answer<()> {
        Ok(self.client().await?.cancel_invitation(&id).await?)
    }

    /// Revokes a guest.
    pub async fn revoke_guest(
        &self,
        request::RevokeGuest { id }: request::RevokeGuest,
    ) -> Answer<()> {
        Ok(self.client().await?.revoke_guest(&id).await?)
    }

    /// The page drew its first screen: logs the time since the app started, once
    /// (what the bench's cold-start measurement waits for).
    pub async fn first_screen_shown(
        &self,
        request::FirstScreenShown { marks }: request::FirstScreenShown,
    ) -> Answer<()> {
        self.first_screen.call_once(|| {
            let since_start = self.started.elapsed();
            // The page's clock begins at its navigation: placed on the app's by the
            // wall clock both read.
            let started_at_ms = crate::cloud::now_ms() as f64 - since_start.as_secs_f64() * 1000.0;
            tracing::info!(
                since_start_ms = since_start.as_millis(),
                page_began_ms = (marks.time_origin - started_at_ms).round(),
                html_ms = marks.html_ms.round(),
                script_ms = marks.script_ms.round(),
                session_ms = marks.session_ms.round(),
                painted_ms = marks.painted_ms.round(),
                "first screen shown"
            );
            self.shell.first_screen_shown();
        });
        self.show_opening();
        Ok(())
    }
}

impl Household {
    fn info(&self) -> SessionInfo {
        SessionInfo {
            signed_in: true,
            demo: self.demo.is_some(),
            email: Some(self.client.account().email.clone()),
            device_name: Some(self.client.account().device_name.clone()),
        }
    }

    async fn stop(mut self) {
        for task in [self.live.take(), self.playback.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        self.forwarder.abort();
        // Nothing of a household that is gone stays on the screen.
        if let Some(popups) = self.feed.popups().cloned() {
            let withdrawn = tokio::task::spawn_blocking(move || popups.withdraw_all()).await;
            if let Ok(Err(e)) = withdrawn {
                tracing::warn!(error = %e, "popups not withdrawn");
            }
        }
        drop(self.feed);
        if let Some(demo) = self.demo.take() {
            demo.stop().await;
        }
    }
}

/// A popup was clicked: Block and Approve act at once (the visit's popup then says
/// what came of it: the lock's confirmation, or why it failed); every click also
/// brings the window up on the right page.
async fn on_intent(
    shell: &dyn Shell,
    client: &Client,
    popups: Option<&crate::popup_board::PopupBoard>,
    language: Language,
    intent: &Intent,
) {
    let failed = match intent {
        Intent::Block(id) => client.block(id).await.err().map(|e| (id, e)),
        Intent::Approve(id) => client.approve(id, None).await.err().map(|e| (id, e)),
        _ => None,
    };
    if let Some((id, e)) = failed {
        tracing::warn!(error = %e, ?intent, "an action from a popup failed");
        if let (Intent::Block(_), Some(popups)) = (intent, popups) {
            let alert = crate::alerts::block_failed(language, id, &e.to_string());
            let popups = popups.clone();
            let key = crate::popup_board::PopupKey::Visit(id.clone());
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || popups.show(key, alert)).await {
                tracing::warn!(error = %e, "popup not shown");
            }
        }
    }
    shell.navigate(Navigate::from(intent));
}
