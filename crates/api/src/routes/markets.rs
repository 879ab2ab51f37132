//! Public market data (API.md "Markets"): algorithms, assets, markets with every
//! limit a client can hit, quotes, and each market's aggregated book.

use actix_web::{web, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use hashmarket_contracts::HashRate;

use crate::problem::Problem;
use crate::state::AppState;
use crate::values::parse_json;

/// Most price levels per side `GET /v1/markets/{id}/book` returns.
pub const BOOK_DEPTH_MAX: usize = 500;

/// Registers the public market routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/algorithms").get(algorithms))
        .service(web::resource("/assets").get(assets))
        .service(web::resource("/markets").get(markets))
        .service(web::resource("/markets/{id}/book").get(book))
        .service(web::resource("/quotes").post(quote));
}

/// An algorithm.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AlgorithmView {
    /// Id, e.g. `sha256`.
    pub id: String,
    /// Display unit, e.g. `TH/s`.
    pub unit: String,
    /// The coin mined, e.g. `BTC`.
    pub coin: String,
}

/// Every algorithm.
#[utoipa::path(get, path = "/v1/algorithms", tag = "markets", responses((status = 200, body = [AlgorithmView])))]
pub async fn algorithms(state: web::Data<AppState>) -> HttpResponse {
    let list: Vec<AlgorithmView> = state
        .catalog
        .catalog()
        .algorithms
        .values()
        .map(|a| AlgorithmView {
            id: a.id.clone(),
            unit: a.unit.symbol().to_string(),
            coin: a.coin.clone(),
        })
        .collect();
    HttpResponse::Ok().json(list)
}

/// An asset and its withdrawal terms.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AssetView {
    /// Code.
    pub id: String,
    /// Decimal places.
    pub decimals: u32,
    /// Smallest withdrawal.
    pub withdrawal_min: String,
    /// Network fee per withdrawal.
    pub withdrawal_fee: String,
}

/// Every asset.
#[utoipa::path(get, path = "/v1/assets", tag = "money", responses((status = 200, body = [AssetView])))]
pub async fn assets(state: web::Data<AppState>) -> HttpResponse {
    let list: Vec<AssetView> = state
        .catalog
        .catalog()
        .assets
        .values()
        .map(|a| AssetView {
            id: a.id.clone(),
            decimals: a.decimals,
            withdrawal_min: a.format(a.withdrawal_min),
            withdrawal_fee: a.format(a.withdrawal_fee),
        })
        .collect();
    HttpResponse::Ok().json(list)
}

/// Fees as decimal fractions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FeesView {
    /// Charged to the buyer on top of the cost.
    pub buyer: String,
    /// Taken from what the seller is paid.
    pub seller: String,
}

/// What orders in a market may do.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RulesView {
    /// Accepted time-in-force values.
    pub time_in_force: Vec<&'static str>,
    /// Post-only orders are supported.
    pub post_only: bool,
    /// Open orders can be cancelled at any time (DELETE /v1/orders/{id}).
    pub cancel: &'static str,
    /// Orders cannot be amended over HTTP: cancel and place again.
    pub amend: &'static str,
    /// What happens when an order would trade with its owner's own order.
    pub self_trade_prevention: &'static str,
    /// Largest hash rate in one order.
    pub max_hash_rate: String,
}

/// A market.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MarketView {
    /// Id, e.g. `sha256-30d`.
    pub id: String,
    /// Algorithm id.
    pub algorithm: String,
    /// Contract length.
    pub tenor_days: u32,
    /// Quote asset.
    pub quote_asset: String,
    /// Smallest price step.
    pub tick_size: String,
    /// Smallest order.
    pub min_hash_rate: String,
    /// Orders are whole multiples of this.
    pub hash_rate_step: String,
    /// Fees.
    pub fees: FeesView,
    /// Order rules.
    pub rules: RulesView,
}

/// Every market, with every limit a client can hit.
#[utoipa::path(get, path = "/v1/markets", tag = "markets", responses((status = 200, body = [MarketView])))]
pub async fn markets(state: web::Data<AppState>) -> HttpResponse {
    let catalog = state.catalog.catalog();
    let list: Vec<MarketView> = catalog
        .markets
        .values()
        .map(|m| {
            let show = |hs: u128| {
                state
                    .catalog
                    .format_hash_rate(&m.algorithm, i64::try_from(hs).unwrap_or(i64::MAX))
            };
            MarketView {
                id: m.id.clone(),
                algorithm: m.algorithm.clone(),
                tenor_days: m.tenor_days,
                quote_asset: m.quote_asset.clone(),
                tick_size: state.catalog.format(&m.quote_asset, m.tick_size),
                min_hash_rate: show(m.min_hash_rate_hs),
                hash_rate_step: show(m.hash_rate_step_hs),
                fees: FeesView {
                    buyer: m.buyer_fee.normalize().to_string(),
                    seller: m.seller_fee.normalize().to_string(),
                },
                rules: RulesView {
                    time_in_force: vec!["gtc", "ioc", "fok"],
                    post_only: true,
                    cancel: "any open order, any time",
                    amend: "not supported: cancel and place again",
                    self_trade_prevention: "cancel the incoming order's remainder",
                    max_hash_rate: show(i64::MAX as u128),
                },
            }
        })
        .collect();
    HttpResponse::Ok().json(list)
}

