//! Time-driven changes: "approaching" when the ETA comes within the household's
//! lead time, and "expired" when the window has passed without a delivery.

use std::time::Duration;

use sqlx::Row;

use crate::AppState;
use crate::audit::Actor;
use crate::delivery_state::Action;
use crate::lock_reports::set_door;
use crate::transitions::{RELOCK_CONFIRM_MS, StepFacts, system_transition};
use doorstep_api::{CameraFeed, DoorState, EventData};

/// How often the timers look; "approaching" is thus at most this late.
pub const TICK: Duration = Duration::from_millis(250);

/// Runs until the server stops (under [`crate::supervise`], which restarts it after a panic).
pub async fn run(state: AppState) {
    let mut stopping = state.stopping.clone();
    loop {
        if let Err(e) = tick(&state).await {
            tracing::warn!(error = %e, "delivery timers failed a pass");
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = stopping.changed() => return,
        }
    }
}

async fn tick(state: &AppState) -> anyhow::Result<()> {
    let now = state.now().0;
    // `eta <= now + lead`, not `eta - lead <= now`: the sum of two bounded
    // values cannot overflow, whatever a stored eta holds.
    let approaching = sqlx::query(
        "SELECT d.id, d.household_id, d.eta FROM deliveries d JOIN households h ON h.id = d.household_id \
         WHERE d.state = 'announced' AND d.eta IS NOT NULL AND d.eta <= $1 + h.lead_time_minutes * 60000 LIMIT 200",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    for row in approaching {
        let id: String = row.try_get("id")?;
        let household: String = row.try_get("household_id")?;
        let eta: i64 = row.try_get("eta")?;
        // Saturating: a row stored before times were range-checked must not stop the timers.
        let minutes = eta.saturating_sub(now).max(0).saturating_add(59_999) / 60_000;
        let facts = StepFacts {
            eta: Some(eta),
            minutes: Some(minutes),
            ..StepFacts::default()
        };
        if let Err(e) = system_transition(
            state,
            &household,
            &id,
            Action::Approach,
            EventData::DeliveryApproaching,
            facts,
            &Actor::System,
        )
        .await
        {
            tracing::warn!(delivery_id = id, error = %e, "could not mark approaching");
        }
    }
    // A grant the lock never moved for is over once its challenge is stale:
    // the courier left, or the lock refused it; they may ask again.
    let lapsed = sqlx::query(
        "SELECT id, household_id FROM deliveries WHERE state = 'granted' AND door IS NULL AND updated_at < $1 LIMIT 200",
    )
    .bind(now.saturating_sub(GRANT_LAPSES_AFTER_MS))
    .fetch_all(&state.db.pool)
    .await?;
    for row in lapsed {
        let id: String = row.try_get("id")?;
        let household: String = row.try_get("household_id")?;
        if let Err(e) = system_transition(
            state,
            &household,
            &id,
            Action::LapseGrant,
            EventData::DeliveryGrantLapsed,
            StepFacts::reason("not used"),
            &Actor::System,
        )
        .await
        {
            tracing::warn!(delivery_id = id, error = %e, "could not lapse a grant");
        }
    }
    unconfirmed_relocks(state, now).await?;
    // The window is over and nobody is inside: at the door, or granted but the
    // lock never moved.
    let expired = sqlx::query(
        "SELECT id, household_id FROM deliveries WHERE window_end < $1 \
         AND (state IN ('announced', 'approaching', 'at_door') OR (state = 'granted' AND door IS NULL)) LIMIT 200",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    for row in expired {
        let id: String = row.try_get("id")?;
        let household: String = row.try_get("household_id")?;
        if let Err(e) = system_transition(
            state,
            &household,
            &id,
            Action::Expire,
            EventData::DeliveryExpired,
            StepFacts::default(),
            &Actor::System,
        )
        .await
        {
            tracing::warn!(delivery_id = id, error = %e, "could not expire");
        }
    }
    watch_camera_feeds(state, now).await
}

/// A grant not used within this long lapses: the lock's challenge it answers
/// is stale by then (`CHALLENGE_MAX_AGE`), so it can no longer open.
pub const GRANT_LAPSES_AFTER_MS: i64 = 90_000;

/// The lock did not report the bolt thrown in time — after the door closed, after a
/// Block, or after it accepted a grant and never finished — so the household is
/// told the door may NOT be locked (`lock.relock_unconfirmed`, red), and an entry
/// in progress fails.
async fn unconfirmed_relocks(state: &AppState, now: i64) -> anyhow::Result<()> {
    let late = now.saturating_sub(RELOCK_CONFIRM_MS);
    let rows = sqlx::query(
        "SELECT id, household_id, lock_id, state, door FROM deliveries \
         WHERE door_at < $1 AND lock_id IS NOT NULL AND ( \
             door = 'closed' \
          OR (door = 'unlocking' AND state = 'granted') \
          OR (door IN ('unlocking', 'unlocked', 'open') AND state = 'blocked' AND updated_at < $1)) LIMIT 200",
    )
    .bind(late)
    .fetch_all(&state.db.pool)
    .await?;
    for row in rows {
        let id: String = row.try_get("id")?;
        let household: String = row.try_get("household_id")?;
        let lock_id: String = row.try_get("lock_id")?;
        let door: String = row.try_get("door")?;
        if !set_door(
            state,
            &household,
            &lock_id,
            &id,
            DoorState::Unconfirmed,
            now,
        )
        .await?
        {
            continue;
        }
        crate::events::announce(
            state,
            &household,
            doorstep_api::EventData::LockRelockUnconfirmed(doorstep_api::RelockUnconfirmed {
                lock_id: lock_id.clone(),
                delivery_id: id.clone(),
                last_reported: door.clone(),
            }),
        )
        .await?;
        tracing::warn!(
            delivery_id = id,
            lock_id,
            "the lock did not confirm the bolt thrown"
        );
        let entering: String = row.try_get("state")?;
        if matches!(entering.as_str(), "granted" | "door_open")
            && let Err(e) = system_transition(
                state,
                &household,
                &id,
                Action::Fail,
                EventData::DeliveryFailed,
                StepFacts::lock(&lock_id, Some("relock unconfirmed")),
                &Actor::System,
            )
            .await
        {
            tracing::warn!(delivery_id = id, error = %e, "could not fail an unconfirmed entry");
        }
    }
    Ok(())
}

/// Heartbeats older than this during an entry mean the feed is lost (SPEC §4: an
/// alert on every device within a second or two).
pub const FEED_LOST_AFTER_MS: i64 = 1500;

/// Raises `camera.feed_lost` once when an entry's camera goes silent (or stops
/// recording), and `camera.feed_restored` when it is back.
async fn watch_camera_feeds(state: &AppState, now: i64) -> anyhow::Result<()> {
    let entries = sqlx::query(
        "SELECT d.id, d.household_id, d.lock_id, d.feed_lost_at, s.received_at, s.recording          FROM deliveries d LEFT JOIN lock_status s ON s.lock_id = d.lock_id          WHERE d.state IN ('granted', 'door_open') AND d.lock_id IS NOT NULL",
    )
    .fetch_all(&state.db.pool)
    .await?;
    for row in entries {
        let id: String = row.try_get("id")?;
        let household: String = row.try_get("household_id")?;
        let lock_id: String = row.try_get("lock_id")?;
        let lost_at: Option<i64> = row.try_get("feed_lost_at")?;
        let received: Option<i64> = row.try_get("received_at")?;
        let recording: Option<i64> = row.try_get("recording")?;
        let healthy = received.is_some_and(|at| now.saturating_sub(at) <= FEED_LOST_AFTER_MS)
            && recording == Some(1);
        type Feed = fn(CameraFeed) -> EventData;
        let (kind, set): (Feed, Option<i64>) = match (healthy, lost_at) {
            (false, None) => (EventData::CameraFeedLost, Some(now)),
            (true, Some(_)) => (EventData::CameraFeedRestored, None),
            _ => continue,
        };
        let mut tx = state.db.pool.begin().await?;
        let changed = match set {
            Some(at) => sqlx::query("UPDATE deliveries SET feed_lost_at = $1 WHERE id = $2 AND feed_lost_at IS NULL")
                .bind(at)
                .bind(&id)
                .execute(&mut *tx)
                .await?,
            None => sqlx::query("UPDATE deliveries SET feed_lost_at = NULL WHERE id = $1 AND feed_lost_at IS NOT NULL")
                .bind(&id)
                .execute(&mut *tx)
                .await?,
        };
        if changed.rows_affected() == 0 {
            continue;
        }
        let what = kind(CameraFeed {
            delivery_id: id.clone(),
            lock_id: lock_id.clone(),
            last_heartbeat_at: received,
        });
        let name = what.name().to_owned();
        let detail = format!("lock {lock_id}");
        let line = crate::audit::AuditLine {
            object_id: Some(&id),
            detail: &detail,
        };
        let event =
            crate::audit::happened(&mut tx, &household, &Actor::System, what, None, line, now)
                .await?;
        state.commit_and_publish(tx, [event]).await?;
        tracing::warn!(
            delivery_id = id,
            kind = name,
            "camera feed changed during an entry"
        );
    }
    Ok(())
}
