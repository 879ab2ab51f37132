//! `hashmarket verify`: the ledger invariants, checked over a whole database.
//!
//! 1. Per asset, the balances of all accounts sum to zero.
//! 2. No account is negative except the operator's `world` and `mining_revenue`.
//! 3. Each account's balance equals credits − debits over its journal entries.
//! 4. The journal's hash chain is intact, and each entry's copy of its transfer's
//!    kind and links matches the transfer.
//! 5. Each rig's offered + contracted hash rate is within its capacity (enforced by a
//!    CHECK constraint too; verified here for databases restored from elsewhere).
//! 6. Each contract's released + refunded matches its accrual rows and, once
//!    completed, its cost.
//! 7. Each accrual posting (summed transfers under one reference) equals, kind by
//!    kind, the sum of the accrual rows that name it; the operator's `settlement`
//!    accounts are at zero.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use hashmarket_store::market::AccountRef;
use hashmarket_store::payouts::{AccruedTotals, PostedTotal, ACCRUAL_POSTING_PREFIX};
use hashmarket_store::{Store, StoreError};

use crate::money::{may_go_negative, Purpose, TransferKind};

/// One broken invariant, named for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn name(account: &AccountRef) -> String {
    format!("{}/{}/{}", account.owner_id, account.asset, account.purpose)
}

/// Every violation found (empty when the ledger is sound).
pub async fn verify(store: &dyn Store) -> Result<Vec<Violation>, StoreError> {
    let mut found = Vec::new();
    for (asset, sum) in store.balance_sums().await? {
        if !sum.is_zero() {
            found.push(Violation(format!(
                "{asset}: balances sum to {sum}, not zero"
            )));
        }
    }
    let accounts = store.all_accounts().await?;
    for a in &accounts {
        if a.account.purpose == Purpose::Settlement.as_str() && !a.balance.is_zero() {
            found.push(Violation(format!(
                "{} is {}, not zero between accruals",
                name(&a.account),
                a.balance
            )));
        }
        if a.balance < Decimal::ZERO && !may_go_negative(&a.account) {
            found.push(Violation(format!(
                "{} is negative: {}",
                name(&a.account),
                a.balance
            )));
        }
    }
    let journal: BTreeMap<AccountRef, Decimal> = store
        .journal_sums()
        .await?
        .into_iter()
        .map(|a| (a.account, a.balance))
        .collect();
    let existing: std::collections::BTreeSet<&AccountRef> =
        accounts.iter().map(|a| &a.account).collect();
    for account in journal.keys().filter(|k| !existing.contains(k)) {
        found.push(Violation(format!(
            "{} has journal entries but no account",
            name(account)
        )));
    }
    for a in &accounts {
        let entries = journal.get(&a.account).copied().unwrap_or_default();
        if entries != a.balance {
            found.push(Violation(format!(
                "{} has balance {} but its journal entries sum to {entries}",
                name(&a.account),
                a.balance
            )));
        }
    }
    verify_chain(store, &mut found).await?;
    for (seq, transfer_found) in store.entries_unlike_their_transfer(10).await? {
        found.push(Violation(if transfer_found {
            format!("ledger entry {seq}: its kind or links differ from its transfer's")
        } else {
            format!("ledger entry {seq}: its transfer does not exist")
        }));
    }
    for s in store.settlements().await? {
        if s.released != s.accrued_released || s.refunded != s.accrued_refunded {
            found.push(Violation(format!(
                "contract {}: released {} / refunded {} but its accruals say {} / {}",
                s.id, s.released, s.refunded, s.accrued_released, s.accrued_refunded
            )));
        }
        let settled = s.released + s.refunded;
        if settled > s.cost || (s.status == "completed" && settled != s.cost) {
            found.push(Violation(format!(
                "contract {} ({}): released {} + refunded {} ≠ cost {}",
                s.id, s.status, s.released, s.refunded, s.cost
            )));
        }
    }
    let accrued = store.accrued_totals().await?;
    let posted = store.posted_totals(ACCRUAL_POSTING_PREFIX).await?;
    found.extend(reconcile_postings(&accrued, &posted));
    Ok(found)
}

/// Compares each accrual posting's transfers with its accrual rows' sums: a
/// release is posted twice (buyer escrow → settlement → seller), each leg the
/// rows' Σ released; every other kind once.
pub fn reconcile_postings(
    accrued: &BTreeMap<String, AccruedTotals>,
    posted: &[PostedTotal],
) -> Vec<Violation> {
    let mut sums: BTreeMap<(&str, &str), Decimal> = BTreeMap::new();
    for p in posted {
        let release = p.kind == TransferKind::Release.as_str();
        let leg = if release && p.credit_purpose == Purpose::Settlement.as_str() {
            "release in"
        } else if release {
            "release out"
        } else {
            p.kind.as_str()
        };
        *sums.entry((p.reference.as_str(), leg)).or_default() += p.amount;
    }
    let mut found = Vec::new();
    let references: std::collections::BTreeSet<&str> = accrued
        .keys()
        .map(String::as_str)
        .chain(sums.keys().map(|(r, _)| *r))
        .collect();
    let none = AccruedTotals::default();
    for reference in references {
        let t = accrued.get(reference).unwrap_or(&none);
        for (leg, expected) in [
            ("release in", t.released),
            ("release out", t.released),
            (TransferKind::SellerFee.as_str(), t.seller_fee),
            (TransferKind::Revenue.as_str(), t.revenue),
            (TransferKind::Maintenance.as_str(), t.maintenance),
            (TransferKind::Refund.as_str(), t.refunded),
        ] {
            let got = sums.get(&(reference, leg)).copied().unwrap_or_default();
            if got != expected {
                found.push(Violation(format!(
                    "accrual posting {reference:?}: {leg} posted {got} but its accrual rows sum to {expected}"
                )));
            }
        }
    }
    found
}

/// Entries read per page while recomputing the chain.
const CHAIN_PAGE: u32 = 10_000;

/// Recomputes the ledger's hash chain and names the first entry that breaks it.
async fn verify_chain(store: &dyn Store, found: &mut Vec<Violation>) -> Result<(), StoreError> {
    use hashmarket_store::chain::{link, GENESIS};
    let mut previous = GENESIS.to_string();
    let mut after = 0i64;
    let mut chained = 0i64;
    loop {
        let page = store.chained_entries(after, CHAIN_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            // Entries written before the chain existed carry no hash.
            let Some(stored) = &e.chain_hash else {
                continue;
            };
            let expected = link(&previous, &e.entry);
            if *stored != expected {
                found.push(Violation(format!(
                    "ledger entry {} breaks the hash chain: it, or the entry before it, was \
                     altered after it was written",
                    e.seq
                )));
                return Ok(());
            }
            previous = expected;
            chained += 1;
        }
    }
    let (head, entries) = store.chain_head().await?;
    if head != previous || entries != chained {
        found.push(Violation(format!(
            "the ledger chain's head ({entries} entries, {head}) does not match its last \
             entry ({chained} entries, {previous}): entries were removed"
        )));
    }
    Ok(())
}
