//! SQLite: contracts — their columns and row decoder (shared with the payouts
//! module), reads, and inserting a batch's new contracts.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::market::{ContractRole, ContractRow};
use crate::payouts::CONTRACT_READ_COLUMNS;
use crate::sqlite::codec::{all, decimal, decimal_text, text, time, time_text, uuid};
use crate::sqlite::SqliteStore;
use crate::StoreError;

/// The stored columns (what a new contract inserts); reads go through
/// [`CONTRACT_READ_COLUMNS`], which has the same names.
pub(crate) const CONTRACT_COLUMNS: &str =
    "id, market, buyer_id, seller_id, rig_id, buy_order_id, sell_order_id, \
    hash_rate_hs, price, cost, buyer_fee, asset, tenor_days, starts_at, ends_at, status, \
    released_to_seller, refunded_to_buyer, mining_revenue, created_at";

/// The contract (`c`) and its latest accrual row (`p`) for
/// [`CONTRACT_READ_COLUMNS`]: one probe of the accruals' primary key per contract
/// (SQLite has no `LATERAL`; its nested loops keep a scan's index order).
pub(crate) const CONTRACT_READ_FROM: &str = "contracts c LEFT JOIN accruals p \
     ON p.contract_id = c.id \
     AND p.period_start = (SELECT max(l.period_start) FROM accruals l WHERE l.contract_id = c.id)";

pub(crate) fn contract_from_row(row: &SqliteRow) -> Result<ContractRow, StoreError> {
    Ok(ContractRow {
        id: uuid(row, "id")?,
        market: row.try_get("market")?,
        buyer_id: uuid(row, "buyer_id")?,
        seller_id: uuid(row, "seller_id")?,
        rig_id: uuid(row, "rig_id")?,
        buy_order_id: uuid(row, "buy_order_id")?,
        sell_order_id: uuid(row, "sell_order_id")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        price: decimal(row, "price")?,
        cost: decimal(row, "cost")?,
        buyer_fee: decimal(row, "buyer_fee")?,
        asset: row.try_get("asset")?,
        tenor_days: row.try_get("tenor_days")?,
        starts_at: time(row, "starts_at")?,
        ends_at: time(row, "ends_at")?,
        status: row.try_get("status")?,
        released_to_seller: decimal(row, "released_to_seller")?,
        refunded_to_buyer: decimal(row, "refunded_to_buyer")?,
        mining_revenue: decimal(row, "mining_revenue")?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) async fn contract(
    store: &SqliteStore,
    id: Uuid,
) -> Result<Option<ContractRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {CONTRACT_READ_COLUMNS} FROM {CONTRACT_READ_FROM} WHERE c.id = ?1"
    ))
    .bind(id.to_string())
    .fetch_optional(store.reader())
    .await?;
    row.as_ref().map(contract_from_row).transpose()
}

pub(super) async fn contracts(
    store: &SqliteStore,
    user_id: Uuid,
    role: ContractRole,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<ContractRow>, StoreError> {
    let who = match role {
        ContractRole::Buyer => "c.buyer_id = ?1",
        ContractRole::Seller => "c.seller_id = ?1",
        ContractRole::Any => "(c.buyer_id = ?1 OR c.seller_id = ?1)",
    };
    let rows = sqlx::query(&format!(
        "SELECT {CONTRACT_READ_COLUMNS} FROM {CONTRACT_READ_FROM} WHERE {who} \
         AND (?2 IS NULL OR c.status = ?2) AND (?3 IS NULL OR c.id < ?3) \
         ORDER BY c.id DESC LIMIT ?4"
    ))
    .bind(user_id.to_string())
    .bind(status)
    .bind(text(before))
    .bind(i64::from(limit))
    .fetch_all(store.reader())
    .await?;
    all(&rows, contract_from_row)
}

pub(super) async fn insert_contracts(
    tx: &mut SqliteConnection,
    contracts: &[ContractRow],
) -> Result<(), StoreError> {
    for c in contracts {
        sqlx::query(&format!(
            "INSERT INTO contracts ({CONTRACT_COLUMNS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
        ))
        .bind(c.id.to_string())
        .bind(&c.market)
        .bind(c.buyer_id.to_string())
        .bind(c.seller_id.to_string())
        .bind(c.rig_id.to_string())
        .bind(c.buy_order_id.to_string())
        .bind(c.sell_order_id.to_string())
        .bind(c.hash_rate_hs)
        .bind(decimal_text(&c.price))
        .bind(decimal_text(&c.cost))
        .bind(decimal_text(&c.buyer_fee))
        .bind(&c.asset)
        .bind(c.tenor_days)
        .bind(time_text(&c.starts_at))
        .bind(time_text(&c.ends_at))
        .bind(&c.status)
        .bind(decimal_text(&c.released_to_seller))
        .bind(decimal_text(&c.refunded_to_buyer))
        .bind(decimal_text(&c.mining_revenue))
        .bind(time_text(&c.created_at))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
