//! Statements (HM-7 §3), JSON or CSV: per user and period (what was deposited,
//! earned, paid, refunded, withdrawn), per rig for its seller (delivered and
//! contracted hash rate per accrual period, contracts served, earnings), per
//! contract (contracted vs delivered and the money of every period), and a chart of
//! a contract as SVG.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_store::market::ContractRow;
use hashmarket_store::payouts::AccrualRow;

use crate::auth::{Principal, Scope};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::store_error;

/// Longest statement period, in days.
pub const STATEMENT_MAX_DAYS: i64 = 400;

/// Registers the routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/statements").get(user_statement))
        .service(web::resource("/rigs/{id}/statement").get(rig_statement))
        .service(web::resource("/contracts/{id}/statement").get(contract_statement))
        .service(web::resource("/contracts/{id}/chart.svg").get(contract_chart));
}

/// A period and a format.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// Start (RFC 3339), inclusive. Default: the beginning.
    pub from: Option<DateTime<Utc>>,
    /// End (RFC 3339), exclusive. Default: the business clock's now.
    pub to: Option<DateTime<Utc>>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

enum Format {
    Json,
    Csv,
}

impl StatementQuery {
    /// `[from, to)`; without `to`, up to the business clock's now (on a simulated
    /// clock that may be ahead of the wall clock).
    fn period(
        &self,
        default_from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), Problem> {
        let from = self.from.unwrap_or(default_from);
        // Inclusive of entries written at this very instant of a frozen clock.
        let to = self.to.unwrap_or(now + chrono::Duration::microseconds(1));
        if to <= from {
            return Err(Problem::validation("to", "must be after from"));
        }
        if to - from > chrono::Duration::days(STATEMENT_MAX_DAYS) && self.from.is_some() {
            return Err(Problem::validation(
                "to",
                format!("a statement covers at most {STATEMENT_MAX_DAYS} days"),
            ));
        }
        Ok((from, to))
    }

    fn format(&self) -> Result<Format, Problem> {
        match self.format.as_deref() {
            None | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(_) => Err(Problem::validation("format", "json or csv")),
        }
    }
}

/// A CSV response (RFC 4180, [`crate::csv`]).
fn csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(crate::csv::document(header, rows))
}

/// One line of a user statement.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StatementLine {
    /// Asset.
    pub asset: String,
    /// Account purpose.
    pub account: String,
    /// Transfer kind.
    pub kind: String,
    /// Σ debits.
    pub debit: String,
    /// Σ credits.
    pub credit: String,
}

/// A user's figures per asset.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StatementSummary {
    /// Asset.
    pub asset: String,
    /// Operator credits in.
    pub deposited: String,
    /// Mining revenue, less maintenance.
    pub mining_revenue: String,
    /// Paid to the user as a seller, less the seller fee.
    pub sales: String,
    /// Spent on contracts (cost into escrow plus buyer fees).
    pub purchases: String,
    /// Undelivered cost returned.
    pub refunds: String,
    /// Withdrawals requested.
    pub withdrawn: String,
}

/// A user's statement.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserStatement {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
    /// Per asset.
    pub summary: Vec<StatementSummary>,
    /// Per asset, account and kind.
    pub lines: Vec<StatementLine>,
}

/// The caller's statement for a period.
#[utoipa::path(get, path = "/v1/statements", tag = "statements", params(StatementQuery),
    responses((status = 200, body = UserStatement)))]
