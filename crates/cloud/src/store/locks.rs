//! Locks and what they report: every statement on the locks, lock_status,
//! lock_journal, pairing_codes and grants tables.

use sqlx::{AnyConnection, Row};

/// A lock as its bearer token finds it.
#[derive(sqlx::FromRow)]
pub(crate) struct ByToken {
    pub(crate) id: String,
    pub(crate) household_id: String,
    pub(crate) camera_key: String,
}

/// The lock whose token hashes to `token_hash`.
pub(crate) async fn by_token(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<ByToken>, sqlx::Error> {
    sqlx::query_as("SELECT id, household_id, camera_key FROM locks WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(conn)
        .await
}

/// A lock's two public keys (base64url).
#[derive(sqlx::FromRow)]
pub(crate) struct Keys {
    pub(crate) lock_key: String,
    pub(crate) camera_key: String,
}

/// The household's lock `id`'s keys; `None` when it has no such lock.
pub(crate) async fn keys(
    conn: &mut AnyConnection,
    household_id: &str,
    id: &str,
) -> Result<Option<Keys>, sqlx::Error> {
    sqlx::query_as("SELECT lock_key, camera_key FROM locks WHERE id = $1 AND household_id = $2")
        .bind(id)
        .bind(household_id)
        .fetch_optional(conn)
        .await
}

/// The household that owns lock `id`.
pub(crate) async fn owner(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT household_id FROM locks WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The ids of the household's locks.
pub(crate) async fn ids(
    conn: &mut AnyConnection,
    household_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM locks WHERE household_id = $1")
        .bind(household_id)
        .fetch_all(conn)
        .await
}

/// Keeps the camera's newest signed heartbeat (the newest to arrive counts).
pub(crate) async fn record_heartbeat(
    conn: &mut AnyConnection,
    lock_id: &str,
    heartbeat: &str,
    recording: bool,
    captured_at: i64,
    received_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO lock_status (lock_id, heartbeat, recording, captured_at, received_at, recording_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (lock_id) DO UPDATE SET heartbeat = excluded.heartbeat, recording = excluded.recording, \
         captured_at = excluded.captured_at, received_at = excluded.received_at, \
         recording_at = COALESCE(excluded.recording_at, lock_status.recording_at)",
    )
    .bind(lock_id)
    .bind(heartbeat)
    .bind(i64::from(recording))
    .bind(captured_at)
    .bind(received_at)
    .bind(recording.then_some(received_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The lock said it is alive (its camera may be silent).
pub(crate) async fn mark_seen(
    conn: &mut AnyConnection,
    id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE locks SET seen_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// When the cloud last heard from a lock, and its camera's last heartbeat.
#[derive(Default, sqlx::FromRow)]
pub(crate) struct Heard {
    pub(crate) heartbeat: Option<String>,
    #[sqlx(rename = "received_at")]
    pub(crate) heartbeat_at: Option<i64>,
    pub(crate) seen_at: Option<i64>,
}

/// What the cloud last heard from lock `id` (all `None` when nothing, or no lock).
pub(crate) async fn heard(conn: &mut AnyConnection, id: &str) -> Result<Heard, sqlx::Error> {
    let heard: Option<Heard> = sqlx::query_as(
        "SELECT s.heartbeat, s.received_at, l.seen_at FROM locks l LEFT JOIN lock_status s ON s.lock_id = l.id WHERE l.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(heard.unwrap_or_default())
}

/// What the timers need to judge whether a lock and its camera are there.
#[derive(sqlx::FromRow)]
pub(crate) struct Connectivity {
    pub(crate) id: String,
    pub(crate) household_id: String,
    pub(crate) name: String,
    pub(crate) paired_at: i64,
    pub(crate) seen_at: Option<i64>,
    #[sqlx(rename = "received_at")]
    pub(crate) heartbeat_at: Option<i64>,
    /// The last heartbeat that said the camera records.
    pub(crate) recording_at: Option<i64>,
    pub(crate) offline_since: Option<i64>,
    pub(crate) camera_down_since: Option<i64>,
}

/// Every lock, with when it and its camera were last heard.
pub(crate) async fn connectivity(
    conn: &mut AnyConnection,
) -> Result<Vec<Connectivity>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.household_id, l.name, l.paired_at, l.seen_at, s.received_at, s.recording_at, \
         l.offline_since, l.camera_down_since FROM locks l LEFT JOIN lock_status s ON s.lock_id = l.id",
    )
    .fetch_all(conn)
    .await
}

/// Which of a lock's two quiet marks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum QuietMark {
    /// The lock itself (`offline_since`).
    Lock,
    /// Its camera (`camera_down_since`).
    Camera,
}

/// Sets (`Some`) or clears (`None`) a quiet mark, only if it is not already so:
/// false when another pass got there first.
pub(crate) async fn mark_quiet(
    conn: &mut AnyConnection,
    id: &str,
    mark: QuietMark,
    since: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let sql = match (mark, since.is_some()) {
        (QuietMark::Lock, true) => {
            "UPDATE locks SET offline_since = $1 WHERE id = $2 AND offline_since IS NULL"
        }
        (QuietMark::Lock, false) => {
            "UPDATE locks SET offline_since = $1 WHERE id = $2 AND offline_since IS NOT NULL"
        }
        (QuietMark::Camera, true) => {
            "UPDATE locks SET camera_down_since = $1 WHERE id = $2 AND camera_down_since IS NULL"
        }
        (QuietMark::Camera, false) => {
            "UPDATE locks SET camera_down_since = $1 WHERE id = $2 AND camera_down_since IS NOT NULL"
        }
    };
    let done = sqlx::query(sql).bind(since).bind(id).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps what a journal line says of the bolt and the door (`None`: says nothing
/// of it), as of `at`.
pub(crate) async fn set_position(
    conn: &mut AnyConnection,
    id: &str,
    bolt: Option<&str>,
    door: Option<&str>,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE locks SET bolt = COALESCE($1, bolt), door = COALESCE($2, door), position_at = $3 WHERE id = $4",
    )
    .bind(bolt)
    .bind(door)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A lock as the household's list shows it.
pub(crate) struct Listed {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) paired_at: i64,
    pub(crate) seen_at: Option<i64>,
    pub(crate) heartbeat_at: Option<i64>,
    pub(crate) recording: bool,
    pub(crate) bolt: Option<String>,
    pub(crate) door: Option<String>,
    pub(crate) position_at: Option<i64>,
}

/// The household's locks, oldest pairing first.
pub(crate) async fn list(
    conn: &mut AnyConnection,
    household_id: &str,
) -> Result<Vec<Listed>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT l.id, l.name, l.kind, l.paired_at, l.seen_at, s.received_at, s.recording, l.bolt, l.door, l.position_at FROM locks l \
         LEFT JOIN lock_status s ON s.lock_id = l.id WHERE l.household_id = $1 ORDER BY l.paired_at",
    )
    .bind(household_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Listed {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                kind: row.try_get("kind")?,
                paired_at: row.try_get("paired_at")?,
                seen_at: row.try_get("seen_at")?,
                heartbeat_at: row.try_get("received_at")?,
                recording: row.try_get::<Option<i64>, _>("recording")? == Some(1),
                bolt: row.try_get("bolt")?,
                door: row.try_get("door")?,
                position_at: row.try_get("position_at")?,
            })
        })
        .collect()
}

/// A lock about to be paired, as the household named it.
pub(crate) struct Pairing<'a> {
    pub(crate) code_hash: &'a str,
    pub(crate) household_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) expires_at: i64,
}

