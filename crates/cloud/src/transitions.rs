//! Deliveries moved on by the system rather than the household: arrival, failure,
//! what the lock reports about the door, and the unconfirmed relock.

use crate::AppState;
use crate::audit::{self, Actor, AuditLine};
use crate::delivery_state::{self, Action, State as DeliveryState};
use crate::error::{ApiError, ApiResult};
use crate::race::{self, Attempt};
use crate::store::deliveries;
use doorstep_api::{DeliveryStep, EventData};

/// What a system-side step says beside the delivery and its new state.
#[derive(Debug, Clone, Default)]
pub struct StepFacts {
    /// The lock involved.
    pub lock_id: Option<String>,
    /// Why (failures, lapsed grants).
    pub reason: Option<String>,
    /// The expected arrival (approaching).
    pub eta: Option<i64>,
    /// Minutes until then (approaching).
    pub minutes: Option<i64>,
}

impl StepFacts {
    /// The lock `lock_id` was involved, for `reason`.
    pub fn lock(lock_id: &str, reason: Option<&str>) -> Self {
        Self {
            lock_id: Some(lock_id.to_owned()),
            reason: reason.map(str::to_owned),
            ..Self::default()
        }
    }

    /// Only a reason.
    pub fn reason(reason: &str) -> Self {
        Self {
            reason: Some(reason.to_owned()),
            ..Self::default()
        }
    }
}

/// Moves a delivery by a system-side action (arrival, failure, door reports);
/// a no-op when it is already there, an error when not allowed.
pub async fn system_transition(
    state: &AppState,
    household_id: &str,
    id: &str,
    action: Action,
    kind: fn(DeliveryStep) -> EventData,
    facts: StepFacts,
    actor: &Actor<'_>,
) -> ApiResult<DeliveryState> {
    let facts = &facts;
    race::until_uncontended(move || async move {
        let now = state.now().0;
        let mut tx = state.db.pool.begin().await?;
        let current = deliveries::progress(&mut tx, household_id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("delivery"))?;
        let from = current.state;
        let step =
            delivery_state::apply(from, action).map_err(|e| ApiError::conflict(e.to_string()))?;
        if !step.changed {
            return Ok(Attempt::Done(step.to));
        }
        if !deliveries::move_if_unchanged(&mut tx, id, current.revision, step.to, None, now).await?
        {
            return Ok(Attempt::Raced);
        }
        let what = kind(DeliveryStep {
            delivery_id: id.to_owned(),
            state: step.to,
            lock_id: facts.lock_id.clone(),
            reason: facts.reason.clone(),
            eta: facts.eta,
            minutes: facts.minutes,
        });
        let detail = format!("{} → {}", from.as_str(), step.to.as_str());
        let line = AuditLine {
            object_id: Some(id),
            detail: &detail,
        };
        let event = audit::happened(&mut tx, household_id, actor, what, None, line, now).await?;
        state.commit_and_publish(tx, [event]).await?;
        Ok(Attempt::Done(step.to))
    })
    .await
}

pub(crate) async fn arrive(
    state: &AppState,
    household_id: &str,
    id: &str,
) -> ApiResult<DeliveryState> {
    system_transition(
        state,
        household_id,
        id,
        Action::Arrive,
        EventData::DeliveryAtDoor,
        StepFacts::default(),
        &Actor::System,
    )
    .await
}

pub(crate) async fn fail(
    state: &AppState,
    household_id: &str,
    id: &str,
    reason: &str,
) -> ApiResult<DeliveryState> {
    system_transition(
        state,
        household_id,
        id,
        Action::Fail,
        EventData::DeliveryFailed,
        StepFacts::reason(reason),
        &Actor::System,
    )
    .await
}

/// How long the lock has to report the bolt thrown after the door closed or a
/// Block reached it (the motor takes 0.3 s); after that the household is told
/// the door may NOT be locked.
pub const RELOCK_CONFIRM_MS: i64 = 5_000;