pub async fn user_statement(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<StatementQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let (from, to) = query.period(epoch, state.config.clock.now())?;
    let format = query.format()?;
    let totals = state
        .store
        .ledger_totals(principal.user_id, from, to)
        .await
        .map_err(store_error)?;
    let fmt = |asset: &str, d: Decimal| state.catalog.format(asset, d);
    let mut per_asset: BTreeMap<String, [Decimal; 6]> = BTreeMap::new();
    for t in &totals {
        let s = per_asset.entry(t.asset.clone()).or_default();
        let net = t.credit - t.debit;
        match (t.kind.as_str(), t.purpose.as_str()) {
            ("credit", "available") => s[0] += net,
            ("revenue" | "maintenance", "available") => s[1] += net,
            ("release" | "seller_fee", "available") => s[2] += net,
            ("fill", "contract_escrow") => s[3] += t.credit,
            ("fee", "order_hold") => s[3] += t.debit,
            ("refund", "available") => s[4] += net,
            ("withdrawal_request", "available") => s[5] += t.debit,
            _ => {}
        }
    }
    let summary: Vec<StatementSummary> = per_asset
        .into_iter()
        .map(|(asset, s)| StatementSummary {
            deposited: fmt(&asset, s[0]),
            mining_revenue: fmt(&asset, s[1]),
            sales: fmt(&asset, s[2]),
            purchases: fmt(&asset, s[3]),
            refunds: fmt(&asset, s[4]),
            withdrawn: fmt(&asset, s[5]),
            asset,
        })
        .collect();
    let lines: Vec<StatementLine> = totals
        .into_iter()
        .map(|t| StatementLine {
            debit: fmt(&t.asset, t.debit),
            credit: fmt(&t.asset, t.credit),
            asset: t.asset,
            account: t.purpose,
            kind: t.kind,
        })
        .collect();
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(UserStatement {
            from,
            to,
            summary,
            lines,
        }),
        Format::Csv => csv(
            &["asset", "account", "kind", "debit", "credit"],
            lines
                .into_iter()
                .map(|l| vec![l.asset, l.account, l.kind, l.debit, l.credit]),
        ),
    })
}

/// A contract of the caller's, or 404.
async fn own_contract(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<ContractRow, Problem> {
    principal.require_scope(Scope::Read)?;
    match state.store.contract(id).await.map_err(store_error)? {
        Some(c) if c.buyer_id == principal.user_id || c.seller_id == principal.user_id => Ok(c),
        _ => Err(Problem::not_found()),
    }
}

/// One accrual period of a contract.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ContractPeriod {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
    /// Contracted hash rate, H/s.
    pub contracted_hs: String,
    /// Delivered (credited) hash rate, H/s.
    pub delivered_hs: String,
    /// Released to the seller.
    pub released: String,
    /// Seller fee on it.
    pub seller_fee: String,
    /// Mining revenue to the buyer.
    pub revenue: String,
    /// Refunded to the buyer (last period).
    pub refunded: String,
}

/// A contract's statement.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ContractStatement {
    /// Contract id.
    pub contract_id: Uuid,
    /// Status.
    pub status: String,
    /// Cost.
    pub cost: String,
    /// Per accrual period, in order.
    pub periods: Vec<ContractPeriod>,
}

fn period_view(state: &AppState, c: &ContractRow, a: &AccrualRow) -> ContractPeriod {
    let fmt = |d| state.catalog.format(&c.asset, d);
    ContractPeriod {
        from: a.period_start,
        to: a.period_end,
        contracted_hs: c.hash_rate_hs.to_string(),
        delivered_hs: a.delivered_hs.to_string(),
        released: fmt(a.released),
        seller_fee: fmt(a.seller_fee),
        revenue: fmt(a.revenue - a.maintenance),
        refunded: fmt(a.refunded),
    }
}

/// A contract's periods: contracted vs delivered, and the money of each.
#[utoipa::path(get, path = "/v1/contracts/{id}/statement", tag = "statements", params(StatementQuery),
    responses((status = 200, body = ContractStatement), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn contract_statement(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    query: web::Query<StatementQuery>,
) -> Result<HttpResponse, Problem> {
    let format = query.format()?;
    let c = own_contract(&state, &principal, *id).await?;
    let rows = state.store.accruals(c.id).await.map_err(store_error)?;
    let periods: Vec<ContractPeriod> = rows.iter().map(|a| period_view(&state, &c, a)).collect();
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(ContractStatement {
            contract_id: c.id,
            status: c.status.clone(),
            cost: state.catalog.format(&c.asset, c.cost),
            periods,
        }),
        Format::Csv => csv(
            &[
                "from",
                "to",
                "contracted_hs",
                "delivered_hs",
                "released",
                "seller_fee",
                "revenue",
                "refunded",
            ],
            periods.into_iter().map(|p| {
                vec![
                    p.from.to_rfc3339(),
                    p.to.to_rfc3339(),
                    p.contracted_hs,
                    p.delivered_hs,
                    p.released,
                    p.seller_fee,
                    p.revenue,
                    p.refunded,
                ]
            }),
        ),
    })
}

