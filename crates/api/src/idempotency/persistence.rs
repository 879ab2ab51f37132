//! Claiming a key before the work, and turning what the store found into an answer.

use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::{Duration, Utc};
use hashmarket_store::market::{IdempotencyClaim, IdempotencyCompletion};
use hashmarket_store::Store;

use super::key::{IdempotencyKey, REPLAYED_HEADER};
use crate::problem::Problem;

/// How long an in-flight claim blocks retries before it is presumed abandoned (its
/// process died). Longer than any request may take, short enough for a retry to win.
pub const IN_FLIGHT_LOCK_SECS: i64 = 60;
/// How long completed records are kept (API.md: at least 24 h).
pub const RETENTION_HOURS: i64 = 48;

/// How often completed records past their retention are deleted.
pub const RETENTION_SWEEP_SECS: u64 = 3600;

/// Starts the cleanup job: every [`RETENTION_SWEEP_SECS`], completed records older
/// than [`RETENTION_HOURS`] are deleted (in-flight ones expire by their lock).
pub fn spawn_retention(store: std::sync::Arc<dyn Store>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(RETENTION_SWEEP_SECS));
        loop {
            every.tick().await;
            let cutoff = Utc::now() - Duration::hours(RETENTION_HOURS);
            match store.purge_idempotency_keys(cutoff).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "old idempotency records deleted"),
                Err(err) => {
                    tracing::warn!(error = %err, "idempotency cleanup failed; retrying next sweep")
                }
            }
        }
    });
}

/// A claimed key: the request may do its work and must complete or release it.
#[derive(Debug, Clone)]
pub struct Claimed {
    principal: String,
    key: IdempotencyKey,
}

impl Claimed {
    /// The record to store with the effect, answering `status` and `body`.
    pub fn completion(
        &self,
        status: StatusCode,
        body: &serde_json::Value,
    ) -> IdempotencyCompletion {
        IdempotencyCompletion {
            principal: self.principal.clone(),
            key: self.key.as_str().to_string(),
            status: status.as_u16(),
            body: body.to_string(),
        }
    }

    /// Gives the key back when the request ends without an effect.
    pub async fn release(&self, store: &dyn Store) {
        if let Err(err) = store
            .release_idempotency_key(&self.principal, self.key.as_str())
            .await
        {
            tracing::warn!(error = %err, "could not release an idempotency key; it expires by itself");
        }
    }
}

/// Claims `key` for `principal`'s request with `fingerprint`. `Ok(Ok(claimed))` means
/// go ahead; `Ok(Err(response))` is the answer to send instead (a replay); `Err` is
/// 409 `idempotency-key-in-flight` or 422 `idempotency-key-reused`.
pub async fn claim(
    store: &dyn Store,
    principal: &str,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> Result<Result<Claimed, HttpResponse>, Problem> {
    let now = Utc::now();
    let lock_until = now + Duration::seconds(IN_FLIGHT_LOCK_SECS);
    let found = store
        .claim_idempotency_key(principal, key.as_str(), fingerprint, now, lock_until)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "idempotency claim failed");
            Problem::internal()
        })?;
    match found {
        IdempotencyClaim::Fresh => Ok(Ok(Claimed {
            principal: principal.to_string(),
            key: key.clone(),
        })),
        other => answer_existing(other).map(Err),
    }
}

/// The answer to a request whose key has a record already: the stored response
/// (replay), 409 while in flight, 422 for another payload.
pub fn answer_existing(claim: IdempotencyClaim) -> Result<HttpResponse, Problem> {
    match claim {
        IdempotencyClaim::Replay { status, body } => Ok(replay(status, body)),
        IdempotencyClaim::InFlight | IdempotencyClaim::Fresh => Err(in_flight()),
        IdempotencyClaim::Mismatch => Err(reused()),
    }
}

/// 409 `idempotency-key-in-flight`.
pub fn in_flight() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "idempotency-key-in-flight",
        "Idempotency-Key in flight",
    )
    .with_detail("a request with this key is still being processed; retry later")
    .with_retry_after(1)
}

/// 422 `idempotency-key-reused`.
pub fn reused() -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
        "Idempotency-Key reused",
    )
    .with_detail("this key was used with a different request payload")
}

/// The stored answer, marked as a replay.
pub fn replay(status: u16, body: String) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        crate::problem::PROBLEM_CONTENT_TYPE
    };
    let mut response = HttpResponse::build(status);
    response.insert_header((REPLAYED_HEADER, HeaderValue::from_static("true")));
    response.insert_header((CONTENT_TYPE, content_type));
    response.body(body)
}
