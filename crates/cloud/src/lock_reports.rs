//! The lock's journal (`POST /v1/lock/reports`): stored once per line, gaps and
//! conflicts raised, alarms told to the household, and the delivery or guest visit
//! each line is about moved on.

use axum::extract::State;

use crate::AppState;
use crate::access::LockAuth;
use crate::audit::{self, Actor, AuditLine};
use crate::delivery_state::{Action, State as DeliveryState};
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::store::{deliveries, locks};
use crate::transitions::{StepFacts, system_transition};
use doorstep_api::{
    BoltPosition, DeliveryStep, DoorState, EventData, LockReport, ReportDetail, ReportKind,
};

/// A guest's door opening, closing and relocking moves the guest's current visit
/// along and is logged like a delivery's. A visit ends only when the lock reports
/// its bolt thrown again; a jam ends it as "door not locked" (the `lock.jammed`
/// alarm is raised beside it).
async fn guest_visit_report(
    state: &AppState,
    lock: &LockAuth,
    guest_id: &str,
    kind: ReportKind,
    now: i64,
) -> ApiResult<()> {
    type Step = fn(doorstep_api::GuestVisitStep) -> doorstep_api::EventData;
    let (to, event_kind, from, detail): (&str, Step, &[&str], &str) = match kind {
        ReportKind::DoorOpened => (
            "door_open",
            doorstep_api::EventData::GuestDoorOpen,
            &["granted"],
            "door opened",
        ),
        ReportKind::DoorClosed => (
            "door_closed",
            doorstep_api::EventData::GuestDoorClosed,
            &["door_open"],
            "door closed, waiting for the lock to relock",
        ),
        ReportKind::Relocked => (
            "ended",
            doorstep_api::EventData::GuestVisitEnded,
            &["door_open", "door_closed"],
            "door locked — confirmed by the lock",
        ),
        ReportKind::Jammed => (
            "door_not_locked",
            doorstep_api::EventData::GuestDoorNotLocked,
            &["granted", "door_open", "door_closed"],
            "Door NOT locked: the lock's motor is jammed",
        ),
        _ => return Ok(()),
    };
    let mut tx = state.db.pool.begin().await?;
    let visit =
        crate::store::guests::visit_in(&mut tx, &lock.household_id, guest_id, &lock.lock_id, from)
            .await?;
    let Some(visit) = visit else { return Ok(()) };
    let ended_at = matches!(to, "ended" | "door_not_locked").then_some(now);
    crate::store::guests::move_visit(&mut tx, &visit, to, ended_at).await?;
    let what = event_kind(doorstep_api::GuestVisitStep {
        guest_id: guest_id.to_owned(),
        visit_id: visit,
        lock_id: lock.lock_id.clone(),
        detail: detail.to_owned(),
    });
    let line = AuditLine {
        object_id: Some(guest_id),
        detail,
    };
    let actor = Actor::Lock(&lock.lock_id);
    let event = audit::happened(&mut tx, &lock.household_id, &actor, what, None, line, now).await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(())
}

/// What a lock report says about the door during a delivery's entry.
fn door_after(kind: ReportKind) -> Option<DoorState> {
    Some(match kind {
        ReportKind::GrantUsed => DoorState::Unlocking,
        ReportKind::Unlocked => DoorState::Unlocked,
        ReportKind::DoorOpened => DoorState::Open,
        ReportKind::DoorClosed => DoorState::Closed,
        ReportKind::Relocked => DoorState::Locked,
        ReportKind::Jammed => DoorState::Jammed,
        _ => return None,
    })
}

