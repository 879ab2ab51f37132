//! SQLite: orders — reads, the open orders recovery streams, and the upserts of a
//! unit of work.

use std::sync::LazyLock;

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::market::{OrderQuery, OrderRow};
use crate::sqlite::codec::{all, decimal, decimal_text, opt_uuid, text, time, time_text, uuid};
use crate::sqlite::SqliteStore;
use crate::StoreError;

const ORDER_COLUMNS: &str = "id, engine_id, user_id, market, side, price, hash_rate_hs, filled_hs, \
    status, time_in_force, post_only, rig_id, client_order_id, hold_remaining, created_at, updated_at";

fn order_from_row(row: &SqliteRow) -> Result<OrderRow, StoreError> {
    Ok(OrderRow {
        id: uuid(row, "id")?,
        engine_id: row.try_get("engine_id")?,
        user_id: uuid(row, "user_id")?,
        market: row.try_get("market")?,
        side: row.try_get("side")?,
        price: decimal(row, "price")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        filled_hs: row.try_get("filled_hs")?,
        status: row.try_get("status")?,
        time_in_force: row.try_get("time_in_force")?,
        post_only: row.try_get("post_only")?,
        rig_id: opt_uuid(row, "rig_id")?,
        client_order_id: row.try_get("client_order_id")?,
        hold_remaining: decimal(row, "hold_remaining")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(super) async fn order(store: &SqliteStore, id: Uuid) -> Result<Option<OrderRow>, StoreError> {
    let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?;
    row.as_ref().map(order_from_row).transpose()
}

pub(super) async fn orders(
    store: &SqliteStore,
    user_id: Uuid,
    query: &OrderQuery,
) -> Result<Vec<OrderRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 AND (?2 IS NULL OR market = ?2) \
         AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR id < ?4) ORDER BY id DESC LIMIT ?5"
    ))
    .bind(user_id.to_string())
    .bind(&query.market)
    .bind(&query.status)
    .bind(text(query.before))
    .bind(i64::from(query.limit))
    .fetch_all(store.reader())
    .await?;
    all(&rows, order_from_row)
}

pub(super) fn open_orders<'a>(
    store: &'a SqliteStore,
    market: &'a str,
) -> BoxStream<'a, Result<OrderRow, StoreError>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE market = ?1 \
             AND status IN ('open', 'partially_filled') ORDER BY engine_id"
        )
    });
    sqlx::query(&SQL)
        .bind(market)
        .fetch(store.reader())
        .map(|row| order_from_row(&row?))
        .boxed()
}

pub(super) async fn max_engine_id(store: &SqliteStore, market: &str) -> Result<i64, StoreError> {
    let max: Option<i64> =
        sqlx::query_scalar("SELECT max(engine_id) FROM orders WHERE market = ?1")
            .bind(market)
            .fetch_one(store.reader())
            .await?;
    Ok(max.unwrap_or(0))
}

pub(super) async fn open_order_count(store: &SqliteStore, market: &str) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders WHERE market = ?1 \
         AND status IN ('open', 'partially_filled')",
    )
    .bind(market)
    .fetch_one(store.reader())
    .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) async fn upsert_orders(
    tx: &mut SqliteConnection,
    orders: &[OrderRow],
) -> Result<(), StoreError> {
    for o in orders {
        sqlx::query(&format!(
            "INSERT INTO orders ({ORDER_COLUMNS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
             ON CONFLICT (id) DO UPDATE SET filled_hs = excluded.filled_hs, status = excluded.status, \
             hold_remaining = excluded.hold_remaining, price = excluded.price, \
             hash_rate_hs = excluded.hash_rate_hs, updated_at = excluded.updated_at"
        ))
        .bind(o.id.to_string())
        .bind(o.engine_id)
        .bind(o.user_id.to_string())
        .bind(&o.market)
        .bind(&o.side)
        .bind(decimal_text(&o.price))
        .bind(o.hash_rate_hs)
        .bind(o.filled_hs)
        .bind(&o.status)
        .bind(&o.time_in_force)
        .bind(o.post_only)
        .bind(text(o.rig_id))
        .bind(&o.client_order_id)
        .bind(decimal_text(&o.hold_remaining))
        .bind(time_text(&o.created_at))
        .bind(time_text(&o.updated_at))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
