//! Households sharing one login: accounts, sign-in per device, rotating refresh
//! tokens with reuse detection, the device list and signing a device out.

use crate::json::ApiQuery as Query;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
pub use doorstep_api::{
    CreateAccount, Device, KdfParams, NewDevice, Refresh, SessionTokens, SignIn, SignedIn,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::AppState;
use crate::audit::{self, Actor, Owned};
use crate::auth::{self, DeviceSession};
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::validate;

async fn issue_session(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    state: &AppState,
    household_id: &str,
    device_id: &str,
    now: i64,
) -> Result<(String, SessionTokens), ApiError> {
    let session_id = uuid::Uuid::now_v7().to_string();
    let tokens = SessionTokens {
        access_token: auth::new_token(auth::ACCESS_PREFIX),
        access_expires_at: now + ms(state.settings.access_token_ttl_secs),
        refresh_token: auth::new_token(auth::REFRESH_PREFIX),
        refresh_expires_at: now + ms(state.settings.refresh_token_ttl_secs),
    };
    sqlx::query(
        "INSERT INTO sessions (id, household_id, device_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&session_id)
    .bind(household_id)
    .bind(device_id)
    .bind(auth::token_hash(&tokens.access_token))
    .bind(tokens.access_expires_at)
    .bind(auth::token_hash(&tokens.refresh_token))
    .bind(tokens.refresh_expires_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok((session_id, tokens))
}

fn ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

async fn add_device(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    household_id: &str,
    device: &NewDevice,
    now: i64,
) -> Result<(String, String), ApiError> {
    let name = validate::text("device.name", &device.name, validate::NAME_MAX)?;
    let key = validate::public_key("device.public_key", &device.public_key)?;
    let device_id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO devices (id, household_id, name, device_key, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&device_id)
    .bind(household_id)
    .bind(&name)
    .bind(key.to_base64())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok((device_id, name))
}

/// Registers `device`, gives it a session, and appends its `device.signed_in`
/// event (published by the caller after commit).
async fn sign_in_device(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    state: &AppState,
    household_id: &str,
    device: &NewDevice,
    now: i64,
) -> Result<
    (
        DeviceSession,
        String,
        SessionTokens,
        (String, events::Event),
    ),
    ApiError,
> {
    let (device_id, device_name) = add_device(tx, household_id, device, now).await?;
    let (session_id, session) = issue_session(tx, state, household_id, &device_id, now).await?;
    let event = events::append(
        tx,
        household_id,
        doorstep_api::EventData::DeviceSignedIn(doorstep_api::DeviceSignedIn {
            device_id: device_id.clone(),
            name: device_name.clone(),
        }),
        Some(&device_id),
        now,
    )
    .await?;
    let who = DeviceSession {
        household_id: household_id.to_owned(),
        device_id,
        session_id,
    };
    Ok((who, device_name, session, event))
}

/// Creates a household and signs in its first device.
#[utoipa::path(post, path = "/v1/accounts", request_body = CreateAccount,
    responses((status = 201, body = SignedIn), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)),
    tag = "accounts")]
pub async fn create(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    ApiJson(request): ApiJson<CreateAccount>,
) -> ApiResult<(StatusCode, Json<SignedIn>)> {
    state.limits.account(ip)?;
    let email = validate::email(&request.email)?;
    let auth_key = validate::auth_key(&request.auth_key)?;
    validate::bytes(
        "kdf_salt",
        &request.kdf_salt,
        validate::KDF_SALT_BYTES.0,
        validate::KDF_SALT_BYTES.1,
    )?;
    let household_key =
        validate::public_key("household_public_key", &request.household_public_key)?;
    validate::bytes(
        "wrapped_household_key",
        &request.wrapped_household_key,
        validate::WRAPPED_KEY_BYTES.0,
        validate::WRAPPED_KEY_BYTES.1,
    )?;
    let time_zone = validate::time_zone(&request.time_zone)?;
    // Validate the device before the slow hash.
    validate::text("device.name", &request.device.name, validate::NAME_MAX)?;
    validate::public_key("device.public_key", &request.device.public_key)?;
    let auth_hash = auth::hash_auth_key(&auth_key).await?;

    let now = state.now().0;
    let household_id = uuid::Uuid::now_v7().to_string();
    let mut tx = state.db.pool.begin().await?;
    let taken: Option<String> = sqlx::query_scalar("SELECT id FROM households WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(ApiError::conflict(
            "an account with this e-mail address exists; sign in instead",
        ));
    }
    sqlx::query(
        "INSERT INTO households (id, email, auth_hash, kdf_salt, household_public_key, wrapped_household_key, time_zone, lead_time_minutes, event_seq, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
    )
    .bind(&household_id)
    .bind(&email)
    .bind(&auth_hash)
    .bind(&request.kdf_salt)
    .bind(household_key.to_base64())
    .bind(&request.wrapped_household_key)
    .bind(&time_zone)
    .bind(i64::from(state.settings.default_lead_time_minutes))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            ApiError::conflict("an account with this e-mail address exists; sign in instead")
        }
        other => other.into(),
    })?;
    let (who, _, session, event) =
        sign_in_device(&mut tx, &state, &household_id, &request.device, now).await?;
    let device_id = who.device_id.clone();
    audit::record(
        &mut tx,
        &household_id,
        &Actor::Device(&who),
        crate::audit::AuditVerb::AccountCreate,
        Some(&household_id),
        "household created",
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    tracing::info!(household_id, device_id, "account created");
    Ok((
        StatusCode::CREATED,
        Json(SignedIn {
            household_id,
            device_id,
            household_public_key: household_key.to_base64(),
            wrapped_household_key: request.wrapped_household_key,
            session,
        }),
    ))
}

