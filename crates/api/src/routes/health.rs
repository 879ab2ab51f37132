//! Operator endpoints: `/healthz` (the process is up), `/readyz` (the database is
//! reachable), `/metrics` (Prometheus text).

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::problem::{Problem, ProblemWire};
use crate::state::AppState;

/// How long `/readyz` waits for the database before calling it unreachable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Registers the operator endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz))
        .service(web::resource("/metrics").get(metrics));
}

/// The body of `/healthz` and `/readyz`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Status {
    /// Always `"ok"` on success.
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Status)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

/// The database is reachable: 200, or 503 problem+json.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Status), (status = 503, body = ProblemWire)))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(Status { status: "ok" })),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(Problem::unavailable("the database is not reachable"))
        }
        Err(_) => Err(Problem::unavailable("the database did not answer in time")),
    }
}

/// Prometheus text exposition: request counts and latencies per route and status.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(healthz, readyz, metrics),
    components(schemas(Status, ProblemWire))
)]
pub struct ApiDoc;
