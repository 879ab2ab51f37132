use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::Row;
use uuid::Uuid;

use super::codec::{decimal, decimal_text, opt_decimal, time, time_text, uuid};
use super::market::CONTRACT_READ_FROM;
use super::SqliteStore;
use crate::payouts::{
    AccrualRow, AccruedTotals, DeliveryRow, HashpriceRow, PayoutStore, PostedTotal, ReportOutcome,
    RigContract, Settlement,
};
use crate::StoreError;

/// `?, ?, ...` for an IN list of `n` values starting at parameter `first`.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQLite's bound on parameters per statement, with room for the others.
const IN_LIST_MAX: usize = 30_000;

#[async_trait]
impl PayoutStore for SqliteStore {
    async fn insert_hashprice(&self, row: &HashpriceRow) -> Result<ReportOutcome, StoreError> {
        // The single writer connection serialises the check and the insert.
        let mut tx = self.begin_write().await?;
        let clashes = sqlx::query(
            "SELECT from_at, to_at, price FROM hashprices WHERE algorithm = ?1 \
             AND from_at < ?3 AND to_at > ?2",
        )
        .bind(&row.algorithm)
        .bind(time_text(&row.from_at))
        .bind(time_text(&row.to_at))
        .fetch_all(&mut *tx)
        .await?;
        if let Some(existing) = clashes.first() {
            let same = clashes.len() == 1
                && time(existing, "from_at")? == row.from_at
                && time(existing, "to_at")? == row.to_at
                && decimal(existing, "price")? == row.price;
            return Ok(if same {
                ReportOutcome::Duplicate
            } else {
                ReportOutcome::Overlaps
            });
        }
        sqlx::query(
            "INSERT INTO hashprices (algorithm, from_at, to_at, price, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&row.algorithm)
        .bind(time_text(&row.from_at))
        .bind(time_text(&row.to_at))
        .bind(decimal_text(&row.price))
        .bind(time_text(&Utc::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ReportOutcome::Inserted)
    }

    async fn insert_delivery(&self, row: &DeliveryRow) -> Result<ReportOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let clashes = sqlx::query(
            "SELECT from_at, to_at, hash_rate_hs FROM deliveries WHERE rig_id = ?1 \
             AND from_at < ?3 AND to_at > ?2",
        )
        .bind(row.rig_id.to_string())
        .bind(time_text(&row.from_at))
        .bind(time_text(&row.to_at))
        .fetch_all(&mut *tx)
        .await?;
        if let Some(existing) = clashes.first() {
            let same = clashes.len() == 1
                && time(existing, "from_at")? == row.from_at
                && time(existing, "to_at")? == row.to_at
                && existing.try_get::<i64, _>("hash_rate_hs")? == row.hash_rate_hs;
            return Ok(if same {
                ReportOutcome::Duplicate
            } else {
                ReportOutcome::Overlaps
            });
        }
        sqlx::query(
            "INSERT INTO deliveries (rig_id, from_at, to_at, hash_rate_hs, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(row.rig_id.to_string())
        .bind(time_text(&row.from_at))
        .bind(time_text(&row.to_at))
        .bind(row.hash_rate_hs)
        .bind(time_text(&Utc::now()))
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
            "SELECT algorithm, from_at, to_at, price FROM hashprices WHERE algorithm = ?1 \
             AND from_at < ?3 AND to_at > ?2 ORDER BY from_at",
        )
        .bind(algorithm)
        .bind(time_text(&from))
        .bind(time_text(&to))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HashpriceRow {
                    algorithm: r.try_get("algorithm")?,
                    from_at: time(r, "from_at")?,
                    to_at: time(r, "to_at")?,
                    price: decimal(r, "price")?,
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
        let mut out = Vec::new();
        for chunk in rigs.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT rig_id, from_at, to_at, hash_rate_hs FROM deliveries \
                 WHERE rig_id IN ({}) AND from_at < ?2 AND to_at > ?1 ORDER BY rig_id, from_at",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query(&sql)
                .bind(time_text(&from))
                .bind(time_text(&to));
            for rig in chunk {
                query = query.bind(rig.to_string());
            }
            for r in query.fetch_all(self.reader()).await? {
                out.push(DeliveryRow {
                    rig_id: uuid(&r, "rig_id")?,
                    from_at: time(&r, "from_at")?,
                    to_at: time(&r, "to_at")?,
                    hash_rate_hs: r.try_get("hash_rate_hs")?,
                });
            }
        }
        Ok(out)
    }

    async fn rig_contracts(
        &self,
        rigs: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RigContract>, StoreError> {
        let mut out = Vec::new();
        for chunk in rigs.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT rig_id, id, hash_rate_hs, starts_at, ends_at FROM contracts \
                 WHERE rig_id IN ({}) AND starts_at < ?2 AND ends_at > ?1",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query(&sql)
                .bind(time_text(&from))
                .bind(time_text(&to));
            for rig in chunk {
                query = query.bind(rig.to_string());
            }
            for r in query.fetch_all(self.reader()).await? {
                out.push(RigContract {
                    rig_id: uuid(&r, "rig_id")?,
                    contract_id: uuid(&r, "id")?,
                    hash_rate_hs: r.try_get("hash_rate_hs")?,
                    starts_at: time(&r, "starts_at")?,
                    ends_at: time(&r, "ends_at")?,
                });
            }
        }
        Ok(out)
    }

    async fn settlements(&self) -> Result<Vec<Settlement>, StoreError> {
        // Decimals are text here: sum them exactly in Rust, never in SQL.
        let mut sums: std::collections::HashMap<
            Uuid,
            (rust_decimal::Decimal, rust_decimal::Decimal),
        > = std::collections::HashMap::new();
        for r in sqlx::query("SELECT contract_id, released, refunded FROM accruals")
            .fetch_all(self.reader())
            .await?
        {
            let entry = sums.entry(uuid(&r, "contract_id")?).or_default();
            entry.0 += decimal(&r, "released")?;
            entry.1 += decimal(&r, "refunded")?;
        }
        let rows = sqlx::query(&format!(
            "SELECT c.id, c.status, c.cost, \
             COALESCE(p.released_total, c.released_to_seller) AS released_to_seller, \
             c.refunded_to_buyer FROM {CONTRACT_READ_FROM} ORDER BY c.id"
        ))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let id = uuid(r, "id")?;
                let (accrued_released, accrued_refunded) =
                    sums.get(&id).copied().unwrap_or_default();
                Ok(Settlement {
                    id,
                    status: r.try_get("status")?,
                    cost: decimal(r, "cost")?,
                    released: decimal(r, "released_to_seller")?,
                    refunded: decimal(r, "refunded_to_buyer")?,
                    accrued_released,
                    accrued_refunded,
                })
            })
            .collect()
    }

    async fn accruals(&self, contract_id: Uuid) -> Result<Vec<AccrualRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCRUAL_COLUMNS} FROM accruals WHERE contract_id = ?1 ORDER BY period_start"
        ))
        .bind(contract_id.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(accrual_row).collect()
    }

    async fn accrued_totals(&self) -> Result<BTreeMap<String, AccruedTotals>, StoreError> {
        // Decimals are text here: sum them exactly in Rust, never in SQL.
        let mut totals: BTreeMap<String, AccruedTotals> = BTreeMap::new();
        let mut rows = sqlx::query(
            "SELECT posting, released, seller_fee, revenue, maintenance, refunded \
             FROM accruals WHERE posting IS NOT NULL",
        )
        .fetch(self.reader());
        while let Some(r) = rows.try_next().await? {
            let t = totals.entry(r.try_get("posting")?).or_default();
            t.released += decimal(&r, "released")?;
            t.seller_fee += decimal(&r, "seller_fee")?;
            t.revenue += decimal(&r, "revenue")?;
            t.maintenance += decimal(&r, "maintenance")?;
            t.refunded += decimal(&r, "refunded")?;
        }
        Ok(totals)
    }

    async fn posted_totals(&self, prefix: &str) -> Result<Vec<PostedTotal>, StoreError> {
        let mut totals: BTreeMap<(String, String, String, String), rust_decimal::Decimal> =
            BTreeMap::new();
        let mut rows = sqlx::query(
            "SELECT reference, kind, debit_purpose, credit_purpose, amount FROM transfers \
             WHERE substr(reference, 1, length(?1)) = ?1",
        )
        .bind(prefix)
        .fetch(self.reader());
        while let Some(r) = rows.try_next().await? {
            let key = (
                r.try_get("reference")?,
                r.try_get("kind")?,
                r.try_get("debit_purpose")?,
                r.try_get("credit_purpose")?,
            );
            *totals.entry(key).or_default() += decimal(&r, "amount")?;
        }
        Ok(totals
            .into_iter()
            .map(
                |((reference, kind, debit_purpose, credit_purpose), amount)| PostedTotal {
                    reference,
                    kind,
                    debit_purpose,
                    credit_purpose,
                    amount,
                },
            )
            .collect())
    }
}

/// The columns [`accrual_row`] reads.
pub(super) const ACCRUAL_COLUMNS: &str = "contract_id, period_start, period_end, delivered_hs, \
     released, seller_fee, revenue, maintenance, refunded, created_at, posting, released_total, \
     revenue_total";

/// One accrual row, selected with [`ACCRUAL_COLUMNS`].
pub(super) fn accrual_row(r: &sqlx::sqlite::SqliteRow) -> Result<AccrualRow, StoreError> {
    Ok(AccrualRow {
        contract_id: uuid(r, "contract_id")?,
        period_start: time(r, "period_start")?,
        period_end: time(r, "period_end")?,
        delivered_hs: r.try_get("delivered_hs")?,
        released: decimal(r, "released")?,
        seller_fee: decimal(r, "seller_fee")?,
        revenue: decimal(r, "revenue")?,
        maintenance: decimal(r, "maintenance")?,
        refunded: decimal(r, "refunded")?,
        created_at: time(r, "created_at")?,
        posting: r.try_get("posting")?,
        released_total: opt_decimal(r, "released_total")?,
        revenue_total: opt_decimal(r, "revenue_total")?,
    })
}
