//! Video: the camera's frames arrive over the lock's video socket, are relayed
//! live to every household device watching, and are recorded — frames appended
//! to a file, with an index for seeking — in a recordings store. The store is a
//! folder here, behind [`RecordingStore`] so an object store can stand in later.
//!
//! Frame message: `seq` (u64 BE) · `captured_at` (i64 ms BE) · JPEG. Protocol:
//! `docs/api.md#video`.

pub use doorstep_api::Recording;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::store::recordings::{self, Visit};
use axum::Json;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::broadcast;

use crate::AppState;
use crate::access::LockAuth;
use crate::audit::{self, Actor, Owned};
use crate::auth::DeviceSession;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiQuery;

pub use doorstep_api::{FrameHeader, MAX_FRAME_BYTES};
/// A new recording starts when frames resume after this long a pause.
pub const NEW_RECORDING_AFTER_MS: i64 = 10_000;
async fn device_signed_out(db: &crate::db::Db, device_id: &str) -> bool {
    let Ok(mut conn) = db.pool.acquire().await else {
        return true;
    };
    crate::store::accounts::signed_out(&mut conn, device_id)
        .await
        .unwrap_or(true)
}

/// The largest message a live viewer may send.
pub const MAX_FROM_VIEWER_BYTES: usize = 4 * 1024;
/// One index entry: seq, captured_at, offset, length (all 8 bytes BE).
const INDEX_ENTRY: u64 = 32;

/// Where recordings live: append frames, find the frame at a time.
pub trait RecordingStore: Send + Sync {
    /// Appends one frame message to a recording.
    fn append(&self, recording: &str, header: FrameHeader, message: &[u8]) -> std::io::Result<()>;
    /// The first frame captured at or after `at` (or the last one), as a message.
    fn frame_at(&self, recording: &str, at: i64) -> std::io::Result<Option<Vec<u8>>>;
    /// Frames in capture order from the first captured at or after `at`: at most
    /// `max_frames`, and no more once `max_bytes` are reached; and whether more follow.
    fn frames_from(
        &self,
        recording: &str,
        at: i64,
        max_frames: usize,
        max_bytes: usize,
    ) -> std::io::Result<(Vec<Vec<u8>>, bool)>;
    /// Removes a recording's frames (nothing when it has none).
    fn remove(&self, recording: &str) -> std::io::Result<()>;
    /// Every recording that has frames stored.
    fn stored(&self) -> std::io::Result<Vec<String>>;
}

/// One index entry: (captured_at, offset, length).
fn index_entry(index: &[u8], i: u64) -> (i64, u64, u64) {
    let start = usize::try_from(i * INDEX_ENTRY).unwrap_or(0);
    let entry = &index[start..start + 32];
    (
        i64::from_be_bytes(entry[8..16].try_into().unwrap_or([0; 8])),
        be(&entry[16..24]),
        be(&entry[24..32]),
    )
}

/// The first entry captured at or after `at` (`count` when none is).
fn first_at_or_after(index: &[u8], at: i64) -> u64 {
    // Frames buffered while the camera was cut off arrive late: find by time.
    let (mut lo, mut hi) = (0u64, index.len() as u64 / INDEX_ENTRY);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if index_entry(index, mid).0 < at {
            lo = mid + 1
        } else {
            hi = mid
        }
    }
    lo
}

/// Recordings as files in a folder: `<id>.frames` (the messages back to back) and
/// `<id>.index` (fixed-size entries in capture order, for binary search).
#[derive(Debug)]
pub struct FolderStore {
    dir: PathBuf,
    // Appends to one recording are serialised.
    lock: Mutex<()>,
}

impl FolderStore {
    /// A store in `dir` (created).
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            lock: Mutex::new(()),
        })
    }

    fn paths(&self, recording: &str) -> (PathBuf, PathBuf) {
        // Recording ids are UUIDs we made; never a path from outside.
        let safe: String = recording
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        (
            self.dir.join(format!("{safe}.frames")),
            self.dir.join(format!("{safe}.index")),
        )
    }
}

fn be(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes.try_into().unwrap_or([0; 8]))
}

