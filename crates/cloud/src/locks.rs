//! Pairing a lock (with its camera) to a household by a one-time code. At pairing
//! the lock learns — and pins — the household's and the cloud's public keys.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use doorstep_api::{Lock, NewPairingCode, PairingCode};
use doorstep_proto::LockKind;
use rand_core::{OsRng, RngCore};
use sqlx::Row;

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
    sqlx::query("INSERT INTO pairing_codes (code_hash, household_id, name, kind, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(auth::token_hash(&code))
        .bind(&session.household_id)
        .bind(&name)
        .bind(kind_name(request.kind))
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
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
    let used = sqlx::query(
        "UPDATE pairing_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING household_id, name, kind",
    )
    .bind(now)
    .bind(auth::token_hash(&code))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::not_found("pairing code (or it expired, or was used)"))?;
    let household_id: String = used.try_get("household_id")?;
    let name: String = used.try_get("name")?;
    let kind: String = used.try_get("kind")?;
    let household_key: String =
        sqlx::query_scalar("SELECT household_public_key FROM households WHERE id = $1")
            .bind(&household_id)
            .fetch_one(&mut *tx)
            .await?;
    let lock_id = uuid::Uuid::now_v7().to_string();
    let lock_token = auth::new_token(LOCK_TOKEN_PREFIX);
    sqlx::query(
        "INSERT INTO locks (id, household_id, name, kind, lock_key, camera_key, token_hash, paired_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&lock_id)
    .bind(&household_id)
    .bind(&name)
    .bind(&kind)
    .bind(lock_key.to_base64())
    .bind(camera_key.to_base64())
    .bind(auth::token_hash(&lock_token))
    .bind(now)
    .execute(&mut *tx)
    .await?;
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
    let rows = sqlx::query(
        "SELECT l.id, l.name, l.kind, l.paired_at, l.seen_at, s.received_at, s.recording FROM locks l \
         LEFT JOIN lock_status s ON s.lock_id = l.id WHERE l.household_id = $1 ORDER BY l.paired_at",
    )
    .bind(&session.household_id)
    .fetch_all(&state.db.pool)
    .await?;
    let locks = rows
        .into_iter()
        .map(|row| {
            let beat_received: Option<i64> = row.try_get("received_at")?;
            let heard = crate::access::last_heard(beat_received, row.try_get("seen_at")?);
            Ok(Lock {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                kind: row.try_get("kind")?,
                paired_at: row.try_get("paired_at")?,
                last_seen_at: heard,
                online: heard.is_some_and(|at| now - at <= crate::access::LOCK_OFFLINE_AFTER_MS),
                // A "recording" heartbeat counts only while it is fresh: an
                // unplugged camera's last word is not a camera recording now.
                camera_recording: row.try_get::<Option<i64>, _>("recording")? == Some(1)
                    && beat_received.is_some_and(|at| {
                        now - at
                            <= i64::try_from(doorstep_proto::CAMERA_HEARTBEAT_MAX_AGE.as_millis())
                                .unwrap_or(i64::MAX)
                    }),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Json(locks))
}
