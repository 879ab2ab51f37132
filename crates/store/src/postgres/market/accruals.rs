//! PostgreSQL: accrual in a unit of work — one accrual transaction at a time, recording
//! accrued periods, and writing contracts' totals, progress and status.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::payouts::{AccrualRow, AccruingContract, ContractProgress, CONTRACT_READ_COLUMNS};
use crate::postgres::market::{contract_from_row, CONTRACT_READ_FROM};
use crate::StoreError;

pub(super) async fn lock_accrual(tx: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('accrual'))")
        .execute(&mut *tx)
        .await?;
    // This transaction inserts a row per due contract while it reads the next
    // ones by their latest row. Statistics from before it (an empty `accruals` on
    // a first run) make a sequential scan look free, and each scan would then
    // walk every row inserted so far: keep the planner on the indexes.
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub(super) async fn insert_accruals(
    tx: &mut PgConnection,
    rows: &[AccrualRow],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|a| a.contract_id).collect();
    let starts: Vec<DateTime<Utc>> = rows.iter().map(|a| a.period_start).collect();
    let ends: Vec<DateTime<Utc>> = rows.iter().map(|a| a.period_end).collect();
    let delivered: Vec<i64> = rows.iter().map(|a| a.delivered_hs).collect();
    let money = |f: fn(&AccrualRow) -> Decimal| -> Vec<Decimal> { rows.iter().map(f).collect() };
    let created: Vec<DateTime<Utc>> = rows.iter().map(|a| a.created_at).collect();
    let postings: Vec<Option<&str>> = rows.iter().map(|a| a.posting.as_deref()).collect();
    let totals = |f: fn(&AccrualRow) -> Option<Decimal>| -> Vec<Option<Decimal>> {
        rows.iter().map(f).collect()
    };
    sqlx::query(
        "INSERT INTO accruals (contract_id, period_start, period_end, delivered_hs, \
         released, seller_fee, revenue, maintenance, refunded, created_at, posting, \
         released_total, revenue_total) \
         SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::bigint[], \
         $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[], \
         $10::timestamptz[], $11::text[], $12::numeric[], $13::numeric[])",
    )
    .bind(&ids)
    .bind(&starts)
    .bind(&ends)
    .bind(&delivered)
    .bind(money(|a| a.released))
    .bind(money(|a| a.seller_fee))
    .bind(money(|a| a.revenue))
    .bind(money(|a| a.maintenance))
    .bind(money(|a| a.refunded))
    .bind(&created)
    .bind(&postings)
    .bind(totals(|a| a.released_total))
    .bind(totals(|a| a.revenue_total))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(super) async fn update_contract_progress(
    tx: &mut PgConnection,
    rows: &[ContractProgress],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let money =
        |f: fn(&ContractProgress) -> Decimal| -> Vec<Decimal> { rows.iter().map(f).collect() };
    let until: Vec<DateTime<Utc>> = rows.iter().map(|c| c.accrued_until).collect();
    let status: Vec<String> = rows.iter().map(|c| c.status.clone()).collect();
    sqlx::query(
        "UPDATE contracts c SET released_to_seller = v.released, refunded_to_buyer = v.refunded, \
         mining_revenue = v.revenue, accrued_until = v.until, status = v.status \
         FROM UNNEST($1::uuid[], $2::numeric[], $3::numeric[], $4::numeric[], \
         $5::timestamptz[], $6::text[]) AS v(id, released, refunded, revenue, until, status) \
         WHERE c.id = v.id",
    )
    .bind(&ids)
    .bind(money(|c| c.released_to_seller))
    .bind(money(|c| c.refunded_to_buyer))
    .bind(money(|c| c.mining_revenue))
    .bind(&until)
    .bind(&status)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Up to `limit` active contracts due for accrual, in (rig, id) order after
/// `after`, read in the accrual transaction (see the trait).
pub(super) async fn contracts_to_accrue(
    tx: &mut PgConnection,
    until: DateTime<Utc>,
    after: (Uuid, Uuid),
    limit: u32,
) -> Result<Vec<AccruingContract>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {CONTRACT_READ_COLUMNS} FROM {CONTRACT_READ_FROM} WHERE c.status = 'active' \
         AND COALESCE(p.period_end, c.accrued_until, c.starts_at) < $1 \
         AND (c.rig_id, c.id) > ($2, $3) ORDER BY c.rig_id, c.id LIMIT $4"
    ))
    .bind(until)
    .bind(after.0)
    .bind(after.1)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AccruingContract {
                contract: contract_from_row(r)?,
                accrued_until: r.try_get("accrued_until")?,
            })
        })
        .collect()
}
