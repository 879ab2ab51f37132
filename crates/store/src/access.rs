//! Identity and access (HM-4): sessions and refresh tokens, one-time email tokens,
//! API keys and their nonces, TOTP secrets, the audit trail and the email outbox.
//!
//! Every write that causes an email or an audit event takes them as arguments and
//! commits them in the same transaction ([`AccessWrite`]), so an event is never
//! recorded without its email, nor an email sent for an event that rolled back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::identity::UserRow;
use crate::StoreError;

/// A login session: the family of its refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Session id (the access token's `sid`).
    pub id: Uuid,
    /// Whose.
    pub user_id: Uuid,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked (logout, refresh-token reuse), if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A refresh token, stored as the hex SHA-256 of the opaque token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRow {
    /// Hex SHA-256 of the token (64 characters).
    pub token_hash: String,
    /// The session (family) it belongs to.
    pub session_id: Uuid,
    /// Issued.
    pub created_at: DateTime<Utc>,
    /// Stops working at.
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// It was current: it is now used and `next` replaces it.
    Rotated {
        /// The user.
        user_id: Uuid,
        /// The session.
        session_id: Uuid,
    },
    /// It had been used before: the whole session is now revoked.
    Reused {
        /// The user.
        user_id: Uuid,
        /// The revoked session.
        session_id: Uuid,
    },
    /// Unknown, expired, or its session is revoked.
    Invalid,
}

/// A one-time token sent by email, stored hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTokenRow {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Whose.
    pub user_id: Uuid,
    /// What it confirms (`verify_email`).
    pub purpose: String,
    /// Stops working at.
    pub expires_at: DateTime<Utc>,
}

/// An API key as stored (the secret sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    /// Key id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// The owner's label.
    pub label: String,
    /// The public identifier (the `HM-Key` header).
    pub key: String,
    /// The secret, sealed under the master key.
    pub sealed_secret: String,
    /// Comma-separated scopes.
    pub scopes: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Stops working at (also set by a rotation: now + overlap).
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked at.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last signed request (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The key that replaced this one in a rotation.
    pub replaced_by: Option<Uuid>,
}

/// A TOTP enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRow {
    /// Whose.
    pub user_id: Uuid,
    /// The secret, sealed under the master key.
    pub sealed_secret: String,
    /// Enrolled.
    pub created_at: DateTime<Utc>,
    /// Confirmed with a first code (only then is it required).
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last time step accepted.
    pub last_step: i64,
}

/// A security event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEventRow {
    /// Event id (UUID v7: sorts by time).
    pub id: Uuid,
    /// The user it concerns, when known.
    pub user_id: Option<Uuid>,
    /// What happened (`login_succeeded`, `api_key_created`, ...).
    pub kind: String,
    /// The client's address, when known.
    pub ip: Option<String>,
    /// JSON details.
    pub detail: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// An email to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEmail {
    /// Email id.
    pub id: Uuid,
    /// To.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body_text: String,
    /// HTML body.
    pub body_html: String,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// Written.
    pub created_at: DateTime<Utc>,
}

/// Where an email stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxStatus {
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The last error, if an attempt failed.
    pub last_error: Option<String>,
}

/// One unconditional insert, committed with others in one transaction.
#[derive(Debug, Clone)]
pub enum AccessWrite {
    /// A new user.
    User(UserRow),
    /// A new session.
    Session(SessionRow),
    /// A new refresh token.
    RefreshToken(RefreshTokenRow),
    /// A new email token.
    EmailToken(EmailTokenRow),
    /// A new API key.
    ApiKey(ApiKeyRow),
    /// A new (or replaced, unconfirmed) TOTP enrolment.
    Totp(TotpRow),
    /// An audit event.
    Audit(AuditEventRow),
    /// An email for the outbox.
    Email(OutboxEmail),
}

/// Reads and writes identity and access records.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Commits `writes` in one transaction. A user whose email is taken, or any
    /// other unique clash, fails the whole batch with [`StoreError::Conflict`].
    async fn write_access(&self, writes: &[AccessWrite]) -> Result<(), StoreError>;

    /// The user and the session an access token names, in one read.
    async fn user_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Option<(UserRow, SessionRow)>, StoreError>;

    /// Presents a refresh token: rotates it to `next` if current; revokes the
    /// whole session (and records `reuse_audit`, for the token's user) if it was
    /// used before. `next.session_id` is ignored: the new token joins the old one's.
    async fn use_refresh_token(
        &self,
        token_hash: &str,
        next: &RefreshTokenRow,
        reuse_audit: &AuditEventRow,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError>;

    /// Revokes a session of `user_id` (logout) with its audit event; `false` if
    /// there is no such live session.
    async fn revoke_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        audit: &AuditEventRow,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Uses an unexpired, unused email token: marks it used and the user's email
    /// verified, with `audit`. The user id, or `None` if the token is not valid.
    async fn use_email_token(
        &self,
        token_hash: &str,
        audit_kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError>;

    /// An API key and its owner, by the public key.
    async fn api_key_by_key(&self, key: &str) -> Result<Option<(ApiKeyRow, UserRow)>, StoreError>;

    /// An API key of `user_id`.
    async fn api_key(&self, user_id: Uuid, id: Uuid) -> Result<Option<ApiKeyRow>, StoreError>;

    /// The API keys of `user_id`, oldest first.
    async fn api_keys(&self, user_id: Uuid) -> Result<Vec<ApiKeyRow>, StoreError>;

    /// Replaces live key `old_id` of `user_id` with `writes` (the new key, audit,
    /// email): the old key stops at `old_expires_at`. `false` if the old key is
    /// not live.
    async fn rotate_api_key(
        &self,
        user_id: Uuid,
        old_id: Uuid,
        new_id: Uuid,
        old_expires_at: DateTime<Utc>,
        writes: &[AccessWrite],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Revokes key `id` of `user_id` with its audit event; `false` if it is not
    /// live (already revoked, or not theirs).
    async fn revoke_api_key(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &AuditEventRow,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records nonce `nonce` for `key_id` until `expires_at` and the key's last
    /// use; `false` if the nonce is already recorded and unexpired (a replay).
    async fn claim_nonce(
        &self,
        key_id: Uuid,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Deletes nonces that expired before `now`; how many.
    async fn purge_nonces(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The TOTP enrolment of `user_id`.
    async fn totp(&self, user_id: Uuid) -> Result<Option<TotpRow>, StoreError>;

    /// Accepts time step `step` for `user_id` if it is newer than the last one
    /// accepted, confirming the enrolment (with `audit`) if it was not yet.
    /// `false` if the step was already used (a replayed code).
    async fn accept_totp_step(
        &self,
        user_id: Uuid,
        step: i64,
        audit: Option<&AuditEventRow>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Audit events of `user_id`, newest first, older than `before` if given.
    async fn audit_events(
        &self,
        user_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<AuditEventRow>, StoreError>;

    /// Takes up to `limit` pending emails due at `now`, leasing them until
    /// `lease_until` so another worker does not take them too.
    async fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxEmail>, StoreError>;

    /// Records a delivery attempt: sent, or failed with `error` and retried at
    /// `retry_at` (or given up on when `retry_at` is `None`).
    async fn record_email_attempt(
        &self,
        id: Uuid,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Where an email stands.
    async fn email_status(&self, id: Uuid) -> Result<Option<OutboxStatus>, StoreError>;
}
