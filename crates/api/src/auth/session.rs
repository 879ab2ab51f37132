//! People's sessions: short-lived JWT access tokens and rotating refresh tokens.
//!
//! A login starts a *session* (a row; the token's `sid`). Its refresh tokens are
//! opaque 256-bit random values, stored as their SHA-256, each usable once: using
//! one returns a new pair and marks it used. Presenting a used one again means it
//! was copied — the whole session is revoked (every refresh and access token of
//! it stops working) and the event is audited. Logout revokes the session too.
//!
//! Tokens are HS256 only — the algorithm is pinned in the validation, so `alg: none`
//! and algorithm switching are rejected — with issuer, audience and expiry checked.
//! The token names the user; role and email verification are read from the user's
//! row on every request, so a change takes effect at once rather than at the next
//! token. The signing secret comes from `HASHMARKET_JWT_SECRET`, or is generated once
//! and kept in the database's settings, so every node and restart agrees.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::http::StatusCode;
use chrono::{Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_store::access::{AccessWrite, RefreshOutcome, RefreshTokenRow, SessionRow};
use hashmarket_store::identity::UserRow;
use hashmarket_store::{Store, StoreError};
use serde_json::json;

use super::{audit, Credential, Principal, Role};
use crate::crypto::{random_hex, sha256_hex};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::store_error;

/// Who issues tokens (`iss`).
pub const ISSUER: &str = "hashmarket";
/// Who tokens are for (`aud`).
pub const AUDIENCE: &str = "hashmarket-api";
/// How long an access token lives.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
/// How long a refresh token lives.
pub const REFRESH_TOKEN_TTL_DAYS: i64 = 30;
/// Random bytes in a refresh token.
pub const REFRESH_TOKEN_BYTES: usize = 32;
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

    /// A new access token for `user_id` in session `session_id`: (token, seconds it lives).
    pub fn issue(&self, user_id: Uuid, session_id: Uuid) -> (String, i64) {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            sid: session_id,
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

/// What a login or a refresh hands out.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// The JWT access token.
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: i64,
    /// The opaque refresh token (shown once).
    pub refresh_token: String,
}

/// A fresh refresh token and its row in `session_id`.
fn new_refresh_token(session_id: Uuid) -> (String, RefreshTokenRow) {
    let token = format!("hmr_{}", random_hex(REFRESH_TOKEN_BYTES));
    let now = Utc::now();
    let row = RefreshTokenRow {
        token_hash: sha256_hex(token.as_bytes()),
        session_id,
        created_at: now,
        expires_at: now + Duration::days(REFRESH_TOKEN_TTL_DAYS),
    };
    (token, row)
}

/// Starts a session for `user_id` (after a good password): the session, its first
/// refresh token and the `login_succeeded` event in one transaction.
pub async fn start_session(
    state: &AppState,
    user_id: Uuid,
    ip: Option<IpAddr>,
) -> Result<IssuedTokens, Problem> {
    let session = SessionRow {
        id: Uuid::now_v7(),
        user_id,
        created_at: Utc::now(),
        revoked_at: None,
    };
    let (refresh_token, row) = new_refresh_token(session.id);
    let audit = audit::event(
        audit::kind::LOGIN_SUCCEEDED,
        Some(user_id),
        ip,
        json!({ "session_id": session.id }),
    );
    let session_id = session.id;
    state
        .store
        .write_access(&[
            AccessWrite::Session(session),
            AccessWrite::RefreshToken(row),
            AccessWrite::Audit(audit),
        ])
        .await
        .map_err(store_error)?;
    let (access_token, expires_in) = state.sessions.issue(user_id, session_id);
    Ok(IssuedTokens {
        access_token,
        expires_in,
        refresh_token,
    })
}

/// 401 `refresh-token-invalid`.
fn refresh_invalid(detail: &str) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "refresh-token-invalid",
        "Refresh token invalid",
    )
    .with_detail(detail)
}

/// Exchanges a refresh token for a new pair; a reused token revokes its session.
pub async fn refresh(
    state: &AppState,
    refresh_token: &str,
    ip: Option<IpAddr>,
) -> Result<IssuedTokens, Problem> {
    let token_hash = sha256_hex(refresh_token.as_bytes());
    // The session is filled in by the store from the presented token.
    let (next_token, next_row) = new_refresh_token(Uuid::nil());
    let reuse = audit::event(
        audit::kind::REFRESH_TOKEN_REUSED,
        None,
        ip,
        json!({ "token_hash_prefix": &token_hash[..12] }),
    );
    let outcome = state
        .store
        .use_refresh_token(&token_hash, &next_row, &reuse, Utc::now())
        .await
        .map_err(store_error)?;
    match outcome {
        RefreshOutcome::Rotated {
            user_id,
            session_id,
        } => {
            let (access_token, expires_in) = state.sessions.issue(user_id, session_id);
            Ok(IssuedTokens {
                access_token,
                expires_in,
                refresh_token: next_token,
            })
        }
        RefreshOutcome::Reused { session_id, .. } => {
            state.recent_sessions.forget_all();
            tracing::warn!(%session_id, "refresh token reused: session revoked");
            Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "refresh-token-reused",
                "Refresh token reused",
            )
            .with_detail(
                "this refresh token was already used; the session is revoked — log in again",
            ))
        }
        RefreshOutcome::Invalid => Err(refresh_invalid(
            "unknown, expired, or its session has ended",
        )),
    }
}

