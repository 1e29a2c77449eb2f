//! Households sharing one login: accounts, sign-in per device, rotating refresh
//! tokens with reuse detection, the device list and signing a device out.

use crate::json::ApiQuery as Query;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
pub use doorstep_api::{
    CreateAccount, Device, KdfParams, NewDevice, OpenRecovery, RecoveryOpened, RecoverySetup,
    Refresh, ResetPassword, SessionTokens, SignIn, SignedIn,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::audit::{self, Actor, Owned};
use crate::auth::{self, DeviceSession};
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::store::accounts as store;
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
    let new = store::NewSession {
        id: &session_id,
        household_id,
        device_id,
        access_hash: &auth::token_hash(&tokens.access_token),
        access_expires_at: tokens.access_expires_at,
        refresh_hash: &auth::token_hash(&tokens.refresh_token),
        refresh_expires_at: tokens.refresh_expires_at,
        at: now,
    };
    store::insert_session(tx, &new).await?;
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
    store::insert_device(tx, &device_id, household_id, &name, &key.to_base64(), now).await?;
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
    let auth_key = valid_password(
        &request.auth_key,
        &request.kdf_salt,
        &request.wrapped_household_key,
    )?;
    let household_key =
        validate::public_key("household_public_key", &request.household_public_key)?;
    let time_zone = validate::time_zone(&request.time_zone)?;
    // Validate the device before the slow hash.
    valid_device(&request.device)?;
    let recovery_key = request.recovery.as_ref().map(valid_recovery).transpose()?;
    let auth_hash = auth::hash_auth_key(&auth_key).await?;
    let recovery_hash = match &recovery_key {
        Some(key) => Some(auth::hash_auth_key(key).await?),
        None => None,
    };

    let now = state.now().0;
    let household_id = uuid::Uuid::now_v7().to_string();
    let mut tx = state.db.pool.begin().await?;
    if store::email_taken(&mut tx, &email).await? {
        return Err(ApiError::conflict(
            "an account with this e-mail address exists; sign in instead",
        ));
    }
    let login =
        store::NewLogin {
            household_id: &household_id,
            email: &email,
            auth_hash: &auth_hash,
            kdf_salt: &request.kdf_salt,
            household_public_key: &household_key.to_base64(),
            wrapped_household_key: &request.wrapped_household_key,
            time_zone: &time_zone,
            lead_time_minutes: i64::from(state.settings.default_lead_time_minutes),
            recovery: request.recovery.as_ref().zip(recovery_hash.as_deref()).map(
                |(setup, hash)| store::Recovery {
                    auth_hash: hash,
                    wrapped_household_key: &setup.wrapped_household_key,
                },
            ),
            at: now,
        };
    if !store::insert_login(&mut tx, &login).await? {
        return Err(ApiError::conflict(
            "an account with this e-mail address exists; sign in instead",
        ));
    }
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
    let salt = store::kdf_salt(&mut *state.db.pool.acquire().await?, &email).await?;
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
    second_factor(state, household_id, totp).await
}

