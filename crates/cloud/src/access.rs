//! The door: a paired lock's heartbeats and reports, and the courier's access
//! request. The cloud issues a grant only when the household approved, the
//! courier answered the lock's fresh challenge with the assigned key, and the
//! camera has just signed that it records. The lock checks all of it again itself.

use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use doorstep_proto::{
    Authorization, CAMERA_HEARTBEAT_MAX_AGE, CHALLENGE_MAX_AGE, CameraHeartbeat, CourierResponse,
    DeliveryApproval, EntryGrant, GrantId, GrantSubject, HouseholdId, LockChallenge, LockId,
    PolicyEntry, PublicKey, Shipment, Signed, TimeWindow,
};
use sqlx::Row;

use crate::AppState;
use crate::audit::{self, Actor, AuditLine};
use crate::auth;
use crate::delivery_state::{self, Action, State as DeliveryState};
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::locks::LOCK_TOKEN_PREFIX;
use crate::race::{self, Attempt};
pub use doorstep_api::{AccessGranted, AccessRequest, Heartbeat, LockReport};
use doorstep_api::{BoltPosition, DeliveryStep, DoorState, EventData, ReportDetail, ReportKind};

/// A paired lock, from its `dlk_` token.
#[derive(Debug, Clone)]
pub struct LockAuth {
    /// The lock.
    pub lock_id: String,
    /// Its household.
    pub household_id: String,
    /// Its device key.
    pub lock_key: PublicKey,
    /// Its camera's key.
    pub camera_key: PublicKey,
}

impl FromRequestParts<AppState> for LockAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|t| t.starts_with(LOCK_TOKEN_PREFIX))
            .ok_or_else(|| ApiError::unauthenticated("a lock token (Bearer dlk_…) is required"))?;
        let row = sqlx::query(
            "SELECT id, household_id, lock_key, camera_key FROM locks WHERE token_hash = $1",
        )
        .bind(auth::token_hash(value))
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("the lock token is not valid"))?;
        let key = |column: &str| -> Result<PublicKey, ApiError> {
            let text: String = row.try_get(column)?;
            PublicKey::from_base64(&text).map_err(ApiError::internal)
        };
        Ok(Self {
            lock_id: row.try_get("id")?,
            household_id: row.try_get("household_id")?,
            lock_key: key("lock_key")?,
            camera_key: key("camera_key")?,
        })
    }
}

