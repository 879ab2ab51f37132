//! `hashmarket export ledger`: the finance ledger export from the command line —
//! the same rows and bytes as `GET /v1/finance/ledger`, written to a file (or
//! standard output) page by page, with a progress bar on a terminal.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use hashmarket_api::catalog::ApiCatalog;
use hashmarket_api::finance::{ExportFormat, LedgerExport};
use hashmarket_store::finance::ExportFilter;
use hashmarket_store::{connect, redact_url};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{load_catalog, DatabaseArgs};

/// What to export.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Every journal entry (optionally of one period, asset, owner or account).
    Ledger(LedgerArgs),
}

/// The file format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// RFC 4180 with a header record.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

/// `export ledger` arguments.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Entries at or after this time (RFC 3339).
    #[arg(long)]
    from: Option<chrono::DateTime<chrono::Utc>>,
    /// Entries before this time (RFC 3339).
    #[arg(long)]
    to: Option<chrono::DateTime<chrono::Utc>>,
    /// One asset.
    #[arg(long)]
    asset: Option<String>,
    /// One owner's accounts (a user id).
    #[arg(long)]
    owner: Option<uuid::Uuid>,
    /// One account purpose (`available`, `contract_escrow`, ...).
    #[arg(long)]
    account: Option<String>,
    /// csv or ndjson.
    #[arg(long, value_enum, default_value = "csv")]
    format: FormatArg,
    /// Where to write; standard output when absent.
    #[arg(long)]
    output: Option<std::path::PathBuf>,
    /// The catalog the server runs with (`--catalog` of `serve`), for asset places.
    #[arg(long, env = "HASHMARKET_CATALOG")]
    catalog: Option<std::path::PathBuf>,
}

/// Runs an export command.
pub async fn run(command: ExportCommand) -> anyhow::Result<()> {
    match command {
        ExportCommand::Ledger(args) => ledger(args).await,
    }
}

async fn ledger(args: LedgerArgs) -> anyhow::Result<()> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        anyhow::ensure!(to > from, "--to must be after --from");
    }
    if let Some(account) = &args.account {
        anyhow::ensure!(
            hashmarket_ledger::Purpose::parse(account).is_some(),
            "--account {account}: not an account purpose (available, order_hold, contract_escrow, ...)"
        );
    }
    let url = &args.database.database_url;
    let store = connect(url, &args.database.options(false))
        .await
        .with_context(|| format!("opening the database {}", redact_url(url)))?;
    let catalog = ApiCatalog::new(load_catalog(args.catalog.as_deref())?);
    let format = match args.format {
        FormatArg::Csv => ExportFormat::Csv,
        FormatArg::Ndjson => ExportFormat::Ndjson,
    };
    let filter = ExportFilter {
        from: args.from,
        to: args.to,
        asset: args.asset,
        owner: args.owner,
        purpose: args.account,
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        // Not `stdout().lock()`: another thread may log (to stderr) or print, and a
        // lock held for the whole export would block it forever.
        None => Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        )),
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} entries exported ({per_sec}) {elapsed}")
                .expect("a valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut export = LedgerExport::start(store.clone(), catalog, filter, format);
    let mut rows = 0u64;
    while let Some(chunk) = export.next_chunk().await? {
        out.write_all(chunk.text.as_bytes())?;
        rows += chunk.rows as u64;
        bar.inc(chunk.rows as u64);
    }
    out.flush()?;
    bar.finish_and_clear();
    eprintln!("exported {rows} ledger entries");
    store.close().await;
    Ok(())
}
