//! Statements (HM-7 §3): what a user's accounts did in a period, and the accrual
//! rows behind a rig's or a contract's report.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::payouts::AccrualRow;
use crate::StoreError;

/// The movements of one (asset, purpose, kind) of a user's accounts in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTotal {
    /// Asset.
    pub asset: String,
    /// Account purpose (`available`, `contract_escrow`, ...).
    pub purpose: String,
    /// Transfer kind (`revenue`, `release`, `fill`, ...).
    pub kind: String,
    /// Σ debits.
    pub debit: Decimal,
    /// Σ credits.
    pub credit: Decimal,
}

/// Reads what statements are made of.
#[async_trait]
pub trait StatementStore: Send + Sync {
    /// Totals of `owner`'s ledger entries in `[from, to)` per asset, purpose and kind.
    async fn ledger_totals(
        &self,
        owner: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LedgerTotal>, StoreError>;

    /// Accrual rows of `contracts` with periods starting in `[from, to)`, by period.
    async fn accruals_of(
        &self,
        contracts: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AccrualRow>, StoreError>;
}
