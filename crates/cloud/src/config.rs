//! Settings in layers: built-in defaults, then an optional TOML file, then
//! `DOORSTEP_*` environment variables (and plain `DATABASE_URL`); secrets may also
//! come from a file named by `*_FILE`. See `doorstep-cloud.example.toml`.
#![allow(
    clippy::disallowed_methods,
    reason = "this module is where the environment is read"
)]

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the cloud can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free one.
    pub listen: String,
    /// Where the SQLite database and the cloud's signing key live.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Lifetime of access tokens, seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens, seconds.
    pub refresh_token_ttl_secs: u64,
    /// Failed sign-ins per e-mail address *from one client address* allowed in
    /// `sign_in_window_secs`: the attacker is stopped, the owner at home is not.
    pub sign_in_max_failures: u32,
    /// Failed sign-ins per e-mail address from all addresses together; past it,
    /// only a device that was signed in to this household before gets through.
    pub sign_in_max_failures_per_account: u32,
    /// Failed sign-ins from one client address, whatever the e-mail.
    pub sign_in_max_failures_per_address: u32,
    /// The window for counting failed sign-ins, seconds.
    pub sign_in_window_secs: u64,
    /// New accounts per client address per hour (0: no limit).
    pub accounts_per_address_per_hour: u32,
    /// Pairing attempts (redeeming a code) per client address per minute (0: no limit).
    pub pairings_per_address_per_minute: u32,
    /// Pairing codes a household may create per hour (0: no limit).
    pub pairing_codes_per_household_per_hour: u32,
    /// Courier and guest access requests per client address per minute (0: no limit).
    pub access_requests_per_address_per_minute: u32,
    /// Minutes before the ETA at which "approaching" is announced, for new households.
    pub default_lead_time_minutes: u32,
    /// Seconds without a word from a lock (or a recording heartbeat from its camera)
    /// before the household is told it is offline (and told again when it is back).
    pub lock_offline_alarm_secs: u64,
    /// Let carrier webhooks point at loopback and private addresses (a test, an
    /// on-premises setup). Off, the cloud calls only public addresses.
    pub webhooks_allow_private: bool,
    /// PEM certificate chain; with `tls_key`, serve HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8787".into(),
            data_dir: default_data_dir(),
            database_url: None,
            access_token_ttl_secs: 600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            sign_in_max_failures: 5,
            sign_in_max_failures_per_account: 50,
            sign_in_max_failures_per_address: 20,
            sign_in_window_secs: 15 * 60,
            accounts_per_address_per_hour: 20,
            pairings_per_address_per_minute: 10,
            pairing_codes_per_household_per_hour: 20,
            access_requests_per_address_per_minute: 120,
            default_lead_time_minutes: 10,
            lock_offline_alarm_secs: 60,
            webhooks_allow_private: false,
            tls_cert: None,
            tls_key: None,
        }
    }
}

fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("doorstep-cloud")
}

/// Keys a settings file may contain; anything else is warned about.
const KNOWN_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "access_token_ttl_secs",
    "refresh_token_ttl_secs",
    "sign_in_max_failures",
    "sign_in_max_failures_per_account",
    "sign_in_max_failures_per_address",
    "sign_in_window_secs",
    "accounts_per_address_per_hour",
    "pairings_per_address_per_minute",
    "pairing_codes_per_household_per_hour",
    "access_requests_per_address_per_minute",
    "default_lead_time_minutes",
    "lock_offline_alarm_secs",
    "webhooks_allow_private",
    "tls_cert",
    "tls_key",
];

impl Settings {
    /// Defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder();
        if let Some(file) = file {
            if !file.is_file() {
                anyhow::bail!("settings file {} does not exist", file.display());
            }
            builder = builder.add_source(config::File::from(file));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("DOORSTEP")
                .try_parsing(true)
                .ignore_empty(true),
        );
        let layered = builder.build()?;
        if let Some(file) = file {
            let only_file = config::Config::builder()
                .add_source(config::File::from(file))
                .build()?;
            for key in only_file
                .try_deserialize::<std::collections::HashMap<String, config::Value>>()?
                .keys()
                .filter(|k| !KNOWN_KEYS.contains(&k.as_str()))
            {
                tracing::warn!(key, file = %file.display(), "unknown setting ignored");
            }
        }
        let mut settings: Settings = layered
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("invalid settings: {e}"))?;
        if settings.database_url.is_none() {
            settings.database_url =
                secret_from_env("DOORSTEP_DATABASE_URL")?.or(secret_from_env("DATABASE_URL")?);
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that would otherwise fail later in a confusing way.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.access_token_ttl_secs == 0 || self.refresh_token_ttl_secs == 0 {
            anyhow::bail!("access_token_ttl_secs and refresh_token_ttl_secs must be above 0");
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            anyhow::bail!("tls_cert and tls_key must be given together");
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            anyhow::bail!("database_url must be a postgres:// URL (leave it unset for SQLite)");
        }
        Ok(())
    }
}

/// `NAME` from the environment, or the contents of the file named by `NAME_FILE`.
pub fn secret_from_env(name: &str) -> anyhow::Result<Option<String>> {
    if let Some(value) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
        return Ok(Some(value));
    }
    let file_var = format!("{name}_FILE");
    match std::env::var_os(&file_var) {
        Some(path) => {
            let value = std::fs::read_to_string(&path).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read {file_var} ({}): {e}",
                    Path::new(&path).display()
                )
            })?;
            Ok(Some(value.trim().to_owned()))
        }
        None => Ok(None),
    }
}