/// Which e-mail to fetch KDF parameters for.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KdfQuery {
    /// The login.
    pub email: String,
}

/// Client KDF parameters; unknown e-mails get a stable made-up salt, so the
/// answer does not reveal whether an account exists.
#[utoipa::path(get, path = "/v1/accounts/kdf", params(KdfQuery), responses((status = 200, body = KdfParams)), tag = "accounts")]
pub async fn kdf(
    State(state): State<AppState>,
    Query(query): Query<KdfQuery>,
) -> ApiResult<Json<KdfParams>> {
    let email = validate::email(&query.email)?;
    let salt: Option<String> =
        sqlx::query_scalar("SELECT kdf_salt FROM households WHERE email = $1")
            .bind(&email)
            .fetch_optional(&state.db.pool)
            .await?;
    let salt = salt.unwrap_or_else(|| {
        use base64::Engine;
        let digest = Sha256::new()
            .chain_update(state.decoy_secret)
            .chain_update(email.as_bytes())
            .finalize();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    });
    Ok(Json(KdfParams {
        algorithm: "argon2id".into(),
        salt,
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    }))
}

/// What a password (as its auth key) and a second-factor code prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credentials {
    Accepted,
    /// The password is right; the second factor is on and no code came.
    CodeMissing,
    WrongCode,
    WrongPassword,
}

/// Checks `auth_key` against the account's stored hash (`account`: its id and
/// hash; `None` for an unknown e-mail, which costs the same work so timing tells
/// nothing), then the second factor.
async fn check_credentials(
    state: &AppState,
    account: Option<(&str, &str)>,
    auth_key: &[u8],
    totp: Option<&str>,
) -> ApiResult<Credentials> {
    if let Some(code) = totp {
        validate::totp_code("totp", code)?;
    }
    let Some((household_id, stored)) = account else {
        let _ = auth::hash_auth_key(auth_key).await;
        return Ok(Credentials::WrongPassword);
    };
    if !auth::verify_auth_key(auth_key, stored).await {
        return Ok(Credentials::WrongPassword);
    }
    Ok(
        match crate::totp::check_sign_in(state, household_id, totp).await? {
            crate::totp::SecondFactor::NotNeeded | crate::totp::SecondFactor::Valid => {
                Credentials::Accepted
            }
            crate::totp::SecondFactor::Missing => Credentials::CodeMissing,
            crate::totp::SecondFactor::Wrong => Credentials::WrongCode,
        },
    )
}