impl RecordingStore for FolderStore {
    fn append(&self, recording: &str, header: FrameHeader, message: &[u8]) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let (frames_path, index_path) = self.paths(recording);
        let mut frames = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(frames_path)?;
        let offset = frames.seek(SeekFrom::End(0))?;
        frames.write_all(message)?;
        let mut entry = Vec::with_capacity(32);
        entry.extend_from_slice(&header.seq.to_be_bytes());
        entry.extend_from_slice(&header.captured_at.to_be_bytes());
        entry.extend_from_slice(&offset.to_be_bytes());
        entry.extend_from_slice(&(message.len() as u64).to_be_bytes());
        let mut index = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(index_path)?;
        index.write_all(&entry)?;
        Ok(())
    }

    fn frame_at(&self, recording: &str, at: i64) -> std::io::Result<Option<Vec<u8>>> {
        let Some(index) = self.index(recording)? else {
            return Ok(None);
        };
        let count = index.len() as u64 / INDEX_ENTRY;
        if count == 0 {
            return Ok(None);
        }
        let (_, offset, len) = index_entry(&index, first_at_or_after(&index, at).min(count - 1));
        let mut frames = std::fs::File::open(self.paths(recording).0)?;
        Ok(Some(read_frame(&mut frames, offset, len)?))
    }

    fn frames_from(
        &self,
        recording: &str,
        at: i64,
        max_frames: usize,
        max_bytes: usize,
    ) -> std::io::Result<(Vec<Vec<u8>>, bool)> {
        let Some(index) = self.index(recording)? else {
            return Ok((Vec::new(), false));
        };
        let count = index.len() as u64 / INDEX_ENTRY;
        let mut next = first_at_or_after(&index, at);
        let mut chosen = Vec::new();
        let mut bytes = 0usize;
        if next < count {
            let mut frames = std::fs::File::open(self.paths(recording).0)?;
            while next < count && chosen.len() < max_frames && bytes < max_bytes {
                let (_, offset, len) = index_entry(&index, next);
                let frame = read_frame(&mut frames, offset, len)?;
                bytes += frame.len();
                chosen.push(frame);
                next += 1;
            }
        }
        Ok((chosen, next < count))
    }

    fn remove(&self, recording: &str) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let (frames, index) = self.paths(recording);
        for path in [index, frames] {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    fn stored(&self) -> std::io::Result<Vec<String>> {
        let mut ids = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let Some(name) = name.to_str() else { continue };
            let id = name
                .strip_suffix(".frames")
                .or_else(|| name.strip_suffix(".index"));
            // Only names this store writes: anything else in the folder is not ours.
            if let Some(id) = id.filter(|id| {
                !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }) {
                ids.insert(id.to_owned());
            }
        }
        Ok(ids.into_iter().collect())
    }
}

/// Removes the frames of recordings that are no longer listed: deleted ones whose
/// files a crash or a disk error left behind (the index row goes first, so a
/// deleted recording is never listed without its frames, but its frames can
/// outlive it). A recording is listed before its first frame is stored, so none
/// that is being filled is touched. Returns how many were removed.
pub async fn remove_unlisted(state: &AppState) -> anyhow::Result<usize> {
    let store = state.video.store.clone();
    let stored = tokio::task::spawn_blocking(move || store.stored()).await??;
    // One read of the ids, not one per stored recording: this runs before serving.
    let listed = recordings::listed(&mut *state.db.pool.acquire().await?).await?;
    let unlisted: Vec<String> = stored
        .into_iter()
        .filter(|id| !listed.contains(id))
        .collect();
    let store = state.video.store.clone();
    let count = unlisted.len();
    tokio::task::spawn_blocking(move || unlisted.iter().try_for_each(|id| store.remove(id)))
        .await??;
    Ok(count)
}

