//! The optional second factor: time-based one-time codes (RFC 6238, 6 digits,
//! 30 s), set up from a signed-in device and then asked for at every sign-in.

use crate::store::accounts as store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::DeviceSession;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;

const STEP_SECS: u64 = 30;

fn totp(secret: &[u8], account: &str) -> Result<TOTP, ApiError> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS,
        secret.to_vec(),
        Some("Doorstep".into()),
        account.to_owned(),
    )
    .map_err(|e| ApiError::internal(format!("totp: {e}")))
}

fn decode(secret: &str) -> Result<Vec<u8>, ApiError> {
    Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| ApiError::internal(format!("stored totp secret: {e:?}")))
}

/// The time step a code matches (current, one before or one after), if any.
pub fn matching_step(secret: &str, code: &str, now_ms: i64) -> Result<Option<i64>, ApiError> {
    let bytes = decode(secret)?;
    let totp = totp(&bytes, "")?;
    let now = u64::try_from(now_ms / 1000).unwrap_or(0);
    let step = i64::try_from(now / STEP_SECS).unwrap_or(0);
    for offset in [0i64, -1, 1] {
        let at =
            u64::try_from((step + offset) * i64::try_from(STEP_SECS).unwrap_or(30)).unwrap_or(0);
        if totp.generate(at) == code.trim() {
            return Ok(Some(step + offset));
        }
    }
    Ok(None)
}

/// What an authenticator app needs.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URL (as a QR code in the app).
    pub otpauth_url: String,
}

/// Starts setting up the second factor; it is on once a code is confirmed.
#[utoipa::path(post, path = "/v1/account/totp", responses((status = 200, body = TotpSetup)), tag = "accounts")]
pub async fn setup(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<Json<TotpSetup>> {
    session.require_recent_confirmation(&state).await?;
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    let mut conn = state.db.pool.acquire().await?;
    let (email, _) = store::credentials(&mut conn, &session.household_id).await?;
    let totp = totp(&bytes, &email)?;
    let secret = Secret::Raw(bytes.to_vec()).to_encoded().to_string();
    store::set_totp_pending(&mut conn, &session.household_id, &secret).await?;
    Ok(Json(TotpSetup {
        secret,
        otpauth_url: totp.get_url(),
    }))
}

/// A code from the authenticator.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// Six digits.
    pub code: String,
}

/// Confirms the pending secret with a code; from now on sign-in asks for codes.
#[utoipa::path(post, path = "/v1/account/totp/confirm", request_body = TotpCode, responses((status = 204), (status = 400, body = crate::error::ErrorBody)), tag = "accounts")]
pub async fn confirm(
    State(state): State<AppState>,
    session: DeviceSession,
    ApiJson(request): ApiJson<TotpCode>,
) -> ApiResult<StatusCode> {
    session.require_recent_confirmation(&state).await?;
    let now = state.now().0;
    let pending =
        store::totp_pending(&mut *state.db.pool.acquire().await?, &session.household_id).await?;
    let pending = pending.ok_or_else(|| {
        ApiError::invalid("no second factor is being set up; start with POST /v1/account/totp")
    })?;
    let code = crate::validate::totp_code("code", &request.code)?;
    let Some(step) = matching_step(&pending, code, now)? else {
        return Err(ApiError::invalid(
            "field `code`: wrong code; check the authenticator's clock",
        ));
    };
    let mut tx = state.db.pool.begin().await?;
    store::activate_totp(&mut tx, &session.household_id, step).await?;
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::AccountTotpOn,
        None,
        "second factor turned on",
        now,
    )
    .await?;
    state.db.commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks a sign-in's code against the household's secret, once per time step.
/// `Ok(true)` when no second factor is set up.
pub async fn check_sign_in(
    state: &AppState,
    household_id: &str,
    code: Option<&str>,
) -> ApiResult<SecondFactor> {
    let mut conn = state.db.pool.acquire().await?;
    let (secret, last) = store::totp(&mut conn, household_id).await?;
    let Some(secret) = secret else {
        return Ok(SecondFactor::NotNeeded);
    };
    let Some(code) = code else {
        return Ok(SecondFactor::Missing);
    };
    match matching_step(&secret, code, state.now().0)? {
        Some(step) if last.is_none_or(|last| step > last) => {
            // Only one sign-in per code: a code seen on the wire is worthless.
            Ok(
                if store::claim_totp_step(&mut conn, household_id, step).await? {
                    SecondFactor::Valid
                } else {
                    SecondFactor::Wrong
                },
            )
        }
        _ => Ok(SecondFactor::Wrong),
    }
}

/// The second factor's verdict at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// The household has none.
    NotNeeded,
    /// It has one and no code was sent.
    Missing,
    /// The code is right and unused.
    Valid,
    /// Wrong or already used.
    Wrong,
}
