//! Operator inputs to accrual (API.md "Payouts and withdrawals"): hashprices,
//! the pool's delivery reports, and running accrual now.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_contracts::HashRate;
use hashmarket_payouts::rules::{self, RATE_SCALE};
use hashmarket_payouts::service::{self, AccrualReport};
use hashmarket_store::payouts::{DeliveryRow, HashpriceRow, ReportOutcome};

use crate::auth::{Principal, Role};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{parse_json, store_error};

/// Longest hashprice interval.
pub const HASHPRICE_MAX_DAYS: i64 = 31;
/// Longest delivery report.
pub const DELIVERY_MAX_HOURS: i64 = 24;
/// A rig may report up to this multiple of its listed capacity (pools measure
/// noisily); more is refused as absurd.
pub const DELIVERY_MAX_OVER_CAPACITY: i64 = 2;

/// Registers the routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/hashprice").post(post_hashprice))
        .service(web::resource("/admin/deliveries").post(post_delivery))
        .service(web::resource("/admin/accrue").post(post_accrue));
}

/// A hashprice: given directly, or derived from network figures (sha256-style:
/// `(block_reward + fees_per_block) × 86400 / (difficulty × 2^32)` per H/s per day).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HashpriceInput {
    /// Algorithm id.
    pub algorithm: String,
    /// Start (RFC 3339).
    pub from: DateTime<Utc>,
    /// End, after `from`, at most 31 days later.
    pub to: DateTime<Utc>,
    /// Revenue per display unit per day, in the algorithm's coin.
    pub price: Option<String>,
    /// Network figures instead of `price`: block reward (coin).
    pub block_reward: Option<String>,
    /// Network figures: fees per block (coin).
    pub fees_per_block: Option<String>,
    /// Network figures: difficulty (an integer).
    pub difficulty: Option<String>,
}

/// The stored hashprice.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HashpriceView {
    /// Algorithm id.
    pub algorithm: String,
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
    /// Per display unit per day (rounded down to the coin's decimals).
    pub price: String,
    /// The display unit.
    pub unit: String,
}

fn overlaps(what: &str) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "report-overlaps",
        "Report overlaps another",
    )
    .with_detail(format!(
        "this {what} overlaps a different one already recorded; they are immutable"
    ))
}

fn check_interval(from: DateTime<Utc>, to: DateTime<Utc>, max: Duration) -> Result<(), Problem> {
    if to <= from {
        return Err(Problem::validation("to", "must be after from"));
    }
    if to - from > max {
        return Err(Problem::validation(
            "to",
            format!("an interval is at most {} hours", max.num_hours()),
        ));
    }
    if from.timestamp_subsec_nanos() != 0 || to.timestamp_subsec_nanos() != 0 {
        return Err(Problem::validation("from", "whole seconds only"));
    }
    Ok(())
}

/// Records a hashprice (operator). The same report again is a no-op (200); an
/// overlapping different one is 409 `report-overlaps`.
#[utoipa::path(post, path = "/v1/admin/hashprice", tag = "admin", request_body = HashpriceInput,
    responses((status = 201, body = HashpriceView), (status = 200, body = HashpriceView), (status = 409, body = crate::problem::ProblemWire), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn post_hashprice(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_role(&[Role::Operator])?;
    let input: HashpriceInput = parse_json(&body)?;
    let catalog = state.catalog.catalog();
    let algorithm = catalog
        .algorithms
        .get(&input.algorithm)
        .ok_or_else(|| Problem::validation("algorithm", "unknown algorithm"))?;
    let asset = catalog
        .assets
        .get(&algorithm.coin)
        .ok_or_else(|| Problem::validation("algorithm", "its coin is not an asset here"))?;
    check_interval(input.from, input.to, Duration::days(HASHPRICE_MAX_DAYS))?;
    let price = match (
        &input.price,
        &input.block_reward,
        &input.fees_per_block,
        &input.difficulty,
    ) {
        (Some(price), None, None, None) => coin_amount(asset, price, "price")?,
        (None, Some(reward), Some(fees), Some(difficulty)) => {
            derived_price(asset, algorithm.unit.hs(), reward, fees, difficulty)?
        }
        _ => {
            return Err(Problem::validation(
                "price",
                "give either price, or block_reward + fees_per_block + difficulty",
            ))
        }
    };
    let row = HashpriceRow {
        algorithm: input.algorithm.clone(),
        from_at: input.from,
        to_at: input.to,
        price,
    };
    let outcome = state
        .store
        .insert_hashprice(&row)
        .await
        .map_err(store_error)?;
    let view = HashpriceView {
        algorithm: row.algorithm,
        from: row.from_at,
        to: row.to_at,
        price: asset.format(price),
        unit: algorithm.unit.symbol().to_string(),
    };
    match outcome {
        ReportOutcome::Inserted => Ok(HttpResponse::Created().json(view)),
        ReportOutcome::Duplicate => Ok(HttpResponse::Ok().json(view)),
        ReportOutcome::Overlaps => Err(overlaps("hashprice")),
    }
}

/// A non-negative amount of the coin, within its decimals, at most 1,000,000.
fn coin_amount(
    asset: &hashmarket_contracts::Asset,
    text: &str,
    field: &str,
) -> Result<Decimal, Problem> {
    asset
        .parse_amount(text.trim())
        .ok()
        .filter(|a| !a.is_sign_negative() && *a <= hashmarket_contracts::catalog::MAX_PRICE)
        .ok_or_else(|| {
            Problem::validation(
                field,
                "a non-negative amount within the coin's decimals, at most 1,000,000",
            )
        })
}

/// Price per display unit per day from network figures, rounded down.
fn derived_price(
    asset: &hashmarket_contracts::Asset,
    unit_hs: u128,
    reward: &str,
    fees: &str,
    difficulty: &str,
) -> Result<Decimal, Problem> {
    let minor = |text: &str, field: &str| -> Result<i128, Problem> {
        let amount = coin_amount(asset, text, field)?;
        let scaled = amount * Decimal::from(10u64.pow(asset.decimals));
        Ok(scaled.trunc().mantissa() / 10i128.pow(scaled.trunc().scale()))
    };
    let difficulty: u128 = difficulty
        .trim()
        .parse()
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| Problem::validation("difficulty", "a positive integer"))?;
    let per_hs_scaled = rules::hashprice_from_network(
        minor(reward, "block_reward")?,
        minor(fees, "fees_per_block")?,
        difficulty,
    )
    .ok_or_else(|| Problem::validation("difficulty", "out of range"))?;
    // Per display unit per day in minor units, floored, then in coin.
    let per_unit_minor = per_hs_scaled
        .checked_mul(i128::try_from(unit_hs).unwrap_or(i128::MAX))
        .map(|v| v / RATE_SCALE)
        .ok_or_else(|| Problem::validation("difficulty", "out of range"))?;
    Ok(Decimal::from_i128_with_scale(
        per_unit_minor,
        asset.decimals,
    ))
}

