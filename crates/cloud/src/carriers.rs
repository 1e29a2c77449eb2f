//! Carriers: accounts with API keys, and reroute notices delivered to their
//! webhooks from an outbox — signed, retried with backoff, with an idempotency key.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth;
use crate::db::Db;
use crate::store::carriers as store;

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
    let new = store::NewCarrier {
        id: &carrier.id,
        name,
        api_key_hash: &auth::token_hash(&carrier.api_key),
        webhook_url,
        webhook_secret: &carrier.webhook_secret,
        at: now,
    };
    if !store::insert(&mut *db.pool.acquire().await?, &new).await? {
        anyhow::bail!("a carrier named {name:?} exists");
    }
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
    let mut conn = db.pool.acquire().await?;
    let id = store::id_by_name(&mut conn, name.trim())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no carrier named {:?}", name.trim()))?;
    store::add_key(&mut conn, &id, &key.to_base64(), now).await?;
    Ok(())
}

/// A carrier's registered shipment-signing keys, oldest first.
pub async fn keys(
    conn: &mut sqlx::AnyConnection,
    carrier_id: &str,
) -> Result<Vec<doorstep_proto::PublicKey>, sqlx::Error> {
    Ok(store::keys(conn, carrier_id)
        .await?
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
    let carriers = store::all(&mut conn).await?;
    let mut out = Vec::with_capacity(carriers.len());
    for (id, name) in carriers {
        let keys = keys(&mut conn, &id).await?;
        out.push(doorstep_api::CarrierKeys {
            name,
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
    let secret =
        store::set_webhook(&mut *db.pool.acquire().await?, name.trim(), webhook_url).await?;
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
    let queued = store::Notice {
        carrier_id,
        idempotency_key,
        event: notice.event(),
        payload: &serde_json::to_string(notice).unwrap_or_default(),
        at: now,
    };
    store::enqueue_once(tx, &queued).await
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
    let due = store::due(&mut *state.db.pool.acquire().await?, now, 20).await?;
    for notice in due {
        let store::Due {
            id,
            idempotency_key: key,
            event,
            payload: body,
            attempts,
            webhook_url,
            webhook_secret: secret,
        } = notice;
        let Some(url) = webhook_url else {
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
                store::delivered(&mut *state.db.pool.acquire().await?, &id, now).await?;
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
    store::failed(
        &mut *state.db.pool.acquire().await?,
        id,
        attempts + 1,
        error,
        next,
    )
    .await
}
