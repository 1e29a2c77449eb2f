//! The household's alternate addresses (neighbour, pickup point, locker) that a
//! delivery can be rerouted to.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
pub use doorstep_api::{Address, AddressKind, NewAddress};
use sqlx::Row;

use crate::AppState;
use crate::audit::{self, Actor, Owned};
use crate::auth::DeviceSession;
use crate::error::ApiResult;
use crate::events;
use crate::json::ApiJson;
use crate::validate;

fn kind_name(kind: AddressKind) -> &'static str {
    match kind {
        AddressKind::Neighbour => "neighbour",
        AddressKind::PickupPoint => "pickup_point",
        AddressKind::Locker => "locker",
        AddressKind::Other => "other",
    }
}

fn parse_kind(text: &str) -> AddressKind {
    match text {
        "neighbour" => AddressKind::Neighbour,
        "pickup_point" => AddressKind::PickupPoint,
        "locker" => AddressKind::Locker,
        _ => AddressKind::Other,
    }
}

/// Reads one live address of the household.
pub async fn find(
    conn: &mut sqlx::AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<Option<Address>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, label, kind, address FROM addresses WHERE id = $1 AND household_id = $2 AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(household_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Address {
            id: row.try_get("id")?,
            label: row.try_get("label")?,
            kind: parse_kind(&row.try_get::<String, _>("kind")?),
            address: row.try_get("address")?,
        })
    })
    .transpose()
}

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
    sqlx::query("INSERT INTO addresses (id, household_id, label, kind, address, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&address.id)
        .bind(&session.household_id)
        .bind(&address.label)
        .bind(kind_name(address.kind))
        .bind(&address.address)
        .bind(now)
        .execute(&mut *tx)
        .await?;
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
    let rows = sqlx::query(
        "SELECT id, label, kind, address FROM addresses WHERE household_id = $1 AND deleted_at IS NULL ORDER BY created_at",
    )
    .bind(&session.household_id)
    .fetch_all(&state.db.pool)
    .await?;
    let list = rows
        .into_iter()
        .map(|row| {
            Ok(Address {
                id: row.try_get("id")?,
                label: row.try_get("label")?,
                kind: parse_kind(&row.try_get::<String, _>("kind")?),
                address: row.try_get("address")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
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
    let done = sqlx::query("UPDATE addresses SET deleted_at = $1 WHERE id = $2 AND household_id = $3 AND deleted_at IS NULL")
        .bind(now)
        .bind(&id)
        .bind(&session.household_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
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
