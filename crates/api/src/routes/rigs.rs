//! Sellers' rigs (API.md "Rigs"): listed capacity, and how much of it is offered in
//! open asks and contracted in running contracts.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_store::market::RigRow;

use crate::auth::{Principal, Scope};
use crate::pagination::{Cursor, Page};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{parse_json, store_error};

/// Longest rig name, in characters.
pub const RIG_NAME_MAX_CHARS: usize = 100;
/// Longest region, in characters.
pub const REGION_MAX_CHARS: usize = 32;

/// Registers the rig routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/rigs").get(list_rigs).post(create_rig))
        .service(
            web::resource("/rigs/{id}")
                .get(get_rig)
                .patch(update_rig)
                .delete(delete_rig),
        );
}

/// A new rig.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRig {
    /// Display name, 1–100 characters.
    pub name: String,
    /// Algorithm id (`GET /v1/algorithms`).
    pub algorithm: String,
    /// Capacity with a unit, e.g. `"120 TH/s"`.
    pub hash_rate: String,
    /// Optional region, e.g. `"eu-west"`.
    pub region: Option<String>,
}

/// Changes to a rig; absent fields stay as they are.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RigPatch {
    /// New name.
    pub name: Option<String>,
    /// New capacity; not below what is offered plus contracted.
    pub hash_rate: Option<String>,
    /// New region.
    pub region: Option<String>,
}

/// A rig as shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RigView {
    /// Rig id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Algorithm id.
    pub algorithm: String,
    /// Region, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Listed capacity in the algorithm's unit.
    pub hash_rate: String,
    /// Listed capacity in H/s.
    pub hash_rate_hs: String,
    /// Capacity in open asks.
    pub hash_rate_offered: String,
    /// Capacity in running contracts.
    pub hash_rate_contracted: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

fn view(state: &AppState, rig: &RigRow) -> RigView {
    let show = |hs: i64| state.catalog.format_hash_rate(&rig.algorithm, hs);
    RigView {
        id: rig.id,
        name: rig.name.clone(),
        algorithm: rig.algorithm.clone(),
        region: rig.region.clone(),
        hash_rate: show(rig.hash_rate_hs),
        hash_rate_hs: rig.hash_rate_hs.to_string(),
        hash_rate_offered: show(rig.offered_hs),
        hash_rate_contracted: show(rig.contracted_hs),
        created_at: rig.created_at,
    }
}

fn check_name(name: &str) -> Result<String, Problem> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > RIG_NAME_MAX_CHARS {
        return Err(Problem::validation(
            "name",
            format!("must be 1 to {RIG_NAME_MAX_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

fn check_region(region: Option<&str>) -> Result<Option<String>, Problem> {
    let Some(region) = region.map(str::trim) else {
        return Ok(None);
    };
    let ok = !region.is_empty()
        && region.len() <= REGION_MAX_CHARS
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(Problem::validation("region", "1 to 32 of [A-Za-z0-9_-]"));
    }
    Ok(Some(region.to_string()))
}

/// The caller's rig, or 404 (also for another user's rig).
async fn own_rig(state: &AppState, principal: &Principal, id: Uuid) -> Result<RigRow, Problem> {
    match state.store.rig(id).await.map_err(store_error)? {
        Some(rig) if rig.owner_id == principal.user_id => Ok(rig),
        _ => Err(Problem::not_found()),
    }
}

/// Lists a rig (trade scope, verified email).
#[utoipa::path(post, path = "/v1/rigs", tag = "rigs", request_body = NewRig,
    responses((status = 201, body = RigView), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn create_rig(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Trade)?;
    principal.require_verified_email()?;
    let input: NewRig = parse_json(&body)?;
    let name = check_name(&input.name)?;
    let region = check_region(input.region.as_deref())?;
    let hash_rate_hs = state
        .catalog
        .parse_capacity(&input.algorithm, &input.hash_rate)?;
    let rig = RigRow {
        id: Uuid::now_v7(),
        owner_id: principal.user_id,
        name,
        algorithm: input.algorithm,
        region,
        hash_rate_hs,
        offered_hs: 0,
        contracted_hs: 0,
        created_at: state.config.clock.now(),
    };
    state.store.insert_rig(&rig).await.map_err(store_error)?;
    Ok(HttpResponse::Created().json(view(&state, &rig)))
}

/// The query of `GET /v1/rigs`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RigQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (1–500, default 100).
    pub limit: Option<u32>,
}

/// The caller's rigs, newest first.
#[utoipa::path(get, path = "/v1/rigs", tag = "rigs", params(RigQuery), responses((status = 200, body = Page<RigView>)))]
pub async fn list_rigs(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<RigQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let limit = Page::<()>::limit(query.limit)?;
    let before = Cursor::decode_id(query.cursor.as_deref())?;
    let rows = state
        .store
        .rigs(principal.user_id, before, limit + 1)
        .await
        .map_err(store_error)?;
    let page = Page::from_rows(rows, limit, |r| Cursor::encode_id(r.id));
    Ok(HttpResponse::Ok().json(page.map(|r| view(&state, &r))))
}

/// One of the caller's rigs.
#[utoipa::path(get, path = "/v1/rigs/{id}", tag = "rigs", responses((status = 200, body = RigView), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn get_rig(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let rig = own_rig(&state, &principal, *id).await?;
    Ok(HttpResponse::Ok().json(view(&state, &rig)))
}

/// Renames, moves or resizes a rig (not below what is offered plus contracted: 409).
#[utoipa::path(patch, path = "/v1/rigs/{id}", tag = "rigs", request_body = RigPatch,
    responses((status = 200, body = RigView), (status = 409, body = crate::problem::ProblemWire)))]
pub async fn update_rig(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Trade)?;
    principal.require_verified_email()?;
    let input: RigPatch = parse_json(&body)?;
    let rig = own_rig(&state, &principal, *id).await?;
    let name = match &input.name {
        Some(name) => check_name(name)?,
        None => rig.name.clone(),
    };
    let region = match &input.region {
        Some(region) => check_region(Some(region))?,
        None => rig.region.clone(),
    };
    let hash_rate_hs = match &input.hash_rate {
        Some(text) => state.catalog.parse_capacity(&rig.algorithm, text)?,
        None => rig.hash_rate_hs,
    };
    let updated = state
        .store
        .update_rig(rig.id, &name, hash_rate_hs, region.as_deref())
        .await
        .map_err(store_error)?;
    if !updated {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "rig-capacity-exceeded",
            "Rig capacity exceeded",
        )
        .with_detail("the new capacity is below what is offered plus contracted"));
    }
    let rig = own_rig(&state, &principal, rig.id).await?;
    Ok(HttpResponse::Ok().json(view(&state, &rig)))
}

/// Deletes a rig; 409 while it has open asks or running contracts.
#[utoipa::path(delete, path = "/v1/rigs/{id}", tag = "rigs",
    responses((status = 204), (status = 409, body = crate::problem::ProblemWire), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn delete_rig(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Trade)?;
    principal.require_verified_email()?;
    let rig = own_rig(&state, &principal, *id).await?;
    let deleted = state
        .store
        .delete_rig(rig.id, state.config.clock.now())
        .await
        .map_err(store_error)?;
    if !deleted {
        return Err(
            Problem::new(StatusCode::CONFLICT, "rig-in-use", "Rig in use")
                .with_detail("the rig has open asks or running contracts"),
        );
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create_rig, list_rigs, get_rig, update_rig, delete_rig),
    components(schemas(NewRig, RigPatch, RigView))
)]
pub struct ApiDoc;