/// One accrual period of a rig.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RigPeriod {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
    /// Contracts served.
    pub contracts: u32,
    /// Σ contracted hash rate, H/s.
    pub contracted_hs: String,
    /// Σ hash rate credited to them, H/s.
    pub delivered_hs: String,
    /// Released to the seller less the seller fee, per asset.
    pub earnings: String,
    /// Asset of `earnings`.
    pub asset: String,
}

/// Per period: contracts served, Σ contracted, Σ delivered, Σ earned.
type PeriodTotals = (u32, i64, i64, Decimal);

/// A seller's report on one rig.
#[utoipa::path(get, path = "/v1/rigs/{id}/statement", tag = "statements", params(StatementQuery),
    responses((status = 200, body = Vec<RigPeriod>), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn rig_statement(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    query: web::Query<StatementQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let format = query.format()?;
    let rig = state
        .store
        .rig(*id)
        .await
        .map_err(store_error)?
        .filter(|r| r.owner_id == principal.user_id)
        .ok_or_else(Problem::not_found)?;
    let (from, to) = query.period(rig.created_at, state.config.clock.now())?;
    let contracts = state
        .store
        .rig_contracts(&[rig.id], from, to)
        .await
        .map_err(store_error)?;
    let hash_rates: BTreeMap<Uuid, i64> = contracts
        .iter()
        .map(|c| (c.contract_id, c.hash_rate_hs))
        .collect();
    let ids: Vec<Uuid> = hash_rates.keys().copied().collect();
    let rows = state
        .store
        .accruals_of(&ids, from, to)
        .await
        .map_err(store_error)?;
    // Contracts of one rig share its algorithm and so its coin.
    let asset = match ids.first() {
        Some(id) => state
            .store
            .contract(*id)
            .await
            .map_err(store_error)?
            .map(|c| c.asset)
            .unwrap_or_default(),
        None => String::new(),
    };
    let mut periods: BTreeMap<(DateTime<Utc>, DateTime<Utc>), PeriodTotals> = BTreeMap::new();
    for a in &rows {
        let p = periods.entry((a.period_start, a.period_end)).or_default();
        p.0 += 1;
        p.1 += hash_rates.get(&a.contract_id).copied().unwrap_or(0);
        p.2 += a.delivered_hs;
        p.3 += a.released - a.seller_fee;
    }
    let views: Vec<RigPeriod> = periods
        .into_iter()
        .map(
            |((from, to), (n, contracted, delivered, earned))| RigPeriod {
                from,
                to,
                contracts: n,
                contracted_hs: contracted.to_string(),
                delivered_hs: delivered.to_string(),
                earnings: if asset.is_empty() {
                    earned.to_string()
                } else {
                    state.catalog.format(&asset, earned)
                },
                asset: asset.clone(),
            },
        )
        .collect();
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(views),
        Format::Csv => csv(
            &[
                "from",
                "to",
                "contracts",
                "contracted_hs",
                "delivered_hs",
                "earnings",
                "asset",
            ],
            views.into_iter().map(|p| {
                vec![
                    p.from.to_rfc3339(),
                    p.to.to_rfc3339(),
                    p.contracts.to_string(),
                    p.contracted_hs,
                    p.delivered_hs,
                    p.earnings,
                    p.asset,
                ]
            }),
        ),
    })
}