async fn record_sign_in_failure(
    state: &AppState,
    email: &str,
    ip: &str,
    now: i64,
) -> ApiResult<()> {
    sqlx::query("INSERT INTO sign_in_failures (email, at, ip) VALUES ($1, $2, $3)")
        .bind(email)
        .bind(now)
        .bind(ip)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Backs off failed sign-ins without locking the owner out: failures are
/// counted per e-mail from this address, per address over all e-mails, and per
/// e-mail over all addresses — and the last is waived for a device that was
/// signed in to this household before (its key is known), so a distributed
/// guesser cannot lock the household's own computers out.
async fn check_sign_in_failures(
    state: &AppState,
    email: &str,
    ip: &str,
    device_key: &str,
    now: i64,
) -> ApiResult<()> {
    let since = now.saturating_sub(ms(state.settings.sign_in_window_secs));
    let minutes = state.settings.sign_in_window_secs.div_ceil(60);
    let count = |sql: &'static str, key: &str| {
        sqlx::query_scalar::<_, i64>(sql)
            .bind(key.to_owned())
            .bind(since)
            .fetch_one(&state.db.pool)
    };
    let here: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sign_in_failures WHERE email = $1 AND ip = $2 AND at > $3",
    )
    .bind(email)
    .bind(ip)
    .bind(since)
    .fetch_one(&state.db.pool)
    .await?;
    let limited = |what: &str| {
        tracing::warn!(email_hash = %auth::token_hash(email), what, "sign-in rate limited");
        Err(ApiError::rate_limited(format!(
            "too many failed sign-ins {what}; try again in {minutes} minutes"
        )))
    };
    if here >= i64::from(state.settings.sign_in_max_failures) {
        return limited("for this account from this address");
    }
    let from_address = count(
        "SELECT COUNT(*) FROM sign_in_failures WHERE ip = $1 AND at > $2",
        ip,
    )
    .await?;
    if from_address >= i64::from(state.settings.sign_in_max_failures_per_address) {
        return limited("from this address");
    }
    let for_account = count(
        "SELECT COUNT(*) FROM sign_in_failures WHERE email = $1 AND at > $2",
        email,
    )
    .await?;
    if for_account >= i64::from(state.settings.sign_in_max_failures_per_account) {
        let known: Option<String> = sqlx::query_scalar(
            "SELECT d.id FROM devices d JOIN households h ON h.id = d.household_id \
             WHERE h.email = $1 AND d.device_key = $2 LIMIT 1",
        )
        .bind(email)
        .bind(device_key)
        .fetch_optional(&state.db.pool)
        .await?;
        if known.is_none() {
            return limited("for this account from new devices");
        }
    }
    Ok(())
}

/// Confirms the password on a signed-in device, for the sensitive actions of
/// the next minutes. Wrong answers count like failed sign-ins.
#[utoipa::path(post, path = "/v1/sessions/current/confirm", request_body = doorstep_api::Confirm,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody, description = "wrong password (`reauth_required`) or the code is needed (`totp_required`)"), (status = 429, body = crate::error::ErrorBody)),
    tag = "accounts")]
pub async fn confirm(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    session: DeviceSession,
    ApiJson(request): ApiJson<doorstep_api::Confirm>,
) -> ApiResult<StatusCode> {
    let auth_key = validate::auth_key(&request.auth_key)?;
    let now = state.now().0;
    let row = sqlx::query("SELECT email, auth_hash FROM households WHERE id = $1")
        .bind(&session.household_id)
        .fetch_one(&state.db.pool)
        .await?;
    let email: String = row.try_get("email")?;
    let device_key: String = sqlx::query_scalar("SELECT device_key FROM devices WHERE id = $1")
        .bind(&session.device_id)
        .fetch_one(&state.db.pool)
        .await?;
    let ip = ip.to_string();
    check_sign_in_failures(&state, &email, &ip, &device_key, now).await?;
    let stored: String = row.try_get("auth_hash")?;
    let verdict = check_credentials(
        &state,
        Some((session.household_id.as_str(), stored.as_str())),
        &auth_key,
        request.totp.as_deref(),
    )
    .await?;
    // 403, not 401: the device's token is fine, only the confirmation failed
    // (a 401 would make a client believe it was signed out).
    let forbidden = |code, message: &str| ApiError {
        status: StatusCode::FORBIDDEN,
        code,
        message: message.into(),
    };
    match verdict {
        Credentials::Accepted => {}
        Credentials::CodeMissing => {
            return Err(forbidden(
                crate::error::Code::TotpRequired,
                "enter the code from your authenticator app",
            ));
        }
        Credentials::WrongCode | Credentials::WrongPassword => {
            record_sign_in_failure(&state, &email, &ip, now).await?;
            let message = if verdict == Credentials::WrongCode {
                "wrong or already used authenticator code"
            } else {
                "wrong password"
            };
            return Err(forbidden(crate::error::Code::ReauthRequired, message));
        }
    }
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE sessions SET confirmed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&session.session_id)
        .execute(&mut *tx)
        .await?;
    // Every device hears of it: a confirmation nobody at home made is a warning.
    let what = doorstep_api::EventData::DeviceConfirmed(doorstep_api::DeviceRef {
        device_id: session.device_id.clone(),
    });
    let line = audit::AuditLine {
        object_id: Some(&session.device_id),
        detail: "password confirmed for a sensitive action",
    };
    let actor = Actor::Device(&session);
    let device = Some(session.device_id.as_str());
    let event = audit::happened(
        &mut tx,
        &session.household_id,
        &actor,
        what,
        device,
        line,
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs a device in to the household's shared login.
#[utoipa::path(post, path = "/v1/sessions", request_body = SignIn,
    responses((status = 200, body = SignedIn), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    tag = "accounts")]