/// A delivery report from the pool.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryInput {
    /// The rig.
    pub rig_id: Uuid,
    /// Start.
    pub from: DateTime<Utc>,
    /// End, after `from`, at most 24 hours later, not after the business clock.
    pub to: DateTime<Utc>,
    /// Average hash rate over the interval, with a unit ("95 TH/s"); 0 allowed.
    pub hash_rate: String,
}

/// The stored report.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The rig.
    pub rig_id: Uuid,
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
    /// As given.
    pub hash_rate: String,
    /// In H/s.
    pub hash_rate_hs: String,
}

/// Records what a rig delivered (operator). Idempotent per rig and interval: the
/// same report again is 200; a different overlapping one is 409.
#[utoipa::path(post, path = "/v1/admin/deliveries", tag = "admin", request_body = DeliveryInput,
    responses((status = 201, body = DeliveryView), (status = 200, body = DeliveryView), (status = 409, body = crate::problem::ProblemWire), (status = 422, body = crate::problem::ProblemWire)))]
pub async fn post_delivery(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_role(&[Role::Operator])?;
    let input: DeliveryInput = parse_json(&body)?;
    check_interval(input.from, input.to, Duration::hours(DELIVERY_MAX_HOURS))?;
    if input.to > state.config.clock.now() {
        return Err(Problem::validation(
            "to",
            "a delivery cannot be reported for the future",
        ));
    }
    let rig = state
        .store
        .rig(input.rig_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| Problem::validation("rig_id", "no such rig"))?;
    let hash_rate = HashRate::parse_allowing_zero(&input.hash_rate)
        .map_err(|e| Problem::validation("hash_rate", e.to_string()))?;
    let hs = i64::try_from(hash_rate.hs()).unwrap_or(i64::MAX);
    if hs > rig.hash_rate_hs.saturating_mul(DELIVERY_MAX_OVER_CAPACITY) {
        return Err(Problem::validation(
            "hash_rate",
            format!("more than {DELIVERY_MAX_OVER_CAPACITY}× the rig's listed capacity"),
        ));
    }
    let row = DeliveryRow {
        rig_id: rig.id,
        from_at: input.from,
        to_at: input.to,
        hash_rate_hs: hs,
    };
    let outcome = state
        .store
        .insert_delivery(&row)
        .await
        .map_err(store_error)?;
    let view = DeliveryView {
        rig_id: rig.id,
        from: row.from_at,
        to: row.to_at,
        hash_rate: input.hash_rate.trim().to_string(),
        hash_rate_hs: hs.to_string(),
    };
    match outcome {
        ReportOutcome::Inserted => Ok(HttpResponse::Created().json(view)),
        ReportOutcome::Duplicate => Ok(HttpResponse::Ok().json(view)),
        ReportOutcome::Overlaps => Err(overlaps("delivery report")),
    }
}

/// What an accrual run did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccrualView {
    /// Accrued up to (the business clock's now).
    pub until: DateTime<Utc>,
    /// (contract, period) pairs accrued.
    pub periods: u64,
    /// Contracts completed.
    pub completed: u64,
    /// Contracts waiting for data.
    pub waiting: u64,
}

/// Runs accrual now, up to the business clock's time (operator). The server also
/// runs it on a schedule; running it again never credits twice.
#[utoipa::path(post, path = "/v1/admin/accrue", tag = "admin",
    responses((status = 200, body = AccrualView)))]
pub async fn post_accrue(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, Problem> {
    principal.require_role(&[Role::Operator])?;
    let until = state.config.clock.now();
    let report: AccrualReport = service::accrue_until(
        &*state.store,
        &state.accrual_rates,
        &state.notices,
        until,
        state.config.accrual,
        &mut |_| {},
    )
    .await
    .map_err(|e| match e {
        service::AccrualError::Store(err) => store_error(err),
        other => {
            tracing::error!(error = %other, "accrual failed");
            Problem::internal()
        }
    })?;
    Ok(HttpResponse::Ok().json(AccrualView {
        until,
        periods: report.periods,
        completed: report.completed,
        waiting: report.waiting,
    }))
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(post_hashprice, post_delivery, post_accrue),
    components(schemas(
        HashpriceInput,
        HashpriceView,
        DeliveryInput,
        DeliveryView,
        AccrualView
    ))
)]
pub struct ApiDoc;
