//! People's authentication (API.md "Authentication"): register, log in, who am I.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::accounts::{self, AccountError};
use crate::auth::{Principal, Role};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{parse_json, store_error};

/// Registers the authentication routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/register").post(register))
        .service(web::resource("/auth/login").post(login))
        .service(web::resource("/me").get(me));
}

/// Email and password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Email address (normalised: trimmed, lower case).
    pub email: String,
    /// 12–128 characters, not one character repeated, not the email.
    pub password: String,
}

/// A new account.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Registered {
    /// The user's id.
    pub user_id: Uuid,
}

fn account_problem(err: AccountError) -> Problem {
    match err {
        AccountError::BadEmail(why) => Problem::validation("email", why),
        AccountError::BadPassword(why) => Problem::validation("password", why),
        AccountError::EmailTaken => {
            Problem::new(StatusCode::CONFLICT, "email-taken", "Email taken")
                .with_detail("an account with this email exists; log in instead")
        }
        AccountError::Store(err) => store_error(err),
    }
}

/// Creates an account (unverified until the email is confirmed).
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = Credentials,
    responses((status = 201, body = Registered), (status = 409, body = crate::problem::ProblemWire), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn register(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input: Credentials = parse_json(&body)?;
    let user_id = accounts::create_user(
        &*state.store,
        &input.email,
        &input.password,
        Role::User,
        false,
    )
    .await
    .map_err(account_problem)?;
    Ok(HttpResponse::Created().json(Registered { user_id }))
}

/// A session's tokens.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: i64,
}

/// Logs in: a short-lived access token. Works before the email is verified.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::problem::ProblemWire)))]
pub async fn login(state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, Problem> {
    let input: Credentials = parse_json(&body)?;
    let refused = || Principal::unauthorized("wrong email or password");
    let email = accounts::normalise_email(&input.email).map_err(|_| refused())?;
    let user = state
        .store
        .user_by_email(&email)
        .await
        .map_err(store_error)?;
    // Hash even for unknown emails, so timing does not tell which emails exist.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let matches = accounts::password_matches(input.password, hash).await;
    let user = user.filter(|_| matches).ok_or_else(refused)?;
    let (access_token, expires_in) = state.sessions.issue(user.id);
    Ok(HttpResponse::Ok().json(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in,
    }))
}

/// An argon2id hash of a random password, checked against for unknown emails.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1Tj7rG0dX6m3yE3tqkM1mB0HcJ5Y4Qm8m6Wf7p2d9aQ";

/// Who the caller is.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    /// User id.
    pub user_id: Uuid,
    /// Role.
    pub role: Role,
    /// Whether the email is verified.
    pub email_verified: bool,
}

/// The authenticated caller.
#[utoipa::path(get, path = "/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = crate::problem::ProblemWire)))]
pub async fn me(principal: Principal) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        user_id: principal.user_id,
        role: principal.role,
        email_verified: principal.email_verified,
    })
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(register, login, me),
    components(schemas(Credentials, Registered, TokenPair, Me))
)]
pub struct ApiDoc;
