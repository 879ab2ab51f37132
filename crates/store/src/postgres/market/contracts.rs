//! PostgreSQL: contracts — their columns and row decoder (shared with the payouts
//! module), reads, and inserting a batch's new contracts.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::market::{ContractRole, ContractRow};
use crate::payouts::CONTRACT_READ_COLUMNS;
use crate::postgres::numeric::amount;
use crate::postgres::PgStore;
use crate::StoreError;

/// The stored columns (what a new contract inserts); reads go through
/// [`CONTRACT_READ_COLUMNS`], which has the same names.
pub(crate) const CONTRACT_COLUMNS: &str =
    "id, market, buyer_id, seller_id, rig_id, buy_order_id, sell_order_id, \
    hash_rate_hs, price, cost, buyer_fee, asset, tenor_days, starts_at, ends_at, status, \
    released_to_seller, refunded_to_buyer, mining_revenue, created_at";

/// The contract (`c`) and its latest accrual row (`p`) for
/// [`CONTRACT_READ_COLUMNS`]: a lateral probe of the accruals' primary key per
/// contract, so a scan of contracts in index order can stop at its `LIMIT` (a
/// plain join was planned as a join of every contract, then a sort).
pub(crate) const CONTRACT_READ_FROM: &str = "contracts c LEFT JOIN LATERAL \
     (SELECT a.period_end, a.released_total, a.revenue_total FROM accruals a \
     WHERE a.contract_id = c.id ORDER BY a.period_start DESC LIMIT 1) p ON true";

pub(crate) fn contract_from_row(row: &PgRow) -> Result<ContractRow, sqlx::Error> {
    Ok(ContractRow {
        id: row.try_get("id")?,
        market: row.try_get("market")?,
        buyer_id: row.try_get("buyer_id")?,
        seller_id: row.try_get("seller_id")?,
        rig_id: row.try_get("rig_id")?,
        buy_order_id: row.try_get("buy_order_id")?,
        sell_order_id: row.try_get("sell_order_id")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        price: amount(row, "price")?,
        cost: amount(row, "cost")?,
        buyer_fee: amount(row, "buyer_fee")?,
        asset: row.try_get("asset")?,
        tenor_days: row.try_get("tenor_days")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        status: row.try_get("status")?,
        released_to_seller: amount(row, "released_to_seller")?,
        refunded_to_buyer: amount(row, "refunded_to_buyer")?,
        mining_revenue: amount(row, "mining_revenue")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) async fn contract(store: &PgStore, id: Uuid) -> Result<Option<ContractRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {CONTRACT_READ_COLUMNS} FROM {CONTRACT_READ_FROM} WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref()
        .map(contract_from_row)
        .transpose()
        .map_err(Into::into)
}

pub(super) async fn contracts(
    store: &PgStore,
    user_id: Uuid,
    role: ContractRole,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<ContractRow>, StoreError> {
    let who = match role {
        ContractRole::Buyer => "c.buyer_id = $1",
        ContractRole::Seller => "c.seller_id = $1",
        ContractRole::Any => "(c.buyer_id = $1 OR c.seller_id = $1)",
    };
    let rows = sqlx::query(&format!(
        "SELECT {CONTRACT_READ_COLUMNS} FROM {CONTRACT_READ_FROM} WHERE {who} \
         AND ($2::text IS NULL OR c.status = $2) AND ($3::uuid IS NULL OR c.id < $3) \
         ORDER BY c.id DESC LIMIT $4"
    ))
    .bind(user_id)
    .bind(status)
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(contract_from_row)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

pub(super) async fn insert_contracts(
    tx: &mut PgConnection,
    contracts: &[ContractRow],
) -> Result<(), StoreError> {
    for c in contracts {
        sqlx::query(&format!(
            "INSERT INTO contracts ({CONTRACT_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
        ))
        .bind(c.id)
        .bind(&c.market)
        .bind(c.buyer_id)
        .bind(c.seller_id)
        .bind(c.rig_id)
        .bind(c.buy_order_id)
        .bind(c.sell_order_id)
        .bind(c.hash_rate_hs)
        .bind(c.price)
        .bind(c.cost)
        .bind(c.buyer_fee)
        .bind(&c.asset)
        .bind(c.tenor_days)
        .bind(c.starts_at)
        .bind(c.ends_at)
        .bind(&c.status)
        .bind(c.released_to_seller)
        .bind(c.refunded_to_buyer)
        .bind(c.mining_revenue)
        .bind(c.created_at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
