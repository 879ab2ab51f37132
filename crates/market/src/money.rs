//! Accounts, transfer kinds, the balance rule, and the operator's credits.
//!
//! Sign convention: an account's balance is credits − debits; a transfer `from → to`
//! debits `from` and credits `to` by a strictly positive amount, so per asset the
//! balances of all accounts always sum to zero. No account may go below zero except
//! the operator's `world` (money that came in from outside) and `mining_revenue`
//! (what the pool pays, credited to buyers before it arrives).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use hashmarket_store::market::{
    AccountRef, EntryRecord, IdempotencyCompletion, TransferRecord, OPERATOR_ID,
};
use hashmarket_store::{Store, StoreError};

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A user's free balance.
    Available,
    /// A user's funds held for open bids.
    OrderHold,
    /// A user's funds in escrow for running contracts.
    ContractEscrow,
    /// A user's funds requested for withdrawal.
    PendingWithdrawal,
    /// The operator's fee income.
    Fees,
    /// The operator's view of the outside world (deposits in, withdrawals out).
    World,
    /// The operator's mining revenue from the pool.
    MiningRevenue,
}

impl Purpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Available => "available",
            Purpose::OrderHold => "order_hold",
            Purpose::ContractEscrow => "contract_escrow",
            Purpose::PendingWithdrawal => "pending_withdrawal",
            Purpose::Fees => "fees",
            Purpose::World => "world",
            Purpose::MiningRevenue => "mining_revenue",
        }
    }
}

/// Why money moved (the journal's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    /// Money in from outside (operator credit).
    Credit,
    /// A bid's hold.
    Hold,
    /// A hold given back (cancel, expiry).
    ReleaseHold,
    /// A fill: the contract's cost into escrow.
    Fill,
    /// The buyer fee of a fill.
    BuyerFee,
    /// Price improvement of a fill back to available.
    PriceImprovement,
}

impl TransferKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferKind::Credit => "credit",
            TransferKind::Hold => "hold",
            TransferKind::ReleaseHold => "release_hold",
            TransferKind::Fill => "fill",
            TransferKind::BuyerFee => "fee",
            TransferKind::PriceImprovement => "price_improvement",
        }
    }
}

/// Why a transfer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// Amounts are strictly positive.
    #[error("amount {0} is not positive")]
    NotPositive(Decimal),
    /// Both sides must be of one asset.
    #[error("asset mismatch: {0} vs {1}")]
    AssetMismatch(String, String),
    /// Debit and credit are the same account.
    #[error("a transfer needs two different accounts")]
    SameAccount,
    /// The debited account would go below zero.
    #[error("{account} would go to {after}")]
    WouldGoNegative {
        /// The account, as `owner/asset/purpose`.
        account: String,
        /// The balance it would have.
        after: Decimal,
    },
}

/// Whether an account may hold a negative balance.
pub fn may_go_negative(account: &AccountRef) -> bool {
    account.owner_id == OPERATOR_ID
        && (account.purpose == Purpose::World.as_str()
            || account.purpose == Purpose::MiningRevenue.as_str())
}

/// Checks a transfer of `amount` from `from` (balance `from_balance`) to `to` and
/// returns both balances after it.
pub fn check_transfer(
    from: &AccountRef,
    from_balance: Decimal,
    to: &AccountRef,
    to_balance: Decimal,
    amount: Decimal,
) -> Result<(Decimal, Decimal), TransferError> {
    if amount <= Decimal::ZERO {
        return Err(TransferError::NotPositive(amount));
    }
    if from.asset != to.asset {
        return Err(TransferError::AssetMismatch(
            from.asset.clone(),
            to.asset.clone(),
        ));
    }
    if from == to {
        return Err(TransferError::SameAccount);
    }
    let after = from_balance - amount;
    if after < Decimal::ZERO && !may_go_negative(from) {
        return Err(TransferError::WouldGoNegative {
            account: format!("{}/{}/{}", from.owner_id, from.asset, from.purpose),
            after,
        });
    }
    Ok((after, to_balance + amount))
}