/// A contract as a picture: contracted vs delivered hash rate per period, and the
/// cumulative money released to the seller.
#[utoipa::path(get, path = "/v1/contracts/{id}/chart.svg", tag = "statements",
    responses((status = 200, content_type = "image/svg+xml"), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn contract_chart(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    let c = own_contract(&state, &principal, *id).await?;
    let rows = state.store.accruals(c.id).await.map_err(store_error)?;
    let svg = chart_svg(&c, &rows, |d| state.catalog.format(&c.asset, d));
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// Renders the chart: two panels sharing the time axis. Hand-written SVG (a few
/// polylines and labels) rather than a plotting crate, because the plotting crates'
/// text layout needs system fonts the server should not depend on.
pub fn chart_svg(
    c: &ContractRow,
    rows: &[AccrualRow],
    money: impl Fn(Decimal) -> String,
) -> String {
    const W: f64 = 800.0;
    const H: f64 = 420.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 20.0;
    let start = c.starts_at.timestamp() as f64;
    let end = (c.ends_at.timestamp() as f64).max(start + 1.0);
    let x = |t: DateTime<Utc>| {
        LEFT + (t.timestamp() as f64 - start) / (end - start) * (W - LEFT - RIGHT)
    };
    // Panel 1: hash rate (y from 40 to 200); panel 2: cumulative released (240 to 380).
    let max_hs = rows
        .iter()
        .map(|a| a.delivered_hs)
        .chain([c.hash_rate_hs])
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let y_hs = |hs: i64| 200.0 - hs as f64 / max_hs * 150.0;
    let total_released: Decimal = rows.iter().map(|a| a.released).sum();
    let max_money = c.cost.max(total_released).max(Decimal::new(1, 8));
    // Money stays exact: the pixel position is computed in decimals.
    let y_money =
        |d: Decimal| (Decimal::from(380) - d * Decimal::from(130) / max_money).round_dp(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{LEFT}\" y=\"24\" font-size=\"14\">Contract {} — {} H/s contracted</text>",
        c.id, c.hash_rate_hs
    );
    // Contracted: a flat line over the contract's life.
    let _ = write!(
        svg,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888\" stroke-dasharray=\"6 4\"/>",
        x(c.starts_at),
        y_hs(c.hash_rate_hs),
        x(c.ends_at),
        y_hs(c.hash_rate_hs)
    );
    // Delivered: a step line, one step per accrual period.
    let mut steps = String::new();
    let mut cumulative = Decimal::ZERO;
    let mut money_points = format!("{:.1},{}", x(c.starts_at), y_money(Decimal::ZERO));
    for a in rows {
        let y = y_hs(a.delivered_hs);
        let _ = write!(
            steps,
            "{:.1},{y:.1} {:.1},{y:.1} ",
            x(a.period_start),
            x(a.period_end)
        );
        cumulative += a.released;
        let _ = write!(
            money_points,
            " {:.1},{}",
            x(a.period_end),
            y_money(cumulative)
        );
    }
    let _ = write!(
        svg,
        "<polyline points=\"{steps}\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\
         <polyline points=\"{money_points}\" fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"2\"/>\
         <line x1=\"{LEFT}\" y1=\"200\" x2=\"{:.1}\" y2=\"200\" stroke=\"black\"/>\
         <line x1=\"{LEFT}\" y1=\"380\" x2=\"{:.1}\" y2=\"380\" stroke=\"black\"/>\
         <text x=\"4\" y=\"54\">{max_hs} H/s</text><text x=\"4\" y=\"200\">0</text>\
         <text x=\"4\" y=\"254\">{}</text><text x=\"4\" y=\"380\">0</text>\
         <text x=\"{LEFT}\" y=\"220\" fill=\"#1f77b4\">delivered per period</text>\
         <text x=\"{:.1}\" y=\"220\" fill=\"#888\">contracted</text>\
         <text x=\"{LEFT}\" y=\"400\" fill=\"#2ca02c\">released to the seller, cumulative: {} of {}</text>\
         <text x=\"{LEFT}\" y=\"416\">{} → {}</text></svg>",
        W - RIGHT,
        W - RIGHT,
        money(max_money),
        LEFT + 200.0,
        money(cumulative),
        money(c.cost),
        c.starts_at.to_rfc3339(),
        c.ends_at.to_rfc3339()
    );
    svg
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(user_statement, contract_statement, rig_statement, contract_chart),
    components(schemas(
        StatementLine,
        StatementSummary,
        UserStatement,
        ContractPeriod,
        ContractStatement,
        RigPeriod
    ))
)]
pub struct ApiDoc;
