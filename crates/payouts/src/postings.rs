//! The ledger postings of one accrual transaction: every contract-period's
//! movements, summed per account.
//!
//! A million contracts accrued one transfer each per kind would write millions of
//! transfers and journal entries every period. Instead each transaction sums what
//! its contract-periods move and posts one transfer per (kind, account pair), under
//! one reference; the per-contract split stays in the accrual rows, which carry the
//! same reference, so finance can reconcile one to the other (`hashmarket verify`
//! does).
//!
//! Releases would still be one transfer per (buyer, seller) pair, which is nearly
//! one per contract. So they pass through the operator's `settlement` account of
//! the asset: each buyer's escrow pays in its released total, and each seller is
//! paid out its own. Everything is paid in before anything is paid out, so
//! `settlement` never goes below zero, and it is back at zero once all is posted
//! (asserted).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use hashmarket_ledger::{Purpose, TransferKind, OPERATOR};
use hashmarket_market::batch::{account, Batch};
use hashmarket_store::market::AccountRef;
use hashmarket_store::payouts::AccrualRow;
use hashmarket_store::StoreError;

/// The steps of posting, in the order they are applied: money into an account
/// comes before money out of it wherever both happen (into `settlement` before
/// out of it; a seller's release before its fee; a buyer's revenue before its
/// maintenance fee).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    ReleaseIn,
    ReleaseOut,
    SellerFee,
    Revenue,
    Maintenance,
    Refund,
}

impl Step {
    fn kind(self) -> TransferKind {
        match self {
            Step::ReleaseIn | Step::ReleaseOut => TransferKind::Release,
            Step::SellerFee => TransferKind::SellerFee,
            Step::Revenue => TransferKind::Revenue,
            Step::Maintenance => TransferKind::Maintenance,
            Step::Refund => TransferKind::Refund,
        }
    }
}

/// The accounts one contract's accrual moves money between.
#[derive(Debug, Clone)]
pub struct ContractAccounts {
    /// The buyer's `contract_escrow`.
    pub escrow: AccountRef,
    /// The buyer's `available`.
    pub buyer: AccountRef,
    /// The seller's `available`.
    pub seller: AccountRef,
    /// The operator's `fees`.
    pub fees: AccountRef,
    /// The operator's `mining_revenue`.
    pub mining: AccountRef,
    /// The operator's `settlement` (releases pass through it).
    pub settlement: AccountRef,
}

impl ContractAccounts {
    /// The accounts of a contract between `buyer` and `seller` in `asset`.
    pub fn new(buyer: uuid::Uuid, seller: uuid::Uuid, asset: &str) -> ContractAccounts {
        ContractAccounts {
            escrow: account(buyer, asset, Purpose::ContractEscrow),
            buyer: account(buyer, asset, Purpose::Available),
            seller: account(seller, asset, Purpose::Available),
            fees: account(OPERATOR, asset, Purpose::Fees),
            mining: account(OPERATOR, asset, Purpose::MiningRevenue),
            settlement: account(OPERATOR, asset, Purpose::Settlement),
        }
    }
}

/// The summed postings of one accrual transaction.
#[derive(Debug, Default)]
pub struct Postings {
    sums: BTreeMap<(Step, AccountRef, AccountRef), Decimal>,
}

impl Postings {
    /// No postings yet.
    pub fn new() -> Postings {
        Postings::default()
    }