pub async fn sign_in(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    ApiJson(request): ApiJson<SignIn>,
) -> ApiResult<Json<SignedIn>> {
    let email = validate::email(&request.email)?;
    let auth_key = validate::auth_key(&request.auth_key)?;
    validate::text("device.name", &request.device.name, validate::NAME_MAX)?;
    validate::public_key("device.public_key", &request.device.public_key)?;
    let now = state.now().0;

    let ip = ip.to_string();
    check_sign_in_failures(&state, &email, &ip, &request.device.public_key, now).await?;

    let row = sqlx::query(
        "SELECT id, auth_hash, household_public_key, wrapped_household_key FROM households WHERE email = $1",
    )
    .bind(&email)
    .fetch_optional(&state.db.pool)
    .await?;
    let account = match &row {
        Some(row) => Some((
            row.try_get::<String, _>("id")?,
            row.try_get::<String, _>("auth_hash")?,
        )),
        None => None,
    };
    let verdict = check_credentials(
        &state,
        account
            .as_ref()
            .map(|(id, hash)| (id.as_str(), hash.as_str())),
        &auth_key,
        request.totp.as_deref(),
    )
    .await?;
    let refused = |message: &str| ApiError::unauthenticated(message);
    match verdict {
        Credentials::Accepted => {}
        Credentials::CodeMissing => {
            return Err(ApiError {
                status: StatusCode::UNAUTHORIZED,
                code: crate::error::Code::TotpRequired,
                message: "enter the code from your authenticator app".into(),
            });
        }
        Credentials::WrongCode => {
            record_sign_in_failure(&state, &email, &ip, now).await?;
            return Err(refused("wrong or already used authenticator code"));
        }
        Credentials::WrongPassword => {
            record_sign_in_failure(&state, &email, &ip, now).await?;
            return Err(refused("wrong e-mail address or password"));
        }
    }
    let Some(row) = row else {
        return Err(refused("wrong e-mail address or password"));
    };
    let household_id: String = row.try_get("id")?;

    let mut tx = state.db.pool.begin().await?;
    let (who, device_name, session, event) =
        sign_in_device(&mut tx, &state, &household_id, &request.device, now).await?;
    let device_id = who.device_id.clone();
    audit::record(
        &mut tx,
        &household_id,
        &Actor::Device(&who),
        crate::audit::AuditVerb::DeviceSignIn,
        Some(&device_id),
        &format!("{device_name} signed in"),
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(Json(SignedIn {
        household_id,
        device_id,
        household_public_key: row.try_get("household_public_key")?,
        wrapped_household_key: row.try_get("wrapped_household_key")?,
        session,
    }))
}

/// Rotates the tokens. A refresh token works once: presenting a used one again
/// signs that device out, because someone else has a copy.
#[utoipa::path(post, path = "/v1/sessions/refresh", request_body = Refresh,
    responses((status = 200, body = SessionTokens), (status = 401, body = crate::error::ErrorBody)), tag = "accounts")]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<Refresh>,
) -> ApiResult<Json<SessionTokens>> {
    let now = state.now().0;
    let presented = auth::token_hash(&request.refresh_token);
    let mut tx = state.db.pool.begin().await?;
    let current = sqlx::query(
        "SELECT id, household_id, device_id, refresh_expires_at, revoked_at FROM sessions WHERE refresh_hash = $1",
    )
    .bind(&presented)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = current {
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        let expires: i64 = row.try_get("refresh_expires_at")?;
        if revoked.is_some() {
            return Err(ApiError::unauthenticated(
                "this device was signed out; sign in again",
            ));
        }
        if expires <= now {
            return Err(ApiError::unauthenticated(
                "the session expired; sign in again",
            ));
        }
        let session_id: String = row.try_get("id")?;
        let tokens = SessionTokens {
            access_token: auth::new_token(auth::ACCESS_PREFIX),
            access_expires_at: now + ms(state.settings.access_token_ttl_secs),
            refresh_token: auth::new_token(auth::REFRESH_PREFIX),
            refresh_expires_at: now + ms(state.settings.refresh_token_ttl_secs),
        };
        sqlx::query(
            "INSERT INTO retired_refresh_tokens (hash, session_id, retired_at) VALUES ($1, $2, $3)",
        )
        .bind(&presented)
        .bind(&session_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let updated = sqlx::query(
            "UPDATE sessions SET access_hash = $1, access_expires_at = $2, refresh_hash = $3, refresh_expires_at = $4 \
             WHERE id = $5 AND refresh_hash = $6 AND revoked_at IS NULL",
        )
        .bind(auth::token_hash(&tokens.access_token))
        .bind(tokens.access_expires_at)
        .bind(auth::token_hash(&tokens.refresh_token))
        .bind(tokens.refresh_expires_at)
        .bind(&session_id)
        .bind(&presented)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(ApiError::unauthenticated(
                "the refresh token was just used; sign in again",
            ));
        }
        sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(row.try_get::<String, _>("device_id")?)
            .execute(&mut *tx)
            .await?;
        state.db.commit(tx).await?;
        return Ok(Json(tokens));
    }

    let reused = sqlx::query(
        "SELECT s.id, s.household_id, s.device_id, s.revoked_at FROM retired_refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = $1",
    )
    .bind(&presented)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = reused else {
        return Err(ApiError::unauthenticated(
            "the refresh token is not valid; sign in again",
        ));
    };
    let revoked: Option<i64> = row.try_get("revoked_at")?;
    if revoked.is_none() {
        let who = DeviceSession {
            household_id: row.try_get("household_id")?,
            device_id: row.try_get("device_id")?,
            session_id: row.try_get("id")?,
        };
        let event =
            sign_out_device(&mut tx, &who, &who.device_id, "refresh token reused", now).await?;
        state.commit_and_publish(tx, event).await?;
        tracing::warn!(device_id = %who.device_id, "refresh token reuse: device signed out");
    }
    Err(ApiError::unauthenticated(
        "this refresh token was already used, so it may have been copied; the device was signed out for safety — sign in again",
    ))
}

