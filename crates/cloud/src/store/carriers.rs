//! Carriers, their shipment-signing keys and the webhook notices queued for
//! them: every statement on the carriers, carrier_keys and webhook_outbox tables.

use sqlx::{AnyConnection, Row};

/// A carrier being registered.
pub(crate) struct NewCarrier<'a> {
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) api_key_hash: &'a str,
    pub(crate) webhook_url: Option<&'a str>,
    pub(crate) webhook_secret: &'a str,
    pub(crate) at: i64,
}

/// Stores a new carrier; `false` when one of that name exists.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    carrier: &NewCarrier<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO carriers (id, name, api_key_hash, webhook_url, webhook_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(carrier.id)
    .bind(carrier.name)
    .bind(carrier.api_key_hash)
    .bind(carrier.webhook_url)
    .bind(carrier.webhook_secret)
    .bind(carrier.at)
    .execute(conn)
    .await;
    super::unless_taken(inserted)
}

/// The id of the carrier named `name`.
pub(crate) async fn id_by_name(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM carriers WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
}

/// The carrier (id, name) whose API key hashes to `api_key_hash`.
pub(crate) async fn by_api_key(
    conn: &mut AnyConnection,
    api_key_hash: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT id, name FROM carriers WHERE api_key_hash = $1")
        .bind(api_key_hash)
        .fetch_optional(conn)
        .await?;
    row.map(|row| Ok((row.try_get("id")?, row.try_get("name")?)))
        .transpose()
}

/// Every carrier (id, name), by name.
pub(crate) async fn all(conn: &mut AnyConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, name FROM carriers ORDER BY name")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("name")?)))
        .collect()
}

/// Registers `public_key` as one of the carrier's keys (again: harmless).
pub(crate) async fn add_key(
    conn: &mut AnyConnection,
    carrier_id: &str,
    public_key: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO carrier_keys (carrier_id, public_key, added_at) VALUES ($1, $2, $3) \
         ON CONFLICT (carrier_id, public_key) DO NOTHING",
    )
    .bind(carrier_id)
    .bind(public_key)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The carrier's keys (base64url), oldest first.
pub(crate) async fn keys(
    conn: &mut AnyConnection,
    carrier_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT public_key FROM carrier_keys WHERE carrier_id = $1 ORDER BY added_at, public_key",
    )
    .bind(carrier_id)
    .fetch_all(conn)
    .await
}

/// Points the carrier named `name` at `webhook_url`; answers its webhook secret,
/// `None` when there is no such carrier.
pub(crate) async fn set_webhook(
    conn: &mut AnyConnection,
    name: &str,
    webhook_url: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE carriers SET webhook_url = $1 WHERE name = $2 RETURNING webhook_secret",
    )
    .bind(webhook_url)
    .bind(name)
    .fetch_optional(conn)
    .await
}

/// A webhook notice to queue.
pub(crate) struct Notice<'a> {
    pub(crate) carrier_id: &'a str,
    pub(crate) idempotency_key: &'a str,
    pub(crate) event: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) at: i64,
}

/// Queues `notice` unless one with its idempotency key is queued already.
pub(crate) async fn enqueue_once(
    conn: &mut AnyConnection,
    notice: &Notice<'_>,
) -> Result<(), sqlx::Error> {
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM webhook_outbox WHERE idempotency_key = $1")
            .bind(notice.idempotency_key)
            .fetch_optional(&mut *conn)
            .await?;
    if exists.is_some() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO webhook_outbox (id, carrier_id, idempotency_key, event, payload, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(notice.carrier_id)
    .bind(notice.idempotency_key)
    .bind(notice.event)
    .bind(notice.payload)
    .bind(notice.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A queued notice due for sending, with where it goes.
#[derive(sqlx::FromRow)]
pub(crate) struct Due {
    pub(crate) id: String,
    pub(crate) idempotency_key: String,
    pub(crate) event: String,
    pub(crate) payload: String,
    pub(crate) attempts: i64,
    pub(crate) webhook_url: Option<String>,
    pub(crate) webhook_secret: String,
}

/// Notices undelivered and due at `now`, oldest due first, at most `limit`.
pub(crate) async fn due(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<Due>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, o.idempotency_key, o.event, o.payload, o.attempts, c.webhook_url, c.webhook_secret \
         FROM webhook_outbox o JOIN carriers c ON c.id = o.carrier_id \
         WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $1 ORDER BY o.next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Notice `id` was delivered at `at`.
pub(crate) async fn delivered(
    conn: &mut AnyConnection,
    id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_outbox SET delivered_at = $1, attempts = attempts + 1 WHERE id = $2",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Notice `id` failed for the `attempts`-th time; next try at `next`.
pub(crate) async fn failed(
    conn: &mut AnyConnection,
    id: &str,
    attempts: i64,
    error: &str,
    next: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_outbox SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4",
    )
    .bind(attempts)
    .bind(next)
    .bind(error)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
