//! Withdrawals (HM-6): each user's payout settings per asset, and withdrawals.
//!
//! Reads and the settings (which move no money) are here. Every change of a
//! withdrawal's status moves money, so it is written through the
//! [`UnitOfWork`](crate::market::UnitOfWork) of the batch that writes its ledger
//! transfers (`insert_withdrawal`, `lock_withdrawal`, `update_withdrawal`): the row
//! and the money commit together or not at all. The store decides nothing: which
//! transitions are legal and what they cost is the API's withdrawal service.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::StoreError;

/// A user's payout settings for one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalSettingsRow {
    /// The user.
    pub user_id: Uuid,
    /// Asset code.
    pub asset: String,
    /// Where withdrawals of this asset go by default.
    pub address: String,
    /// The smallest withdrawal (at least the asset's minimum), and the balance at
    /// which an automatic payout is made.
    pub threshold: Decimal,
    /// Pay the whole available balance automatically once it reaches `threshold`.
    pub auto_payout: bool,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A withdrawal as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalRow {
    /// Withdrawal id (UUIDv7).
    pub id: Uuid,
    /// Whose money.
    pub user_id: Uuid,
    /// Asset code.
    pub asset: String,
    /// What left the user's available balance (the fee included).
    pub amount: Decimal,
    /// The network fee, kept by the operator; the user receives `amount − fee`.
    pub fee: Decimal,
    /// Destination address.
    pub address: String,
    /// `pending_confirmation`, `confirmed`, `completed`, `rejected`, `cancelled`.
    pub status: String,
    /// Hex SHA-256 of the emailed confirmation token (none once used, or for
    /// automatic payouts).
    pub confirm_token_hash: Option<String>,
    /// Requested (business clock).
    pub created_at: DateTime<Utc>,
    /// Confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Sent by the operator.
    pub completed_at: Option<DateTime<Utc>>,
    /// Last status change.
    pub updated_at: DateTime<Utc>,
    /// The network transaction id, once completed.
    pub txid: Option<String>,
    /// Why the operator rejected it.
    pub reject_reason: Option<String>,
    /// Made by the automatic payout (no confirmation needed: the user opted in).
    pub auto: bool,
}

/// Settings with automatic payout on, and the user's available balance in the
/// asset (zero without an account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoPayoutCandidate {
    /// The settings.
    pub settings: WithdrawalSettingsRow,
    /// The `available` balance as committed when read.
    pub available: Decimal,
}

/// The filter and page of a withdrawal listing.
#[derive(Debug, Clone, Default)]
pub struct WithdrawalQuery {
    /// Only this user's (`None`: everyone's, for the operator).
    pub user_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<String>,
    /// Only withdrawals older than this id (UUIDv7: older = smaller).
    pub before: Option<Uuid>,
    /// Page size.
    pub limit: u32,
}

/// Withdrawal settings and reads of withdrawals.
#[async_trait]
pub trait WithdrawalStore: Send + Sync {
    /// A user's settings, by asset.
    async fn withdrawal_settings(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<WithdrawalSettingsRow>, StoreError>;
    /// Inserts or replaces a user's settings for an asset.
    async fn put_withdrawal_settings(&self, row: &WithdrawalSettingsRow) -> Result<(), StoreError>;
    /// One withdrawal.
    async fn withdrawal(&self, id: Uuid) -> Result<Option<WithdrawalRow>, StoreError>;
    /// Withdrawals, newest first.
    async fn withdrawals(&self, query: &WithdrawalQuery) -> Result<Vec<WithdrawalRow>, StoreError>;
    /// Up to `limit` settings with automatic payout on, in (user, asset) order
    /// after `after`, each with the user's available balance in the asset.
    async fn auto_payout_candidates(
        &self,
        after: Option<(Uuid, String)>,
        limit: u32,
    ) -> Result<Vec<AutoPayoutCandidate>, StoreError>;
}
