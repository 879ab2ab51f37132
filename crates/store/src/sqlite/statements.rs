use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use uuid::Uuid;

use super::codec::{decimal, time, time_text, uuid};
use super::SqliteStore;
use crate::payouts::AccrualRow;
use crate::statements::{LedgerTotal, StatementStore};
use crate::StoreError;

#[async_trait]
impl StatementStore for SqliteStore {
    async fn ledger_totals(
        &self,
        owner: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LedgerTotal>, StoreError> {
        // Decimals are text here: sum them exactly in Rust, never in SQL.
        let rows = sqlx::query(
            "SELECT e.asset, e.purpose, t.kind, e.debit, e.credit \
             FROM ledger_entries e JOIN transfers t ON t.id = e.transfer_id \
             WHERE e.owner_id = ?1 AND e.created_at >= ?2 AND e.created_at < ?3",
        )
        .bind(owner.to_string())
        .bind(time_text(&from))
        .bind(time_text(&to))
        .fetch_all(self.reader())
        .await?;
        let mut totals: BTreeMap<(String, String, String), (Decimal, Decimal)> = BTreeMap::new();
        for r in &rows {
            let key = (
                r.try_get("asset")?,
                r.try_get("purpose")?,
                r.try_get("kind")?,
            );
            let entry = totals.entry(key).or_default();
            entry.0 += decimal(r, "debit")?;
            entry.1 += decimal(r, "credit")?;
        }
        Ok(totals
            .into_iter()
            .map(|((asset, purpose, kind), (debit, credit))| LedgerTotal {
                asset,
                purpose,
                kind,
                debit,
                credit,
            })
            .collect())
    }

    async fn accruals_of(
        &self,
        contracts: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AccrualRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in contracts.chunks(10_000) {
            let list = (3..3 + chunk.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT contract_id, period_start, period_end, delivered_hs, released, seller_fee, \
                 revenue, maintenance, refunded, created_at FROM accruals \
                 WHERE period_start >= ?1 AND period_start < ?2 AND contract_id IN ({list})"
            );
            let mut query = sqlx::query(&sql)
                .bind(time_text(&from))
                .bind(time_text(&to));
            for id in chunk {
                query = query.bind(id.to_string());
            }
            for r in query.fetch_all(self.reader()).await? {
                out.push(AccrualRow {
                    contract_id: uuid(&r, "contract_id")?,
                    period_start: time(&r, "period_start")?,
                    period_end: time(&r, "period_end")?,
                    delivered_hs: r.try_get("delivered_hs")?,
                    released: decimal(&r, "released")?,
                    seller_fee: decimal(&r, "seller_fee")?,
                    revenue: decimal(&r, "revenue")?,
                    maintenance: decimal(&r, "maintenance")?,
                    refunded: decimal(&r, "refunded")?,
                    created_at: time(&r, "created_at")?,
                });
            }
        }
        out.sort_by_key(|a| (a.period_start, a.contract_id));
        Ok(out)
    }
}
