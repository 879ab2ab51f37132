//! Accounts: email and password rules, argon2id hashing, creating and checking users.
//! Used by `POST /v1/auth/register`, `POST /v1/auth/login` and `hashmarket user create`.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use uuid::Uuid;

use hashmarket_store::access::AccessWrite;
use hashmarket_store::identity::UserRow;
use hashmarket_store::{Store, StoreError};

use super::{audit, Role};

/// Shortest password accepted, in characters.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// Longest password accepted, in characters (bounds the hashing work).
pub const PASSWORD_MAX_CHARS: usize = 128;
/// Longest email, in bytes (RFC 5321).
pub const EMAIL_MAX_BYTES: usize = 254;

/// Why an account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The email is not an address.
    #[error("{0}")]
    BadEmail(&'static str),
    /// The password breaks a rule.
    #[error("{0}")]
    BadPassword(String),
    /// Someone has this email.
    #[error("an account with this email exists")]
    EmailTaken,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Trims and lower-cases an email and checks its shape.
pub fn normalise_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    if email.len() > EMAIL_MAX_BYTES {
        return Err(AccountError::BadEmail("at most 254 characters"));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(AccountError::BadEmail("expected name@domain"));
    };
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    if !ok {
        return Err(AccountError::BadEmail("expected name@domain"));
    }
    Ok(email)
}

/// The password rules: 12–128 characters, not one character repeated, not the email.
pub fn check_password(password: &str, email: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
        return Err(AccountError::BadPassword(format!(
            "must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"
        )));
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Err(AccountError::BadPassword(
            "must not be one character repeated".into(),
        ));
    }
    if password.trim().eq_ignore_ascii_case(email) {
        return Err(AccountError::BadPassword("must not be your email".into()));
    }
    Ok(())
}

/// argon2id (default parameters) with a random salt, off the async threads.
pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2id hashing of a bounded password cannot fail")
            .to_string()
    })
    .await
    .expect("the hashing task does not panic")
}

/// Whether `password` matches a stored hash (constant time inside argon2).
pub async fn password_matches(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A new user row after checking email and password (the password hashed).
pub async fn new_user(
    email: &str,
    password: &str,
    role: Role,
    verified: bool,
) -> Result<UserRow, AccountError> {
    let email = normalise_email(email)?;
    check_password(password, &email)?;
    let now = Utc::now();
    Ok(UserRow {
        id: Uuid::now_v7(),
        email,
        password_hash: hash_password(password.to_string()).await,
        role: role.as_str().to_string(),
        email_verified_at: verified.then_some(now),
        created_at: now,
    })
}

/// Inserts `user` with `with` (its audit event, its verification email, ...) in
/// one transaction; [`AccountError::EmailTaken`] if the email is in use.
pub async fn insert_user(
    store: &dyn Store,
    user: UserRow,
    with: Vec<AccessWrite>,
) -> Result<Uuid, AccountError> {
    let id = user.id;
    let mut writes = vec![AccessWrite::User(user)];
    writes.extend(with);
    match store.write_access(&writes).await {
        Ok(()) => Ok(id),
        Err(StoreError::Conflict(_)) => Err(AccountError::EmailTaken),
        Err(other) => Err(other.into()),
    }
}

/// Creates a user after checking email and password (`hashmarket user create`).
pub async fn create_user(
    store: &dyn Store,
    email: &str,
    password: &str,
    role: Role,
    verified: bool,
) -> Result<Uuid, AccountError> {
    let user = new_user(email, password, role, verified).await?;
    let event = audit::event(
        audit::kind::USER_CREATED,
        Some(user.id),
        None,
        serde_json::json!({ "by": "cli", "role": role.as_str() }),
    );
    insert_user(store, user, vec![AccessWrite::Audit(event)]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Alice@Example.COM ").unwrap(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@example",
            "a b@example.com",
            "alice@.com",
            "a@b@c.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_rules() {
        assert!(check_password("correct horse battery", "a@b.co").is_ok());
        assert!(check_password("short", "a@b.co").is_err());
        assert!(check_password("aaaaaaaaaaaaaaaa", "a@b.co").is_err());
        assert!(check_password(&"x1".repeat(65), "a@b.co").is_err());
        assert!(check_password("alice@example.com", "alice@example.com").is_err());
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let a = hash_password("correct horse battery".into()).await;
        let b = hash_password("correct horse battery".into()).await;
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery".into(), a.clone()).await);
        assert!(!password_matches("wrong horse battery".into(), a).await);
        assert!(!password_matches("x".into(), "not a hash".into()).await);
    }
}
