//! Time-driven changes: "approaching" when the ETA comes within the household's
//! lead time, and "expired" when the window has passed without a delivery.

use std::time::Duration;

use crate::AppState;
use crate::audit::Actor;
use crate::delivery_state::Action;
use crate::lock_reports::set_door;
use crate::store::deliveries::{self, Due};
use crate::transitions::{RELOCK_CONFIRM_MS, StepFacts, system_transition};
use doorstep_api::{CameraFeed, DoorState, EventData};

/// How often the timers look; "approaching" is thus at most this late.
pub const TICK: Duration = Duration::from_millis(250);

/// Runs until the server stops (under [`crate::supervise`], which restarts it after a panic).
pub async fn run(state: AppState) {
    let mut stopping = state.stopping.clone();
    let mut pass = 0u32;
    loop {
        if let Err(e) = tick(&state).await {
            tracing::warn!(error = %e, "delivery timers failed a pass");
        }
        // Every lock is looked at once a second, not every tick: an alarm after a
        // minute of silence need not be exact to the tick.
        if pass.is_multiple_of(CONNECTIVITY_EVERY)
            && let Err(e) = watch_connectivity(&state, state.now().0).await
        {
            tracing::warn!(error = %e, "the lock connectivity pass failed");
        }
        pass = pass.wrapping_add(1);
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = stopping.changed() => return,
        }
    }
}

async fn tick(state: &AppState) -> anyhow::Result<()> {
    let now = state.now().0;
    let mut conn = state.db.pool.acquire().await?;
    let approaching = deliveries::approaching(&mut conn, now).await?;
    drop(conn);
    for (
        Due {
            id,
            household_id: household,
        },
        eta,
    ) in approaching
    {
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
    let mut conn = state.db.pool.acquire().await?;
    let lapsed =
        deliveries::unused_grants(&mut conn, now.saturating_sub(GRANT_LAPSES_AFTER_MS)).await?;
    drop(conn);
    for Due {
        id,
        household_id: household,
    } in lapsed
    {
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
    let mut conn = state.db.pool.acquire().await?;
    let expired = deliveries::window_over(&mut conn, now).await?;
    drop(conn);
    for Due {
        id,
        household_id: household,
    } in expired
    {
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

/// Ticks between two looks at every lock's connectivity.
const CONNECTIVITY_EVERY: u32 = 4;

/// Tells the household once when a lock has been silent longer than
/// `lock_offline_alarm_secs` (`lock.offline`), or is alive while its camera has
/// not said it records for as long (`camera.offline`), and once when either is
/// back. A lock that is offline says nothing of its camera: one alarm for one cause.
async fn watch_connectivity(state: &AppState, now: i64) -> anyhow::Result<()> {
    use crate::store::locks::{self, QuietMark};

    let quiet_after = i64::try_from(state.settings.lock_offline_alarm_secs)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000);
    let mut conn = state.db.pool.acquire().await?;
    let all = locks::connectivity(&mut conn).await?;
    drop(conn);
    for lock in all {
        let heard =
            crate::access::last_heard(lock.heartbeat_at, lock.seen_at).unwrap_or(lock.paired_at);
        let silent = |at: i64| now.saturating_sub(at) > quiet_after;
        let lock_quiet = silent(heard);
        // "Not recording" (or no heartbeat) counts once it has lasted as long.
        let camera_quiet = !lock_quiet && silent(lock.recording_at.unwrap_or(lock.paired_at));
        type Kind = fn(doorstep_api::LockConnectivity) -> EventData;
        let mut changes: Vec<(QuietMark, Option<i64>, Kind, i64)> = Vec::new();
        match (lock_quiet, lock.offline_since) {
            (true, None) => {
                changes.push((QuietMark::Lock, Some(heard), EventData::LockOffline, heard))
            }
            (false, Some(since)) => {
                changes.push((QuietMark::Lock, None, EventData::LockOnline, since))
            }
            _ => {}
        }
        match (camera_quiet, lock.camera_down_since) {
            (true, None) => {
                let since = lock.recording_at.unwrap_or(lock.paired_at).min(now);
                changes.push((
                    QuietMark::Camera,
                    Some(since),
                    EventData::CameraOffline,
                    since,
                ));
            }
            (false, Some(since)) if !lock_quiet => {
                changes.push((QuietMark::Camera, None, EventData::CameraOnline, since));
            }
            _ => {}
        }
        for (mark, set, kind, since) in changes {
            let mut tx = state.db.pool.begin().await?;
            if !locks::mark_quiet(&mut tx, &lock.id, mark, set).await? {
                continue;
            }
            let what = kind(doorstep_api::LockConnectivity {
                lock_id: lock.id.clone(),
                name: lock.name.clone(),
                since,
            });
            let name = what.name().to_owned();
            let detail = format!("lock {}", lock.id);
            let line = crate::audit::AuditLine {
                object_id: Some(&lock.id),
                detail: &detail,
            };
            let event = crate::audit::happened(
                &mut tx,
                &lock.household_id,
                &Actor::System,
                what,
                None,
                line,
                now,
            )
            .await?;
            state.commit_and_publish(tx, [event]).await?;
            tracing::warn!(lock_id = lock.id, kind = name, "lock connectivity changed");
        }
    }
    Ok(())
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
    let mut conn = state.db.pool.acquire().await?;
    let pending = deliveries::relock_pending(&mut conn, late).await?;
    drop(conn);
    for deliveries::RelockPending {
        id,
        household_id: household,
        lock_id,
        state: entering,
        door,
    } in pending
    {
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
    let mut conn = state.db.pool.acquire().await?;
    let entries = deliveries::entry_cameras(&mut conn).await?;
    drop(conn);
    for deliveries::EntryCamera {
        id,
        household_id: household,
        lock_id,
        feed_lost_at: lost_at,
        heartbeat_at: received,
        recording,
    } in entries
    {
        let healthy = received.is_some_and(|at| now.saturating_sub(at) <= FEED_LOST_AFTER_MS)
            && recording == Some(1);
        type Feed = fn(CameraFeed) -> EventData;
        let (kind, set): (Feed, Option<i64>) = match (healthy, lost_at) {
            (false, None) => (EventData::CameraFeedLost, Some(now)),
            (true, Some(_)) => (EventData::CameraFeedRestored, None),
            _ => continue,
        };
        let mut tx = state.db.pool.begin().await?;
        if !deliveries::mark_feed(&mut tx, &id, set).await? {
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
