//! The marketplace's persistence: accounts and the ledger journal, rigs, orders,
//! contracts, idempotency records.
//!
//! The store decides nothing about money. The order path (crates/market) opens a
//! [`UnitOfWork`], locks the accounts and rigs it will touch, asks the pure cores
//! (ledger, matching, contracts) what happens, writes the result and commits — all
//! of one batch in one transaction (group commit).
//!
//! Hash rates are `i64` H/s here (the database's BIGINT): 9.2 EH/s per rig, order or
//! contract at most, which the API enforces before anything reaches the store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::StoreError;

/// The owner id of the operator's accounts.
pub const OPERATOR_ID: Uuid = Uuid::nil();

/// One account: (owner, asset, purpose).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountRef {
    /// The user, or [`OPERATOR_ID`].
    pub owner_id: Uuid,
    /// Asset code, e.g. `BTC`.
    pub asset: String,
    /// `available`, `order_hold`, `contract_escrow`, `fees`, `world`, ...
    pub purpose: String,
}

/// An account and its balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountBalance {
    /// Which account.
    pub account: AccountRef,
    /// Its balance (credits − debits).
    pub balance: Decimal,
}

/// A transfer to write: debit one account, credit another, of the same asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    /// Transfer id.
    pub id: Uuid,
    /// Why the money moved (`credit`, `hold`, `fill`, `fee`, ...).
    pub kind: String,
    /// The account debited.
    pub debit: AccountRef,
    /// The account credited (same asset).
    pub credit: AccountRef,
    /// How much; strictly positive.
    pub amount: Decimal,
    /// The order it belongs to.
    pub order_id: Option<Uuid>,
    /// The contract it belongs to.
    pub contract_id: Option<Uuid>,
    /// The withdrawal it belongs to.
    pub withdrawal_id: Option<Uuid>,
    /// A free-text reference (e.g. the operator's credit reference).
    pub reference: Option<String>,
    /// When (business clock).
    pub created_at: DateTime<Utc>,
}

/// A journal entry: one side of a transfer and the balance it left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRecord {
    /// The transfer this is a side of.
    pub transfer_id: Uuid,
    /// The account.
    pub account: AccountRef,
    /// Amount debited (0 on the credit side).
    pub debit: Decimal,
    /// Amount credited (0 on the debit side).
    pub credit: Decimal,
    /// The account's balance after this entry.
    pub balance_after: Decimal,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A journal entry as read back, with its transfer's kind and references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntryRow {
    /// Position in the journal (commit order); also the pagination cursor.
    pub seq: i64,
    /// The entry's own fields.
    pub entry: EntryRecord,
    /// The transfer's kind.
    pub kind: String,
    /// The transfer's order, contract and withdrawal references.
    pub order_id: Option<Uuid>,
    /// See `order_id`.
    pub contract_id: Option<Uuid>,
    /// See `order_id`.
    pub withdrawal_id: Option<Uuid>,
    /// The transfer's free-text reference.
    pub reference: Option<String>,
}

/// A seller's rig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RigRow {
    /// Rig id.
    pub id: Uuid,
    /// The seller.
    pub owner_id: Uuid,
    /// Display name.
    pub name: String,
    /// Algorithm id (`sha256`).
    pub algorithm: String,
    /// Optional region.
    pub region: Option<String>,
    /// Listed capacity.
    pub hash_rate_hs: i64,
    /// Capacity in open asks.
    pub offered_hs: i64,
    /// Capacity in running contracts.
    pub contracted_hs: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl RigRow {
    /// Capacity neither offered nor contracted.
    pub fn free_hs(&self) -> i64 {
        self.hash_rate_hs - self.offered_hs - self.contracted_hs
    }
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// Order id.
    pub id: Uuid,
    /// The matching engine's id for it, unique per market, in arrival order.
    pub engine_id: i64,
    /// Who placed it.
    pub user_id: Uuid,
    /// Market id (`sha256-30d`).
    pub market: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Limit price.
    pub price: Decimal,
    /// Hash rate wanted or offered.
    pub hash_rate_hs: i64,
    /// Hash rate filled so far.
    pub filled_hs: i64,
    /// `open`, `partially_filled`, `filled`, `cancelled`, `expired`.
    pub status: String,
    /// `gtc`, `ioc`, `fok`.
    pub time_in_force: String,
    /// Post-only.
    pub post_only: bool,
    /// The rig offered (sells).
    pub rig_id: Option<Uuid>,
    /// The client's own id for the order.
    pub client_order_id: Option<String>,
    /// What is still held for it (buys).
    pub hold_remaining: Decimal,
    /// Placed.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// An email to a user, for the outbox; the address is read from the user's row
/// in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEmail {
    /// Email id.
    pub id: Uuid,
    /// To whom.
    pub user_id: Uuid,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body_text: String,
    /// HTML body.
    pub body_html: String,
    /// Written.
    pub created_at: DateTime<Utc>,
}

