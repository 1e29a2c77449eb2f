//! The running lock: drives the hardware model in real time, verifies every
//! entry itself, keeps its journal, listens to the cloud's channel for
//! revocations and policies, uploads its journal, runs the camera's signed
//! heartbeat, and offers a control interface on loopback for people and tests
//! to press what a person would (`docs/lock.md`).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use doorstep_api::{
    BoltPosition, CameraStatus, CameraSwitch, Challenge, Code, DoorPosition, Enter, Entered,
    ErrorBody, Heartbeat, LockReport, LockStatus, NetworkSwitch, Reported, SlowMotor, ToLock,
};
use doorstep_proto::{
    CameraHeartbeat, Clock, CloudTime, CourierResponse, DeliveryPolicy, EntryGrant, EntryRequest,
    GrantSubject, LockChallenge, LockId, Revocation, Signed, verify_entry,
};
use futures_util::StreamExt;
use rand_core::{OsRng, RngCore};
use tokio::sync::Notify;

use crate::clock::LockClock;
use crate::hardware::{Bolt, Door, Hardware, Input, Output};
use crate::identity::Paired;
use crate::journal::{Entry, Journal, Record};

/// The hardware loop runs this often.
pub const TICK: Duration = Duration::from_millis(50);
/// The camera signs a heartbeat this often while plugged in.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// After a challenge (the bell), the camera records as long as the challenge
/// can still be answered; an entry extends it while the door is unlocked or open.
pub const RECORD_FOR: Duration = doorstep_proto::CHALLENGE_MAX_AGE;
/// After the visit ends (the bolt thrown again, the door closed), the camera
/// records this much longer, then stops: one recording per visit.
pub const POST_ROLL: Duration = Duration::from_secs(5);

struct Camera {
    /// Frames not yet sent (kept while the network or the cloud is away).
    outbox: std::collections::VecDeque<Vec<u8>>,
    plugged: bool,
    recording_until: i64,
    frame_seq: u64,
    last_heartbeat: Option<Signed<CameraHeartbeat>>,
}

struct LockState {
    hw: Hardware,
    journal: Journal,
    /// The challenge held, and when it was issued by the monotonic clock.
    challenge: Option<(LockChallenge, std::time::Instant)>,
    camera: Camera,
    /// What the door is open for, from the accepted grant until the bolt is home.
    active: Option<EntryGrant>,
    online: bool,
    /// The lock's own network link (a test or demo pulls the plug).
    network: bool,
    uploaded_through: u64,
    /// Lines that could not be written (a full or failing disk), oldest first:
    /// retried every tick, so an alarm raised then still reaches the household.
    unwritten: std::collections::VecDeque<Entry>,
    /// Refused channel messages journalled in the current minute (and since when):
    /// a breached cloud's flood must not fill the lock's disk.
    refusals: (std::time::Instant, u32),
}

/// At most this many refused channel messages are journalled a minute; the
/// rest are only logged (the household already has the alarm).
const REFUSALS_JOURNALLED_PER_MINUTE: u32 = 10;

/// At most this many unwritten lines are kept in memory; the oldest go first.
const UNWRITTEN_MAX: usize = 1000;

/// The agent.
#[derive(Clone)]
pub struct Agent {
    state: Arc<Mutex<LockState>>,
    paired: Arc<Paired>,
    clock: Arc<LockClock>,
    http: reqwest::Client,
    upload: Arc<Notify>,
    data_dir: std::path::PathBuf,
    tls: Arc<rustls::ClientConfig>,
    /// Held for the agent's life: one agent per data folder.
    _folder_lock: Arc<std::fs::File>,
    /// Wakes the channel when the network switch is pulled.
    network_changed: Arc<Notify>,
    /// Wakes the video upload when the camera has queued a frame.
    frame_queued: Arc<Notify>,
}

/// Takes the data folder for this process alone: two agents on one folder would
/// number journal lines twice, and a grant used at one would open the other.
fn lock_folder(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("agent.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another doorstep-lock is already running on {}; stop it first",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            anyhow::bail!("cannot lock {}: {e}", path.display())
        }
    }
}

/// The simulated door sensor. A real door stays where it is through a power
/// cut, so the simulation keeps its reading in `door-sensor`.
enum DoorSensor {
    Open,
    Closed,
}

