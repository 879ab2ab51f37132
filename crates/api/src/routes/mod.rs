//! HTTP routes, one module per area. Each module has a `configure` that registers its
//! routes and an `ApiDoc` (utoipa) that `openapi` merges into `/openapi.json`.

pub mod admin_clock;
pub mod api_keys;
pub mod auth;
pub mod contracts;
pub mod finance;
pub mod health;
pub mod markets;
pub mod money;
pub mod openapi;
pub mod orders;
pub mod payouts;
pub mod rigs;
pub mod statements;
pub mod time;
pub mod withdrawals;

use actix_web::web;

/// Registers every route of the API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    openapi::configure(cfg);
    cfg.service(
        web::scope("/v1")
            .configure(time::configure)
            .configure(auth::configure)
            .configure(api_keys::configure)
            .configure(admin_clock::configure)
            .configure(markets::configure)
            .configure(money::configure)
            .configure(rigs::configure)
            .configure(orders::configure)
            .configure(contracts::configure)
            .configure(payouts::configure)
            .configure(statements::configure)
            .configure(finance::configure)
            .configure(withdrawals::configure),
    );
}
