//! Idempotency records: shared rules of both backends.

use crate::market::IdempotencyClaim;
use crate::StoreError;

/// Decides what an existing record means for a request with `fingerprint`.
pub(crate) fn classify(
    fingerprint: &str,
    stored_fingerprint: String,
    state: String,
    status: Option<i32>,
    body: Option<String>,
) -> Result<IdempotencyClaim, StoreError> {
    if stored_fingerprint != fingerprint {
        return Ok(IdempotencyClaim::Mismatch);
    }
    match (state.as_str(), status, body) {
        ("complete", Some(status), Some(body)) => Ok(IdempotencyClaim::Replay {
            status: u16::try_from(status).map_err(|_| StoreError::Corrupt {
                column: "idempotency_keys.response_status",
                detail: status.to_string(),
            })?,
            body,
        }),
        ("in_flight", _, _) => Ok(IdempotencyClaim::InFlight),
        (other, _, _) => Err(StoreError::Corrupt {
            column: "idempotency_keys.state",
            detail: other.to_string(),
        }),
    }
}
