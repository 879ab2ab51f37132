//! API keys (API.md "Authentication", programs): create, list, rotate with
//! overlap, revoke. Only a person's session may manage keys, never a key itself.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use hashmarket_store::access::{AccessWrite, ApiKeyRow};

use crate::auth::api_keys::{
    self, KeyStatus, NewKey, EXPIRY_MAX_DAYS, LABEL_MAX_CHARS, LIVE_KEYS_MAX, OVERLAP_MAX_SECS,
};
use crate::auth::{audit, Principal, Scope, ScopeSet};
use crate::mail::templates;
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{client_ip, parse_json, store_error};

/// Registers the routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api-keys").post(create).get(list))
        .service(web::resource("/api-keys/{id}").delete(revoke))
        .service(web::resource("/api-keys/{id}/rotate").post(rotate));
}

/// A new key's terms.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// 1–100 characters.
    pub label: String,
    /// Any of `read`, `trade`, `withdraw`; at least one.
    pub scopes: Vec<String>,
    /// When it stops working (in the future, at most 366 days ahead).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key with its secret, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    /// Key id (for rotate and revoke).
    pub id: Uuid,
    /// Send as `HM-Key`.
    pub key: String,
    /// The HMAC secret: shown this once, never again.
    pub secret: String,
    /// Label.
    pub label: String,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Stops working at.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key without its secret.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyView {
    /// Key id.
    pub id: Uuid,
    /// The public key.
    pub key: String,
    /// Label.
    pub label: String,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// Where it stands.
    pub status: KeyStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Stops working at.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked at.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last signed request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The key that replaced it in a rotation.
    pub replaced_by: Option<Uuid>,
}

fn view(row: ApiKeyRow, now: DateTime<Utc>) -> KeyView {
    KeyView {
        status: api_keys::status(&row, now),
        scopes: api_keys::parse_scopes(&row.scopes).to_vec(),
        id: row.id,
        key: row.key,
        label: row.label,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
        replaced_by: row.replaced_by,
    }
}

fn created(new: NewKey) -> CreatedKey {
    CreatedKey {
        scopes: api_keys::parse_scopes(&new.row.scopes).to_vec(),
        id: new.row.id,
        key: new.row.key,
        secret: new.secret,
        label: new.row.label,
        created_at: new.row.created_at,
        expires_at: new.row.expires_at,
    }
}

/// Checks a create request: every problem at once, as field errors.
fn validate(input: &CreateKey, now: DateTime<Utc>) -> Result<ScopeSet, Problem> {
    let mut problem: Option<Problem> = None;
    let mut fail = |field: &str, message: String| {
        problem = Some(match problem.take() {
            Some(p) => p.with_field(field, message),
            None => Problem::validation(field, message),
        });
    };
    let label_chars = input.label.trim().chars().count();
    if !(1..=LABEL_MAX_CHARS).contains(&label_chars) || input.label.chars().any(char::is_control) {
        fail(
            "label",
            format!("1–{LABEL_MAX_CHARS} characters, no control characters"),
        );
    }
    let mut scopes = Vec::new();
    for (i, name) in input.scopes.iter().enumerate() {
        match Scope::parse(name) {
            Some(scope) => scopes.push(scope),
            None => fail(
                &format!("scopes[{i}]"),
                "expected read, trade or withdraw".into(),
            ),
        }
    }
    if input.scopes.is_empty() || input.scopes.len() > 3 {
        fail("scopes", "one to three of read, trade, withdraw".into());
    }
    if let Some(expires_at) = input.expires_at {
        if expires_at <= now || expires_at > now + Duration::days(EXPIRY_MAX_DAYS) {
            fail(
                "expires_at",
                format!("in the future and at most {EXPIRY_MAX_DAYS} days ahead"),
            );
        }
    }
    match problem {
        Some(p) => Err(p),
        None => Ok(ScopeSet::of(&scopes)),
    }
}

/// The audit event and the "new API key" email of a created key.
fn key_created_writes(
    state: &AppState,
    email: &str,
    new: &NewKey,
    rotated_from: Option<&ApiKeyRow>,
    ip: Option<std::net::IpAddr>,
) -> Vec<AccessWrite> {
    let (kind, detail) = match rotated_from {
        Some(old) => (
            audit::kind::API_KEY_ROTATED,
            json!({ "old_key_id": old.id, "old_key": old.key, "new_key_id": new.row.id,
                "new_key": new.row.key, "old_key_expires_at": old.expires_at }),
        ),
        None => (
            audit::kind::API_KEY_CREATED,
            json!({ "key_id": new.row.id, "key": new.row.key, "scopes": new.row.scopes }),
        ),
    };
    let rendered = templates::api_key_created(
        &new.row.label,
        &new.row.key,
        &new.row.scopes,
        new.row.created_at,
        rotated_from.map(|old| old.key.as_str()),
    );
    vec![
        AccessWrite::ApiKey(new.row.clone()),
        AccessWrite::Audit(audit::event(kind, Some(new.row.user_id), ip, detail)),
        state.mailer.outbox(email, rendered),
    ]
}

