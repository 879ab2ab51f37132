//! Server configuration. The binary fills it from flags with `HASHMARKET_*`
//! environment fallbacks; tests fill it directly.

use std::time::Duration;

use hashmarket_contracts::Catalog;
use hashmarket_market::BusinessClock;

/// Default listen address (API.md "Configuration").
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
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
        }
    }
}
