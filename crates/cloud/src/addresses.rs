//! The household's alternate addresses (neighbour, pickup point, locker) that a
//! delivery can be rerouted to.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
pub use doorstep_api::{Address, NewAddress};

use crate::AppState;
use crate::audit::{self, Actor, Owned};
use crate::auth::DeviceSession;
use crate::error::ApiResult;
use crate::events;
use crate::json::ApiJson;
use crate::store::addresses as store;
use crate::validate;

/// Adds an alternate address.
#[utoipa::path(post, path = "/v1/addresses", request_body = NewAddress, responses((status = 201, body = Address)), tag = "household")]
pub async fn add(
    State(state): State<AppState>,
    session: DeviceSession,
    ApiJson(request): ApiJson<NewAddress>,
) -> ApiResult<(StatusCode, Json<Address>)> {
    let address = Address {
        id: uuid::Uuid::now_v7().to_string(),
        label: validate::text("label", &request.label, validate::LABEL_MAX)?,
        kind: request.kind,
        address: validate::text("address", &request.address, validate::ADDRESS_MAX)?,
    };
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    store::insert(&mut tx, &session.household_id, &address, now).await?;
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::AddressAdd,
        Some(&address.id),
        &address.label,
        now,
    )
    .await?;
    let event = events::append(
        &mut tx,
        &session.household_id,
        doorstep_api::EventData::AddressAdded(address.clone()),
        Some(&session.device_id),
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok((StatusCode::CREATED, Json(address)))
}

/// The household's alternate addresses.
#[utoipa::path(get, path = "/v1/addresses", responses((status = 200, body = Vec<Address>)), tag = "household")]
pub async fn list(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<Json<Vec<Address>>> {
    let list = store::list(&mut *state.db.pool.acquire().await?, &session.household_id).await?;
    Ok(Json(list))
}

/// Removes an alternate address (deliveries already rerouted there keep it).
#[utoipa::path(delete, path = "/v1/addresses/{id}", params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)), tag = "household")]
pub async fn remove(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    if !store::remove(&mut tx, &session.household_id, &id, now).await? {
        drop(tx);
        return Err(audit::not_in_household(&state, &session, Owned::Address, &id).await);
    }
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        crate::audit::AuditVerb::AddressRemove,
        Some(&id),
        "removed",
        now,
    )
    .await?;
    let event = events::append(
        &mut tx,
        &session.household_id,
        doorstep_api::EventData::AddressRemoved(doorstep_api::AddressRemoved { id: id.clone() }),
        Some(&session.device_id),
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok(StatusCode::NO_CONTENT)
}
