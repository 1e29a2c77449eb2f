//! Credentials: opaque random tokens (stored only as SHA-256), the server-side
//! Argon2id hash of the client's auth key, and the extractors that turn an
//! `Authorization: Bearer …` header into a device session or a carrier.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// Prefixes say what a token is when one turns up somewhere it should not.
pub const ACCESS_PREFIX: &str = "dsa_";
/// Refresh tokens.
pub const REFRESH_PREFIX: &str = "dsr_";
/// Carrier API keys.
pub const CARRIER_KEY_PREFIX: &str = "dck_";

/// A new random token with `prefix`.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored in place of a token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

/// The slow server-side hash of the client's auth key.
pub async fn hash_auth_key(auth_key: &[u8]) -> Result<String, ApiError> {
    let auth_key = zeroize::Zeroizing::new(auth_key.to_vec());
    // Argon2 takes tens of milliseconds of CPU: off the async workers, so that
    // a burst of sign-ins does not stall every other request.
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(&auth_key, &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ApiError::internal(format!("argon2: {e}")))
    })
    .await
    .map_err(ApiError::internal)?
}

/// Whether `auth_key` matches `stored` (constant time inside argon2), on a blocking thread.
pub async fn verify_auth_key(auth_key: &[u8], stored: &str) -> bool {
    let auth_key = zeroize::Zeroizing::new(auth_key.to_vec());
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|hash| {
            argon2::Argon2::default()
                .verify_password(&auth_key, &hash)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

fn bearer<'a>(parts: &'a Parts, prefix: &str) -> Result<&'a str, ApiError> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthenticated("missing Authorization: Bearer header"))?;
    let token = value.strip_prefix("Bearer ").ok_or_else(|| {
        ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
    })?;
    if !token.starts_with(prefix) {
        return Err(ApiError::unauthenticated(
            "this kind of credential is not accepted here",
        ));
    }
    Ok(token)
}

/// A signed-in household device, from its access token.
#[derive(Debug, Clone)]
pub struct DeviceSession {
    /// The household.
    pub household_id: String,
    /// The device.
    pub device_id: String,
    /// The session.
    pub session_id: String,
}

/// How long a sign-in or a password confirmation lets a device do sensitive things.
pub const CONFIRMATION_LASTS_MS: i64 = 5 * 60 * 1000;

impl DeviceSession {
    /// Sensitive actions (a second factor, signing out other devices, pairing
    /// codes, guests, the policy) need the password confirmed recently on this
    /// device: a stolen access token alone cannot take over the login.
    pub async fn require_recent_confirmation(&self, state: &AppState) -> Result<(), ApiError> {
        let (created, confirmed) = crate::store::accounts::confirmation(
            &mut *state.db.pool.acquire().await?,
            &self.session_id,
        )
        .await?;
        let last = confirmed.unwrap_or(created).max(created);
        if state.now().0.saturating_sub(last) <= CONFIRMATION_LASTS_MS {
            return Ok(());
        }
        Err(ApiError {
            status: axum::http::StatusCode::FORBIDDEN,
            code: crate::error::Code::ReauthRequired,
            message: "confirm your password to do this (it was last entered on this device more than 5 minutes ago)".into(),
        })
    }
}

impl FromRequestParts<AppState> for DeviceSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts, ACCESS_PREFIX)?;
        let now = state.now().0;
        let session = crate::store::accounts::by_access_token(
            &mut *state.db.pool.acquire().await?,
            &token_hash(token),
        )
        .await?
        .ok_or_else(|| ApiError::unauthenticated("the access token is not valid; sign in again"))?;
        if session.revoked {
            return Err(ApiError::unauthenticated(
                "this device was signed out; sign in again",
            ));
        }
        if session.expires_at <= now {
            return Err(ApiError::unauthenticated(
                "the access token expired; refresh it",
            ));
        }
        Ok(Self {
            household_id: session.household_id,
            device_id: session.device_id,
            session_id: session.id,
        })
    }
}

/// A carrier, from its API key.
#[derive(Debug, Clone)]
pub struct CarrierAuth {
    /// The carrier.
    pub carrier_id: String,
    /// Its name (e.g. "DHL").
    pub name: String,
}

impl FromRequestParts<AppState> for CarrierAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts, CARRIER_KEY_PREFIX)?;
        let (carrier_id, name) = crate::store::carriers::by_api_key(
            &mut *state.db.pool.acquire().await?,
            &token_hash(token),
        )
        .await?
        .ok_or_else(|| ApiError::unauthenticated("the carrier API key is not valid"))?;
        Ok(Self { carrier_id, name })
    }
}
