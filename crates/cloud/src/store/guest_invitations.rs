//! Guest invitations by code: every statement on the guest_invitations table.

use doorstep_api::PendingInvitation;
use sqlx::{AnyConnection, Row};

/// A new invitation.
pub(crate) struct New<'a> {
    pub(crate) id: &'a str,
    pub(crate) household_id: &'a str,
    pub(crate) guest_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) sealed: &'a str,
    pub(crate) created_by: &'a str,
    pub(crate) at: i64,
    pub(crate) expires_at: i64,
}

/// Stores a new invitation; `false` when one with this id exists.
pub(crate) async fn insert(conn: &mut AnyConnection, new: &New<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO guest_invitations (id, household_id, guest_id, name, sealed, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.id)
    .bind(new.household_id)
    .bind(new.guest_id)
    .bind(new.name)
    .bind(new.sealed)
    .bind(new.created_by)
    .bind(new.at)
    .bind(new.expires_at)
    .execute(conn)
    .await;
    super::unless_taken(inserted)
}

fn pending(row: &sqlx::any::AnyRow) -> Result<PendingInvitation, sqlx::Error> {
    Ok(PendingInvitation {
        id: row.try_get("id")?,
        guest_id: row.try_get("guest_id")?,
        name: row.try_get("name")?,
        sealed: row.try_get("sealed")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        guest_key: row.try_get("guest_key")?,
        proof: row.try_get("proof")?,
    })
}

const COLUMNS: &str = "id, guest_id, name, sealed, created_at, expires_at, guest_key, proof";

/// The household's invitations not yet completed: redeemed ones, and unredeemed ones
/// until they expire.
pub(crate) async fn pending_of(
    conn: &mut AnyConnection,
    household_id: &str,
    now: i64,
) -> Result<Vec<PendingInvitation>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM guest_invitations WHERE household_id = $1 AND completed_at IS NULL \
         AND (redeemed_at IS NOT NULL OR expires_at > $2) ORDER BY created_at"
    ))
    .bind(household_id)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(pending).collect()
}

/// The household's invitation `id`, whatever its state, with its household and
/// whether it was completed.
pub(crate) async fn get(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(String, PendingInvitation, bool)>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT household_id, completed_at, {COLUMNS} FROM guest_invitations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok((
            row.try_get("household_id")?,
            pending(&row)?,
            row.try_get::<Option<i64>, _>("completed_at")?.is_some(),
        ))
    })
    .transpose()
}

/// Records the guest's key and proof on an unredeemed, unexpired invitation;
/// `false` when it was redeemed already or expired.
pub(crate) async fn redeem(
    conn: &mut AnyConnection,
    id: &str,
    guest_key: &str,
    proof: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE guest_invitations SET guest_key = $1, proof = $2, redeemed_at = $3 \
         WHERE id = $4 AND redeemed_at IS NULL AND expires_at > $3",
    )
    .bind(guest_key)
    .bind(proof)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a redeemed invitation completed; `false` when it was completed already.
pub(crate) async fn complete(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE guest_invitations SET completed_at = $1 WHERE id = $2 AND completed_at IS NULL AND redeemed_at IS NOT NULL",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Withdraws the household's invitation `id`; `false` when it has none pending.
pub(crate) async fn cancel(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM guest_invitations WHERE id = $1 AND household_id = $2 AND completed_at IS NULL",
    )
    .bind(id)
    .bind(household_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
