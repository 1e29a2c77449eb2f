//! The household's login, its devices and their sessions: every statement on the
//! households table's login and second-factor columns, and on the devices,
//! sessions, retired_refresh_tokens and sign_in_failures tables.

use sqlx::{AnyConnection, Row};

// --- The login -------------------------------------------------------------

/// A new household with its login.
pub(crate) struct NewLogin<'a> {
    pub(crate) household_id: &'a str,
    pub(crate) email: &'a str,
    pub(crate) auth_hash: &'a str,
    pub(crate) kdf_salt: &'a str,
    pub(crate) household_public_key: &'a str,
    pub(crate) wrapped_household_key: &'a str,
    pub(crate) time_zone: &'a str,
    pub(crate) lead_time_minutes: i64,
    pub(crate) recovery: Option<Recovery<'a>>,
    pub(crate) at: i64,
}

/// What the cloud keeps for a recovery key.
#[derive(Clone, Copy)]
pub(crate) struct Recovery<'a> {
    /// The Argon2id hash of the auth key derived from it.
    pub(crate) auth_hash: &'a str,
    /// The household key sealed under it.
    pub(crate) wrapped_household_key: &'a str,
}

/// Whether a login with this e-mail address exists.
pub(crate) async fn email_taken(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM households WHERE email = $1")
        .bind(email)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Stores a new household and its login; `false` when the e-mail address was
/// taken meanwhile.
pub(crate) async fn insert_login(
    conn: &mut AnyConnection,
    login: &NewLogin<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO households (id, email, auth_hash, kdf_salt, household_public_key, wrapped_household_key, time_zone, lead_time_minutes, event_seq, created_at, recovery_auth_hash, recovery_wrapped_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11)",
    )
    .bind(login.household_id)
    .bind(login.email)
    .bind(login.auth_hash)
    .bind(login.kdf_salt)
    .bind(login.household_public_key)
    .bind(login.wrapped_household_key)
    .bind(login.time_zone)
    .bind(login.lead_time_minutes)
    .bind(login.at)
    .bind(login.recovery.map(|r| r.auth_hash))
    .bind(login.recovery.map(|r| r.wrapped_household_key))
    .execute(conn)
    .await;
    super::unless_taken(inserted)
}

/// The key-derivation salt of the login with this e-mail address.
pub(crate) async fn kdf_salt(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT kdf_salt FROM households WHERE email = $1")
        .bind(email)
        .fetch_optional(conn)
        .await
}

/// A login as signing in needs it.
#[derive(sqlx::FromRow)]
pub(crate) struct Login {
    #[sqlx(rename = "id")]
    pub(crate) household_id: String,
    pub(crate) auth_hash: String,
    pub(crate) household_public_key: String,
    pub(crate) wrapped_household_key: String,
}

/// The login with this e-mail address.
pub(crate) async fn login(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<Login>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, auth_hash, household_public_key, wrapped_household_key FROM households WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(conn)
    .await
}

/// The household's e-mail address and password hash.
pub(crate) async fn credentials(
    conn: &mut AnyConnection,
    household_id: &str,
) -> Result<(String, String), sqlx::Error> {
    let row = sqlx::query("SELECT email, auth_hash FROM households WHERE id = $1")
        .bind(household_id)
        .fetch_one(conn)
        .await?;
    Ok((row.try_get("email")?, row.try_get("auth_hash")?))
}

// --- The recovery key ------------------------------------------------------

/// A login as recovering it needs it.
#[derive(sqlx::FromRow)]
pub(crate) struct RecoverableLogin {
    #[sqlx(rename = "id")]
    pub(crate) household_id: String,
    pub(crate) household_public_key: String,
    pub(crate) recovery_auth_hash: Option<String>,
    pub(crate) recovery_wrapped_key: Option<String>,
}

/// The login with this e-mail address, with its recovery key's hash and seal.
pub(crate) async fn recoverable_login(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<RecoverableLogin>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, household_public_key, recovery_auth_hash, recovery_wrapped_key FROM households WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(conn)
    .await
}

/// Replaces the household's recovery key (the one before stops working).
pub(crate) async fn set_recovery(
    conn: &mut AnyConnection,
    household_id: &str,
    recovery: Recovery<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE households SET recovery_auth_hash = $1, recovery_wrapped_key = $2 WHERE id = $3",
    )
    .bind(recovery.auth_hash)
    .bind(recovery.wrapped_household_key)
    .bind(household_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A new password for the login: its auth key's hash, salt and sealed household
/// key, replaced together — only while the recovery key is still the one that was
/// checked (`recovery_auth_hash`), so a recovery key replaced meanwhile resets
/// nothing. `false` when it was replaced.
pub(crate) async fn reset_password(
    conn: &mut AnyConnection,
    household_id: &str,
    recovery_auth_hash: &str,
    password: &NewPassword<'_>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE households SET auth_hash = $1, kdf_salt = $2, wrapped_household_key = $3 \
         WHERE id = $4 AND recovery_auth_hash = $5",
    )
    .bind(password.auth_hash)
    .bind(password.kdf_salt)
    .bind(password.wrapped_household_key)
    .bind(household_id)
    .bind(recovery_auth_hash)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// A password as the cloud keeps it.
pub(crate) struct NewPassword<'a> {
    pub(crate) auth_hash: &'a str,
    pub(crate) kdf_salt: &'a str,
    pub(crate) wrapped_household_key: &'a str,
}

