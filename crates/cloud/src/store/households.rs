//! The households table's settings and signed policy: every statement that reads or
//! writes them. (Its login columns are the accounts' business; its event counter,
//! the events'.)

use doorstep_api::Household;
use sqlx::{AnyConnection, Row};

/// Whether household `id` exists.
pub(crate) async fn exists(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM households WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// The household's public key (base64url), what its signatures are checked with.
pub(crate) async fn public_key(conn: &mut AnyConnection, id: &str) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT household_public_key FROM households WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// The household's settings.
pub(crate) async fn settings(conn: &mut AnyConnection, id: &str) -> Result<Household, sqlx::Error> {
    let row =
        sqlx::query("SELECT id, email, time_zone, lead_time_minutes FROM households WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?;
    Ok(Household {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        time_zone: row.try_get("time_zone")?,
        lead_time_minutes: row.try_get("lead_time_minutes")?,
    })
}

/// Changes the settings given (`None` keeps one).
pub(crate) async fn change_settings(
    conn: &mut AnyConnection,
    id: &str,
    time_zone: Option<&str>,
    lead_time_minutes: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE households SET time_zone = COALESCE($1, time_zone), lead_time_minutes = COALESCE($2, lead_time_minutes) WHERE id = $3",
    )
    .bind(time_zone)
    .bind(lead_time_minutes)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The household's signed standing policy, if it has one.
pub(crate) async fn policy(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT policy FROM households WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// The version of the household's standing policy, if it has one.
pub(crate) async fn policy_version(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT policy_version FROM households WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Stores `policy` as version `version` unless one as new is there already;
/// `false` when a newer policy was saved meanwhile.
pub(crate) async fn set_policy_if_newer(
    conn: &mut AnyConnection,
    id: &str,
    policy: &str,
    version: i64,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE households SET policy = $1, policy_version = $2 WHERE id = $3 AND (policy_version IS NULL OR policy_version < $2)",
    )
    .bind(policy)
    .bind(version)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() > 0)
}
