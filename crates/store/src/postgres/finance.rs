use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use rust_decimal::Decimal;
use sqlx::Row;

use super::copy_binary::{self, Fields};
use super::PgStore;
use crate::finance::{ExportFilter, ExportRow, FinanceStore, Interner};
use crate::market::AccountRef;
use crate::StoreError;

#[async_trait]
impl FinanceStore for PgStore {
    fn export_stream<'a>(
        &'a self,
        filter: &'a ExportFilter,
    ) -> BoxStream<'a, Result<ExportRow, StoreError>> {
        let Some(rest) = export_rest(filter) else {
            return futures_util::stream::empty().boxed(); // a filter nothing can match
        };
        let mut names = Interner::default();
        copy_binary::copy_out(self.pool(), EXPORT_COLUMNS, &rest, move |f| {
            export_row(f, &mut names)
        })
    }

    async fn entries_unlike_their_transfer(
        &self,
        limit: u32,
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        let seqs = sqlx::query_as(
            "SELECT e.seq, t.id IS NOT NULL FROM ledger_entries e LEFT JOIN transfers t ON t.id = e.transfer_id \
             WHERE t.id IS NULL OR e.kind <> t.kind OR e.order_id IS DISTINCT FROM t.order_id \
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

/// What the export reads, in [`export_row`]'s order.
const EXPORT_COLUMNS: &str = "seq, created_at, transfer_id, owner_id, asset, purpose, debit, \
    credit, balance_after, chain_hash, kind, order_id, contract_id, withdrawal_id, reference";

/// The rest of the export's query (after its [`EXPORT_COLUMNS`]): the journal in
/// commit order, filtered. COPY takes no
/// parameters, so the filter's values are literals: times and ids as their
/// canonical text, strings through [`copy_binary::text_literal`]. `None` if a
/// filter value cannot be in the database (a string holding NUL).
fn export_rest(filter: &ExportFilter) -> Option<String> {
    let mut conditions = Vec::new();
    let time = |at: &DateTime<Utc>| {
        format!(
            "'{}'::timestamptz",
            at.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
    };
    if let Some(from) = &filter.from {
        conditions.push(format!("created_at >= {}", time(from)));
    }
    if let Some(to) = &filter.to {
        conditions.push(format!("created_at < {}", time(to)));
    }
    if let Some(asset) = &filter.asset {
        conditions.push(format!("asset = {}", copy_binary::text_literal(asset)?));
    }
    if let Some(owner) = &filter.owner {
        conditions.push(format!("owner_id = '{}'::uuid", owner.hyphenated()));
    }
    if let Some(purpose) = &filter.purpose {
        conditions.push(format!("purpose = {}", copy_binary::text_literal(purpose)?));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    Some(format!("FROM ledger_entries{filter} ORDER BY seq"))
}

/// Decodes one export row, its columns in [`EXPORT_COLUMNS`]' order (the hot
/// loop of a large export).
fn export_row(f: &mut Fields<'_>, names: &mut Interner) -> Result<ExportRow, StoreError> {
    Ok(ExportRow {
        seq: f.i64("seq")?,
        created_at: f.time("created_at")?,
        transfer_id: f.uuid("transfer_id")?,
        owner_id: f.uuid("owner_id")?,
        asset: f.name("asset", names)?,
        purpose: f.name("purpose", names)?,
        debit: f.amount("debit")?,
        credit: f.amount("credit")?,
        balance_after: f.amount("balance_after")?,
        chain_hash: f.opt_text("chain_hash")?.map(str::to_owned),
        kind: f.name("kind", names)?,
        order_id: f.opt_uuid("order_id")?,
        contract_id: f.opt_uuid("contract_id")?,
        withdrawal_id: f.opt_uuid("withdrawal_id")?,
        reference: f.opt_text("reference")?.map(str::to_owned),
    })
}