// --- The second factor -----------------------------------------------------

/// Keeps `secret` as the second factor being set up.
pub(crate) async fn set_totp_pending(
    conn: &mut AnyConnection,
    household_id: &str,
    secret: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE households SET totp_pending = $1 WHERE id = $2")
        .bind(secret)
        .bind(household_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The second factor being set up, if any.
pub(crate) async fn totp_pending(
    conn: &mut AnyConnection,
    household_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT totp_pending FROM households WHERE id = $1")
        .bind(household_id)
        .fetch_one(conn)
        .await
}

/// Turns the pending second factor on, `step` its first code's time step.
pub(crate) async fn activate_totp(
    conn: &mut AnyConnection,
    household_id: &str,
    step: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE households SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 WHERE id = $2",
    )
    .bind(step)
    .bind(household_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The household's second factor, if on, and the last time step a code was used.
pub(crate) async fn totp(
    conn: &mut AnyConnection,
    household_id: &str,
) -> Result<(Option<String>, Option<i64>), sqlx::Error> {
    let row = sqlx::query("SELECT totp_secret, totp_last_step FROM households WHERE id = $1")
        .bind(household_id)
        .fetch_one(conn)
        .await?;
    Ok((row.try_get("totp_secret")?, row.try_get("totp_last_step")?))
}

/// Claims time step `step` for one sign-in; `false` when a code of it (or a later
/// one) was used already.
pub(crate) async fn claim_totp_step(
    conn: &mut AnyConnection,
    household_id: &str,
    step: i64,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "UPDATE households SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(household_id)
    .execute(conn)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

// --- Failed sign-ins -------------------------------------------------------

/// Records a failed sign-in.
pub(crate) async fn record_failure(
    conn: &mut AnyConnection,
    email: &str,
    ip: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sign_in_failures (email, at, ip) VALUES ($1, $2, $3)")
        .bind(email)
        .bind(at)
        .bind(ip)
        .execute(conn)
        .await?;
    Ok(())
}

/// Failed sign-ins after `since`: for this e-mail from this address, from this
/// address, and for this e-mail.
pub(crate) struct Failures {
    pub(crate) here: i64,
    pub(crate) from_address: i64,
    pub(crate) for_account: i64,
}

/// Counts the failed sign-ins after `since`.
pub(crate) async fn failures(
    conn: &mut AnyConnection,
    email: &str,
    ip: &str,
    since: i64,
) -> Result<Failures, sqlx::Error> {
    let here = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sign_in_failures WHERE email = $1 AND ip = $2 AND at > $3",
    )
    .bind(email)
    .bind(ip)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    let from_address =
        sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE ip = $1 AND at > $2")
            .bind(ip)
            .bind(since)
            .fetch_one(&mut *conn)
            .await?;
    let for_account =
        sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE email = $1 AND at > $2")
            .bind(email)
            .bind(since)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Failures {
        here,
        from_address,
        for_account,
    })
}

// --- Devices ---------------------------------------------------------------

/// Stores a newly signed-in device.
pub(crate) async fn insert_device(
    conn: &mut AnyConnection,
    id: &str,
    household_id: &str,
    name: &str,
    device_key: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO devices (id, household_id, name, device_key, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(id)
    .bind(household_id)
    .bind(name)
    .bind(device_key)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether a device with this key was ever signed in to the login with this e-mail.
pub(crate) async fn known_device(
    conn: &mut AnyConnection,
    email: &str,
    device_key: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT d.id FROM devices d JOIN households h ON h.id = d.household_id \
         WHERE h.email = $1 AND d.device_key = $2 LIMIT 1",
    )
    .bind(email)
    .bind(device_key)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Device `id`'s public key.
pub(crate) async fn device_key(conn: &mut AnyConnection, id: &str) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT device_key FROM devices WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// The household device `id` belongs to.
pub(crate) async fn device_owner(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT household_id FROM devices WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// A device as the household's list shows it.
pub(crate) struct Listed {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) device_key: String,
    pub(crate) created_at: i64,
    pub(crate) last_seen_at: i64,
    pub(crate) signed_in: bool,
}

/// The household's devices, oldest first.
pub(crate) async fn devices(
    conn: &mut AnyConnection,
    household_id: &str,
) -> Result<Vec<Listed>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, name, device_key, created_at, last_seen_at, signed_out_at FROM devices WHERE household_id = $1 ORDER BY created_at",
    )
    .bind(household_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Listed {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                device_key: row.try_get("device_key")?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                signed_in: row.try_get::<Option<i64>, _>("signed_out_at")?.is_none(),
            })
        })
        .collect()
}

