//! The door: a paired lock's heartbeats, and the courier's access request
//! (the lock's journal is `lock_reports`, the moves it causes `transitions`). The cloud issues a grant only when the household approved, the
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

use crate::AppState;
use crate::audit::{self, Actor, AuditLine};
use crate::auth;
use crate::delivery_state::{self, Action, State as DeliveryState};
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::locks::LOCK_TOKEN_PREFIX;
use crate::race::{self, Attempt};
use crate::store::{deliveries, locks};
use crate::transitions::{arrive, fail};
pub use doorstep_api::{AccessGranted, AccessRequest, Heartbeat};
use doorstep_api::{DeliveryStep, EventData};

/// A paired lock, from its `dlk_` token.
#[derive(Debug, Clone)]
pub struct LockAuth {
    /// The lock.
    pub lock_id: String,
    /// Its household.
    pub household_id: String,
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
        let lock = locks::by_token(
            &mut *state.db.pool.acquire().await?,
            &auth::token_hash(value),
        )
        .await?
        .ok_or_else(|| ApiError::unauthenticated("the lock token is not valid"))?;
        let key = |text: &str| PublicKey::from_base64(text).map_err(ApiError::internal);
        Ok(Self {
            camera_key: key(&lock.camera_key)?,
            lock_id: lock.id,
            household_id: lock.household_id,
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
    locks::record_heartbeat(
        &mut *state.db.pool.acquire().await?,
        &lock.lock_id,
        &signed.to_base64(),
        beat.recording,
        beat.captured_at.0,
        state.now().0,
    )
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
    locks::mark_seen(
        &mut *state.db.pool.acquire().await?,
        &lock.lock_id,
        state.now().0,
    )
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

    let delivery = deliveries::for_entry(&mut *state.db.pool.acquire().await?, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    let courier_key = PublicKey::from_base64(&delivery.courier_key).map_err(ApiError::internal)?;
    // A courier asking for a delivery not assigned to it learns nothing more.
    let response = response_env
        .verify(&courier_key)
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    let deliveries::ForEntry {
        household_id,
        carrier,
        lock_id: approved_lock,
        approval: approval_text,
        shipment: shipment_text,
        ..
    } = delivery;

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
    let keys = locks::keys(
        &mut *state.db.pool.acquire().await?,
        &household_id,
        &lock_id,
    )
    .await?
    .ok_or_else(|| ApiError::invalid("field `response`: names a lock of another household"))?;
    let lock_key = PublicKey::from_base64(&keys.lock_key).map_err(ApiError::internal)?;
    let camera_key = PublicKey::from_base64(&keys.camera_key).map_err(ApiError::internal)?;
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
    let heard = locks::heard(&mut *state.db.pool.acquire().await?, &lock_id).await?;
    let heard_from = last_heard(heard.heartbeat_at, heard.seen_at)
        .is_some_and(|at| now.0 - at <= LOCK_OFFLINE_AFTER_MS);
    if !heard_from {
        arrive(&state, &household_id, &id).await?;
        fail(&state, &household_id, &id, "lock offline").await?;
        return Err(refuse(
            "the lock is offline, so the door stays shut: leave the parcel at the door or take it back; the household can reroute it",
        ));
    }
    // No live camera, no entry (SPEC §3.5).
    let camera_ok = recording_heartbeat(heard.heartbeat, heard.heartbeat_at, &camera_key, now);
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
        let current = deliveries::progress(&mut tx, household_id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("delivery"))?;
        let current_state = current.state;
        // Asking again while granted is a new grant only if the lock never moved
        // for the first (the courier's app lost it, the challenge went stale).
        if current_state == DeliveryState::Granted && current.door.is_some() {
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
        let moved = deliveries::move_if_unchanged(
            &mut tx,
            id,
            current.revision,
            step.to,
            Some(lock_id.as_str()),
            now.0,
        )
        .await?;
        if !moved {
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
    locks::insert_grant(
        tx,
        &locks::Issued {
            id: grant.grant.as_str(),
            household_id: grant.household.as_str(),
            delivery_id: delivery_id.as_deref(),
            lock_id: grant.lock.as_str(),
            holder_key: &grant.holder.to_base64(),
            window_start: grant.window.not_before.0,
            window_end: grant.window.not_after.0,
            signed: &signed.to_base64(),
            issued_at: grant.issued_at.0,
        },
    )
    .await
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
    let text = crate::store::households::policy(&mut *state.db.pool.acquire().await?, household_id)
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