/// Records the camera's newest signed heartbeat.
#[utoipa::path(post, path = "/v1/lock/heartbeats", request_body = Heartbeat, responses((status = 204)), tag = "locks")]
pub async fn heartbeat(
    State(state): State<AppState>,
    lock: LockAuth,
    ApiJson(request): ApiJson<Heartbeat>,
) -> ApiResult<axum::http::StatusCode> {
    let signed = Signed::<CameraHeartbeat>::from_base64(&request.heartbeat)
        .map_err(|e| ApiError::invalid(format!("field `heartbeat`: {e}")))?;
    let beat = signed
        .verify(&lock.camera_key)
        .ok_or_else(|| ApiError::invalid("field `heartbeat`: not signed by this lock's camera"))?;
    if beat.lock.as_str() != lock.lock_id {
        return Err(ApiError::invalid("field `heartbeat`: for another lock"));
    }
    // One skew rule: a stamp more than CLOCK_SKEW from the cloud's clock, in
    // either direction, is refused, and the household hears that the clock is off.
    if !within_skew(beat.captured_at, state.now()) {
        clock_off_alarm(
            &state,
            &lock.household_id,
            &lock.lock_id,
            "its camera's heartbeats are stamped more than 30 s from the cloud's time",
        )
        .await?;
        return Err(ApiError::invalid(
            "field `heartbeat`: its time is more than 30 s from the cloud's clock; the lock's clock is off",
        ));
    }
    // The newest to arrive counts (not the largest stamp: after the lock's
    // clock stepped back, a larger old stamp would shadow every honest beat).
    sqlx::query(
        "INSERT INTO lock_status (lock_id, heartbeat, recording, captured_at, received_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (lock_id) DO UPDATE SET heartbeat = excluded.heartbeat, recording = excluded.recording, \
         captured_at = excluded.captured_at, received_at = excluded.received_at",
    )
    .bind(&lock.lock_id)
    .bind(signed.to_base64())
    .bind(i64::from(beat.recording))
    .bind(beat.captured_at.0)
    .bind(state.now().0)
    .execute(&state.db.pool)
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The lock itself is alive while its camera is not beating (unplugged): so the
/// household and a courier are told the camera is down, not that the lock is offline.
#[utoipa::path(post, path = "/v1/lock/alive", responses((status = 204)), tag = "locks")]
pub async fn alive(
    State(state): State<AppState>,
    lock: LockAuth,
) -> ApiResult<axum::http::StatusCode> {
    sqlx::query("UPDATE locks SET seen_at = $1 WHERE id = $2")
        .bind(state.now().0)
        .bind(&lock.lock_id)
        .execute(&state.db.pool)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// When the cloud last heard from a lock: its camera's heartbeat or, while the
/// camera is down, the lock's own word (`alive`).
pub(crate) fn last_heard(heartbeat_received: Option<i64>, seen: Option<i64>) -> Option<i64> {
    heartbeat_received.max(seen)
}

/// Why the courier may not enter, with what to do.
fn refuse(message: &str) -> ApiError {
    ApiError {
        status: axum::http::StatusCode::FORBIDDEN,
        code: crate::error::Code::EntryRefused,
        message: message.to_owned(),
    }
}

/// A courier asks for entry. Proof of presence and identity is its signature
/// over the lock's fresh challenge, so no other credential is needed.
#[utoipa::path(post, path = "/v1/courier/deliveries/{id}/access", params(("id" = String, Path)), request_body = AccessRequest,
    responses((status = 200, body = AccessGranted), (status = 403, body = crate::error::ErrorBody)), tag = "couriers")]
