//! The household's own settings.

use axum::Json;
use axum::extract::State;
pub use doorstep_api::{Household, HouseholdChange, Policy};

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::DeviceSession;
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::store::households;
use crate::validate;

/// The household's public key: what every household signature is checked with.
pub async fn public_key(
    state: &AppState,
    household_id: &str,
) -> ApiResult<doorstep_proto::PublicKey> {
    let text = households::public_key(&mut *state.db.pool.acquire().await?, household_id).await?;
    doorstep_proto::PublicKey::from_base64(&text).map_err(ApiError::internal)
}

/// The ids of the household's locks.
pub async fn lock_ids(state: &AppState, household_id: &str) -> ApiResult<Vec<String>> {
    Ok(crate::store::locks::ids(&mut *state.db.pool.acquire().await?, household_id).await?)
}

async fn read(state: &AppState, id: &str) -> ApiResult<Household> {
    Ok(households::settings(&mut *state.db.pool.acquire().await?, id).await?)
}

/// The household's settings.
#[utoipa::path(get, path = "/v1/household", responses((status = 200, body = Household)), tag = "household")]
pub async fn get(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<Json<Household>> {
    Ok(Json(read(&state, &session.household_id).await?))
}

/// Changes the household's settings.
#[utoipa::path(patch, path = "/v1/household", request_body = HouseholdChange, responses((status = 200, body = Household)), tag = "household")]
pub async fn update(
    State(state): State<AppState>,
    session: DeviceSession,
    ApiJson(change): ApiJson<HouseholdChange>,
) -> ApiResult<Json<Household>> {
    let time_zone = change
        .time_zone
        .as_deref()
        .map(validate::time_zone)
        .transpose()?;
    if let Some(lead) = change.lead_time_minutes
        && !(validate::LEAD_TIME_MINUTES.0..=validate::LEAD_TIME_MINUTES.1).contains(&lead)
    {
        return Err(ApiError::invalid(
            "field `lead_time_minutes`: must be 1 to 120",
        ));
    }
    if change.time_zone.is_none() && change.lead_time_minutes.is_none() {
        // Nothing to change: nothing written, no event.
        return Ok(Json(read(&state, &session.household_id).await?));
    }
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    households::change_settings(
        &mut tx,
        &session.household_id,
        time_zone.as_deref(),
        change.lead_time_minutes,
    )
    .await?;
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::HouseholdSettings,
        None,
        "settings changed",
        now,
    )
    .await?;
    let event = events::append(
        &mut tx,
        &session.household_id,
        doorstep_api::EventData::HouseholdSettingsChanged(doorstep_api::SettingsChanged {
            time_zone: change.time_zone.clone(),
            lead_time_minutes: change.lead_time_minutes,
        }),
        Some(&session.device_id),
        now,
    )
    .await?;
    let mut published = vec![event];
    if let Some(zone) = &time_zone {
        // Guests' hours are signed in the zone they were set in; they stay there
        // until the household sets them again, and it is told which.
        let behind = guests_in_other_zones(&mut tx, &session.household_id, zone).await?;
        if !behind.is_empty() {
            published.push(
                events::append(
                    &mut tx,
                    &session.household_id,
                    doorstep_api::EventData::GuestsTimeZoneDiffers(
                        doorstep_api::GuestsTimeZoneDiffers {
                            time_zone: zone.clone(),
                            guests: behind,
                        },
                    ),
                    Some(&session.device_id),
                    now,
                )
                .await?,
            );
        }
    }
    state.commit_and_publish(tx, published).await?;
    Ok(Json(read(&state, &session.household_id).await?))
}

/// The household's active guests whose weekly hours are in another zone than `zone`.
async fn guests_in_other_zones(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    household_id: &str,
    zone: &str,
) -> Result<Vec<doorstep_api::GuestInZone>, sqlx::Error> {
    let active = crate::store::guests::list(tx, household_id, true).await?;
    let mut behind = Vec::new();
    for guest in active {
        let invitation = doorstep_proto::Signed::<doorstep_proto::GuestInvitation>::from_base64(
            &guest.invitation,
        )
        .ok()
        .and_then(|s| s.peek());
        if let Some(invitation) = invitation
            && let doorstep_proto::GuestSchedule::Weekly(hours) = &invitation.schedule
            && hours.time_zone != zone
        {
            behind.push(doorstep_api::GuestInZone {
                guest_id: guest.id.clone(),
                name: invitation.name.clone(),
                time_zone: hours.time_zone.clone(),
            });
        }
    }
    Ok(behind)
}

