//! Guests invited by code (SPEC §6: invited with a code, never asked for a key).
//!
//! A household device seals the code and the terms for the household's devices and
//! leaves them here under the code's name. The guest redeems the code with a key they
//! made and a proof (an HMAC under the code's secret half, which the cloud never
//! sees); a household device checks the proof, signs the guest's invitation for that
//! key and completes it, which adds the guest as `POST /v1/guests` does. The cloud
//! stores and forwards: it can neither redeem a code nor swap a key in.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
pub use doorstep_api::{
    CompleteInvitation, Guest, NewGuestInvitation, PendingInvitation, RedeemInvitation, Redeemed,
};

use crate::AppState;
use crate::audit::{self, Actor, Owned};
use crate::auth::DeviceSession;
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::store::guest_invitations as store;

/// An unredeemed code works at most this long.
pub const LONGEST_VALIDITY_MS: i64 = 30 * 24 * 3_600_000;

/// The largest sealed terms accepted.
pub(crate) const SEALED_MAX: usize = 4096;

fn invitation_id(field: &str, text: &str) -> ApiResult<String> {
    let normal = doorstep_proto::InvitationCode::normalize_id(text).ok_or_else(|| {
        ApiError::invalid(format!(
            "field `{field}`: not the first two groups of an invitation code (like ABCD-EFGH)"
        ))
    })?;
    Ok(normal)
}

/// An invitation named in the path: one that is not a code's name is one nobody holds.
fn invitation_in_path(text: &str) -> ApiResult<String> {
    doorstep_proto::InvitationCode::normalize_id(text)
        .ok_or_else(|| ApiError::not_found("invitation"))
}

/// Leaves a sealed invitation for a guest to redeem.
#[utoipa::path(post, path = "/v1/guest-invitations", request_body = NewGuestInvitation,
    responses((status = 201, body = PendingInvitation), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), tag = "guests")]
