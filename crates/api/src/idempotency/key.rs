//! The `Idempotency-Key` header and the request fingerprint it is bound to.

use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// The request header carrying the key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// The response header marking a replayed answer.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Longest key accepted, in characters (API.md: 1–255).
pub const KEY_MAX_CHARS: usize = 255;

/// A validated idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key from the request: `Ok(None)` when absent, 400 `validation` when malformed.
    pub fn from_request(req: &HttpRequest) -> Result<Option<IdempotencyKey>, Problem> {
        let Some(value) = req.headers().get(IDEMPOTENCY_KEY_HEADER) else {
            return Ok(None);
        };
        let text = value
            .to_str()
            .map_err(|_| Problem::malformed("Idempotency-Key must be visible ASCII"))?;
        IdempotencyKey::parse(text).map(Some)
    }

    /// The key from the request, where one is required (400 `idempotency-key-missing`).
    pub fn required(req: &HttpRequest) -> Result<IdempotencyKey, Problem> {
        IdempotencyKey::from_request(req)?.ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "idempotency-key-missing",
                "Idempotency-Key missing",
            )
            .with_detail(
                "this request moves money or creates an order: send an Idempotency-Key header",
            )
        })
    }

    /// Checks a key's shape: 1–255 visible ASCII characters.
    pub fn parse(text: &str) -> Result<IdempotencyKey, Problem> {
        let ok = !text.is_empty()
            && text.len() <= KEY_MAX_CHARS
            && text.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(Problem::malformed(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            ));
        }
        Ok(IdempotencyKey(text.to_string()))
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The payload fingerprint a key is bound to: SHA-256 over method, path and query,
/// and body, hex-encoded. The same key with another fingerprint is a misuse (422).
pub fn fingerprint(req: &HttpRequest, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b"\n");
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn keys_are_1_to_255_visible_ascii() {
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
    }

    #[test]
    fn a_missing_required_key_is_its_own_slug() {
        let req = TestRequest::post().uri("/v1/orders").to_http_request();
        let problem = IdempotencyKey::required(&req).unwrap_err();
        assert_eq!(problem.slug(), "idempotency-key-missing");
        assert_eq!(problem.status(), 400);
    }

    #[test]
    fn fingerprint_covers_method_path_query_and_body() {
        let post = |uri: &str| TestRequest::post().uri(uri).to_http_request();
        let base = fingerprint(&post("/v1/orders"), b"{}");
        assert_eq!(base, fingerprint(&post("/v1/orders"), b"{}"));
        assert_ne!(base, fingerprint(&post("/v1/orders"), b"{ }"));
        assert_ne!(base, fingerprint(&post("/v1/orders?x=1"), b"{}"));
        let put = TestRequest::put().uri("/v1/orders").to_http_request();
        assert_ne!(base, fingerprint(&put, b"{}"));
    }
}
