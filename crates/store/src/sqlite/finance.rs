use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::codec::{decimal, opt_uuid, time, time_text, uuid};
use super::SqliteStore;
use crate::finance::{decode_export, ExportFilter, ExportRow, FinanceStore, Interner};
use crate::market::AccountRef;
use crate::StoreError;

#[async_trait]
impl FinanceStore for SqliteStore {
    fn export_stream<'a>(
        &'a self,
        filter: &'a ExportFilter,
    ) -> BoxStream<'a, Result<ExportRow, StoreError>> {
        let rows = sqlx::query(
            "SELECT e.seq, e.created_at, e.transfer_id, e.owner_id, e.asset, e.purpose, e.debit, \
             e.credit, e.balance_after, e.chain_hash, e.kind, e.order_id, e.contract_id, \
             e.withdrawal_id, e.reference FROM ledger_entries e \
             WHERE (?1 IS NULL OR e.created_at >= ?1) \
             AND (?2 IS NULL OR e.created_at < ?2) \
             AND (?3 IS NULL OR e.asset = ?3) AND (?4 IS NULL OR e.owner_id = ?4) \
             AND (?5 IS NULL OR e.purpose = ?5) ORDER BY e.seq",
        )
        .bind(filter.from.as_ref().map(time_text))
        .bind(filter.to.as_ref().map(time_text))
        .bind(&filter.asset)
        .bind(filter.owner.map(|o| o.to_string()))
        .bind(&filter.purpose)
        .fetch(self.reader());
        decode_export(rows, export_row)
    }

    async fn entries_unlike_their_transfer(
        &self,
        limit: u32,
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        let seqs = sqlx::query_as(
            "SELECT e.seq, t.id IS NOT NULL FROM ledger_entries e LEFT JOIN transfers t ON t.id = e.transfer_id \
             WHERE t.id IS NULL OR e.kind <> t.kind OR e.order_id IS NOT t.order_id \
             OR e.contract_id IS NOT t.contract_id OR e.withdrawal_id IS NOT t.withdrawal_id \
             OR e.reference IS NOT t.reference ORDER BY e.seq LIMIT ?1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        Ok(seqs)
    }

    async fn balances_before(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<(AccountRef, Decimal)>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.owner_id, e.asset, e.purpose, e.balance_after FROM ledger_entries e \
             JOIN (SELECT MAX(seq) AS seq FROM ledger_entries WHERE created_at < ?1 \
                   GROUP BY owner_id, asset, purpose) last ON last.seq = e.seq",
        )
        .bind(time_text(&at))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    AccountRef {
                        owner_id: uuid(r, "owner_id")?,
                        asset: r.try_get("asset")?,
                        purpose: r.try_get("purpose")?,
                    },
                    decimal(r, "balance_after")?,
                ))
            })
            .collect()
    }
}

/// Decodes one export row.
fn export_row(r: &SqliteRow, names: &mut Interner) -> Result<ExportRow, StoreError> {
    Ok(ExportRow {
        seq: r.try_get("seq")?,
        created_at: time(r, "created_at")?,
        transfer_id: uuid(r, "transfer_id")?,
        owner_id: uuid(r, "owner_id")?,
        asset: names.get(r.try_get("asset")?),
        purpose: names.get(r.try_get("purpose")?),
        debit: decimal(r, "debit")?,
        credit: decimal(r, "credit")?,
        balance_after: decimal(r, "balance_after")?,
        kind: names.get(r.try_get("kind")?),
        order_id: opt_uuid(r, "order_id")?,
        contract_id: opt_uuid(r, "contract_id")?,
        withdrawal_id: opt_uuid(r, "withdrawal_id")?,
        reference: r.try_get("reference")?,
        chain_hash: r.try_get("chain_hash")?,
    })
}