impl FolderStore {
    /// A recording's index, whole entries only (a crash mid-append leaves a torn tail).
    fn index(&self, recording: &str) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.paths(recording).1) {
            Ok(mut index) => {
                index.truncate(index.len() - index.len() % INDEX_ENTRY as usize);
                Ok(Some(index))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn read_frame(frames: &mut std::fs::File, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    if len > MAX_FRAME_BYTES as u64 {
        return Err(std::io::Error::other(
            "a recorded frame larger than any frame",
        ));
    }
    frames.seek(SeekFrom::Start(offset))?;
    let mut message = vec![0; usize::try_from(len).unwrap_or(0)];
    frames.read_exact(&mut message)?;
    Ok(message)
}

/// One lock's live feed: the channel, and the newest frame (with when it
/// arrived) for a viewer who just arrived.
type Feed = (
    broadcast::Sender<Bytes>,
    Option<(Bytes, std::time::Instant)>,
);

/// A cached frame older than this is not handed to a new viewer as the current
/// picture (SPEC §4: a frozen picture must never pass as live); it waits for
/// the next one instead.
pub const NEWEST_FRAME_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Live frames per lock.
#[derive(Default)]
pub struct Relay {
    channels: Mutex<HashMap<String, Feed>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Relay")
    }
}

impl Relay {
    fn publish(&self, lock_id: &str, frame: Bytes) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let entry = channels
            .entry(lock_id.to_owned())
            .or_insert_with(|| (broadcast::channel(32).0, None));
        entry.1 = Some((frame.clone(), std::time::Instant::now()));
        let _ = entry.0.send(frame);
    }

    /// The newest frame while it is fresh.
    fn newest(&self, lock_id: &str) -> Option<Bytes> {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .get(lock_id)?
            .1
            .as_ref()
            .filter(|(_, at)| at.elapsed() <= NEWEST_FRAME_FRESH_FOR)
            .map(|(frame, _)| frame.clone())
    }

    fn subscribe(&self, lock_id: &str) -> (broadcast::Receiver<Bytes>, Option<Bytes>) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let entry = channels
            .entry(lock_id.to_owned())
            .or_insert_with(|| (broadcast::channel(32).0, None));
        let fresh = entry
            .1
            .as_ref()
            .filter(|(_, at)| at.elapsed() <= NEWEST_FRAME_FRESH_FOR)
            .map(|(frame, _)| frame.clone());
        (entry.0.subscribe(), fresh)
    }
}

/// Everything video needs, shared by the handlers.
pub struct Video {
    /// Live relay.
    pub relay: Relay,
    /// Where recordings go.
    pub store: Arc<dyn RecordingStore>,
    /// The recordings a camera is filling now, with when their newest frame
    /// arrived: one of them is not deleted under the camera.
    pub filling: Mutex<HashMap<String, std::time::Instant>>,
    /// When each (device, lock) last had a still logged: a thumbnail refreshed every
    /// few seconds is one look in the audit, not hundreds.
    stills_logged: Mutex<HashMap<(String, String), std::time::Instant>>,
}

/// One audit line per device and camera for stills taken within this long.
const STILLS_LOGGED_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

impl Video {
    /// Video with nothing relayed or filling yet.
    pub fn new(store: Arc<dyn RecordingStore>) -> Self {
        Self {
            relay: Relay::default(),
            store,
            filling: Mutex::default(),
            stills_logged: Mutex::default(),
        }
    }

    /// Whether a still `device_id` takes of `lock_id`'s camera now starts a new look
    /// for the audit.
    fn new_look(&self, device_id: &str, lock_id: &str) -> bool {
        let mut logged = self.stills_logged.lock().unwrap_or_else(|e| e.into_inner());
        logged.retain(|_, at| at.elapsed() < STILLS_LOGGED_EVERY);
        let key = (device_id.to_owned(), lock_id.to_owned());
        if logged.contains_key(&key) {
            return false;
        }
        logged.insert(key, std::time::Instant::now());
        true
    }

    /// Notes a frame arriving for `recording`; false when that recording was
    /// deleted meanwhile (its next frame starts a new one).
    fn fill(&self, recording: &str, first: bool) -> bool {
        let mut filling = self.filling.lock().unwrap_or_else(|e| e.into_inner());
        match filling.get_mut(recording) {
            Some(arrived) => *arrived = std::time::Instant::now(),
            None if first => {
                filling.insert(recording.to_owned(), std::time::Instant::now());
            }
            None => return false,
        }
        true
    }

    fn stop_filling(&self, recording: &str) {
        let mut filling = self.filling.lock().unwrap_or_else(|e| e.into_inner());
        filling.remove(recording);
    }

