//! Session secrets in the operating system's keyring (Secret Service on Linux).
//!
//! Entries are namespaced by the app identifier, so a test build, a beta and the
//! release never read each other's tokens. There is deliberately no fallback to a
//! file or to memory: a secret that cannot be stored safely is an error the user
//! is told about.

use secrecy::{ExposeSecret, SecretString};

/// A namespace of secrets in the OS keyring.
#[derive(Debug, Clone)]
pub struct SecretStore {
    service: String,
}

/// Why the keyring could not do what was asked. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretStoreError {
    /// No keyring service answers (no D-Bus session, or no Secret Service on it).
    #[error(
        "no secure store is available ({detail}); Doorstep keeps its sign-in in the system keyring: \
         install and start one (on Debian/Ubuntu: apt-get install gnome-keyring) and sign in to a desktop session"
    )]
    Unavailable {
        /// What the platform said, without any secret.
        detail: String,
    },
    /// The keyring exists but is locked or refused access.
    #[error("the system keyring is locked or refused access ({detail}); unlock it and try again")]
    Locked {
        /// What the platform said.
        detail: String,
    },
    /// The stored value is not what Doorstep wrote (not UTF-8, or several matches).
    #[error("the keyring entry {name:?} is unreadable ({detail}); sign in again to replace it")]
    Corrupt {
        /// Which entry.
        name: String,
        /// What was wrong with it.
        detail: String,
    },
}

impl SecretStore {
    /// The namespace for one app identifier.
    pub fn new(app_id: &str) -> Self {
        Self {
            service: app_id.to_owned(),
        }
    }

    /// Stores `value` under `name`, replacing what was there.
    pub fn set(&self, name: &str, value: &SecretString) -> Result<(), SecretStoreError> {
        self.entry(name)?
            .set_password(value.expose_secret())
            .map_err(|e| classify(name, e))
    }

    /// Reads `name`; `None` when nothing is stored under it.
    pub fn get(&self, name: &str) -> Result<Option<SecretString>, SecretStoreError> {
        match self.entry(name)?.get_password() {
            Ok(value) => Ok(Some(SecretString::from(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(name, e)),
        }
    }

    /// Removes `name`; removing what is not there is not an error, so sign-out can repeat.
    pub fn delete(&self, name: &str) -> Result<(), SecretStoreError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(name, e)),
        }
    }

    /// Proves the store works end to end with a throwaway entry: write, read back, delete.
    pub fn probe(&self) -> Result<(), SecretStoreError> {
        const PROBE: &str = "doorstep-store-probe";
        let value = SecretString::from(format!("probe-{}", std::process::id()));
        self.set(PROBE, &value)?;
        let read = self.get(PROBE)?;
        self.delete(PROBE)?;
        match read {
            Some(read) if read.expose_secret() == value.expose_secret() => Ok(()),
            _ => Err(SecretStoreError::Unavailable {
                detail: "a value written to the keyring did not read back".into(),
            }),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretStoreError> {
        keyring::Entry::new(&self.service, name).map_err(|e| classify(name, e))
    }
}

fn classify(name: &str, error: keyring::Error) -> SecretStoreError {
    // keyring's errors carry platform messages, never the secret itself.
    let detail = error.to_string();
    match error {
        keyring::Error::NoStorageAccess(_) => SecretStoreError::Locked { detail },
        keyring::Error::BadEncoding(_) | keyring::Error::Ambiguous(_) => {
            SecretStoreError::Corrupt {
                name: name.to_owned(),
                detail,
            }
        }
        _ => SecretStoreError::Unavailable { detail },
    }
}
