//! Reading request values: JSON bodies read as bytes (so the idempotency fingerprint
//! and the signature see exactly what was sent), and store errors as problems.

use actix_web::http::StatusCode;
use hashmarket_store::StoreError;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// Parses a JSON body: malformed → 400 `validation`, wrong shape → 422 `validation`
/// naming the field where serde can.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            let field = if path == "." {
                "body".to_string()
            } else {
                path
            };
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid request",
            )
            .with_field(field, inner.to_string())
        } else {
            Problem::malformed(format!("the body is not valid JSON: {inner}"))
        }
    })?;
    de.end()
        .map_err(|err| Problem::malformed(format!("trailing data after the JSON body: {err}")))?;
    Ok(value)
}

/// The client's IP address: the TCP peer (a proxy in front should be configured
/// to keep its own per-client limits; forwarded headers are not trusted).
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
    req.peer_addr().map(|addr| addr.ip())
}

/// A database failure as an answer: 503 when the database is unreachable, else 500.
/// The detail stays in the logs.
pub fn store_error(err: StoreError) -> Problem {
    match err {
        StoreError::Database(
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
        )
        | StoreError::Unavailable(_) => {
            tracing::warn!(error = %err, "database unavailable");
            Problem::unavailable("the database is not reachable; retry shortly").with_retry_after(1)
        }
        other => {
            tracing::error!(error = %other, "database error");
            Problem::internal()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        price: String,
        nested: Nested,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Nested {
        n: u32,
    }

    #[test]
    fn malformed_is_400_and_wrong_shape_is_422_with_the_field() {
        let err = parse_json::<Body>(b"{not json").unwrap_err();
        assert_eq!((err.status(), err.slug()), (400, "validation"));
        let err = parse_json::<Body>(br#"{"price": "1", "nested": {"n": -1}}"#).unwrap_err();
        assert_eq!(err.status(), 422);
        assert_eq!(err.errors()[0].field, "nested.n");
        let err = parse_json::<Body>(br#"{"price": "1"}"#).unwrap_err();
        assert_eq!(err.status(), 422);
        assert!(parse_json::<Body>(br#"{"price": "1", "nested": {"n": 1}} x"#).is_err());
    }
}
