//! The carrier's webhook receiver for reroute notices: checks the HMAC signature
//! and its age, de-duplicates by idempotency key, and hands each notice on.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::mpsc;

/// Signatures older than this are refused (a replayed notice).
pub const MAX_AGE: Duration = Duration::from_secs(300);

/// A verified notice.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// `Idempotency-Key`.
    pub key: String,
    /// What the cloud says.
    pub body: doorstep_api::CarrierNotice,
}

#[derive(Clone)]
struct Receiver {
    secret: Arc<String>,
    seen: Arc<Mutex<HashSet<String>>>,
    out: mpsc::Sender<Notice>,
}

/// Checks `t=…,v1=…` against `secret` and `body`, and that it is recent.
pub fn verify(secret: &str, header: &str, body: &str, now_ms: i64) -> Result<(), &'static str> {
    let mut timestamp = None;
    let mut mac_hex = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
            Some(("v1", v)) => mac_hex = Some(v),
            _ => {}
        }
    }
    let (Some(timestamp), Some(mac_hex)) = (timestamp, mac_hex) else {
        return Err("malformed signature header");
    };
    let max_age = i64::try_from(MAX_AGE.as_millis()).unwrap_or(i64::MAX);
    if (now_ms - timestamp).abs() > max_age {
        return Err("signature too old");
    }
    let expected = hex::decode(mac_hex).map_err(|_| "signature is not hex")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| "bad secret")?;
    mac.update(format!("{timestamp}.{body}").as_bytes());
    mac.verify_slice(&expected)
        .map_err(|_| "signature does not match")
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    if let Err(reason) = verify(
        &receiver.secret,
        &header("doorstep-signature"),
        &body,
        doorstep_proto::Clock::read(&doorstep_proto::SystemClock)
            .now
            .0,
    ) {
        tracing::warn!(reason, "webhook refused");
        return StatusCode::UNAUTHORIZED;
    }
    let key = header("idempotency-key");
    let fresh = receiver
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.clone());
    if fresh {
        let body = match serde_json::from_str(&body) {
            Ok(body) => body,
            Err(e) => {
                // Signed by the cloud but not understood: a newer cloud's notice.
                // Not acknowledged, so it is retried once this client knows it.
                tracing::warn!(error = %e, "webhook notice not understood");
                receiver
                    .seen
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&key);
                return StatusCode::UNPROCESSABLE_ENTITY;
            }
        };
        if receiver.out.send(Notice { key, body }).await.is_err() {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    StatusCode::OK
}

/// Serves the webhook on `listener`; verified, de-duplicated notices arrive on the receiver.
pub fn serve(listener: tokio::net::TcpListener, secret: String) -> mpsc::Receiver<Notice> {
    let (out, notices) = mpsc::channel(64);
    let receiver = Receiver {
        secret: Arc::new(secret),
        seen: Arc::default(),
        out,
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "webhook receiver stopped");
        }
    });
    notices
}
