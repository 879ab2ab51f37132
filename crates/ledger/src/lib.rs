//! The pure double-entry ledger of hashmarket. No I/O, no clock, no floats.
//!
//! Accounts are per (owner, asset, purpose); the operator's owner id is the nil UUID.
//! A transfer debits one account and credits another of the same asset by a strictly
//! positive amount. Sign convention: an account's balance is credits − debits, so per
//! asset the balances of all accounts always sum to zero. No account may go below
//! zero except the operator's `world` (money in from and out to the outside) and
//! `mining_revenue` (what the pool pays, credited before it arrives).
//!
//! [`check_transfer`] is the rule for one transfer against given balances — what the
//! order path uses against rows it has locked. [`Ledger`] applies whole batches
//! atomically: every transfer is checked against the balances as they stand at that
//! point of the batch, and if any fails, nothing changes and the error names the
//! transfer's index.

#![deny(missing_docs)]

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use uuid::Uuid;

/// The owner id of the operator's accounts.
pub const OPERATOR: Uuid = Uuid::nil();

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// A user's free balance.
    Available,
    /// A user's funds held for open bids.
    OrderHold,
    /// A user's funds in escrow for running contracts.
    ContractEscrow,
    /// A user's earnings not yet moved to available.
    Earnings,
    /// A user's funds requested for withdrawal.
    PendingWithdrawal,
    /// The operator's fee income.
    Fees,
    /// The operator's view of the outside world.
    World,
    /// The operator's mining revenue from the pool.
    MiningRevenue,
    /// The operator's clearing account for accrual: one accrual transaction moves
    /// each buyer's released escrow in and each seller's release out, so every
    /// account gets one transfer per kind instead of one per contract. Never
    /// negative (everything comes in before anything goes out), and back at zero
    /// when the transaction commits.
    Settlement,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 9] = [
        Purpose::Available,
        Purpose::OrderHold,
        Purpose::ContractEscrow,
        Purpose::Earnings,
        Purpose::PendingWithdrawal,
        Purpose::Fees,
        Purpose::World,
        Purpose::MiningRevenue,
        Purpose::Settlement,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Available => "available",
            Purpose::OrderHold => "order_hold",
            Purpose::ContractEscrow => "contract_escrow",
            Purpose::Earnings => "earnings",
            Purpose::PendingWithdrawal => "pending_withdrawal",
            Purpose::Fees => "fees",
            Purpose::World => "world",
            Purpose::MiningRevenue => "mining_revenue",
            Purpose::Settlement => "settlement",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == text)
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
    /// Accrual: the delivered share of a contract's cost, escrow → seller.
    Release,
    /// Accrual: the marketplace's fee on a release, seller → operator `fees`.
    SellerFee,
    /// Accrual: mining revenue of delivered hash rate, operator `mining_revenue` → buyer.
    Revenue,
    /// Accrual: the maintenance fee on revenue, buyer → operator `fees`.
    Maintenance,
    /// Contract end: the undelivered part of the escrow back to the buyer.
    Refund,
    /// A withdrawal requested: available → pending_withdrawal.
    WithdrawalRequest,
    /// A withdrawal sent: pending_withdrawal → world.
    WithdrawalSent,
    /// A withdrawal's network fee: pending_withdrawal → operator `fees`.
    WithdrawalFee,
    /// A withdrawal rejected or failed: pending_withdrawal → available.
    WithdrawalReturn,
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
            TransferKind::Release => "release",
            TransferKind::SellerFee => "seller_fee",
            TransferKind::Revenue => "revenue",
            TransferKind::Maintenance => "maintenance",
            TransferKind::Refund => "refund",
            TransferKind::WithdrawalRequest => "withdrawal_request",
            TransferKind::WithdrawalSent => "withdrawal_sent",
            TransferKind::WithdrawalFee => "withdrawal_fee",
            TransferKind::WithdrawalReturn => "withdrawal_return",
        }
    }
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountKey {
    /// The user, or [`OPERATOR`].
    pub owner: Uuid,
    /// Asset code.
    pub asset: String,
    /// What it is for.
    pub purpose: Purpose,
}

