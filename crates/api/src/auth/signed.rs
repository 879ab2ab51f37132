//! Programs' signed requests with API keys (API.md "Authentication").
//!
//! The checks run cheapest first and each failure names itself, because a
//! signature that does not verify is the first thing API users get stuck on:
//! 1. the four headers are present and well-formed → else 401 `signature-invalid`;
//! 2. the timestamp is within the window of the server's clock → else 401
//!    `signature-expired` (the detail gives the server's time and the skew);
//! 3. the key exists → else 401 `signature-invalid`; it is live → else 401
//!    `api-key-revoked` (revoked, expired, or rotated out after its overlap);
//! 4. the signature matches, compared in constant time → else 401
//!    `signature-invalid`, with the string-to-sign the server computed in the
//!    problem's `string_to_sign` member, to diff against the client's;
//! 5. the nonce is new for this key inside the window (recorded in the database,
//!    so it holds across restarts and nodes) → else 401 `nonce-reused`.

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::web;
use chrono::{DateTime, TimeZone, Utc};

use super::signing::{
    nonce_is_valid, SignedParts, HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use super::{api_keys, session::principal_of, Credential, Principal};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::store_error;

/// The four signing headers, as sent.
struct SignedHeaders {
    key: String,
    timestamp: String,
    timestamp_ms: i64,
    nonce: String,
    signature: String,
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "signature-invalid",
        "Signature invalid",
    )
    .with_detail(detail)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Problem> {
    let value = headers
        .get(name)
        .ok_or_else(|| invalid(format!("missing header {name}")))?;
    value
        .to_str()
        .map(str::trim)
        .map_err(|_| invalid(format!("header {name} is not visible ASCII")))
}

impl SignedHeaders {
    fn parse(headers: &HeaderMap) -> Result<SignedHeaders, Problem> {
        let key = header(headers, HEADER_KEY)?;
        let timestamp = header(headers, HEADER_TIMESTAMP)?;
        let nonce = header(headers, HEADER_NONCE)?;
        let signature = header(headers, HEADER_SIGNATURE)?;
        let timestamp_ms = timestamp
            .parse::<i64>()
            .ok()
            .filter(|_| timestamp.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| invalid("HM-Timestamp must be milliseconds since the Unix epoch"))?;
        if !nonce_is_valid(nonce) {
            return Err(invalid("HM-Nonce must be 1–64 characters of [A-Za-z0-9_-]"));
        }
        let signature_ok = signature.len() == 64
            && signature
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !signature_ok {
            return Err(invalid("HM-Signature must be 64 lowercase hex digits"));
        }
        if key.is_empty() || key.len() > api_keys::KEY_MAX_CHARS {
            return Err(invalid("HM-Key is empty or too long"));
        }
        Ok(SignedHeaders {
            key: key.to_string(),
            timestamp: timestamp.to_string(),
            timestamp_ms,
            nonce: nonce.to_string(),
            signature: signature.to_string(),
        })
    }
}

fn millis_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

/// Verifies a signed request's headers and body and returns whose key signed it.
/// The body is read (within the body limit) and put back for the handler.
pub async fn authenticate_signed(
    state: &AppState,
    req: &mut ServiceRequest,
) -> Result<Principal, Problem> {
    let signed = SignedHeaders::parse(req.headers())?;
    let now = Utc::now();
    let window_ms = state.config.signature_window.as_millis() as i64;
    let skew_ms = now.timestamp_millis().saturating_sub(signed.timestamp_ms);
    if skew_ms.saturating_abs() > window_ms {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "signature-expired",
            "Signature expired",
        )
        .with_detail(format!(
            "HM-Timestamp {} is {} ms {} the server's clock ({} ms, GET /v1/time); \
             the window is ±{window_ms} ms",
            signed.timestamp,
            skew_ms.saturating_abs(),
            if skew_ms > 0 { "behind" } else { "ahead of" },
            now.timestamp_millis()
        )));
    }
    let (key, user) = state
        .store
        .api_key_by_key(&signed.key)
        .await
        .map_err(store_error)?
        .ok_or_else(|| invalid(format!("no API key {:?}", signed.key)))?;
    api_keys::check_live(&key, now)?;
    let body = req.extract::<web::Bytes>().await.map_err(|e| {
        Problem::for_status(e.as_response_error().status_code()).with_detail(e.to_string())
    })?;
    let parts = SignedParts {
        timestamp_ms: &signed.timestamp,
        nonce: &signed.nonce,
        method: req.method().as_str(),
        path_and_query: req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/"),
        body: &body,
    };
    let secret = api_keys::open_secret(state, &key)?;
    if !parts.verify(&secret, &signed.signature) {
        return Err(invalid(
            "HM-Signature does not match: compare the string_to_sign member with the \
             string your client signed (lines: timestamp, nonce, method, path and query as \
             sent, hex SHA-256 of the body)",
        )
        .with_string_to_sign(parts.string_to_sign()));
    }
    let nonce_expires_at = millis_time(signed.timestamp_ms.saturating_add(window_ms));
    let fresh = state
        .store
        .claim_nonce(key.id, &signed.nonce, nonce_expires_at, now)
        .await
        .map_err(store_error)?;
    if !fresh {
        return Err(
            Problem::new(StatusCode::UNAUTHORIZED, "nonce-reused", "Nonce reused").with_detail(
                "this HM-Nonce was already used with this key; use a new one per request",
            ),
        );
    }
    req.set_payload(Payload::from(body));
    Ok(principal_of(
        &user,
        Credential::ApiKey {
            key_id: key.id,
            scopes: api_keys::parse_scopes(&key.scopes),
        },
    ))
}
