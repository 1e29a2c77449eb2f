//! The per-household event log: appended inside the same transaction as the
//! change it reports (so an acknowledged change always has its event), published
//! to live subscribers after commit, and replayable from any sequence number.

pub use doorstep_api::{Event, EventData};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::{Any, Row, Transaction};
use tokio::sync::broadcast;

/// Appends an event in `tx`; publish it with [`EventHub::publish`] after commit.
pub async fn append(
    tx: &mut Transaction<'_, Any>,
    household_id: &str,
    what: EventData,
    device_id: Option<&str>,
    at: i64,
) -> Result<(String, Event), sqlx::Error> {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE households SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
    )
    .bind(household_id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO events (household_id, seq, kind, payload, device_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(household_id)
    .bind(seq)
    .bind(what.name())
    .bind(what.payload().to_string())
    .bind(device_id)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok((
        household_id.to_owned(),
        Event {
            seq,
            at,
            device_id: device_id.map(str::to_owned),
            what,
        },
    ))
}

/// Records an event that reports no other change (an alarm): appended in a
/// transaction of its own, committed, then published.
pub async fn announce(
    state: &crate::AppState,
    household_id: &str,
    what: EventData,
) -> Result<(), sqlx::Error> {
    let mut tx = state.db.pool.begin().await?;
    let event = append(&mut tx, household_id, what, None, state.now().0).await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(())
}

/// The number of `household_id`'s newest event (0 before the first).
pub async fn last_seq(pool: &sqlx::AnyPool, household_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT event_seq FROM households WHERE id = $1")
        .bind(household_id)
        .fetch_one(pool)
        .await
}

/// Events of `household_id` after `after`, oldest first, at most `limit`.
pub async fn read_after(
    pool: &sqlx::AnyPool,
    household_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, kind, payload, device_id, created_at FROM events WHERE household_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(household_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            let payload: String = row.try_get("payload")?;
            Ok(Event {
                seq: row.try_get("seq")?,
                at: row.try_get("created_at")?,
                device_id: row.try_get("device_id")?,
                what: EventData::from_stored(&kind, &payload),
            })
        })
        .collect()
}

/// Live fan-out of committed events to this instance's subscribers.
#[derive(Debug, Default, Clone)]
pub struct EventHub {
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<Event>>>>,
}

/// How many live events a slow subscriber may fall behind before it re-reads
/// from the database (it never loses one: see the stream handler).
const CHANNEL_CAPACITY: usize = 256;

impl EventHub {
    /// Subscribes to a household's live events.
    pub fn subscribe(&self, household_id: &str) -> broadcast::Receiver<Event> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .entry(household_id.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Publishes committed events.
    pub fn publish(&self, events: impl IntoIterator<Item = (String, Event)>) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        for (household_id, event) in events {
            // A send error means nobody listens any more.
            if let Some(sender) = channels.get(&household_id)
                && sender.send(event).is_err()
            {
                channels.remove(&household_id);
            }
        }
    }
}
