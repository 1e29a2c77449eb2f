//! The deliveries table: every statement that reads or writes a delivery. The
//! handlers and the timers decide; this module only knows the rows.

use doorstep_api::{Delivery, DoorState, Window};
use sqlx::{AnyConnection, Row};

use crate::delivery_state::State as DeliveryState;
use crate::error::ApiError;

/// A delivery as the household sees it, with the carrier it belongs to.
pub(crate) struct Loaded {
    pub(crate) delivery: Delivery,
    pub(crate) carrier_id: String,
}

/// The household's delivery `id`.
pub(crate) async fn load(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<Option<Loaded>, ApiError> {
    let row = sqlx::query(
        "SELECT d.id, d.tracking_id, c.name AS carrier, d.carrier_id, d.state, d.approval, d.approved_by, d.lock_id, \
                d.window_start, d.window_end, d.eta, d.courier_key, d.shipment, d.reroute_address_id, d.door, d.revision, d.created_at, d.updated_at \
         FROM deliveries d JOIN carriers c ON c.id = d.carrier_id WHERE d.id = $1 AND d.household_id = $2",
    )
    .bind(id)
    .bind(household_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let reroute: Option<String> = row.try_get("reroute_address_id")?;
    let rerouted_to = match reroute {
        Some(address_id) => super::addresses::find(conn, household_id, &address_id).await?,
        None => None,
    };
    Ok(Some(Loaded {
        carrier_id: row.try_get("carrier_id")?,
        delivery: Delivery {
            id: row.try_get("id")?,
            tracking_id: row.try_get("tracking_id")?,
            carrier: row.try_get("carrier")?,
            state: parse_state(&row.try_get::<String, _>("state")?)?,
            approved: row.try_get::<Option<String>, _>("approval")?.is_some(),
            approved_by: row.try_get("approved_by")?,
            lock_id: row.try_get("lock_id")?,
            window: Window {
                not_before: row.try_get("window_start")?,
                not_after: row.try_get("window_end")?,
            },
            eta: row.try_get("eta")?,
            courier_key: row.try_get("courier_key")?,
            shipment: row.try_get("shipment")?,
            rerouted_to,
            door: row
                .try_get::<Option<String>, _>("door")?
                .as_deref()
                .and_then(DoorState::parse),
            revision: row.try_get("revision")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
    }))
}

fn parse_state(text: &str) -> Result<DeliveryState, ApiError> {
    DeliveryState::parse(text)
        .ok_or_else(|| ApiError::internal(format!("unknown delivery state {text:?}")))
}

/// The household's deliveries, newest window first, at most `limit`.
pub(crate) async fn list(
    conn: &mut AnyConnection,
    household_id: &str,
    limit: i64,
) -> Result<Vec<Delivery>, ApiError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM deliveries WHERE household_id = $1 ORDER BY window_start DESC LIMIT $2",
    )
    .bind(household_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut list = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(loaded) = load(conn, household_id, &id).await? {
            list.push(loaded.delivery);
        }
    }
    Ok(list)
}

/// A shipment a carrier announced, by its tracking id.
pub(crate) struct Shipment {
    pub(crate) id: String,
    pub(crate) household_id: String,
    pub(crate) courier_key: String,
    pub(crate) window: Window,
}

/// The carrier's shipment `tracking_id`.
pub(crate) async fn shipment(
    conn: &mut AnyConnection,
    carrier_id: &str,
    tracking_id: &str,
) -> Result<Option<Shipment>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, household_id, courier_key, window_start, window_end FROM deliveries WHERE carrier_id = $1 AND tracking_id = $2",
    )
    .bind(carrier_id)
    .bind(tracking_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Shipment {
            id: row.try_get("id")?,
            household_id: row.try_get("household_id")?,
            courier_key: row.try_get("courier_key")?,
            window: Window {
                not_before: row.try_get("window_start")?,
                not_after: row.try_get("window_end")?,
            },
        })
    })
    .transpose()
}

