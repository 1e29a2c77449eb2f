//! Pairing a lock (with its camera) to a household by a one-time code. At pairing
//! the lock learns — and pins — the household's and the cloud's public keys.

use crate::store::locks as store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use doorstep_api::{Lock, NewPairingCode, PairingCode};
use doorstep_proto::LockKind;
use rand_core::{OsRng, RngCore};

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::{self, DeviceSession};
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::validate;

/// Lock tokens (`dlk_…`) authenticate a paired lock's own calls.
pub const LOCK_TOKEN_PREFIX: &str = "dlk_";
/// How long a pairing code is valid.
pub const PAIRING_CODE_TTL_MS: i64 = 10 * 60 * 1000;

/// Creates a pairing code for a new lock.
#[utoipa::path(post, path = "/v1/locks/pairing-codes", request_body = NewPairingCode, responses((status = 201, body = PairingCode)), tag = "locks")]
pub async fn new_pairing_code(
    State(state): State<AppState>,
    session: DeviceSession,
    ApiJson(request): ApiJson<NewPairingCode>,
) -> ApiResult<(StatusCode, Json<PairingCode>)> {
    session.require_recent_confirmation(&state).await?;
    state.limits.pairing_code(&session.household_id)?;
    let name = validate::text("name", &request.name, validate::NAME_MAX)?;
    // Unambiguous letters and digits; 10 of 32 symbols is 50 bits.
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    let code: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    let now = state.now().0;
    let expires_at = now + PAIRING_CODE_TTL_MS;
    let mut tx = state.db.pool.begin().await?;
    let pairing = store::Pairing {
        code_hash: &auth::token_hash(&code),
        household_id: &session.household_id,
        name: &name,
        kind: kind_name(request.kind),
        expires_at,
    };
    store::add_pairing_code(&mut tx, &pairing).await?;
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::LockPairingCode,
        None,
        &name,
        now,
    )
    .await?;
    state.db.commit(tx).await?;
    Ok((StatusCode::CREATED, Json(PairingCode { code, expires_at })))
}

fn kind_name(kind: LockKind) -> &'static str {
    match kind {
        LockKind::Door => "door",
        LockKind::Garage => "garage",
    }
}

pub use doorstep_api::{Pair, Paired};

/// Pairs a lock with a one-time code.
#[utoipa::path(post, path = "/v1/locks/pair", request_body = Pair, responses((status = 201, body = Paired), (status = 404, body = crate::error::ErrorBody)), tag = "locks")]
pub async fn pair(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    ApiJson(request): ApiJson<Pair>,
) -> ApiResult<(StatusCode, Json<Paired>)> {
    state.limits.pairing(ip)?;
    let lock_key = validate::public_key("lock_key", &request.lock_key)?;
    let camera_key = validate::public_key("camera_key", &request.camera_key)?;
    let code = request.code.trim().to_uppercase();
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    let store::Paired {
        household_id,
        name,
        kind,
    } = store::use_pairing_code(&mut tx, &auth::token_hash(&code), now)
        .await?
        .ok_or_else(|| ApiError::not_found("pairing code (or it expired, or was used)"))?;
    let household_key = crate::store::households::public_key(&mut tx, &household_id).await?;
    let lock_id = uuid::Uuid::now_v7().to_string();
    let lock_token = auth::new_token(LOCK_TOKEN_PREFIX);
    let new = store::NewLock {
        id: &lock_id,
        household_id: &household_id,
        name: &name,
        kind: &kind,
        lock_key: &lock_key.to_base64(),
        camera_key: &camera_key.to_base64(),
        token_hash: &auth::token_hash(&lock_token),
        paired_at: now,
    };
    store::insert(&mut tx, &new).await?;
    audit::record(
        &mut tx,
        &household_id,
        &Actor::Lock(&lock_id),
        crate::audit::AuditVerb::LockPair,
        Some(&lock_id),
        &name,
        now,
    )
    .await?;
    let event = events::append(
        &mut tx,
        &household_id,
        doorstep_api::EventData::LockPaired(doorstep_api::LockPaired {
            lock_id: lock_id.clone(),
            name: name.clone(),
            kind: kind.clone(),
        }),
        None,
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok((
        StatusCode::CREATED,
        Json(Paired {
            lock_id,
            household_id,
            household_public_key: household_key,
            cloud_public_key: state.cloud_key.public_key().to_base64(),
            lock_token,
            name,
            kind,
        }),
    ))
}

/// The household's locks.
#[utoipa::path(get, path = "/v1/locks", responses((status = 200, body = Vec<Lock>)), tag = "locks")]
pub async fn list(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<Json<Vec<Lock>>> {
    let now = state.now().0;
    let listed = store::list(&mut *state.db.pool.acquire().await?, &session.household_id).await?;
    let locks = listed
        .into_iter()
        .map(|lock| {
            let heard = crate::access::last_heard(lock.heartbeat_at, lock.seen_at);
            Lock {
                id: lock.id,
                name: lock.name,
                kind: lock.kind,
                paired_at: lock.paired_at,
                last_seen_at: heard,
                online: heard.is_some_and(|at| now - at <= crate::access::LOCK_OFFLINE_AFTER_MS),
                // A "recording" heartbeat counts only while it is fresh: an
                // unplugged camera's last word is not a camera recording now.
                camera_recording: lock.recording
                    && lock.heartbeat_at.is_some_and(|at| {
                        now - at
                            <= i64::try_from(doorstep_proto::CAMERA_HEARTBEAT_MAX_AGE.as_millis())
                                .unwrap_or(i64::MAX)
                    }),
                // Stored by this cloud from the lock's own words; anything else
                // (an older row) reads as not known.
                bolt: lock
                    .bolt
                    .as_deref()
                    .and_then(doorstep_api::BoltPosition::from_name),
                door: lock
                    .door
                    .as_deref()
                    .and_then(doorstep_api::DoorPosition::from_name),
                position_at: lock.position_at,
            }
        })
        .collect();
    Ok(Json(locks))
}
