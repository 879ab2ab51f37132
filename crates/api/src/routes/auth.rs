//! People's authentication (API.md "Authentication"): register, verify the email,
//! log in, refresh, log out, who am I; TOTP enrolment; the security audit trail.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use hashmarket_store::access::{AccessWrite, AuditEventRow, EmailTokenRow};

use crate::auth::accounts::{self, AccountError};
use crate::auth::session::{self, IssuedTokens};
use crate::auth::{audit, totp, Credential, Principal, Role};
use crate::crypto::{random_hex, sha256_hex};
use crate::mail::templates;
use crate::pagination::{Cursor, Page};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{client_ip, parse_json, store_error};

/// How long an email-verification token works.
pub const VERIFY_TOKEN_TTL_HOURS: i64 = 48;
/// Longest token accepted in a body (tokens are 64–68 characters).
const TOKEN_MAX_CHARS: usize = 128;

/// Registers the authentication routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/register").post(register))
        .service(web::resource("/auth/verify-email").post(verify_email))
        .service(web::resource("/auth/resend-verification").post(resend_verification))
        .service(web::resource("/auth/login").post(login))
        .service(web::resource("/auth/refresh").post(refresh))
        .service(web::resource("/auth/logout").post(logout))
        .service(web::resource("/auth/totp/enroll").post(totp_enroll))
        .service(web::resource("/auth/totp/confirm").post(totp_confirm))
        .service(web::resource("/audit-events").get(audit_events))
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

/// A verification token for `user_id` and the email that carries it.
fn verification_writes(state: &AppState, user_id: Uuid, email: &str) -> Vec<AccessWrite> {
    let token = random_hex(32);
    let row = EmailTokenRow {
        token_hash: sha256_hex(token.as_bytes()),
        user_id,
        purpose: "verify_email".into(),
        expires_at: Utc::now() + Duration::hours(VERIFY_TOKEN_TTL_HOURS),
    };
    let rendered = templates::verify_email(
        &state.mailer.config().public_url,
        &token,
        VERIFY_TOKEN_TTL_HOURS,
    );
    vec![
        AccessWrite::EmailToken(row),
        state.mailer.outbox(email, rendered),
    ]
}

/// Creates an account (unverified until the emailed token comes back). The user,
/// the token and the email are committed together.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = Credentials,
    responses((status = 201, body = Registered), (status = 409, body = crate::problem::ProblemWire), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input: Credentials = parse_json(&body)?;
    let user = accounts::new_user(&input.email, &input.password, Role::User, false)
        .await
        .map_err(account_problem)?;
    let mut with = verification_writes(&state, user.id, &user.email);
    with.push(AccessWrite::Audit(audit::event(
        audit::kind::USER_CREATED,
        Some(user.id),
        client_ip(&req),
        json!({ "by": "register" }),
    )));
    let user_id = accounts::insert_user(&*state.store, user, with)
        .await
        .map_err(account_problem)?;
    state.mailer.wake();
    Ok(HttpResponse::Created().json(Registered { user_id }))
}

/// A one-time token from an email.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// The token.
    pub token: String,
}

/// The email is verified.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Verified {
    /// Whose.
    pub user_id: Uuid,
    /// Always true.
    pub email_verified: bool,
}

/// Verifies the email with the emailed token (works once, for 48 hours).
#[utoipa::path(post, path = "/v1/auth/verify-email", tag = "auth", request_body = TokenInput,
    responses((status = 200, body = Verified), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input: TokenInput = parse_json(&body)?;
    let invalid = || {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "verification-token-invalid",
            "Verification token invalid",
        )
        .with_detail("unknown, expired or already used; ask for a new one")
        .with_field("token", "not a valid verification token")
    };
    let token = input.token.trim();
    if token.is_empty() || token.len() > TOKEN_MAX_CHARS {
        return Err(invalid());
    }
    let user_id = state
        .store
        .use_email_token(
            &sha256_hex(token.as_bytes()),
            audit::kind::EMAIL_VERIFIED,
            Utc::now(),
        )
        .await
        .map_err(store_error)?
        .ok_or_else(invalid)?;
    state.recent_sessions.forget_all();
    Ok(HttpResponse::Ok().json(Verified {
        user_id,
        email_verified: true,
    }))
}

/// Sends a new verification email (the old tokens keep working until they expire).
#[utoipa::path(post, path = "/v1/auth/resend-verification", tag = "auth",
    responses((status = 202), (status = 409, body = crate::problem::ProblemWire)))]
pub async fn resend_verification(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, Problem> {
    principal.require_session()?;
    if principal.email_verified {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "email-already-verified",
            "Email already verified",
        ));
    }
    let user = state
        .store
        .user(principal.user_id)
        .await
        .map_err(store_error)?
        .ok_or_else(Problem::not_found)?;
    let writes = verification_writes(&state, user.id, &user.email);
    state
        .store
        .write_access(&writes)
        .await
        .map_err(store_error)?;
    state.mailer.wake();
    Ok(HttpResponse::Accepted().finish())
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
    /// Exchange at `POST /v1/auth/refresh` for a new pair; works once.
    pub refresh_token: String,
}

impl From<IssuedTokens> for TokenPair {
    fn from(tokens: IssuedTokens) -> TokenPair {
        TokenPair {
            access_token: tokens.access_token,
            token_type: "Bearer",
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token,
        }
    }
}

