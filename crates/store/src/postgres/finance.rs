use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::{numeric, PgStore};
use crate::finance::{decode_export, ExportFilter, ExportRow, FinanceStore, Interner};
use crate::market::AccountRef;
use crate::StoreError;

#[async_trait]
impl FinanceStore for PgStore {
    fn export_stream<'a>(
        &'a self,
        filter: &'a ExportFilter,
    ) -> BoxStream<'a, Result<ExportRow, StoreError>> {
        let rows = sqlx::query(
            "SELECT e.seq, e.created_at, e.transfer_id, e.owner_id, e.asset, e.purpose, e.debit, \
             e.credit, e.balance_after, e.chain_hash, e.kind, e.order_id, e.contract_id, \
             e.withdrawal_id, e.reference FROM ledger_entries e \
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
        .fetch(self.pool());
        decode_export(rows, export_row)
    }

    async fn entries_unlike_their_transfer(&self, limit: u32) -> Result<Vec<i64>, StoreError> {
        let seqs = sqlx::query_scalar(
            "SELECT e.seq FROM ledger_entries e JOIN transfers t ON t.id = e.transfer_id \
             WHERE e.kind <> t.kind OR e.order_id IS DISTINCT FROM t.order_id \
             OR e.contract_id IS DISTINCT FROM t.contract_id OR e.withdrawal_id IS DISTINCT FROM t.withdrawal_id \
             OR e.reference IS DISTINCT FROM t.reference ORDER BY e.seq LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(seqs)
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

/// A NUMERIC column through [`numeric::Amount`] (unchecked, as the row decoder below).
fn amount(r: &PgRow, index: usize) -> Result<Decimal, StoreError> {
    Ok(r.try_get_unchecked::<numeric::Amount, _>(index)?.0)
}

/// Decodes one export row by column position (the hot loop of a large export).
/// Unchecked: the query above fixes each column's type, so the per-value type
/// check (and its type-info clone, ~15% of an export's CPU) is skipped; a value
/// that does not decode is still an error, never garbage.
fn export_row(r: &PgRow, names: &mut Interner) -> Result<ExportRow, StoreError> {
    Ok(ExportRow {
        seq: r.try_get_unchecked(0)?,
        created_at: r.try_get_unchecked(1)?,
        transfer_id: r.try_get_unchecked(2)?,
        owner_id: r.try_get_unchecked(3)?,
        asset: names.get(r.try_get_unchecked(4)?),
        purpose: names.get(r.try_get_unchecked(5)?),
        debit: amount(r, 6)?,
        credit: amount(r, 7)?,
        balance_after: amount(r, 8)?,
        chain_hash: r.try_get_unchecked(9)?,
        kind: names.get(r.try_get_unchecked(10)?),
        order_id: r.try_get_unchecked(11)?,
        contract_id: r.try_get_unchecked(12)?,
        withdrawal_id: r.try_get_unchecked(13)?,
        reference: r.try_get_unchecked(14)?,
    })
}
