//! The lock's live channel (WebSocket): the cloud pushes what the lock must obey
//! at once — household revocations and new delivery policies — the moment they
//! commit, and everything current again on every (re)connect. Protocol:
//! `docs/api.md#lock-channel`.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::AppState;
use crate::access::LockAuth;

/// Protocol version spoken on the channel.
pub const PROTOCOL: u32 = 1;
/// The server pings this often; a lock that hears nothing for three intervals
/// reconnects (and gets everything current again).
pub const KEEPALIVE: Duration = Duration::from_secs(15);

/// What the cloud sends a lock.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToLock {
    /// First message: who the cloud thinks the lock is.
    Hello {
        /// Protocol version.
        protocol: u32,
        /// The lock.
        lock_id: String,
        /// Ping interval, seconds.
        keepalive_secs: u64,
        /// Optional features this cloud offers.
        capabilities: Vec<String>,
    },
    /// A household-signed `revocation` envelope: obey it now (refuse, or relock).
    Revocation {
        /// Base64url envelope.
        revocation: String,
    },
    /// The household's newest signed `delivery-policy`; older versions are void.
    Policy {
        /// Base64url envelope.
        policy: String,
    },
    /// Everything current has been sent; what follows is live.
    Synced,
}

/// Upgrades a paired lock's request to its channel.
pub async fn connect(
    State(state): State<AppState>,
    lock: LockAuth,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| serve(state, lock, socket))
}

async fn current(state: &AppState, lock: &LockAuth) -> Result<Vec<ToLock>, sqlx::Error> {
    let mut out = Vec::new();
    let policy: Option<String> = sqlx::query_scalar("SELECT policy FROM households WHERE id = $1")
        .bind(&lock.household_id)
        .fetch_one(&state.db.pool)
        .await?;
    if let Some(policy) = policy {
        out.push(ToLock::Policy { policy });
    }
    let now = state.now().0;
    // Revocations of deliveries still worth refusing (window not long over).
    let revocations: Vec<String> = sqlx::query_scalar(
        "SELECT revocation FROM deliveries WHERE lock_id = $1 AND revocation IS NOT NULL AND window_end > $2",
    )
    .bind(&lock.lock_id)
    .bind(now - 24 * 3600 * 1000)
    .fetch_all(&state.db.pool)
    .await?;
    let guest_revocations: Vec<String> = sqlx::query_scalar(
        "SELECT revocation FROM guests WHERE household_id = $1 AND revocation IS NOT NULL",
    )
    .bind(&lock.household_id)
    .fetch_all(&state.db.pool)
    .await?;
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
    kind: &str,
    data: &serde_json::Value,
) -> Result<Option<ToLock>, sqlx::Error> {
    match kind {
        "delivery.blocked" => {
            let id = data.get("id").and_then(|v| v.as_str()).unwrap_or_default();
            let revocation: Option<Option<String>> = sqlx::query_scalar(
                "SELECT revocation FROM deliveries WHERE id = $1 AND lock_id = $2",
            )
            .bind(id)
            .bind(&lock.lock_id)
            .fetch_optional(&state.db.pool)
            .await?;
            Ok(revocation
                .flatten()
                .map(|revocation| ToLock::Revocation { revocation }))
        }
        "guest.revoked" => {
            let id = data
                .get("guest_id")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let revocation: Option<Option<String>> =
                sqlx::query_scalar("SELECT revocation FROM guests WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&state.db.pool)
                    .await?;
            Ok(revocation
                .flatten()
                .map(|revocation| ToLock::Revocation { revocation }))
        }
        "household.policy_changed" => {
            let policy: Option<String> =
                sqlx::query_scalar("SELECT policy FROM households WHERE id = $1")
                    .bind(&lock.household_id)
                    .fetch_one(&state.db.pool)
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

async fn serve(state: AppState, lock: LockAuth, mut socket: WebSocket) {
    tracing::info!(lock_id = %lock.lock_id, "lock connected");
    // Subscribe before reading what is current, so nothing falls in between.
    let mut live = state.hub.subscribe(&lock.household_id);
    let hello = ToLock::Hello {
        protocol: PROTOCOL,
        lock_id: lock.lock_id.clone(),
        keepalive_secs: KEEPALIVE.as_secs(),
        capabilities: vec!["revocations".into(), "policy".into()],
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
                Ok(event) => match for_event(&state, &lock, &event.kind, &event.data).await {
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
