//! The PostgreSQL implementation of [`Store`](crate::Store), for production.
//! Amounts are `NUMERIC`, ids `uuid`, times `timestamptz`.

mod access;
mod chain;
mod copy_binary;
mod finance;
mod identity;
mod journal;
mod market;
pub mod numeric;
mod payouts;
mod settings;
mod statements;
mod withdrawals;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;

use crate::{newest_version, Backend, ConnectOptions, Store, StoreError};

/// The PostgreSQL migrations, embedded into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// A PostgreSQL-backed store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects a pool to `url` (migrations are applied by [`Store::migrate`]).
    pub async fn open(url: &str, options: &ConnectOptions) -> Result<PgStore, StoreError> {
        let connect = PgConnectOptions::from_str(url)?.application_name("hashmarket");
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        Ok(PgStore { pool })
    }

    /// The underlying pool, for the crate's own modules.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1 FROM settings LIMIT 1")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::from_migrate(e, newest_version(&MIGRATOR)))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl crate::lease::LeaseStore for PgStore {
    async fn try_lease_market(
        &self,
        market: &str,
    ) -> Result<Option<crate::lease::MarketLease>, StoreError> {
        // A connection of its own, detached from the pool: the lock lives as long as it.
        let mut conn = self.pool.acquire().await?.detach();
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(crate::lease::market_lock_key(market))
            .fetch_one(&mut conn)
            .await?;
        Ok(locked.then(|| crate::lease::MarketLease::new(std::sync::Mutex::new(conn))))
    }
}