    /// Takes `recording` from the camera for deleting: false while frames still
    /// arrive for it (within [`NEW_RECORDING_AFTER_MS`] a frame continues it).
    fn release(&self, recording: &str) -> bool {
        let mut filling = self.filling.lock().unwrap_or_else(|e| e.into_inner());
        let busy = filling.get(recording).is_some_and(|arrived| {
            arrived.elapsed() < std::time::Duration::from_millis(NEW_RECORDING_AFTER_MS as u64)
        });
        if !busy {
            filling.remove(recording);
        }
        !busy
    }
}

impl std::fmt::Debug for Video {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Video")
    }
}

/// The lock's camera uploads frames here (live and buffered).
pub async fn ingest(
    State(state): State<AppState>,
    lock: LockAuth,
    crate::json::ApiUpgrade(upgrade): crate::json::ApiUpgrade,
) -> Response {
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| ingest_frames(state, lock, socket))
}

/// Frames read from a camera but not yet filed in its recording; when that many
/// wait, the camera's socket is read no further until the recording catches up.
const RECORDING_QUEUE: usize = 64;

async fn ingest_frames(state: AppState, lock: LockAuth, mut socket: WebSocket) {
    // Live viewers get each frame as it is read; the recording's writes (a database
    // transaction, at times a slow one) are done by a task of their own, in order,
    // so a slow write never holds up the next frame's relay.
    let (to_recording, mut queued) =
        tokio::sync::mpsc::channel::<(FrameHeader, Bytes)>(RECORDING_QUEUE);
    let recording = {
        let (state, lock) = (state.clone(), lock.clone());
        tokio::spawn(async move {
            let mut current: Option<Current> = None;
            while let Some((header, bytes)) = queued.recv().await {
                if let Err(e) = record(&state, &lock, &mut current, header, &bytes).await {
                    tracing::warn!(error = %e, "frame not recorded");
                }
            }
            if let Some(current) = current {
                state.video.stop_filling(&current.id);
            }
        })
    };
    while let Some(Ok(message)) = socket.recv().await {
        let Message::Binary(bytes) = message else {
            continue;
        };
        let header = match FrameHeader::decode(&bytes) {
            Ok((header, _)) => header,
            Err(e) => {
                tracing::warn!(lock_id = %lock.lock_id, error = %e, "dropped a malformed frame");
                continue;
            }
        };
        let now = state.now().0;
        // Live viewers see only what is fresh; buffered frames go to the recording only.
        if now - header.captured_at < 2_000 {
            state.video.relay.publish(&lock.lock_id, bytes.clone());
        }
        if to_recording.send((header, bytes)).await.is_err() {
            break;
        }
    }
    drop(to_recording);
    let _ = recording.await;
}

/// The recording frames are going to, and the visit it is filed under.
struct Current {
    id: String,
    last: i64,
    visit: Option<Visit>,
    /// When the visit was last looked up (by the cloud's clock).
    checked_at: i64,
}

/// How long after a delivery's entry ended its frames still belong to it (the
/// lock's post-roll and the upload's delay).
const VISIT_TAIL_MS: i64 = 15_000;

/// The visit this lock's camera is filming now, if any: a delivery at the door or
/// inside, or a guest's visit under way; or one of them that ended moments ago.
async fn visit_now(
    state: &AppState,
    lock_id: &str,
    now: i64,
) -> Result<Option<Visit>, sqlx::Error> {
    let mut conn = state.db.pool.acquire().await?;
    let ended_since = now.saturating_sub(VISIT_TAIL_MS);
    if let Some(delivery) =
        crate::store::deliveries::visit_at(&mut conn, lock_id, ended_since).await?
    {
        return Ok(Some(Visit::Delivery(delivery)));
    }
    let started_since = now.saturating_sub(GUEST_VISIT_LONGEST_MS);
    Ok(
        crate::store::guests::visit_at(&mut conn, lock_id, started_since, ended_since)
            .await?
            .map(Visit::Guest),
    )
}

/// A guest's visit still under way after this long is not filmed under it any more
/// (a grant never used).
const GUEST_VISIT_LONGEST_MS: i64 = 3_600_000;

