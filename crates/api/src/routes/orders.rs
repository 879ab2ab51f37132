//! Orders (API.md "Orders"): placed through the market's sequencer, exactly once per
//! Idempotency-Key, answered only after the batch holding them is committed.

use std::sync::{Arc, OnceLock};

use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_market::command::{IdempotencyRequest, RenderFn};
use hashmarket_market::{NewOrder, OrderError, OrderOutcome, Side, TimeInForce};
use hashmarket_store::market::{OrderQuery, OrderRow};

use crate::auth::{Principal, Scope};
use crate::idempotency::{key::fingerprint, persistence, IdempotencyKey};
use crate::pagination::{Cursor, Page};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{parse_json, store_error};

/// Longest client order id, in characters.
pub const CLIENT_ORDER_ID_MAX_CHARS: usize = 64;

/// Registers the order routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/orders").get(list_orders).post(place_order))
        .service(
            web::resource("/orders/{id}")
                .get(get_order)
                .delete(cancel_order),
        );
}

/// A new order.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    /// Market id, e.g. `sha256-30d`.
    pub market: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Hash rate with a unit, e.g. `"120 TH/s"`.
    pub hash_rate: String,
    /// Limit price per display unit per day, a decimal string on the market's tick.
    pub price: String,
    /// `gtc` (default), `ioc` or `fok`.
    pub time_in_force: Option<String>,
    /// Refuse to take liquidity.
    pub post_only: Option<bool>,
    /// The rig offered (sell only).
    pub rig_id: Option<Uuid>,
    /// Your own id for the order (1–64 characters).
    pub client_order_id: Option<String>,
}

/// One fill of an order.
#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct FillView {
    /// The contract the fill created.
    pub contract_id: Uuid,
    /// Hash rate filled.
    pub hash_rate: String,
    /// The price (the resting order's).
    pub price: String,
}

/// An order as shown.
#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct OrderView {
    /// Order id.
    pub id: Uuid,
    /// Market id.
    pub market: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `open`, `partially_filled`, `filled`, `cancelled`, `expired`.
    pub status: String,
    /// Hash rate in the algorithm's unit.
    pub hash_rate: String,
    /// Hash rate in H/s.
    pub hash_rate_hs: String,
    /// Filled so far.
    pub filled_hash_rate: String,
    /// Limit price.
    pub price: String,
    /// `gtc`, `ioc`, `fok`.
    pub time_in_force: String,
    /// Post-only.
    pub post_only: bool,
    /// The rig (sells).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rig_id: Option<Uuid>,
    /// Your id for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_order_id: Option<String>,
    /// Still held for it (buys).
    pub held: String,
    /// Placed.
    pub created_at: DateTime<Utc>,
    /// The fills of this request (as taker).
    pub fills: Vec<FillView>,
}

fn order_view(state: &AppState, order: &OrderRow, fills: Vec<FillView>) -> OrderView {
    let (algorithm, asset) = state
        .markets
        .terms(&order.market)
        .map(|t| (t.algorithm.clone(), t.asset.clone()))
        .unwrap_or_default();
    let show = |hs: i64| state.catalog.format_hash_rate(&algorithm, hs);
    OrderView {
        id: order.id,
        market: order.market.clone(),
        side: order.side.clone(),
        status: order.status.clone(),
        hash_rate: show(order.hash_rate_hs),
        hash_rate_hs: order.hash_rate_hs.to_string(),
        filled_hash_rate: show(order.filled_hs),
        price: state.catalog.format_price(&order.market, order.price),
        time_in_force: order.time_in_force.clone(),
        post_only: order.post_only,
        rig_id: order.rig_id,
        client_order_id: order.client_order_id.clone(),
        held: state.catalog.format(&asset, order.hold_remaining),
        created_at: order.created_at,
        fills,
    }
}

fn outcome_view(state: &AppState, outcome: &OrderOutcome) -> OrderView {
    let algorithm = state
        .markets
        .terms(&outcome.order.market)
        .map(|t| t.algorithm.clone())
        .unwrap_or_default();
    let fills = outcome
        .contracts
        .iter()
        .map(|c| FillView {
            contract_id: c.id,
            hash_rate: state.catalog.format_hash_rate(&algorithm, c.hash_rate_hs),
            price: state.catalog.format_price(&c.market, c.price),
        })
        .collect();
    order_view(state, &outcome.order, fills)
}