pub async fn create(
    State(state): State<AppState>,
    session: DeviceSession,
    ApiJson(request): ApiJson<NewGuestInvitation>,
) -> ApiResult<(StatusCode, Json<PendingInvitation>)> {
    session.require_recent_confirmation(&state).await?;
    let id = invitation_id("id", &request.id)?;
    uuid::Uuid::parse_str(&request.guest_id)
        .map_err(|_| ApiError::invalid("field `guest_id`: must be a UUID"))?;
    crate::validate::text("name", &request.name, crate::validate::NAME_MAX)?;
    crate::validate::bytes("sealed", &request.sealed, 1, SEALED_MAX)?;
    let now = state.now().0;
    if request.expires_at <= now || request.expires_at > now.saturating_add(LONGEST_VALIDITY_MS) {
        return Err(ApiError::invalid(
            "field `expires_at`: must be in the future and at most 30 days away",
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    let new = store::New {
        id: &id,
        household_id: &session.household_id,
        guest_id: &request.guest_id,
        name: &request.name,
        sealed: &request.sealed,
        created_by: &session.device_id,
        at: now,
        expires_at: request.expires_at,
    };
    if !store::insert(&mut tx, &new).await? {
        return Err(ApiError::conflict(
            "an invitation with this code exists; make a new code",
        ));
    }
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::GuestInvite,
        Some(&request.guest_id),
        &request.name,
        now,
    )
    .await?;
    state.db.commit(tx).await?;
    Ok((
        StatusCode::CREATED,
        Json(PendingInvitation {
            id,
            guest_id: request.guest_id,
            name: request.name,
            sealed: request.sealed,
            created_at: now,
            expires_at: request.expires_at,
            guest_key: None,
            proof: None,
        }),
    ))
}

/// The household's invitations not yet signed in: redeemed ones, and unredeemed ones
/// until they expire.
#[utoipa::path(get, path = "/v1/guest-invitations", responses((status = 200, body = Vec<PendingInvitation>)), tag = "guests")]
pub async fn list(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<Json<Vec<PendingInvitation>>> {
    let now = state.now().0;
    let pending = store::pending_of(
        &mut *state.db.pool.acquire().await?,
        &session.household_id,
        now,
    )
    .await?;
    Ok(Json(pending))
}

/// Withdraws an invitation not yet signed in; its code stops working.
#[utoipa::path(delete, path = "/v1/guest-invitations/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)), tag = "guests")]
pub async fn cancel(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = invitation_in_path(&id)?;
    let mut conn = state.db.pool.acquire().await?;
    if !store::cancel(&mut conn, &session.household_id, &id).await? {
        drop(conn);
        return Err(audit::not_in_household(&state, &session, Owned::Invitation, &id).await);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A guest redeems their code with the key they made. No sign-in: the code is the
/// credential, and the household's device checks the proof before anyone gets in.
#[utoipa::path(post, path = "/v1/guest-invitations/redeem", request_body = RedeemInvitation,
    responses((status = 200, body = Redeemed), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)), tag = "guests")]
pub async fn redeem(
    State(state): State<AppState>,
    crate::ClientIp(ip): crate::ClientIp,
    ApiJson(request): ApiJson<RedeemInvitation>,
) -> ApiResult<Json<Redeemed>> {
    state.limits.redemption(ip)?;
    let id = invitation_id("id", &request.id)?;
    let guest_key = crate::validate::public_key("guest_key", &request.guest_key)?;
    crate::validate::bytes("proof", &request.proof, 32, 32)?;
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    let Some((household_id, invitation, completed)) = store::get(&mut tx, &id).await? else {
        return Err(ApiError::not_found(
            "invitation code (check the code, or ask the household for a new one)",
        ));
    };
    if completed || invitation.guest_key.is_some() {
        return Err(ApiError::conflict(
            "this code was redeemed already; ask the household for a new one",
        ));
    }
    if !store::redeem(&mut tx, &id, &guest_key.to_base64(), &request.proof, now).await? {
        return Err(ApiError::not_found(
            "invitation code (it expired; ask the household for a new one)",
        ));
    }
    let event = events::append(
        &mut tx,
        &household_id,
        doorstep_api::EventData::GuestRedeemed(doorstep_api::GuestRedeemed {
            invitation_id: id,
            guest_id: invitation.guest_id.clone(),
            name: invitation.name.clone(),
        }),
        None,
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(Json(Redeemed {
        guest_id: invitation.guest_id,
        name: invitation.name,
    }))
}

/// A household device signs in the guest who redeemed a code: the invitation it
/// signed for the key the guest redeemed with. The household confirmed its password
/// when it made the code, so this needs no second confirmation.
#[utoipa::path(post, path = "/v1/guest-invitations/{id}/complete", params(("id" = String, Path)), request_body = CompleteInvitation,
    responses((status = 201, body = Guest), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), tag = "guests")]
pub async fn complete(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CompleteInvitation>,
) -> ApiResult<(StatusCode, Json<Guest>)> {
    let id = invitation_in_path(&id)?;
    let (signed, invitation) =
        crate::guests::verified_invitation(&state, &session, &request.invitation).await?;
    let found = store::get(&mut *state.db.pool.acquire().await?, &id).await?;
    let Some((household_id, pending, completed)) =
        found.filter(|(household, _, _)| *household == session.household_id)
    else {
        return Err(audit::not_in_household(&state, &session, Owned::Invitation, &id).await);
    };
    let _ = household_id;
    if completed {
        return Err(ApiError::conflict("this guest was signed in already"));
    }
    let Some(redeemed_key) = pending.guest_key else {
        return Err(ApiError::conflict(
            "the guest has not redeemed the code yet",
        ));
    };
    if invitation.guest.as_str() != pending.guest_id
        || invitation.guest_key.to_base64() != redeemed_key
    {
        return Err(ApiError::invalid(
            "field `invitation`: not for the guest and key that redeemed this code",
        ));
    }
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    if !store::complete(&mut tx, &id, now).await? {
        return Err(ApiError::conflict("this guest was signed in already"));
    }
    let (guest, event) =
        crate::guests::insert_guest(&mut tx, &session, &signed, &invitation, now).await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok((StatusCode::CREATED, Json(guest)))
}
