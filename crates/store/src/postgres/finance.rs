use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Row;

use super::PgStore;
use crate::finance::{ExportFilter, ExportRow, FinanceStore};
use crate::market::AccountRef;
use crate::StoreError;

#[async_trait]
impl FinanceStore for PgStore {
    async fn export_page(
        &self,
        filter: &ExportFilter,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ExportRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.seq, e.created_at, e.transfer_id, e.owner_id, e.asset, e.purpose, e.debit, \
             e.credit, e.balance_after, e.chain_hash, t.kind, t.order_id, t.contract_id, \
             t.withdrawal_id, t.reference \
             FROM ledger_entries e JOIN transfers t ON t.id = e.transfer_id \
             WHERE e.seq > $1 AND ($2::timestamptz IS NULL OR e.created_at >= $2) \
             AND ($3::timestamptz IS NULL OR e.created_at < $3) \
             AND ($4::text IS NULL OR e.asset = $4) AND ($5::uuid IS NULL OR e.owner_id = $5) \
             AND ($6::text IS NULL OR e.purpose = $6) ORDER BY e.seq LIMIT $7",
        )
        .bind(after_seq)
        .bind(filter.from)
        .bind(filter.to)
        .bind(&filter.asset)
        .bind(filter.owner)
        .bind(&filter.purpose)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ExportRow {
                    seq: r.try_get("seq")?,
                    created_at: r.try_get("created_at")?,
                    transfer_id: r.try_get("transfer_id")?,
                    account: AccountRef {
                        owner_id: r.try_get("owner_id")?,
                        asset: r.try_get("asset")?,
                        purpose: r.try_get("purpose")?,
                    },
                    debit: r.try_get("debit")?,
                    credit: r.try_get("credit")?,
                    balance_after: r.try_get("balance_after")?,
                    kind: r.try_get("kind")?,
                    order_id: r.try_get("order_id")?,
                    contract_id: r.try_get("contract_id")?,
                    withdrawal_id: r.try_get("withdrawal_id")?,
                    reference: r.try_get("reference")?,
                    chain_hash: r.try_get("chain_hash")?,
                })
            })
            .collect()
    }

    async fn balances_before(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<(AccountRef, Decimal)>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT ON (owner_id, asset, purpose) owner_id, asset, purpose, balance_after \
             FROM ledger_entries WHERE created_at < $1 \
             ORDER BY owner_id, asset, purpose, seq DESC",
        )
        .bind(at)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    AccountRef {
                        owner_id: r.try_get("owner_id")?,
                        asset: r.try_get("asset")?,
                        purpose: r.try_get("purpose")?,
                    },
                    r.try_get("balance_after")?,
                ))
            })
            .collect()
    }
}
