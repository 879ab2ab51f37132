//! `hashmarket accrue --until T`: accrual from the command line, the same service
//! the server runs on its schedule. Idempotent: re-running credits nothing twice.

use std::io::IsTerminal;

use anyhow::Context;
use clap::Args;
use hashmarket_payouts::service::{accrue_until, market_rates};
use hashmarket_store::{connect, redact_url};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{load_catalog, AccrualArgs, DatabaseArgs};

/// Accrue up to a time.
#[derive(Debug, Args)]
pub struct AccrueArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Accrue whole periods ending at or before this time (RFC 3339).
    #[arg(long)]
    until: chrono::DateTime<chrono::Utc>,
    /// The catalog the server runs with (`--catalog` of `serve`).
    #[arg(long, env = "HASHMARKET_CATALOG")]
    catalog: Option<std::path::PathBuf>,
    #[command(flatten)]
    accrual: AccrualArgs,
}

/// Runs accrual and prints what it did; its emails go to the outbox for the
/// server's worker to send.
pub async fn run(args: AccrueArgs) -> anyhow::Result<()> {
    let url = &args.database.database_url;
    let store = connect(url, &args.database.options(true))
        .await
        .with_context(|| format!("opening the database {}", redact_url(url)))?;
    let catalog = load_catalog(args.catalog.as_deref())?;
    let rates = market_rates(&catalog);
    // The same emails as the server's runs ("contract ended"), into the outbox.
    let terms = hashmarket_market::MarketTerms::from_catalog(&catalog);
    let notices = hashmarket_api::mail::marketplace_notices(
        &hashmarket_api::catalog::ApiCatalog::new(catalog),
        &terms,
    );
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} contracts accrued ({per_sec}) {elapsed}")
                .expect("a valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let report = accrue_until(
        &*store,
        &rates,
        &notices,
        args.until,
        args.accrual.config(),
        &mut |n| bar.inc(n),
    )
    .await?;
    bar.finish_and_clear();
    println!(
        "accrued {} periods of {} contracts up to {}; {} completed, {} waiting for data",
        report.periods, report.contracts, args.until, report.completed, report.waiting
    );
    store.close().await;
    Ok(())
}