/// Records what the lock said about the door for `delivery_id` and moves the
/// delivery on: open → `door_open`; bolt thrown after the door was opened →
/// `completed` (never on "door closed" alone); a jam → `failed`; bolt thrown
/// without the door having opened → `failed`; a refused grant → the courier
/// may ask again.
async fn door_report(
    state: &AppState,
    lock: &LockAuth,
    delivery_id: &str,
    report: &LockReport,
) -> ApiResult<()> {
    let now = state.now().0;
    if let Some(door) = door_after(report.kind) {
        set_door(
            state,
            &lock.household_id,
            &lock.lock_id,
            delivery_id,
            door,
            now,
        )
        .await?;
    }
    let current = deliveries::state(
        &mut *state.db.pool.acquire().await?,
        &lock.household_id,
        delivery_id,
    )
    .await?;
    let Some(current) = current.as_deref().and_then(DeliveryState::parse) else {
        return Ok(());
    };
    let by_lock = |reason: Option<&str>| StepFacts::lock(&lock.lock_id, reason);
    let actor = Actor::Lock(&lock.lock_id);
    type Kind = fn(DeliveryStep) -> EventData;
    let step: Option<(Action, Kind, StepFacts)> = match (report.kind, current) {
        (ReportKind::DoorOpened, _) => {
            Some((Action::OpenDoor, EventData::DeliveryDoorOpen, by_lock(None)))
        }
        (ReportKind::Relocked, DeliveryState::DoorOpen) => Some((
            Action::Complete,
            EventData::DeliveryCompleted,
            by_lock(None),
        )),
        (ReportKind::Relocked, DeliveryState::Granted) => Some((
            Action::Fail,
            EventData::DeliveryFailed,
            by_lock(Some("not opened")),
        )),
        (ReportKind::Jammed, DeliveryState::Granted | DeliveryState::DoorOpen) => Some((
            Action::Fail,
            EventData::DeliveryFailed,
            by_lock(Some("jammed")),
        )),
        (ReportKind::EntryRefused, DeliveryState::Granted) => Some((
            Action::LapseGrant,
            EventData::DeliveryGrantLapsed,
            by_lock(report.detail.reason.as_deref()),
        )),
        _ => None,
    };
    if let Some((action, kind, data)) = step {
        system_transition(
            state,
            &lock.household_id,
            delivery_id,
            action,
            kind,
            data,
            &actor,
        )
        .await?;
    }
    Ok(())
}

/// Stores the door's state for a delivery and tells every device
/// (`delivery.door`); nothing is written when it did not change.
pub(crate) async fn set_door(
    state: &AppState,
    household_id: &str,
    lock_id: &str,
    delivery_id: &str,
    door: DoorState,
    now: i64,
) -> ApiResult<bool> {
    let mut tx = state.db.pool.begin().await?;
    if !deliveries::set_door_if_changed(&mut tx, household_id, delivery_id, door, now).await? {
        return Ok(false);
    }
    let event = events::append(
        &mut tx,
        household_id,
        doorstep_api::EventData::DeliveryDoor(doorstep_api::DeliveryDoor {
            delivery_id: delivery_id.to_owned(),
            lock_id: lock_id.to_owned(),
            door,
        }),
        None,
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(true)
}

/// A lock restarted: its bolt went home (fail-secure), so an entry it was in
/// the middle of is over. The household hears of every restart.
async fn rebooted(state: &AppState, lock: &LockAuth, report: &LockReport) -> ApiResult<()> {
    let now = state.now().0;
    events::announce(
        state,
        &lock.household_id,
        doorstep_api::EventData::LockRebooted(doorstep_api::LockReported {
            lock_id: lock.lock_id.clone(),
            delivery_id: report.delivery_id.clone(),
            at: report.at,
            detail: report.detail.clone(),
        }),
    )
    .await?;
    let interrupted = deliveries::entries_under_way(
        &mut *state.db.pool.acquire().await?,
        &lock.household_id,
        &lock.lock_id,
    )
    .await?;
    let bolt_home = report.detail.bolt == Some(BoltPosition::Locked);
    for id in interrupted {
        if bolt_home {
            set_door(
                state,
                &lock.household_id,
                &lock.lock_id,
                &id,
                DoorState::Locked,
                now,
            )
            .await?;
        }
        system_transition(
            state,
            &lock.household_id,
            &id,
            Action::Fail,
            EventData::DeliveryFailed,
            StepFacts::lock(&lock.lock_id, Some("lock restarted")),
            &Actor::Lock(&lock.lock_id),
        )
        .await?;
    }
    Ok(())
}

/// Why an entry the lock reports (`grant_used`) is one the household was not
/// told of, if it is: a grant this cloud never issued, a delivery unknown to the
/// household, or one it blocked. Such an entry raises an alarm on every device.
async fn surprise_entry(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    lock: &LockAuth,
    report: &LockReport,
) -> Result<Option<&'static str>, sqlx::Error> {
    let grant_id = report.detail.grant.as_deref().unwrap_or_default();
    if !locks::grant_issued(tx, &lock.household_id, &lock.lock_id, grant_id).await? {
        return Ok(Some("a grant this cloud never issued"));
    }
    if let Some(delivery_id) = &report.delivery_id {
        let state = deliveries::state(tx, &lock.household_id, delivery_id).await?;
        match state.as_deref() {
            None => return Ok(Some("a delivery the household was never told of")),
            Some("blocked") => return Ok(Some("a delivery the household blocked")),
            Some(_) => {}
        }
    }
    Ok(None)
}

