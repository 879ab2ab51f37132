//! Finance (HM-7 §1–2): the whole journal for streaming exports and
//! reconciliation. One query streams the rows as the database sends them (one
//! snapshot of the journal), so an export of any size holds a handful of rows in
//! memory.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::market::AccountRef;
use crate::StoreError;

/// Which entries an export covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFilter {
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub to: Option<DateTime<Utc>>,
    /// One asset.
    pub asset: Option<String>,
    /// One owner's accounts.
    pub owner: Option<Uuid>,
    /// One account purpose (`available`, `contract_escrow`, ...).
    pub purpose: Option<String>,
}

/// One journal entry with its transfer, as finance exports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    /// Position in the journal (commit order).
    pub seq: i64,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The transfer.
    pub transfer_id: Uuid,
    /// The account's owner.
    pub owner_id: Uuid,
    /// The account's asset.
    pub asset: Arc<str>,
    /// The account's purpose (`available`, `contract_escrow`, ...).
    pub purpose: Arc<str>,
    /// Debit.
    pub debit: Decimal,
    /// Credit.
    pub credit: Decimal,
    /// The account's balance after it.
    pub balance_after: Decimal,
    /// The transfer's kind.
    pub kind: Arc<str>,
    /// The order it belongs to.
    pub order_id: Option<Uuid>,
    /// The contract it belongs to.
    pub contract_id: Option<Uuid>,
    /// The withdrawal it belongs to.
    pub withdrawal_id: Option<Uuid>,
    /// The operator's reference.
    pub reference: Option<String>,
    /// The ledger hash chain's value at this entry.
    pub chain_hash: Option<String>,
}

impl ExportRow {
    /// The account the entry is in.
    pub fn account(&self) -> AccountRef {
        AccountRef {
            owner_id: self.owner_id,
            asset: self.asset.to_string(),
            purpose: self.purpose.to_string(),
        }
    }
}

/// Shares one allocation among the equal short strings of an export (assets,
/// purposes and kinds: a handful of distinct values over millions of rows), so
/// decoding a row allocates only for what is unique to it.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    seen: Vec<Arc<str>>,
}

impl Interner {
    /// Distinct values kept; past it each new value is allocated on its own.
    const CAPACITY: usize = 64;

    /// The shared copy of the UTF-8 text `bytes`: a value seen before is found
    /// by its bytes, without validating them again.
    pub(crate) fn get_utf8(&mut self, bytes: &[u8]) -> Result<Arc<str>, std::str::Utf8Error> {
        if let Some(known) = self.seen.iter().find(|s| s.as_bytes() == bytes) {
            return Ok(Arc::clone(known));
        }
        Ok(self.get(std::str::from_utf8(bytes)?))
    }

    /// The shared copy of `value`.
    pub(crate) fn get(&mut self, value: &str) -> Arc<str> {
        if let Some(known) = self.seen.iter().find(|s| &***s == value) {
            return Arc::clone(known);
        }
        let fresh: Arc<str> = Arc::from(value);
        if self.seen.len() < Self::CAPACITY {
            self.seen.push(Arc::clone(&fresh));
        }
        fresh
    }
}

/// Decodes a stream of database rows into export rows, one interner for the
/// whole export (SQLite's `export_stream`; PostgreSQL's reads binary COPY).
pub(crate) fn decode_export<'a, R: Send + 'a>(
    rows: BoxStream<'a, Result<R, sqlx::Error>>,
    decode: fn(&R, &mut Interner) -> Result<ExportRow, StoreError>,
) -> BoxStream<'a, Result<ExportRow, StoreError>> {
    rows.scan(Interner::default(), move |names, row| {
        let decoded = row
            .map_err(StoreError::from)
            .and_then(|r| decode(&r, names));
        std::future::ready(Some(decoded))
    })
    .boxed()
}

/// Reads the journal for finance.
#[async_trait]
pub trait FinanceStore: Send + Sync {
    /// Every entry matching `filter`, in journal order, streamed from one query.
    fn export_stream<'a>(
        &'a self,
        filter: &'a ExportFilter,
    ) -> BoxStream<'a, Result<ExportRow, StoreError>>;

    /// Entries (their `seq`, at most `limit`, in journal order) whose transfer is
    /// missing (`false`) or whose copy of its kind and links differs from it
    /// (`true`) — for `verify`.
    async fn entries_unlike_their_transfer(
        &self,
        limit: u32,
    ) -> Result<Vec<(i64, bool)>, StoreError>;

    /// Every account's balance just before `at` (the balance after its last entry
    /// before then), for reconciliation's opening balances.
    async fn balances_before(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<(AccountRef, Decimal)>, StoreError>;
}
