//! People's accounts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// User id.
    pub id: Uuid,
    /// Normalised email (trimmed, lower case), unique.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// `user`, `operator` or `finance`.
    pub role: String,
    /// When the email was verified, if it was.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Reads and writes users.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Inserts a user; `Ok(false)` if the email is taken.
    async fn insert_user(&self, user: &UserRow) -> Result<bool, StoreError>;
    /// A user by id.
    async fn user(&self, id: Uuid) -> Result<Option<UserRow>, StoreError>;
    /// A user by normalised email.
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError>;
}