impl DoorSensor {
    fn read(data_dir: &std::path::Path) -> Self {
        match std::fs::read_to_string(data_dir.join("door-sensor")) {
            Ok(text) if text.trim() == "open" => DoorSensor::Open,
            _ => DoorSensor::Closed,
        }
    }

    fn write(data_dir: &std::path::Path, open: bool) {
        let text = if open { "open" } else { "closed" };
        if let Err(e) = std::fs::write(data_dir.join("door-sensor"), text) {
            tracing::warn!(error = %e, "could not keep the door sensor's reading");
        }
    }
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("lock_id", &self.paired.identity.lock_id)
            .finish()
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Agent {
    /// Opens a paired lock's folder; after a restart the bolt is home (fail-secure).
    /// `clock` is what every decision reads: [`LockClock::open`] on the same folder
    /// for the real agent (untrusted until the cloud's signed time arrives).
    pub fn open(data_dir: &std::path::Path, clock: Arc<LockClock>) -> anyhow::Result<Self> {
        let folder_lock = lock_folder(data_dir)?;
        let paired = Paired::load(data_dir)?;
        let uploaded_through = std::fs::read_to_string(data_dir.join("uploaded"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        // Numbering continues above what was uploaded even if journal lines were lost.
        let mut journal = Journal::open(data_dir, uploaded_through)?;
        let now = clock.read().now.0;
        // The door is whatever its sensor says, also after a power cut with the door open.
        let door = match DoorSensor::read(data_dir) {
            DoorSensor::Open => Door::Open {
                since: now,
                ajar_reported: false,
            },
            DoorSensor::Closed => Door::Closed,
        };
        journal.append(
            Entry::Booted {
                door_open: !matches!(door, Door::Closed),
            },
            now,
        )?;
        Ok(Self {
            state: Arc::new(Mutex::new(LockState {
                hw: Hardware::after_reboot(door),
                journal,
                challenge: None,
                camera: Camera {
                    outbox: std::collections::VecDeque::new(),
                    plugged: true,
                    recording_until: 0,
                    frame_seq: 0,
                    last_heartbeat: None,
                },
                active: None,
                online: false,
                network: true,
                uploaded_through,
                unwritten: std::collections::VecDeque::new(),
                refusals: (std::time::Instant::now(), 0),
            })),
            _folder_lock: Arc::new(folder_lock),
            network_changed: Arc::new(Notify::new()),
            frame_queued: Arc::new(Notify::new()),
            http: Paired::http_client(paired.identity.ca_cert_pem.as_deref())?,
            tls: paired.tls_config()?,
            paired: Arc::new(paired),
            clock,
            upload: Arc::new(Notify::new()),
            data_dir: data_dir.to_path_buf(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, LockState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a WebSocket to the cloud (`ws://`, or `wss://` with our TLS settings).
    async fn connect_socket(
        &self,
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Result<
        (
            tokio_tungstenite::WebSocketStream<
                tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
            >,
            tokio_tungstenite::tungstenite::handshake::client::Response,
        ),
        tokio_tungstenite::tungstenite::Error,
    > {
        // What the cloud sends a lock is small (policies, revocations, time).
        let limits = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(256 * 1024))
            .max_frame_size(Some(256 * 1024));
        tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(limits),
            false,
            Some(tokio_tungstenite::Connector::Rustls(self.tls.clone())),
        )
        .await
    }

    fn network_up(&self) -> bool {
        self.lock().network
    }

    fn now(&self) -> i64 {
        self.clock.read().now.0
    }

    /// Journals `entry`. A failed write (a full or failing disk) throws the bolt:
    /// without its journal the lock cannot remember what it used.
    fn record(&self, state: &mut LockState, entry: Entry) -> bool {
        self.clock.save_floor(false);
        // Order is kept: nothing new is written before what is still waiting.
        if !state.unwritten.is_empty() {
            self.retry_unwritten(state);
        }
        let written = if state.unwritten.is_empty() {
            state
                .journal
                .append(entry.clone(), self.now())
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            Err("earlier lines are still waiting to be written".to_owned())
        };
        self.upload.notify_one();
        match written {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, "journal write failed; locking");
                state.hw.step(Input::Lock(self.now()));
                // A used grant that was not recorded did not open the door, so it
                // is not recorded later either; anything else waits for space.
                if !matches!(entry, Entry::GrantUsed { .. }) {
                    if state.unwritten.len() >= UNWRITTEN_MAX {
                        state.unwritten.pop_front();
                    }
                    state.unwritten.push_back(entry);
                }
                false
            }
        }
    }

    /// Writes the lines that could not be written earlier, in order, until one fails.
    fn retry_unwritten(&self, state: &mut LockState) {
        while let Some(entry) = state.unwritten.front().cloned() {
            if state.journal.append(entry, self.now()).is_err() {
                return;
            }
            state.unwritten.pop_front();
            self.upload.notify_one();
        }
    }

    fn drive(&self, state: &mut LockState, input: Input) -> Vec<Output> {
        let outputs = state.hw.step(input);
        let subject = state.active.as_ref().map(|g| g.subject.clone());
        for output in &outputs {
            // A line that cannot be written is not lost silently: the lock logs it and
            // the household hears of the gap when the journal uploads again.
            self.record(
                state,
                Entry::Hardware {
                    output: *output,
                    subject: subject.clone(),
                },
            );
            if *output == Output::Relocked {
                // The visit is over: a short post-roll, not the rest of the bell's time.
                if state.active.take().is_some() && matches!(state.hw.door, Door::Closed) {
                    state.camera.recording_until = self.now() + ms(POST_ROLL);
                }
            }
        }
        outputs
    }

    /// Runs every loop and serves the control interface on `control` until the process ends.
    pub async fn run(self, control: tokio::net::TcpListener) -> anyhow::Result<()> {
        // The loops end with `run` (the demo home stops its lock by dropping it).
        let _loops = AbortOnDrop(vec![
            tokio::spawn(self.clone().hardware_loop()),
            tokio::spawn(self.clone().camera_loop()),
            tokio::spawn(self.clone().video_capture_loop()),
            tokio::spawn(self.clone().video_upload_loop()),
            tokio::spawn(self.clone().channel_loop()),
            tokio::spawn(self.clone().upload_loop()),
        ]);
        let app = axum::Router::new()
            .route("/status", get(status))
            .route("/challenge", post(challenge))
            .route("/enter", post(enter))
            .route(
                "/door/open",
                post(|s: State<Agent>| press(s, Input::DoorOpened(0))),
            )
            .route(
                "/door/close",
                post(|s: State<Agent>| press(s, Input::DoorClosed(0))),
            )
            .route(
                "/motor/jam",
                post(|s: State<Agent>| press(s, Input::JamMotor)),
            )
            .route(
                "/motor/free",
                post(|s: State<Agent>| press(s, Input::FreeMotor)),
            )
            .route("/motor/slow", post(slow_motor))
            .route(
                "/camera/unplug",
                post(|s: State<Agent>| camera_plug(s, false)),
            )
            .route("/camera/plug", post(|s: State<Agent>| camera_plug(s, true)))
            .route("/network/down", post(|s: State<Agent>| network(s, false)))
            .route("/network/up", post(|s: State<Agent>| network(s, true)))
            .with_state(self);
        axum::serve(control, app).await?;
        Ok(())
    }

    async fn hardware_loop(self) {
        let mut interval = tokio::time::interval(TICK);
        loop {
            interval.tick().await;
            let now = self.now();
            let mut state = self.lock();
            if !state.unwritten.is_empty() {
                self.retry_unwritten(&mut state);
            }
            self.drive(&mut state, Input::Tick(now));
            // Keep recording while an entry is under way (one post-roll ahead).
            if state.active.is_some() || !matches!(state.hw.door, Door::Closed) {
                state.camera.recording_until =
                    state.camera.recording_until.max(now + ms(POST_ROLL));
            }
        }
    }

    fn beat(&self, state: &mut LockState) -> Option<Signed<CameraHeartbeat>> {
        if !state.camera.plugged {
            state.camera.last_heartbeat = None;
            return None;
        }
        let now = self.now();
        state.camera.frame_seq += 1;
        let heartbeat = Signed::sign(
            &CameraHeartbeat {
                lock: LockId(self.paired.identity.lock_id.clone()),
                recording: now < state.camera.recording_until,
                frame_seq: state.camera.frame_seq,
                captured_at: doorstep_proto::Timestamp(now),
            },
            &self.paired.camera_key,
        );
        state.camera.last_heartbeat = Some(heartbeat.clone());
        Some(heartbeat)
    }

    async fn send_heartbeat(&self, heartbeat: Signed<CameraHeartbeat>) {
        if !self.network_up() {
            return;
        }
        let url = format!("{}/v1/lock/heartbeats", self.paired.identity.cloud);
        let sent = self
            .http
            .post(url)
            .bearer_auth(&self.paired.token)
            .json(&Heartbeat {
                heartbeat: heartbeat.to_base64(),
            })
            .send()
            .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e.without_url(), "heartbeat not delivered");
        }
    }

    async fn camera_loop(self) {
        let mut interval = tokio::time::interval(HEARTBEAT_EVERY);
        loop {
            interval.tick().await;
            let heartbeat = {
                let mut state = self.lock();
                self.beat(&mut state)
            };
            match heartbeat {
                Some(heartbeat) => self.send_heartbeat(heartbeat).await,
                // No camera, but the lock is here: the household hears "camera
                // down", not "lock offline".
                None => self.send_alive().await,
            }
        }
    }

    async fn send_alive(&self) {
        if !self.network_up() {
            return;
        }
        let url = format!("{}/v1/lock/alive", self.paired.identity.cloud);
        let sent = self
            .http
            .post(url)
            .bearer_auth(&self.paired.token)
            .send()
            .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e.without_url(), "alive not delivered");
        }
    }

