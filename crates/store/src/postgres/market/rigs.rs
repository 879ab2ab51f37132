//! PostgreSQL: sellers' rigs — listing, editing, soft deletion, and locking a rig
//! and setting its usage in a unit of work.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::market::RigRow;
use crate::postgres::PgStore;
use crate::StoreError;

const RIG_COLUMNS: &str =
    "id, owner_id, name, algorithm, region, hash_rate_hs, offered_hs, contracted_hs, created_at";

fn rig_from_row(row: &PgRow) -> Result<RigRow, sqlx::Error> {
    Ok(RigRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        algorithm: row.try_get("algorithm")?,
        region: row.try_get("region")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        offered_hs: row.try_get("offered_hs")?,
        contracted_hs: row.try_get("contracted_hs")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) async fn insert_rig(store: &PgStore, rig: &RigRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO rigs (id, owner_id, name, algorithm, region, hash_rate_hs, offered_hs, contracted_hs, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(rig.id)
    .bind(rig.owner_id)
    .bind(&rig.name)
    .bind(&rig.algorithm)
    .bind(&rig.region)
    .bind(rig.hash_rate_hs)
    .bind(rig.offered_hs)
    .bind(rig.contracted_hs)
    .bind(rig.created_at)
    .execute(store.pool())
    .await?;
    Ok(())
}

pub(super) async fn rig(store: &PgStore, id: Uuid) -> Result<Option<RigRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {RIG_COLUMNS} FROM rigs WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref()
        .map(rig_from_row)
        .transpose()
        .map_err(Into::into)
}

pub(super) async fn rigs(
    store: &PgStore,
    owner_id: Uuid,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<RigRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {RIG_COLUMNS} FROM rigs WHERE owner_id = $1 AND deleted_at IS NULL \
         AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    ))
    .bind(owner_id)
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(rig_from_row)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

pub(super) async fn update_rig(
    store: &PgStore,
    id: Uuid,
    name: &str,
    hash_rate_hs: i64,
    region: Option<&str>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE rigs SET name = $2, hash_rate_hs = $3, region = $4 \
         WHERE id = $1 AND deleted_at IS NULL AND offered_hs + contracted_hs <= $3",
    )
    .bind(id)
    .bind(name)
    .bind(hash_rate_hs)
    .bind(region)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delete_rig(
    store: &PgStore,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE rigs SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL \
         AND offered_hs = 0 AND contracted_hs = 0",
    )
    .bind(id)
    .bind(at)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn lock_rig(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<RigRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {RIG_COLUMNS} FROM rigs WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    row.as_ref()
        .map(rig_from_row)
        .transpose()
        .map_err(Into::into)
}

pub(super) async fn set_rig_usage(
    tx: &mut PgConnection,
    rig_id: Uuid,
    offered_hs: i64,
    contracted_hs: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE rigs SET offered_hs = $2, contracted_hs = $3 WHERE id = $1")
        .bind(rig_id)
        .bind(offered_hs)
        .bind(contracted_hs)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
