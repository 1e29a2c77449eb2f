//! The audit log: every action, with who did it from which device and session.

use crate::json::ApiQuery as Query;
use axum::Json;
use axum::extract::State;
pub use doorstep_api::{AuditAction, AuditEntry, AuditVerb};
use serde::Deserialize;
use sqlx::{Any, Row, Transaction};

use crate::AppState;
use crate::auth::DeviceSession;
use crate::error::{ApiError, ApiResult};

/// Who did something.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    /// A household device.
    Device(&'a DeviceSession),
    /// A carrier.
    Carrier(&'a str),
    /// A lock.
    Lock(&'a str),
    /// The cloud itself (timers).
    System,
}

/// Writes one audit entry in `tx`.
pub async fn record(
    tx: &mut Transaction<'_, Any>,
    household_id: &str,
    actor: &Actor<'_>,
    action: impl Into<AuditAction>,
    object_id: Option<&str>,
    detail: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let (actor_name, device, session) = match actor {
        Actor::Device(s) => (
            format!("device:{}", s.device_id),
            Some(s.device_id.as_str()),
            Some(s.session_id.as_str()),
        ),
        Actor::Carrier(id) => (format!("carrier:{id}"), None, None),
        Actor::Lock(id) => (format!("lock:{id}"), None, None),
        Actor::System => ("system".to_owned(), None, None),
    };
    sqlx::query(
        "INSERT INTO audit_log (id, household_id, at, actor, device_id, session_id, action, object_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(household_id)
    .bind(at)
    .bind(actor_name)
    .bind(device)
    .bind(session)
    .bind(action.into().as_str().to_owned())
    .bind(object_id)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What an audit line says about its object.
#[derive(Debug, Clone, Copy)]
pub struct AuditLine<'a> {
    /// The object acted on.
    pub object_id: Option<&'a str>,
    /// A sentence.
    pub detail: &'a str,
}

/// Appends the event `what` in `tx` with its audit line, logged under the event's
/// kind: the pair every state change the cloud reports writes together.
pub async fn happened(
    tx: &mut Transaction<'_, Any>,
    household_id: &str,
    actor: &Actor<'_>,
    what: crate::events::EventData,
    device_id: Option<&str>,
    line: AuditLine<'_>,
    at: i64,
) -> Result<(String, crate::events::Event), sqlx::Error> {
    if let Some(kind) = what.kind() {
        record(
            tx,
            household_id,
            actor,
            kind,
            line.object_id,
            line.detail,
            at,
        )
        .await?;
    }
    crate::events::append(tx, household_id, what, device_id, at).await
}

/// What a household's device names by id in a request.
#[derive(Debug, Clone, Copy)]
pub enum Owned {
    /// A delivery.
    Delivery,
    /// A guest (its id chosen by the household, so unique only within it).
    Guest,
    /// A lock.
    Lock,
    /// A recording.
    Recording,
    /// An alternate address.
    Address,
    /// A device.
    Device,
    /// A guest invitation by code.
    Invitation,
}

impl Owned {
    fn table(self) -> &'static str {
        match self {
            Owned::Delivery => "deliveries",
            Owned::Guest => "guests",
            Owned::Lock => "locks",
            Owned::Recording => "recordings",
            Owned::Address => "addresses",
            Owned::Device => "devices",
            Owned::Invitation => "guest_invitations",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Owned::Delivery => "delivery",
            Owned::Guest => "guest",
            Owned::Lock => "lock",
            Owned::Recording => "recording",
            Owned::Address => "address",
            Owned::Device => "device",
            Owned::Invitation => "invitation",
        }
    }
}

/// The answer when `session` names `id`, which its household does not hold: the
/// same 404 as for an id nobody holds, so the asker learns nothing about other
/// households. When another household does hold it, that is an attempt across
/// households: the holder's audit log records it (without saying who asked,
/// which would leak the other way) and the operator's log names both sides.
pub async fn not_in_household(
    state: &AppState,
    session: &DeviceSession,
    object: Owned,
    id: &str,
) -> ApiError {
    let not_found = ApiError::not_found(object.name());
    let holders: Vec<String> = match sqlx::query_scalar(&format!(
        "SELECT household_id FROM {} WHERE id = $1 AND household_id <> $2 LIMIT 8",
        object.table()
    ))
    .bind(id)
    .bind(&session.household_id)
    .fetch_all(&state.db.pool)
    .await
    {
        Ok(holders) => holders,
        Err(e) => {
            tracing::warn!(error = %e, "could not check whether another household holds the id");
            return not_found;
        }
    };
    for holder in holders {
        tracing::warn!(
            asking_household = %session.household_id,
            asking_device = %session.device_id,
            holding_household = %holder,
            object = object.name(),
            id,
            "refused a request for another household's object"
        );
        if !state.limits.foreign_audit(&holder) {
            continue;
        }
        let written = async {
            let mut tx = state.db.pool.begin().await?;
            record(
                &mut tx,
                &holder,
                &Actor::System,
                AuditVerb::AccessForeignRefused,
                Some(id),
                &format!(
                    "a device of another household named this {}; refused",
                    object.name()
                ),
                state.now().0,
            )
            .await?;
            state.db.commit(tx).await
        }
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not audit a refused request across households");
        }
    }
    not_found
}

/// Query of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only actions starting with this, e.g. `delivery.`.
    pub action_prefix: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The household's audit log, newest first.
#[utoipa::path(get, path = "/v1/audit", params(AuditQuery), responses((status = 200, body = Vec<AuditEntry>)), tag = "household")]
pub async fn list(
    State(state): State<AppState>,
    session: DeviceSession,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let prefix = format!("{}%", query.action_prefix.unwrap_or_default());
    let rows = sqlx::query(
        "SELECT a.at, a.actor, a.device_id, d.name AS device_name, a.action, a.object_id, a.detail \
         FROM audit_log a LEFT JOIN devices d ON d.id = a.device_id \
         WHERE a.household_id = $1 AND a.action LIKE $2 ORDER BY a.at DESC, a.id DESC LIMIT $3",
    )
    .bind(&session.household_id)
    .bind(prefix)
    .bind(limit)
    .fetch_all(&state.db.pool)
    .await?;
    let entries = rows
        .into_iter()
        .map(|row| {
            Ok(AuditEntry {
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                device_id: row.try_get("device_id")?,
                device_name: row.try_get("device_name")?,
                action: AuditAction::from_name(&row.try_get::<String, _>("action")?),
                object_id: row.try_get("object_id")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Json(entries))
}