    /// Captures frames while recording; they queue for upload (at most a minute's
    /// worth is kept while cut off, oldest dropped first).
    async fn video_capture_loop(self) {
        const KEEP: usize = 60 * crate::camera::FPS as usize;
        let mut interval = tokio::time::interval(crate::camera::FRAME_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut seq: u64 = 0;
        loop {
            interval.tick().await;
            let now = self.now();
            let recording = {
                let state = self.lock();
                state.camera.plugged && now < state.camera.recording_until
            };
            if !recording {
                continue;
            }
            seq += 1;
            let frame =
                match tokio::task::spawn_blocking(move || crate::camera::render(seq, now)).await {
                    Ok(frame) => frame,
                    Err(_) => continue,
                };
            let mut state = self.lock();
            if state.camera.outbox.len() >= KEEP {
                state.camera.outbox.pop_front();
            }
            state.camera.outbox.push_back(frame.to_message());
            drop(state);
            self.frame_queued.notify_one();
        }
    }

    /// Sends queued frames over the video socket, reconnecting as needed.
    async fn video_upload_loop(self) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        // Woken by each queued frame (a frame waits for no poll: its age is the
        // live view's), and now and then to notice the network coming back.
        let wait_for_frames =
            || tokio::time::timeout(Duration::from_millis(200), self.frame_queued.notified());
        loop {
            if !self.network_up() || self.lock().camera.outbox.is_empty() {
                let _ = wait_for_frames().await;
                continue;
            }
            let url =
                format!("{}/v1/lock/video", self.paired.identity.cloud).replacen("http", "ws", 1);
            let Ok(mut request) = url.into_client_request() else {
                return;
            };
            let Ok(auth) = format!("Bearer {}", self.paired.token).parse() else {
                return;
            };
            request.headers_mut().insert("authorization", auth);
            let Ok((mut socket, _)) = self.connect_socket(request).await else {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            };
            loop {
                if !self.network_up() {
                    break;
                }
                let next = self.lock().camera.outbox.front().cloned();
                let Some(frame) = next else {
                    let _ = wait_for_frames().await;
                    continue;
                };
                if socket.send(Message::Binary(frame.into())).await.is_err() {
                    break;
                }
                self.lock().camera.outbox.pop_front();
            }
        }
    }

