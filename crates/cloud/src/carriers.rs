//! Carriers: accounts with API keys, and reroute notices delivered to their
//! webhooks from an outbox — signed, retried with backoff, with an idempotency key.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;

use crate::auth;
use crate::db::Db;

/// A new carrier's credentials, shown once.
#[derive(Debug)]
pub struct NewCarrier {
    /// Its id.
    pub id: String,
    /// Its API key (`dck_…`).
    pub api_key: String,
    /// The HMAC key its webhook checks signatures with.
    pub webhook_secret: String,
}

/// Registers a carrier (an operator task: `doorstep-cloud carrier add`).
pub async fn create(
    db: &Db,
    name: &str,
    webhook_url: Option<&str>,
    allow_private_webhook: bool,
    now: i64,
) -> anyhow::Result<NewCarrier> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        anyhow::bail!("carrier name must be 1 to 64 characters");
    }
    if let Some(url) = webhook_url {
        crate::webhook_target::check_url_resolved(url, allow_private_webhook)
            .await
            .map_err(|reason| {
                anyhow::anyhow!("{reason} (set webhooks_allow_private for an on-premises setup)")
            })?;
    }
    let carrier = NewCarrier {
        id: uuid::Uuid::now_v7().to_string(),
        api_key: auth::new_token(auth::CARRIER_KEY_PREFIX),
        webhook_secret: auth::new_token("whsec_"),
    };
    sqlx::query(
        "INSERT INTO carriers (id, name, api_key_hash, webhook_url, webhook_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&carrier.id)
    .bind(name)
    .bind(auth::token_hash(&carrier.api_key))
    .bind(webhook_url)
    .bind(&carrier.webhook_secret)
    .bind(now)
    .execute(&db.pool)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => anyhow::anyhow!("a carrier named {name:?} exists"),
        other => other.into(),
    })?;
    Ok(carrier)
}

/// Registers `key` as one of the carrier's shipment-signing keys (an operator
/// task: `doorstep-cloud carrier-add` and `carrier-key-add`). Households pin the
/// keys when they save a policy; adding one again is harmless.
pub async fn add_key(
    db: &Db,
    name: &str,
    key: &doorstep_proto::PublicKey,
    now: i64,
) -> anyhow::Result<()> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM carriers WHERE name = $1")
        .bind(name.trim())
        .fetch_optional(&db.pool)
        .await?;
    let id = id.ok_or_else(|| anyhow::anyhow!("no carrier named {:?}", name.trim()))?;
    sqlx::query(
        "INSERT INTO carrier_keys (carrier_id, public_key, added_at) VALUES ($1, $2, $3) \
         ON CONFLICT (carrier_id, public_key) DO NOTHING",
    )
    .bind(&id)
    .bind(key.to_base64())
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// A carrier's registered shipment-signing keys, oldest first.
pub async fn keys(
    conn: &mut sqlx::AnyConnection,
    carrier_id: &str,
) -> Result<Vec<doorstep_proto::PublicKey>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT public_key FROM carrier_keys WHERE carrier_id = $1 ORDER BY added_at, public_key",
    )
    .bind(carrier_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|text| doorstep_proto::PublicKey::from_base64(text).ok())
        .collect())
}

/// Every carrier and its shipment-signing keys, for a household pinning them in
/// its policy (the household checks the fingerprints the carrier publishes).
#[utoipa::path(get, path = "/v1/carriers", responses((status = 200, body = Vec<doorstep_api::CarrierKeys>)), tag = "household")]
pub async fn list(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    _session: crate::auth::DeviceSession,
) -> crate::error::ApiResult<axum::Json<Vec<doorstep_api::CarrierKeys>>> {
    let mut conn = state.db.pool.acquire().await?;
    let carriers = sqlx::query("SELECT id, name FROM carriers ORDER BY name")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(carriers.len());
    for row in carriers {
        let id: String = row.try_get("id")?;
        let keys = keys(&mut conn, &id).await?;
        out.push(doorstep_api::CarrierKeys {
            name: row.try_get("name")?,
            keys: keys
                .iter()
                .map(doorstep_proto::PublicKey::to_base64)
                .collect(),
        });
    }
    Ok(axum::Json(out))
}

/// Points a carrier's reroute notices at `webhook_url` and returns the secret they
/// are signed with (an operator task, like [`create`]; the outbox retries anything
/// still undelivered at the new address).
pub async fn set_webhook(db: &Db, name: &str, webhook_url: &str) -> anyhow::Result<String> {
    if !(webhook_url.starts_with("http://") || webhook_url.starts_with("https://")) {
        anyhow::bail!("webhook URL must start with http:// or https://");
    }
    let secret: Option<String> = sqlx::query_scalar(
        "UPDATE carriers SET webhook_url = $1 WHERE name = $2 RETURNING webhook_secret",
    )
    .bind(webhook_url)
    .bind(name.trim())
    .fetch_optional(&db.pool)
    .await?;
    secret.ok_or_else(|| anyhow::anyhow!("no carrier named {:?}", name.trim()))
}

