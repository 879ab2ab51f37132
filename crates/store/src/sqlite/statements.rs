use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use uuid::Uuid;

use super::codec::{decimal, time_text};
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
            "SELECT asset, purpose, kind, debit, credit FROM ledger_entries \
             WHERE owner_id = ?1 AND created_at >= ?2 AND created_at < ?3",
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
                "SELECT {} FROM accruals \
                 WHERE period_start >= ?1 AND period_start < ?2 AND contract_id IN ({list})",
                super::payouts::ACCRUAL_COLUMNS
            );
            let mut query = sqlx::query(&sql)
                .bind(time_text(&from))
                .bind(time_text(&to));
            for id in chunk {
                query = query.bind(id.to_string());
            }
            for r in query.fetch_all(self.reader()).await? {
                out.push(super::payouts::accrual_row(&r)?);
            }
        }
        out.sort_by_key(|a| (a.period_start, a.contract_id));
        Ok(out)
    }
}