    async fn channel_loop(self) {
        let mut failures: u32 = 0;
        loop {
            if !self.network_up() {
                self.lock().online = false;
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            match self.channel_session().await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::info!(error = %e, "cloud channel down; the lock stays fail-secure");
                }
            }
            self.lock().online = false;
            // Jittered exponential backoff: 0.25 s … 10 s.
            let base = 250u64.saturating_mul(1 << failures.min(5)).min(10_000);
            let jitter = u64::from(OsRng.next_u32()) % (base / 2 + 1);
            tokio::time::sleep(Duration::from_millis(base / 2 + jitter)).await;
        }
    }

    async fn channel_session(&self) -> anyhow::Result<()> {
        use base64::Engine;
        use tokio_tungstenite::tungstenite::Message;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url =
            format!("{}/v1/lock/connect", self.paired.identity.cloud).replacen("http", "ws", 1);
        let mut request = url.into_client_request()?;
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", self.paired.token).parse()?,
        );
        // A fresh nonce, so the cloud's signed time cannot be an old one replayed.
        let mut time_nonce = [0u8; 32];
        OsRng.fill_bytes(&mut time_nonce);
        request.headers_mut().insert(
            doorstep_api::PROTOCOL_HEADER,
            doorstep_api::LOCK_PROTOCOL.to_string().parse()?,
        );
        request.headers_mut().insert(
            doorstep_api::TIME_NONCE_HEADER,
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(time_nonce)
                .parse()?,
        );
        let (mut socket, _) = self.connect_socket(request).await?;
        let mut silence = keepalive_silence(doorstep_api::DEFAULT_KEEPALIVE_SECS);
        // Three silent keepalive intervals mean the link is dead; a pulled
        // network switch ends the session at once.
        loop {
            if !self.network_up() {
                return Ok(());
            }
            let next = tokio::select! {
                next = tokio::time::timeout(silence, socket.next()) => next,
                () = self.network_changed.notified() => continue,
            };
            let Ok(Some(message)) = next else { break };
            let text = match message? {
                Message::Text(text) => text,
                Message::Binary(_) => {
                    self.refuse_message("a binary message on the lock channel".to_owned());
                    continue;
                }
                _ => continue,
            };
            let message: ToLock = match serde_json::from_str(&text) {
                Ok(message) => message,
                Err(e) => {
                    self.refuse_message(format!("a lock channel message it cannot read: {e}"));
                    continue;
                }
            };
            match message {
                ToLock::Hello {
                    protocol,
                    keepalive_secs,
                    time,
                    ..
                } => {
                    if protocol != doorstep_api::LOCK_PROTOCOL {
                        // Obeying a protocol it does not speak could misread a
                        // revocation; stay offline (fail-secure) and say why.
                        self.refuse_message(format!(
                            "the cloud speaks lock protocol {protocol}, this lock {}",
                            doorstep_api::LOCK_PROTOCOL
                        ));
                        anyhow::bail!("the cloud speaks lock protocol {protocol}");
                    }
                    if doorstep_api::KEEPALIVE_SECS_RANGE.contains(&keepalive_secs) {
                        silence = keepalive_silence(keepalive_secs);
                    }
                    self.on_time(time.as_deref(), &time_nonce, std::time::Instant::now());
                }
                ToLock::Policy { policy } => self.on_policy(&policy),
                ToLock::Revocation { revocation } => self.on_revocation(&revocation),
                ToLock::Synced => {
                    self.lock().online = true;
                    self.upload.notify_one();
                    tracing::info!("cloud channel synced");
                }
            }
        }
        Ok(())
    }

    fn refuse_message(&self, detail: String) {
        tracing::warn!(%detail, "lock channel message refused");
        let mut state = self.lock();
        let (since, count) = state.refusals;
        state.refusals = if since.elapsed() >= Duration::from_secs(60) {
            (std::time::Instant::now(), 1)
        } else {
            (since, count.saturating_add(1))
        };
        if state.refusals.1 <= REFUSALS_JOURNALLED_PER_MINUTE {
            self.record(&mut state, Entry::MessageRefused { detail });
        }
    }

    /// Takes the cloud's signed time for our nonce, within the clock's bounds.
    fn on_time(&self, envelope: Option<&str>, nonce: &[u8; 32], arrived: std::time::Instant) {
        let Some(envelope) = envelope else {
            self.refuse_clock(
                "the cloud sent no signed time; the lock's clock stays unset".to_owned(),
            );
            return;
        };
        let time = Signed::<CloudTime>::from_base64(envelope)
            .ok()
            .and_then(|signed| signed.verify(&self.paired.identity.cloud_public_key))
            .filter(|t| t.lock.as_str() == self.paired.identity.lock_id && t.nonce == *nonce);
        let Some(time) = time else {
            self.refuse_clock(
                "the cloud's time is not signed by the pinned cloud key for this lock and nonce"
                    .to_owned(),
            );
            return;
        };
        if let Err(refused) = self.clock.offer(time.now, arrived) {
            self.refuse_clock(refused.to_string());
            return;
        }
        // After lost journal lines, the first trusted time draws the line:
        // nothing authorised before it opens.
        let mut state = self.lock();
        if state.journal.awaits_forget_line() {
            let before = self.now();
            self.record(&mut state, Entry::ForgottenBefore { before });
        }
    }

    fn refuse_clock(&self, reason: String) {
        tracing::warn!(%reason, "signed time refused");
        let mut state = self.lock();
        self.record(&mut state, Entry::ClockRefused { reason });
    }

    fn on_policy(&self, envelope: &str) {
        let Some(policy) = Signed::<DeliveryPolicy>::from_base64(envelope)
            .ok()
            .and_then(|s| s.verify(&self.paired.identity.household_public_key))
        else {
            // Only the household signs policies: this came from a breached or
            // broken cloud, and the household is told (journalled, uploaded).
            self.refuse_message("a policy not signed by the household".to_owned());
            return;
        };
        let mut state = self.lock();
        if policy.version > doorstep_proto::LockLedger::policy_version(state.journal.ledger()) {
            self.record(
                &mut state,
                Entry::PolicySeen {
                    version: policy.version,
                    policy: envelope.to_owned(),
                },
            );
        }
    }

    fn on_revocation(&self, envelope: &str) {
        let Some(revocation) = Signed::<Revocation>::from_base64(envelope)
            .ok()
            .and_then(|s| s.verify(&self.paired.identity.household_public_key))
        else {
            self.refuse_message("a revocation not signed by the household".to_owned());
            return;
        };
        if revocation.household.as_str() != self.paired.identity.household_id {
            return;
        }
        let mut state = self.lock();
        if !state.journal.ledger().knows(&revocation.target) {
            self.record(
                &mut state,
                Entry::Revoked {
                    revocation: envelope.to_owned(),
                },
            );
        }
        // Block while the door is open for it: throw the bolt now.
        let covered = state
            .active
            .as_ref()
            .is_some_and(|grant| state.journal.ledger().covers(&grant.subject, &grant.grant));
        if covered {
            let now = self.now();
            self.drive(&mut state, Input::Lock(now));
            tracing::info!("revocation obeyed: relocking");
        }
    }

    async fn upload_loop(self) {
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.upload.notified()).await;
            let (online, pending): (bool, Vec<Record>) = {
                let state = self.lock();
                (
                    state.online,
                    state
                        .journal
                        .after(state.uploaded_through)
                        .cloned()
                        .collect(),
                )
            };
            if !online || !self.network_up() {
                continue;
            }
            for record in pending {
                if !self.upload_one(&record).await {
                    break;
                }
                let mut state = self.lock();
                state.uploaded_through = record.seq;
                let _ = std::fs::write(self.data_dir.join("uploaded"), record.seq.to_string());
            }
        }
    }

    async fn upload_one(&self, record: &Record) -> bool {
        let (delivery_id, guest_id) = match record.entry.subject() {
            Some(GrantSubject::Delivery(id)) => (Some(id.to_string()), None),
            Some(GrantSubject::Guest(id)) => (None, Some(id.to_string())),
            None => (None, None),
        };
        let report = LockReport {
            seq: i64::try_from(record.seq).unwrap_or(i64::MAX),
            kind: record.entry.kind(),
            delivery_id,
            guest_id,
            at: record.at,
            detail: record.entry.detail(),
        };
        let sent = self
            .http
            .post(format!("{}/v1/lock/reports", self.paired.identity.cloud))
            .bearer_auth(&self.paired.token)
            .json(&report)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => true,
            Ok(response) if response.status() == reqwest::StatusCode::CONFLICT => {
                // The cloud holds another line under this seq and has told the
                // household; retrying would block every later line.
                tracing::error!(
                    seq = record.seq,
                    "the cloud holds a different line under this seq; skipping it"
                );
                true
            }
            Ok(response) => {
                tracing::warn!(status = %response.status(), seq = record.seq, "journal upload refused");
                false
            }
            Err(e) => {
                tracing::debug!(error = %e.without_url(), "journal upload failed; will retry");
                false
            }
        }
    }
}