/// Keeps the carrier's shipment signature, unless one is there already.
pub(crate) async fn add_shipment_signature(
    conn: &mut AnyConnection,
    id: &str,
    shipment: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE deliveries SET shipment = COALESCE(shipment, $1) WHERE id = $2")
        .bind(shipment)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A delivery as a carrier announces it.
pub(crate) struct Announced<'a> {
    pub(crate) id: &'a str,
    pub(crate) household_id: &'a str,
    pub(crate) carrier_id: &'a str,
    pub(crate) tracking_id: &'a str,
    pub(crate) courier_key: &'a str,
    pub(crate) window: Window,
    pub(crate) eta: Option<i64>,
    pub(crate) shipment: Option<&'a str>,
    pub(crate) at: i64,
}

/// Stores a newly announced delivery.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    new: &Announced<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO deliveries (id, household_id, carrier_id, tracking_id, courier_key, window_start, window_end, eta, state, revision, created_at, updated_at, shipment) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10, $11)",
    )
    .bind(new.id)
    .bind(new.household_id)
    .bind(new.carrier_id)
    .bind(new.tracking_id)
    .bind(new.courier_key)
    .bind(new.window.not_before)
    .bind(new.window.not_after)
    .bind(new.eta)
    .bind(DeliveryState::Announced.as_str())
    .bind(new.at)
    .bind(new.shipment)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a household's action writes besides the state (each kept when `None`).
#[derive(Default)]
pub(crate) struct Written {
    pub(crate) approval: Option<String>,
    pub(crate) approved_by: Option<String>,
    pub(crate) lock_id: Option<String>,
    pub(crate) revocation: Option<String>,
    pub(crate) reroute_address_id: Option<String>,
}

/// Moves delivery `id` to `to` with `written`, if it is still at `revision`;
/// `false` when another request changed it first.
pub(crate) async fn update_if_unchanged(
    conn: &mut AnyConnection,
    id: &str,
    revision: i64,
    to: DeliveryState,
    written: &Written,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET state = $1, revision = revision + 1, updated_at = $2, \
             approval = COALESCE($3, approval), approved_by = COALESCE($4, approved_by), lock_id = COALESCE($5, lock_id), \
             revocation = COALESCE($6, revocation), reroute_address_id = COALESCE($7, reroute_address_id) \
         WHERE id = $8 AND revision = $9",
    )
    .bind(to.as_str())
    .bind(at)
    .bind(&written.approval)
    .bind(&written.approved_by)
    .bind(&written.lock_id)
    .bind(&written.revocation)
    .bind(&written.reroute_address_id)
    .bind(id)
    .bind(revision)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Sets the ETA of the carrier's shipment while the courier is still on the way;
/// `false` when there is no such open shipment.
pub(crate) async fn set_eta_while_on_the_way(
    conn: &mut AnyConnection,
    carrier_id: &str,
    tracking_id: &str,
    eta: i64,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET eta = $1, revision = revision + 1, updated_at = $2 WHERE carrier_id = $3 AND tracking_id = $4 AND state IN ('announced', 'approaching')",
    )
    .bind(eta)
    .bind(at)
    .bind(carrier_id)
    .bind(tracking_id)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Where a delivery stands in its entry.
pub(crate) struct Progress {
    pub(crate) state: DeliveryState,
    pub(crate) revision: i64,
    /// What the lock last said about the door during the entry.
    pub(crate) door: Option<String>,
}

/// The household's delivery `id`'s progress.
pub(crate) async fn progress(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<Option<Progress>, ApiError> {
    let row = sqlx::query(
        "SELECT state, revision, door FROM deliveries WHERE id = $1 AND household_id = $2",
    )
    .bind(id)
    .bind(household_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Progress {
            state: parse_state(&row.try_get::<String, _>("state")?)?,
            revision: row.try_get("revision")?,
            door: row.try_get("door")?,
        })
    })
    .transpose()
}

/// Moves delivery `id` to `to` if it is still at `revision`, naming `lock_id` as
/// its lock if it names none yet; `false` when another request changed it first.
pub(crate) async fn move_if_unchanged(
    conn: &mut AnyConnection,
    id: &str,
    revision: i64,
    to: DeliveryState,
    lock_id: Option<&str>,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET state = $1, revision = revision + 1, updated_at = $2, lock_id = COALESCE(lock_id, $5) WHERE id = $3 AND revision = $4",
    )
    .bind(to.as_str())
    .bind(at)
    .bind(id)
    .bind(revision)
    .bind(lock_id)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Records what the lock says about the door; `false` when it said so already.