async fn record(
    state: &AppState,
    lock: &LockAuth,
    current: &mut Option<Current>,
    header: FrameHeader,
    bytes: &[u8],
) -> anyhow::Result<()> {
    let now = state.now().0;
    // The visit is looked up at most once a second; a new visit starts a new
    // recording even if the camera never paused (one recording per visit).
    let mut visit_changed = false;
    let mut looked_up = None;
    if let Some(cur) = current.as_mut()
        && now.saturating_sub(cur.checked_at) >= 1_000
    {
        let visit = visit_now(state, &lock.lock_id, now).await?;
        cur.checked_at = now;
        visit_changed = visit.is_some() && visit != cur.visit;
        looked_up = Some(visit);
    }
    let continues = !visit_changed
        && current.as_ref().is_some_and(|cur| {
            header.captured_at.saturating_sub(cur.last).abs() < NEW_RECORDING_AFTER_MS
                && state.video.fill(&cur.id, false)
        });
    if !continues {
        if let Some(previous) = current.as_ref() {
            state.video.stop_filling(&previous.id);
        }
        let id = uuid::Uuid::now_v7().to_string();
        let visit = match looked_up {
            Some(visit) => visit,
            None => visit_now(state, &lock.lock_id, now).await?,
        };
        recordings::start(
            &mut *state.db.pool.acquire().await?,
            &id,
            &lock.household_id,
            &lock.lock_id,
            visit.as_ref(),
            header.captured_at,
        )
        .await?;
        state.video.fill(&id, true);
        *current = Some(Current {
            id,
            last: header.captured_at,
            visit,
            checked_at: now,
        });
    }
    let Some(Current { id, last, .. }) = current.as_mut() else {
        return Ok(());
    };
    let store = state.video.store.clone();
    let (recording, message) = (id.clone(), bytes.to_vec());
    tokio::task::spawn_blocking(move || store.append(&recording, header, &message)).await??;
    *last = (*last).max(header.captured_at);
    recordings::add_frame(
        &mut *state.db.pool.acquire().await?,
        id.as_str(),
        header.captured_at,
        *last,
    )
    .await?;
    Ok(())
}

async fn lock_of_household(
    state: &AppState,
    session: &DeviceSession,
    lock_id: &str,
) -> ApiResult<()> {
    let owner = crate::store::locks::owner(&mut *state.db.pool.acquire().await?, lock_id).await?;
    if owner.as_deref() == Some(session.household_id.as_str()) {
        Ok(())
    } else {
        Err(audit::not_in_household(state, session, Owned::Lock, lock_id).await)
    }
}

/// A household device watches a lock's camera live: the newest frame at once,
/// then every new one. Logged in the audit ("who watched when").
pub async fn live(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(lock_id): Path<String>,
    crate::json::ApiUpgrade(upgrade): crate::json::ApiUpgrade,
) -> ApiResult<Response> {
    lock_of_household(&state, &session, &lock_id).await?;
    audit_viewing(
        &state,
        &session,
        crate::audit::AuditVerb::VideoLiveView,
        &lock_id,
        "watched live",
    )
    .await?;
    let (mut frames, newest) = state.video.relay.subscribe(&lock_id);
    let mut stopping = state.stopping.clone();
    // A device signed out (here or from another device) stops watching at once.
    let mut household_events = state.hub.subscribe(&session.household_id);
    let device_id = session.device_id.clone();
    let db = state.db.clone();
    // Viewers only watch: anything they send is small control traffic.
    Ok(upgrade
        .max_message_size(MAX_FROM_VIEWER_BYTES)
        .max_frame_size(MAX_FROM_VIEWER_BYTES)
        .on_upgrade(move |mut socket: WebSocket| async move {
        if let Some(frame) = newest
            && socket.send(Message::Binary(frame)).await.is_err()
        {
            return;
        }
        loop {
            tokio::select! {
                frame = frames.recv() => match frame {
                    Ok(frame) => if socket.send(Message::Binary(frame)).await.is_err() { return },
                    // A slow viewer skips frames rather than falling behind: this is live video.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                incoming = socket.recv() => if matches!(incoming, None | Some(Err(_)) | Some(Ok(Message::Close(_)))) { return },
                event = household_events.recv() => {
                    let signed_out = match event {
                        Ok(event) => event.signs_out(&device_id),
                        // Fell behind the household's events: ask the database instead.
                        Err(broadcast::error::RecvError::Lagged(_)) => device_signed_out(&db, &device_id).await,
                        Err(broadcast::error::RecvError::Closed) => false,
                    };
                    if signed_out {
                        let _ = socket
                            .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                                code: 4001,
                                reason: "signed out".into(),
                            })))
                            .await;
                        return;
                    }
                },
                _ = async { stopping.wait_for(|s| *s).await.map(|_| ()) } => return,
            }
        }
    }))
}

