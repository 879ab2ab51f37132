//! Money: `GET /v1/balances`, `GET /v1/ledger`, and the operator's
//! `POST /v1/admin/credits` (Idempotency-Key required).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_market::money::{self, Purpose};
use hashmarket_store::market::LedgerEntryRow;

use crate::auth::{Principal, Role, Scope};
use crate::idempotency::{self, key::fingerprint, IdempotencyKey};
use crate::pagination::{Cursor, Page};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{parse_json, store_error};

/// Registers the money routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/balances").get(balances))
        .service(web::resource("/ledger").get(ledger))
        .service(web::resource("/admin/credits").post(credit));
}

/// One asset's balances for the caller.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BalanceView {
    /// Asset code.
    pub asset: String,
    /// Free to spend or withdraw.
    pub available: String,
    /// Held for open bids.
    pub held: String,
    /// In escrow for running contracts (as buyer).
    pub escrow: String,
    /// Requested for withdrawal, not yet sent.
    pub pending_withdrawal: String,
}

/// The caller's balances per asset.
#[utoipa::path(get, path = "/v1/balances", tag = "money",
    responses((status = 200, body = [BalanceView]), (status = 401, body = crate::problem::ProblemWire)))]
pub async fn balances(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let accounts = state
        .store
        .balances(principal.user_id)
        .await
        .map_err(store_error)?;
    let mut views: Vec<BalanceView> = Vec::new();
    for asset in state.catalog.asset_ids() {
        let of = |purpose: Purpose| {
            let amount = accounts
                .iter()
                .filter(|a| a.account.asset == asset && a.account.purpose == purpose.as_str())
                .map(|a| a.balance)
                .sum::<Decimal>();
            state.catalog.format(asset, amount)
        };
        let view = BalanceView {
            asset: asset.to_string(),
            available: of(Purpose::Available),
            held: of(Purpose::OrderHold),
            escrow: of(Purpose::ContractEscrow),
            pending_withdrawal: of(Purpose::PendingWithdrawal),
        };
        views.push(view);
    }
    Ok(HttpResponse::Ok().json(views))
}

/// The query of `GET /v1/ledger`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// Only this asset.
    pub asset: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (1–500, default 100).
    pub limit: Option<u32>,
}

/// One journal entry of the caller's.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LedgerEntryView {
    /// Position in the journal.
    pub seq: i64,
    /// The transfer it is a side of.
    pub transfer_id: Uuid,
    /// What moved the money.
    pub kind: String,
    /// Asset code.
    pub asset: String,
    /// The caller's account (`available`, `order_hold`, ...).
    pub account: String,
    /// Debited.
    pub debit: String,
    /// Credited.
    pub credit: String,
    /// The account's balance after this entry.
    pub balance_after: String,
    /// When (business clock).
    pub created_at: DateTime<Utc>,
    /// Related order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    /// Related contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<Uuid>,
    /// Related withdrawal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawal_id: Option<Uuid>,
    /// The credit's reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

fn entry_view(state: &AppState, row: LedgerEntryRow) -> LedgerEntryView {
    let asset = row.entry.account.asset.clone();
    LedgerEntryView {
        seq: row.seq,
        transfer_id: row.entry.transfer_id,
        kind: row.kind,
        account: row.entry.account.purpose,
        debit: state.catalog.format(&asset, row.entry.debit),
        credit: state.catalog.format(&asset, row.entry.credit),
        balance_after: state.catalog.format(&asset, row.entry.balance_after),
        created_at: row.entry.created_at,
        order_id: row.order_id,
        contract_id: row.contract_id,
        withdrawal_id: row.withdrawal_id,
        reference: row.reference,
        asset,
    }
}

/// The caller's ledger entries, newest first, cursor-paginated.
#[utoipa::path(get, path = "/v1/ledger", tag = "money", params(LedgerQuery),
    responses((status = 200, body = Page<LedgerEntryView>), (status = 401, body = crate::problem::ProblemWire)))]
pub async fn ledger(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<LedgerQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let limit = Page::<()>::limit(query.limit)?;
    let before = Cursor::decode_seq(query.cursor.as_deref())?;
    let rows = state
        .store
        .ledger_entries(principal.user_id, query.asset.as_deref(), before, limit + 1)
        .await
        .map_err(store_error)?;
    let page = Page::from_rows(rows, limit, |r| Cursor::encode_seq(r.seq));
    Ok(HttpResponse::Ok().json(page.map(|r| entry_view(&state, r))))
}

/// An operator's credit: money arriving from outside to a user's available balance.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditRequest {
    /// The user credited.
    pub user_id: Uuid,
    /// Asset code.
    pub asset: String,
    /// Positive amount, at most the asset's decimal places.
    pub amount: String,
    /// The operator's reference (bank wire, on-chain tx id, ...), 1–200 characters.
    pub reference: String,
}

/// The credit as recorded.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreditView {
    /// The transfer's id.
    pub transfer_id: Uuid,
    /// The user credited.
    pub user_id: Uuid,
    /// Asset code.
    pub asset: String,
    /// Amount credited.
    pub amount: String,
    /// The reference.
    pub reference: String,
}

/// Credits a user from outside (operator; Idempotency-Key required).
#[utoipa::path(post, path = "/v1/admin/credits", tag = "admin", request_body = CreditRequest,
    params(("Idempotency-Key" = String, Header, description = "1–255 characters")),
    responses((status = 201, body = CreditView), (status = 400, body = crate::problem::ProblemWire),
              (status = 403, body = crate::problem::ProblemWire), (status = 409, body = crate::problem::ProblemWire),
              (status = 422, body = crate::problem::ProblemWire)))]
pub async fn credit(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_role(&[Role::Operator])?;
    let key = IdempotencyKey::required(&req)?;
    let input: CreditRequest = parse_json(&body)?;
    let amount = state
        .catalog
        .parse_amount(&input.asset, &input.amount, "amount")?;
    if amount <= Decimal::ZERO {
        return Err(Problem::validation("amount", "must be positive"));
    }
    let reference = input.reference.trim();
    if reference.is_empty() || reference.chars().count() > 200 {
        return Err(Problem::validation(
            "reference",
            "must be 1 to 200 characters",
        ));
    }
    if state
        .store
        .user(input.user_id)
        .await
        .map_err(store_error)?
        .is_none()
    {
        return Err(Problem::validation("user_id", "no such user"));
    }
    let claimed = match idempotency::claim(
        &*state.store,
        &principal.scope_key(),
        &key,
        &fingerprint(&req, &body),
    )
    .await?
    {
        Ok(claimed) => claimed,
        Err(replay) => return Ok(replay),
    };
    let transfer_id = Uuid::now_v7();
    let view = CreditView {
        transfer_id,
        user_id: input.user_id,
        asset: input.asset.clone(),
        amount: state.catalog.format(&input.asset, amount),
        reference: reference.to_string(),
    };
    let body = serde_json::to_value(&view).map_err(|_| Problem::internal())?;
    let completion = claimed.completion(StatusCode::CREATED, &body);
    let credited = money::credit(
        &*state.store,
        money::Credit {
            transfer_id,
            user_id: input.user_id,
            asset: input.asset,
            amount,
            reference: reference.to_string(),
            at: state.config.clock.now(),
        },
        completion,
    )
    .await;
    if let Err(err) = credited {
        claimed.release(&*state.store).await;
        return Err(store_error(err));
    }
    Ok(HttpResponse::Created().json(body))
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(balances, ledger, credit),
    components(schemas(BalanceView, LedgerEntryView, CreditRequest, CreditView))
)]
pub struct ApiDoc;
