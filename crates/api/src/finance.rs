//! Finance (HM-7 §1–2): the journal taken out of the database and proved.
//!
//! [`LedgerExport`] turns the journal into CSV or NDJSON as the database streams
//! it, a few chunks in memory however large the export; the HTTP export and
//! `hashmarket export ledger` both use it, so the two write the same bytes. [`Reconciler`] is
//! the pure core of reconciliation: opening balances plus the period's entries give
//! each account's debits, credits and closing balance, checked against the balance
//! the journal itself recorded and, per asset, against the rule that everything sums
//! to zero.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::{DateTime, Datelike, Timelike, Utc};
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use hashmarket_store::batches::{read_in_batches, BatchLimits};
use hashmarket_store::finance::{ExportFilter, ExportRow};
use hashmarket_store::market::AccountRef;
use hashmarket_store::{Store, StoreError};

use crate::catalog::ApiCatalog;
use crate::csv::{push_field, push_record};

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
    padded(amount, catalog.decimals(asset)).to_string()
}

fn padded(amount: Decimal, places: u32) -> Decimal {
    let mut shown = amount;
    if shown.scale() < places {
        shown.rescale(places);
    }
    shown
}

/// Appends `value` in decimal, zero-padded to at least `width` digits (itoa's
/// formatting; an export writes about ten numbers per row).
fn push_digits(out: &mut String, value: u128, width: usize) {
    let mut buf = itoa::Buffer::new();
    // The 64-bit formatter is several times faster than the 128-bit one, and
    // almost every amount and time field fits it.
    let digits = match u64::try_from(value) {
        Ok(small) => buf.format(small),
        Err(_) => buf.format(value),
    };
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

/// Appends an amount exactly, with at least `places` decimal places — the same
/// text as `padded(amount, places).to_string()`, without the formatter's cost
/// (the hot loop of an export writes three per row).
fn push_amount(out: &mut String, amount: Decimal, places: u32) {
    let scale = amount.scale();
    let mantissa = amount.mantissa();
    if mantissa < 0 {
        out.push('-');
    }
    let magnitude = mantissa.unsigned_abs();
    let unit = 10u128.pow(scale);
    push_digits(out, magnitude / unit, 1);
    let shown = scale.max(places);
    if shown > 0 {
        out.push('.');
        if scale > 0 {
            push_digits(out, magnitude % unit, scale as usize);
        }
        for _ in scale..shown {
            out.push('0');
        }
    }
}

/// Appends a UTC time as RFC 3339 with microseconds (`2026-01-01T00:00:00.000000Z`).
fn push_time(out: &mut String, at: DateTime<Utc>) {
    let (date, time) = (at.date_naive(), at.time());
    push_digits(out, date.year().max(0) as u128, 4);
    for (separator, value) in [
        ('-', date.month()),
        ('-', date.day()),
        ('T', time.hour()),
        (':', time.minute()),
        (':', time.second()),
    ] {
        out.push(separator);
        push_digits(out, u128::from(value), 2);
    }
    out.push('.');
    push_digits(out, u128::from(time.nanosecond() / 1_000 % 1_000_000), 6);
    out.push('Z');
}

/// Appends a UUID in its hyphenated lower-case form, without allocating.
fn push_uuid(out: &mut String, id: Uuid) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.push_str(id.hyphenated().encode_lower(&mut buf));
}

/// One journal entry as NDJSON's object.
#[derive(Serialize)]
struct NdjsonRecord<'a> {
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

/// Appends one entry as a CSV record in [`EXPORT_COLUMNS`] order. Written field by
/// field into `out` (no allocation per field): this is the hot loop of an export.
fn push_csv(out: &mut String, places: u32, row: &ExportRow) {
    push_digits(out, u128::from(row.seq.unsigned_abs()), 1);
    out.push(',');
    push_time(out, row.created_at);
    out.push(',');
    push_uuid(out, row.transfer_id);
    out.push(',');
    push_uuid(out, row.owner_id);
    out.push(',');
    push_field(out, &row.asset);
    out.push(',');
    push_field(out, &row.purpose);
    for amount in [row.debit, row.credit, row.balance_after] {
        out.push(',');
        push_amount(out, amount, places);
    }
    out.push(',');
    push_field(out, &row.kind);
    for id in [row.order_id, row.contract_id, row.withdrawal_id] {
        out.push(',');
        if let Some(id) = id {
            push_uuid(out, id);
        }
    }
    out.push(',');
    push_field(out, row.reference.as_deref().unwrap_or(""));
    out.push(',');
    push_field(out, row.chain_hash.as_deref().unwrap_or(""));
    out.push_str("\r\n");
}

fn push_ndjson(out: &mut String, places: u32, row: &ExportRow) {
    let amount = |d| padded(d, places).to_string();
    let mut created_at = String::with_capacity(27);
    push_time(&mut created_at, row.created_at);
    let record = NdjsonRecord {
        entry_id: row.seq,
        created_at,
        transfer_id: row.transfer_id,
        owner_id: row.owner_id,
        asset: &row.asset,
        account: &row.purpose,
        debit: amount(row.debit),
        credit: amount(row.credit),
        balance_after: amount(row.balance_after),
        kind: &row.kind,
        order_id: row.order_id,
        contract_id: row.contract_id,
        withdrawal_id: row.withdrawal_id,
        reference: row.reference.as_deref(),
        chain_hash: row.chain_hash.as_deref(),
    };
    out.push_str(&serde_json::to_string(&record).expect("an export record serialises"));
    out.push('\n');
}

