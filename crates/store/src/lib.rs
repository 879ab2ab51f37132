//! Persistence for hashmarket: one interface ([`Store`]), two implementations
//! ([`postgres::PgStore`] for production, [`sqlite::SqliteStore`] as the embedded,
//! zero-configuration default), and one conformance suite (`tests/conformance.rs`)
//! that both must pass.
//!
//! The interface is split by area, one trait each ([`SettingsStore`], ...), so that
//! every area has one obvious home: its trait in `src/<area>.rs`, and its two
//! implementations in `src/postgres/<area>.rs` and `src/sqlite/<area>.rs`. [`Store`]
//! is the sum of them all and is what the server holds, as `Arc<dyn Store>`.
//!
//! Each backend owns its migrations (`migrations/postgres`, `migrations/sqlite` at
//! the workspace root), applied by [`connect`]. A database migrated by a newer
//! binary is refused with [`StoreError::SchemaTooNew`].

#![deny(missing_docs)]

pub mod access;
pub mod batches;
pub mod chain;
mod error;
pub mod finance;
mod idempotency;
pub mod identity;
pub mod lease;
pub mod market;
pub mod payouts;
pub mod postgres;
mod settings;
pub mod sqlite;
pub mod statements;
pub mod testing;
pub mod withdrawals;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use access::AccessStore;
pub use error::StoreError;
pub use identity::IdentityStore;
pub use lease::{LeaseStore, MarketLease};
pub use market::MarketStore;
pub use settings::{SettingsStore, SETTING_KEY_MAX_BYTES, SETTING_VALUE_MAX_BYTES};
pub use withdrawals::WithdrawalStore;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL (`postgres://...`).
    Postgres,
    /// SQLite (`sqlite://path`), the embedded default.
    Sqlite,
}

impl Backend {
    /// The backend a database URL asks for, by its scheme.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(StoreError::UnsupportedUrl {
                url: redact_url(url),
            })
        }
    }
}

/// Tunables for opening a store; every one has a bound.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Most connections the pool opens (readers, for SQLite).
    pub max_connections: u32,
    /// How long to wait for a free connection before failing.
    pub acquire_timeout: Duration,
    /// Apply pending migrations on open (the server does; `verify` need not).
    pub migrate: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            migrate: true,
        }
    }
}

/// Everything the server persists: the sum of the per-area interfaces.
#[async_trait]
pub trait Store:
    SettingsStore
    + MarketStore
    + LeaseStore
    + IdentityStore
    + AccessStore
    + payouts::PayoutStore
    + chain::ChainStore
    + finance::FinanceStore
    + statements::StatementStore
    + withdrawals::WithdrawalStore
    + Send
    + Sync
    + 'static
{
    /// Which engine this is.
    fn backend(&self) -> Backend;
    /// Succeeds when the database is reachable and usable right now (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
    /// The newest migration applied to the database (0 if none).
    async fn schema_version(&self) -> Result<i64, StoreError>;
    /// Applies every migration this binary ships that the database lacks.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Closes every connection; later calls fail.
    async fn close(&self);
}

/// Opens the store a URL names, applying migrations when `options.migrate` is set.
pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = match Backend::from_url(url)? {
        Backend::Postgres => Arc::new(postgres::PgStore::open(url, options).await?),
        Backend::Sqlite => Arc::new(sqlite::SqliteStore::open(url, options).await?),
    };
    if options.migrate {
        store.migrate().await?;
    }
    Ok(store)
}

/// The newest schema version this binary ships for a backend.
pub fn shipped_schema_version(backend: Backend) -> i64 {
    match backend {
        Backend::Postgres => newest_version(&postgres::MIGRATOR),
        Backend::Sqlite => newest_version(&sqlite::MIGRATOR),
    }
}

/// The newest migration version a migrator ships (0 when it ships none).
pub(crate) fn newest_version(migrator: &sqlx::migrate::Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// A URL with any password replaced by `***`, safe to log.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(
            Backend::from_url("postgres://a@b/c").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://a@b/c").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("sqlite://./x.db").unwrap(),
            Backend::Sqlite
        );
        assert!(Backend::from_url("mysql://x").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