pub(crate) async fn set_door_if_changed(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
    door: DoorState,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE deliveries SET door = $1, door_at = $2, revision = revision + 1, updated_at = $2 \
         WHERE id = $3 AND household_id = $4 AND (door IS NULL OR door <> $1)",
    )
    .bind(door.as_str())
    .bind(at)
    .bind(id)
    .bind(household_id)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// What a courier's request to enter needs to know about the delivery.
#[derive(sqlx::FromRow)]
pub(crate) struct ForEntry {
    pub(crate) household_id: String,
    pub(crate) courier_key: String,
    pub(crate) approval: Option<String>,
    pub(crate) lock_id: Option<String>,
    pub(crate) shipment: Option<String>,
    pub(crate) carrier: String,
}

/// Delivery `id`, whichever household's, for a courier's request to enter.
pub(crate) async fn for_entry(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<ForEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.household_id, d.courier_key, d.approval, d.lock_id, d.shipment, c.name AS carrier \
         FROM deliveries d JOIN carriers c ON c.id = d.carrier_id WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The household's revocations of deliveries whose window ended after `since`.
pub(crate) async fn revocations_since(
    conn: &mut AnyConnection,
    household_id: &str,
    since: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT revocation FROM deliveries WHERE household_id = $1 AND revocation IS NOT NULL AND window_end > $2",
    )
    .bind(household_id)
    .bind(since)
    .fetch_all(conn)
    .await
}

/// The household's revocation of delivery `id`, if it blocked it.
pub(crate) async fn revocation(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let found: Option<Option<String>> =
        sqlx::query_scalar("SELECT revocation FROM deliveries WHERE id = $1 AND household_id = $2")
            .bind(id)
            .bind(household_id)
            .fetch_optional(conn)
            .await?;
    Ok(found.flatten())
}

/// The household's delivery `id`'s state, as stored.
pub(crate) async fn state(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT state FROM deliveries WHERE id = $1 AND household_id = $2")
        .bind(id)
        .bind(household_id)
        .fetch_optional(conn)
        .await
}

/// Deliveries in an entry at `lock_id` that the lock has already moved for.
pub(crate) async fn entries_under_way(
    conn: &mut AnyConnection,
    household_id: &str,
    lock_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM deliveries WHERE household_id = $1 AND lock_id = $2 \
         AND state IN ('granted', 'door_open') AND door IS NOT NULL",
    )
    .bind(household_id)
    .bind(lock_id)
    .fetch_all(conn)
    .await
}

/// The delivery at `lock_id`'s door or inside now, or the one whose entry ended
/// at or after `ended_since`, newest first.
pub(crate) async fn visit_at(
    conn: &mut AnyConnection,
    lock_id: &str,
    ended_since: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM deliveries WHERE lock_id = $1 AND (state IN ('at_door', 'granted', 'door_open') \
         OR (state IN ('blocked', 'completed', 'failed') AND updated_at >= $2)) ORDER BY updated_at DESC LIMIT 1",
    )
    .bind(lock_id)
    .bind(ended_since)
    .fetch_optional(conn)
    .await
}

/// A delivery a timer acts on.
#[derive(sqlx::FromRow)]
pub(crate) struct Due {
    pub(crate) id: String,
    pub(crate) household_id: String,
}

/// How many deliveries one timer tick takes on at most, per rule.
const DUE_PER_TICK: i64 = 200;

async fn due(
    conn: &mut AnyConnection,
    query: &'static str,
    at: i64,
) -> Result<Vec<Due>, sqlx::Error> {
    sqlx::query_as(query)
        .bind(at)
        .bind(DUE_PER_TICK)
        .fetch_all(conn)
        .await
}

/// Announced deliveries whose ETA is within their household's lead time of `now`.
pub(crate) async fn approaching(
    conn: &mut AnyConnection,
    now: i64,
) -> Result<Vec<(Due, i64)>, sqlx::Error> {
    // `eta <= now + lead`, not `eta - lead <= now`: the sum of two bounded values
    // cannot overflow, whatever a stored eta holds.
    let rows = sqlx::query(
        "SELECT d.id, d.household_id, d.eta FROM deliveries d JOIN households h ON h.id = d.household_id \
         WHERE d.state = 'announced' AND d.eta IS NOT NULL AND d.eta <= $1 + h.lead_time_minutes * 60000 LIMIT $2",
    )
    .bind(now)
    .bind(DUE_PER_TICK)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                Due {
                    id: row.try_get("id")?,
                    household_id: row.try_get("household_id")?,
                },
                row.try_get("eta")?,
            ))
        })
        .collect()
}

