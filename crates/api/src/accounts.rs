use serde::{Deserialize, Serialize};

/// The device signing in.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    /// What people call it ("Anna's laptop").
    pub name: String,
    /// Its own Ed25519 public key (base64url).
    pub public_key: String,
}

/// Create a household account.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// The shared login.
    pub email: String,
    /// Derived by the client from the password with Argon2id (base64url, 32–64 bytes).
    /// The password itself never leaves the device.
    pub auth_key: String,
    /// The salt the client used (base64url, 16–64 bytes); returned at sign-in.
    pub kdf_salt: String,
    /// The household's Ed25519 public key.
    pub household_public_key: String,
    /// The household's private key, encrypted by the client under a key derived
    /// from the password (base64url, at most 4 KiB). Opaque to the cloud.
    pub wrapped_household_key: String,
    /// IANA time zone of the home.
    pub time_zone: String,
    /// The first device.
    pub device: NewDevice,
    /// The household key sealed a second time, under the recovery key the person
    /// keeps on paper (absent from clients older than recovery keys).
    #[serde(default)]
    pub recovery: Option<RecoverySetup>,
}

/// What the cloud keeps for a recovery key: a proof of it and the household key
/// sealed under it. The recovery key itself never leaves the device.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverySetup {
    /// Derived by the client from the recovery key (base64url, 32–64 bytes); the
    /// cloud keeps only its Argon2id hash.
    pub auth_key: String,
    /// The household's private key sealed under a key derived from the recovery
    /// key (base64url, at most 4 KiB). Opaque to the cloud.
    pub wrapped_household_key: String,
}

/// Proof of the recovery key, to fetch what it sealed.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRecovery {
    /// The login.
    pub email: String,
    /// Derived from the recovery key (base64url).
    pub recovery_auth_key: String,
}

/// What the recovery key sealed, for the client to open.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RecoveryOpened {
    /// The household's public key.
    pub household_public_key: String,
    /// The household key sealed under the recovery key.
    pub wrapped_household_key: String,
}

/// A new password set with the recovery key; signs this device in.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The login.
    pub email: String,
    /// Derived from the recovery key (base64url).
    pub recovery_auth_key: String,
    /// The authenticator's code, when the household turned the second factor on:
    /// the recovery key stands in for the password, not for the second factor.
    #[serde(default)]
    pub totp: Option<String>,
    /// Derived from the new password, as at account creation.
    pub auth_key: String,
    /// The salt of the new password's derivation.
    pub kdf_salt: String,
    /// The household key sealed under the new password.
    pub wrapped_household_key: String,
    /// This device.
    pub device: NewDevice,
}

/// Tokens for one device.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionTokens {
    /// Send as `Authorization: Bearer …`; short-lived.
    pub access_token: String,
    /// When it expires (ms).
    pub access_expires_at: i64,
    /// Exchange for new tokens once; a second use signs the device out.
    pub refresh_token: String,
    /// When it expires (ms).
    pub refresh_expires_at: i64,
}

/// A signed-in device.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedIn {
    /// The household.
    pub household_id: String,
    /// This device.
    pub device_id: String,
    /// The household's public key.
    pub household_public_key: String,
    /// The wrapped household key, for the client to unwrap with the password.
    pub wrapped_household_key: String,
    /// The tokens.
    pub session: SessionTokens,
}

/// The client-side key-derivation parameters for a login.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KdfParams {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Salt (base64url).
    pub salt: String,
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// Sign in a device.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The login.
    pub email: String,
    /// The derived auth key (base64url).
    pub auth_key: String,
    /// The authenticator's code, when the household turned the second factor on.
    pub totp: Option<String>,
    /// This device.
    pub device: NewDevice,
}

/// The password (as its derived auth key) confirmed on a signed-in device.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The derived auth key (base64url), as at sign-in.
    pub auth_key: String,
    /// The authenticator's code, when the household turned the second factor on.
    #[serde(default)]
    pub totp: Option<String>,
}

/// Exchange a refresh token.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    /// The current refresh token.
    pub refresh_token: String,
}

/// A device of the household.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Device {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its public key.
    pub public_key: String,
    /// When it signed in.
    pub created_at: i64,
    /// Last token refresh.
    pub last_seen_at: i64,
    /// Whether it has a live session.
    pub signed_in: bool,
    /// Whether it is the device asking.
    pub this_device: bool,
}
