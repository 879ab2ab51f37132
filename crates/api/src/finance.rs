//! Finance (HM-7 §1–2): the journal taken out of the database and proved.
//!
//! [`LedgerExport`] turns the journal into CSV or NDJSON one page at a time, so an
//! export of any size holds one page in memory; the HTTP export and `hashmarket
//! export ledger` both use it, so the two write the same bytes. [`Reconciler`] is
//! the pure core of reconciliation: opening balances plus the period's entries give
//! each account's debits, credits and closing balance, checked against the balance
//! the journal itself recorded and, per asset, against the rule that everything sums
//! to zero.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::Stream;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use hashmarket_store::finance::{ExportFilter, ExportRow};
use hashmarket_store::market::AccountRef;
use hashmarket_store::{Store, StoreError};

use crate::catalog::ApiCatalog;
use crate::csv::push_record;

/// Rows read from the database per page of an export or reconciliation.
pub const EXPORT_PAGE_ROWS: u32 = 5_000;

/// The export's columns, in order (the CSV header; the NDJSON keys).
pub const EXPORT_COLUMNS: [&str; 15] = [
    "entry_id",
    "created_at",
    "transfer_id",
    "owner_id",
    "asset",
    "account",
    "debit",
    "credit",
    "balance_after",
    "kind",
    "order_id",
    "contract_id",
    "withdrawal_id",
    "reference",
    "chain_hash",
];

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// RFC 4180 with a header record.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl ExportFormat {
    /// The response's media type.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Ndjson => "application/x-ndjson",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "csv" => Ok(ExportFormat::Csv),
            "ndjson" => Ok(ExportFormat::Ndjson),
            _ => Err("csv or ndjson"),
        }
    }
}

/// An amount written exactly: never rounded, padded to the asset's places
/// (`"0.50000000"`; an amount with more places keeps them).
pub fn exact(catalog: &ApiCatalog, asset: &str, amount: Decimal) -> String {
    let places = catalog.decimals(asset);
    let mut shown = amount;
    if shown.scale() < places {
        shown.rescale(places);
    }
    shown.to_string()
}

/// One journal entry as the export shows it (NDJSON's object).
#[derive(Serialize)]
struct ExportRecord<'a> {
    entry_id: i64,
    created_at: String,
    transfer_id: Uuid,
    owner_id: Uuid,
    asset: &'a str,
    account: &'a str,
    debit: String,
    credit: String,
    balance_after: String,
    kind: &'a str,
    order_id: Option<Uuid>,
    contract_id: Option<Uuid>,
    withdrawal_id: Option<Uuid>,
    reference: Option<&'a str>,
    chain_hash: Option<&'a str>,
}

impl<'a> ExportRecord<'a> {
    fn new(catalog: &ApiCatalog, row: &'a ExportRow) -> Self {
        let asset = row.account.asset.as_str();
        ExportRecord {
            entry_id: row.seq,
            created_at: row.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            transfer_id: row.transfer_id,
            owner_id: row.account.owner_id,
            asset,
            account: &row.account.purpose,
            debit: exact(catalog, asset, row.debit),
            credit: exact(catalog, asset, row.credit),
            balance_after: exact(catalog, asset, row.balance_after),
            kind: &row.kind,
            order_id: row.order_id,
            contract_id: row.contract_id,
            withdrawal_id: row.withdrawal_id,
            reference: row.reference.as_deref(),
            chain_hash: row.chain_hash.as_deref(),
        }
    }

    fn push_csv(&self, out: &mut String) {
        fn id(value: Option<Uuid>) -> String {
            value.map(|v| v.to_string()).unwrap_or_default()
        }
        push_record(
            out,
            [
                self.entry_id.to_string().as_str(),
                &self.created_at,
                &self.transfer_id.to_string(),
                &self.owner_id.to_string(),
                self.asset,
                self.account,
                &self.debit,
                &self.credit,
                &self.balance_after,
                self.kind,
                &id(self.order_id),
                &id(self.contract_id),
                &id(self.withdrawal_id),
                self.reference.unwrap_or(""),
                self.chain_hash.unwrap_or(""),
            ],
        );
    }

    fn push_ndjson(&self, out: &mut String) {
        let line = serde_json::to_string(self).expect("an export record serialises");
        out.push_str(&line);
        out.push('\n');
    }
}

/// Appends one entry to `out` in `format`.
pub fn push_row(out: &mut String, format: ExportFormat, catalog: &ApiCatalog, row: &ExportRow) {
    let record = ExportRecord::new(catalog, row);
    match format {
        ExportFormat::Csv => record.push_csv(out),
        ExportFormat::Ndjson => record.push_ndjson(out),
    }
}

/// One piece of an export: text and how many entries it holds.
#[derive(Debug)]
pub struct ExportChunk {
    /// The text (the CSV header comes as a chunk of its own, with no entries).
    pub text: String,
    /// Entries in it.
    pub rows: usize,
}

