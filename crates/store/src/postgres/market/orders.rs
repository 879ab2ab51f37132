//! PostgreSQL: orders — reads, the open orders recovery streams by binary COPY, and
//! the batch upsert of a unit of work.

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::market::{OrderQuery, OrderRow};
use crate::postgres::copy_binary::{self, Fields};
use crate::postgres::numeric::amount;
use crate::postgres::PgStore;
use crate::StoreError;

const ORDER_COLUMNS: &str = "id, engine_id, user_id, market, side, price, hash_rate_hs, filled_hs, \
    status, time_in_force, post_only, rig_id, client_order_id, hold_remaining, created_at, updated_at";

fn order_from_row(row: &PgRow) -> Result<OrderRow, sqlx::Error> {
    Ok(OrderRow {
        id: row.try_get("id")?,
        engine_id: row.try_get("engine_id")?,
        user_id: row.try_get("user_id")?,
        market: row.try_get("market")?,
        side: row.try_get("side")?,
        price: amount(row, "price")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        filled_hs: row.try_get("filled_hs")?,
        status: row.try_get("status")?,
        time_in_force: row.try_get("time_in_force")?,
        post_only: row.try_get("post_only")?,
        rig_id: row.try_get("rig_id")?,
        client_order_id: row.try_get("client_order_id")?,
        hold_remaining: amount(row, "hold_remaining")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// An order from a binary COPY of [`ORDER_COLUMNS`], by position.
fn order_from_copy(f: &mut Fields<'_>) -> Result<OrderRow, StoreError> {
    Ok(OrderRow {
        id: f.uuid("id")?,
        engine_id: f.i64("engine_id")?,
        user_id: f.uuid("user_id")?,
        market: f.string("market")?,
        side: f.string("side")?,
        price: f.amount("price")?,
        hash_rate_hs: f.i64("hash_rate_hs")?,
        filled_hs: f.i64("filled_hs")?,
        status: f.string("status")?,
        time_in_force: f.string("time_in_force")?,
        post_only: f.bool("post_only")?,
        rig_id: f.opt_uuid("rig_id")?,
        client_order_id: f.opt_text("client_order_id")?.map(str::to_owned),
        hold_remaining: f.amount("hold_remaining")?,
        created_at: f.time("created_at")?,
        updated_at: f.time("updated_at")?,
    })
}

pub(super) async fn order(store: &PgStore, id: Uuid) -> Result<Option<OrderRow>, StoreError> {
    let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.as_ref()
        .map(order_from_row)
        .transpose()
        .map_err(Into::into)
}

pub(super) async fn orders(
    store: &PgStore,
    user_id: Uuid,
    query: &OrderQuery,
) -> Result<Vec<OrderRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 AND ($2::text IS NULL OR market = $2) \
         AND ($3::text IS NULL OR status = $3) AND ($4::uuid IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
    ))
    .bind(user_id)
    .bind(&query.market)
    .bind(&query.status)
    .bind(query.before)
    .bind(i64::from(query.limit))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(order_from_row)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

pub(super) fn open_orders<'a>(
    store: &'a PgStore,
    market: &'a str,
) -> BoxStream<'a, Result<OrderRow, StoreError>> {
    // Recovery reads every open order of a market (a million, say): binary
    // COPY, decoded by position, instead of a `PgRow` per order.
    let Some(market) = copy_binary::text_literal(market) else {
        return futures_util::stream::empty().boxed(); // no market is named so
    };
    let rest = format!(
        "FROM orders WHERE market = {market} AND status IN ('open', 'partially_filled') \
         ORDER BY engine_id"
    );
    copy_binary::copy_out(store.pool(), ORDER_COLUMNS, &rest, order_from_copy)
}

pub(super) async fn max_engine_id(store: &PgStore, market: &str) -> Result<i64, StoreError> {
    let max: Option<i64> =
        sqlx::query_scalar("SELECT max(engine_id) FROM orders WHERE market = $1")
            .bind(market)
            .fetch_one(store.pool())
            .await?;
    Ok(max.unwrap_or(0))
}

pub(super) async fn open_order_count(store: &PgStore, market: &str) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders WHERE market = $1 \
         AND status IN ('open', 'partially_filled')",
    )
    .bind(market)
    .fetch_one(store.pool())
    .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) async fn upsert_orders(
    tx: &mut PgConnection,
    orders: &[OrderRow],
) -> Result<(), StoreError> {
    if orders.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&OrderRow) -> String| orders.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO orders (id, engine_id, user_id, market, side, price, hash_rate_hs, filled_hs, status, \
         time_in_force, post_only, rig_id, client_order_id, hold_remaining, created_at, updated_at) \
         SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::numeric[], \
         $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::bool[], $12::uuid[], $13::text[], \
         $14::numeric[], $15::timestamptz[], $16::timestamptz[]) \
         ON CONFLICT (id) DO UPDATE SET filled_hs = excluded.filled_hs, status = excluded.status, \
         hold_remaining = excluded.hold_remaining, price = excluded.price, \
         hash_rate_hs = excluded.hash_rate_hs, updated_at = excluded.updated_at",
    )
    .bind(orders.iter().map(|o| o.id).collect::<Vec<_>>())
    .bind(orders.iter().map(|o| o.engine_id).collect::<Vec<_>>())
    .bind(orders.iter().map(|o| o.user_id).collect::<Vec<_>>())
    .bind(col(|o| o.market.clone()))
    .bind(col(|o| o.side.clone()))
    .bind(orders.iter().map(|o| o.price).collect::<Vec<_>>())
    .bind(orders.iter().map(|o| o.hash_rate_hs).collect::<Vec<_>>())
    .bind(orders.iter().map(|o| o.filled_hs).collect::<Vec<_>>())
    .bind(col(|o| o.status.clone()))
    .bind(col(|o| o.time_in_force.clone()))
    .bind(orders.iter().map(|o| o.post_only).collect::<Vec<_>>())
    .bind(orders.iter().map(|o| o.rig_id).collect::<Vec<_>>())
    .bind(orders.iter().map(|o| o.client_order_id.clone()).collect::<Vec<_>>())
    .bind(orders.iter().map(|o| o.hold_remaining).collect::<Vec<_>>())
    .bind(orders.iter().map(|o| o.created_at).collect::<Vec<_>>())
    .bind(orders.iter().map(|o| o.updated_at).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}
