//! Server configuration. The binary fills it from flags with `HASHMARKET_*`
//! environment fallbacks; tests fill it directly.

use std::time::Duration;

use std::path::PathBuf;

use hashmarket_contracts::Catalog;
use hashmarket_market::BusinessClock;

use hashmarket_payouts::service::AccrualConfig;

use crate::crypto::MasterKeySource;
use crate::mail::MailConfig;
use crate::ratelimit::RateLimitConfig;

/// Default listen address (API.md "Configuration").
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default window for signed requests' timestamps (±).
pub const DEFAULT_SIGNATURE_WINDOW: Duration = Duration::from_secs(30);
/// Default master-key file (the binary puts it next to the SQLite database).
pub const DEFAULT_MASTER_KEY_FILE: &str = "hashmarket.master.key";
/// Default largest request body accepted, in bytes.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 64 * 1024;

/// How the HTTP server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `host:port` to listen on; port 0 picks a free one.
    pub bind: String,
    /// Largest request body accepted; larger ones get 413.
    pub body_limit_bytes: usize,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// How long in-flight requests may run on after a shutdown signal.
    pub shutdown_timeout: Duration,
    /// Whether the server reacts to SIGINT/SIGTERM itself (off for in-process tests).
    pub handle_signals: bool,
    /// The business clock: wall time, or simulated (`--simulated-clock`).
    pub clock: BusinessClock,
    /// The access-token signing secret (≥ 32 bytes); generated and stored if absent.
    pub jwt_secret: Option<String>,
    /// Algorithms, assets and markets traded (`--catalog FILE`, else the default).
    pub catalog: Catalog,
    /// Where the key sealing API-key and TOTP secrets comes from.
    pub master_key: MasterKeySource,
    /// How far a signed request's timestamp may be from the server's clock.
    pub signature_window: Duration,
    /// Rate limits.
    pub rate_limits: RateLimitConfig,
    /// Email delivery.
    pub mail: MailConfig,
    /// Accrual periods, grace and page size.
    pub accrual: AccrualConfig,
    /// How often the server runs accrual (`None`: never on its own; operators
    /// use `POST /v1/admin/accrue` or `hashmarket accrue`).
    pub accrual_interval: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: DEFAULT_BIND.to_string(),
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
            workers: 0,
            shutdown_timeout: Duration::from_secs(30),
            handle_signals: true,
            clock: BusinessClock::Wall,
            jwt_secret: None,
            catalog: Catalog::default(),
            master_key: MasterKeySource::File(PathBuf::from(DEFAULT_MASTER_KEY_FILE)),
            signature_window: DEFAULT_SIGNATURE_WINDOW,
            rate_limits: RateLimitConfig::default(),
            mail: MailConfig::default(),
            accrual: AccrualConfig::default(),
            accrual_interval: Some(Duration::from_secs(60)),
        }
    }
}