fn bolt_position(bolt: Bolt) -> BoltPosition {
    match bolt {
        Bolt::Locked => BoltPosition::Locked,
        Bolt::Unlocking { .. } => BoltPosition::Unlocking,
        Bolt::Unlocked { .. } => BoltPosition::Unlocked,
        Bolt::Locking { .. } => BoltPosition::Locking,
        Bolt::Jammed => BoltPosition::Jammed,
    }
}

/// Three silent keepalive intervals mean the link is dead.
fn keepalive_silence(keepalive_secs: u64) -> Duration {
    Duration::from_secs(keepalive_secs.saturating_mul(u64::from(doorstep_api::SILENT_INTERVALS)))
}

async fn status(State(agent): State<Agent>) -> Json<LockStatus> {
    let state = agent.lock();
    let now = agent.now();
    Json(LockStatus {
        lock_id: agent.paired.identity.lock_id.clone(),
        bolt: bolt_position(state.hw.bolt),
        door: if matches!(state.hw.door, Door::Closed) {
            DoorPosition::Closed
        } else {
            DoorPosition::Open
        },
        motor_jammed: state.hw.motor_jammed,
        camera: CameraStatus {
            plugged: state.camera.plugged,
            recording: state.camera.plugged && now < state.camera.recording_until,
        },
        online: state.online,
        clock_set: agent.clock.is_set(),
        network: state.network,
        journal_seq: state.journal.records().last().map_or(0, |r| r.seq),
        uploaded_through: state.uploaded_through,
        journal_unwritten: state.unwritten.len(),
    })
}

