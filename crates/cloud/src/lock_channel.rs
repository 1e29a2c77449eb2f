//! The lock's live channel (WebSocket): the cloud pushes what the lock must obey
//! at once — household revocations and new delivery policies — the moment they
//! commit, and everything current again on every (re)connect. Protocol:
//! `docs/api.md#lock-channel`.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket};
use axum::response::Response;
use tokio::sync::broadcast;

use crate::AppState;
use crate::access::LockAuth;

use doorstep_api::{Capability, DEFAULT_KEEPALIVE_SECS, EventData, LOCK_PROTOCOL, PROTOCOL_HEADER};
pub use doorstep_api::{MAX_FROM_LOCK_BYTES, TIME_NONCE_HEADER, ToLock};

/// The server pings this often; a lock that hears nothing for three intervals
/// reconnects (and gets everything current again).
pub const KEEPALIVE: Duration = Duration::from_secs(DEFAULT_KEEPALIVE_SECS);

/// Upgrades a paired lock's request to its channel.
pub async fn connect(
    State(state): State<AppState>,
    lock: LockAuth,
    headers: axum::http::HeaderMap,
    crate::json::ApiUpgrade(upgrade): crate::json::ApiUpgrade,
) -> Result<Response, crate::error::ApiError> {
    // A lock that speaks another protocol is told so before anything else.
    if let Some(spoken) = headers.get(PROTOCOL_HEADER) {
        let spoken = spoken.to_str().unwrap_or_default().trim();
        if spoken.parse::<u32>().ok() != Some(LOCK_PROTOCOL) {
            return Err(crate::error::ApiError::invalid(format!(
                "header `{PROTOCOL_HEADER}`: this cloud speaks lock protocol {LOCK_PROTOCOL}, not {spoken:?}"
            )));
        }
    }
    let nonce = match headers.get(TIME_NONCE_HEADER) {
        Some(value) => Some(
            parse_nonce(value.to_str().unwrap_or_default()).ok_or_else(|| {
                crate::error::ApiError::invalid(format!(
                    "header `{TIME_NONCE_HEADER}`: must be 32 bytes in base64url"
                ))
            })?,
        ),
        None => None,
    };
    // A lock sends only small control messages; the default 64 MiB would let
    // one connection hold that much memory.
    Ok(upgrade
        .max_message_size(MAX_FROM_LOCK_BYTES)
        .max_frame_size(MAX_FROM_LOCK_BYTES)
        .on_upgrade(move |socket| serve(state, lock, nonce, socket)))
}

fn parse_nonce(text: &str) -> Option<[u8; 32]> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim())
        .ok()?;
    bytes.try_into().ok()
}

/// Whether the household-signed revocation `text` names this lock (a lock is
/// sent every revocation for it, whatever admitted the delivery).
fn names_lock(text: &str, lock_id: &str) -> bool {
    doorstep_proto::Signed::<doorstep_proto::Revocation>::from_base64(text)
        .ok()
        .and_then(|signed| signed.peek())
        .is_some_and(|revocation| revocation.lock.as_str() == lock_id)
}

async fn current(state: &AppState, lock: &LockAuth) -> Result<Vec<ToLock>, sqlx::Error> {
    let mut out = Vec::new();
    let policy =
        crate::store::households::policy(&mut *state.db.pool.acquire().await?, &lock.household_id)
            .await?;
    if let Some(policy) = policy {
        out.push(ToLock::Policy { policy });
    }
    let now = state.now().0;
    // Revocations of deliveries still worth refusing (window not long over) that
    // name this lock.
    let mut conn = state.db.pool.acquire().await?;
    let revocations = crate::store::deliveries::revocations_since(
        &mut conn,
        &lock.household_id,
        now - 24 * 3600 * 1000,
    )
    .await?;
    let revocations: Vec<String> = revocations
        .into_iter()
        .filter(|text| names_lock(text, &lock.lock_id))
        .collect();
    let guest_revocations =
        crate::store::guests::revocations(&mut conn, &lock.household_id).await?;
    out.extend(
        revocations
            .into_iter()
            .chain(guest_revocations)
            .map(|revocation| ToLock::Revocation { revocation }),
    );
    Ok(out)
}

