//! Finance (HM-7 §1–2): the whole journal, page by page, for streaming exports
//! and reconciliation. Pages are keyset-paginated by `seq`, so an export of any
//! size holds one page in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
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
    /// Up to `limit` entries matching `filter` after `after_seq`, in journal order.
    async fn export_page(
        &self,
        filter: &ExportFilter,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ExportRow>, StoreError>;

    /// Every account's balance just before `at` (the balance after its last entry
    /// before then), for reconciliation's opening balances.
    async fn balances_before(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<(AccountRef, Decimal)>, StoreError>;
}
