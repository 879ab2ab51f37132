//! SQLite: accrual in a unit of work — one accrual transaction at a time, recording
//! accrued periods, and writing contracts' totals, progress and status.

use sqlx::SqliteConnection;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::payouts::{AccrualRow, AccruingContract, ContractProgress, CONTRACT_READ_COLUMNS};
use crate::sqlite::bulk;
use crate::sqlite::codec::{decimal_text, opt_time, time_text};
use crate::sqlite::market::{contract_from_row, CONTRACT_READ_FROM};
use crate::StoreError;

pub(super) async fn lock_accrual(_tx: &mut SqliteConnection) -> Result<(), StoreError> {
    // A write transaction (`BEGIN IMMEDIATE`) already excludes every other writer.
    Ok(())
}

pub(super) async fn insert_accruals(
    tx: &mut SqliteConnection,
    rows: &[AccrualRow],
) -> Result<(), StoreError> {
    bulk::execute(
        tx,
        rows,
        13,
        |values| {
            format!(
                "INSERT INTO accruals (contract_id, period_start, period_end, delivered_hs, \
                 released, seller_fee, revenue, maintenance, refunded, created_at, posting, \
                 released_total, revenue_total) VALUES {values}"
            )
        },
        |q, a| {
            q.bind(a.contract_id.to_string())
                .bind(time_text(&a.period_start))
                .bind(time_text(&a.period_end))
                .bind(a.delivered_hs)
                .bind(decimal_text(&a.released))
                .bind(decimal_text(&a.seller_fee))
                .bind(decimal_text(&a.revenue))
                .bind(decimal_text(&a.maintenance))
                .bind(decimal_text(&a.refunded))
                .bind(time_text(&a.created_at))
                .bind(a.posting.as_deref())
                .bind(a.released_total.as_ref().map(decimal_text))
                .bind(a.revenue_total.as_ref().map(decimal_text))
        },
    )
    .await?;
    Ok(())
}

pub(super) async fn update_contract_progress(
    tx: &mut SqliteConnection,
    rows: &[ContractProgress],
) -> Result<(), StoreError> {
    for c in rows {
        sqlx::query(
            "UPDATE contracts SET released_to_seller = ?2, refunded_to_buyer = ?3, \
             mining_revenue = ?4, accrued_until = ?5, status = ?6 WHERE id = ?1",
        )
        .bind(c.id.to_string())
        .bind(decimal_text(&c.released_to_seller))
        .bind(decimal_text(&c.refunded_to_buyer))
        .bind(decimal_text(&c.mining_revenue))
        .bind(time_text(&c.accrued_until))
        .bind(&c.status)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Up to `limit` active contracts due for accrual, in (rig, id) order after
/// `after`, read in the accrual transaction (see the trait).
pub(super) async fn contracts_to_accrue(
    tx: &mut SqliteConnection,
    until: DateTime<Utc>,
    after: (Uuid, Uuid),
    limit: u32,
) -> Result<Vec<AccruingContract>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {CONTRACT_READ_COLUMNS} FROM {CONTRACT_READ_FROM} WHERE c.status = 'active' \
         AND COALESCE(p.period_end, c.accrued_until, c.starts_at) < ?1 \
         AND (c.rig_id, c.id) > (?2, ?3) ORDER BY c.rig_id, c.id LIMIT ?4"
    ))
    .bind(time_text(&until))
    .bind(after.0.to_string())
    .bind(after.1.to_string())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AccruingContract {
                contract: contract_from_row(r)?,
                accrued_until: opt_time(r, "accrued_until")?,
            })
        })
        .collect()
}