/// The camera's picture now, for a popup or a thumbnail: the newest live frame, if
/// one arrived in the last second (a frozen picture never passes as now), as a JPEG
/// with its `Frame-Seq` and `Frame-Captured-At`. Logged in the audit, once per device
/// and camera in five minutes (a thumbnail refreshes often).
#[utoipa::path(get, path = "/v1/locks/{id}/snapshot", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/jpeg"), (status = 404, body = crate::error::ErrorBody)), tag = "video")]
pub async fn snapshot(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(lock_id): Path<String>,
) -> ApiResult<Response> {
    lock_of_household(&state, &session, &lock_id).await?;
    let Some(message) = state.video.relay.newest(&lock_id) else {
        return Err(ApiError::not_found(
            "picture from this camera right now (it is not filming)",
        ));
    };
    if state.video.new_look(&session.device_id, &lock_id) {
        audit_viewing(
            &state,
            &session,
            crate::audit::AuditVerb::VideoSnapshot,
            &lock_id,
            "took a still from the camera",
        )
        .await?;
    }
    frame_response(&message)
}

/// A frame message as a JPEG response with its header's numbers.
fn frame_response(message: &[u8]) -> ApiResult<Response> {
    let (header, jpeg) = FrameHeader::decode(message)
        .map_err(|e| ApiError::internal(format!("stored frame unreadable: {e}")))?;
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("image/jpeg"));
    headers.insert("frame-seq", HeaderValue::from(header.seq));
    headers.insert("frame-captured-at", HeaderValue::from(header.captured_at));
    Ok((StatusCode::OK, headers, jpeg.to_vec()).into_response())
}

/// Which recordings.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordingsQuery {
    /// Only this delivery's.
    pub delivery_id: Option<String>,
}

/// The household's recordings, newest first.
#[utoipa::path(get, path = "/v1/recordings", params(RecordingsQuery), responses((status = 200, body = Vec<Recording>)), tag = "video")]
pub async fn list(
    State(state): State<AppState>,
    session: DeviceSession,
    ApiQuery(query): ApiQuery<RecordingsQuery>,
) -> ApiResult<Json<Vec<Recording>>> {
    let list = recordings::list(
        &mut *state.db.pool.acquire().await?,
        &session.household_id,
        query.delivery_id.as_deref(),
    )
    .await?;
    Ok(Json(list))
}

/// Where to seek.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FrameQuery {
    /// The first frame captured at or after this time (ms); the start when absent.
    #[serde(default, deserialize_with = "doorstep_proto::bounded::optional_time")]
    pub at: Option<i64>,
}

/// Seeks in a recording: the JPEG of the first frame at or after `at`, with its
/// `Frame-Seq` and `Frame-Captured-At` headers. Opening a recording at its start is
/// logged in the audit as a playback.
#[utoipa::path(get, path = "/v1/recordings/{id}/frame", params(("id" = String, Path), FrameQuery),
    responses((status = 200, content_type = "image/jpeg"), (status = 404, body = crate::error::ErrorBody)), tag = "video")]
pub async fn frame(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<FrameQuery>,
) -> ApiResult<Response> {
    let at = opened_at(&state, &session, &id, query.at).await?;
    let store = state.video.store.clone();
    let recording = id.clone();
    let message = tokio::task::spawn_blocking(move || store.frame_at(&recording, at))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("frame"))?;
    frame_response(&message)
}

/// When the household's recording `id` started; the unknown-id answer (and an
/// audit entry) for one of another household.
async fn recording_of_household(
    state: &AppState,
    session: &DeviceSession,
    id: &str,
) -> ApiResult<i64> {
    let started = recordings::started_at(
        &mut *state.db.pool.acquire().await?,
        &session.household_id,
        id,
    )
    .await?;
    match started {
        Some(started) => Ok(started),
        None => Err(audit::not_in_household(state, session, Owned::Recording, id).await),
    }
}

