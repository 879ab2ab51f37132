//! `GET /v1/time`: the server's wall clock, for clients that sign requests.

use actix_web::{web, HttpResponse};
use serde::Serialize;

/// Registers the time endpoint (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/time").get(time));
}

/// The server's clock.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ServerTime {
    /// Milliseconds since the Unix epoch (the unit of `HM-Timestamp`).
    pub server_time_ms: i64,
}

/// The server's wall-clock time, unauthenticated.
#[utoipa::path(get, path = "/v1/time", tag = "auth",
    responses((status = 200, body = ServerTime)))]
pub async fn time() -> HttpResponse {
    HttpResponse::Ok().json(ServerTime {
        server_time_ms: chrono::Utc::now().timestamp_millis(),
    })
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(time), components(schemas(ServerTime)))]
pub struct ApiDoc;
