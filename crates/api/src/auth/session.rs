//! People's sessions: short-lived JWT access tokens.
//!
//! Tokens are HS256 only — the algorithm is pinned in the validation, so `alg: none`
//! and algorithm switching are rejected — with issuer, audience and expiry checked.
//! The token names the user; role and email verification are read from the user's
//! row on every request, so a change takes effect at once rather than at the next
//! token. The signing secret comes from `HASHMARKET_JWT_SECRET`, or is generated once
//! and kept in the database's settings, so every node and restart agrees.

use chrono::Utc;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_store::identity::UserRow;
use hashmarket_store::{Store, StoreError};

use super::{Credential, Principal, Role};
use crate::problem::Problem;
use crate::state::AppState;

/// Who issues tokens (`iss`).
pub const ISSUER: &str = "hashmarket";
/// Who tokens are for (`aud`).
pub const AUDIENCE: &str = "hashmarket-api";
/// How long an access token lives.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
/// The settings key of a generated signing secret.
pub const JWT_SECRET_SETTING: &str = "jwt_secret";

/// An access token's claims.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// The session id.
    pub sid: Uuid,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (s since the epoch).
    pub iat: i64,
    /// Expires at (s since the epoch).
    pub exp: i64,
}

/// Signing and verifying keys.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl SessionKeys {
    /// Keys from a secret of at least 32 bytes.
    pub fn new(secret: &[u8]) -> SessionKeys {
        assert!(secret.len() >= 32, "a JWT secret has at least 32 bytes");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        SessionKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The configured secret, or the one generated earlier, or a new one.
    pub async fn load(
        store: &dyn Store,
        configured: Option<&str>,
    ) -> Result<SessionKeys, StoreError> {
        if let Some(secret) = configured.filter(|s| s.len() >= 32) {
            return Ok(SessionKeys::new(secret.as_bytes()));
        }
        let fresh: [u8; 32] = rand::random();
        let stored = store
            .put_setting_if_absent(JWT_SECRET_SETTING, &hex::encode(fresh))
            .await?;
        let secret = hex::decode(&stored).map_err(|e| StoreError::Corrupt {
            column: "settings.jwt_secret",
            detail: e.to_string(),
        })?;
        Ok(SessionKeys::new(&secret))
    }

    /// A new access token for `user_id`: (token, seconds it lives).
    pub fn issue(&self, user_id: Uuid) -> (String, i64) {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            sid: Uuid::now_v7(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + ACCESS_TOKEN_TTL_SECS,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail");
        (token, ACCESS_TOKEN_TTL_SECS)
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// The principal a user row stands for.
pub fn principal_of(user: &UserRow, credential: Credential) -> Principal {
    Principal {
        user_id: user.id,
        role: Role::parse(&user.role).unwrap_or(Role::User),
        email_verified: user.email_verified_at.is_some(),
        credential,
    }
}

/// Verifies a bearer access token and returns whose it is.
pub async fn authenticate_bearer(state: &AppState, token: &str) -> Result<Principal, Problem> {
    let claims = state
        .sessions
        .verify(token)
        .ok_or_else(|| Principal::unauthorized("the access token is invalid or expired"))?;
    let user = state
        .store
        .user(claims.sub)
        .await
        .map_err(crate::values::store_error)?
        .ok_or_else(|| Principal::unauthorized("the access token's user no longer exists"))?;
    Ok(principal_of(
        &user,
        Credential::Session {
            session_id: claims.sid,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, Header};

    fn keys() -> SessionKeys {
        SessionKeys::new(&[7u8; 32])
    }

    #[test]
    fn a_fresh_token_verifies() {
        let user = Uuid::now_v7();
        let (token, ttl) = keys().issue(user);
        assert_eq!(ttl, ACCESS_TOKEN_TTL_SECS);
        assert_eq!(keys().verify(&token).unwrap().sub, user);
    }

    fn forged(header: Header, secret: &[u8], tweak: impl FnOnce(&mut Claims)) -> String {
        let now = Utc::now().timestamp();
        let mut claims = Claims {
            sub: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + 60,
        };
        tweak(&mut claims);
        encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn expired_tampered_and_switched_tokens_fail() {
        let keys = keys();
        assert!(keys
            .verify(&forged(Header::new(Algorithm::HS256), &[7u8; 32], |c| c
                .exp -=
                120))
            .is_none());
        assert!(keys
            .verify(&forged(Header::new(Algorithm::HS256), &[8u8; 32], |_| {}))
            .is_none());
        assert!(keys
            .verify(&forged(Header::new(Algorithm::HS512), &[7u8; 32], |_| {}))
            .is_none());
        assert!(keys
            .verify(&forged(Header::new(Algorithm::HS256), &[7u8; 32], |c| c
                .aud =
                "x".into()))
            .is_none());
        assert!(keys
            .verify(&forged(Header::new(Algorithm::HS256), &[7u8; 32], |c| c
                .iss =
                "x".into()))
            .is_none());
        let (token, _) = keys.issue(Uuid::now_v7());
        let mut parts: Vec<&str> = token.split('.').collect();
        // alg: none, no signature.
        let none = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
        parts[0] = &none;
        assert!(keys
            .verify(&format!("{}.{}.", parts[0], parts[1]))
            .is_none());
        assert!(keys.verify("not.a.token").is_none());
    }

    fn base64_url(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}
