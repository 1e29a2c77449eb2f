//! The recordings' index: every statement on the recordings table. (The frames
//! themselves are files, `video::FolderStore`.)

use doorstep_api::Recording;
use sqlx::{AnyConnection, Row};

/// What a recording is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Visit {
    /// A delivery's visit.
    Delivery(String),
    /// A guest's visit.
    Guest(String),
}

/// Starts recording `id` of `lock_id`'s camera with its first frame at `at`, filed
/// under `visit`.
pub(crate) async fn start(
    conn: &mut AnyConnection,
    id: &str,
    household_id: &str,
    lock_id: &str,
    visit: Option<&Visit>,
    at: i64,
) -> Result<(), sqlx::Error> {
    let (delivery_id, guest_visit_id) = match visit {
        Some(Visit::Delivery(id)) => (Some(id.as_str()), None),
        Some(Visit::Guest(id)) => (None, Some(id.as_str())),
        None => (None, None),
    };
    sqlx::query(
        "INSERT INTO recordings (id, household_id, lock_id, delivery_id, guest_visit_id, started_at, last_frame_at, frames) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, 0)",
    )
    .bind(id)
    .bind(household_id)
    .bind(lock_id)
    .bind(delivery_id)
    .bind(guest_visit_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts a frame captured at `captured_at` into recording `id`; `last` is its
/// newest frame's time after it.
pub(crate) async fn add_frame(
    conn: &mut AnyConnection,
    id: &str,
    captured_at: i64,
    last: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE recordings SET frames = frames + 1, last_frame_at = $1, \
         started_at = CASE WHEN started_at > $2 THEN $2 ELSE started_at END WHERE id = $3",
    )
    .bind(last)
    .bind(captured_at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The household's recordings, newest first, of one delivery if `delivery_id`.
pub(crate) async fn list(
    conn: &mut AnyConnection,
    household_id: &str,
    delivery_id: Option<&str>,
) -> Result<Vec<Recording>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT r.id, r.lock_id, r.delivery_id, r.started_at, r.last_frame_at, r.frames, \
         l.name AS lock_name, c.name AS carrier, d.tracking_id, g.name AS guest \
         FROM recordings r JOIN locks l ON l.id = r.lock_id \
         LEFT JOIN deliveries d ON d.id = r.delivery_id LEFT JOIN carriers c ON c.id = d.carrier_id \
         LEFT JOIN guest_visits gv ON gv.id = r.guest_visit_id \
         LEFT JOIN guests g ON g.household_id = gv.household_id AND g.id = gv.guest_id \
         WHERE r.household_id = $1 AND ($2 IS NULL OR r.delivery_id = $2) ORDER BY r.started_at DESC LIMIT 200",
    )
    .bind(household_id)
    .bind(delivery_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Recording {
                id: row.try_get("id")?,
                lock_id: row.try_get("lock_id")?,
                delivery_id: row.try_get("delivery_id")?,
                started_at: row.try_get("started_at")?,
                last_frame_at: row.try_get("last_frame_at")?,
                frames: row.try_get("frames")?,
                lock_name: row.try_get("lock_name")?,
                carrier: row.try_get("carrier")?,
                tracking_id: row.try_get("tracking_id")?,
                guest: row.try_get("guest")?,
            })
        })
        .collect()
}

/// When the household's recording `id` started; `None` when it has no such recording.
pub(crate) async fn started_at(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT started_at FROM recordings WHERE id = $1 AND household_id = $2")
        .bind(id)
        .bind(household_id)
        .fetch_optional(conn)
        .await
}

/// Removes the household's recording `id` from the index; false when it has none.
pub(crate) async fn delete(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM recordings WHERE id = $1 AND household_id = $2")
        .bind(id)
        .bind(household_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every listed recording's id (of any household).
pub(crate) async fn listed(
    conn: &mut AnyConnection,
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM recordings")
        .fetch_all(conn)
        .await?;
    Ok(ids.into_iter().collect())
}