/// A ledger export in progress: call [`LedgerExport::next_chunk`] until it returns
/// `None`. Holds one page at a time.
pub struct LedgerExport {
    store: Arc<dyn Store>,
    catalog: ApiCatalog,
    filter: ExportFilter,
    format: ExportFormat,
    after_seq: i64,
    header_sent: bool,
    finished: bool,
}

impl LedgerExport {
    /// An export of the entries `filter` selects.
    pub fn new(
        store: Arc<dyn Store>,
        catalog: ApiCatalog,
        filter: ExportFilter,
        format: ExportFormat,
    ) -> Self {
        LedgerExport {
            store,
            catalog,
            filter,
            format,
            after_seq: 0,
            header_sent: false,
            finished: false,
        }
    }

    /// The next chunk, or `None` when every entry has been written.
    pub async fn next_chunk(&mut self) -> Result<Option<ExportChunk>, StoreError> {
        if !self.header_sent {
            self.header_sent = true;
            if self.format == ExportFormat::Csv {
                let mut text = String::new();
                push_record(&mut text, EXPORT_COLUMNS);
                return Ok(Some(ExportChunk { text, rows: 0 }));
            }
        }
        if self.finished {
            return Ok(None);
        }
        let page = self
            .store
            .export_page(&self.filter, self.after_seq, EXPORT_PAGE_ROWS)
            .await?;
        self.finished = page.len() < EXPORT_PAGE_ROWS as usize;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        assert!(last.seq > self.after_seq, "export pages move forward");
        self.after_seq = last.seq;
        let mut text = String::with_capacity(page.len() * 320);
        for row in &page {
            push_row(&mut text, self.format, &self.catalog, row);
        }
        Ok(Some(ExportChunk {
            text,
            rows: page.len(),
        }))
    }

    /// The export as a byte stream for a streaming response body.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, StoreError>> {
        futures_util::stream::unfold(Some(self), |export| async move {
            let mut export = export?;
            match export.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(Bytes::from(chunk.text)), Some(export))),
                Ok(None) => None,
                Err(err) => {
                    tracing::error!(error = %err, "ledger export failed part way");
                    Some((Err(err), None))
                }
            }
        })
    }
}

/// One account's movement over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountReconciliation {
    /// The account's owner.
    pub owner_id: Uuid,
    /// The asset.
    pub asset: String,
    /// The account's purpose (`available`, `contract_escrow`, ...).
    pub account: String,
    /// The balance at the start of the period.
    pub opening: Decimal,
    /// Σ debits in the period.
    pub debits: Decimal,
    /// Σ credits in the period.
    pub credits: Decimal,
    /// opening + credits − debits.
    pub closing: Decimal,
    /// Whether `closing` is the balance the journal recorded after the account's
    /// last entry in the period (or the opening, when it had none).
    pub matches_journal: bool,
}

/// One asset's totals over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetReconciliation {
    /// The asset.
    pub asset: String,
    /// Σ opening balances (zero when the books balance).
    pub opening: Decimal,
    /// Σ debits.
    pub debits: Decimal,
    /// Σ credits (equal to the debits when the books balance).
    pub credits: Decimal,
    /// Σ closing balances (zero when the books balance).
    pub closing: Decimal,
    /// Opening and closing sum to zero, debits equal credits, and every account
    /// matches the journal.
    pub balanced: bool,
}

/// Reconciliation of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// Every account that had a balance or moved, by owner, asset, purpose.
    pub accounts: Vec<AccountReconciliation>,
    /// Per asset.
    pub assets: Vec<AssetReconciliation>,
    /// Every asset balanced.
    pub balanced: bool,
}

#[derive(Debug, Default, Clone)]
struct Movement {
    opening: Decimal,
    debits: Decimal,
    credits: Decimal,
    last_balance: Option<Decimal>,
}

type AccountKey = (String, Uuid, String);

/// The pure core of reconciliation: feed it opening balances and the period's
/// entries in journal order, then [`Reconciler::finish`].
#[derive(Debug, Default)]
pub struct Reconciler {
    accounts: BTreeMap<AccountKey, Movement>,
}

impl Reconciler {
    fn key(account: &AccountRef) -> AccountKey {
        (
            account.asset.clone(),
            account.owner_id,
            account.purpose.clone(),
        )
    }

    /// An account's balance at the start of the period.
    pub fn opening(&mut self, account: &AccountRef, balance: Decimal) {
        self.accounts.entry(Self::key(account)).or_default().opening = balance;
    }

    /// One entry of the period.
    pub fn entry(&mut self, account: &AccountRef, debit: Decimal, credit: Decimal, after: Decimal) {
        let m = self.accounts.entry(Self::key(account)).or_default();
        m.debits += debit;
        m.credits += credit;
        m.last_balance = Some(after);
    }

