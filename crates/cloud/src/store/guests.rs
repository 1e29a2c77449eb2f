//! Guests and their visits: every statement that reads or writes the guests and
//! guest_visits tables.

use sqlx::{AnyConnection, Row};

/// A guest as stored: the signed invitation is the truth about them.
pub(crate) struct Stored {
    pub(crate) id: String,
    pub(crate) invitation: String,
    pub(crate) revoked: bool,
}

/// A new guest, from the household's signed invitation.
pub(crate) struct Invited<'a> {
    pub(crate) id: &'a str,
    pub(crate) household_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) guest_key: &'a str,
    pub(crate) invitation: &'a str,
    pub(crate) created_by: &'a str,
    pub(crate) at: i64,
}

/// Stores a new guest; `false` when the household has a guest with this id.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    guest: &Invited<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO guests (id, household_id, name, guest_key, invitation, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(guest.id)
    .bind(guest.household_id)
    .bind(guest.name)
    .bind(guest.guest_key)
    .bind(guest.invitation)
    .bind(guest.created_by)
    .bind(guest.at)
    .execute(conn)
    .await;
    super::unless_taken(inserted)
}

/// The household's guests, oldest invitation first; revoked ones too unless
/// `active_only`.
pub(crate) async fn list(
    conn: &mut AnyConnection,
    household_id: &str,
    active_only: bool,
) -> Result<Vec<Stored>, sqlx::Error> {
    let query = if active_only {
        "SELECT id, invitation, revoked_at FROM guests WHERE household_id = $1 AND revoked_at IS NULL ORDER BY created_at"
    } else {
        "SELECT id, invitation, revoked_at FROM guests WHERE household_id = $1 ORDER BY created_at"
    };
    let rows = sqlx::query(query)
        .bind(household_id)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Stored {
                id: row.try_get("id")?,
                invitation: row.try_get("invitation")?,
                revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
            })
        })
        .collect()
}

/// Whether the household's guest `id` is revoked; `None` when there is no such guest.
pub(crate) async fn revoked(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<Option<bool>, sqlx::Error> {
    let found: Option<Option<i64>> =
        sqlx::query_scalar("SELECT revoked_at FROM guests WHERE id = $1 AND household_id = $2")
            .bind(id)
            .bind(household_id)
            .fetch_optional(conn)
            .await?;
    Ok(found.map(|at| at.is_some()))
}

/// Revokes the household's guest `id` with the signed `revocation` (a second
/// revocation keeps the first).
pub(crate) async fn revoke(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
    revocation: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE guests SET revoked_at = $1, revocation = $2 WHERE household_id = $3 AND id = $4 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(revocation)
    .bind(household_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A guest as the lock they stand at knows them.
pub(crate) struct AtLock {
    pub(crate) household_id: String,
    pub(crate) guest_key: String,
    pub(crate) invitation: String,
    pub(crate) revoked: bool,
}

/// Guest `id` of the household that owns `lock_id` (a guest id is unique only
/// within its household).
pub(crate) async fn at_lock(
    conn: &mut AnyConnection,
    lock_id: &str,
    id: &str,
) -> Result<Option<AtLock>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT g.household_id, g.guest_key, g.invitation, g.revoked_at FROM guests g \
         JOIN locks l ON l.household_id = g.household_id WHERE l.id = $1 AND g.id = $2",
    )
    .bind(lock_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(AtLock {
            household_id: row.try_get("household_id")?,
            guest_key: row.try_get("guest_key")?,
            invitation: row.try_get("invitation")?,
            revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
        })
    })
    .transpose()
}

/// Every revocation of the household's guests.
pub(crate) async fn revocations(
    conn: &mut AnyConnection,
    household_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT revocation FROM guests WHERE household_id = $1 AND revocation IS NOT NULL",
    )
    .bind(household_id)
    .fetch_all(conn)
    .await
}

/// The revocation of the household's guest `id`, if revoked.
pub(crate) async fn revocation(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let found: Option<Option<String>> =
        sqlx::query_scalar("SELECT revocation FROM guests WHERE household_id = $1 AND id = $2")
            .bind(household_id)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(found.flatten())
}

/// A guest's visit the cloud granted.
pub(crate) struct Visit<'a> {
    pub(crate) id: &'a str,
    pub(crate) household_id: &'a str,
    pub(crate) guest_id: &'a str,
    pub(crate) lock_id: &'a str,
    pub(crate) grant_id: &'a str,
    pub(crate) at: i64,
}

/// Stores a granted visit.
pub(crate) async fn start_visit(
    conn: &mut AnyConnection,
    visit: &Visit<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO guest_visits (id, household_id, guest_id, lock_id, grant_id, state, started_at) VALUES ($1, $2, $3, $4, $5, 'granted', $6)",
    )
    .bind(visit.id)
    .bind(visit.household_id)
    .bind(visit.guest_id)
    .bind(visit.lock_id)
    .bind(visit.grant_id)
    .bind(visit.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The guest's newest visit at `lock_id` that is in one of `states` (one to three).
pub(crate) async fn visit_in(
    conn: &mut AnyConnection,
    household_id: &str,
    guest_id: &str,
    lock_id: &str,
    states: &[&str],
) -> Result<Option<String>, sqlx::Error> {
    let state = |i: usize| states.get(i).or(states.first()).copied().unwrap_or("");
    sqlx::query_scalar(
        "SELECT id FROM guest_visits WHERE household_id = $1 AND guest_id = $2 AND lock_id = $3 AND state IN ($4, $5, $6) ORDER BY started_at DESC LIMIT 1",
    )
    .bind(household_id)
    .bind(guest_id)
    .bind(lock_id)
    .bind(state(0))
    .bind(state(1))
    .bind(state(2))
    .fetch_optional(conn)
    .await
}

/// The guest visit `lock_id`'s camera is filming now, if any: one under way that
/// started after `started_since`, or one that ended after `ended_since`.
pub(crate) async fn visit_at(
    conn: &mut AnyConnection,
    lock_id: &str,
    started_since: i64,
    ended_since: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM guest_visits WHERE lock_id = $1 AND ((state IN ('granted', 'door_open', 'door_closed') \
         AND started_at >= $2) OR (ended_at IS NOT NULL AND ended_at >= $3)) ORDER BY started_at DESC LIMIT 1",
    )
    .bind(lock_id)
    .bind(started_since)
    .bind(ended_since)
    .fetch_optional(conn)
    .await
}

/// Moves visit `id` to `state`, ended at `ended_at` if given.
pub(crate) async fn move_visit(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    ended_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE guest_visits SET state = $1, ended_at = COALESCE($2, ended_at) WHERE id = $3",
    )
    .bind(state)
    .bind(ended_at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
