//! Guests the household lets in on a schedule (cleaner, dog sitter): a signed
//! invitation per guest with its own key and windows, visits logged like deliveries.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
pub use doorstep_api::{Guest, NewGuest, RevokeGuest};
use doorstep_proto::{
    Authorization, CourierResponse, EntryGrant, GrantId, GrantSubject, GuestInvitation,
    HouseholdId, LockChallenge, LockId, PublicKey, Revocation, RevocationTarget, Signed,
};

use crate::AppState;
use crate::access::AccessRequest;
use crate::audit::{self, Actor, Owned};
use crate::auth::DeviceSession;
use crate::error::{ApiError, ApiResult, Code};
use crate::events;
use crate::json::ApiJson;
use crate::store::guests as store;
use crate::store::locks;

fn view(id: String, invitation: &GuestInvitation, revoked: bool) -> Guest {
    Guest {
        id,
        name: invitation.name.clone(),
        public_key: invitation.guest_key.to_base64(),
        locks: invitation.locks.iter().map(|l| l.to_string()).collect(),
        schedule: invitation.schedule.clone(),
        revoked,
    }
}

/// Invites a guest.
#[utoipa::path(post, path = "/v1/guests", request_body = NewGuest, responses((status = 201, body = Guest), (status = 400, body = crate::error::ErrorBody)), tag = "guests")]
pub async fn add(
    State(state): State<AppState>,
    session: DeviceSession,
    ApiJson(request): ApiJson<NewGuest>,
) -> ApiResult<(StatusCode, Json<Guest>)> {
    session.require_recent_confirmation(&state).await?;
    let (signed, invitation) = verified_invitation(&state, &session, &request.invitation).await?;
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    let (guest, event) = insert_guest(&mut tx, &session, &signed, &invitation, now).await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok((StatusCode::CREATED, Json(guest)))
}

/// A guest invitation this device signed with its household's key, checked: its
/// household and device, a UUID for the guest, a name, a valid schedule and the
/// household's own locks.
pub(crate) async fn verified_invitation(
    state: &AppState,
    session: &DeviceSession,
    text: &str,
) -> ApiResult<(Signed<GuestInvitation>, GuestInvitation)> {
    let signed = Signed::<GuestInvitation>::from_base64(text)
        .map_err(|e| ApiError::invalid(format!("field `invitation`: {e}")))?;
    let key = crate::household::public_key(state, &session.household_id).await?;
    let invitation = signed.verify(&key).ok_or_else(|| {
        ApiError::invalid("field `invitation`: not signed with this household's key")
    })?;
    if invitation.household.as_str() != session.household_id
        || invitation.device.as_str() != session.device_id
    {
        return Err(ApiError::invalid(
            "field `invitation`: household or device does not match",
        ));
    }
    uuid::Uuid::parse_str(invitation.guest.as_str())
        .map_err(|_| ApiError::invalid("field `invitation.guest`: must be a UUID"))?;
    crate::validate::text(
        "invitation.name",
        &invitation.name,
        crate::validate::NAME_MAX,
    )?;
    invitation
        .schedule
        .validate()
        .map_err(|e| ApiError::invalid(format!("field `invitation.schedule`: {e}")))?;
    let locks = crate::household::lock_ids(state, &session.household_id).await?;
    if invitation.locks.is_empty()
        || !invitation
            .locks
            .iter()
            .all(|l| locks.iter().any(|m| m == l.as_str()))
    {
        return Err(ApiError::invalid(
            "field `invitation.locks`: must name this household's locks",
        ));
    }
    Ok((signed, invitation))
}

/// Stores a verified guest with its audit entry, in `tx`; the event to publish
/// once committed.
pub(crate) async fn insert_guest(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session: &DeviceSession,
    signed: &Signed<GuestInvitation>,
    invitation: &GuestInvitation,
    now: i64,
) -> ApiResult<(Guest, (String, doorstep_api::Event))> {
    let invited = store::Invited {
        id: invitation.guest.as_str(),
        household_id: &session.household_id,
        name: &invitation.name,
        guest_key: &invitation.guest_key.to_base64(),
        invitation: &signed.to_base64(),
        created_by: &session.device_id,
        at: now,
    };
    if !store::insert(tx, &invited).await? {
        return Err(ApiError::conflict("a guest with this id exists"));
    }
    let guest = view(invitation.guest.to_string(), invitation, false);
    audit::record(
        tx,
        &session.household_id,
        &Actor::Device(session),
        crate::audit::AuditVerb::GuestAdd,
        Some(&guest.id),
        &guest.name,
        now,
    )
    .await?;
    let event = events::append(
        tx,
        &session.household_id,
        doorstep_api::EventData::GuestAdded(guest.clone()),
        Some(&session.device_id),
        now,
    )
    .await?;
    Ok((guest, event))
}

