//! Extractor configuration: every way a request can fail to parse becomes a
//! problem+json answer (malformed → 400, well-formed but wrong → 422, too big → 413).

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::web;

use crate::problem::Problem;

/// JSON bodies: size limit and problem+json errors.
pub fn json_config(limit_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit_bytes)
        .error_handler(|err, _req| json_problem(err).into())
}

/// Raw bodies (`Bytes`, `String`): size limit.
pub fn payload_config(limit_bytes: usize) -> web::PayloadConfig {
    web::PayloadConfig::new(limit_bytes)
}

/// Query strings: problem+json errors.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| query_problem(err).into())
}

/// Path parameters: a malformed id is the same as an unknown one (404).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        Problem::not_found().with_detail(err.to_string()).into()
    })
}

fn json_problem(err: JsonPayloadError) -> Problem {
    match err {
        JsonPayloadError::OverflowKnownLength { length, limit } => {
            Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE).with_detail(format!(
                "request body is {length} bytes; the limit is {limit}"
            ))
        }
        JsonPayloadError::Overflow { limit } => Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE)
            .with_detail(format!("request body is over the limit of {limit} bytes")),
        JsonPayloadError::ContentType => Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .with_detail("expected Content-Type: application/json"),
        JsonPayloadError::Deserialize(e) if e.is_data() => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid request",
        )
        .with_detail(e.to_string()),
        other => Problem::malformed(other.to_string()),
    }
}

fn query_problem(err: QueryPayloadError) -> Problem {
    Problem::malformed(err.to_string())
}
