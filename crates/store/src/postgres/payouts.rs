use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::market::CONTRACT_READ_FROM;
use super::PgStore;
use crate::payouts::{
    AccrualRow, AccruedTotals, DeliveryRow, HashpriceRow, PayoutStore, PostedTotal, ReportOutcome,
    RigContract, Settlement,
};
use crate::StoreError;

#[async_trait]
impl PayoutStore for PgStore {
    async fn insert_hashprice(&self, row: &HashpriceRow) -> Result<ReportOutcome, StoreError> {
        let mut tx = self.pool().begin().await?;
        // Serialise reports of one algorithm, so two overlapping ones cannot both pass.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('hashprice:' || $1))")
            .bind(&row.algorithm)
            .execute(&mut *tx)
            .await?;
        let clashes = sqlx::query(
            "SELECT from_at, to_at, price FROM hashprices WHERE algorithm = $1 \
             AND from_at < $3 AND to_at > $2",
        )
        .bind(&row.algorithm)
        .bind(row.from_at)
        .bind(row.to_at)
        .fetch_all(&mut *tx)
        .await?;
        if let Some(existing) = clashes.first() {
            let same = clashes.len() == 1
                && existing.try_get::<DateTime<Utc>, _>("from_at")? == row.from_at
                && existing.try_get::<DateTime<Utc>, _>("to_at")? == row.to_at
                && existing.try_get::<rust_decimal::Decimal, _>("price")? == row.price;
            return Ok(if same {
                ReportOutcome::Duplicate
            } else {
                ReportOutcome::Overlaps
            });
        }
        sqlx::query(
            "INSERT INTO hashprices (algorithm, from_at, to_at, price, created_at) \
             VALUES ($1, $2, $3, $4, now())",
        )
        .bind(&row.algorithm)
        .bind(row.from_at)
        .bind(row.to_at)
        .bind(row.price)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ReportOutcome::Inserted)
    }

    async fn insert_delivery(&self, row: &DeliveryRow) -> Result<ReportOutcome, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('delivery:' || $1::text))")
            .bind(row.rig_id)
            .execute(&mut *tx)
            .await?;
        let clashes = sqlx::query(
            "SELECT from_at, to_at, hash_rate_hs FROM deliveries WHERE rig_id = $1 \
             AND from_at < $3 AND to_at > $2",
        )
        .bind(row.rig_id)
        .bind(row.from_at)
        .bind(row.to_at)
        .fetch_all(&mut *tx)
        .await?;
        if let Some(existing) = clashes.first() {
            let same = clashes.len() == 1
                && existing.try_get::<DateTime<Utc>, _>("from_at")? == row.from_at
                && existing.try_get::<DateTime<Utc>, _>("to_at")? == row.to_at
                && existing.try_get::<i64, _>("hash_rate_hs")? == row.hash_rate_hs;
            return Ok(if same {
                ReportOutcome::Duplicate
            } else {
                ReportOutcome::Overlaps
            });
        }
        sqlx::query(
            "INSERT INTO deliveries (rig_id, from_at, to_at, hash_rate_hs, created_at) \
             VALUES ($1, $2, $3, $4, now())",
        )
        .bind(row.rig_id)
        .bind(row.from_at)
        .bind(row.to_at)
        .bind(row.hash_rate_hs)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ReportOutcome::Inserted)
    }

    async fn hashprices(
        &self,
        algorithm: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HashpriceRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT algorithm, from_at, to_at, price FROM hashprices WHERE algorithm = $1 \
             AND from_at < $3 AND to_at > $2 ORDER BY from_at",
        )
        .bind(algorithm)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HashpriceRow {
                    algorithm: r.try_get("algorithm")?,
                    from_at: r.try_get("from_at")?,
                    to_at: r.try_get("to_at")?,
                    price: r.try_get("price")?,
                })
            })
            .collect()
    }

    async fn deliveries(
        &self,
        rigs: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT rig_id, from_at, to_at, hash_rate_hs FROM deliveries \
             WHERE rig_id = ANY($1) AND from_at < $3 AND to_at > $2 ORDER BY rig_id, from_at",
        )
        .bind(rigs)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeliveryRow {
                    rig_id: r.try_get("rig_id")?,
                    from_at: r.try_get("from_at")?,
                    to_at: r.try_get("to_at")?,
                    hash_rate_hs: r.try_get("hash_rate_hs")?,
                })
            })
            .collect()
    }

    async fn rig_contracts(
        &self,
        rigs: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RigContract>, StoreError> {
        let rows = sqlx::query(
            "SELECT rig_id, id, hash_rate_hs, starts_at, ends_at FROM contracts \
             WHERE rig_id = ANY($1) AND starts_at < $3 AND ends_at > $2",
        )
        .bind(rigs)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RigContract {
                    rig_id: r.try_get("rig_id")?,
                    contract_id: r.try_get("id")?,
                    hash_rate_hs: r.try_get("hash_rate_hs")?,
                    starts_at: r.try_get("starts_at")?,
                    ends_at: r.try_get("ends_at")?,
                })
            })
            .collect()
    }

    async fn settlements(&self) -> Result<Vec<Settlement>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT c.id, c.status, c.cost, \
             COALESCE(p.released_total, c.released_to_seller) AS released_to_seller, \
             c.refunded_to_buyer, COALESCE(s.released, 0) AS accrued_released, \
             COALESCE(s.refunded, 0) AS accrued_refunded \
             FROM {CONTRACT_READ_FROM} LEFT JOIN (SELECT contract_id, SUM(released) AS released, \
             SUM(refunded) AS refunded FROM accruals GROUP BY contract_id) s ON s.contract_id = c.id \
             ORDER BY c.id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Settlement {
                    id: r.try_get("id")?,
                    status: r.try_get("status")?,
                    cost: r.try_get("cost")?,
                    released: r.try_get("released_to_seller")?,
                    refunded: r.try_get("refunded_to_buyer")?,
                    accrued_released: r.try_get("accrued_released")?,
                    accrued_refunded: r.try_get("accrued_refunded")?,
                })
            })
            .collect()
    }

    async fn accruals(&self, contract_id: Uuid) -> Result<Vec<AccrualRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCRUAL_COLUMNS} FROM accruals WHERE contract_id = $1 ORDER BY period_start"
        ))
        .bind(contract_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(accrual_row).collect()
    }

    async fn accrued_totals(&self) -> Result<BTreeMap<String, AccruedTotals>, StoreError> {
        let rows = sqlx::query(
            "SELECT posting, SUM(released) AS released, SUM(seller_fee) AS seller_fee, \
             SUM(revenue) AS revenue, SUM(maintenance) AS maintenance, SUM(refunded) AS refunded \
             FROM accruals WHERE posting IS NOT NULL GROUP BY posting",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("posting")?,
                    AccruedTotals {
                        released: r.try_get("released")?,
                        seller_fee: r.try_get("seller_fee")?,
                        revenue: r.try_get("revenue")?,
                        maintenance: r.try_get("maintenance")?,
                        refunded: r.try_get("refunded")?,
                    },
                ))
            })
            .collect()
    }

    async fn posted_totals(&self, prefix: &str) -> Result<Vec<PostedTotal>, StoreError> {
        let rows = sqlx::query(
            "SELECT reference, kind, debit_purpose, credit_purpose, SUM(amount) AS amount \
             FROM transfers WHERE left(reference, length($1)) = $1 \
             GROUP BY reference, kind, debit_purpose, credit_purpose",
        )
        .bind(prefix)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PostedTotal {
                    reference: r.try_get("reference")?,
                    kind: r.try_get("kind")?,
                    debit_purpose: r.try_get("debit_purpose")?,
                    credit_purpose: r.try_get("credit_purpose")?,
                    amount: r.try_get("amount")?,
                })
            })
            .collect()
    }
}

/// The columns [`accrual_row`] reads.
pub(super) const ACCRUAL_COLUMNS: &str = "contract_id, period_start, period_end, delivered_hs, \
     released, seller_fee, revenue, maintenance, refunded, created_at, posting, released_total, \
     revenue_total";

/// One accrual row, selected with [`ACCRUAL_COLUMNS`].
pub(super) fn accrual_row(r: &sqlx::postgres::PgRow) -> Result<AccrualRow, StoreError> {
    Ok(AccrualRow {
        contract_id: r.try_get("contract_id")?,
        period_start: r.try_get("period_start")?,
        period_end: r.try_get("period_end")?,
        delivered_hs: r.try_get("delivered_hs")?,
        released: r.try_get("released")?,
        seller_fee: r.try_get("seller_fee")?,
        revenue: r.try_get("revenue")?,
        maintenance: r.try_get("maintenance")?,
        refunded: r.try_get("refunded")?,
        created_at: r.try_get("created_at")?,
        posting: r.try_get("posting")?,
        released_total: r.try_get("released_total")?,
        revenue_total: r.try_get("revenue_total")?,
    })
}
