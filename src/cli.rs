//! Command-line interface (clap). Every flag has a `HASHMARKET_*` (or `DATABASE_URL`)
//! environment fallback, so the same settings work from a shell, systemd or Compose.

use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use hashmarket_api::config::{DEFAULT_BIND, DEFAULT_BODY_LIMIT_BYTES, DEFAULT_MASTER_KEY_FILE};
use hashmarket_api::crypto::{MasterKey, MasterKeySource};
use hashmarket_api::mail::MailConfig;
use hashmarket_api::ratelimit::{Rate, RateLimitConfig};
use hashmarket_api::{Application, ServerConfig};
use hashmarket_market::clock::SIMULATED_CLOCK_SETTING;
use hashmarket_market::BusinessClock;
use hashmarket_store::{connect, redact_url, ConnectOptions};

use crate::logging::LogFormat;

/// hashmarket: a cloud-mining hash-rate marketplace backend.
#[derive(Debug, Parser)]
#[command(name = "hashmarket", version, about, propagate_version = true)]
pub struct Cli {
    /// Log line format.
    #[arg(
        long,
        global = true,
        env = "HASHMARKET_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// Whether this runs the server (whose stdout is its log).
    pub fn is_serve(&self) -> bool {
        matches!(self.command, Command::Serve(_))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the version and the schema versions this binary ships.
    Version,
    /// Check every ledger invariant over the whole database; exits 1 naming each
    /// violation.
    Verify(DatabaseArgs),
    /// Manage users (`user create --email E --password P --role operator`).
    #[command(subcommand)]
    User(crate::commands::user::UserCommand),
    /// Print the HM-* headers (and the string-to-sign) for a signed API request,
    /// to debug a client's signatures or to sign a request from a shell.
    Sign(crate::commands::sign::SignArgs),
    /// Accrue every running contract up to a time (idempotent; the server also
    /// does this on its schedule). Shows a progress bar on a terminal.
    Accrue(crate::commands::accrue::AccrueArgs),
    /// Export for finance (`export ledger --from --to --format csv --output FILE`);
    /// the same rows as `GET /v1/finance/ledger`.
    #[command(subcommand)]
    Export(crate::commands::export::ExportCommand),
}

/// Where the data lives.
#[derive(Debug, Args)]
pub(crate) struct DatabaseArgs {
    /// `sqlite://PATH` (embedded, the default) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://./hashmarket.db")]
    pub(crate) database_url: String,
    /// Most database connections in the pool.
    #[arg(long, env = "HASHMARKET_DB_MAX_CONNECTIONS", default_value_t = 16)]
    db_max_connections: u32,
}

impl DatabaseArgs {
    pub(crate) fn options(&self, migrate: bool) -> ConnectOptions {
        ConnectOptions {
            max_connections: self.db_max_connections.clamp(1, 1024),
            migrate,
            ..ConnectOptions::default()
        }
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Listen address, `host:port` (port 0 picks a free port).
    #[arg(long, env = "HASHMARKET_BIND", default_value = DEFAULT_BIND)]
    bind: String,
    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "HASHMARKET_BODY_LIMIT_BYTES", default_value_t = DEFAULT_BODY_LIMIT_BYTES)]
    body_limit_bytes: usize,
    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "HASHMARKET_WORKERS", default_value_t = 0)]
    workers: usize,
    /// Run the business clock simulated from this RFC 3339 time; it then moves only
    /// when an operator calls `POST /v1/admin/clock` (for demos and tests).
    #[arg(long, env = "HASHMARKET_SIMULATED_CLOCK")]
    simulated_clock: Option<chrono::DateTime<chrono::Utc>>,
    /// A JSON file of algorithms, assets and markets to trade (default: the built-in
    /// catalog, which `GET /v1/markets` shows).
    #[arg(long, env = "HASHMARKET_CATALOG")]
    catalog: Option<std::path::PathBuf>,
    /// Access-token signing secret (≥ 32 bytes); generated and stored if unset.
    #[arg(long, env = "HASHMARKET_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Seconds in-flight requests may run on after SIGTERM/Ctrl-C.
    #[arg(long, env = "HASHMARKET_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    shutdown_timeout_secs: u64,
    #[command(flatten)]
    security: SecurityArgs,
    #[command(flatten)]
    accrual: AccrualArgs,
}

/// How accrual runs.
#[derive(Debug, Args)]
pub struct AccrualArgs {
    /// Length of an accrual period, seconds (periods are aligned to the epoch).
    #[arg(long, env = "HASHMARKET_ACCRUAL_PERIOD_SECS", default_value_t = 3600)]
    pub accrual_period_secs: i64,
    /// How long past a period's end missing delivery or hashprice data is waited
    /// for before the period counts as not delivered, seconds.
    #[arg(long, env = "HASHMARKET_ACCRUAL_GRACE_SECS", default_value_t = 6 * 3600)]
    pub accrual_grace_secs: i64,
    /// How often the server runs accrual, seconds (0: never; use `hashmarket accrue`).
    #[arg(long, env = "HASHMARKET_ACCRUAL_INTERVAL_SECS", default_value_t = 60)]
    pub accrual_interval_secs: u64,
    /// Contracts accrued per database transaction at most (1 to 1,000,000; a
    /// transaction also ends once its summed postings reach 500,000 transfers).
    #[arg(
        long,
        env = "HASHMARKET_ACCRUAL_PAGE_CONTRACTS",
        default_value_t = hashmarket_payouts::service::MAX_PAGE_CONTRACTS
    )]
    pub accrual_page_contracts: u32,
}

