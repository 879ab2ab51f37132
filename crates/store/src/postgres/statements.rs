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
            "SELECT e.asset, e.purpose, t.kind, SUM(e.debit) AS debit, SUM(e.credit) AS credit \
             FROM ledger_entries e JOIN transfers t ON t.id = e.transfer_id \
             WHERE e.owner_id = $1 AND e.created_at >= $2 AND e.created_at < $3 \
             GROUP BY e.asset, e.purpose, t.kind ORDER BY e.asset, e.purpose, t.kind",
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
        let rows = sqlx::query(
            "SELECT contract_id, period_start, period_end, delivered_hs, released, seller_fee, \
             revenue, maintenance, refunded, created_at FROM accruals \
             WHERE contract_id = ANY($1) AND period_start >= $2 AND period_start < $3 \
             ORDER BY period_start, contract_id",
        )
        .bind(contracts)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
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
                })
            })
            .collect()
    }
}
