//! A JSON body extractor whose errors name the offending field and keep the
//! `{code, message}` shape, including for bodies that are too large.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Code};

/// Like `axum::Json`, with errors that say which field was wrong.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::invalid(
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError {
                        status: StatusCode::PAYLOAD_TOO_LARGE,
                        code: Code::PayloadTooLarge,
                        message: format!(
                            "the body is too large (at most {} bytes)",
                            crate::MAX_BODY_BYTES
                        ),
                    }
                } else {
                    ApiError::invalid(format!("could not read the body: {rejection}"))
                }
            })?;
        // Every request body is an object: serde would also read a struct from a
        // JSON array (its fields by position), which no client means to send.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{') {
            return Err(ApiError::invalid("the body must be a JSON object"));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let syntax = matches!(
                inner.classify(),
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof
            );
            if syntax || path == "." || path.is_empty() {
                ApiError::invalid(format!("invalid JSON body: {inner}"))
            } else {
                ApiError::invalid(format!("field `{path}`: {inner}"))
            }
        })?;
        deserializer
            .end()
            .map_err(|e| ApiError::invalid(format!("invalid JSON body: {e}")))?;
        Ok(Self(value))
    }
}

/// Like `axum::extract::Query`, with errors in the API's shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| {
                ApiError::invalid(format!("query string: {}", rejection.body_text()))
            })
    }
}

/// Like `axum`'s `WebSocketUpgrade`, with a request that is not an upgrade
/// answered in the `{code, message}` shape (not axum's plain text).
#[derive(Debug)]
pub struct ApiUpgrade(pub axum::extract::ws::WebSocketUpgrade);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ApiUpgrade {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(ApiUpgrade)
            .map_err(|rejection| {
                ApiError::invalid(format!(
                    "this route takes a WebSocket upgrade: {}",
                    rejection.body_text()
                ))
            })
    }
}
