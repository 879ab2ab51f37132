//! SQLite: the marketplace. Every write goes through the single writer connection,
//! so a unit of work is alone by construction and locking is just reading;
//! statements are prepared once and cached by sqlx, so per-row inserts are cheap.
//!
//! One module per concept, the same as in the PostgreSQL backend; the trait impls
//! are written once, by `crate::market::delegate_market_store`, as calls into them.

mod accounts;
mod accruals;
mod contracts;
mod emails;
mod idempotency;
mod orders;
mod rigs;

use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use crate::StoreError;

pub(crate) use contracts::{contract_from_row, CONTRACT_READ_FROM};

/// A SQLite write transaction on the single writer connection.
struct SqliteWork {
    tx: Transaction<'static, Sqlite>,
}

/// Opens a write transaction (`MarketStore::begin`).
async fn begin_work(store: &SqliteStore) -> Result<SqliteWork, StoreError> {
    Ok(SqliteWork {
        tx: store.begin_write().await?,
    })
}

crate::market::delegate_market_store!(SqliteStore, SqliteWork);
