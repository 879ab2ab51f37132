//! One batch of a sequencer: everything its commands change, accumulated in memory
//! against locked rows, then written in one transaction.
//!
//! Accounts and rigs are locked the first time the batch touches them (PostgreSQL
//! `FOR UPDATE`; SQLite's single writer) and their running values kept here, so the
//! ledger core can check each transfer against the balance as it stands at that
//! point of the batch. Every transfer yields its two journal entries at once, with
//! the balance each left.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use hashmarket_store::market::{
    AccountRef, ContractRow, EntryRecord, IdempotencyClaim, IdempotencyRecord, OrderRow, RigRow,
    TransferRecord, UnitOfWork, UserEmail,
};
use hashmarket_store::payouts::{AccrualRow, AccruingContract, ContractProgress};
use hashmarket_store::StoreError;

use crate::money::{check_transfer, entry, TransferKind};
use crate::notices::Notices;

/// What a transfer belongs to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refs {
    /// The order.
    pub order_id: Option<Uuid>,
    /// The contract.
    pub contract_id: Option<Uuid>,
    /// The withdrawal.
    pub withdrawal_id: Option<Uuid>,
}

/// A locked account's balance: as read when the batch locked it, and now. At
/// commit only the accounts whose balance differs are written.
#[derive(Debug, Clone, Copy)]
struct Balance {
    locked: Decimal,
    now: Decimal,
}

/// A batch in progress.
pub struct Batch {
    work: Box<dyn UnitOfWork>,
    now: DateTime<Utc>,
    /// Each locked account's balance as it stands in this batch.
    balances: BTreeMap<AccountRef, Balance>,
    transfers: Vec<TransferRecord>,
    entries: Vec<EntryRecord>,
    orders: BTreeMap<Uuid, OrderRow>,
    contracts: Vec<ContractRow>,
    rigs: BTreeMap<Uuid, RigRow>,
    records: Vec<IdempotencyRecord>,
    notices: Notices,
    emails: Vec<UserEmail>,
    accruals: Vec<AccrualRow>,
    progress: Vec<ContractProgress>,
}

impl Batch {
    /// Starts a batch in a fresh transaction; `now` is the business time of all of it.
    pub fn new(work: Box<dyn UnitOfWork>, now: DateTime<Utc>, notices: Notices) -> Batch {
        Batch {
            work,
            now,
            balances: BTreeMap::new(),
            transfers: Vec::new(),
            entries: Vec::new(),
            orders: BTreeMap::new(),
            contracts: Vec::new(),
            rigs: BTreeMap::new(),
            records: Vec::new(),
            notices,
            emails: Vec::new(),
            accruals: Vec::new(),
            progress: Vec::new(),
        }
    }

    /// The batch's business time.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Locks accounts not yet locked by this batch.
    pub async fn lock(&mut self, accounts: &[AccountRef]) -> Result<(), StoreError> {
        let missing: Vec<AccountRef> = accounts
            .iter()
            .filter(|a| !self.balances.contains_key(*a))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let balances = self.work.lock_accounts(&missing).await?;
        assert_eq!(
            balances.len(),
            missing.len(),
            "one balance per locked account"
        );
        let locked = missing.into_iter().zip(balances);
        self.balances.extend(locked.map(|(account, balance)| {
            let balance = Balance {
                locked: balance,
                now: balance,
            };
            (account, balance)
        }));
        Ok(())
    }

    /// The running balance of a locked account.
    pub fn balance(&self, account: &AccountRef) -> Decimal {
        let balance = self.balances.get(account).map(|b| b.now);
        assert!(
            balance.is_some(),
            "account {account:?} used before it was locked"
        );
        balance.unwrap_or_default()
    }

    /// Moves `amount` between two locked accounts. Zero amounts are skipped (a
    /// transfer is strictly positive); a transfer the ledger rules refuse panics,
    /// because callers check funds first — reaching it is a bug, not bad input.
    pub fn transfer(
        &mut self,
        kind: TransferKind,
        from: &AccountRef,
        to: &AccountRef,
        amount: Decimal,
        refs: Refs,
    ) {
        self.record_transfer(kind, from, to, amount, refs, None);
    }

    /// [`Batch::transfer`] for a movement that belongs to no single order,
    /// contract or withdrawal but to a named event — e.g. an accrual transaction's
    /// summed postings, whose per-contract split is in its accrual rows.
    pub fn transfer_referenced(
        &mut self,
        kind: TransferKind,
        from: &AccountRef,
        to: &AccountRef,
        amount: Decimal,
        reference: &str,
    ) {
        let reference = Some(reference.to_string());
        self.record_transfer(kind, from, to, amount, Refs::default(), reference);
    }

    fn record_transfer(
        &mut self,
        kind: TransferKind,
        from: &AccountRef,
        to: &AccountRef,
        amount: Decimal,
        refs: Refs,
        reference: Option<String>,
    ) {
        if amount.is_zero() {
            return;
        }
        let (from_after, to_after) =
            check_transfer(from, self.balance(from), to, self.balance(to), amount).unwrap_or_else(
                |err| panic!("ledger invariant: {err} ({kind:?} {from:?} -> {to:?})"),
            );
        self.set_balance(from, from_after);
        self.set_balance(to, to_after);
        let id = Uuid::now_v7();
        self.transfers.push(TransferRecord {
            id,
            kind: kind.as_str().to_string(),
            debit: from.clone(),
            credit: to.clone(),
            amount,
            order_id: refs.order_id,
            contract_id: refs.contract_id,
            withdrawal_id: refs.withdrawal_id,
            reference,
            created_at: self.now,
        });
        self.entries
            .push(entry(id, from, amount, Decimal::ZERO, from_after, self.now));
        self.entries
            .push(entry(id, to, Decimal::ZERO, amount, to_after, self.now));
    }