/// Stores a one-time pairing code (its hash).
pub(crate) async fn add_pairing_code(
    conn: &mut AnyConnection,
    pairing: &Pairing<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pairing_codes (code_hash, household_id, name, kind, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(pairing.code_hash)
    .bind(pairing.household_id)
    .bind(pairing.name)
    .bind(pairing.kind)
    .bind(pairing.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a used pairing code was for.
#[derive(sqlx::FromRow)]
pub(crate) struct Paired {
    pub(crate) household_id: String,
    pub(crate) name: String,
    pub(crate) kind: String,
}

/// Uses the pairing code hashing to `code_hash`, if unused and not expired at `now`.
pub(crate) async fn use_pairing_code(
    conn: &mut AnyConnection,
    code_hash: &str,
    now: i64,
) -> Result<Option<Paired>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE pairing_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING household_id, name, kind",
    )
    .bind(now)
    .bind(code_hash)
    .fetch_optional(conn)
    .await
}

/// A newly paired lock.
pub(crate) struct NewLock<'a> {
    pub(crate) id: &'a str,
    pub(crate) household_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) lock_key: &'a str,
    pub(crate) camera_key: &'a str,
    pub(crate) token_hash: &'a str,
    pub(crate) paired_at: i64,
}

/// Stores a newly paired lock.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    lock: &NewLock<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO locks (id, household_id, name, kind, lock_key, camera_key, token_hash, paired_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(lock.id)
    .bind(lock.household_id)
    .bind(lock.name)
    .bind(lock.kind)
    .bind(lock.lock_key)
    .bind(lock.camera_key)
    .bind(lock.token_hash)
    .bind(lock.paired_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// An entry grant the cloud issued.
pub(crate) struct Issued<'a> {
    pub(crate) id: &'a str,
    pub(crate) household_id: &'a str,
    pub(crate) delivery_id: Option<&'a str>,
    pub(crate) lock_id: &'a str,
    pub(crate) holder_key: &'a str,
    pub(crate) window_start: i64,
    pub(crate) window_end: i64,
    pub(crate) signed: &'a str,
    pub(crate) issued_at: i64,
}

