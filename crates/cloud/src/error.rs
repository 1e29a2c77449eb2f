//! Errors as the API answers them: an HTTP status and `{code, message}`, where the
//! message says what was wrong (naming the field) and never contains a secret.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
pub use doorstep_api::{Code, ErrorBody};

/// An error response.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The code.
    pub code: Code,
    /// The sentence.
    pub message: String,
}

impl ApiError {
    /// 400 with a message naming what was wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: Code::InvalidRequest,
            message: message.into(),
        }
    }
    /// 401.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: Code::Unauthenticated,
            message: message.into(),
        }
    }
    /// 404, also for objects of another household.
    pub fn not_found(what: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: Code::NotFound,
            message: format!("{what} not found"),
        }
    }
    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            code: Code::Conflict,
            message: message.into(),
        }
    }
    /// 429.
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: Code::RateLimited,
            message: message.into(),
        }
    }
    /// 500; the detail goes to the log, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: Code::Internal,
            message: "internal error; it has been logged".into(),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if storage_unavailable(&error) {
            tracing::error!(%error, "database unavailable");
            return Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: Code::Unavailable,
                message: "the cloud cannot save right now; nothing was changed, try again later"
                    .into(),
            };
        }
        Self::internal(format!("database: {error}"))
    }
}

/// A failure of the storage rather than of the request: a full or failing
/// disk, a read-only file, or no connection to be had.
fn storage_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            // SQLite primary codes (extended codes keep them in the low byte):
            // 8 READONLY, 10 IOERR, 13 FULL, 14 CANTOPEN; PostgreSQL class 53
            // (insufficient resources: disk full, out of memory) and 58 (system error).
            let sqlite_primary = code.parse::<i64>().ok().map(|c| c & 0xff);
            matches!(sqlite_primary, Some(8 | 10 | 13 | 14))
                || code.starts_with("53")
                || code.starts_with("58")
        }
        _ => false,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