/// Bearer principals read in the last [`RecentSessions::TTL`], by session: a
/// client sending many requests with one access token has its user and session
/// read once a second instead of once per request (on the order path that read was
/// a third of the database's work).
///
/// What this process changes — logout, a reused refresh token revoking a session,
/// an email verified — forgets every entry at once, so it applies to the next
/// request here. A change made by another node (or the CLI) applies here within
/// the TTL. A generation number keeps a read that started before a change from
/// being remembered after it.
#[derive(Debug, Default)]
pub struct RecentSessions {
    inner: Mutex<RecentInner>,
}

#[derive(Debug, Default)]
struct RecentInner {
    generation: u64,
    by_session: HashMap<Uuid, (Instant, Principal)>,
}

impl RecentSessions {
    /// How long a read is trusted.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(1);
    /// Most sessions remembered; when full, everything is forgotten.
    pub const CAPACITY: usize = 100_000;

    fn lock(&self) -> std::sync::MutexGuard<'_, RecentInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The principal of a live `session_id` read less than a TTL ago, and the
    /// generation to [`remember`](Self::remember) a new read under.
    fn recall(&self, session_id: Uuid, now: Instant) -> Result<Principal, u64> {
        let inner = self.lock();
        match inner.by_session.get(&session_id) {
            Some((read_at, principal)) if now.duration_since(*read_at) < Self::TTL => {
                Ok(principal.clone())
            }
            _ => Err(inner.generation),
        }
    }

    /// Remembers a read made at `generation` (unless something changed since).
    fn remember(&self, session_id: Uuid, principal: &Principal, read_at: Instant, generation: u64) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.by_session.len() >= Self::CAPACITY {
            inner.by_session.clear();
        }
        inner
            .by_session
            .insert(session_id, (read_at, principal.clone()));
    }

    /// Forgets everything: a session or user changed.
    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.by_session.clear();
    }
}

/// Verifies a bearer access token and returns whose it is.
pub async fn authenticate_bearer(state: &AppState, token: &str) -> Result<Principal, Problem> {
    let claims = state
        .sessions
        .verify(token)
        .ok_or_else(|| Principal::unauthorized("the access token is invalid or expired"))?;
    let read_at = Instant::now();
    let generation = match state.recent_sessions.recall(claims.sid, read_at) {
        Ok(principal) if principal.user_id == claims.sub => return Ok(principal),
        Ok(_) => {
            return Err(Principal::unauthorized(
                "the access token's session does not exist",
            ))
        }
        Err(generation) => generation,
    };
    let (user, session) = state
        .store
        .user_session(claims.sub, claims.sid)
        .await
        .map_err(store_error)?
        .ok_or_else(|| Principal::unauthorized("the access token's session does not exist"))?;
    if session.revoked_at.is_some() {
        return Err(Principal::unauthorized(
            "the session has ended (logout or a reused refresh token)",
        ));
    }
    let principal = principal_of(
        &user,
        Credential::Session {
            session_id: claims.sid,
        },
    );
    state
        .recent_sessions
        .remember(claims.sid, &principal, read_at, generation);
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, Header};

    fn keys() -> SessionKeys {
        SessionKeys::new(&[7u8; 32])
    }

    fn principal(user_id: Uuid, session_id: Uuid) -> Principal {
        Principal {
            user_id,
            role: Role::User,
            email_verified: true,
            credential: Credential::Session { session_id },
        }
    }

    #[test]
    fn recent_sessions_expire_and_forget() {
        let recent = RecentSessions::default();
        let (user, sid) = (Uuid::now_v7(), Uuid::now_v7());
        let t0 = Instant::now();
        let generation = recent.recall(sid, t0).unwrap_err();
        recent.remember(sid, &principal(user, sid), t0, generation);
        assert_eq!(recent.recall(sid, t0).unwrap().user_id, user);
        // Past the TTL the database is read again.
        assert!(recent.recall(sid, t0 + RecentSessions::TTL).is_err());
        // A read that started before a change is not remembered after it.
        let before = recent.recall(Uuid::now_v7(), t0).unwrap_err();
        recent.forget_all();
        assert!(recent.recall(sid, t0).is_err(), "forgotten");
        recent.remember(sid, &principal(user, sid), t0, before);
        assert!(recent.recall(sid, t0).is_err(), "a stale read stays out");
    }

    #[test]
    fn a_fresh_token_verifies() {
        let user = Uuid::now_v7();
        let (token, ttl) = keys().issue(user, Uuid::now_v7());
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
        let (token, _) = keys.issue(Uuid::now_v7(), Uuid::now_v7());
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