/// A quote request.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// Market id.
    pub market: String,
    /// Hash rate with a unit.
    pub hash_rate: String,
    /// Price per display unit per day.
    pub price: String,
    /// Assumed revenue per display unit per day.
    pub hashprice: Option<String>,
    /// Maintenance fee per display unit per day.
    pub maintenance_fee: Option<String>,
}

/// A quote (see the `contracts` crate docs for the formulas).
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuoteView {
    /// hash rate × days × price.
    pub cost: String,
    /// The buyer fee on top.
    pub buyer_fee: String,
    /// cost + buyer fee.
    pub total: String,
    /// hash rate × days × hashprice.
    pub expected_revenue: String,
    /// hash rate × days × maintenance fee.
    pub maintenance: String,
    /// revenue − total − maintenance.
    pub net: String,
    /// The hashprice at which net is zero.
    pub breakeven_hashprice: String,
}

/// Prices a contract before buying it (public).
#[utoipa::path(post, path = "/v1/quotes", tag = "markets", request_body = QuoteRequest,
    responses((status = 200, body = QuoteView), (status = 400, body = crate::problem::ProblemWire), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn quote(state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, Problem> {
    let input: QuoteRequest = parse_json(&body)?;
    let catalog = state.catalog.catalog();
    let price = state.catalog.parse_price(&input.market, &input.price)?;
    let hs = state
        .catalog
        .parse_order_hash_rate(&input.market, &input.hash_rate)?;
    let market = &catalog.markets[&input.market];
    let asset = &catalog.assets[&market.quote_asset];
    let optional = |text: &Option<String>, field: &str| -> Result<Option<Decimal>, Problem> {
        let Some(text) = text else { return Ok(None) };
        let value = state
            .catalog
            .parse_amount(&market.quote_asset, text, field)?;
        if value < Decimal::ZERO {
            return Err(Problem::validation(
                field.to_string(),
                "must not be negative",
            ));
        }
        Ok(Some(value))
    };
    let hashprice = optional(&input.hashprice, "hashprice")?;
    let maintenance_fee = optional(&input.maintenance_fee, "maintenance_fee")?;
    let unit = catalog.algorithms[&market.algorithm].unit;
    let units = HashRate::from_hs(hs as u128)
        .map_err(|e| Problem::validation("hash_rate", e.to_string()))?
        .in_unit(unit);
    let q = hashmarket_contracts::quote(market, asset, units, price, hashprice, maintenance_fee)
        .ok_or_else(|| Problem::validation("hash_rate", "too large to price"))?;
    let show = |d: Decimal| asset.format(d);
    Ok(HttpResponse::Ok().json(QuoteView {
        cost: show(q.cost),
        buyer_fee: show(q.buyer_fee),
        total: show(q.total),
        expected_revenue: show(q.expected_revenue),
        maintenance: show(q.maintenance),
        net: show(q.net),
        breakeven_hashprice: show(q.breakeven_hashprice),
    }))
}

/// The query of the book.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BookQuery {
    /// Levels per side (1–500, default 50).
    pub depth: Option<usize>,
}

/// One aggregated level.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LevelView {
    /// Price.
    pub price: String,
    /// Total hash rate resting at it.
    pub hash_rate: String,
    /// Orders resting at it.
    pub orders: u32,
}

/// A market's book.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BookView {
    /// Market id.
    pub market: String,
    /// The book's sequence: the last order number assigned in this market.
    pub sequence: u64,
    /// Bids, best (highest) first.
    pub bids: Vec<LevelView>,
    /// Asks, best (lowest) first.
    pub asks: Vec<LevelView>,
}

/// A market's aggregated order book, best first (public).
#[utoipa::path(get, path = "/v1/markets/{id}/book", tag = "markets", params(BookQuery),
    responses((status = 200, body = BookView), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn book(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<BookQuery>,
) -> Result<HttpResponse, Problem> {
    let Some(terms) = state.markets.terms(&id).cloned() else {
        return Err(Problem::not_found().with_detail("no such market"));
    };
    let levels = query.depth.unwrap_or(50);
    if !(1..=BOOK_DEPTH_MAX).contains(&levels) {
        return Err(Problem::validation(
            "depth",
            format!("must be 1 to {BOOK_DEPTH_MAX}"),
        ));
    }
    let sequencer = state.markets.sequencer(&id).map_err(|_| {
        Problem::unavailable("this node does not run the market's book").with_retry_after(1)
    })?;
    let depth = sequencer
        .depth(levels)
        .await
        .map_err(|_| Problem::unavailable("the market is restarting").with_retry_after(1))?;
    let show = |levels: Vec<hashmarket_market::book::Level>| {
        levels
            .into_iter()
            .map(|l| LevelView {
                price: state
                    .catalog
                    .format(&terms.asset, terms.price(l.price_ticks)),
                hash_rate: state
                    .catalog
                    .format_hash_rate(&terms.algorithm, terms.hash_rate_hs(l.qty_lots)),
                orders: l.orders,
            })
            .collect()
    };
    Ok(HttpResponse::Ok().json(BookView {
        market: terms.id.clone(),
        sequence: depth.sequence,
        bids: show(depth.bids),
        asks: show(depth.asks),
    }))
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(algorithms, assets, markets, quote, book),
    components(schemas(
        AlgorithmView,
        AssetView,
        MarketView,
        FeesView,
        RulesView,
        QuoteRequest,
        QuoteView,
        BookView,
        LevelView
    ))
)]
pub struct ApiDoc;
