//! Storage: SQLite (a file in the data folder, WAL) by default, PostgreSQL when a
//! URL is given — the same queries on both through sqlx's Any driver.
//!
//! An acknowledged write is a committed one: every handler commits through
//! [`Db::commit`], which records a failure for `/healthz`, and a connection that
//! is left inside a transaction (a failed COMMIT or ROLLBACK, as SQLite leaves
//! after a full disk) is never handed out again, so no later write can nest
//! inside a transaction that will never reach the disk.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};

/// Which engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in the data folder.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The database.
#[derive(Debug, Clone)]
pub struct Db {
    /// The pool every query uses.
    pub pool: AnyPool,
    /// The engine.
    pub backend: Backend,
    writes: Arc<WriteHealth>,
}

/// Whether the last commit reached the database, for `/healthz`.
#[derive(Debug, Default)]
struct WriteHealth {
    failing: Mutex<Option<String>>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a request waits for a connection before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

async fn sqlite_pragmas(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    // WAL + FULL: a committed transaction survives a process crash *and* a
    // power cut (NORMAL would keep the last commits only in the OS cache).
    // A lock's journal line or a household's Block is acknowledged once; the
    // price is one fsync of the WAL per commit.
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.execute("PRAGMA synchronous = FULL").await?;
    conn.execute("PRAGMA foreign_keys = ON").await?;
    conn.execute("PRAGMA busy_timeout = 5000").await?;
    Ok(())
}

impl Db {
    /// Opens (creating if needed) and migrates the database. A database that
    /// cannot be opened, is not a database, or cannot be written is an error at
    /// once, naming the file and the reason.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        install_default_drivers();
        let (pool, backend) = match database_url {
            Some(url) => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .before_acquire(|conn, _meta| Box::pin(async move { Ok(usable(conn)) }))
                    .connect(url)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
                (pool, Backend::Postgres)
            }
            None => {
                std::fs::create_dir_all(data_dir).map_err(|e| {
                    anyhow::anyhow!("cannot create data folder {}: {e}", data_dir.display())
                })?;
                check_writable(data_dir)?;
                let file = data_dir.join("doorstep-cloud.sqlite3");
                let url = format!("sqlite://{}?mode=rwc", file.display());
                check_sqlite_file(&url, &file).await?;
                // One connection: SQLite has one writer anyway, and a single
                // connection never meets "database is locked" on lock upgrades.
                let pool = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .after_connect(|conn, _meta| Box::pin(sqlite_pragmas(conn)))
                    .before_acquire(|conn, _meta| Box::pin(async move { Ok(usable(conn)) }))
                    .connect(&url)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
                (pool, Backend::Sqlite)
            }
        };
        let db = Self {
            pool,
            backend,
            writes: Arc::default(),
        };
        MIGRATOR
            .run(&db.pool)
            .await
            .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
        Ok(db)
    }

    /// Commits `tx`. A failure is remembered for `/healthz` until a later
    /// commit succeeds; the connection it happened on is replaced before its
    /// next use if it is still inside the transaction.
    pub async fn commit(&self, tx: Transaction<'_, Any>) -> Result<(), sqlx::Error> {
        match tx.commit().await {
            Ok(()) => {
                *self
                    .writes
                    .failing
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = None;
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "a commit failed; the write was not acknowledged");
                *self
                    .writes
                    .failing
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
                Err(error)
            }
        }
    }

    /// While writes are failing, tries one small write (so `/healthz` turns
    /// healthy again once space is back, without waiting for a request).
    pub async fn probe_writes(&self, now_secs: i64) {
        if self.write_failure().is_none() {
            return;
        }
        let attempt = async {
            let mut tx = self.pool.begin().await?;
            sqlx::query("DELETE FROM write_probe")
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO write_probe (id, written_at) VALUES (1, $1)")
                .bind(now_secs)
                .execute(&mut *tx)
                .await?;
            self.commit(tx).await
        };
        if let Err(error) = attempt.await {
            *self
                .writes
                .failing
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
        }
    }

    /// Why writes are failing now (the last commit's error), if they are.
    pub fn write_failure(&self) -> Option<String> {
        self.writes
            .failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A pooled connection that sqlx still believes to be inside a transaction
/// (its COMMIT or ROLLBACK failed) would turn the next `BEGIN` into a
/// SAVEPOINT of a transaction that never commits: it is closed instead.
fn usable(conn: &mut AnyConnection) -> bool {
    if conn.is_in_transaction() {
        tracing::warn!("a database connection was left inside a transaction; replacing it");
        return false;
    }
    true
}

/// SQLite in WAL mode needs to create files beside the database: a folder
/// that cannot be written is named as such (SQLite would say only "unable to
/// open database file").
fn check_writable(data_dir: &Path) -> anyhow::Result<()> {
    let probe = data_dir.join(".write-check");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| {
            let reason = if e.raw_os_error() == Some(30) {
                "it is on a read-only file system".to_owned()
            } else {
                e.to_string()
            };
            anyhow::anyhow!(
                "the data folder {} cannot be written: {reason}",
                data_dir.display()
            )
        })
}

/// Opens the SQLite file once, outside the pool, so that a file that is not a
/// database or cannot be written is named at once (the pool would retry until
/// its timeout and then say only "pool timed out").
async fn check_sqlite_file(url: &str, file: &Path) -> anyhow::Result<()> {
    let options: AnyConnectOptions = url
        .parse()
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    let mut conn = AnyConnection::connect_with(&options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    let checked = async {
        sqlite_pragmas(&mut conn).await?;
        // A write, so a read-only file or folder is found now, not at the first request.
        conn.execute("CREATE TABLE IF NOT EXISTS _doorstep_open_check (x INTEGER)")
            .await?;
        conn.execute("DROP TABLE _doorstep_open_check").await?;
        Ok::<(), sqlx::Error>(())
    }
    .await;
    let _ = conn.close().await;
    checked.map_err(|e| anyhow::anyhow!("cannot use {}: {e}", file.display()))
}