async fn sign_out_device(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    by: &DeviceSession,
    device_id: &str,
    reason: &str,
    now: i64,
) -> Result<Option<(String, events::Event)>, ApiError> {
    let revoked = sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE device_id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(reason)
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE devices SET signed_out_at = $1 WHERE id = $2 AND signed_out_at IS NULL")
        .bind(now)
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
    if revoked.rows_affected() == 0 {
        return Ok(None);
    }
    audit::record(
        tx,
        &by.household_id,
        &Actor::Device(by),
        crate::audit::AuditVerb::DeviceSignOut,
        Some(device_id),
        reason,
        now,
    )
    .await?;
    let event = events::append(
        tx,
        &by.household_id,
        doorstep_api::EventData::DeviceSignedOut(doorstep_api::DeviceSignedOut {
            device_id: device_id.to_owned(),
            reason: reason.to_owned(),
        }),
        Some(&by.device_id),
        now,
    )
    .await?;
    Ok(Some(event))
}

/// Signs this device out.
#[utoipa::path(delete, path = "/v1/sessions/current", responses((status = 204)), tag = "accounts")]
pub async fn sign_out(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<StatusCode> {
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    let event = sign_out_device(
        &mut tx,
        &session,
        &session.device_id,
        "signed out on this device",
        now,
    )
    .await?;
    state.commit_and_publish(tx, event).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every device that signed in to this login.
#[utoipa::path(get, path = "/v1/devices", responses((status = 200, body = Vec<Device>)), tag = "accounts")]
pub async fn devices(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<Json<Vec<Device>>> {
    let rows = sqlx::query(
        "SELECT id, name, device_key, created_at, last_seen_at, signed_out_at FROM devices WHERE household_id = $1 ORDER BY created_at",
    )
    .bind(&session.household_id)
    .fetch_all(&state.db.pool)
    .await?;
    let devices = rows
        .into_iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            Ok(Device {
                this_device: id == session.device_id,
                name: row.try_get("name")?,
                public_key: row.try_get("device_key")?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                signed_in: row.try_get::<Option<i64>, _>("signed_out_at")?.is_none(),
                id,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Json(devices))
}

/// Signs another device of the household out (a lost laptop).
#[utoipa::path(delete, path = "/v1/devices/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)), tag = "accounts")]
pub async fn sign_out_other(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(device_id): Path<String>,
) -> ApiResult<StatusCode> {
    session.require_recent_confirmation(&state).await?;
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    let owner: Option<String> =
        sqlx::query_scalar("SELECT household_id FROM devices WHERE id = $1")
            .bind(&device_id)
            .fetch_optional(&mut *tx)
            .await?;
    if owner.as_deref() != Some(session.household_id.as_str()) {
        drop(tx);
        return Err(audit::not_in_household(&state, &session, Owned::Device, &device_id).await);
    }
    let event = sign_out_device(
        &mut tx,
        &session,
        &device_id,
        "signed out from another device",
        now,
    )
    .await?;
    state.commit_and_publish(tx, event).await?;
    Ok(StatusCode::NO_CONTENT)
}