pub async fn request_access(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AccessRequest>,
) -> ApiResult<Json<AccessGranted>> {
    state.limits.access_request(ip)?;
    let challenge_env = Signed::<LockChallenge>::from_base64(&request.challenge)
        .map_err(|e| ApiError::invalid(format!("field `challenge`: {e}")))?;
    let response_env = Signed::<CourierResponse>::from_base64(&request.response)
        .map_err(|e| ApiError::invalid(format!("field `response`: {e}")))?;
    let now = state.now();

    let row = sqlx::query(
        "SELECT d.household_id, d.courier_key, d.approval, d.lock_id, d.state, d.revision, d.shipment, c.name AS carrier, \
                l.lock_key, l.camera_key \
         FROM deliveries d JOIN carriers c ON c.id = d.carrier_id LEFT JOIN locks l ON l.id = d.lock_id WHERE d.id = $1",
    )
    .bind(&id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| ApiError::not_found("delivery"))?;
    let courier_key = PublicKey::from_base64(&row.try_get::<String, _>("courier_key")?)
        .map_err(ApiError::internal)?;
    // A courier asking for a delivery not assigned to it learns nothing more.
    let response = response_env
        .verify(&courier_key)
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    let household_id: String = row.try_get("household_id")?;
    let carrier: String = row.try_get("carrier")?;
    let approved_lock: Option<String> = row.try_get("lock_id")?;
    let approval_text: Option<String> = row.try_get("approval")?;
    let shipment_text: Option<String> = row.try_get("shipment")?;

    // The household's authorisation: its approval of this delivery, or else its
    // standing policy, if it admits this carrier at the lock the courier stands at.
    let (lock_id, authorization, window) = match (approved_lock, approval_text) {
        (Some(lock_id), Some(text)) => {
            let approval =
                Signed::<DeliveryApproval>::from_base64(&text).map_err(ApiError::internal)?;
            let approved = approval
                .peek()
                .ok_or_else(|| ApiError::internal("stored approval unreadable"))?;
            if now > approved.window.not_after {
                return Err(refuse("the approved delivery window is over"));
            }
            let window = TimeWindow::new(
                approved.window.not_before.max(now.minus(GRANT_LEEWAY)),
                approved.window.not_after,
            );
            (lock_id, Authorization::Approval(approval), window)
        }
        _ => match policy_admits(
            &state,
            &household_id,
            &carrier,
            &courier_key,
            shipment_text.as_deref(),
            response.lock.as_str(),
            now,
        )
        .await?
        {
            Some((entry, window)) => (
                response.lock.to_string(),
                Authorization::Policy(entry),
                window,
            ),
            None => {
                arrive(&state, &household_id, &id).await?;
                return Err(refuse(
                    "the household has not approved entry; wait for approval or leave the parcel at the door",
                ));
            }
        },
    };
    let lock =
        sqlx::query("SELECT lock_key, camera_key FROM locks WHERE id = $1 AND household_id = $2")
            .bind(&lock_id)
            .bind(&household_id)
            .fetch_optional(&state.db.pool)
            .await?
            .ok_or_else(|| {
                ApiError::invalid("field `response`: names a lock of another household")
            })?;
    let lock_key = PublicKey::from_base64(&lock.try_get::<String, _>("lock_key")?)
        .map_err(ApiError::internal)?;
    let camera_key = PublicKey::from_base64(&lock.try_get::<String, _>("camera_key")?)
        .map_err(ApiError::internal)?;
    answer_or_alarm(
        &state,
        &household_id,
        &challenge_env,
        &lock_key,
        &response,
        &lock_id,
        &GrantSubject::Delivery(id.as_str().into()),
        now,
    )
    .await?;

    // The arrival is written with the grant, in one transaction, when entry is given;
    // on every refusal below it is written first, so the household still hears of it.
    // A lock that has not been heard from cannot be told of a block: fail-secure.
    let beat = sqlx::query(
        "SELECT s.heartbeat, s.received_at, l.seen_at FROM locks l LEFT JOIN lock_status s ON s.lock_id = l.id WHERE l.id = $1",
    )
    .bind(&lock_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let heard_from = beat
        .as_ref()
        .and_then(|row| {
            last_heard(
                row.try_get::<Option<i64>, _>("received_at").ok().flatten(),
                row.try_get::<Option<i64>, _>("seen_at").ok().flatten(),
            )
        })
        .is_some_and(|at| now.0 - at <= LOCK_OFFLINE_AFTER_MS);
    if !heard_from {
        arrive(&state, &household_id, &id).await?;
        fail(&state, &household_id, &id, "lock offline").await?;
        return Err(refuse(
            "the lock is offline, so the door stays shut: leave the parcel at the door or take it back; the household can reroute it",
        ));
    }
    // No live camera, no entry (SPEC §3.5).
    let camera_ok = recording_heartbeat(
        beat.as_ref()
            .and_then(|row| row.try_get::<String, _>("heartbeat").ok()),
        beat.as_ref()
            .and_then(|row| row.try_get::<i64, _>("received_at").ok()),
        &camera_key,
        now,
    );
    if !camera_ok {
        arrive(&state, &household_id, &id).await?;
        fail(&state, &household_id, &id, "camera not recording").await?;
        return Err(refuse(
            "the camera is not recording, so the door stays shut: leave the parcel at the door or take it back",
        ));
    }
    if !window.is_valid() {
        arrive(&state, &household_id, &id).await?;
        return Err(refuse("the delivery window is over"));
    }
    let grant = EntryGrant {
        grant: GrantId(uuid::Uuid::now_v7().to_string()),
        household: HouseholdId(household_id.clone()),
        lock: LockId(lock_id.clone()),
        subject: GrantSubject::Delivery(id.as_str().into()),
        holder: courier_key,
        window,
        challenge: response.nonce,
        authorization,
        carrier: Some(carrier),
        issued_at: now,
    };
    let signed = Signed::sign(&grant, &state.cloud_key);

    let (state, id, lock_id, household_id) = (&state, &id, &lock_id, &household_id);
    let (grant, signed) = (&grant, &signed);
    let granted = race::until_uncontended(move || async move {
        let mut tx = state.db.pool.begin().await?;
        let current = sqlx::query("SELECT state, revision, door FROM deliveries WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let current_state = DeliveryState::parse(&current.try_get::<String, _>("state")?)
            .unwrap_or(DeliveryState::Failed);
        // Asking again while granted is a new grant only if the lock never moved
        // for the first (the courier's app lost it, the challenge went stale).
        if current_state == DeliveryState::Granted
            && current.try_get::<Option<String>, _>("door")?.is_some()
        {
            return Err(refuse(
                "the lock already opened for this delivery; it opens once",
            ));
        }
        let arrival = delivery_state::apply(current_state, Action::Arrive)
            .map_err(|e| ApiError::conflict(e.to_string()))?;
        let step = delivery_state::apply(arrival.to, Action::Grant).map_err(|_| {
            refuse(&format!(
                "entry is not possible: the delivery is {}",
                arrival.to.as_str()
            ))
        })?;
        // Whatever admitted it, the delivery now names its lock, so that a Block and
        // the camera watch reach that lock.
        let updated = sqlx::query("UPDATE deliveries SET state = $1, revision = revision + 1, updated_at = $2, lock_id = COALESCE(lock_id, $5) WHERE id = $3 AND revision = $4")
            .bind(step.to.as_str())
            .bind(now.0)
            .bind(id)
            .bind(current.try_get::<i64, _>("revision")?)
            .bind(lock_id)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Ok(Attempt::Raced);
        }
        let mut committed = Vec::with_capacity(2);
        if arrival.changed {
            let detail = format!("{} → {}", current_state.as_str(), arrival.to.as_str());
            let line = AuditLine {
                object_id: Some(id),
                detail: &detail,
            };
            let what = EventData::DeliveryAtDoor(DeliveryStep::new(id.as_str(), arrival.to));
            committed.push(
                audit::happened(
                    &mut tx,
                    household_id,
                    &Actor::System,
                    what,
                    None,
                    line,
                    now.0,
                )
                .await?,
            );
        }
        store_grant(&mut tx, grant, signed).await?;
        audit::record(
            &mut tx,
            household_id,
            &Actor::System,
            crate::audit::AuditVerb::DeliveryGrant,
            Some(id),
            &format!("grant {}", grant.grant),
            now.0,
        )
        .await?;
        committed.push(
            events::append(
                &mut tx,
                household_id,
                doorstep_api::EventData::DeliveryGranted(doorstep_api::DeliveryGranted {
                    delivery_id: id.clone(),
                    grant_id: grant.grant.as_str().to_owned(),
                    lock_id: lock_id.clone(),
                }),
                None,
                now.0,
            )
            .await?,
        );
        state.commit_and_publish(tx, committed).await?;
        Ok(Attempt::Done(()))
    })
    .await;
    granted?;
    Ok(Json(AccessGranted {
        grant: signed.to_base64(),
        delivery_id: id.clone(),
    }))
}

/// [`check_answer`], telling the household when the lock's clock is the reason.
#[allow(clippy::too_many_arguments, reason = "the parts of one check, named")]
pub async fn answer_or_alarm(
    state: &AppState,
    household_id: &str,
    challenge: &Signed<LockChallenge>,
    lock_key: &PublicKey,
    response: &CourierResponse,
    lock_id: &str,
    subject: &GrantSubject,
    now: doorstep_proto::Timestamp,
) -> ApiResult<()> {
    match check_answer(challenge, lock_key, response, lock_id, subject, now) {
        Err(AnswerRefused::ClockOff(error)) => {
            clock_off_alarm(
                state,
                household_id,
                lock_id,
                "its challenges are stamped more than 30 s from the cloud's time",
            )
            .await?;
            Err(error)
        }
        Err(AnswerRefused::Invalid(error)) => Err(error),
        Ok(()) => Ok(()),
    }
}

/// Why an answer to a challenge is refused.
#[derive(Debug)]
pub enum AnswerRefused {
    /// The challenge's stamp disagrees with the cloud's clock: the lock's clock is off.
    ClockOff(ApiError),
    /// Anything else.
    Invalid(ApiError),
}

/// Checks that `response` answers the lock's fresh, lock-signed challenge at
/// `lock_id`, for `subject`. The errors name the field at fault.
pub fn check_answer(
    challenge: &Signed<LockChallenge>,
    lock_key: &PublicKey,
    response: &CourierResponse,
    lock_id: &str,
    subject: &GrantSubject,
    now: doorstep_proto::Timestamp,
) -> Result<(), AnswerRefused> {
    use AnswerRefused::{ClockOff, Invalid};
    let challenge = challenge.verify(lock_key).ok_or_else(|| {
        Invalid(ApiError::invalid(
            "field `challenge`: not signed by that lock",
        ))
    })?;
    if challenge.lock.as_str() != lock_id
        || response.lock.as_str() != lock_id
        || response.nonce != challenge.nonce
        || response.subject != *subject
    {
        return Err(Invalid(ApiError::invalid(
            "field `response`: does not answer this lock's challenge for this entry",
        )));
    }
    if challenge.issued_at > now.plus(doorstep_proto::CLOCK_SKEW) {
        return Err(ClockOff(ApiError::invalid(
            "field `challenge`: issued in the future by the cloud's clock; the lock's clock is off",
        )));
    }
    // The lock measures the challenge's age itself (monotonic); here the stamp
    // gets the same skew as every other.
    if now
        > challenge
            .issued_at
            .plus(CHALLENGE_MAX_AGE)
            .plus(doorstep_proto::CLOCK_SKEW)
    {
        return Err(ClockOff(ApiError::invalid(
            "field `challenge`: too old by the cloud's clock; ask the lock for a new one (if it is new, the lock's clock is off)",
        )));
    }
    Ok(())
}

/// Whether `heartbeat` (the stored envelope) is the camera's signed, fresh "recording".
pub fn recording_heartbeat(
    heartbeat: Option<String>,
    received_at: Option<i64>,
    camera_key: &PublicKey,
    now: doorstep_proto::Timestamp,
) -> bool {
    // Freshness by the cloud's own clock (when it arrived); the lock's stamp
    // only has to agree within the one skew every check allows.
    let arrived_recently = received_at.is_some_and(|at| {
        now.0.saturating_sub(at)
            <= i64::try_from(CAMERA_HEARTBEAT_MAX_AGE.as_millis()).unwrap_or(i64::MAX)
    });
    arrived_recently
        && heartbeat
            .and_then(|text| Signed::<CameraHeartbeat>::from_base64(&text).ok())
            .and_then(|signed| signed.verify(camera_key))
            .is_some_and(|b| b.recording && within_skew(b.captured_at, now))
}

/// The one rule for a stamp from a lock or a courier: it agrees with the
/// cloud's clock within `CLOCK_SKEW`, in either direction.
pub fn within_skew(stamp: doorstep_proto::Timestamp, now: doorstep_proto::Timestamp) -> bool {
    stamp <= now.plus(doorstep_proto::CLOCK_SKEW) && now <= stamp.plus(doorstep_proto::CLOCK_SKEW)
}

/// Tells the household, at most every ten minutes per lock, that the lock's
/// clock disagrees with the cloud's (its heartbeats or challenges are refused).
pub async fn clock_off_alarm(
    state: &AppState,
    household_id: &str,
    lock_id: &str,
    detail: &str,
) -> ApiResult<()> {
    if !state.limits.clock_alarm(lock_id) {
        return Ok(());
    }
    events::announce(
        state,
        household_id,
        doorstep_api::EventData::LockClockOff(doorstep_api::LockClockOff {
            lock_id: lock_id.to_owned(),
            detail: detail.to_owned(),
        }),
    )
    .await?;
    tracing::warn!(
        lock_id,
        detail,
        "the lock's clock disagrees with the cloud's"
    );
    Ok(())
}

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
    let visit: Option<String> = sqlx::query_scalar(
        "SELECT id FROM guest_visits WHERE household_id = $1 AND guest_id = $2 AND lock_id = $3 AND state IN ($4, $5, $6) ORDER BY started_at DESC LIMIT 1",
    )
    .bind(&lock.household_id)
    .bind(guest_id)
    .bind(&lock.lock_id)
    .bind(from[0])
    .bind(from.get(1).copied().unwrap_or(from[0]))
    .bind(from.get(2).copied().unwrap_or(from[0]))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(visit) = visit else { return Ok(()) };
    let ended_at = matches!(to, "ended" | "door_not_locked").then_some(now);
    sqlx::query(
        "UPDATE guest_visits SET state = $1, ended_at = COALESCE($2, ended_at) WHERE id = $3",
    )
    .bind(to)
    .bind(ended_at)
    .bind(&visit)
    .execute(&mut *tx)
    .await?;
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

/// Records an issued grant (for deliveries and guests alike) in `tx`.
pub async fn store_grant(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    grant: &EntryGrant,
    signed: &Signed<EntryGrant>,
) -> Result<(), sqlx::Error> {
    let delivery_id = match &grant.subject {
        GrantSubject::Delivery(id) => Some(id.to_string()),
        GrantSubject::Guest(_) => None,
    };
    sqlx::query(
        "INSERT INTO grants (id, household_id, delivery_id, lock_id, holder_key, window_start, window_end, signed, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(grant.grant.as_str())
    .bind(grant.household.as_str())
    .bind(delivery_id)
    .bind(grant.lock.as_str())
    .bind(grant.holder.to_base64())
    .bind(grant.window.not_before.0)
    .bind(grant.window.not_after.0)
    .bind(signed.to_base64())
    .bind(grant.issued_at.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A lock whose last heartbeat is older than this is treated as offline.
pub const LOCK_OFFLINE_AFTER_MS: i64 = 5000;

/// A grant starts this long before it is issued, so a lock whose clock is a
/// little behind still sees it open (CLOCK_SKEW covers the rest).
const GRANT_LEEWAY: Duration = Duration::from_secs(60);

/// The household's policy with the carrier's shipment, and the entry window they
/// allow now at `lock_id`, if the household signed a policy that pins a key the
/// shipment is signed with, for this courier, carrier, lock, day and hour. The
/// lock checks the same again; without the carrier's signature nothing is admitted.
async fn policy_admits(
    state: &AppState,
    household_id: &str,
    carrier: &str,
    courier_key: &PublicKey,
    shipment_text: Option<&str>,
    lock_id: &str,
    now: doorstep_proto::Timestamp,
) -> ApiResult<Option<(PolicyEntry, TimeWindow)>> {
    let Some(shipment_env) = shipment_text.and_then(|t| Signed::<Shipment>::from_base64(t).ok())
    else {
        return Ok(None);
    };
    let text: Option<String> = sqlx::query_scalar("SELECT policy FROM households WHERE id = $1")
        .bind(household_id)
        .fetch_one(&state.db.pool)
        .await?;
    let household_key = crate::household::public_key(state, household_id).await?;
    let Some(policy_env) =
        text.and_then(|t| Signed::<doorstep_proto::DeliveryPolicy>::from_base64(&t).ok())
    else {
        return Ok(None);
    };
    let Some(policy) = policy_env.verify(&household_key) else {
        return Ok(None);
    };
    let Some(pinned) = policy.carrier_keys(carrier) else {
        return Ok(None);
    };
    let signer = shipment_env.signer();
    let Some(shipment) = pinned
        .contains(&signer)
        .then(|| shipment_env.verify(&signer))
        .flatten()
    else {
        return Ok(None);
    };
    if shipment.carrier != carrier
        || shipment.household.as_str() != household_id
        || shipment.courier != *courier_key
        || !policy.locks.iter().any(|l| l.as_str() == lock_id)
    {
        return Ok(None);
    }
    let Some(hours) = policy.hours.window_at(now) else {
        return Ok(None);
    };
    let longest = now
        .plus(Duration::from_secs(
            u64::from(policy.max_window_minutes) * 60,
        ))
        .minus(GRANT_LEEWAY);
    let window = TimeWindow::new(
        now.minus(GRANT_LEEWAY)
            .max(hours.not_before)
            .max(shipment.window.not_before),
        longest.min(hours.not_after).min(shipment.window.not_after),
    );
    Ok(window.is_valid().then_some((
        PolicyEntry {
            policy: policy_env,
            shipment: shipment_env,
        },
        window,
    )))
}

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
        let current = sqlx::query(
            "SELECT state, revision FROM deliveries WHERE id = $1 AND household_id = $2",
        )
        .bind(id)
        .bind(household_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
        let from = DeliveryState::parse(&current.try_get::<String, _>("state")?)
            .unwrap_or(DeliveryState::Failed);
        let step =
            delivery_state::apply(from, action).map_err(|e| ApiError::conflict(e.to_string()))?;
        if !step.changed {
            return Ok(Attempt::Done(step.to));
        }
        let updated = sqlx::query("UPDATE deliveries SET state = $1, revision = revision + 1, updated_at = $2 WHERE id = $3 AND revision = $4")
            .bind(step.to.as_str())
            .bind(now)
            .bind(id)
            .bind(current.try_get::<i64, _>("revision")?)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
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

async fn arrive(state: &AppState, household_id: &str, id: &str) -> ApiResult<DeliveryState> {
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

async fn fail(
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
    let current: Option<String> =
        sqlx::query_scalar("SELECT state FROM deliveries WHERE id = $1 AND household_id = $2")
            .bind(delivery_id)
            .bind(&lock.household_id)
            .fetch_optional(&state.db.pool)
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
    let updated = sqlx::query(
        "UPDATE deliveries SET door = $1, door_at = $2, revision = revision + 1, updated_at = $2 \
         WHERE id = $3 AND household_id = $4 AND (door IS NULL OR door <> $1)",
    )
    .bind(door.as_str())
    .bind(now)
    .bind(delivery_id)
    .bind(household_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
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
    let interrupted: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM deliveries WHERE household_id = $1 AND lock_id = $2 \
         AND state IN ('granted', 'door_open') AND door IS NOT NULL",
    )
    .bind(&lock.household_id)
    .bind(&lock.lock_id)
    .fetch_all(&state.db.pool)
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
    let issued: Option<String> = sqlx::query_scalar(
        "SELECT id FROM grants WHERE id = $1 AND household_id = $2 AND lock_id = $3",
    )
    .bind(grant_id)
    .bind(&lock.household_id)
    .bind(&lock.lock_id)
    .fetch_optional(&mut **tx)
    .await?;
    if issued.is_none() {
        return Ok(Some("a grant this cloud never issued"));
    }
    if let Some(delivery_id) = &report.delivery_id {
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM deliveries WHERE id = $1 AND household_id = $2")
                .bind(delivery_id)
                .bind(&lock.household_id)
                .fetch_optional(&mut **tx)
                .await?;
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
    let exists = sqlx::query(
        "SELECT kind, delivery_id, payload, at FROM lock_journal WHERE lock_id = $1 AND seq = $2",
    )
    .bind(&lock.lock_id)
    .bind(report.seq)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(stored) = exists {
        // The same line again (a retried upload) is stored once; a different line
        // under a seq already used means the lock's journal was cut back or
        // replaced: the household is told, and the line is refused.
        let same = stored.try_get::<String, _>("kind")? == report.kind.as_str()
            && stored.try_get::<i64, _>("at")? == report.at
            && stored.try_get::<Option<String>, _>("delivery_id")? == report.delivery_id
            && stored_detail(&stored.try_get::<String, _>("payload")?) == report.detail;
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
    let highest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM lock_journal WHERE lock_id = $1")
            .bind(&lock.lock_id)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO lock_journal (lock_id, seq, kind, delivery_id, payload, at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&lock.lock_id)
    .bind(report.seq)
    .bind(report.kind.as_str())
    .bind(&report.delivery_id)
    .bind(serde_json::to_string(&report.detail).unwrap_or_default())
    .bind(report.at)
    .bind(now)
    .execute(&mut *tx)
    .await?;
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
