//! `GET /openapi.json`: every module's description, merged.

use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

/// Registers `/openapi.json`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").get(openapi_json));
}

/// The whole API's OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("hashmarket")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Cloud-mining hash-rate marketplace API"))
                .build(),
        )
        .build();
    for part in [
        super::health::ApiDoc::openapi(),
        super::time::ApiDoc::openapi(),
        super::auth::ApiDoc::openapi(),
        super::api_keys::ApiDoc::openapi(),
        super::payouts::ApiDoc::openapi(),
        super::statements::ApiDoc::openapi(),
        super::finance::ApiDoc::openapi(),
        super::withdrawals::ApiDoc::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}
