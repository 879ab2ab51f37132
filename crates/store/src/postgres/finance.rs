use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::PgStore;
use crate::finance::{ExportFilter, ExportRow, FinanceStore};
use crate::market::AccountRef;
use crate::StoreError;

#[async_trait]
impl FinanceStore for PgStore {
    fn export_stream<'a>(
        &'a self,
        filter: &'a ExportFilter,
    ) -> BoxStream<'a, Result<ExportRow, StoreError>> {
        sqlx::query(
            "SELECT e.seq, e.created_at, e.transfer_id, e.owner_id, e.asset, e.purpose, e.debit, \
             e.credit, e.balance_after, e.chain_hash, t.kind, t.order_id, t.contract_id, \
             t.withdrawal_id, t.reference \
             FROM ledger_entries e JOIN transfers t ON t.id = e.transfer_id \
             WHERE ($1::timestamptz IS NULL OR e.created_at >= $1) \
             AND ($2::timestamptz IS NULL OR e.created_at < $2) \
             AND ($3::text IS NULL OR e.asset = $3) AND ($4::uuid IS NULL OR e.owner_id = $4) \
             AND ($5::text IS NULL OR e.purpose = $5) ORDER BY e.seq",
        )
        .bind(filter.from)
        .bind(filter.to)
        .bind(&filter.asset)
        .bind(filter.owner)
        .bind(&filter.purpose)
        .fetch(self.pool())
        .map(|row| export_row(&row?))
        .boxed()
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

/// Decodes one export row by column position (the hot loop of a large export).
fn export_row(r: &PgRow) -> Result<ExportRow, StoreError> {
    Ok(ExportRow {
        seq: r.try_get(0)?,
        created_at: r.try_get(1)?,
        transfer_id: r.try_get(2)?,
        account: AccountRef {
            owner_id: r.try_get(3)?,
            asset: r.try_get(4)?,
            purpose: r.try_get(5)?,
        },
        debit: r.try_get(6)?,
        credit: r.try_get(7)?,
        balance_after: r.try_get(8)?,
        chain_hash: r.try_get(9)?,
        kind: r.try_get(10)?,
        order_id: r.try_get(11)?,
        contract_id: r.try_get(12)?,
        withdrawal_id: r.try_get(13)?,
        reference: r.try_get(14)?,
    })
}
