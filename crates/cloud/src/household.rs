//! The household's own settings.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::AppState;
use crate::audit::{self, Actor};
use crate::auth::DeviceSession;
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::validate;

/// The household as its devices see it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Household {
    /// Its id (what a shop is given for deliveries).
    pub id: String,
    /// The shared login.
    pub email: String,
    /// IANA time zone of the home.
    pub time_zone: String,
    /// Minutes before the ETA at which every device is told "courier arriving".
    pub lead_time_minutes: i64,
}

/// Changes to settings; absent fields stay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdChange {
    /// New time zone.
    pub time_zone: Option<String>,
    /// New lead time, 1–120 minutes.
    pub lead_time_minutes: Option<i64>,
}

async fn read(state: &AppState, id: &str) -> ApiResult<Household> {
    let row =
        sqlx::query("SELECT id, email, time_zone, lead_time_minutes FROM households WHERE id = $1")
            .bind(id)
            .fetch_one(&state.db.pool)
            .await?;
    Ok(Household {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        time_zone: row.try_get("time_zone")?,
        lead_time_minutes: row.try_get("lead_time_minutes")?,
    })
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
        && !(1..=120).contains(&lead)
    {
        return Err(ApiError::invalid(
            "field `lead_time_minutes`: must be 1 to 120",
        ));
    }
    let now = state.now().0;
    let mut tx = state.db.pool.begin().await?;
    sqlx::query(
        "UPDATE households SET time_zone = COALESCE($1, time_zone), lead_time_minutes = COALESCE($2, lead_time_minutes) WHERE id = $3",
    )
    .bind(time_zone)
    .bind(change.lead_time_minutes)
    .bind(&session.household_id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &session.household_id,
        &Actor::Device(&session),
        "household.settings",
        None,
        "settings changed",
        now,
    )
    .await?;
    let event = events::append(
        &mut tx,
        &session.household_id,
        "household.settings_changed",
        serde_json::json!({ "time_zone": change.time_zone, "lead_time_minutes": change.lead_time_minutes }),
        Some(&session.device_id),
        now,
    )
    .await?;
    tx.commit().await?;
    state.hub.publish([event]);
    Ok(Json(read(&state, &session.household_id).await?))
}
