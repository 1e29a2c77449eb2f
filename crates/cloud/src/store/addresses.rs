//! The household's alternate addresses: every statement on the addresses table.
//! A removed address is kept (deliveries rerouted there still name it) but no
//! longer listed or offered.

use doorstep_api::{Address, AddressKind};
use sqlx::{AnyConnection, Row};

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

fn address(row: &sqlx::any::AnyRow) -> Result<Address, sqlx::Error> {
    Ok(Address {
        id: row.try_get("id")?,
        label: row.try_get("label")?,
        kind: parse_kind(&row.try_get::<String, _>("kind")?),
        address: row.try_get("address")?,
    })
}

/// One live address of the household.
pub(crate) async fn find(
    conn: &mut AnyConnection,
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
    row.as_ref().map(address).transpose()
}

/// The household's live addresses, oldest first.
pub(crate) async fn list(
    conn: &mut AnyConnection,
    household_id: &str,
) -> Result<Vec<Address>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, label, kind, address FROM addresses WHERE household_id = $1 AND deleted_at IS NULL ORDER BY created_at",
    )
    .bind(household_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(address).collect()
}

/// Stores a new address of the household.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    household_id: &str,
    new: &Address,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO addresses (id, household_id, label, kind, address, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&new.id)
    .bind(household_id)
    .bind(&new.label)
    .bind(kind_name(new.kind))
    .bind(&new.address)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the household's address `id`; `false` when it has no such live address.
pub(crate) async fn remove(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE addresses SET deleted_at = $1 WHERE id = $2 AND household_id = $3 AND deleted_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .bind(household_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