/// A stored report's details; lines stored before details were typed may hold
/// `null` or fields no longer read, which count as none.
fn stored_detail(payload: &str) -> ReportDetail {
    serde_json::from_str(payload).unwrap_or_default()
}

/// Ingests a lock report; the same `seq` twice is stored once. A hole in the
/// numbering raises a `lock.event_gap` event.
#[utoipa::path(post, path = "/v1/lock/reports", request_body = LockReport, responses((status = 204)), tag = "locks")]
pub async fn report(
    State(state): State<AppState>,
    lock: LockAuth,
    ApiJson(report): ApiJson<LockReport>,
) -> ApiResult<axum::http::StatusCode> {
    if report.seq < 1 {
        return Err(ApiError::invalid("field `seq`: starts at 1"));
    }
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    let exists = locks::journal_line(&mut tx, &lock.lock_id, report.seq).await?;
    if let Some(stored) = exists {
        // The same line again (a retried upload) is stored once; a different line
        // under a seq already used means the lock's journal was cut back or
        // replaced: the household is told, and the line is refused.
        let same = stored.kind == report.kind.as_str()
            && stored.at == report.at
            && stored.delivery_id == report.delivery_id
            && stored_detail(&stored.payload) == report.detail;
        if same {
            return Ok(axum::http::StatusCode::NO_CONTENT);
        }
        let event = events::append(
            &mut tx,
            &lock.household_id,
            doorstep_api::EventData::LockJournalConflict(doorstep_api::JournalConflict {
                lock_id: lock.lock_id.clone(),
                seq: report.seq,
                kind: report.kind,
            }),
            None,
            now,
        )
        .await?;
        state.commit_and_publish(tx, [event]).await?;
        tracing::warn!(lock_id = %lock.lock_id, seq = report.seq, "a lock reused a journal seq for a different line");
        return Err(ApiError::conflict(format!(
            "field `seq`: {} was already reported with a different line",
            report.seq
        )));
    }
    let highest = locks::journal_highest(&mut tx, &lock.lock_id).await?;
    let line = locks::JournalLine {
        kind: report.kind.as_str().to_owned(),
        delivery_id: report.delivery_id.clone(),
        payload: serde_json::to_string(&report.detail).unwrap_or_default(),
        at: report.at,
    };
    locks::append_journal(&mut tx, &lock.lock_id, report.seq, &line, now).await?;
    // The newest line is the lock's state now; an older one uploaded late is history.
    if highest.is_none_or(|highest| report.seq > highest) {
        let (bolt, door) = position_after(&report);
        if bolt.is_some() || door.is_some() {
            locks::set_position(
                &mut tx,
                &lock.lock_id,
                bolt.map(doorstep_api::BoltPosition::as_str),
                door.map(doorstep_api::DoorPosition::as_str),
                report.at,
            )
            .await?;
        }
    }
    let mut published = Vec::new();
    let expected = highest.unwrap_or(0) + 1;
    if report.seq > expected {
        published.push(
            events::append(
                &mut tx,
                &lock.household_id,
                doorstep_api::EventData::LockEventGap(doorstep_api::EventGap {
                    lock_id: lock.lock_id.clone(),
                    missing_from: expected,
                    missing_to: report.seq - 1,
                }),
                None,
                now,
            )
            .await?,
        );
    }
    if report.kind == ReportKind::GrantUsed
        && let Some(reason) = surprise_entry(&mut tx, &lock, &report).await?
    {
        tracing::warn!(lock_id = %lock.lock_id, reason, "the lock reports an entry the household was not told of");
        published.push(
            events::append(
                &mut tx,
                &lock.household_id,
                doorstep_api::EventData::LockUnexpectedEntry(doorstep_api::UnexpectedEntry {
                    lock_id: lock.lock_id.clone(),
                    delivery_id: report.delivery_id.clone(),
                    guest_id: report.guest_id.clone(),
                    at: report.at,
                    reason: reason.to_string(),
                    detail: report.detail.clone(),
                }),
                None,
                now,
            )
            .await?,
        );
    }
    type Alarm = fn(doorstep_api::LockReported) -> EventData;
    let alarm: Option<Alarm> = match report.kind {
        ReportKind::ClockRefused => Some(EventData::LockClockUntrusted),
        ReportKind::MessageRefused => Some(EventData::LockMessageRefused),
        ReportKind::JournalRewound => Some(EventData::LockJournalRewound),
        ReportKind::Jammed => Some(EventData::LockJammed),
        ReportKind::Forced => Some(EventData::LockForced),
        ReportKind::Ajar => Some(EventData::LockAjar),
        ReportKind::EntryRefused => Some(EventData::LockEntryRefused),
        _ => None,
    };
    if let Some(alarm) = alarm {
        let what = alarm(doorstep_api::LockReported {
            lock_id: lock.lock_id.clone(),
            delivery_id: report.delivery_id.clone(),
            at: report.at,
            detail: report.detail.clone(),
        });
        published.push(events::append(&mut tx, &lock.household_id, what, None, now).await?);
    }
    state.commit_and_publish(tx, published).await?;

    if let Some(guest_id) = &report.guest_id {
        guest_visit_report(&state, &lock, guest_id, report.kind, now).await?;
    }
    if let Some(delivery_id) = &report.delivery_id {
        // A report for another household's delivery is ignored, not obeyed.
        if let Err(e) = door_report(&state, &lock, delivery_id, &report).await {
            tracing::warn!(lock_id = %lock.lock_id, delivery_id, error = %e, "lock report did not apply");
        }
    }
    if report.kind == ReportKind::Booted {
        rebooted(&state, &lock, &report).await?;
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// What a journal line says of the bolt and the door.
fn position_after(
    report: &doorstep_api::LockReport,
) -> (
    Option<doorstep_api::BoltPosition>,
    Option<doorstep_api::DoorPosition>,
) {
    use doorstep_api::{BoltPosition as B, DoorPosition as D};
    match report.kind {
        ReportKind::Booted => (report.detail.bolt, report.detail.door),
        ReportKind::GrantUsed => (Some(B::Unlocking), None),
        ReportKind::Unlocked => (Some(B::Unlocked), None),
        ReportKind::Relocked => (Some(B::Locked), None),
        ReportKind::DoorOpened => (None, Some(D::Open)),
        ReportKind::DoorClosed => (None, Some(D::Closed)),
        ReportKind::Forced => (Some(B::Locked), Some(D::Open)),
        ReportKind::Jammed => (Some(B::Jammed), None),
        _ => (None, None),
    }
}