async fn owner_email(state: &AppState, principal: &Principal) -> Result<String, Problem> {
    Ok(state
        .store
        .user(principal.user_id)
        .await
        .map_err(store_error)?
        .ok_or_else(Problem::not_found)?
        .email)
}

/// Creates a key; its secret is in this response only.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = CreateKey,
    responses((status = 201, body = CreatedKey), (status = 403, body = crate::problem::ProblemWire), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_session()?;
    let input: CreateKey = parse_json(&body)?;
    let now = Utc::now();
    let scopes = validate(&input, now)?;
    let live = state
        .store
        .api_keys(principal.user_id)
        .await
        .map_err(store_error)?
        .iter()
        .filter(|k| {
            matches!(
                api_keys::status(k, now),
                KeyStatus::Active | KeyStatus::RotatingOut
            )
        })
        .count();
    if live >= LIVE_KEYS_MAX {
        return Err(
            Problem::new(StatusCode::CONFLICT, "api-key-limit", "Too many API keys").with_detail(
                format!("at most {LIVE_KEYS_MAX} live keys per account; revoke one first"),
            ),
        );
    }
    let email = owner_email(&state, &principal).await?;
    let new = api_keys::make_key(
        &state,
        principal.user_id,
        input.label.trim(),
        scopes,
        input.expires_at,
    );
    let writes = key_created_writes(&state, &email, &new, None, client_ip(&req));
    state
        .store
        .write_access(&writes)
        .await
        .map_err(store_error)?;
    state.mailer.wake();
    Ok(HttpResponse::Created().json(created(new)))
}

/// The caller's keys, without secrets, oldest first.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys",
    responses((status = 200, body = Vec<KeyView>)))]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, Problem> {
    principal.require_session()?;
    let now = Utc::now();
    let rows = state
        .store
        .api_keys(principal.user_id)
        .await
        .map_err(store_error)?;
    let views: Vec<KeyView> = rows.into_iter().map(|r| view(r, now)).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// How long the old key keeps working.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// 0–604800 (7 days).
    pub overlap_seconds: i64,
}

fn key_id(path: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(path).map_err(|_| Problem::not_found().with_detail("no such API key"))
}

/// A new key with the old one's label, scopes and expiry; the old one keeps
/// working until now + overlap.
#[utoipa::path(post, path = "/v1/api-keys/{id}/rotate", tag = "api-keys", request_body = RotateKey,
    responses((status = 201, body = CreatedKey), (status = 404, body = crate::problem::ProblemWire), (status = 409, body = crate::problem::ProblemWire)))]
pub async fn rotate(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_session()?;
    let id = key_id(&path)?;
    let input: RotateKey = parse_json(&body)?;
    if !(0..=OVERLAP_MAX_SECS).contains(&input.overlap_seconds) {
        return Err(Problem::validation(
            "overlap_seconds",
            format!("0 to {OVERLAP_MAX_SECS}"),
        ));
    }
    let now = Utc::now();
    let old = state
        .store
        .api_key(principal.user_id, id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| Problem::not_found().with_detail("no such API key"))?;
    let not_live = || {
        Problem::new(StatusCode::CONFLICT, "api-key-not-live", "API key not live").with_detail(
            "only an active key can be rotated (this one is revoked, expired or already rotated)",
        )
    };
    if api_keys::status(&old, now) != KeyStatus::Active {
        return Err(not_live());
    }
    let old_expires_at = now + Duration::seconds(input.overlap_seconds);
    let new = api_keys::make_key(
        &state,
        principal.user_id,
        &old.label,
        api_keys::parse_scopes(&old.scopes),
        old.expires_at,
    );
    let email = owner_email(&state, &principal).await?;
    let old_after = ApiKeyRow {
        expires_at: Some(
            old.expires_at
                .map_or(old_expires_at, |t| t.min(old_expires_at)),
        ),
        ..old.clone()
    };
    let writes = key_created_writes(&state, &email, &new, Some(&old_after), client_ip(&req));
    let rotated = state
        .store
        .rotate_api_key(
            principal.user_id,
            id,
            new.row.id,
            old_expires_at,
            &writes,
            now,
        )
        .await
        .map_err(store_error)?;
    if !rotated {
        return Err(not_live());
    }
    state.mailer.wake();
    Ok(HttpResponse::Created().json(created(new)))
}

/// Revokes a key at once.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys",
    responses((status = 204), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    principal.require_session()?;
    let id = key_id(&path)?;
    let event = audit::event(
        audit::kind::API_KEY_REVOKED,
        Some(principal.user_id),
        client_ip(&req),
        json!({ "key_id": id }),
    );
    let revoked = state
        .store
        .revoke_api_key(principal.user_id, id, &event, Utc::now())
        .await
        .map_err(store_error)?;
    if !revoked {
        // Already revoked: DELETE is idempotent. Unknown or someone else's: 404.
        let known = state
            .store
            .api_key(principal.user_id, id)
            .await
            .map_err(store_error)?
            .is_some();
        if !known {
            return Err(Problem::not_found().with_detail("no such API key"));
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, list, rotate, revoke),
    components(schemas(CreateKey, CreatedKey, KeyView, RotateKey, KeyStatus))
)]
pub struct ApiDoc;