/// The household's guests.
#[utoipa::path(get, path = "/v1/guests", responses((status = 200, body = Vec<Guest>)), tag = "guests")]
pub async fn list(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<Json<Vec<Guest>>> {
    let stored = store::list(
        &mut *state.db.pool.acquire().await?,
        &session.household_id,
        false,
    )
    .await?;
    let mut guests = Vec::new();
    for guest in stored {
        let Some(invitation) = Signed::<GuestInvitation>::from_base64(&guest.invitation)
            .ok()
            .and_then(|s| s.peek())
        else {
            continue;
        };
        guests.push(view(guest.id, &invitation, guest.revoked));
    }
    Ok(Json(guests))
}

/// Revokes a guest's access at once. Revoking twice is harmless.
#[utoipa::path(post, path = "/v1/guests/{id}/revoke", params(("id" = String, Path)), request_body = RevokeGuest,
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)), tag = "guests")]
pub async fn revoke(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RevokeGuest>,
) -> ApiResult<StatusCode> {
    let signed = Signed::<Revocation>::from_base64(&request.revocation)
        .map_err(|e| ApiError::invalid(format!("field `revocation`: {e}")))?;
    let key = crate::household::public_key(&state, &session.household_id).await?;
    let revocation = signed.verify(&key).ok_or_else(|| {
        ApiError::invalid("field `revocation`: not signed with this household's key")
    })?;
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    let Some(revoked) = store::revoked(&mut tx, &session.household_id, &id).await? else {
        drop(tx);
        return Err(audit::not_in_household(&state, &session, Owned::Guest, &id).await);
    };
    if revocation.household.as_str() != session.household_id
        || revocation.target != RevocationTarget::Guest(id.as_str().into())
    {
        return Err(ApiError::invalid(
            "field `revocation`: it is not for this guest",
        ));
    }
    if revoked {
        return Ok(StatusCode::NO_CONTENT);
    }
    store::revoke(
        &mut tx,
        &session.household_id,
        &id,
        &signed.to_base64(),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::GuestRevoke,
        Some(&id),
        "access revoked",
        now,
    )
    .await?;
    let event = events::append(
        &mut tx,
        &session.household_id,
        doorstep_api::EventData::GuestRevoked(doorstep_api::GuestRef {
            guest_id: id.clone(),
        }),
        Some(&session.device_id),
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn refused(message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::FORBIDDEN,
        code: Code::EntryRefused,
        message: message.into(),
    }
}

/// A guest at the door: answered like a courier, but inside its own windows.
#[utoipa::path(post, path = "/v1/guest/{id}/access", params(("id" = String, Path)), request_body = AccessRequest,
    responses((status = 200, body = crate::access::AccessGranted), (status = 403, body = crate::error::ErrorBody)), tag = "guests")]
