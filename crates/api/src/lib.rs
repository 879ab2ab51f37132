//! The hashmarket HTTP API on actix-web: routing, problem+json errors, request
//! logging and metrics, and the server's life cycle ([`Application`]).
//!
//! Later areas add here: authentication (JWT, API keys, signatures), idempotency,
//! rate limits, and the marketplace, payout and finance routes.

#![deny(missing_docs)]

pub mod auth;
pub mod catalog;
pub mod config;
pub mod crypto;
pub mod csv;
pub mod extractors;
pub mod finance;
pub mod idempotency;
pub mod mail;
pub mod metrics;
pub mod middleware;
pub mod pagination;
pub mod problem;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod values;
pub mod withdrawals;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use hashmarket_market::{MarketTerms, Markets};
use hashmarket_store::Store;

use catalog::ApiCatalog;

pub use config::ServerConfig;
pub use problem::Problem;
use state::AppState;

/// A bound, not yet running, HTTP server.
pub struct Application {
    local_addr: SocketAddr,
    server: Server,
}

impl Application {
    /// Rebuilds the books of the markets this node can own, binds `config.bind`
    /// and builds the server over `store`.
    pub async fn build(config: ServerConfig, store: Arc<dyn Store>) -> anyhow::Result<Application> {
        config.catalog.validate()?;
        let catalog = ApiCatalog::new(config.catalog.clone());
        let terms = MarketTerms::from_catalog(catalog.catalog());
        let notices = mail::marketplace_notices(&catalog, &terms);
        let accrual_rates = Arc::new(hashmarket_payouts::service::market_rates(catalog.catalog()));
        let markets =
            Markets::start(terms, store.clone(), config.clock.clone(), notices.clone()).await?;
        let sessions =
            auth::session::SessionKeys::load(&*store, config.jwt_secret.as_deref()).await?;
        let master_key = crypto::MasterKey::load(&config.master_key)?;
        let mailer = mail::Mailer::new(config.mail.clone())?;
        let rate_limits = ratelimit::RateLimits::new(&config.rate_limits);
        idempotency::persistence::spawn_retention(store.clone());
        let listener = TcpListener::bind(&config.bind)?;
        let local_addr = listener.local_addr()?;
        let store_for_accrual = store.clone();
        let state = web::Data::new(AppState {
            store,
            config: config.clone(),
            metrics: metrics::prometheus(),
            catalog,
            markets,
            sessions,
            recent_sessions: Default::default(),
            master_key,
            mailer,
            rate_limits,
            accrual_rates: accrual_rates.clone(),
            notices: notices.clone(),
        });
        if let Some(interval) = config.accrual_interval {
            let clock = config.clock.clone();
            hashmarket_payouts::service::spawn_schedule(
                store_for_accrual,
                accrual_rates,
                notices,
                Arc::new(move || clock.now()),
                config.accrual,
                interval,
            );
        }
        // Background work holds the state weakly: it ends when the server has
        // stopped and dropped it (and with it the markets and their leases).
        let weak = Arc::downgrade(&state.clone().into_inner());
        mail::spawn_outbox_worker(weak.clone());
        spawn_housekeeping(weak);
        let body_limit_bytes = config.body_limit_bytes;
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(extractors::json_config(body_limit_bytes))
                .app_data(extractors::payload_config(body_limit_bytes))
                .app_data(extractors::query_config())
                .app_data(extractors::path_config())
                .configure(routes::configure)
                .default_service(web::to(not_found))
                .wrap(from_fn(auth::authenticate))
                .wrap(ErrorHandlers::new().default_handler(problem::problemize))
                .wrap(from_fn(middleware::observe))
        })
        .listen(listener)?
        .shutdown_timeout(config.shutdown_timeout.as_secs());
        if config.workers > 0 {
            server = server.workers(config.workers);
        }
        if !config.handle_signals {
            server = server.disable_signals();
        }
        Ok(Application {
            local_addr,
            server: server.run(),
        })
    }

    /// The address actually bound (the port is real even when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle to stop the server gracefully from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped by a signal or the handle; in-flight requests finish first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// How often expired nonces are deleted and idle rate-limit keys forgotten.
const HOUSEKEEPING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Deletes nonces past their window and forgets idle rate-limit state, once a
/// minute, so neither grows without bound.
fn spawn_housekeeping(state: std::sync::Weak<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HOUSEKEEPING_INTERVAL);
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else { return };
            state.rate_limits.forget_idle();
            if let Err(err) = state.store.purge_nonces(chrono::Utc::now()).await {
                tracing::warn!(error = %err, "nonce cleanup failed; retrying next round");
            }
        }
    });
}

async fn not_found() -> Result<actix_web::HttpResponse, Problem> {
    Err(Problem::not_found().with_detail("no such route"))
}