/// Appends one entry to `out` in `format`.
pub fn push_row(out: &mut String, format: ExportFormat, catalog: &ApiCatalog, row: &ExportRow) {
    let places = catalog.decimals(&row.asset);
    match format {
        ExportFormat::Csv => push_csv(out, places, row),
        ExportFormat::Ndjson => push_ndjson(out, places, row),
    }
}

/// One piece of an export: text and how many entries it holds.
#[derive(Debug)]
pub struct ExportChunk {
    /// The text (whole records only).
    pub text: String,
    /// Entries in it.
    pub rows: usize,
}

/// A ledger export, running: a task reads the journal from the database and
/// decodes it into batches ([`EXPORT_BATCHES`]); the reader formats each batch
/// into one chunk. Only a few batches wait,
/// so memory stays constant however many rows, and on a multi-threaded runtime
/// (the CLI) decoding and formatting run on two cores. Dropping it stops the task.
pub struct LedgerExport {
    batches: mpsc::Receiver<Result<Vec<ExportRow>, StoreError>>,
    catalog: ApiCatalog,
    format: ExportFormat,
    header_sent: bool,
    /// The last entry written: an export is in journal order.
    last_seq: i64,
}

/// Entries decoded per batch, and batches decoded ahead of the formatter.
pub const EXPORT_BATCHES: BatchLimits = BatchLimits {
    rows: 1024,
    in_flight: 4,
};

/// The entries a filter selects (what [`read_in_batches`] runs).
fn export_entries(
    source: &(Arc<dyn Store>, ExportFilter),
) -> BoxStream<'_, Result<ExportRow, StoreError>> {
    source.0.export_stream(&source.1)
}

impl LedgerExport {
    /// Starts exporting the entries `filter` selects.
    pub fn start(
        store: Arc<dyn Store>,
        catalog: ApiCatalog,
        filter: ExportFilter,
        format: ExportFormat,
    ) -> Self {
        LedgerExport {
            batches: read_in_batches((store, filter), export_entries, EXPORT_BATCHES),
            catalog,
            format,
            header_sent: false,
            last_seq: 0,
        }
    }

    /// The next chunk (the CSV header first), or `None` when every entry has been
    /// written.
    pub async fn next_chunk(&mut self) -> Result<Option<ExportChunk>, StoreError> {
        let mut text = String::new();
        if !self.header_sent {
            self.header_sent = true;
            if self.format == ExportFormat::Csv {
                push_record(&mut text, EXPORT_COLUMNS);
            }
        }
        let batch = self.batches.recv().await.transpose().inspect_err(|err| {
            tracing::error!(error = %err, "ledger export failed part way");
        })?;
        let Some(batch) = batch else {
            return Ok((!text.is_empty()).then_some(ExportChunk { text, rows: 0 }));
        };
        text.reserve(batch.len() * 320);
        for row in &batch {
            assert!(row.seq > self.last_seq, "an export is in journal order");
            self.last_seq = row.seq;
            push_row(&mut text, self.format, &self.catalog, row);
        }
        Ok(Some(ExportChunk {
            text,
            rows: batch.len(),
        }))
    }

    /// The export as a byte stream for a streaming response body.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, StoreError>> {
        futures_util::stream::unfold(Some(self), |export| async move {
            let mut export = export?;
            match export.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(Bytes::from(chunk.text)), Some(export))),
                Ok(None) => None,
                Err(err) => Some((Err(err), None)),
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
    let mut entries = store.export_stream(&filter);
    while let Some(row) = entries.next().await {
        let row = row?;
        reconciler.entry(&row.account(), row.debit, row.credit, row.balance_after);
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
    fn amounts_and_times_are_written_as_the_formatter_would() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mantissa = i128::from(seed as i64) >> (seed % 60);
            let amount = Decimal::from_i128_with_scale(mantissa, (seed % 20) as u32);
            let places = (seed >> 8) as u32 % 12;
            let mut out = String::new();
            push_amount(&mut out, amount, places);
            let shown = amount.scale().max(places);
            let fraction = out.split_once('.').map_or(0, |(_, f)| f.len());
            assert_eq!(fraction as u32, shown, "{out}");
            assert_eq!(d(&out), amount, "{out}");
            // Where the formatter can show as many places (it stops at 28 digits),
            // the text is identical.
            let formatted = padded(amount, places).to_string();
            if formatted.split_once('.').map_or(0, |(_, f)| f.len()) as u32 == shown {
                assert_eq!(out, formatted);
            }
        }
        for text in [
            "0",
            "-0.5",
            "123.45000000",
            "-0.00000001",
            "-21000000.12345678",
        ] {
            let mut out = String::new();
            push_amount(&mut out, d(text), 8);
            assert_eq!(out, padded(d(text), 8).to_string());
        }
        // Mantissas past 64 bits take the 128-bit path.
        for text in ["79228162514264337593543950335", "-18446744073709551616.5"] {
            let mut out = String::new();
            push_amount(&mut out, d(text), 0);
            assert_eq!(out, text);
        }
        for at in [
            "2026-01-01T00:00:00Z",
            "1999-12-31T23:59:59.123456789Z",
            "2026-11-23T09:05:07.000001Z",
        ] {
            let at: DateTime<Utc> = at.parse().unwrap();
            let mut out = String::new();
            push_time(&mut out, at);
            assert_eq!(out, at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        }
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