pub async fn request_access(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AccessRequest>,
) -> ApiResult<Json<crate::access::AccessGranted>> {
    state.limits.access_request(ip)?;
    let challenge_env = Signed::<LockChallenge>::from_base64(&request.challenge)
        .map_err(|e| ApiError::invalid(format!("field `challenge`: {e}")))?;
    let response_env = Signed::<CourierResponse>::from_base64(&request.response)
        .map_err(|e| ApiError::invalid(format!("field `response`: {e}")))?;
    let now = state.now();
    // A guest id is unique only within its household; the lock the guest stands
    // at says which household (the signature is checked with that guest's key).
    let named_lock = response_env
        .peek()
        .ok_or_else(|| ApiError::invalid("field `response`: unreadable"))?
        .lock;
    let guest = store::at_lock(
        &mut *state.db.pool.acquire().await?,
        named_lock.as_str(),
        &id,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("guest"))?;
    let guest_key = PublicKey::from_base64(&guest.guest_key).map_err(ApiError::internal)?;
    let response = response_env
        .verify(&guest_key)
        .ok_or_else(|| ApiError::not_found("guest"))?;
    let household_id = guest.household_id;
    if guest.revoked {
        return Err(refused("the household revoked this invitation"));
    }
    let invitation_env =
        Signed::<GuestInvitation>::from_base64(&guest.invitation).map_err(ApiError::internal)?;
    let invitation = invitation_env
        .peek()
        .ok_or_else(|| ApiError::internal("stored invitation unreadable"))?;
    let lock_id = response.lock.to_string();
    if !invitation.locks.contains(&response.lock) {
        return Err(refused("this invitation does not open that lock"));
    }
    let keys = locks::keys(
        &mut *state.db.pool.acquire().await?,
        &household_id,
        &lock_id,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("lock"))?;
    let lock_key = PublicKey::from_base64(&keys.lock_key).map_err(ApiError::internal)?;
    let camera_key = PublicKey::from_base64(&keys.camera_key).map_err(ApiError::internal)?;
    crate::access::answer_or_alarm(
        &state,
        &household_id,
        &challenge_env,
        &lock_key,
        &response,
        &lock_id,
        &GrantSubject::Guest(id.as_str().into()),
        now,
    )
    .await?;
    let Some(window) = invitation.schedule.window_at(now) else {
        log_visit_refused(
            &state,
            &household_id,
            &id,
            &invitation.name,
            "outside the guest's hours",
        )
        .await?;
        return Err(refused(
            "outside your hours: the door opens only in the windows the household set",
        ));
    };
    let heard = locks::heard(&mut *state.db.pool.acquire().await?, &lock_id).await?;
    let camera_ok =
        crate::access::recording_heartbeat(heard.heartbeat, heard.heartbeat_at, &camera_key, now);
    if !camera_ok {
        log_visit_refused(
            &state,
            &household_id,
            &id,
            &invitation.name,
            "camera not recording",
        )
        .await?;
        return Err(refused(
            "the camera is not recording, so the door stays shut",
        ));
    }
    let grant = EntryGrant {
        grant: GrantId(uuid::Uuid::now_v7().to_string()),
        household: HouseholdId(household_id.clone()),
        lock: LockId(lock_id.clone()),
        subject: GrantSubject::Guest(id.as_str().into()),
        holder: guest_key,
        window,
        challenge: response.nonce,
        authorization: Authorization::Guest(invitation_env),
        carrier: None,
        issued_at: now,
    };
    let signed = Signed::sign(&grant, &state.cloud_key);
    let mut tx = state.db.pool.begin().await?;
    crate::access::store_grant(&mut tx, &grant, &signed).await?;
    let visit_id = uuid::Uuid::now_v7().to_string();
    let visit = store::Visit {
        id: &visit_id,
        household_id: &household_id,
        guest_id: &id,
        lock_id: &lock_id,
        grant_id: grant.grant.as_str(),
        at: now.0,
    };
    store::start_visit(&mut tx, &visit).await?;
    audit::record(
        &mut tx,
        &household_id,
        &Actor::System,
        crate::audit::AuditVerb::GuestGrant,
        Some(&id),
        &format!("{} let in", invitation.name),
        now.0,
    )
    .await?;
    let event = events::append(
        &mut tx,
        &household_id,
        doorstep_api::EventData::GuestGranted(doorstep_api::GuestGranted {
            guest_id: id.clone(),
            name: invitation.name.clone(),
            lock_id: lock_id.clone(),
            visit_id: visit_id.clone(),
            grant_id: grant.grant.as_str().to_owned(),
        }),
        None,
        now.0,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(Json(crate::access::AccessGranted {
        grant: signed.to_base64(),
        delivery_id: String::new(),
    }))
}

async fn log_visit_refused(
    state: &AppState,
    household_id: &str,
    guest_id: &str,
    name: &str,
    reason: &str,
) -> ApiResult<()> {
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    let what = doorstep_api::EventData::GuestRefused(doorstep_api::GuestRefused {
        guest_id: guest_id.to_owned(),
        name: name.to_owned(),
        reason: reason.to_owned(),
    });
    let detail = format!("{name}: {reason}");
    let line = audit::AuditLine {
        object_id: Some(guest_id),
        detail: &detail,
    };
    let event =
        audit::happened(&mut tx, household_id, &Actor::System, what, None, line, now).await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(())
}
