//! Payouts (HM-6): hashprices, delivery reports, and what accrual reads.
//! Accrual's writes (transfers, accrual rows, contract progress) go through the
//! [`UnitOfWork`](crate::market::UnitOfWork) of one batch.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::market::ContractRow;
use crate::StoreError;

/// A hashprice: revenue per display unit per day over an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashpriceRow {
    /// Algorithm id.
    pub algorithm: String,
    /// Start.
    pub from_at: DateTime<Utc>,
    /// End.
    pub to_at: DateTime<Utc>,
    /// In the algorithm's coin.
    pub price: Decimal,
}

/// A rig's delivery report: average hash rate over an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    /// The rig.
    pub rig_id: Uuid,
    /// Start.
    pub from_at: DateTime<Utc>,
    /// End.
    pub to_at: DateTime<Utc>,
    /// Average hash rate, H/s.
    pub hash_rate_hs: i64,
}

/// What inserting a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Stored.
    Inserted,
    /// The same report was already stored (a retry): nothing changed.
    Duplicate,
    /// It overlaps a different report: nothing changed.
    Overlaps,
}

/// One accrued (contract, period).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccrualRow {
    /// The contract.
    pub contract_id: Uuid,
    /// Period start.
    pub period_start: DateTime<Utc>,
    /// Period end.
    pub period_end: DateTime<Utc>,
    /// Hash rate credited to the contract, H/s.
    pub delivered_hs: i64,
    /// Escrow → seller.
    pub released: Decimal,
    /// Seller → fees.
    pub seller_fee: Decimal,
    /// Mining revenue → buyer.
    pub revenue: Decimal,
    /// Buyer → fees.
    pub maintenance: Decimal,
    /// Escrow → buyer (last period only).
    pub refunded: Decimal,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// The reference of the ledger postings this row is part of (`None`: accrued
    /// before postings were summed, when each transfer named its contract).
    pub posting: Option<String>,
    /// The contract's released total through this period (`None`: accrued before
    /// rows carried totals).
    pub released_total: Option<Decimal>,
    /// The contract's mining revenue (less maintenance) through this period.
    pub revenue_total: Option<Decimal>,
}

/// A contract's money and progress after accrual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractProgress {
    /// The contract.
    pub id: Uuid,
    /// Total released so far.
    pub released_to_seller: Decimal,
    /// Total refunded.
    pub refunded_to_buyer: Decimal,
    /// Total revenue.
    pub mining_revenue: Decimal,
    /// Accrued up to here.
    pub accrued_until: DateTime<Utc>,
    /// `active`, or `completed` after its last period.
    pub status: String,
}

/// A contract due for accrual, with how far it has been accrued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccruingContract {
    /// The contract.
    pub contract: ContractRow,
    /// Accrued up to here (`None`: nothing yet).
    pub accrued_until: Option<DateTime<Utc>>,
}

/// A contract's share of a rig, for splitting deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RigContract {
    /// The rig.
    pub rig_id: Uuid,
    /// The contract.
    pub contract_id: Uuid,
    /// Its hash rate, H/s.
    pub hash_rate_hs: i64,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// A contract's money as recorded on the contract and in its accrual rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The contract.
    pub id: Uuid,
    /// Its status.
    pub status: String,
    /// Its cost.
    pub cost: Decimal,
    /// `released_to_seller` on the contract.
    pub released: Decimal,
    /// `refunded_to_buyer` on the contract.
    pub refunded: Decimal,
    /// Σ released over its accrual rows.
    pub accrued_released: Decimal,
    /// Σ refunded over its accrual rows.
    pub accrued_refunded: Decimal,
}

/// How the reference of an accrual transaction's summed postings begins (an id
/// follows); its accrual rows carry the whole reference in `posting`.
pub const ACCRUAL_POSTING_PREFIX: &str = "accrual ";

