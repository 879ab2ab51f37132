use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::PgStore;
use crate::payouts::AccrualRow;
use crate::statements::{LedgerTotal, StatementStore};
use crate::StoreError;

#[async_trait]
impl StatementStore for PgStore {
    async fn ledger_totals(
        &self,
        owner: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LedgerTotal>, StoreError> {
        let rows = sqlx::query(
            "SELECT asset, purpose, kind, SUM(debit) AS debit, SUM(credit) AS credit \
             FROM ledger_entries WHERE owner_id = $1 AND created_at >= $2 AND created_at < $3 \
             GROUP BY asset, purpose, kind ORDER BY asset, purpose, kind",
        )
        .bind(owner)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LedgerTotal {
                    asset: r.try_get("asset")?,
                    purpose: r.try_get("purpose")?,
                    kind: r.try_get("kind")?,
                    debit: r.try_get("debit")?,
                    credit: r.try_get("credit")?,
                })
            })
            .collect()
    }

    async fn accruals_of(
        &self,
        contracts: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AccrualRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM accruals \
             WHERE contract_id = ANY($1) AND period_start >= $2 AND period_start < $3 \
             ORDER BY period_start, contract_id",
            super::payouts::ACCRUAL_COLUMNS
        ))
        .bind(contracts)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(super::payouts::accrual_row).collect()
    }
}
