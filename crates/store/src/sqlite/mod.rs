//! The SQLite implementation of [`Store`](crate::Store): the embedded default.
//!
//! One file in WAL mode. Writes go through a pool of exactly one connection, so
//! writers queue in the process instead of failing with `SQLITE_BUSY`; reads use a
//! separate pool and never wait for writers (WAL). `synchronous=FULL`: a commit is
//! on disk before it is acknowledged, even across power loss; batching many orders
//! per commit (the sequencers) pays for the fsync. Amounts are canonical decimal
//! text, ids are hyphenated UUID text, times RFC 3339 text in UTC.

mod access;
mod bulk;
mod chain;
mod codec;
mod finance;
mod identity;
mod journal;
mod market;
mod payouts;
mod settings;
mod statements;
mod withdrawals;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{newest_version, Backend, ConnectOptions, Store, StoreError};

/// The SQLite migrations, embedded into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a connection waits on a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The writer connection's `cache_size` pragma: negative is KiB (64 MiB).
const WRITER_CACHE_SIZE: &str = "-65536";

/// A SQLite-backed store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// The database file, checked by [`Store::ping`]: a removed file means the data is gone.
    path: Option<PathBuf>,
    /// The process-wide sequencer lock while any lease holds it (see [`crate::lease`]);
    /// it is released when the last lease drops.
    sequencer_lock: std::sync::Arc<std::sync::Mutex<std::sync::Weak<std::fs::File>>>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file `url` names, in WAL mode.
    pub async fn open(url: &str, options: &ConnectOptions) -> Result<SqliteStore, StoreError> {
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let path =
            Some(connect.get_filename().to_path_buf()).filter(|p| p != &PathBuf::from(":memory:"));
        // The writer's page cache holds a big transaction's dirty pages (an accrual
        // period of many contracts) until commit; SQLite's default of ~2 MB spills
        // them into the WAL again and again. Grown on demand, up to 64 MiB.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(
                connect
                    .clone()
                    .pragma("cache_size", WRITER_CACHE_SIZE)
                    .pragma("temp_store", "memory"),
            )
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.read_only(true))
            .await?;
        Ok(SqliteStore {
            writer,
            reader,
            path,
            sequencer_lock: Default::default(),
        })
    }

    /// The single-connection pool every write goes through.
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// A write transaction, `BEGIN IMMEDIATE`: it takes the database's write lock
    /// at once (waiting up to the busy timeout for another process — a CLI command
    /// beside the server — to finish), so it can never fail part way with
    /// `SQLITE_BUSY_SNAPSHOT` the way a deferred transaction that reads and then
    /// writes does when another process committed in between.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// The pool for reads.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if let Some(path) = &self.path {
            if !path.exists() {
                return Err(StoreError::Unavailable(format!(
                    "database file {} no longer exists",
                    path.display()
                )));
            }
        }
        sqlx::query("SELECT 1 FROM settings LIMIT 1")
            .execute(&self.reader)
            .await?;
        Ok(())
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.reader)
                .await?;
        Ok(version.unwrap_or(0))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::from_migrate(e, newest_version(&MIGRATOR)))
    }

    async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

#[async_trait]
impl crate::lease::LeaseStore for SqliteStore {
    async fn try_lease_market(
        &self,
        _market: &str,
    ) -> Result<Option<crate::lease::MarketLease>, StoreError> {
        let Some(path) = &self.path else {
            return Ok(Some(crate::lease::MarketLease::new(())));
        };
        let mut held = self
            .sequencer_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(file) = held.upgrade() {
            return Ok(Some(crate::lease::MarketLease::new(file)));
        }
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".sequencer-lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open the sequencer lock file: {e}"))
            })?;
        match file.try_lock() {
            Ok(()) => {
                let file = std::sync::Arc::new(file);
                *held = std::sync::Arc::downgrade(&file);
                Ok(Some(crate::lease::MarketLease::new(file)))
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Unavailable(format!(
                "cannot lock the sequencer lock file: {e}"
            ))),
        }
    }
}
