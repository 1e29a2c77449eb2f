//! The client's errors: each says what went wrong and what to do, and falls into a
//! [`ErrorKind`] the CLI turns into an exit code and the app into a reaction.

use doorstep_api::Code;

use crate::keys::KeyError;
use crate::secrets::SecretStoreError;

/// Anything the client core can fail with. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// This device has no sign-in.
    #[error("this device is not signed in; run `doorstep login` (or sign in in the app)")]
    NotSignedIn,
    /// The session ended: signed out from another device, expired, or its refresh
    /// token was used twice.
    #[error("this device was signed out ({detail}); sign in again")]
    SignedOut {
        /// What the cloud said.
        detail: String,
    },
    /// E-mail or password wrong (the two are not told apart).
    #[error("wrong e-mail or password")]
    WrongPassword,
    /// The cloud refused a recovery: the e-mail or recovery key is wrong (the two
    /// are not told apart), or the authenticator code; its sentence says which.
    #[error("{0}")]
    RecoveryRefused(String),
    /// The login has the second factor on and no (or a wrong) code was given.
    #[error("this login needs the 6-digit code from your authenticator app (--totp)")]
    TotpRequired,
    /// No answer from the cloud.
    #[error(
        "cannot reach the Doorstep cloud at {url} ({detail}); check the address and your connection"
    )]
    Unreachable {
        /// Where it was tried.
        url: String,
        /// What the network said.
        detail: String,
    },
    /// The cloud answered with an error.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The cloud's code.
        code: Code,
        /// The cloud's sentence.
        message: String,
    },
    /// The OS keyring.
    #[error(transparent)]
    SecretStore(#[from] SecretStoreError),
    /// Key derivation or the wrapped household key.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A recovery key as typed is not one.
    #[error(transparent)]
    RecoveryKey(#[from] crate::keys::RecoveryKeyError),
    /// Something the user typed is not acceptable; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// Local files (account record, cache) could not be read or written.
    #[error("{what}: {detail}")]
    Local {
        /// Which file or folder.
        what: String,
        /// What the system said.
        detail: String,
    },
    /// The cloud sent something this client does not understand.
    #[error("the cloud sent an answer this version does not understand ({0}); update Doorstep")]
    Protocol(String),
}

/// Classes of failure, for exit codes and reactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Sign in (again).
    NeedsSignIn,
    /// Wrong password or second factor.
    Credentials,
    /// A sensitive action: confirm the password on this device, then retry.
    ReauthRequired,
    /// What was asked for does not exist (or is not this household's).
    NotFound,
    /// Not possible in the current state (e.g. rerouting a delivered parcel).
    Conflict,
    /// The request or the input was malformed.
    Invalid,
    /// Cloud unreachable.
    Unreachable,
    /// Keyring, notifications, files: something on this computer.
    Environment,
    /// Everything else.
    Internal,
}

impl CoreError {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CoreError::NotSignedIn | CoreError::SignedOut { .. } => ErrorKind::NeedsSignIn,
            CoreError::WrongPassword
            | CoreError::RecoveryRefused(_)
            | CoreError::TotpRequired
            | CoreError::Keys(KeyError::Unwrap) => ErrorKind::Credentials,
            CoreError::Unreachable { .. } => ErrorKind::Unreachable,
            CoreError::Api { code, .. } => match code {
                Code::NotFound => ErrorKind::NotFound,
                Code::Conflict | Code::EntryRefused | Code::Jammed => ErrorKind::Conflict,
                Code::InvalidRequest | Code::PayloadTooLarge => ErrorKind::Invalid,
                Code::Unauthenticated => ErrorKind::NeedsSignIn,
                Code::TotpRequired => ErrorKind::Credentials,
                Code::RateLimited | Code::Unavailable | Code::Internal => ErrorKind::Internal,
                Code::ReauthRequired => ErrorKind::ReauthRequired,
            },
            CoreError::Invalid(_) | CoreError::RecoveryKey(_) => ErrorKind::Invalid,
            CoreError::SecretStore(_) | CoreError::Local { .. } => ErrorKind::Environment,
            CoreError::Keys(KeyError::Unsupported(_)) | CoreError::Protocol(_) => {
                ErrorKind::Internal
            }
        }
    }

    /// A failure on this computer: `what` was being used, `error` is what the system said.
    pub fn local(what: impl Into<String>, error: impl std::fmt::Display) -> Self {
        CoreError::Local {
            what: what.into(),
            detail: error.to_string(),
        }
    }
}

/// Shorthand.
pub type CoreResult<T> = Result<T, CoreError>;