/// The standing policy, if any.
#[utoipa::path(get, path = "/v1/household/policy", responses((status = 200, body = Policy)), tag = "household")]
pub async fn get_policy(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<Json<Policy>> {
    let policy =
        households::policy(&mut *state.db.pool.acquire().await?, &session.household_id).await?;
    Ok(Json(Policy { policy }))
}

/// Replaces the standing policy with a newer signed version. Locks treat older
/// versions as void once they have seen a newer one.
#[utoipa::path(put, path = "/v1/household/policy", request_body = Policy, responses((status = 200, body = Policy), (status = 400, body = crate::error::ErrorBody)), tag = "household")]
pub async fn put_policy(
    State(state): State<AppState>,
    session: DeviceSession,
    ApiJson(request): ApiJson<Policy>,
) -> ApiResult<Json<Policy>> {
    session.require_recent_confirmation(&state).await?;
    use doorstep_proto::{DeliveryPolicy, PublicKey, Signed};
    let text = request
        .policy
        .ok_or_else(|| ApiError::invalid("field `policy`: required"))?;
    let signed = Signed::<DeliveryPolicy>::from_base64(&text)
        .map_err(|e| ApiError::invalid(format!("field `policy`: {e}")))?;
    let mut conn = state.db.pool.acquire().await?;
    let key =
        PublicKey::from_base64(&households::public_key(&mut conn, &session.household_id).await?)
            .map_err(ApiError::internal)?;
    let current = households::policy_version(&mut conn, &session.household_id).await?;
    drop(conn);
    let policy = signed
        .verify(&key)
        .ok_or_else(|| ApiError::invalid("field `policy`: not signed with this household's key"))?;
    if policy.household.as_str() != session.household_id
        || policy.device.as_str() != session.device_id
    {
        return Err(ApiError::invalid(
            "field `policy`: household or device does not match",
        ));
    }
    policy
        .hours
        .validate()
        .map_err(|e| ApiError::invalid(format!("field `policy.hours`: {e}")))?;
    if let Some(carrier) = policy.carriers.iter().find(|c| c.keys.is_empty()) {
        return Err(ApiError::invalid(format!(
            "field `policy.carriers`: carrier {:?} pins no key, so none of its shipments could be admitted",
            carrier.name
        )));
    }
    let version = i64::try_from(policy.version)
        .map_err(|_| ApiError::invalid("field `policy.version`: too large"))?;
    if current.is_some_and(|c| version <= c) {
        return Err(ApiError::conflict(
            "field `policy.version`: must be higher than the current policy's",
        ));
    }
    let locks = lock_ids(&state, &session.household_id).await?;
    if !policy
        .locks
        .iter()
        .all(|l| locks.iter().any(|m| m == l.as_str()))
    {
        return Err(ApiError::invalid(
            "field `policy.locks`: must name this household's locks",
        ));
    }
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    if !households::set_policy_if_newer(
        &mut tx,
        &session.household_id,
        &signed.to_base64(),
        version,
    )
    .await?
    {
        return Err(ApiError::conflict(
            "field `policy.version`: a newer policy was saved meanwhile",
        ));
    }
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::HouseholdPolicy,
        None,
        &format!("policy version {version}"),
        now,
    )
    .await?;
    let event = events::append(
        &mut tx,
        &session.household_id,
        doorstep_api::EventData::HouseholdPolicyChanged(doorstep_api::PolicyChanged {
            version,
            carriers: policy.carrier_names(),
            locks: policy.locks.iter().map(|l| l.as_str().to_owned()).collect(),
        }),
        Some(&session.device_id),
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(Json(Policy {
        policy: Some(signed.to_base64()),
    }))
}
