//! Security events (HM-4 §7): what is recorded, and how a user reads their own.

use std::net::IpAddr;

use chrono::Utc;
use uuid::Uuid;

use hashmarket_store::access::AuditEventRow;

/// The kinds of security event, by wire name.
pub mod kind {
    /// A successful login.
    pub const LOGIN_SUCCEEDED: &str = "login_succeeded";
    /// A login with a wrong password (for a known account).
    pub const LOGIN_FAILED: &str = "login_failed";
    /// A session ended by its user.
    pub const LOGOUT: &str = "logout";
    /// An already used refresh token was presented: its session was revoked.
    pub const REFRESH_TOKEN_REUSED: &str = "refresh_token_reused";
    /// An account was created.
    pub const USER_CREATED: &str = "user_created";
    /// The email address was verified.
    pub const EMAIL_VERIFIED: &str = "email_verified";
    /// An API key was created.
    pub const API_KEY_CREATED: &str = "api_key_created";
    /// An API key was rotated (a new key replaces it after an overlap).
    pub const API_KEY_ROTATED: &str = "api_key_rotated";
    /// An API key was revoked.
    pub const API_KEY_REVOKED: &str = "api_key_revoked";
    /// TOTP enrolment started.
    pub const TOTP_ENROLLED: &str = "totp_enrolled";
    /// TOTP confirmed with a first code: now required where it applies.
    pub const TOTP_CONFIRMED: &str = "totp_confirmed";
}

/// An event of `kind` about `user_id`, from `ip`, with JSON `detail`.
pub fn event(
    kind: &str,
    user_id: Option<Uuid>,
    ip: Option<IpAddr>,
    detail: serde_json::Value,
) -> AuditEventRow {
    AuditEventRow {
        id: Uuid::now_v7(),
        user_id,
        kind: kind.to_string(),
        ip: ip.map(|ip| ip.to_string()),
        detail: detail.to_string(),
        created_at: Utc::now(),
    }
}