async fn press(State(agent): State<Agent>, input: Input) -> Json<Reported> {
    let now = agent.now();
    let input = match input {
        Input::DoorOpened(_) => Input::DoorOpened(now),
        Input::DoorClosed(_) => Input::DoorClosed(now),
        other => other,
    };
    let mut state = agent.lock();
    let outputs = agent.drive(&mut state, input);
    if matches!(input, Input::DoorOpened(_) | Input::DoorClosed(_)) {
        DoorSensor::write(&agent.data_dir, !matches!(state.hw.door, Door::Closed));
    }
    Json(Reported {
        reported: outputs.iter().map(|o| o.report_kind()).collect(),
    })
}

async fn slow_motor(state: State<Agent>, Json(slow): Json<SlowMotor>) -> Json<Reported> {
    press(state, Input::WearMotor(i64::from(slow.stroke_ms))).await
}

async fn network(State(agent): State<Agent>, up: bool) -> Json<NetworkSwitch> {
    {
        let mut state = agent.lock();
        state.network = up;
        if !up {
            // The channel goes with the link: nothing new opens while it is down.
            state.online = false;
        }
    }
    agent.network_changed.notify_waiters();
    Json(NetworkSwitch { network: up })
}

async fn camera_plug(State(agent): State<Agent>, plugged: bool) -> Json<CameraSwitch> {
    agent.lock().camera.plugged = plugged;
    Json(CameraSwitch { plugged })
}

