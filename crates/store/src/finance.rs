//! Finance (HM-7 §1–2): the whole journal for streaming exports and
//! reconciliation. One query streams the rows as the database sends them (one
//! snapshot of the journal), so an export of any size holds a handful of rows in
//! memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
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
    /// The account.
    pub account: AccountRef,
    /// Debit.
    pub debit: Decimal,
    /// Credit.
    pub credit: Decimal,
    /// The account's balance after it.
    pub balance_after: Decimal,
    /// The transfer's kind.
    pub kind: String,
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

/// Reads the journal for finance.
#[async_trait]
pub trait FinanceStore: Send + Sync {
    /// Every entry matching `filter`, in journal order, streamed from one query.
    fn export_stream<'a>(
        &'a self,
        filter: &'a ExportFilter,
    ) -> BoxStream<'a, Result<ExportRow, StoreError>>;

    /// Entries (their `seq`, at most `limit`, in journal order) whose copy of their
    /// transfer's kind and links differs from the transfer — for `verify`.
    async fn entries_unlike_their_transfer(&self, limit: u32) -> Result<Vec<i64>, StoreError>;

    /// Every account's balance just before `at` (the balance after its last entry
    /// before then), for reconciliation's opening balances.
    async fn balances_before(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<(AccountRef, Decimal)>, StoreError>;
}
