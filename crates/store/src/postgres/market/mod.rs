//! PostgreSQL: the marketplace. Bulk writes use `UNNEST` so a batch costs a handful
//! of statements however many orders it holds; locks are taken in key order.
//!
//! One module per concept, the same as in the SQLite backend; the trait impls are
//! written once, by `crate::market::delegate_market_store`, as calls into them.

mod accounts;
mod accruals;
mod contracts;
mod emails;
mod idempotency;
mod orders;
mod rigs;

use sqlx::{Postgres, Transaction};

use super::PgStore;
use crate::StoreError;

pub(super) use accounts::account_arrays;
pub(crate) use contracts::{contract_from_row, CONTRACT_READ_FROM};

/// A PostgreSQL write transaction.
struct PgWork {
    tx: Transaction<'static, Postgres>,
}

/// Opens a write transaction (`MarketStore::begin`).
async fn begin_work(store: &PgStore) -> Result<PgWork, StoreError> {
    Ok(PgWork {
        tx: store.pool().begin().await?,
    })
}

crate::market::delegate_market_store!(PgStore, PgWork);
