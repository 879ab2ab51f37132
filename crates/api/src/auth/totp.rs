//! TOTP second factor (RFC 6238 via totp-rs: SHA-1, 6 digits, 30 s steps, ±1 step
//! of clock skew). Enrol → the user adds the secret to an authenticator app →
//! confirm with a first code. Once confirmed, [`require_code`] demands a code
//! where a second factor applies (withdrawal confirmation, HM-6). A code's time
//! step is recorded when accepted, so no code works twice.

use std::net::IpAddr;

use actix_web::http::StatusCode;
use chrono::Utc;
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

use hashmarket_store::access::{AccessWrite, TotpRow};

use super::audit;
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::store_error;

/// Seconds per time step.
pub const STEP_SECS: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Bytes of a secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;
/// Who the codes are for, in authenticator apps.
pub const ISSUER: &str = "hashmarket";

/// A new enrolment: what the user types or scans.
pub struct Enrolment {
    /// The secret in base32.
    pub secret_base32: String,
    /// `otpauth://` URL for a QR code.
    pub otpauth_url: String,
}

fn totp(secret: Vec<u8>, account: &str) -> Result<TOTP, Problem> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS,
        secret,
        Some(ISSUER.to_string()),
        account.to_string(),
    )
    .map_err(|e| {
        tracing::error!(error = %e, "TOTP parameters rejected");
        Problem::internal()
    })
}

fn seal_context(user_id: Uuid) -> String {
    format!("totp:{user_id}")
}

/// Starts (or restarts, while unconfirmed) enrolment for `user_id`.
pub async fn enroll(
    state: &AppState,
    user_id: Uuid,
    email: &str,
    ip: Option<IpAddr>,
) -> Result<Enrolment, Problem> {
    let secret: [u8; SECRET_BYTES] = rand::random();
    let generator = totp(secret.to_vec(), email)?;
    let row = TotpRow {
        user_id,
        sealed_secret: state.master_key.seal(&secret, &seal_context(user_id)),
        created_at: Utc::now(),
        confirmed_at: None,
        last_step: 0,
    };
    let event = audit::event(audit::kind::TOTP_ENROLLED, Some(user_id), ip, json!({}));
    state
        .store
        .write_access(&[AccessWrite::Totp(row), AccessWrite::Audit(event)])
        .await
        .map_err(|e| match e {
            hashmarket_store::StoreError::Conflict(_) => already_enabled(),
            other => store_error(other),
        })?;
    Ok(Enrolment {
        secret_base32: Secret::Raw(secret.to_vec()).to_encoded().to_string(),
        otpauth_url: generator.get_url(),
    })
}

fn already_enabled() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "totp-already-enabled",
        "TOTP already enabled",
    )
    .with_detail("a confirmed TOTP enrolment exists for this account")
}

fn invalid_code() -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "totp-invalid",
        "TOTP code invalid",
    )
    .with_detail("the code is wrong, too old, or was already used")
    .with_field(
        "code",
        "expected the current 6-digit code from your authenticator",
    )
}

/// The time step `code` is valid for at `now_secs` (current, previous or next).
fn matching_step(generator: &TOTP, code: &str, now_secs: u64) -> Option<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = now_secs / STEP_SECS;
    [now_step.saturating_sub(1), now_step, now_step + 1]
        .into_iter()
        .find(|step| {
            let expected = generator.generate(step * STEP_SECS);
            // Constant-time comparison of equal-length ASCII digits.
            expected
                .bytes()
                .zip(code.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        })
        .map(|step| step as i64)
}

/// Checks `code` for `user_id` and consumes its time step; confirms a pending
/// enrolment. 422 `totp-invalid` if wrong or replayed, 409 `totp-not-enrolled`.
pub async fn verify_code(
    state: &AppState,
    user_id: Uuid,
    code: &str,
    ip: Option<IpAddr>,
) -> Result<(), Problem> {
    let row = state
        .store
        .totp(user_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::CONFLICT,
                "totp-not-enrolled",
                "TOTP not enrolled",
            )
            .with_detail("enrol first: POST /v1/auth/totp/enroll")
        })?;
    let secret = state
        .master_key
        .open(&row.sealed_secret, &seal_context(user_id))
        .ok_or_else(|| {
            tracing::error!(%user_id, "TOTP secret does not open under the master key");
            Problem::internal()
        })?;
    let generator = totp(secret, "")?;
    let now_secs = Utc::now().timestamp().max(0) as u64;
    let step = matching_step(&generator, code.trim(), now_secs).ok_or_else(invalid_code)?;
    let confirming = row.confirmed_at.is_none();
    let event =
        confirming.then(|| audit::event(audit::kind::TOTP_CONFIRMED, Some(user_id), ip, json!({})));
    let accepted = state
        .store
        .accept_totp_step(user_id, step, event.as_ref(), Utc::now())
        .await
        .map_err(store_error)?;
    if !accepted {
        return Err(invalid_code());
    }
    Ok(())
}

/// Where a second factor applies (withdrawal confirmation): a valid code is
/// required when the user has a confirmed enrolment; `Ok(false)` if they have
/// none (the caller falls back to the emailed token).
pub async fn require_code(
    state: &AppState,
    user_id: Uuid,
    code: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<bool, Problem> {
    let enrolled = state
        .store
        .totp(user_id)
        .await
        .map_err(store_error)?
        .is_some_and(|row| row.confirmed_at.is_some());
    if !enrolled {
        return Ok(false);
    }
    let code = code.ok_or_else(|| {
        Problem::new(StatusCode::FORBIDDEN, "totp-required", "TOTP code required")
            .with_detail("this account has TOTP enabled: send the current code")
    })?;
    verify_code(state, user_id, code, ip).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_neighbours_only() {
        let generator = totp(vec![7u8; SECRET_BYTES], "a@b.c").unwrap();
        let now = 1_700_000_000u64;
        let step = (now / STEP_SECS) as i64;
        let current = generator.generate(now);
        assert_eq!(matching_step(&generator, &current, now), Some(step));
        let previous = generator.generate(now - STEP_SECS);
        assert_eq!(matching_step(&generator, &previous, now), Some(step - 1));
        let old = generator.generate(now - 3 * STEP_SECS);
        assert_eq!(matching_step(&generator, &old, now), None);
        assert_eq!(matching_step(&generator, "12345", now), None);
        assert_eq!(matching_step(&generator, "abcdef", now), None);
    }
}