/// Queues a webhook notice in `tx` (sent after commit by [`run_outbox`]).
pub async fn enqueue(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    carrier_id: &str,
    idempotency_key: &str,
    notice: &doorstep_api::CarrierNotice,
    now: i64,
) -> Result<(), sqlx::Error> {
    // The same key twice is the same notice: keep the first.
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM webhook_outbox WHERE idempotency_key = $1")
            .bind(idempotency_key)
            .fetch_optional(&mut **tx)
            .await?;
    if exists.is_some() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO webhook_outbox (id, carrier_id, idempotency_key, event, payload, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(carrier_id)
    .bind(idempotency_key)
    .bind(notice.event())
    .bind(serde_json::to_string(notice).unwrap_or_default())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Give up on a notice after this many failed attempts (about a day of backoff).
pub const MAX_ATTEMPTS: i64 = 16;

/// `t=<unix ms>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the receiver recomputes it
/// and rejects old timestamps, so a captured notice cannot be replayed later.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC accepts keys of any length");
    };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

fn backoff(attempts: i64) -> i64 {
    // 1 s, 2 s, 4 s … capped at 2 h.
    1000_i64
        .saturating_mul(1_i64 << attempts.clamp(0, 13))
        .min(2 * 3600 * 1000)
}

/// Sends due notices until `stopping` turns true.
pub async fn run_outbox(state: crate::AppState) {
    let allow_private = state.settings.webhooks_allow_private;
    let http = crate::webhook_target::client(allow_private);
    let mut stopping = state.stopping.clone();
    loop {
        if let Err(e) = send_due(&state, &http).await {
            tracing::warn!(error = %e, "webhook outbox pass failed");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stopping.changed() => return,
        }
    }
}

async fn send_due(state: &crate::AppState, http: &reqwest::Client) -> Result<(), sqlx::Error> {
    let now = state.now().0;
    let allow_private = state.settings.webhooks_allow_private;
    let due = sqlx::query(
        "SELECT o.id, o.idempotency_key, o.event, o.payload, o.attempts, c.webhook_url, c.webhook_secret \
         FROM webhook_outbox o JOIN carriers c ON c.id = o.carrier_id \
         WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $1 ORDER BY o.next_attempt_at LIMIT 20",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    for row in due {
        let id: String = row.try_get("id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let url: Option<String> = row.try_get("webhook_url")?;
        let Some(url) = url else {
            mark_failed(
                state,
                &id,
                attempts,
                "the carrier has no webhook URL",
                i64::MAX,
            )
            .await?;
            continue;
        };
        // Checked again at every send: the URL may predate the rule, or the
        // settings may have changed since it was registered.
        if let Err(reason) = crate::webhook_target::check_url(&url, allow_private) {
            mark_failed(state, &id, attempts, &reason, i64::MAX).await?;
            continue;
        }
        let body: String = row.try_get("payload")?;
        let secret: String = row.try_get("webhook_secret")?;
        let key: String = row.try_get("idempotency_key")?;
        let event: String = row.try_get("event")?;
        let result = http
            .post(&url)
            .header("content-type", "application/json")
            .header("doorstep-event", &event)
            .header("idempotency-key", &key)
            .header("doorstep-signature", signature(&secret, now, &body))
            .body(body)
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => {
                sqlx::query("UPDATE webhook_outbox SET delivered_at = $1, attempts = attempts + 1 WHERE id = $2")
                    .bind(now)
                    .bind(&id)
                    .execute(&state.db.pool)
                    .await?;
                tracing::info!(event, key, "webhook delivered");
            }
            Ok(response) => {
                let error = format!("HTTP {}", response.status());
                let next = if attempts + 1 >= MAX_ATTEMPTS {
                    i64::MAX
                } else {
                    now + backoff(attempts)
                };
                mark_failed(state, &id, attempts, &error, next).await?;
            }
            Err(e) => {
                let next = if attempts + 1 >= MAX_ATTEMPTS {
                    i64::MAX
                } else {
                    now + backoff(attempts)
                };
                mark_failed(state, &id, attempts, &e.without_url().to_string(), next).await?;
            }
        }
    }
    Ok(())
}

async fn mark_failed(
    state: &crate::AppState,
    id: &str,
    attempts: i64,
    error: &str,
    next: i64,
) -> Result<(), sqlx::Error> {
    tracing::warn!(
        attempt = attempts + 1,
        error,
        "webhook not delivered; will retry"
    );
    sqlx::query("UPDATE webhook_outbox SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4")
        .bind(attempts + 1)
        .bind(next)
        .bind(error)
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}