/// A courier (or guest) at the door asks for a challenge; the camera starts recording.
async fn challenge(State(agent): State<Agent>) -> Json<Challenge> {
    let now = agent.now();
    let mut nonce = [0u8; 32];
    OsRng.fill_bytes(&mut nonce);
    let challenge = LockChallenge {
        lock: LockId(agent.paired.identity.lock_id.clone()),
        nonce,
        issued_at: doorstep_proto::Timestamp(now),
    };
    let signed = Signed::sign(&challenge, &agent.paired.lock_key);
    let heartbeat = {
        let mut state = agent.lock();
        state.challenge = Some((challenge, std::time::Instant::now()));
        state.camera.recording_until = now + ms(RECORD_FOR);
        agent.beat(&mut state)
    };
    // The cloud needs a fresh "recording" heartbeat before it grants anything.
    if let Some(heartbeat) = heartbeat {
        agent.send_heartbeat(heartbeat).await;
    }
    Json(Challenge {
        challenge: signed.to_base64(),
    })
}

/// An error answer of the control interface.
fn refusal(status: StatusCode, code: Code, message: impl Into<String>) -> EnterAnswer {
    Err((
        status,
        Json(ErrorBody {
            code,
            message: message.into(),
        }),
    ))
}

type EnterAnswer = Result<Json<Entered>, (StatusCode, Json<ErrorBody>)>;