async fn for_event(
    state: &AppState,
    lock: &LockAuth,
    what: &EventData,
) -> Result<Option<ToLock>, sqlx::Error> {
    match what {
        EventData::DeliveryBlocked(blocked) => {
            let id = &blocked.delivery_id;
            let mut conn = state.db.pool.acquire().await?;
            let revocation =
                crate::store::deliveries::revocation(&mut conn, &lock.household_id, id).await?;
            Ok(revocation
                .filter(|text| names_lock(text, &lock.lock_id))
                .map(|revocation| ToLock::Revocation { revocation }))
        }
        EventData::GuestRevoked(revoked) => {
            let id = &revoked.guest_id;
            let mut conn = state.db.pool.acquire().await?;
            let revocation =
                crate::store::guests::revocation(&mut conn, &lock.household_id, id).await?;
            Ok(revocation.map(|revocation| ToLock::Revocation { revocation }))
        }
        EventData::HouseholdPolicyChanged(_) => {
            let policy = crate::store::households::policy(
                &mut *state.db.pool.acquire().await?,
                &lock.household_id,
            )
            .await?;
            Ok(policy.map(|policy| ToLock::Policy { policy }))
        }
        _ => Ok(None),
    }
}

async fn send(socket: &mut WebSocket, message: &ToLock) -> bool {
    let Ok(text) = serde_json::to_string(message) else {
        return false;
    };
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// Sends everything current, then `Synced`.
async fn resync(state: &AppState, lock: &LockAuth, socket: &mut WebSocket) -> bool {
    let Ok(messages) = current(state, lock).await else {
        return false;
    };
    for message in messages.iter().chain([&ToLock::Synced]) {
        if !send(socket, message).await {
            return false;
        }
    }
    true
}

async fn serve(state: AppState, lock: LockAuth, nonce: Option<[u8; 32]>, mut socket: WebSocket) {
    tracing::info!(lock_id = %lock.lock_id, "lock connected");
    // Subscribe before reading what is current, so nothing falls in between.
    let mut live = state.hub.subscribe(&lock.household_id);
    let hello = ToLock::Hello {
        protocol: LOCK_PROTOCOL,
        lock_id: lock.lock_id.clone(),
        keepalive_secs: KEEPALIVE.as_secs(),
        capabilities: Capability::ALL
            .iter()
            .map(|capability| capability.name().to_owned())
            .collect(),
        time: nonce.map(|nonce| {
            doorstep_proto::Signed::sign(
                &doorstep_proto::CloudTime {
                    lock: doorstep_proto::LockId(lock.lock_id.clone()),
                    nonce,
                    now: state.now(),
                },
                &state.cloud_key,
            )
            .to_base64()
        }),
    };
    if !send(&mut socket, &hello).await {
        return;
    }
    if !resync(&state, &lock, &mut socket).await {
        return;
    }
    let mut ping = tokio::time::interval(KEEPALIVE);
    ping.tick().await;
    let mut stopping = state.stopping.clone();
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(event) => match for_event(&state, &lock, &event.what).await {
                    Ok(Some(message)) => if !send(&mut socket, &message).await { break },
                    Ok(None) => {}
                    Err(e) => { tracing::warn!(error = %e, "lock channel lookup failed"); break }
                },
                // Fell behind: send everything current again (the lock ignores repeats).
                Err(broadcast::error::RecvError::Lagged(_)) => if !resync(&state, &lock, &mut socket).await { break },
                Err(broadcast::error::RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => if socket.send(Message::Ping(Vec::new().into())).await.is_err() { break },
            _ = async { stopping.wait_for(|s| *s).await.map(|_| ()) } => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
        }
    }
    tracing::info!(lock_id = %lock.lock_id, "lock disconnected");
}
