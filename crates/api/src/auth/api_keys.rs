//! API keys: making them, sealing and opening their secrets, deciding whether one
//! is live. The routes are in `routes/api_keys.rs`.
//!
//! A key is a public identifier (`hmk_` + 24 hex digits, sent as `HM-Key`) and a
//! secret (64 hex digits, used as the HMAC key as its ASCII bytes). The secret is
//! shown once and stored sealed under the master key, bound to the key's id
//! ([`crate::crypto`]).

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use hashmarket_store::access::ApiKeyRow;

use super::{Scope, ScopeSet};
use crate::crypto::random_hex;
use crate::problem::Problem;
use crate::state::AppState;

/// Longest `HM-Key` value looked up.
pub const KEY_MAX_CHARS: usize = 64;
/// Longest label.
pub const LABEL_MAX_CHARS: usize = 100;
/// Most live keys per user.
pub const LIVE_KEYS_MAX: usize = 25;
/// Longest rotation overlap (7 days).
pub const OVERLAP_MAX_SECS: i64 = 7 * 24 * 3600;
/// Furthest expiry (1 year and a day).
pub const EXPIRY_MAX_DAYS: i64 = 366;

/// A freshly made key: its row and the secret to show once.
pub struct NewKey {
    /// The row to store.
    pub row: ApiKeyRow,
    /// The secret, in the clear, for the response only.
    pub secret: String,
}

/// Makes a key for `user_id`, its secret sealed under the master key.
pub fn make_key(
    state: &AppState,
    user_id: Uuid,
    label: &str,
    scopes: ScopeSet,
    expires_at: Option<DateTime<Utc>>,
) -> NewKey {
    let id = Uuid::now_v7();
    let secret = random_hex(32);
    let row = ApiKeyRow {
        id,
        user_id,
        label: label.to_string(),
        key: format!("hmk_{}", random_hex(12)),
        sealed_secret: state.master_key.seal(secret.as_bytes(), &id.to_string()),
        scopes: scopes_text(scopes),
        created_at: Utc::now(),
        expires_at,
        revoked_at: None,
        last_used_at: None,
        replaced_by: None,
    };
    NewKey { row, secret }
}

/// Scopes as stored: comma-separated wire names.
pub fn scopes_text(scopes: ScopeSet) -> String {
    scopes
        .to_vec()
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Scopes from their stored form (unknown names are ignored: fail closed).
pub fn parse_scopes(text: &str) -> ScopeSet {
    let scopes: Vec<Scope> = text.split(',').filter_map(Scope::parse).collect();
    ScopeSet::of(&scopes)
}

/// Where a key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Usable.
    Active,
    /// Replaced in a rotation but still inside its overlap.
    RotatingOut,
    /// Revoked.
    Revoked,
    /// Past its expiry (or its rotation overlap).
    Expired,
}

/// Where `key` stands at `now`.
pub fn status(key: &ApiKeyRow, now: DateTime<Utc>) -> KeyStatus {
    if key.revoked_at.is_some() {
        KeyStatus::Revoked
    } else if key.expires_at.is_some_and(|t| t <= now) {
        KeyStatus::Expired
    } else if key.replaced_by.is_some() {
        KeyStatus::RotatingOut
    } else {
        KeyStatus::Active
    }
}

/// 401 `api-key-revoked` unless `key` may sign at `now`; the detail says why not.
pub fn check_live(key: &ApiKeyRow, now: DateTime<Utc>) -> Result<(), Problem> {
    let why = match (status(key, now), key.revoked_at, key.expires_at) {
        (KeyStatus::Active | KeyStatus::RotatingOut, _, _) => return Ok(()),
        (KeyStatus::Revoked, Some(at), _) => format!("this API key was revoked at {at}"),
        (KeyStatus::Expired, _, Some(at)) if key.replaced_by.is_some() => {
            format!("this API key was rotated; its overlap ended at {at}")
        }
        (_, _, Some(at)) => format!("this API key expired at {at}"),
        _ => "this API key is not live".to_string(),
    };
    Err(Problem::new(
        StatusCode::UNAUTHORIZED,
        "api-key-revoked",
        "API key revoked",
    )
    .with_detail(why))
}

/// The key's secret, opened with the master key (500 if it does not open: the
/// master key changed, or the row was tampered with).
pub fn open_secret(state: &AppState, key: &ApiKeyRow) -> Result<Vec<u8>, Problem> {
    state
        .master_key
        .open(&key.sealed_secret, &key.id.to_string())
        .ok_or_else(|| {
            tracing::error!(key_id = %key.id, "API key secret does not open under the master key");
            Problem::internal()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ApiKeyRow {
        ApiKeyRow {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            label: "bot".into(),
            key: "hmk_1".into(),
            sealed_secret: String::new(),
            scopes: "read,trade".into(),
            created_at: Utc::now(),
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
            replaced_by: None,
        }
    }

    #[test]
    fn key_status_and_liveness() {
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        assert_eq!(status(&row(), now), KeyStatus::Active);
        let rotating = ApiKeyRow {
            replaced_by: Some(Uuid::now_v7()),
            expires_at: Some(now + hour),
            ..row()
        };
        assert_eq!(status(&rotating, now), KeyStatus::RotatingOut);
        assert!(check_live(&rotating, now).is_ok());
        let rotated_out = check_live(&rotating, now + hour * 2).unwrap_err();
        assert_eq!(rotated_out.slug(), "api-key-revoked");
        assert!(rotated_out.to_string().contains("rotated"));
        let revoked = ApiKeyRow {
            revoked_at: Some(now),
            ..row()
        };
        assert!(check_live(&revoked, now)
            .unwrap_err()
            .to_string()
            .contains("revoked"));
        let expired = ApiKeyRow {
            expires_at: Some(now - hour),
            ..row()
        };
        assert!(check_live(&expired, now)
            .unwrap_err()
            .to_string()
            .contains("expired"));
    }

    #[test]
    fn scopes_round_trip_and_unknown_names_grant_nothing() {
        let set = ScopeSet::of(&[Scope::Trade, Scope::Read]);
        assert_eq!(scopes_text(set), "read,trade");
        assert_eq!(parse_scopes("read,trade"), set);
        assert_eq!(parse_scopes("admin"), ScopeSet::default());
    }
}