/// A contract as read (both backends, SQL as written here): the stored row, with
/// an active contract's money totals and accrual progress taken from its latest
/// accrual row, which carries running totals — so accrual writes one row per
/// contract and period and updates the contract only when it completes. Select
/// them from each backend's `CONTRACT_READ_FROM`: the contract as `c` and its
/// latest accrual row as `p`.
pub(crate) const CONTRACT_READ_COLUMNS: &str =
    "c.id, c.market, c.buyer_id, c.seller_id, c.rig_id, c.buy_order_id, c.sell_order_id, \
     c.hash_rate_hs, c.price, c.cost, c.buyer_fee, c.asset, c.tenor_days, c.starts_at, \
     c.ends_at, c.status, COALESCE(p.released_total, c.released_to_seller) AS released_to_seller, \
     c.refunded_to_buyer, COALESCE(p.revenue_total, c.mining_revenue) AS mining_revenue, \
     c.created_at, COALESCE(p.period_end, c.accrued_until) AS accrued_until";

/// Where [`UnitOfWork::contracts_to_accrue`](crate::market::UnitOfWork::contracts_to_accrue) starts: the nil ids sort before
/// every real (rig, contract) (as UUIDs on PostgreSQL, as text on SQLite). A
/// start value rather than "no cursor" keeps one statement whose keyset is an
/// index range under a generic plan (`$2 IS NULL OR …` would not be).
pub const ACCRUAL_START: (Uuid, Uuid) = (Uuid::nil(), Uuid::nil());

/// What one accrual posting's rows add up to, per kind of movement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccruedTotals {
    /// Σ released.
    pub released: Decimal,
    /// Σ seller fee.
    pub seller_fee: Decimal,
    /// Σ revenue.
    pub revenue: Decimal,
    /// Σ maintenance.
    pub maintenance: Decimal,
    /// Σ refunded.
    pub refunded: Decimal,
}

/// The sum of one kind of transfer under one reference between two purposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedTotal {
    /// The transfers' reference.
    pub reference: String,
    /// Their kind.
    pub kind: String,
    /// The debited accounts' purpose.
    pub debit_purpose: String,
    /// The credited accounts' purpose.
    pub credit_purpose: String,
    /// Σ amount.
    pub amount: Decimal,
}

/// Reads and writes hashprices and deliveries; reads what accrual needs.
#[async_trait]
pub trait PayoutStore: Send + Sync {
    /// Stores a hashprice unless it overlaps another of the same algorithm.
    async fn insert_hashprice(&self, row: &HashpriceRow) -> Result<ReportOutcome, StoreError>;
    /// Stores a delivery report unless it overlaps another of the same rig.
    async fn insert_delivery(&self, row: &DeliveryRow) -> Result<ReportOutcome, StoreError>;
    /// Hashprices of `algorithm` overlapping `[from, to)`.
    async fn hashprices(
        &self,
        algorithm: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HashpriceRow>, StoreError>;
    /// Delivery reports of `rigs` overlapping `[from, to)`.
    async fn deliveries(
        &self,
        rigs: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeliveryRow>, StoreError>;
    /// Every contract (any status) of `rigs` overlapping `[from, to)`.
    async fn rig_contracts(
        &self,
        rigs: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RigContract>, StoreError>;
    /// Every contract's settlement, for `hashmarket verify`.
    async fn settlements(&self) -> Result<Vec<Settlement>, StoreError>;
    /// The accrual rows of a contract, in period order.
    async fn accruals(&self, contract_id: Uuid) -> Result<Vec<AccrualRow>, StoreError>;
    /// Each accrual posting's rows summed (rows with a posting reference), for
    /// `hashmarket verify`.
    async fn accrued_totals(
        &self,
    ) -> Result<std::collections::BTreeMap<String, AccruedTotals>, StoreError>;
    /// Transfers whose reference starts with `prefix`, summed per (reference,
    /// kind, debit purpose, credit purpose), for `hashmarket verify`.
    async fn posted_totals(&self, prefix: &str) -> Result<Vec<PostedTotal>, StoreError>;
}