impl AccrualArgs {
    /// The accrual configuration, bounded.
    pub fn config(&self) -> hashmarket_payouts::service::AccrualConfig {
        hashmarket_payouts::service::AccrualConfig {
            period_secs: self.accrual_period_secs.clamp(60, 7 * 86_400),
            grace_secs: self.accrual_grace_secs.clamp(0, 30 * 86_400),
            page_contracts: self
                .accrual_page_contracts
                .clamp(1, hashmarket_payouts::service::MAX_PAGE_CONTRACTS),
            ..Default::default()
        }
    }
}

/// Secrets, signatures, rate limits and email.
#[derive(Debug, Args)]
struct SecurityArgs {
    /// Master key sealing API-key and TOTP secrets: 64 hex digits. Unset: read from
    /// (or generated once into) --master-key-file.
    #[arg(long, env = "HASHMARKET_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
    /// Master key file (default: `hashmarket.master.key` next to the SQLite
    /// database, or in the working directory for PostgreSQL).
    #[arg(long, env = "HASHMARKET_MASTER_KEY_FILE")]
    master_key_file: Option<std::path::PathBuf>,
    /// Signed requests' timestamps are accepted within ± this many seconds.
    #[arg(long, env = "HASHMARKET_SIGNATURE_WINDOW_SECS", default_value_t = 30)]
    signature_window_secs: u64,
    /// Requests per minute per user (sustained).
    #[arg(long, env = "HASHMARKET_RATE_LIMIT_USER_PER_MINUTE", default_value_t = RateLimitConfig::default().per_principal.per_minute)]
    rate_limit_user_per_minute: u32,
    /// Requests per user allowed at once.
    #[arg(long, env = "HASHMARKET_RATE_LIMIT_USER_BURST", default_value_t = RateLimitConfig::default().per_principal.burst)]
    rate_limit_user_burst: u32,
    /// Requests per minute per client IP (sustained).
    #[arg(long, env = "HASHMARKET_RATE_LIMIT_IP_PER_MINUTE", default_value_t = RateLimitConfig::default().per_ip.per_minute)]
    rate_limit_ip_per_minute: u32,
    /// Requests per client IP allowed at once.
    #[arg(long, env = "HASHMARKET_RATE_LIMIT_IP_BURST", default_value_t = RateLimitConfig::default().per_ip.burst)]
    rate_limit_ip_burst: u32,
    /// Login attempts per minute per client IP (sustained).
    #[arg(long, env = "HASHMARKET_RATE_LIMIT_LOGIN_IP_PER_MINUTE", default_value_t = RateLimitConfig::default().login_per_ip.per_minute)]
    rate_limit_login_ip_per_minute: u32,
    /// Login attempts per client IP allowed at once.
    #[arg(long, env = "HASHMARKET_RATE_LIMIT_LOGIN_IP_BURST", default_value_t = RateLimitConfig::default().login_per_ip.burst)]
    rate_limit_login_ip_burst: u32,
    /// SMTP server in lettre's URL form: `smtp://host:25`, `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://host:465` (TLS). Unset: emails are written to the log.
    #[arg(long, env = "HASHMARKET_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The From address of emails.
    #[arg(
        long,
        env = "HASHMARKET_SMTP_FROM",
        default_value = "hashmarket <no-reply@hashmarket.local>"
    )]
    smtp_from: String,
    /// The public base URL used in links in emails.
    #[arg(
        long,
        env = "HASHMARKET_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    public_url: String,
}

impl SecurityArgs {
    fn master_key(&self, database_url: &str) -> anyhow::Result<MasterKeySource> {
        if let Some(hex) = &self.master_key {
            let key = MasterKey::parse_hex(hex)
                .context("HASHMARKET_MASTER_KEY must be 64 hex digits (32 bytes)")?;
            return Ok(MasterKeySource::Key(key));
        }
        let path = self.master_key_file.clone().unwrap_or_else(|| {
            let dir = database_url
                .strip_prefix("sqlite://")
                .or_else(|| database_url.strip_prefix("sqlite:"))
                .map(|p| p.split('?').next().unwrap_or(p))
                .and_then(|p| std::path::Path::new(p).parent().map(|d| d.to_path_buf()))
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or_else(|| std::path::PathBuf::from("."));
            dir.join(DEFAULT_MASTER_KEY_FILE)
        });
        Ok(MasterKeySource::File(path))
    }

    fn rate_limits(&self) -> RateLimitConfig {
        RateLimitConfig {
            per_principal: Rate {
                per_minute: self.rate_limit_user_per_minute,
                burst: self.rate_limit_user_burst,
            },
            per_ip: Rate {
                per_minute: self.rate_limit_ip_per_minute,
                burst: self.rate_limit_ip_burst,
            },
            login_per_ip: Rate {
                per_minute: self.rate_limit_login_ip_per_minute,
                burst: self.rate_limit_login_ip_burst,
            },
            ..RateLimitConfig::default()
        }
    }

