use serde::{Deserialize, Serialize};

/// The closed set of error codes clients branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The body or a parameter is malformed; the message names the field.
    InvalidRequest,
    /// No valid credentials.
    Unauthenticated,
    /// Credentials are valid but the second factor is needed.
    TotpRequired,
    /// Not there — or not yours (the two are not told apart).
    NotFound,
    /// It conflicts with the current state (e.g. the e-mail is taken).
    Conflict,
    /// The door stays shut for this courier; the message says what to do instead.
    EntryRefused,
    /// The lock accepted the grant but its motor did not move (the lock's own
    /// interface only).
    Jammed,
    /// Too many attempts; retry later.
    RateLimited,
    /// A sensitive action needs the password (and the code, with two factors)
    /// confirmed on this device within the last minutes:
    /// `POST /v1/sessions/current/confirm`, then retry.
    ReauthRequired,
    /// The body is too large.
    PayloadTooLarge,
    /// The cloud cannot read or save its data right now (a full or failing
    /// disk, a database that does not answer); nothing was changed, retry later.
    Unavailable,
    /// A bug or an outage on our side.
    Internal,
}

/// The JSON body of every error.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What kind of error.
    pub code: Code,
    /// What was wrong, for people.
    pub message: String,
}