/// Where the household's recording `id` is read from: `at`, or its start, which is
/// opening it to play (logged in the audit).
async fn opened_at(
    state: &AppState,
    session: &DeviceSession,
    id: &str,
    at: Option<i64>,
) -> ApiResult<i64> {
    let started = recording_of_household(state, session, id).await?;
    match at {
        Some(at) => Ok(at),
        None => {
            audit_viewing(
                state,
                session,
                crate::audit::AuditVerb::VideoPlayback,
                id,
                "played a recording",
            )
            .await?;
            Ok(started)
        }
    }
}

/// Who looked at what, when (SPEC: every view of the camera is in the audit).
async fn audit_viewing(
    state: &AppState,
    session: &DeviceSession,
    verb: crate::audit::AuditVerb,
    object_id: &str,
    detail: &str,
) -> ApiResult<()> {
    let mut tx = state.db.pool.begin().await?;
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(session),
        verb,
        Some(object_id),
        detail,
        state.now().0,
    )
    .await?;
    state.db.commit(tx).await?;
    Ok(())
}

/// Which frames.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FramesQuery {
    /// From the first frame captured at or after this time (ms); the start when absent.
    #[serde(default, deserialize_with = "doorstep_proto::bounded::optional_time")]
    pub from: Option<i64>,
    /// At most this many frames (1–200; 50 when absent).
    pub max: Option<u32>,
}

/// Plays a recording: its frames in capture order from `from`, as a frame batch
/// (`application/vnd.doorstep.frames`, each frame message after its u32 length),
/// with `More-Frames: true` when the recording goes on after them. Playing from the
/// start is logged in the audit as a playback.
#[utoipa::path(get, path = "/v1/recordings/{id}/frames", params(("id" = String, Path), FramesQuery),
    responses((status = 200, content_type = "application/vnd.doorstep.frames"), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)), tag = "video")]
pub async fn frames(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<FramesQuery>,
) -> ApiResult<Response> {
    let max = match query.max.map(|max| max as usize) {
        None => 50,
        Some(max) if (1..=doorstep_api::MAX_FRAMES_PER_BATCH).contains(&max) => max,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "max: {other} frames; between 1 and {} frames are sent at once",
                doorstep_api::MAX_FRAMES_PER_BATCH
            )));
        }
    };
    let from = opened_at(&state, &session, &id, query.from).await?;
    let store = state.video.store.clone();
    let (frames, more) = tokio::task::spawn_blocking(move || {
        store.frames_from(&id, from, max, doorstep_api::MAX_BATCH_BYTES)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static(doorstep_api::FRAME_BATCH_TYPE),
    );
    headers.insert(
        doorstep_api::MORE_FRAMES_HEADER,
        HeaderValue::from_static(if more { "true" } else { "false" }),
    );
    let body = doorstep_api::FrameBatch { frames }.encode();
    Ok((StatusCode::OK, headers, body).into_response())
}

/// Deletes a recording: its frames and its place in the list, for good. Refused
/// (409) while the camera is still filling it. Logged in the audit.
#[utoipa::path(delete, path = "/v1/recordings/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), tag = "video")]
pub async fn delete(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    recording_of_household(&state, &session, &id).await?;
    if !state.video.release(&id) {
        return Err(ApiError::conflict(
            "the camera is still recording this visit; delete it once the visit is over",
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    if !recordings::delete(&mut tx, &session.household_id, &id).await? {
        return Err(ApiError::not_found("recording"));
    }
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::VideoDelete,
        Some(&id),
        "deleted a recording",
        state.now().0,
    )
    .await?;
    state.db.commit(tx).await?;
    // The index row is gone first: a crash here leaves unlisted files, never a
    // listed recording without its frames.
    let store = state.video.store.clone();
    let removed = id.clone();
    match tokio::task::spawn_blocking(move || store.remove(&removed)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(recording = %id, error = %e, "a deleted recording's frames stayed on disk")
        }
        Err(e) => {
            tracing::warn!(recording = %id, error = %e, "a deleted recording's frames stayed on disk")
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