/// Records an issued grant.
pub(crate) async fn insert_grant(
    conn: &mut AnyConnection,
    grant: &Issued<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO grants (id, household_id, delivery_id, lock_id, holder_key, window_start, window_end, signed, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(grant.id)
    .bind(grant.household_id)
    .bind(grant.delivery_id)
    .bind(grant.lock_id)
    .bind(grant.holder_key)
    .bind(grant.window_start)
    .bind(grant.window_end)
    .bind(grant.signed)
    .bind(grant.issued_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the cloud issued grant `id` for the household's lock `lock_id`.
pub(crate) async fn grant_issued(
    conn: &mut AnyConnection,
    household_id: &str,
    lock_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM grants WHERE id = $1 AND household_id = $2 AND lock_id = $3",
    )
    .bind(id)
    .bind(household_id)
    .bind(lock_id)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// A line of a lock's journal as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct JournalLine {
    pub(crate) kind: String,
    pub(crate) delivery_id: Option<String>,
    pub(crate) payload: String,
    pub(crate) at: i64,
}

/// Line `seq` of lock `lock_id`'s journal.
pub(crate) async fn journal_line(
    conn: &mut AnyConnection,
    lock_id: &str,
    seq: i64,
) -> Result<Option<JournalLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, delivery_id, payload, at FROM lock_journal WHERE lock_id = $1 AND seq = $2",
    )
    .bind(lock_id)
    .bind(seq)
    .fetch_optional(conn)
    .await
}

/// The highest line number stored of lock `lock_id`'s journal.
pub(crate) async fn journal_highest(
    conn: &mut AnyConnection,
    lock_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT MAX(seq) FROM lock_journal WHERE lock_id = $1")
        .bind(lock_id)
        .fetch_one(conn)
        .await
}

/// Stores line `seq` of lock `lock_id`'s journal, received at `received_at`.
pub(crate) async fn append_journal(
    conn: &mut AnyConnection,
    lock_id: &str,
    seq: i64,
    line: &JournalLine,
    received_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO lock_journal (lock_id, seq, kind, delivery_id, payload, at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(lock_id)
    .bind(seq)
    .bind(&line.kind)
    .bind(&line.delivery_id)
    .bind(&line.payload)
    .bind(line.at)
    .bind(received_at)
    .execute(conn)
    .await?;
    Ok(())
}