/// What the second factor proves, the password (or recovery key) being right.
async fn second_factor(
    state: &AppState,
    household_id: &str,
    totp: Option<&str>,
) -> ApiResult<Credentials> {
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

/// Signing in goes on only with credentials accepted; otherwise the 401 that says
/// what was wrong, and a wrong password or code counts as a failed sign-in.
async fn unless_accepted(
    state: &AppState,
    email: &str,
    ip: &str,
    now: i64,
    verdict: Credentials,
) -> ApiResult<()> {
    let message = match verdict {
        Credentials::Accepted => return Ok(()),
        Credentials::CodeMissing => {
            return Err(ApiError {
                status: StatusCode::UNAUTHORIZED,
                code: crate::error::Code::TotpRequired,
                message: "enter the code from your authenticator app".into(),
            });
        }
        Credentials::WrongCode => "wrong or already used authenticator code",
        Credentials::WrongPassword => "wrong e-mail address or password",
    };
    record_sign_in_failure(state, email, ip, now).await?;
    Err(ApiError::unauthenticated(message))
}

async fn record_sign_in_failure(
    state: &AppState,
    email: &str,
    ip: &str,
    now: i64,
) -> ApiResult<()> {
    store::record_failure(&mut *state.db.pool.acquire().await?, email, ip, now).await?;
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
    let mut conn = state.db.pool.acquire().await?;
    let failures = store::failures(&mut conn, email, ip, since).await?;
    let limited = |what: &str| {
        tracing::warn!(email_hash = %auth::token_hash(email), what, "sign-in rate limited");
        Err(ApiError::rate_limited(format!(
            "too many failed sign-ins {what}; try again in {minutes} minutes"
        )))
    };
    if failures.here >= i64::from(state.settings.sign_in_max_failures) {
        return limited("for this account from this address");
    }
    if failures.from_address >= i64::from(state.settings.sign_in_max_failures_per_address) {
        return limited("from this address");
    }
    if failures.for_account >= i64::from(state.settings.sign_in_max_failures_per_account)
        && !store::known_device(&mut conn, email, device_key).await?
    {
        return limited("for this account from new devices");
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
    let mut conn = state.db.pool.acquire().await?;
    let (email, stored) = store::credentials(&mut conn, &session.household_id).await?;
    let device_key = store::device_key(&mut conn, &session.device_id).await?;
    drop(conn);
    let ip = ip.to_string();
    check_sign_in_failures(&state, &email, &ip, &device_key, now).await?;
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
    store::confirm(&mut tx, &session.session_id, now).await?;
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
    valid_device(&request.device)?;
    let now = state.now().0;

    let ip = ip.to_string();
    check_sign_in_failures(&state, &email, &ip, &request.device.public_key, now).await?;

    let login = store::login(&mut *state.db.pool.acquire().await?, &email).await?;
    let verdict = check_credentials(
        &state,
        login
            .as_ref()
            .map(|l| (l.household_id.as_str(), l.auth_hash.as_str())),
        &auth_key,
        request.totp.as_deref(),
    )
    .await?;
    unless_accepted(&state, &email, &ip, now, verdict).await?;
    let Some(login) = login else {
        return Err(ApiError::unauthenticated(
            "wrong e-mail address or password",
        ));
    };
    let household_id = login.household_id;

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
        household_public_key: login.household_public_key,
        wrapped_household_key: login.wrapped_household_key,
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
    let current = store::by_refresh_token(&mut tx, &presented).await?;
    if let Some(current) = current {
        if current.revoked {
            return Err(ApiError::unauthenticated(
                "this device was signed out; sign in again",
            ));
        }
        if current.expires_at <= now {
            return Err(ApiError::unauthenticated(
                "the session expired; sign in again",
            ));
        }
        let tokens = SessionTokens {
            access_token: auth::new_token(auth::ACCESS_PREFIX),
            access_expires_at: now + ms(state.settings.access_token_ttl_secs),
            refresh_token: auth::new_token(auth::REFRESH_PREFIX),
            refresh_expires_at: now + ms(state.settings.refresh_token_ttl_secs),
        };
        let rotation = store::Rotation {
            access_hash: &auth::token_hash(&tokens.access_token),
            access_expires_at: tokens.access_expires_at,
            refresh_hash: &auth::token_hash(&tokens.refresh_token),
            refresh_expires_at: tokens.refresh_expires_at,
        };
        if !store::rotate(&mut tx, &current.id, &presented, &rotation, now).await? {
            return Err(ApiError::unauthenticated(
                "the refresh token was just used; sign in again",
            ));
        }
        store::device_seen(&mut tx, &current.device_id, now).await?;
        state.db.commit(tx).await?;
        return Ok(Json(tokens));
    }

    let reused = store::by_retired_refresh_token(&mut tx, &presented).await?;
    let Some(reused) = reused else {
        return Err(ApiError::unauthenticated(
            "the refresh token is not valid; sign in again",
        ));
    };
    if !reused.revoked {
        let who = DeviceSession {
            household_id: reused.household_id,
            device_id: reused.device_id,
            session_id: reused.id,
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
    if !store::sign_out_device(tx, device_id, reason, now).await? {
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
    let listed =
        store::devices(&mut *state.db.pool.acquire().await?, &session.household_id).await?;
    let devices = listed
        .into_iter()
        .map(|device| Device {
            this_device: device.id == session.device_id,
            name: device.name,
            public_key: device.device_key,
            created_at: device.created_at,
            last_seen_at: device.last_seen_at,
            signed_in: device.signed_in,
            id: device.id,
        })
        .collect();
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
    let owner = store::device_owner(&mut tx, &device_id).await?;
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

/// A new device's name and key.
fn valid_device(device: &NewDevice) -> ApiResult<()> {
    validate::text("device.name", &device.name, validate::NAME_MAX)?;
    validate::public_key("device.public_key", &device.public_key)?;
    Ok(())
}

/// A new password as the client sends it (its auth key, the salt it was derived
/// with, the household key sealed under it); the auth key, once all are checked.
fn valid_password(
    auth_key: &str,
    kdf_salt: &str,
    wrapped_household_key: &str,
) -> ApiResult<Vec<u8>> {
    let auth_key = validate::auth_key(auth_key)?;
    validate::bytes(
        "kdf_salt",
        kdf_salt,
        validate::KDF_SALT_BYTES.0,
        validate::KDF_SALT_BYTES.1,
    )?;
    validate::wrapped_key("wrapped_household_key", wrapped_household_key)?;
    Ok(auth_key)
}

/// The recovery key's auth key, once the sealed household key beside it is checked too.
fn valid_recovery(setup: &RecoverySetup) -> ApiResult<Vec<u8>> {
    validate::wrapped_key(
        "recovery.wrapped_household_key",
        &setup.wrapped_household_key,
    )?;
    validate::derived_key("recovery.auth_key", &setup.auth_key)
}

/// Checks a recovery key (as its auth key) for `email` after the same back-off as
/// sign-in; a wrong one counts as a failed sign-in. An unknown login, or one without
/// a recovery key, costs the same work and gets the same answer.
async fn check_recovery(
    state: &AppState,
    email: &str,
    ip: &str,
    device_key: &str,
    recovery_auth_key: &[u8],
    now: i64,
) -> ApiResult<(store::RecoverableLogin, String)> {
    check_sign_in_failures(state, email, ip, device_key, now).await?;
    let login = store::recoverable_login(&mut *state.db.pool.acquire().await?, email)
        .await?
        .filter(|l| l.recovery_wrapped_key.is_some());
    let hash = login.as_ref().and_then(|l| l.recovery_auth_hash.clone());
    let accepted = match &hash {
        Some(hash) => auth::verify_auth_key(recovery_auth_key, hash).await,
        None => {
            let _ = auth::hash_auth_key(recovery_auth_key).await;
            false
        }
    };
    match (login, hash) {
        (Some(login), Some(hash)) if accepted => Ok((login, hash)),
        _ => {
            record_sign_in_failure(state, email, ip, now).await?;
            Err(ApiError::unauthenticated(
                "wrong e-mail address or recovery key",
            ))
        }
    }
}

/// Hands out the household key sealed under the recovery key, to whoever proves
/// the recovery key: opening it needs the key itself, which the cloud never sees.
#[utoipa::path(post, path = "/v1/accounts/recovery/open", request_body = OpenRecovery,
    responses((status = 200, body = RecoveryOpened), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    tag = "accounts")]
pub async fn open_recovery(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    ApiJson(request): ApiJson<OpenRecovery>,
) -> ApiResult<Json<RecoveryOpened>> {
    let email = validate::email(&request.email)?;
    let recovery_auth_key = validate::derived_key("recovery_auth_key", &request.recovery_auth_key)?;
    let now = state.now().0;
    let (login, _) =
        check_recovery(&state, &email, &ip.to_string(), "", &recovery_auth_key, now).await?;
    Ok(Json(RecoveryOpened {
        household_public_key: login.household_public_key,
        wrapped_household_key: login.recovery_wrapped_key.unwrap_or_default(),
    }))
}

/// Sets a new password with the recovery key and signs this device in. The
/// second factor, when on, is still asked for: the recovery key stands in for the
/// password only. Every device hears of it (`account.password_reset`).
#[utoipa::path(post, path = "/v1/accounts/recovery/reset", request_body = ResetPassword,
    responses((status = 200, body = SignedIn), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    tag = "accounts")]
pub async fn reset_password(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    ApiJson(request): ApiJson<ResetPassword>,
) -> ApiResult<Json<SignedIn>> {
    let email = validate::email(&request.email)?;
    let recovery_auth_key = validate::derived_key("recovery_auth_key", &request.recovery_auth_key)?;
    let auth_key = valid_password(
        &request.auth_key,
        &request.kdf_salt,
        &request.wrapped_household_key,
    )?;
    valid_device(&request.device)?;
    if let Some(code) = &request.totp {
        validate::totp_code("totp", code)?;
    }
    let now = state.now().0;
    let ip = ip.to_string();
    let (login, recovery_hash) = check_recovery(
        &state,
        &email,
        &ip,
        &request.device.public_key,
        &recovery_auth_key,
        now,
    )
    .await?;
    let verdict = second_factor(&state, &login.household_id, request.totp.as_deref()).await?;
    unless_accepted(&state, &email, &ip, now, verdict).await?;
    let auth_hash = auth::hash_auth_key(&auth_key).await?;

    let household_id = login.household_id;
    let mut tx = state.db.pool.begin().await?;
    let password = store::NewPassword {
        auth_hash: &auth_hash,
        kdf_salt: &request.kdf_salt,
        wrapped_household_key: &request.wrapped_household_key,
    };
    if !store::reset_password(&mut tx, &household_id, &recovery_hash, &password).await? {
        return Err(ApiError::unauthenticated(
            "the recovery key was replaced a moment ago; use the new one",
        ));
    }
    let (who, _, session, signed_in) =
        sign_in_device(&mut tx, &state, &household_id, &request.device, now).await?;
    let reset = audit::happened(
        &mut tx,
        &household_id,
        &Actor::Device(&who),
        doorstep_api::EventData::AccountPasswordReset(doorstep_api::DeviceRef {
            device_id: who.device_id.clone(),
        }),
        Some(&who.device_id),
        audit::AuditLine {
            object_id: Some(&household_id),
            detail: "password reset with the recovery key",
        },
        now,
    )
    .await?;
    state.commit_and_publish(tx, [signed_in, reset]).await?;
    tracing::warn!(household_id, device_id = %who.device_id, "password reset with the recovery key");
    Ok(Json(SignedIn {
        household_id,
        device_id: who.device_id,
        household_public_key: login.household_public_key,
        wrapped_household_key: request.wrapped_household_key,
        session,
    }))
}

/// Replaces the household's recovery key (made on a signed-in device, which holds
/// the household key); the one before stops working. Needs a recent password.
#[utoipa::path(put, path = "/v1/accounts/recovery", request_body = RecoverySetup,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)),
    tag = "accounts")]
pub async fn set_recovery(
    State(state): State<AppState>,
    session: DeviceSession,
    ApiJson(request): ApiJson<RecoverySetup>,
) -> ApiResult<StatusCode> {
    let recovery_key = valid_recovery(&request)?;
    session.require_recent_confirmation(&state).await?;
    let hash = auth::hash_auth_key(&recovery_key).await?;
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    store::set_recovery(
        &mut tx,
        &session.household_id,
        store::Recovery {
            auth_hash: &hash,
            wrapped_household_key: &request.wrapped_household_key,
        },
    )
    .await?;
    let event = audit::happened(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        doorstep_api::EventData::AccountRecoveryKeySet(doorstep_api::DeviceRef {
            device_id: session.device_id.clone(),
        }),
        Some(&session.device_id),
        audit::AuditLine {
            object_id: Some(&session.household_id),
            detail: "a new recovery key was made",
        },
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(StatusCode::NO_CONTENT)
}
