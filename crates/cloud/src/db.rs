//! Storage: SQLite (a file in the data folder, WAL) by default, PostgreSQL when a
//! URL is given — the same queries on both through sqlx's Any driver.

use std::path::Path;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

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
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Db {
    /// Opens (creating if needed) and migrates the database.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        install_default_drivers();
        let db = match database_url {
            Some(url) => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .connect(url)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
                Self {
                    pool,
                    backend: Backend::Postgres,
                }
            }
            None => {
                std::fs::create_dir_all(data_dir).map_err(|e| {
                    anyhow::anyhow!("cannot create data folder {}: {e}", data_dir.display())
                })?;
                let file = data_dir.join("doorstep-cloud.sqlite3");
                let url = format!("sqlite://{}?mode=rwc", file.display());
                // One connection: SQLite has one writer anyway, and a single
                // connection never meets "database is locked" on lock upgrades.
                let pool = AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL + NORMAL: a committed transaction survives a process crash.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
                Self {
                    pool,
                    backend: Backend::Sqlite,
                }
            }
        };
        MIGRATOR
            .run(&db.pool)
            .await
            .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
        Ok(db)
    }
}