impl AccountKey {
    /// Whether this account may hold a negative balance.
    pub fn may_go_negative(&self) -> bool {
        self.owner == OPERATOR && matches!(self.purpose, Purpose::World | Purpose::MiningRevenue)
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
    #[error("{account:?} would go to {after}")]
    WouldGoNegative {
        /// The account.
        account: AccountKey,
        /// The balance it would have.
        after: Decimal,
    },
}

/// Checks a transfer of `amount` from `from` (balance `from_balance`) to `to` and
/// returns both balances after it.
pub fn check_transfer(
    from: &AccountKey,
    from_balance: Decimal,
    to: &AccountKey,
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
    let after = from_balance
        .checked_sub(amount)
        .ok_or(TransferError::NotPositive(amount))?;
    if after < Decimal::ZERO && !from.may_go_negative() {
        return Err(TransferError::WouldGoNegative {
            account: from.clone(),
            after,
        });
    }
    let to_after = to_balance
        .checked_add(amount)
        .ok_or(TransferError::NotPositive(amount))?;
    Ok((after, to_after))
}

/// A transfer of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Debited.
    pub from: AccountKey,
    /// Credited.
    pub to: AccountKey,
    /// Strictly positive.
    pub amount: Decimal,
    /// Why.
    pub kind: TransferKind,
}

/// A batch refused at transfer `index`; nothing of it was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transfer {index} of the batch: {error}")]
pub struct BatchError {
    /// Position in the batch.
    pub index: usize,
    /// What was wrong with it.
    pub error: TransferError,
}

/// Balances, changed only by whole batches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    balances: BTreeMap<AccountKey, Decimal>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// An account's balance (zero if never used).
    pub fn balance(&self, account: &AccountKey) -> Decimal {
        self.balances.get(account).copied().unwrap_or_default()
    }

    /// Applies a batch atomically, checking each transfer in order against the
    /// balances as they stand at that point of the batch.
    pub fn apply(&mut self, batch: &[Transfer]) -> Result<(), BatchError> {
        let mut changed: BTreeMap<&AccountKey, Decimal> = BTreeMap::new();
        for (index, t) in batch.iter().enumerate() {
            let current = |k: &AccountKey, changed: &BTreeMap<&AccountKey, Decimal>| {
                changed.get(k).copied().unwrap_or_else(|| self.balance(k))
            };
            let (from_after, to_after) = check_transfer(
                &t.from,
                current(&t.from, &changed),
                &t.to,
                current(&t.to, &changed),
                t.amount,
            )
            .map_err(|error| BatchError { index, error })?;
            changed.insert(&t.from, from_after);
            changed.insert(&t.to, to_after);
        }
        for (account, balance) in changed {
            self.balances.insert(account.clone(), balance);
        }
        self.assert_invariants();
        Ok(())
    }

    /// Per asset, the sum of all balances.
    pub fn sum_by_asset(&self) -> BTreeMap<String, Decimal> {
        let mut sums = BTreeMap::new();
        for (account, balance) in &self.balances {
            *sums.entry(account.asset.clone()).or_insert(Decimal::ZERO) += *balance;
        }
        sums
    }

    /// The invariants, asserted (in release builds too): every asset sums to zero
    /// and no account that must not be negative is.
    pub fn assert_invariants(&self) {
        for (asset, sum) in self.sum_by_asset() {
            assert!(sum.is_zero(), "ledger invariant: {asset} sums to {sum}");
        }
        for (account, balance) in &self.balances {
            assert!(
                *balance >= Decimal::ZERO || account.may_go_negative(),
                "ledger invariant: {account:?} is {balance}"
            );
        }
    }
}

#[cfg(test)]
mod tests;
