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
        Self::internal(format!("database: {error}"))
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
