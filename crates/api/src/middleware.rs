//! The middleware every request passes: a request id, one structured log line, the
//! Prometheus counters, and the body-size guard.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::metrics::{HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION_SECONDS};
use crate::problem::Problem;
use crate::state::AppState;

/// The response header carrying the request id (also accepted from the client).
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// Longest client-supplied request id kept; longer ones are replaced.
const REQUEST_ID_MAX_LEN: usize = 64;

/// The request's id: the client's `X-Request-Id` if sane, else a fresh UUIDv7.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= REQUEST_ID_MAX_LEN
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// Refuses a declared body over the limit before anything reads it (413).
fn check_declared_length(req: &ServiceRequest, limit_bytes: usize) -> Result<(), Problem> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit_bytes as u64 => Err(Problem::for_status(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        )
        .with_detail(format!(
            "request body is {len} bytes; the limit is {limit_bytes}"
        ))),
        _ => Ok(()),
    }
}

/// Logs, counts and times every request; tags it with a request id.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.body_limit_bytes)
        .unwrap_or(usize::MAX);
    let mut res = match check_declared_length(&req, limit) {
        Ok(()) => next.call(req).await?.map_into_left_body(),
        Err(problem) => req.error_response(problem).map_into_right_body(),
    };
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    let labels = [
        ("method", method.clone()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, &labels).record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %path,
        route = %route,
        status,
        latency_us = elapsed.as_micros() as u64,
        "request"
    );
    Ok(res)
}