/// A contract as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRow {
    /// Contract id.
    pub id: Uuid,
    /// Market id.
    pub market: String,
    /// The buyer.
    pub buyer_id: Uuid,
    /// The seller.
    pub seller_id: Uuid,
    /// The rig delivering.
    pub rig_id: Uuid,
    /// The buy order of the fill.
    pub buy_order_id: Uuid,
    /// The sell order of the fill.
    pub sell_order_id: Uuid,
    /// Contracted hash rate.
    pub hash_rate_hs: i64,
    /// Price per display unit per day.
    pub price: Decimal,
    /// hash rate × days × price, rounded to the asset.
    pub cost: Decimal,
    /// The buyer fee charged on top.
    pub buyer_fee: Decimal,
    /// Quote asset.
    pub asset: String,
    /// Length in days.
    pub tenor_days: i32,
    /// Start (business clock).
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// `pending`, `active`, `completed`, `cancelled`, `terminated`.
    pub status: String,
    /// Paid out of escrow to the seller (before the seller fee).
    pub released_to_seller: Decimal,
    /// Returned from escrow to the buyer.
    pub refunded_to_buyer: Decimal,
    /// Mining revenue credited to the buyer.
    pub mining_revenue: Decimal,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Which side of contracts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractRole {
    /// Contracts the user bought.
    Buyer,
    /// Contracts the user sells.
    Seller,
    /// Either.
    Any,
}

/// The filter and page of an order listing.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    /// Only this market.
    pub market: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only orders older than this id (UUIDv7: older = smaller).
    pub before: Option<Uuid>,
    /// Page size.
    pub limit: u32,
}

/// A finished request's answer, stored with its effect for replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyCompletion {
    /// The principal's namespace.
    pub principal: String,
    /// The client's key.
    pub key: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The body answered.
    pub body: String,
}

/// A finished request's record, written in the batch that made its effect (the
/// order path's idempotency: no claim of its own, no separate commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The principal's namespace.
    pub principal: String,
    /// The client's key.
    pub key: String,
    /// The payload fingerprint.
    pub fingerprint: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The body answered.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// First use: go ahead, and complete it in the effect's transaction.
    Fresh,
    /// Same key and payload, finished before: answer this again.
    Replay {
        /// Stored status.
        status: u16,
        /// Stored body.
        body: String,
    },
    /// Same key, still being worked on by another request.
    InFlight,
    /// Same key, different payload.
    Mismatch,
}