/// Logs in: a short-lived access token and a refresh token. Works before the
/// email is verified. Attempts are throttled per account and per IP.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::problem::ProblemWire), (status = 429, body = crate::problem::ProblemWire)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input: Credentials = parse_json(&body)?;
    let refused = || Principal::unauthorized("wrong email or password");
    let email = accounts::normalise_email(&input.email).map_err(|_| refused())?;
    let ip = client_ip(&req);
    state.rate_limits.check_login(&email, ip)?;
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
    let Some(user) = user else {
        return Err(refused());
    };
    if !matches {
        let event = audit::event(audit::kind::LOGIN_FAILED, Some(user.id), ip, json!({}));
        state
            .store
            .write_access(&[AccessWrite::Audit(event)])
            .await
            .map_err(store_error)?;
        return Err(refused());
    }
    let tokens = session::start_session(&state, user.id, ip).await?;
    Ok(HttpResponse::Ok().json(TokenPair::from(tokens)))
}

/// An argon2id hash of a random password, checked against for unknown emails.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1Tj7rG0dX6m3yE3tqkM1mB0HcJ5Y4Qm8m6Wf7p2d9aQ";

/// A refresh token.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    /// The refresh token from login or the last refresh.
    pub refresh_token: String,
}

/// A new pair for a refresh token; the old one stops working. Presenting a used
/// one revokes the whole session (401 `refresh-token-reused`).
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshInput,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::problem::ProblemWire)))]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input: RefreshInput = parse_json(&body)?;
    if input.refresh_token.len() > TOKEN_MAX_CHARS {
        return Err(Problem::validation("refresh_token", "too long"));
    }
    let tokens = session::refresh(&state, input.refresh_token.trim(), client_ip(&req)).await?;
    Ok(HttpResponse::Ok().json(TokenPair::from(tokens)))
}

/// Ends the caller's session: its access and refresh tokens stop working.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = crate::problem::ProblemWire)))]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
) -> Result<HttpResponse, Problem> {
    let Credential::Session { session_id } = principal.credential else {
        return Err(principal.require_session().unwrap_err());
    };
    let event = audit::event(
        audit::kind::LOGOUT,
        Some(principal.user_id),
        client_ip(&req),
        json!({ "session_id": session_id }),
    );
    state
        .store
        .revoke_session(principal.user_id, session_id, &event, Utc::now())
        .await
        .map_err(store_error)?;
    state.recent_sessions.forget_all();
    Ok(HttpResponse::NoContent().finish())
}

/// A TOTP enrolment to add to an authenticator app.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TotpEnrolment {
    /// The secret, base32.
    pub secret: String,
    /// `otpauth://totp/...` for a QR code.
    pub otpauth_url: String,
}

/// Starts TOTP enrolment (again, while unconfirmed). Confirm with a first code.
#[utoipa::path(post, path = "/v1/auth/totp/enroll", tag = "auth",
    responses((status = 201, body = TotpEnrolment), (status = 409, body = crate::problem::ProblemWire)))]
pub async fn totp_enroll(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
) -> Result<HttpResponse, Problem> {
    principal.require_session()?;
    let user = state
        .store
        .user(principal.user_id)
        .await
        .map_err(store_error)?
        .ok_or_else(Problem::not_found)?;
    let enrolment = totp::enroll(&state, user.id, &user.email, client_ip(&req)).await?;
    Ok(HttpResponse::Created().json(TotpEnrolment {
        secret: enrolment.secret_base32,
        otpauth_url: enrolment.otpauth_url,
    }))
}

/// A TOTP code.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// The current 6-digit code.
    pub code: String,
}

/// TOTP is on.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TotpEnabled {
    /// Always true.
    pub enabled: bool,
}

/// Confirms enrolment with a first code; from then on TOTP is required where a
/// second factor applies (withdrawal confirmation).
#[utoipa::path(post, path = "/v1/auth/totp/confirm", tag = "auth", request_body = TotpCode,
    responses((status = 200, body = TotpEnabled), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn totp_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_session()?;
    let input: TotpCode = parse_json(&body)?;
    totp::verify_code(&state, principal.user_id, &input.code, client_ip(&req)).await?;
    Ok(HttpResponse::Ok().json(TotpEnabled { enabled: true }))
}

/// One security event.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEventView {
    /// Event id.
    pub id: Uuid,
    /// What happened.
    pub kind: String,
    /// The client's address, when known.
    pub ip: Option<String>,
    /// Details.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// When.
    pub created_at: chrono::DateTime<Utc>,
}

impl From<AuditEventRow> for AuditEventView {
    fn from(row: AuditEventRow) -> AuditEventView {
        AuditEventView {
            id: row.id,
            kind: row.kind,
            ip: row.ip,
            detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null),
            created_at: row.created_at,
        }
    }
}

/// Paging.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// From `next_cursor`.
    pub cursor: Option<String>,
    /// 1–500 (default 100).
    pub limit: Option<u32>,
}

/// The caller's own security events, newest first.
#[utoipa::path(get, path = "/v1/audit-events", tag = "auth", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEventView>)))]
pub async fn audit_events(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(crate::auth::Scope::Read)?;
    let limit = Page::<()>::limit(query.limit)?;
    let before = Cursor::decode_id(query.cursor.as_deref())?;
    let rows = state
        .store
        .audit_events(principal.user_id, before, limit + 1)
        .await
        .map_err(store_error)?;
    let page = Page::from_rows(rows, limit, |r| Cursor::encode_id(r.id));
    Ok(HttpResponse::Ok().json(page.map(AuditEventView::from)))
}

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
    paths(
        register,
        verify_email,
        resend_verification,
        login,
        refresh,
        logout,
        totp_enroll,
        totp_confirm,
        audit_events,
        me
    ),
    components(schemas(
        Credentials,
        Registered,
        TokenInput,
        Verified,
        TokenPair,
        RefreshInput,
        TotpEnrolment,
        TotpCode,
        TotpEnabled,
        AuditEventView,
        Me
    ))
)]
pub struct ApiDoc;