/// An operator's credit to a user.
#[derive(Debug, Clone)]
pub struct Credit {
    /// The transfer's id.
    pub transfer_id: Uuid,
    /// Who is credited.
    pub user_id: Uuid,
    /// Asset code.
    pub asset: String,
    /// How much (positive, at the asset's precision).
    pub amount: Decimal,
    /// The operator's reference.
    pub reference: String,
    /// When (business clock).
    pub at: DateTime<Utc>,
}

/// Writes a credit `world → user available` with its idempotency record, in one
/// transaction.
pub async fn credit(
    store: &dyn Store,
    credit: Credit,
    completion: IdempotencyCompletion,
) -> Result<(), StoreError> {
    let world = account(OPERATOR_ID, &credit.asset, Purpose::World);
    let available = account(credit.user_id, &credit.asset, Purpose::Available);
    let mut work = store.begin().await?;
    let balances = work
        .lock_accounts(&[world.clone(), available.clone()])
        .await?;
    let (world_after, available_after) =
        check_transfer(&world, balances[0], &available, balances[1], credit.amount)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
    let transfer = TransferRecord {
        id: credit.transfer_id,
        kind: TransferKind::Credit.as_str().to_string(),
        debit: world.clone(),
        credit: available.clone(),
        amount: credit.amount,
        order_id: None,
        contract_id: None,
        withdrawal_id: None,
        reference: Some(credit.reference),
        created_at: credit.at,
    };
    let entries = [
        entry(
            credit.transfer_id,
            &world,
            credit.amount,
            Decimal::ZERO,
            world_after,
            credit.at,
        ),
        entry(
            credit.transfer_id,
            &available,
            Decimal::ZERO,
            credit.amount,
            available_after,
            credit.at,
        ),
    ];
    work.write_ledger(
        &[transfer],
        &entries,
        &[(world, world_after), (available, available_after)],
    )
    .await?;
    work.complete_idempotency(&[completion]).await?;
    work.commit().await
}

/// The account of `owner_id` in `asset` for `purpose`.
pub fn account(owner_id: Uuid, asset: &str, purpose: Purpose) -> AccountRef {
    AccountRef {
        owner_id,
        asset: asset.to_string(),
        purpose: purpose.as_str().to_string(),
    }
}

/// One side of a transfer in the journal.
pub fn entry(
    transfer_id: Uuid,
    account: &AccountRef,
    debit: Decimal,
    credit: Decimal,
    balance_after: Decimal,
    at: DateTime<Utc>,
) -> EntryRecord {
    EntryRecord {
        transfer_id,
        account: account.clone(),
        debit,
        credit,
        balance_after,
        created_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_world_and_mining_revenue_may_go_negative() {
        let user = Uuid::now_v7();
        let world = account(OPERATOR_ID, "BTC", Purpose::World);
        let fees = account(OPERATOR_ID, "BTC", Purpose::Fees);
        let available = account(user, "BTC", Purpose::Available);
        let one = Decimal::ONE;
        assert_eq!(
            check_transfer(&world, Decimal::ZERO, &available, Decimal::ZERO, one),
            Ok((-one, one))
        );
        assert!(matches!(
            check_transfer(&available, Decimal::ZERO, &fees, Decimal::ZERO, one),
            Err(TransferError::WouldGoNegative { .. })
        ));
        assert!(matches!(
            check_transfer(&fees, Decimal::ZERO, &available, Decimal::ZERO, one),
            Err(TransferError::WouldGoNegative { .. })
        ));
        assert_eq!(
            check_transfer(&available, one, &fees, Decimal::ZERO, one),
            Ok((Decimal::ZERO, one))
        );
    }

    #[test]
    fn transfers_are_positive_single_asset_between_two_accounts() {
        let a = account(Uuid::now_v7(), "BTC", Purpose::Available);
        let b = account(Uuid::now_v7(), "LTC", Purpose::Available);
        let ten = Decimal::TEN;
        assert!(matches!(
            check_transfer(&a, ten, &a, ten, Decimal::ONE),
            Err(TransferError::SameAccount)
        ));
        assert!(matches!(
            check_transfer(&a, ten, &b, ten, Decimal::ONE),
            Err(TransferError::AssetMismatch(..))
        ));
        assert!(matches!(
            check_transfer(&a, ten, &b, ten, Decimal::ZERO),
            Err(TransferError::NotPositive(_))
        ));
    }
}