/// The marketplace's reads and the way into a write transaction.
#[async_trait]
pub trait MarketStore: Send + Sync {
    /// Opens a write transaction.
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError>;
    /// Every non-zero account of an owner.
    async fn balances(&self, owner_id: Uuid) -> Result<Vec<AccountBalance>, StoreError>;
    /// Sum of all balances per asset (the ledger invariant: each is zero).
    async fn balance_sums(&self) -> Result<Vec<(String, Decimal)>, StoreError>;
    /// Every account and its balance, in key order.
    async fn all_accounts(&self) -> Result<Vec<AccountBalance>, StoreError>;
    /// Per account, credits − debits over all its journal entries, in key order.
    async fn journal_sums(&self) -> Result<Vec<AccountBalance>, StoreError>;
    /// An owner's journal entries, newest first, older than `before_seq`.
    async fn ledger_entries(
        &self,
        owner_id: Uuid,
        asset: Option<&str>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LedgerEntryRow>, StoreError>;
    /// Stores a new rig.
    async fn insert_rig(&self, rig: &RigRow) -> Result<(), StoreError>;
    /// A rig that is not deleted.
    async fn rig(&self, id: Uuid) -> Result<Option<RigRow>, StoreError>;
    /// An owner's rigs, newest first.
    async fn rigs(
        &self,
        owner_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<RigRow>, StoreError>;
    /// Renames or resizes a rig; a resize below offered + contracted is refused (false).
    async fn update_rig(
        &self,
        id: Uuid,
        name: &str,
        hash_rate_hs: i64,
        region: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Deletes a rig with no open asks and no running contracts (false otherwise).
    async fn delete_rig(&self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// One order.
    async fn order(&self, id: Uuid) -> Result<Option<OrderRow>, StoreError>;
    /// A user's orders, newest first.
    async fn orders(&self, user_id: Uuid, query: &OrderQuery) -> Result<Vec<OrderRow>, StoreError>;
    /// A market's resting orders in engine order (for rebuilding its book), streamed
    /// from one query: the book is rebuilt while the database is still sending.
    fn open_orders<'a>(&'a self, market: &'a str) -> BoxStream<'a, Result<OrderRow, StoreError>>;
    /// The highest engine id a market has used (0 if none).
    async fn max_engine_id(&self, market: &str) -> Result<i64, StoreError>;
    /// How many orders of a market are open (what [`Self::open_orders`] will
    /// stream), so recovery can size its maps once.
    async fn open_order_count(&self, market: &str) -> Result<u64, StoreError>;
    /// One contract.
    async fn contract(&self, id: Uuid) -> Result<Option<ContractRow>, StoreError>;
    /// A user's contracts, newest first.
    async fn contracts(
        &self,
        user_id: Uuid,
        role: ContractRole,
        status: Option<&str>,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<ContractRow>, StoreError>;
    /// Claims an idempotency key for a request with this payload fingerprint. An
    /// in-flight claim older than `lock_until` is abandoned and can be taken over.
    async fn claim_idempotency_key(
        &self,
        principal: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError>;
    /// Releases an in-flight claim whose request had no effect (so a retry can run).
    async fn release_idempotency_key(&self, principal: &str, key: &str) -> Result<(), StoreError>;
    /// Deletes completed records created before `before`; returns how many.
    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// One write transaction. Dropping it without [`UnitOfWork::commit`] rolls back.
#[async_trait]
pub trait UnitOfWork: Send {
    /// Locks the accounts (creating missing ones at zero) and returns their balances,
    /// in the order asked.
    async fn lock_accounts(&mut self, accounts: &[AccountRef]) -> Result<Vec<Decimal>, StoreError>;
    /// Locks a rig that is not deleted.
    async fn lock_rig(&mut self, id: Uuid) -> Result<Option<RigRow>, StoreError>;
    /// Writes transfers, their journal entries, and the accounts' new balances.
    async fn write_ledger(
        &mut self,
        transfers: &[TransferRecord],
        entries: &[EntryRecord],
        balances: &[(AccountRef, Decimal)],
    ) -> Result<(), StoreError>;
    /// Sets a rig's offered and contracted hash rate.
    async fn set_rig_usage(
        &mut self,
        rig_id: Uuid,
        offered_hs: i64,
        contracted_hs: i64,
    ) -> Result<(), StoreError>;
    /// Inserts or updates orders (by id).
    async fn upsert_orders(&mut self, orders: &[OrderRow]) -> Result<(), StoreError>;
    /// Inserts new contracts.
    async fn insert_contracts(&mut self, contracts: &[ContractRow]) -> Result<(), StoreError>;
    /// The existing records among `(principal, key)` pairs, as
    /// `(principal, key, what it means for fingerprint)`.
    async fn find_idempotency_keys(
        &mut self,
        wanted: &[(String, String, String)],
    ) -> Result<Vec<(String, String, IdempotencyClaim)>, StoreError>;
    /// Inserts completed records; a key that exists already fails the transaction
    /// (so one key can never get two effects).
    async fn insert_idempotency_records(
        &mut self,
        records: &[IdempotencyRecord],
    ) -> Result<(), StoreError>;
    /// Stores finished requests' answers with the effect.
    async fn complete_idempotency(
        &mut self,
        completions: &[IdempotencyCompletion],
    ) -> Result<(), StoreError>;
    /// Makes this the only accrual transaction until it ends: a concurrent run
    /// waits here, then reads the progress this one committed.
    async fn lock_accrual(&mut self) -> Result<(), StoreError>;
    /// Up to `limit` active contracts not accrued up to `until`, in (rig, id)
    /// order after `after` — the (rig, id) of the last one of the previous call,
    /// or [`ACCRUAL_START`] — so that a rig's contracts come together.
    async fn contracts_to_accrue(
        &mut self,
        until: DateTime<Utc>,
        after: (Uuid, Uuid),
        limit: u32,
    ) -> Result<Vec<crate::payouts::AccruingContract>, StoreError>;
    /// Records accrued (contract, period) rows; one that exists already fails the
    /// batch (accrual happens once).
    async fn insert_accruals(
        &mut self,
        rows: &[crate::payouts::AccrualRow],
    ) -> Result<(), StoreError>;
    /// Sets contracts' money totals, accrual progress and status.
    async fn update_contract_progress(
        &mut self,
        rows: &[crate::payouts::ContractProgress],
    ) -> Result<(), StoreError>;
    /// Queues emails to users (the outbox), addressed from their rows.
    async fn insert_user_emails(&mut self, emails: &[UserEmail]) -> Result<(), StoreError>;
    /// Inserts a new withdrawal (its money moves in the same transaction).
    async fn insert_withdrawal(
        &mut self,
        row: &crate::withdrawals::WithdrawalRow,
    ) -> Result<(), StoreError>;
    /// Locks a withdrawal (PostgreSQL `FOR UPDATE`) and reads it, so a change of
    /// status decides on what is committed.
    async fn lock_withdrawal(
        &mut self,
        id: Uuid,
    ) -> Result<Option<crate::withdrawals::WithdrawalRow>, StoreError>;
    /// Writes a withdrawal's status, times, token hash, txid and reject reason.
    async fn update_withdrawal(
        &mut self,
        row: &crate::withdrawals::WithdrawalRow,
    ) -> Result<(), StoreError>;
    /// Commits everything.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

mod delegate;
pub(crate) use delegate::delegate_market_store;