    fn set_balance(&mut self, account: &AccountRef, now: Decimal) {
        match self.balances.get_mut(account) {
            Some(balance) => balance.now = now,
            None => panic!("account {account:?} moved before it was locked"),
        }
    }

    /// Locks a rig (first use) and returns it, with this batch's running usage.
    pub async fn rig(&mut self, id: Uuid) -> Result<Option<&mut RigRow>, StoreError> {
        if !self.rigs.contains_key(&id) {
            match self.work.lock_rig(id).await? {
                Some(rig) => {
                    self.rigs.insert(id, rig);
                }
                None => return Ok(None),
            }
        }
        Ok(self.rigs.get_mut(&id))
    }

    /// A rig this batch already locked.
    pub fn locked_rig(&mut self, id: Uuid) -> &mut RigRow {
        self.rigs
            .get_mut(&id)
            .unwrap_or_else(|| panic!("rig {id} used before it was locked"))
    }

    /// Records an order's new state (the last one recorded wins).
    pub fn put_order(&mut self, order: OrderRow) {
        self.orders.insert(order.id, order);
    }

    /// An order this batch has already changed, if any.
    pub fn changed_order(&self, id: Uuid) -> Option<&OrderRow> {
        self.orders.get(&id)
    }

    /// Records a new contract.
    pub fn add_contract(&mut self, contract: ContractRow) {
        self.emails.extend(self.notices.contract_started(&contract));
        self.contracts.push(contract);
    }

    /// What existing records say about `(principal, key, fingerprint)` requests.
    pub async fn find_idempotency(
        &mut self,
        wanted: &[(String, String, String)],
    ) -> Result<Vec<(String, String, IdempotencyClaim)>, StoreError> {
        self.work.find_idempotency_keys(wanted).await
    }

    /// Makes this the only accrual transaction until it commits or rolls back.
    pub async fn lock_accrual(&mut self) -> Result<(), StoreError> {
        self.work.lock_accrual().await
    }

    /// Up to `limit` contracts due for accrual after `after` (rig, id), read in
    /// this transaction.
    pub async fn contracts_to_accrue(
        &mut self,
        until: DateTime<Utc>,
        after: (Uuid, Uuid),
        limit: u32,
    ) -> Result<Vec<AccruingContract>, StoreError> {
        self.work.contracts_to_accrue(until, after, limit).await
    }

    /// The emails this batch may write.
    pub fn notices(&self) -> &Notices {
        &self.notices
    }

    /// Records an accrued (contract, period), written with its transfers.
    pub fn add_accrual(&mut self, row: AccrualRow) {
        self.accruals.push(row);
    }

    /// Records a contract's new totals and progress after accrual.
    pub fn set_contract_progress(&mut self, row: ContractProgress) {
        self.progress.push(row);
    }

    /// Queues an email to a user with the batch.
    pub fn add_email(&mut self, email: UserEmail) {
        self.emails.push(email);
    }

    /// Records a finished request's answer, written with its effect.
    pub fn record(&mut self, record: IdempotencyRecord) {
        self.records.push(record);
    }

    /// Writes the accrual rows and contract progress recorded so far into the
    /// transaction now, so a long accrual transaction holds one chunk of them in
    /// memory at a time, not all of them.
    pub async fn flush_accruals(&mut self) -> Result<(), StoreError> {
        self.work.insert_accruals(&self.accruals).await?;
        self.work.update_contract_progress(&self.progress).await?;
        self.accruals.clear();
        self.progress.clear();
        Ok(())
    }

    /// Writes the transfers and journal entries recorded so far into the
    /// transaction now (the balances they leave are written at commit), so a
    /// batch of hundreds of thousands of transfers holds a slice of them in
    /// memory at a time.
    pub async fn flush_ledger(&mut self) -> Result<(), StoreError> {
        self.work
            .write_ledger(&self.transfers, &self.entries, &[])
            .await?;
        self.transfers.clear();
        self.entries.clear();
        Ok(())
    }

    /// Writes everything and commits.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        // Only changed balances are written: a batch locks accounts it may not
        // move (a buyer's escrow for a fill that does not come), and a hold
        // released in the same batch leaves its account where it was. The vector
        // is sized once, because a filter gives `collect` no size: doubling one of
        // 300,000 balances (an accrual of 1M contracts) held two buffers at once,
        // ~40 MB more peak memory, measured.
        let mut changed: Vec<(AccountRef, Decimal)> = Vec::with_capacity(self.balances.len());
        changed.extend(
            self.balances
                .into_iter()
                .filter(|(_, b)| b.now != b.locked)
                .map(|(account, b)| (account, b.now)),
        );
        self.work
            .write_ledger(&self.transfers, &self.entries, &changed)
            .await?;
        let orders: Vec<OrderRow> = self.orders.into_values().collect();
        self.work.upsert_orders(&orders).await?;
        self.work.insert_contracts(&self.contracts).await?;
        for rig in self.rigs.values() {
            assert!(
                rig.offered_hs >= 0 && rig.contracted_hs >= 0,
                "rig usage negative: {rig:?}"
            );
            assert!(rig.free_hs() >= 0, "rig over capacity: {rig:?}");
            self.work
                .set_rig_usage(rig.id, rig.offered_hs, rig.contracted_hs)
                .await?;
        }
        self.work.insert_idempotency_records(&self.records).await?;
        self.work.insert_accruals(&self.accruals).await?;
        self.work.update_contract_progress(&self.progress).await?;
        self.work.insert_user_emails(&self.emails).await?;
        self.work.commit().await
    }
}

pub use crate::money::account;
