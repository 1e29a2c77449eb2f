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

use crate::store::recordings;
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
        let (frames_path, index_path) = self.paths(recording);
        let Ok(index) = std::fs::read(index_path) else {
            return Ok(None);
        };
        let count = index.len() as u64 / INDEX_ENTRY;
        if count == 0 {
            return Ok(None);
        }
        let entry = |i: u64| {
            let start = usize::try_from(i * INDEX_ENTRY).unwrap_or(0);
            &index[start..start + 32]
        };
        // Frames buffered while the camera was cut off arrive late: find by time.
        let captured = |i: u64| i64::from_be_bytes(entry(i)[8..16].try_into().unwrap_or([0; 8]));
        let (mut lo, mut hi) = (0u64, count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if captured(mid) < at {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        let chosen = entry(lo.min(count - 1));
        let (offset, len) = (be(&chosen[16..24]), be(&chosen[24..32]));
        let mut frames = std::fs::File::open(frames_path)?;
        frames.seek(SeekFrom::Start(offset))?;
        let mut message = vec![0; usize::try_from(len).unwrap_or(0)];
        frames.read_exact(&mut message)?;
        Ok(Some(message))
    }
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

async fn ingest_frames(state: AppState, lock: LockAuth, mut socket: WebSocket) {
    let mut current: Option<Current> = None;
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
        match record(&state, &lock, &mut current, header, &bytes).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "frame not recorded"),
        }
    }
}

/// The recording frames are going to, and the visit it is filed under.
struct Current {
    id: String,
    last: i64,
    visit: Option<String>,
    /// When the visit was last looked up (by the cloud's clock).
    checked_at: i64,
}

/// How long after a delivery's entry ended its frames still belong to it (the
/// lock's post-roll and the upload's delay).
const VISIT_TAIL_MS: i64 = 15_000;

/// The delivery whose visit this lock's camera is filming now, if any: one at
/// the door or inside, or one whose entry ended moments ago.
async fn visit_now(
    state: &AppState,
    lock_id: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let mut conn = state.db.pool.acquire().await?;
    crate::store::deliveries::visit_at(&mut conn, lock_id, now.saturating_sub(VISIT_TAIL_MS)).await
}

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
        });
    if !continues {
        let id = uuid::Uuid::now_v7().to_string();
        let delivery = match looked_up {
            Some(visit) => visit,
            None => visit_now(state, &lock.lock_id, now).await?,
        };
        recordings::start(
            &mut *state.db.pool.acquire().await?,
            &id,
            &lock.household_id,
            &lock.lock_id,
            delivery.as_deref(),
            header.captured_at,
        )
        .await?;
        *current = Some(Current {
            id,
            last: header.captured_at,
            visit: delivery,
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
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::VideoLiveView,
        Some(&lock_id),
        "watched live",
        now,
    )
    .await?;
    state.db.commit(tx).await?;
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
    let started = recordings::started_at(
        &mut *state.db.pool.acquire().await?,
        &session.household_id,
        &id,
    )
    .await?;
    let Some(started) = started else {
        return Err(audit::not_in_household(&state, &session, Owned::Recording, &id).await);
    };
    if query.at.is_none() {
        let mut tx = state.db.pool.begin().await?;
        audit::record(
            &mut tx,
            &session.household_id,
            &Actor::Device(&session),
            crate::audit::AuditVerb::VideoPlayback,
            Some(&id),
            "played a recording",
            state.now().0,
        )
        .await?;
        state.db.commit(tx).await?;
    }
    let at = query.at.unwrap_or(started);
    let store = state.video.store.clone();
    let recording = id.clone();
    let message = tokio::task::spawn_blocking(move || store.frame_at(&recording, at))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("frame"))?;
    let (header, jpeg) = FrameHeader::decode(&message)
        .map_err(|e| ApiError::internal(format!("stored frame unreadable: {e}")))?;
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("image/jpeg"));
    headers.insert("frame-seq", HeaderValue::from(header.seq));
    headers.insert("frame-captured-at", HeaderValue::from(header.captured_at));
    Ok((StatusCode::OK, headers, jpeg.to_vec()).into_response())
}
