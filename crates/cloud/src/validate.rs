//! Checks on request fields, each failing with a message that names the field.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use doorstep_proto::PublicKey;

use crate::error::ApiError;

/// The longest name (a device, a lock, a guest).
pub const NAME_MAX: usize = 64;
/// The longest label of an alternate address.
pub const LABEL_MAX: usize = 80;
/// The longest alternate address.
pub const ADDRESS_MAX: usize = 300;
/// The longest e-mail address (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 254;
/// Bytes of the password-derived sign-in key.
pub const AUTH_KEY_BYTES: (usize, usize) = (32, 64);
/// Bytes of the key-derivation salt.
pub const KDF_SALT_BYTES: (usize, usize) = (16, 64);
/// Bytes of the password-wrapped household key.
pub const WRAPPED_KEY_BYTES: (usize, usize) = (16, 4096);
/// Minutes before arrival for "courier arriving".
pub const LEAD_TIME_MINUTES: (i64, i64) = (1, 120);

/// Base64url bytes of a length in `min..=max`.
pub fn bytes(field: &str, value: &str, min: usize, max: usize) -> Result<Vec<u8>, ApiError> {
    let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| {
        ApiError::invalid(format!(
            "field `{field}`: must be base64url without padding"
        ))
    })?;
    if bytes.len() < min || bytes.len() > max {
        return Err(ApiError::invalid(format!(
            "field `{field}`: must be {min} to {max} bytes, got {}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// The password-derived sign-in key (`auth_key`).
pub fn auth_key(value: &str) -> Result<Vec<u8>, ApiError> {
    derived_key("auth_key", value)
}

/// A key the client derived from a secret it keeps (a password or a recovery key).
pub fn derived_key(field: &str, value: &str) -> Result<Vec<u8>, ApiError> {
    bytes(field, value, AUTH_KEY_BYTES.0, AUTH_KEY_BYTES.1)
}

/// A household key sealed by the client (opaque here; only its size is checked).
pub fn wrapped_key(field: &str, value: &str) -> Result<(), ApiError> {
    bytes(field, value, WRAPPED_KEY_BYTES.0, WRAPPED_KEY_BYTES.1).map(drop)
}

/// An Ed25519 public key.
pub fn public_key(field: &str, value: &str) -> Result<PublicKey, ApiError> {
    PublicKey::from_base64(value).map_err(|e| ApiError::invalid(format!("field `{field}`: {e}")))
}

/// Text of 1..=`max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::invalid(format!(
            "field `{field}`: must not be empty"
        )));
    }
    if trimmed.chars().count() > max {
        return Err(ApiError::invalid(format!(
            "field `{field}`: at most {max} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "field `{field}`: must not contain control characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// An e-mail address, lower-cased.
pub fn email(value: &str) -> Result<String, ApiError> {
    let email = text("email", value, EMAIL_MAX)?.to_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    }) && !email.contains(char::is_whitespace);
    if !valid {
        return Err(ApiError::invalid("field `email`: not an e-mail address"));
    }
    Ok(email)
}

/// An authenticator code: six digits (the apps' spaces are the client's to drop).
pub fn totp_code<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    if value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(ApiError::invalid(format!(
            "field `{field}`: six digits from the authenticator app"
        )))
    }
}

/// An IANA time zone.
pub fn time_zone(value: &str) -> Result<String, ApiError> {
    if doorstep_proto::is_time_zone(value) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::invalid(format!(
            "field `time_zone`: {value:?} is not an IANA time zone (e.g. \"Europe/Berlin\")"
        )))
    }
}

/// A carrier's tracking id: 1 to 64 letters, digits, `-`, `_` or `.`.
pub fn tracking_id(value: &str) -> Result<String, ApiError> {
    let valid = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(ApiError::invalid(
            "field `tracking_id`: 1 to 64 letters, digits, `-`, `_` or `.`",
        ))
    }
}

/// How far an ETA may lie outside its delivery window.
const ETA_SLACK_MS: i64 = 24 * 3600 * 1000;

/// An ETA near its window (within a day of it).
pub fn eta(eta: i64, window: &doorstep_api::Window) -> Result<i64, ApiError> {
    let earliest = window.not_before.saturating_sub(ETA_SLACK_MS);
    let latest = window.not_after.saturating_add(ETA_SLACK_MS);
    if (earliest..=latest).contains(&eta) {
        Ok(eta)
    } else {
        Err(ApiError::invalid(
            "field `eta`: must lie within a day of the delivery window",
        ))
    }
}
