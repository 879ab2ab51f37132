//! Authentication and authorisation.
//!
//! The [`authenticate`] middleware runs before every handler. It looks at the request
//! once and, when credentials are present, verifies them and stores the resulting
//! [`Principal`] in the request's extensions:
//! - `Authorization: Bearer <jwt>` — a person's session ([`session`]);
//! - `HM-Key` + `HM-Timestamp` + `HM-Nonce` + `HM-Signature` — a program's signed
//!   request ([`signed`]); the body is read (bounded by the body limit), hashed, and
//!   put back for the handler.
//!
//! It also applies the rate limits ([`crate::ratelimit`]): per client IP before
//! anything else (so guessing credentials is throttled too), then per user once
//! the principal is known; every answer carries the tighter `RateLimit-*` headers.
//!
//! Credentials that are present but wrong answer 401 at once, with the slug that
//! says which check failed. No credentials at all is not an error here: public
//! routes need none, and protected routes ask for a [`Principal`] in their
//! arguments, which answers 401 `unauthorized` when there is none.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod principal;
pub mod session;
pub mod signed;
pub mod signing;
pub mod totp;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

pub use principal::{Credential, Principal, Role, Scope, ScopeSet};

use crate::problem::Problem;
use crate::state::AppState;

/// The header naming the API key of a signed request.
pub const HM_KEY: &str = "hm-key";

/// Verifies whatever credentials the request carries and records the principal.
pub async fn authenticate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    // Per IP first, before any credential is looked at.
    let mut standing = None;
    if let Some(peer) = req.peer_addr() {
        match state.rate_limits.check_ip(peer.ip()) {
            Ok(by_ip) => standing = Some(by_ip),
            Err(problem) => return Ok(req.error_response(problem).map_into_right_body()),
        }
    }
    let admitted = match identify(&state, &mut req).await {
        Ok(Some(principal)) => {
            state
                .rate_limits
                .check_principal(principal.user_id)
                .map(|by_user| {
                    standing = Some(standing.map_or(by_user, |s| s.tighter(by_user)));
                    req.extensions_mut().insert(principal);
                })
        }
        Ok(None) => Ok(()),
        Err(problem) => Err(problem),
    };
    let mut response = match admitted {
        Ok(()) => next.call(req).await?.map_into_left_body(),
        Err(problem) => req.error_response(problem).map_into_right_body(),
    };
    // A 429 already carries the standing of the limit that refused it.
    if let Some(standing) = standing.filter(|_| response.status().as_u16() != 429) {
        standing.write_headers(response.headers_mut());
    }
    Ok(response)
}

/// The principal the request's credentials prove, if it carries any.
async fn identify(
    state: &AppState,
    req: &mut ServiceRequest,
) -> Result<Option<Principal>, Problem> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| Principal::unauthorized("expected Authorization: Bearer <token>"))?;
        return session::authenticate_bearer(state, token.trim())
            .await
            .map(Some);
    }
    if req.headers().contains_key(HM_KEY) {
        return signed::authenticate_signed(state, req).await.map(Some);
    }
    Ok(None)
}