/// Granted deliveries the lock never moved for, granted before `before`.
pub(crate) async fn unused_grants(
    conn: &mut AnyConnection,
    before: i64,
) -> Result<Vec<Due>, sqlx::Error> {
    due(
        conn,
        "SELECT id, household_id FROM deliveries WHERE state = 'granted' AND door IS NULL AND updated_at < $1 LIMIT $2",
        before,
    )
    .await
}

/// Deliveries whose window ended before `now` with nobody inside: at the door,
/// or granted but the lock never moved.
pub(crate) async fn window_over(
    conn: &mut AnyConnection,
    now: i64,
) -> Result<Vec<Due>, sqlx::Error> {
    due(
        conn,
        "SELECT id, household_id FROM deliveries WHERE window_end < $1 \
         AND (state IN ('announced', 'approaching', 'at_door') OR (state = 'granted' AND door IS NULL)) LIMIT $2",
        now,
    )
    .await
}

/// A delivery whose lock has not confirmed the bolt thrown.
#[derive(sqlx::FromRow)]
pub(crate) struct RelockPending {
    pub(crate) id: String,
    pub(crate) household_id: String,
    pub(crate) lock_id: String,
    pub(crate) state: String,
    /// What the lock said last.
    pub(crate) door: String,
}

/// Deliveries whose lock last spoke before `late` and has not confirmed the bolt
/// thrown: after the door closed, after accepting a grant, or after a Block.
pub(crate) async fn relock_pending(
    conn: &mut AnyConnection,
    late: i64,
) -> Result<Vec<RelockPending>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, household_id, lock_id, state, door FROM deliveries \
         WHERE door_at < $1 AND lock_id IS NOT NULL AND ( \
             door = 'closed' \
          OR (door = 'unlocking' AND state = 'granted') \
          OR (door IN ('unlocking', 'unlocked', 'open') AND state = 'blocked' AND updated_at < $1)) LIMIT $2",
    )
    .bind(late)
    .bind(DUE_PER_TICK)
    .fetch_all(conn)
    .await
}

/// An entry under way and its camera's last heartbeat.
#[derive(sqlx::FromRow)]
pub(crate) struct EntryCamera {
    pub(crate) id: String,
    pub(crate) household_id: String,
    pub(crate) lock_id: String,
    pub(crate) feed_lost_at: Option<i64>,
    #[sqlx(rename = "received_at")]
    pub(crate) heartbeat_at: Option<i64>,
    pub(crate) recording: Option<i64>,
}

/// Every entry under way, with its camera's last heartbeat.
pub(crate) async fn entry_cameras(
    conn: &mut AnyConnection,
) -> Result<Vec<EntryCamera>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, d.household_id, d.lock_id, d.feed_lost_at, s.received_at, s.recording \
         FROM deliveries d LEFT JOIN lock_status s ON s.lock_id = d.lock_id \
         WHERE d.state IN ('granted', 'door_open') AND d.lock_id IS NOT NULL",
    )
    .fetch_all(conn)
    .await
}

/// Marks the entry's camera feed lost at `at` (`Some`) or back (`None`); `false`
/// when it was marked so already.
pub(crate) async fn mark_feed(
    conn: &mut AnyConnection,
    id: &str,
    lost_at: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let changed = match lost_at {
        Some(at) => {
            sqlx::query(
                "UPDATE deliveries SET feed_lost_at = $1 WHERE id = $2 AND feed_lost_at IS NULL",
            )
            .bind(at)
            .bind(id)
            .execute(conn)
            .await?
        }
        None => sqlx::query(
            "UPDATE deliveries SET feed_lost_at = NULL WHERE id = $1 AND feed_lost_at IS NOT NULL",
        )
        .bind(id)
        .execute(conn)
        .await?,
    };
    Ok(changed.rows_affected() > 0)
}