/// Device `id` was heard from.
pub(crate) async fn device_seen(
    conn: &mut AnyConnection,
    id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Signs device `id` out: every session of it ends. `false` when none was open.
pub(crate) async fn sign_out_device(
    conn: &mut AnyConnection,
    id: &str,
    reason: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let revoked = sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE device_id = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(reason)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE devices SET signed_out_at = $1 WHERE id = $2 AND signed_out_at IS NULL")
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(revoked.rows_affected() > 0)
}

// --- Sessions --------------------------------------------------------------

/// A new session's token hashes and lifetimes.
pub(crate) struct NewSession<'a> {
    pub(crate) id: &'a str,
    pub(crate) household_id: &'a str,
    pub(crate) device_id: &'a str,
    pub(crate) access_hash: &'a str,
    pub(crate) access_expires_at: i64,
    pub(crate) refresh_hash: &'a str,
    pub(crate) refresh_expires_at: i64,
    pub(crate) at: i64,
}

/// Stores a new session.
pub(crate) async fn insert_session(
    conn: &mut AnyConnection,
    session: &NewSession<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, household_id, device_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(session.id)
    .bind(session.household_id)
    .bind(session.device_id)
    .bind(session.access_hash)
    .bind(session.access_expires_at)
    .bind(session.refresh_hash)
    .bind(session.refresh_expires_at)
    .bind(session.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A session as a token finds it.
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) household_id: String,
    pub(crate) device_id: String,
    /// When the token it was found by expires (not set for a retired token).
    pub(crate) expires_at: i64,
    pub(crate) revoked: bool,
}

fn session(row: &sqlx::any::AnyRow, expires: Option<&str>) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: row.try_get("id")?,
        household_id: row.try_get("household_id")?,
        device_id: row.try_get("device_id")?,
        expires_at: match expires {
            Some(column) => row.try_get(column)?,
            None => 0,
        },
        revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
    })
}

/// The session whose access token hashes to `access_hash`.
pub(crate) async fn by_access_token(
    conn: &mut AnyConnection,
    access_hash: &str,
) -> Result<Option<Session>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, household_id, device_id, access_expires_at, revoked_at FROM sessions WHERE access_hash = $1",
    )
    .bind(access_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|row| session(&row, Some("access_expires_at")))
        .transpose()
}

/// The session whose current refresh token hashes to `refresh_hash`.
pub(crate) async fn by_refresh_token(
    conn: &mut AnyConnection,
    refresh_hash: &str,
) -> Result<Option<Session>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, household_id, device_id, refresh_expires_at, revoked_at FROM sessions WHERE refresh_hash = $1",
    )
    .bind(refresh_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|row| session(&row, Some("refresh_expires_at")))
        .transpose()
}

/// The session a used (retired) refresh token hashing to `refresh_hash` belonged to.
pub(crate) async fn by_retired_refresh_token(
    conn: &mut AnyConnection,
    refresh_hash: &str,
) -> Result<Option<Session>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT s.id, s.household_id, s.device_id, s.revoked_at FROM retired_refresh_tokens r \
         JOIN sessions s ON s.id = r.session_id WHERE r.hash = $1",
    )
    .bind(refresh_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|row| session(&row, None)).transpose()
}

/// New tokens for a session.
pub(crate) struct Rotation<'a> {
    pub(crate) access_hash: &'a str,
    pub(crate) access_expires_at: i64,
    pub(crate) refresh_hash: &'a str,
    pub(crate) refresh_expires_at: i64,
}

/// Retires the refresh token hashing to `presented` and gives session `id` the
/// `new` tokens; `false` when another request rotated it first.
pub(crate) async fn rotate(
    conn: &mut AnyConnection,
    id: &str,
    presented: &str,
    new: &Rotation<'_>,
    at: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO retired_refresh_tokens (hash, session_id, retired_at) VALUES ($1, $2, $3)",
    )
    .bind(presented)
    .bind(id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    let updated = sqlx::query(
        "UPDATE sessions SET access_hash = $1, access_expires_at = $2, refresh_hash = $3, refresh_expires_at = $4 \
         WHERE id = $5 AND refresh_hash = $6 AND revoked_at IS NULL",
    )
    .bind(new.access_hash)
    .bind(new.access_expires_at)
    .bind(new.refresh_hash)
    .bind(new.refresh_expires_at)
    .bind(id)
    .bind(presented)
    .execute(&mut *conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// When session `id` began and when its password was last confirmed.
pub(crate) async fn confirmation(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row = sqlx::query("SELECT created_at, confirmed_at FROM sessions WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok((row.try_get("created_at")?, row.try_get("confirmed_at")?))
}

/// The password was confirmed on session `id` at `at`.
pub(crate) async fn confirm(
    conn: &mut AnyConnection,
    id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET confirmed_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether device `id` is signed out (or unknown).
pub(crate) async fn signed_out(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<Option<i64>> =
        sqlx::query_scalar("SELECT signed_out_at FROM devices WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_none_or(|at| at.is_some()))
}