/// Checks an order against its market's published rules.
fn validate(
    state: &AppState,
    principal: &Principal,
    input: PlaceOrder,
) -> Result<NewOrder, Problem> {
    let Some(terms) = state.markets.terms(&input.market) else {
        return Err(Problem::validation(
            "market",
            "no such market (GET /v1/markets)",
        ));
    };
    let side = match input.side.as_str() {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        _ => return Err(Problem::validation("side", "must be buy or sell")),
    };
    let time_in_force = match input.time_in_force.as_deref().unwrap_or("gtc") {
        "gtc" => TimeInForce::Gtc,
        "ioc" => TimeInForce::Ioc,
        "fok" => TimeInForce::Fok,
        _ => {
            return Err(Problem::validation(
                "time_in_force",
                "must be gtc, ioc or fok",
            ))
        }
    };
    let price = state.catalog.parse_price(&input.market, &input.price)?;
    let hash_rate_hs = state
        .catalog
        .parse_order_hash_rate(&input.market, &input.hash_rate)?;
    match (side, input.rig_id) {
        (Side::Sell, None) => {
            return Err(Problem::validation(
                "rig_id",
                "a sell order needs the rig it offers",
            ))
        }
        (Side::Buy, Some(_)) => {
            return Err(Problem::validation("rig_id", "only sell orders name a rig"))
        }
        _ => {}
    }
    if let Some(id) = &input.client_order_id {
        let ok = !id.is_empty()
            && id.chars().count() <= CLIENT_ORDER_ID_MAX_CHARS
            && id.chars().all(|c| c.is_ascii_graphic());
        if !ok {
            return Err(Problem::validation(
                "client_order_id",
                "1 to 64 visible ASCII characters",
            ));
        }
    }
    let _ = terms;
    Ok(NewOrder {
        id: Uuid::now_v7(),
        user_id: principal.user_id,
        side,
        price,
        hash_rate_hs,
        time_in_force,
        post_only: input.post_only.unwrap_or(false),
        rig_id: input.rig_id,
        client_order_id: input.client_order_id,
    })
}

/// How a refusal from the order path is answered.
fn order_problem(err: OrderError) -> Problem {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    match err {
        OrderError::InsufficientFunds { .. } => {
            Problem::new(unprocessable, "insufficient-funds", "Insufficient funds")
                .with_detail(err.to_string())
        }
        OrderError::RigCapacityExceeded { .. } => Problem::new(
            unprocessable,
            "rig-capacity-exceeded",
            "Rig capacity exceeded",
        )
        .with_detail(err.to_string()),
        OrderError::RigNotFound => Problem::validation("rig_id", "no such rig of yours"),
        OrderError::RigAlgorithmMismatch { .. } => Problem::validation("rig_id", err.to_string()),
        OrderError::OrderNotFound => Problem::not_found(),
        OrderError::NotOpen { .. } => {
            Problem::new(StatusCode::CONFLICT, "order-not-open", "Order not open")
                .with_detail(err.to_string())
        }
        OrderError::Rejected(reason) => {
            Problem::new(unprocessable, "order-rejected", "Order rejected").with_detail(reason)
        }
        OrderError::NotOwned => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "market-closed",
            "Market closed",
        )
        .with_detail("this node does not take orders for this market")
        .with_retry_after(1),
        OrderError::IdempotencyInFlight => persistence::in_flight(),
        OrderError::IdempotencyMismatch => persistence::reused(),
        OrderError::Replay { .. } => {
            tracing::error!("a replay reached the problem mapping");
            Problem::internal()
        }
        OrderError::Unavailable(detail) => {
            tracing::warn!(%detail, "order not committed");
            Problem::unavailable("the order was not committed; retry with the same Idempotency-Key")
                .with_retry_after(1)
        }
    }
}