    fn mail(&self) -> MailConfig {
        MailConfig {
            smtp_url: self.smtp_url.clone(),
            from: self.smtp_from.clone(),
            public_url: self.public_url.trim_end_matches('/').to_string(),
            ..MailConfig::default()
        }
    }
}

/// Runs the chosen command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Verify(args) => verify(args).await,
        Command::User(command) => crate::commands::user::run(command).await,
        Command::Sign(args) => crate::commands::sign::run(args),
        Command::Accrue(args) => crate::commands::accrue::run(args).await,
        Command::Export(command) => crate::commands::export::run(command).await,
        Command::Version => {
            version();
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let url = &args.database.database_url;
    let store = connect(url, &args.database.options(true))
        .await
        .with_context(|| format!("opening the database {}", redact_url(url)))?;
    let clock = business_clock(&*store, args.simulated_clock).await?;
    let catalog = load_catalog(args.catalog.as_deref())?;
    let config = ServerConfig {
        bind: args.bind.clone(),
        body_limit_bytes: args.body_limit_bytes,
        workers: args.workers,
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout_secs),
        // Signals are ours (below), installed before we say we are listening.
        handle_signals: false,
        clock,
        jwt_secret: args.jwt_secret.clone(),
        catalog,
        master_key: args.security.master_key(url)?,
        signature_window: Duration::from_secs(args.security.signature_window_secs.clamp(1, 3600)),
        rate_limits: args.security.rate_limits(),
        mail: args.security.mail(),
        accrual: args.accrual.config(),
        accrual_interval: (args.accrual.accrual_interval_secs > 0)
            .then(|| Duration::from_secs(args.accrual.accrual_interval_secs)),
    };
    let app = Application::build(config, store.clone())
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    let mut shutdown = ShutdownSignals::install()?;
    let handle = app.handle();
    tokio::spawn(async move {
        let signal = shutdown.recv().await;
        tracing::info!(signal, "shutting down: finishing in-flight requests");
        handle.stop(true).await;
    });
    tracing::info!(
        database = %redact_url(url),
        backend = ?store.backend(),
        "hashmarket listening on http://{}",
        app.local_addr()
    );
    app.run_until_stopped().await.context("serving HTTP")?;
    store.close().await;
    tracing::info!("hashmarket stopped");
    Ok(())
}

/// The catalog from `--catalog FILE`, or the built-in one.
pub(crate) fn load_catalog(
    path: Option<&std::path::Path>,
) -> anyhow::Result<hashmarket_contracts::Catalog> {
    let Some(path) = path else {
        return Ok(hashmarket_contracts::Catalog::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let catalog: hashmarket_contracts::Catalog = serde_json::from_str(&text)
        .with_context(|| format!("parsing the catalog {}", path.display()))?;
    catalog.validate()?;
    Ok(catalog)
}

/// SIGINT (Ctrl-C) and SIGTERM, listened for from the moment they are installed.
struct ShutdownSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> anyhow::Result<ShutdownSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(ShutdownSignals {
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    /// Waits for the first of them; returns its name.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

/// The wall clock, or a simulated one that resumes where a previous run left it.
async fn business_clock(
    store: &dyn hashmarket_store::Store,
    start: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<BusinessClock> {
    let Some(start) = start else {
        return Ok(BusinessClock::Wall);
    };
    let saved = store.setting(SIMULATED_CLOCK_SETTING).await?;
    let saved = saved
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let now = saved.filter(|t| *t > start).unwrap_or(start);
    tracing::warn!(%now, "the business clock is SIMULATED: it moves only via POST /v1/admin/clock");
    Ok(BusinessClock::simulated(now))
}

async fn verify(args: DatabaseArgs) -> anyhow::Result<()> {
    let store = connect(&args.database_url, &args.options(false))
        .await
        .with_context(|| format!("opening {}", redact_url(&args.database_url)))?;
    let violations = hashmarket_market::verify::verify(&*store).await?;
    store.close().await;
    if violations.is_empty() {
        println!("ledger verified: every invariant holds");
        return Ok(());
    }
    for violation in &violations {
        println!("VIOLATION: {violation}");
    }
    anyhow::bail!("{} ledger invariant violation(s)", violations.len())
}

async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    let store = connect(&args.database_url, &args.options(true))
        .await
        .with_context(|| format!("migrating {}", redact_url(&args.database_url)))?;
    let version = store.schema_version().await?;
    tracing::info!(schema_version = version, "database is up to date");
    store.close().await;
    Ok(())
}

fn version() {
    use hashmarket_store::{shipped_schema_version, Backend};
    println!("hashmarket {}", env!("CARGO_PKG_VERSION"));
    println!(
        "schema postgres {}",
        shipped_schema_version(Backend::Postgres)
    );
    println!("schema sqlite {}", shipped_schema_version(Backend::Sqlite));
}