    /// Per account and per asset, with the checks.
    pub fn finish(self) -> Reconciliation {
        let mut accounts = Vec::with_capacity(self.accounts.len());
        let mut assets: BTreeMap<String, AssetReconciliation> = BTreeMap::new();
        for ((asset, owner_id, purpose), m) in self.accounts {
            let closing = m.opening + m.credits - m.debits;
            let matches_journal = closing == m.last_balance.unwrap_or(m.opening);
            let total = assets
                .entry(asset.clone())
                .or_insert_with(|| AssetReconciliation {
                    asset: asset.clone(),
                    opening: Decimal::ZERO,
                    debits: Decimal::ZERO,
                    credits: Decimal::ZERO,
                    closing: Decimal::ZERO,
                    balanced: true,
                });
            total.opening += m.opening;
            total.debits += m.debits;
            total.credits += m.credits;
            total.closing += closing;
            total.balanced &= matches_journal;
            accounts.push(AccountReconciliation {
                owner_id,
                asset,
                account: purpose,
                opening: m.opening,
                debits: m.debits,
                credits: m.credits,
                closing,
                matches_journal,
            });
        }
        let assets: Vec<AssetReconciliation> = assets
            .into_values()
            .map(|mut a| {
                a.balanced &= a.opening.is_zero() && a.closing.is_zero() && a.debits == a.credits;
                a
            })
            .collect();
        let balanced = assets.iter().all(|a| a.balanced);
        Reconciliation {
            accounts,
            assets,
            balanced,
        }
    }
}

/// Reconciles `[from, to)`: opening balances at `from` (zero for every account
/// without `from`), then every entry of the period (to the latest without `to`),
/// page by page.
pub async fn reconcile(
    store: &dyn Store,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Reconciliation, StoreError> {
    let mut reconciler = Reconciler::default();
    if let Some(from) = from {
        for (account, balance) in store.balances_before(from).await? {
            reconciler.opening(&account, balance);
        }
    }
    let filter = ExportFilter {
        from,
        to,
        ..ExportFilter::default()
    };
    let mut after_seq = 0;
    loop {
        let page = store
            .export_page(&filter, after_seq, EXPORT_PAGE_ROWS)
            .await?;
        for row in &page {
            reconciler.entry(&row.account, row.debit, row.credit, row.balance_after);
        }
        match page.last() {
            Some(last) if page.len() == EXPORT_PAGE_ROWS as usize => after_seq = last.seq,
            _ => break,
        }
    }
    Ok(reconciler.finish())
}

/// The reconciliation's accounts as CSV, per asset totals after them
/// (`owner_id` = `total`).
pub fn reconciliation_csv(catalog: &ApiCatalog, r: &Reconciliation) -> String {
    let mut out = String::new();
    push_record(
        &mut out,
        [
            "owner_id", "asset", "account", "opening", "debits", "credits", "closing", "check",
        ],
    );
    let ok = |b: bool| if b { "ok" } else { "MISMATCH" };
    for a in &r.accounts {
        let x = |d| exact(catalog, &a.asset, d);
        push_record(
            &mut out,
            [
                a.owner_id.to_string(),
                a.asset.clone(),
                a.account.clone(),
                x(a.opening),
                x(a.debits),
                x(a.credits),
                x(a.closing),
                ok(a.matches_journal).to_string(),
            ],
        );
    }
    for t in &r.assets {
        let x = |d| exact(catalog, &t.asset, d);
        push_record(
            &mut out,
            [
                "total".to_string(),
                t.asset.clone(),
                String::new(),
                x(t.opening),
                x(t.debits),
                x(t.credits),
                x(t.closing),
                ok(t.balanced).to_string(),
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(owner: u128, purpose: &str) -> AccountRef {
        AccountRef {
            owner_id: Uuid::from_u128(owner),
            asset: "BTC".into(),
            purpose: purpose.into(),
        }
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn balanced_books_reconcile() {
        let world = account(0, "world");
        let alice = account(1, "available");
        let mut r = Reconciler::default();
        r.opening(&world, d("-5"));
        r.opening(&alice, d("5"));
        r.entry(&world, d("2"), d("0"), d("-7"));
        r.entry(&alice, d("0"), d("2"), d("7"));
        let out = r.finish();
        assert!(out.balanced);
        assert_eq!(out.accounts.len(), 2);
        let a = out
            .accounts
            .iter()
            .find(|a| a.owner_id == alice.owner_id)
            .unwrap();
        assert_eq!((a.opening, a.credits, a.closing), (d("5"), d("2"), d("7")));
        assert_eq!(out.assets[0].debits, d("2"));
        assert!(out.assets[0].closing.is_zero());
    }

    #[test]
    fn a_one_sided_entry_or_a_wrong_recorded_balance_is_caught() {
        let alice = account(1, "available");
        let mut r = Reconciler::default();
        r.entry(&alice, d("0"), d("2"), d("2"));
        assert!(!r.finish().balanced, "credits without debits");

        let world = account(0, "world");
        let mut r = Reconciler::default();
        r.entry(&world, d("2"), d("0"), d("-2"));
        r.entry(&alice, d("0"), d("2"), d("3"));
        let out = r.finish();
        assert!(!out.balanced, "recorded balance disagrees");
        assert!(out.accounts.iter().any(|a| !a.matches_journal));
    }
}