    /// Whether nothing has been added.
    pub fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }

    /// How many transfers posting would write.
    pub fn len(&self) -> usize {
        self.sums.len()
    }

    /// Adds what one contract-period moves: its accrual row's amounts.
    pub fn add(&mut self, accounts: &ContractAccounts, row: &AccrualRow) {
        let a = accounts;
        self.add_one(Step::ReleaseIn, &a.escrow, &a.settlement, row.released);
        self.add_one(Step::ReleaseOut, &a.settlement, &a.seller, row.released);
        self.add_one(Step::SellerFee, &a.seller, &a.fees, row.seller_fee);
        self.add_one(Step::Revenue, &a.mining, &a.buyer, row.revenue);
        self.add_one(Step::Maintenance, &a.buyer, &a.fees, row.maintenance);
        self.add_one(Step::Refund, &a.escrow, &a.buyer, row.refunded);
    }

    fn add_one(&mut self, step: Step, from: &AccountRef, to: &AccountRef, amount: Decimal) {
        assert!(amount >= Decimal::ZERO, "a negative {step:?}: {amount}");
        if amount.is_zero() {
            return;
        }
        *self
            .sums
            .entry((step, from.clone(), to.clone()))
            .or_default() += amount;
    }

    /// Every account the postings touch, sorted (the order to lock them in).
    pub fn accounts(&self) -> Vec<AccountRef> {
        self.sums
            .keys()
            .flat_map(|(_, from, to)| [from.clone(), to.clone()])
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The transfers to post, in posting order: (kind, from, to, amount).
    fn transfers(&self) -> impl Iterator<Item = (TransferKind, &AccountRef, &AccountRef, Decimal)> {
        self.sums
            .iter()
            .map(|((step, from, to), amount)| (step.kind(), from, to, *amount))
    }

    /// Posts everything into `batch` (whose accounts must be locked) under
    /// `reference`, writing the journal every `slice` transfers, then asserts
    /// every `settlement` account is back at zero.
    pub async fn post(
        &self,
        batch: &mut Batch,
        reference: &str,
        slice: usize,
    ) -> Result<(), StoreError> {
        assert!(slice > 0);
        let settlements: BTreeSet<&AccountRef> = self
            .sums
            .keys()
            .filter(|(step, ..)| *step == Step::ReleaseIn)
            .map(|(_, _, to)| to)
            .collect();
        for s in &settlements {
            assert!(
                batch.balance(s).is_zero(),
                "settlement {s:?} is not zero before an accrual posts"
            );
        }
        for (i, (kind, from, to, amount)) in self.transfers().enumerate() {
            batch.transfer_referenced(kind, from, to, amount, reference);
            if (i + 1) % slice == 0 {
                batch.flush_ledger().await?;
            }
        }
        for s in settlements {
            assert!(
                batch.balance(s).is_zero(),
                "settlement {s:?} is not zero after an accrual posted"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    /// An accrual row moving these amounts (in satoshis).
    fn money(released: i64, fee: i64, revenue: i64, maintenance: i64, refund: i64) -> AccrualRow {
        let d = |v| Decimal::new(v, 8);
        let at = chrono::DateTime::UNIX_EPOCH;
        AccrualRow {
            contract_id: Uuid::nil(),
            period_start: at,
            period_end: at,
            delivered_hs: 0,
            released: d(released),
            seller_fee: d(fee),
            revenue: d(revenue),
            maintenance: d(maintenance),
            refunded: d(refund),
            created_at: at,
            posting: None,
            released_total: None,
            revenue_total: None,
        }
    }

    #[test]
    fn sums_per_account_pair_and_posts_in_step_order() {
        let (b1, b2, s1, s2) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
        );
        let mut postings = Postings::new();
        // Buyer 1 with two sellers, buyer 2 with seller 1: three contracts.
        postings.add(
            &ContractAccounts::new(b1, s1, "BTC"),
            &money(100, 2, 7, 0, 0),
        );
        postings.add(
            &ContractAccounts::new(b1, s2, "BTC"),
            &money(50, 1, 3, 1, 5),
        );
        postings.add(
            &ContractAccounts::new(b2, s1, "BTC"),
            &money(10, 0, 0, 0, 0),
        );
        let transfers: Vec<(TransferKind, Uuid, Uuid, Decimal)> = postings
            .transfers()
            .map(|(k, f, t, a)| (k, f.owner_id, t.owner_id, a))
            .collect();
        let d = |v| Decimal::new(v, 8);
        let op = OPERATOR;
        assert_eq!(
            transfers,
            vec![
                (TransferKind::Release, b1, op, d(150)),
                (TransferKind::Release, b2, op, d(10)),
                (TransferKind::Release, op, s1, d(110)),
                (TransferKind::Release, op, s2, d(50)),
                (TransferKind::SellerFee, s1, op, d(2)),
                (TransferKind::SellerFee, s2, op, d(1)),
                (TransferKind::Revenue, op, b1, d(10)),
                (TransferKind::Maintenance, b1, op, d(1)),
                (TransferKind::Refund, b1, b1, d(5)),
            ]
        );
        // Zero amounts post nothing; every account is locked once.
        assert_eq!(postings.accounts().len(), 8);
    }

    #[test]
    fn what_goes_into_settlement_comes_out() {
        let mut postings = Postings::new();
        for i in 0..50u128 {
            let accounts =
                ContractAccounts::new(Uuid::from_u128(i % 7), Uuid::from_u128(100 + i % 5), "BTC");
            postings.add(&accounts, &money(1000 + i as i64, 20, 3, 0, 0));
        }
        let mut balance = Decimal::ZERO;
        for (_, from, to, amount) in postings.transfers() {
            if to.purpose == "settlement" {
                balance += amount;
            }
            if from.purpose == "settlement" {
                balance -= amount;
                assert!(
                    balance >= Decimal::ZERO,
                    "settlement paid out before paid in"
                );
            }
        }
        assert!(balance.is_zero());
    }
}
