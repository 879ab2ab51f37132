//! What every handler can reach: the store, the configuration, the metrics handle.

use std::collections::BTreeMap;
use std::sync::Arc;

use hashmarket_market::Notices;
use hashmarket_payouts::service::MarketRates;

use hashmarket_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;

use hashmarket_market::Markets;

use crate::auth::session::{RecentSessions, SessionKeys};
use crate::catalog::ApiCatalog;
use crate::config::ServerConfig;
use crate::crypto::MasterKey;
use crate::mail::Mailer;
use crate::ratelimit::RateLimits;

/// Shared, read-only application state (cloned per worker as `web::Data`).
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The server's configuration.
    pub config: ServerConfig,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Algorithms, assets and markets.
    pub catalog: ApiCatalog,
    /// The markets and the sequencers this node runs.
    pub markets: Markets,
    /// Signs and verifies access tokens.
    pub sessions: SessionKeys,
    /// Bearer principals read in the last second.
    pub recent_sessions: RecentSessions,
    /// Seals and opens API-key and TOTP secrets.
    pub master_key: MasterKey,
    /// Writes emails to the outbox and wakes the worker.
    pub mailer: Mailer,
    /// Per-IP, per-user and login rate limits.
    pub rate_limits: RateLimits,
    /// Every market's accrual rates (from the catalog).
    pub accrual_rates: Arc<BTreeMap<String, MarketRates>>,
    /// The marketplace's emails (contract started / ended).
    pub notices: Notices,
}
