//! The backends' marketplace trait impls, written once: each method calls the
//! function of the same name in the backend's concept module.

/// Implements [`MarketStore`](crate::market::MarketStore) for a backend's store (`$store`) and [`UnitOfWork`](crate::market::UnitOfWork)
/// for its write transaction (`$work`, with the `sqlx::Transaction` in a field
/// `tx`) by delegation, written once so that both backends keep one layout: each
/// method is the function of the same name in a concept module of the invoking
/// module — `accounts`, `rigs`, `orders`, `contracts`, `accruals`, `idempotency`,
/// `emails` — called with the store (reads) or the transaction (unit of work).
/// [`MarketStore::begin`](crate::market::MarketStore::begin) is the invoking module's `begin_work`; the ledger and
/// withdrawal writes are the backend's `journal` and `withdrawals` functions.
macro_rules! delegate_market_store {
    ($store:ty, $work:ty) => {
        // A block of its own, so the imports the signatures need stay inside it.
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use futures_util::stream::BoxStream;
            use rust_decimal::Decimal;
            use uuid::Uuid;

            use $crate::market::*;
            use $crate::payouts::{AccrualRow, AccruingContract, ContractProgress};
            use $crate::withdrawals::WithdrawalRow;
            use $crate::StoreError;

            #[async_trait]
            impl MarketStore for $store {
                async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
                    Ok(Box::new(begin_work(self).await?))
                }

                async fn balances(
                    &self,
                    owner_id: Uuid,
                ) -> Result<Vec<AccountBalance>, StoreError> {
                    accounts::balances(self, owner_id).await
                }

                async fn balance_sums(&self) -> Result<Vec<(String, Decimal)>, StoreError> {
                    accounts::balance_sums(self).await
                }

                async fn all_accounts(&self) -> Result<Vec<AccountBalance>, StoreError> {
                    accounts::all_accounts(self).await
                }

                async fn journal_sums(&self) -> Result<Vec<AccountBalance>, StoreError> {
                    accounts::journal_sums(self).await
                }

                async fn ledger_entries(
                    &self,
                    owner_id: Uuid,
                    asset: Option<&str>,
                    before_seq: Option<i64>,
                    limit: u32,
                ) -> Result<Vec<LedgerEntryRow>, StoreError> {
                    accounts::ledger_entries(self, owner_id, asset, before_seq, limit).await
                }

                async fn insert_rig(&self, rig: &RigRow) -> Result<(), StoreError> {
                    rigs::insert_rig(self, rig).await
                }

                async fn rig(&self, id: Uuid) -> Result<Option<RigRow>, StoreError> {
                    rigs::rig(self, id).await
                }

                async fn rigs(
                    &self,
                    owner_id: Uuid,
                    before: Option<Uuid>,
                    limit: u32,
                ) -> Result<Vec<RigRow>, StoreError> {
                    rigs::rigs(self, owner_id, before, limit).await
                }

                async fn update_rig(
                    &self,
                    id: Uuid,
                    name: &str,
                    hash_rate_hs: i64,
                    region: Option<&str>,
                ) -> Result<bool, StoreError> {
                    rigs::update_rig(self, id, name, hash_rate_hs, region).await
                }

                async fn delete_rig(
                    &self,
                    id: Uuid,
                    at: DateTime<Utc>,
                ) -> Result<bool, StoreError> {
                    rigs::delete_rig(self, id, at).await
                }

                async fn order(&self, id: Uuid) -> Result<Option<OrderRow>, StoreError> {
                    orders::order(self, id).await
                }

                async fn orders(
                    &self,
                    user_id: Uuid,
                    query: &OrderQuery,
                ) -> Result<Vec<OrderRow>, StoreError> {
                    orders::orders(self, user_id, query).await
                }

                fn open_orders<'a>(
                    &'a self,
                    market: &'a str,
                ) -> BoxStream<'a, Result<OrderRow, StoreError>> {
                    orders::open_orders(self, market)
                }

                async fn max_engine_id(&self, market: &str) -> Result<i64, StoreError> {
                    orders::max_engine_id(self, market).await
                }

                async fn open_order_count(&self, market: &str) -> Result<u64, StoreError> {
                    orders::open_order_count(self, market).await
                }

                async fn contract(&self, id: Uuid) -> Result<Option<ContractRow>, StoreError> {
                    contracts::contract(self, id).await
                }

                async fn contracts(
                    &self,
                    user_id: Uuid,
                    role: ContractRole,
                    status: Option<&str>,
                    before: Option<Uuid>,
                    limit: u32,
                ) -> Result<Vec<ContractRow>, StoreError> {
                    contracts::contracts(self, user_id, role, status, before, limit).await
                }

                async fn claim_idempotency_key(
                    &self,
                    principal: &str,
                    key: &str,
                    fingerprint: &str,
                    now: DateTime<Utc>,
                    lock_until: DateTime<Utc>,
                ) -> Result<IdempotencyClaim, StoreError> {
                    idempotency::claim_idempotency_key(
                        self,
                        principal,
                        key,
                        fingerprint,
                        now,
                        lock_until,
                    )
                    .await
                }

                async fn release_idempotency_key(
                    &self,
                    principal: &str,
                    key: &str,
                ) -> Result<(), StoreError> {
                    idempotency::release_idempotency_key(self, principal, key).await
                }

                async fn purge_idempotency_keys(
                    &self,
                    before: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    idempotency::purge_idempotency_keys(self, before).await
                }
            }

            #[async_trait]
            impl UnitOfWork for $work {
                async fn lock_accounts(
                    &mut self,
                    accounts: &[AccountRef],
                ) -> Result<Vec<Decimal>, StoreError> {
                    accounts::lock_accounts(&mut self.tx, accounts).await
                }

                async fn lock_rig(&mut self, id: Uuid) -> Result<Option<RigRow>, StoreError> {
                    rigs::lock_rig(&mut self.tx, id).await
                }

                async fn write_ledger(
                    &mut self,
                    transfers: &[TransferRecord],
                    entries: &[EntryRecord],
                    balances: &[(AccountRef, Decimal)],
                ) -> Result<(), StoreError> {
                    super::journal::write_journal(&mut self.tx, transfers, entries, balances).await
                }

                async fn set_rig_usage(
                    &mut self,
                    rig_id: Uuid,
                    offered_hs: i64,
                    contracted_hs: i64,
                ) -> Result<(), StoreError> {
                    rigs::set_rig_usage(&mut self.tx, rig_id, offered_hs, contracted_hs).await
                }

                async fn upsert_orders(&mut self, orders: &[OrderRow]) -> Result<(), StoreError> {
                    orders::upsert_orders(&mut self.tx, orders).await
                }

                async fn insert_contracts(
                    &mut self,
                    contracts: &[ContractRow],
                ) -> Result<(), StoreError> {
                    contracts::insert_contracts(&mut self.tx, contracts).await
                }

                async fn find_idempotency_keys(
                    &mut self,
                    wanted: &[(String, String, String)],
                ) -> Result<Vec<(String, String, IdempotencyClaim)>, StoreError> {
                    idempotency::find_idempotency_keys(&mut self.tx, wanted).await
                }

                async fn insert_idempotency_records(
                    &mut self,
                    records: &[IdempotencyRecord],
                ) -> Result<(), StoreError> {
                    idempotency::insert_idempotency_records(&mut self.tx, records).await
                }

                async fn complete_idempotency(
                    &mut self,
                    completions: &[IdempotencyCompletion],
                ) -> Result<(), StoreError> {
                    idempotency::complete_idempotency(&mut self.tx, completions).await
                }

                async fn lock_accrual(&mut self) -> Result<(), StoreError> {
                    accruals::lock_accrual(&mut self.tx).await
                }

                async fn contracts_to_accrue(
                    &mut self,
                    until: DateTime<Utc>,
                    after: (Uuid, Uuid),
                    limit: u32,
                ) -> Result<Vec<AccruingContract>, StoreError> {
                    accruals::contracts_to_accrue(&mut self.tx, until, after, limit).await
                }

                async fn insert_accruals(&mut self, rows: &[AccrualRow]) -> Result<(), StoreError> {
                    accruals::insert_accruals(&mut self.tx, rows).await
                }

                async fn update_contract_progress(
                    &mut self,
                    rows: &[ContractProgress],
                ) -> Result<(), StoreError> {
                    accruals::update_contract_progress(&mut self.tx, rows).await
                }

                async fn insert_user_emails(
                    &mut self,
                    emails: &[UserEmail],
                ) -> Result<(), StoreError> {
                    emails::insert_user_emails(&mut self.tx, emails).await
                }

                async fn insert_withdrawal(
                    &mut self,
                    row: &WithdrawalRow,
                ) -> Result<(), StoreError> {
                    super::withdrawals::insert(&mut self.tx, row).await
                }

                async fn lock_withdrawal(
                    &mut self,
                    id: Uuid,
                ) -> Result<Option<WithdrawalRow>, StoreError> {
                    super::withdrawals::lock(&mut self.tx, id).await
                }

                async fn update_withdrawal(
                    &mut self,
                    row: &WithdrawalRow,
                ) -> Result<(), StoreError> {
                    super::withdrawals::update(&mut self.tx, row).await
                }

                async fn commit(self: Box<Self>) -> Result<(), StoreError> {
                    self.tx.commit().await?;
                    Ok(())
                }
            }
        };
    };
}
pub(crate) use delegate_market_store;
