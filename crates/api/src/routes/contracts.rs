//! Contracts (API.md "Contracts"): the terms a fill created and the money so far.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_store::market::{ContractRole, ContractRow};

use crate::auth::{Principal, Scope};
use crate::pagination::{Cursor, Page};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::store_error;

/// Registers the contract routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/contracts").get(list_contracts))
        .service(web::resource("/contracts/{id}").get(get_contract));
}

/// A contract as shown to its buyer or seller.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ContractView {
    /// Contract id.
    pub id: Uuid,
    /// Market id.
    pub market: String,
    /// The buyer.
    pub buyer_id: Uuid,
    /// The seller.
    pub seller_id: Uuid,
    /// The rig delivering.
    pub rig_id: Uuid,
    /// Contracted hash rate in the algorithm's unit.
    pub hash_rate: String,
    /// Contracted hash rate in H/s.
    pub hash_rate_hs: String,
    /// Price per display unit per day.
    pub price: String,
    /// hash rate × days × price.
    pub cost: String,
    /// The buyer fee paid on top.
    pub buyer_fee: String,
    /// Quote asset.
    pub asset: String,
    /// Length in days.
    pub tenor_days: i32,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// `pending`, `active`, `completed`, `cancelled`, `terminated`.
    pub status: String,
    /// Paid out of escrow to the seller so far.
    pub released_to_seller: String,
    /// Returned to the buyer so far.
    pub refunded_to_buyer: String,
    /// Mining revenue credited to the buyer so far.
    pub mining_revenue: String,
    /// Share of the cost settled by delivery so far (released ÷ cost).
    pub delivered_ratio: String,
}

fn view(state: &AppState, c: &ContractRow) -> ContractView {
    let algorithm = state
        .markets
        .terms(&c.market)
        .map(|t| t.algorithm.clone())
        .unwrap_or_default();
    let money = |d| state.catalog.format(&c.asset, d);
    let ratio = if c.cost.is_zero() {
        rust_decimal::Decimal::ZERO
    } else {
        (c.released_to_seller / c.cost).round_dp(6)
    };
    ContractView {
        id: c.id,
        market: c.market.clone(),
        buyer_id: c.buyer_id,
        seller_id: c.seller_id,
        rig_id: c.rig_id,
        hash_rate: state.catalog.format_hash_rate(&algorithm, c.hash_rate_hs),
        hash_rate_hs: c.hash_rate_hs.to_string(),
        price: state.catalog.format_price(&c.market, c.price),
        cost: money(c.cost),
        buyer_fee: money(c.buyer_fee),
        asset: c.asset.clone(),
        tenor_days: c.tenor_days,
        starts_at: c.starts_at,
        ends_at: c.ends_at,
        status: c.status.clone(),
        released_to_seller: money(c.released_to_seller),
        refunded_to_buyer: money(c.refunded_to_buyer),
        mining_revenue: money(c.mining_revenue),
        delivered_ratio: ratio.normalize().to_string(),
    }
}

/// The query of `GET /v1/contracts`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContractQuery {
    /// `buyer` or `seller` (default: either).
    pub role: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (1–500, default 100).
    pub limit: Option<u32>,
}

/// The caller's contracts, newest first.
#[utoipa::path(get, path = "/v1/contracts", tag = "contracts", params(ContractQuery), responses((status = 200, body = Page<ContractView>)))]
pub async fn list_contracts(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ContractQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let role = match query.role.as_deref() {
        None => ContractRole::Any,
        Some("buyer") => ContractRole::Buyer,
        Some("seller") => ContractRole::Seller,
        Some(_) => return Err(Problem::validation("role", "must be buyer or seller")),
    };
    let limit = Page::<()>::limit(query.limit)?;
    let before = Cursor::decode_id(query.cursor.as_deref())?;
    let rows = state
        .store
        .contracts(
            principal.user_id,
            role,
            query.status.as_deref(),
            before,
            limit + 1,
        )
        .await
        .map_err(store_error)?;
    let page = Page::from_rows(rows, limit, |c| Cursor::encode_id(c.id));
    Ok(HttpResponse::Ok().json(page.map(|c| view(&state, &c))))
}

/// One contract of the caller's (as buyer or seller); 404 for anyone else's.
#[utoipa::path(get, path = "/v1/contracts/{id}", tag = "contracts", responses((status = 200, body = ContractView), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn get_contract(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    match state.store.contract(*id).await.map_err(store_error)? {
        Some(c) if c.buyer_id == principal.user_id || c.seller_id == principal.user_id => {
            Ok(HttpResponse::Ok().json(view(&state, &c)))
        }
        _ => Err(Problem::not_found()),
    }
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list_contracts, get_contract), components(schemas(ContractView)))]
pub struct ApiDoc;