/// The courier presents the cloud's grant and its signed answer to the challenge.
async fn enter(State(agent): State<Agent>, Json(request): Json<Enter>) -> EnterAnswer {
    let bad = |message: String| refusal(StatusCode::BAD_REQUEST, Code::InvalidRequest, message);
    // What cannot even be read is journalled too: the household hears of it.
    let unreadable = |field: &str, e: doorstep_proto::DecodeError| {
        let message = format!("field `{field}`: {e}");
        let mut state = agent.lock();
        agent.record(
            &mut state,
            Entry::EntryRefused {
                reason: format!("an unreadable {field}: {e}"),
                grant: None,
                subject: None,
            },
        );
        bad(message)
    };
    let grant = match Signed::<EntryGrant>::from_base64(&request.grant) {
        Ok(grant) => grant,
        Err(e) => return unreadable("grant", e),
    };
    let response = match Signed::<CourierResponse>::from_base64(&request.response) {
        Ok(response) => response,
        Err(e) => return unreadable("response", e),
    };
    let claimed = grant.peek().map(|g| g.subject.clone());
    let trust = agent.paired.trust();
    let verdict = {
        let mut state = agent.lock();
        if !state.online {
            // Fail-secure: without the channel the lock may have missed a revocation.
            let reason = "the lock is offline, so nothing new opens".to_owned();
            agent.record(
                &mut state,
                Entry::EntryRefused {
                    reason: reason.clone(),
                    grant: grant.peek().map(|g| g.grant.to_string()),
                    subject: claimed.clone(),
                },
            );
            return refusal(StatusCode::SERVICE_UNAVAILABLE, Code::EntryRefused, reason);
        }
        let Some((challenge, issued)) = state.challenge.clone() else {
            return refusal(
                StatusCode::CONFLICT,
                Code::Conflict,
                "ask the lock for a challenge first",
            );
        };
        let Some(heartbeat) = state.camera.last_heartbeat.clone() else {
            let reason = if agent.clock.is_set() {
                doorstep_proto::Refusal::CameraNotRecording
            } else {
                doorstep_proto::Refusal::ClockUntrusted
            }
            .to_string();
            agent.record(
                &mut state,
                Entry::EntryRefused {
                    reason: reason.clone(),
                    grant: None,
                    subject: claimed.clone(),
                },
            );
            return refusal(StatusCode::FORBIDDEN, Code::EntryRefused, reason);
        };
        let verdict = verify_entry(
            &trust,
            state.journal.ledger(),
            agent.clock.as_ref(),
            EntryRequest {
                challenge: &challenge,
                grant: &grant,
                response: &response,
                heartbeat: &heartbeat,
                challenge_age: issued.elapsed(),
            },
        );
        match verdict {
            Ok(entry) => {
                // Written to disk before the bolt moves: a grant opens once, even across a
                // power cut. If it cannot be written, the bolt does not move at all.
                let kept = agent.record(
                    &mut state,
                    Entry::GrantUsed {
                        grant: entry.grant.grant.to_string(),
                        subject: entry.grant.subject.clone(),
                        key: entry.key.clone(),
                    },
                );
                if !kept {
                    agent.record(
                        &mut state,
                        Entry::EntryRefused {
                            reason: "the lock could not record the entry (its storage failed)"
                                .into(),
                            grant: grant.peek().map(|g| g.grant.to_string()),
                            subject: claimed.clone(),
                        },
                    );
                    return refusal(
                        StatusCode::SERVICE_UNAVAILABLE,
                        Code::EntryRefused,
                        "the lock could not record the entry (its storage failed), so the door stays shut; leave the parcel at the door",
                    );
                }
                state.challenge = None;
                state.active = Some(entry.grant);
                let now = agent.now();
                agent.drive(&mut state, Input::Unlock(now));
                Ok(())
            }
            Err(refusal) => {
                agent.record(
                    &mut state,
                    Entry::EntryRefused {
                        reason: refusal.to_string(),
                        grant: grant.peek().map(|g| g.grant.to_string()),
                        subject: claimed.clone(),
                    },
                );
                Err(refusal)
            }
        }
    };
    match verdict {
        Ok(()) => {
            // Answer once the motor has finished (or failed).
            for _ in 0..40 {
                tokio::time::sleep(TICK).await;
                let state = agent.lock();
                if state.hw.is_unlocked() {
                    return Ok(Json(Entered { unlocked: true }));
                }
                if state.hw.bolt == Bolt::Jammed {
                    break;
                }
            }
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                Code::Jammed,
                "the lock accepted the grant but the motor did not move; leave the parcel at the door",
            )
        }
        Err(refused) => refusal(
            StatusCode::FORBIDDEN,
            Code::EntryRefused,
            refused.to_string(),
        ),
    }
}

struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}
