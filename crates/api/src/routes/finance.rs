//! Finance routes (finance role): the streaming ledger export and reconciliation.
//! The work is in [`crate::finance`]; this module checks the caller and the query.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_ledger::Purpose;
use hashmarket_store::finance::ExportFilter;

use crate::auth::{Principal, Role, Scope};
use crate::finance::{
    exact, reconcile, reconciliation_csv, ExportFormat, LedgerExport, Reconciliation,
};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::store_error;

/// Registers the routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/finance/ledger").get(export_ledger))
        .service(web::resource("/finance/reconciliation").get(reconciliation));
}

/// Which entries to export, and how.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Entries at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// One asset (`BTC`).
    pub asset: Option<String>,
    /// One account purpose (`available`, `order_hold`, `contract_escrow`, ...).
    pub account: Option<String>,
    /// One owner's accounts (a user id).
    pub owner: Option<Uuid>,
    /// `csv` (default) or `ndjson`.
    pub format: Option<String>,
}

/// A reconciliation period and format.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReconciliationQuery {
    /// Start (RFC 3339), inclusive. Default: the beginning of the ledger.
    pub from: Option<DateTime<Utc>>,
    /// End (RFC 3339), exclusive. Default: through the latest entry.
    pub to: Option<DateTime<Utc>>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// 403 unless the caller is finance (with the read scope, for API keys).
fn require_finance(principal: &Principal) -> Result<(), Problem> {
    principal.require_role(&[Role::Finance])?;
    principal.require_scope(Scope::Read)
}

/// 422 unless `to` is after `from`.
fn check_period(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<(), Problem> {
    match (from, to) {
        (Some(from), Some(to)) if to <= from => {
            Err(Problem::validation("to", "must be after from"))
        }
        _ => Ok(()),
    }
}

impl ExportQuery {
    fn filter(&self, state: &AppState) -> Result<ExportFilter, Problem> {
        check_period(self.from, self.to)?;
        if let Some(asset) = &self.asset {
            if !state.catalog.asset_ids().any(|a| a == asset) {
                return Err(Problem::validation("asset", "no such asset"));
            }
        }
        if let Some(account) = &self.account {
            if Purpose::parse(account).is_none() {
                return Err(Problem::validation(
                    "account",
                    "an account purpose: available, order_hold, contract_escrow, ...",
                ));
            }
        }
        Ok(ExportFilter {
            from: self.from,
            to: self.to,
            asset: self.asset.clone(),
            owner: self.owner,
            purpose: self.account.clone(),
        })
    }
}

/// Streams every journal entry the query selects, in journal order, as RFC 4180 CSV
/// (with a header record) or NDJSON. Memory stays constant however many rows.
#[utoipa::path(get, path = "/v1/finance/ledger", tag = "finance", params(ExportQuery),
    responses((status = 200, description = "CSV or NDJSON, streamed"),
        (status = 403, body = crate::problem::ProblemWire),
        (status = 422, body = crate::problem::ProblemWire)))]
pub async fn export_ledger(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, Problem> {
    require_finance(&principal)?;
    let format = match query.format.as_deref() {
        None => ExportFormat::Csv,
        Some(text) => text
            .parse()
            .map_err(|e: &str| Problem::validation("format", e))?,
    };
    let filter = query.filter(&state)?;
    let export = LedgerExport::start(state.store.clone(), state.catalog.clone(), filter, format);
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .streaming(export.into_stream()))
}

/// One account in a reconciliation.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountLine {
    /// Owner (user id; the operator is the nil id).
    pub owner_id: Uuid,
    /// Asset.
    pub asset: String,
    /// Account purpose.
    pub account: String,
    /// Balance at `from`.
    pub opening: String,
    /// Σ debits in the period.
    pub debits: String,
    /// Σ credits in the period.
    pub credits: String,
    /// opening + credits − debits.
    pub closing: String,
    /// The closing balance is the one the journal recorded.
    pub matches_journal: bool,
}

/// One asset in a reconciliation.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AssetLine {
    /// Asset.
    pub asset: String,
    /// Σ opening balances (0 when balanced).
    pub opening: String,
    /// Σ debits.
    pub debits: String,
    /// Σ credits (= debits when balanced).
    pub credits: String,
    /// Σ closing balances (0 when balanced).
    pub closing: String,
    /// Sums to zero and every account matches the journal.
    pub balanced: bool,
}

/// A reconciliation of a period.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReconciliationView {
    /// Start (inclusive; absent: the beginning).
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive; absent: through the latest entry).
    pub to: Option<DateTime<Utc>>,
    /// Every asset balanced.
    pub balanced: bool,
    /// Per asset.
    pub assets: Vec<AssetLine>,
    /// Per account.
    pub accounts: Vec<AccountLine>,
}

fn view(
    state: &AppState,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    r: Reconciliation,
) -> ReconciliationView {
    let x = |asset: &str, d| exact(&state.catalog, asset, d);
    ReconciliationView {
        from,
        to,
        balanced: r.balanced,
        assets: r
            .assets
            .into_iter()
            .map(|a| AssetLine {
                opening: x(&a.asset, a.opening),
                debits: x(&a.asset, a.debits),
                credits: x(&a.asset, a.credits),
                closing: x(&a.asset, a.closing),
                balanced: a.balanced,
                asset: a.asset,
            })
            .collect(),
        accounts: r
            .accounts
            .into_iter()
            .map(|a| AccountLine {
                owner_id: a.owner_id,
                opening: x(&a.asset, a.opening),
                debits: x(&a.asset, a.debits),
                credits: x(&a.asset, a.credits),
                closing: x(&a.asset, a.closing),
                matches_journal: a.matches_journal,
                asset: a.asset,
                account: a.account,
            })
            .collect(),
    }
}

/// Per account and asset over `[from, to)`: opening balance, debits, credits,
/// closing balance, and the check that per asset everything sums to zero.
#[utoipa::path(get, path = "/v1/finance/reconciliation", tag = "finance",
    params(ReconciliationQuery),
    responses((status = 200, body = ReconciliationView),
        (status = 403, body = crate::problem::ProblemWire),
        (status = 422, body = crate::problem::ProblemWire)))]
pub async fn reconciliation(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ReconciliationQuery>,
) -> Result<HttpResponse, Problem> {
    require_finance(&principal)?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(Problem::validation("format", "json or csv")),
    };
    check_period(query.from, query.to)?;
    let r = reconcile(&*state.store, query.from, query.to)
        .await
        .map_err(store_error)?;
    if !r.balanced {
        tracing::error!(from = ?query.from, to = ?query.to, "reconciliation found the books out of balance");
    }
    Ok(if csv {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(reconciliation_csv(&state.catalog, &r))
    } else {
        HttpResponse::Ok().json(view(&state, query.from, query.to, r))
    })
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(export_ledger, reconciliation),
    components(schemas(AccountLine, AssetLine, ReconciliationView))
)]
pub struct ApiDoc;