/// Places an order (trade scope, verified email, Idempotency-Key required).
#[utoipa::path(post, path = "/v1/orders", tag = "orders", request_body = PlaceOrder,
    params(("Idempotency-Key" = String, Header, description = "1–255 characters")),
    responses((status = 201, body = OrderView), (status = 400, body = crate::problem::ProblemWire),
              (status = 409, body = crate::problem::ProblemWire), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn place_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Trade)?;
    principal.require_verified_email()?;
    let key = IdempotencyKey::required(&req)?;
    let input: PlaceOrder = parse_json(&body)?;
    let market = input.market.clone();
    let order = validate(&state, &principal, input)?;
    let request = IdempotencyRequest {
        principal: principal.scope_key(),
        key: key.as_str().to_string(),
        fingerprint: fingerprint(&req, &body),
    };
    // The sequencer checks the key inside the batch (a retry of a finished request
    // gets the stored answer from there); no read here, no commit of its own.
    let sequencer = state.markets.sequencer(&market).map_err(order_problem)?;
    // The answer is rendered once, inside the batch, for the idempotency record;
    // the response sends the same text.
    let rendered = Arc::new(OnceLock::<String>::new());
    let render: RenderFn = {
        let state = state.clone();
        let rendered = Arc::clone(&rendered);
        Box::new(move |outcome| {
            let body = serde_json::to_string(&outcome_view(&state, outcome)).unwrap_or_default();
            let _ = rendered.set(body.clone());
            body
        })
    };
    match sequencer.place(order, Some((request, render))).await {
        // The batch has called (and dropped) the renderer: the text is ours to send.
        Ok(outcome) => Ok(
            match Arc::into_inner(rendered).and_then(OnceLock::into_inner) {
                Some(body) => HttpResponse::Created()
                    .content_type(ContentType::json())
                    .body(body),
                None => HttpResponse::Created().json(outcome_view(&state, &outcome)),
            },
        ),
        Err(OrderError::Replay { status, body }) => Ok(persistence::replay(status, body)),
        Err(err) => Err(order_problem(err)),
    }
}

/// The query of `GET /v1/orders`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderListQuery {
    /// Only this market.
    pub market: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (1–500, default 100).
    pub limit: Option<u32>,
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(OrderListQuery), responses((status = 200, body = Page<OrderView>)))]
pub async fn list_orders(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<OrderListQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let limit = Page::<()>::limit(query.limit)?;
    let filter = OrderQuery {
        market: query.market.clone(),
        status: query.status.clone(),
        before: Cursor::decode_id(query.cursor.as_deref())?,
        limit: limit + 1,
    };
    let rows = state
        .store
        .orders(principal.user_id, &filter)
        .await
        .map_err(store_error)?;
    let page = Page::from_rows(rows, limit, |o| Cursor::encode_id(o.id));
    Ok(HttpResponse::Ok().json(page.map(|o| order_view(&state, &o, Vec::new()))))
}

async fn own_order(state: &AppState, principal: &Principal, id: Uuid) -> Result<OrderRow, Problem> {
    match state.store.order(id).await.map_err(store_error)? {
        Some(order) if order.user_id == principal.user_id => Ok(order),
        _ => Err(Problem::not_found()),
    }
}

/// One of the caller's orders.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", responses((status = 200, body = OrderView), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn get_order(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let order = own_order(&state, &principal, *id).await?;
    Ok(HttpResponse::Ok().json(order_view(&state, &order, Vec::new())))
}

/// Cancels an open order: 200 with the order, now `cancelled`; its hold or rig
/// capacity is released in the same transaction.
#[utoipa::path(delete, path = "/v1/orders/{id}", tag = "orders",
    responses((status = 200, body = OrderView), (status = 404, body = crate::problem::ProblemWire), (status = 409, body = crate::problem::ProblemWire)))]
pub async fn cancel_order(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Trade)?;
    let order = own_order(&state, &principal, *id).await?;
    let sequencer = state
        .markets
        .sequencer(&order.market)
        .map_err(order_problem)?;
    let outcome = sequencer
        .cancel(order.id, principal.user_id)
        .await
        .map_err(order_problem)?;
    Ok(HttpResponse::Ok().json(outcome_view(&state, &outcome)))
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(place_order, list_orders, get_order, cancel_order),
    components(schemas(PlaceOrder, OrderView, FillView))
)]
pub struct ApiDoc;
