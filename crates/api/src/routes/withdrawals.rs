//! Withdrawals (API.md "Payouts and withdrawals"): settings and thresholds,
//! requests (Idempotency-Key required), confirmation by emailed token or TOTP,
//! cancellation, and the operator's completion and rejection. The rules live in
//! [`crate::withdrawals`]; this module reads and checks the requests.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_store::withdrawals::{WithdrawalQuery, WithdrawalRow, WithdrawalSettingsRow};

use crate::auth::{totp, Principal, Role, Scope};
use crate::crypto;
use crate::idempotency::{self, key::fingerprint, IdempotencyKey};
use crate::mail::templates;
use crate::pagination::{Cursor, Page};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{client_ip, parse_json, store_error};
use crate::withdrawals::{
    self as service, Action, Amount, Status, WithdrawalError, ADDRESS_MAX_CHARS, CONFIRM_TTL_HOURS,
    REASON_MAX_CHARS, TXID_MAX_CHARS,
};

/// Registers the routes (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/withdrawal-settings")
            .get(get_settings)
            .put(put_settings),
    )
    .service(
        web::resource("/withdrawals")
            .get(list_withdrawals)
            .post(request_withdrawal),
    )
    .service(
        web::resource("/withdrawals/{id}")
            .get(get_withdrawal)
            .delete(cancel_withdrawal),
    )
    .service(web::resource("/withdrawals/{id}/confirm").post(confirm_withdrawal))
    .service(web::resource("/admin/withdrawals").get(admin_list_withdrawals))
    .service(web::resource("/admin/withdrawals/{id}/complete").post(complete_withdrawal))
    .service(web::resource("/admin/withdrawals/{id}/reject").post(reject_withdrawal));
}

// --- problems -------------------------------------------------------------------

fn below_threshold(threshold: &str) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "below-withdrawal-threshold",
        "Below the withdrawal threshold",
    )
    .with_detail(format!(
        "the smallest withdrawal is {threshold} (your threshold, or the asset's minimum)"
    ))
    .with_field("amount", format!("at least {threshold}"))
}

fn token_invalid() -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "withdrawal-token-invalid",
        "Withdrawal token invalid",
    )
    .with_detail(format!(
        "the confirmation token is wrong, or older than {CONFIRM_TTL_HOURS} hours"
    ))
    .with_field("token", "expected the token from the withdrawal email")
}

/// How a refusal of the withdrawal service is answered.
fn withdrawal_problem(err: WithdrawalError) -> Problem {
    match err {
        WithdrawalError::NotFound => Problem::not_found(),
        WithdrawalError::InsufficientFunds { .. } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "insufficient-funds",
            "Insufficient funds",
        )
        .with_detail(err.to_string()),
        WithdrawalError::Conflict { .. } => Problem::new(
            StatusCode::CONFLICT,
            "withdrawal-status-conflict",
            "Withdrawal status conflict",
        )
        .with_detail(err.to_string()),
        WithdrawalError::TokenInvalid => token_invalid(),
        WithdrawalError::Store(err) => store_error(err),
    }
}

// --- checks ---------------------------------------------------------------------

/// A destination address: 1–128 printable ASCII characters, no spaces.
fn check_address(text: &str) -> Result<String, Problem> {
    let ok = !text.is_empty()
        && text.chars().count() <= ADDRESS_MAX_CHARS
        && text.chars().all(|c| c.is_ascii_graphic());
    if !ok {
        return Err(Problem::validation(
            "address",
            format!("1 to {ADDRESS_MAX_CHARS} printable characters, no spaces"),
        ));
    }
    Ok(text.to_string())
}

fn asset_terms<'a>(
    state: &'a AppState,
    asset: &str,
) -> Result<&'a hashmarket_contracts::Asset, Problem> {
    state
        .catalog
        .catalog()
        .assets
        .get(asset)
        .ok_or_else(|| Problem::validation("asset", "no such asset (GET /v1/assets)"))
}

async fn own_settings(
    state: &AppState,
    user_id: Uuid,
    asset: &str,
) -> Result<Option<WithdrawalSettingsRow>, Problem> {
    Ok(state
        .store
        .withdrawal_settings(user_id)
        .await
        .map_err(store_error)?
        .into_iter()
        .find(|s| s.asset == asset))
}

// --- settings -------------------------------------------------------------------

/// A user's payout settings for one asset.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    /// Asset code.
    pub asset: String,
    /// Where withdrawals go when the request names no address, and automatic payouts.
    pub address: String,
    /// The smallest withdrawal; automatic payouts are made once available reaches it.
    pub threshold: String,
    /// Pay the whole available balance automatically at the threshold.
    pub auto_payout: bool,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

fn settings_view(state: &AppState, row: &WithdrawalSettingsRow) -> SettingsView {
    SettingsView {
        asset: row.asset.clone(),
        address: row.address.clone(),
        threshold: state.catalog.format(&row.asset, row.threshold),
        auto_payout: row.auto_payout,
        updated_at: row.updated_at,
    }
}

/// New payout settings for one asset.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// Asset code.
    pub asset: String,
    /// Destination address, 1–128 printable characters.
    pub address: String,
    /// At least the asset's `withdrawal_min` (GET /v1/assets).
    pub threshold: String,
    /// Pay out automatically at the threshold.
    pub auto_payout: bool,
    /// The current TOTP code: required when the account has TOTP enabled.
    pub code: Option<String>,
}

/// The caller's payout settings, one per asset set.
#[utoipa::path(get, path = "/v1/withdrawal-settings", tag = "withdrawals",
    responses((status = 200, body = [SettingsView]), (status = 401, body = crate::problem::ProblemWire)))]
pub async fn get_settings(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let rows = state
        .store
        .withdrawal_settings(principal.user_id)
        .await
        .map_err(store_error)?;
    let views: Vec<SettingsView> = rows.iter().map(|r| settings_view(&state, r)).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Sets the caller's payout settings for an asset (withdraw scope, verified email;
/// the TOTP code when enabled, since the address decides where money goes).
#[utoipa::path(put, path = "/v1/withdrawal-settings", tag = "withdrawals", request_body = SettingsInput,
    responses((status = 200, body = SettingsView), (status = 403, body = crate::problem::ProblemWire),
              (status = 422, body = crate::problem::ProblemWire)))]
pub async fn put_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Withdraw)?;
    principal.require_verified_email()?;
    let input: SettingsInput = parse_json(&body)?;
    let asset = asset_terms(&state, &input.asset)?;
    let threshold = state
        .catalog
        .parse_amount(&input.asset, &input.threshold, "threshold")?;
    if threshold < asset.withdrawal_min {
        return Err(Problem::validation(
            "threshold",
            format!(
                "at least the asset's minimum withdrawal, {}",
                asset.format(asset.withdrawal_min)
            ),
        ));
    }
    let address = check_address(&input.address)?;
    totp::require_code(
        &state,
        principal.user_id,
        input.code.as_deref(),
        client_ip(&req),
    )
    .await?;
    let row = WithdrawalSettingsRow {
        user_id: principal.user_id,
        asset: input.asset,
        address,
        threshold,
        auto_payout: input.auto_payout,
        updated_at: Utc::now(),
    };
    state
        .store
        .put_withdrawal_settings(&row)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(settings_view(&state, &row)))
}

// --- withdrawals ----------------------------------------------------------------

/// A withdrawal.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WithdrawalView {
    /// Withdrawal id.
    pub id: Uuid,
    /// Whose.
    pub user_id: Uuid,
    /// Asset code.
    pub asset: String,
    /// What left the available balance, the fee included.
    pub amount: String,
    /// The network fee (the asset's `withdrawal_fee`).
    pub fee: String,
    /// What the address receives: amount − fee.
    pub net_amount: String,
    /// Destination address.
    pub address: String,
    /// `pending_confirmation`, `confirmed`, `completed`, `rejected`, `cancelled`.
    pub status: String,
    /// Made by the automatic payout.
    pub auto: bool,
    /// Requested.
    pub created_at: DateTime<Utc>,
    /// Confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    /// Last status change.
    pub updated_at: DateTime<Utc>,
    /// The network transaction id, once sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txid: Option<String>,
    /// Why the operator rejected it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
}

fn view(state: &AppState, row: &WithdrawalRow) -> WithdrawalView {
    let money = |d: Decimal| state.catalog.format(&row.asset, d);
    WithdrawalView {
        id: row.id,
        user_id: row.user_id,
        asset: row.asset.clone(),
        amount: money(row.amount),
        fee: money(row.fee),
        net_amount: money(row.amount - row.fee),
        address: row.address.clone(),
        status: row.status.clone(),
        auto: row.auto,
        created_at: row.created_at,
        confirmed_at: row.confirmed_at,
        completed_at: row.completed_at,
        updated_at: row.updated_at,
        txid: row.txid.clone(),
        reject_reason: row.reject_reason.clone(),
    }
}

/// A withdrawal request.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalInput {
    /// Asset code.
    pub asset: String,
    /// What leaves the available balance, the network fee included (the address
    /// receives amount − fee); at least the caller's threshold, or the asset's
    /// minimum without settings.
    pub amount: String,
    /// Destination; the settings' address when absent.
    pub address: Option<String>,
}

/// Requests a withdrawal (withdraw scope, verified email, Idempotency-Key). The
/// amount is held at once; an email carries the confirmation token.
#[utoipa::path(post, path = "/v1/withdrawals", tag = "withdrawals", request_body = WithdrawalInput,
    params(("Idempotency-Key" = String, Header, description = "1–255 characters")),
    responses((status = 201, body = WithdrawalView), (status = 400, body = crate::problem::ProblemWire),
              (status = 403, body = crate::problem::ProblemWire), (status = 409, body = crate::problem::ProblemWire),
              (status = 422, body = crate::problem::ProblemWire)))]
pub async fn request_withdrawal(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Withdraw)?;
    principal.require_verified_email()?;
    let key = IdempotencyKey::required(&req)?;
    let input: WithdrawalInput = parse_json(&body)?;
    let asset = asset_terms(&state, &input.asset)?;
    let amount = state
        .catalog
        .parse_amount(&input.asset, &input.amount, "amount")?;
    if amount <= Decimal::ZERO {
        return Err(Problem::validation("amount", "must be positive"));
    }
    if let Some(address) = &input.address {
        check_address(address)?;
    }
    let settings = own_settings(&state, principal.user_id, &input.asset).await?;
    let threshold = settings.as_ref().map_or(asset.withdrawal_min, |s| {
        s.threshold.max(asset.withdrawal_min)
    });
    if amount < threshold {
        return Err(below_threshold(&asset.format(threshold)));
    }
    if amount <= asset.withdrawal_fee {
        return Err(Problem::validation(
            "amount",
            format!(
                "must be more than the network fee, {}",
                asset.format(asset.withdrawal_fee)
            ),
        ));
    }
    let address = match (input.address, settings) {
        (Some(address), _) => address,
        (None, Some(settings)) => settings.address,
        (None, None) => {
            return Err(Problem::validation(
                "address",
                "give an address, or set one in PUT /v1/withdrawal-settings",
            ))
        }
    };
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
    let now = state.config.clock.now();
    let token = crypto::random_hex(32);
    let row = WithdrawalRow {
        id: Uuid::now_v7(),
        user_id: principal.user_id,
        asset: input.asset,
        amount,
        fee: asset.withdrawal_fee,
        address,
        status: Status::PendingConfirmation.as_str().into(),
        confirm_token_hash: Some(crypto::sha256_hex(token.as_bytes())),
        created_at: now,
        confirmed_at: None,
        completed_at: None,
        updated_at: now,
        txid: None,
        reject_reason: None,
        auto: false,
    };
    let answer = serde_json::to_value(view(&state, &row)).map_err(|_| Problem::internal())?;
    let completion = claimed.completion(StatusCode::CREATED, &answer);
    let email = service::user_email(
        row.user_id,
        service::render(&state.catalog, &row, |t| {
            templates::withdrawal_requested(t, &token, CONFIRM_TTL_HOURS)
        }),
    );
    let created = service::create(
        &*state.store,
        row,
        Amount::Exactly,
        Some(email),
        Some(completion),
    )
    .await;
    match created {
        Ok(_) => {
            state.mailer.wake();
            Ok(HttpResponse::Created().json(answer))
        }
        Err(err) => {
            claimed.release(&*state.store).await;
            Err(withdrawal_problem(err))
        }
    }
}

/// The query of the withdrawal listings.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalListQuery {
    /// Only this status.
    pub status: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (1–500, default 100).
    pub limit: Option<u32>,
}

async fn list(
    state: &AppState,
    user_id: Option<Uuid>,
    query: &WithdrawalListQuery,
) -> Result<HttpResponse, Problem> {
    let limit = Page::<()>::limit(query.limit)?;
    if let Some(status) = &query.status {
        if Status::parse(status).is_none() {
            return Err(Problem::validation(
                "status",
                "one of pending_confirmation, confirmed, completed, rejected, cancelled",
            ));
        }
    }
    let filter = WithdrawalQuery {
        user_id,
        status: query.status.clone(),
        before: Cursor::decode_id(query.cursor.as_deref())?,
        limit: limit + 1,
    };
    let rows = state
        .store
        .withdrawals(&filter)
        .await
        .map_err(store_error)?;
    let page = Page::from_rows(rows, limit, |r| Cursor::encode_id(r.id));
    Ok(HttpResponse::Ok().json(page.map(|r| view(state, &r))))
}

/// The caller's withdrawals, newest first.
#[utoipa::path(get, path = "/v1/withdrawals", tag = "withdrawals", params(WithdrawalListQuery),
    responses((status = 200, body = Page<WithdrawalView>)))]
pub async fn list_withdrawals(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<WithdrawalListQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    list(&state, Some(principal.user_id), &query).await
}

/// Everyone's withdrawals, newest first (operator): `?status=confirmed` is the
/// queue to send.
#[utoipa::path(get, path = "/v1/admin/withdrawals", tag = "admin", params(WithdrawalListQuery),
    responses((status = 200, body = Page<WithdrawalView>), (status = 403, body = crate::problem::ProblemWire)))]
pub async fn admin_list_withdrawals(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<WithdrawalListQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_role(&[Role::Operator])?;
    principal.require_scope(Scope::Read)?;
    list(&state, None, &query).await
}

async fn own_withdrawal(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<WithdrawalRow, Problem> {
    state
        .store
        .withdrawal(id)
        .await
        .map_err(store_error)?
        .filter(|w| w.user_id == principal.user_id)
        .ok_or_else(Problem::not_found)
}

/// One of the caller's withdrawals.
#[utoipa::path(get, path = "/v1/withdrawals/{id}", tag = "withdrawals",
    responses((status = 200, body = WithdrawalView), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn get_withdrawal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Read)?;
    let row = own_withdrawal(&state, &principal, *id).await?;
    Ok(HttpResponse::Ok().json(view(&state, &row)))
}

/// Proof for a confirmation.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmInput {
    /// The token from the withdrawal email (accounts without TOTP).
    pub token: Option<String>,
    /// The current TOTP code: required, and enough, when TOTP is enabled.
    pub code: Option<String>,
}

/// Confirms a withdrawal: with the current TOTP code when the account has TOTP
/// (the emailed token alone is then refused), else with the emailed token.
#[utoipa::path(post, path = "/v1/withdrawals/{id}/confirm", tag = "withdrawals", request_body = ConfirmInput,
    responses((status = 200, body = WithdrawalView), (status = 403, body = crate::problem::ProblemWire),
              (status = 404, body = crate::problem::ProblemWire), (status = 409, body = crate::problem::ProblemWire),
              (status = 422, body = crate::problem::ProblemWire)))]
pub async fn confirm_withdrawal(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Withdraw)?;
    principal.require_verified_email()?;
    let input: ConfirmInput = parse_json(&body)?;
    let row = own_withdrawal(&state, &principal, *id).await?;
    // Refuse a settled one before a TOTP code is spent on it.
    if row.status != Status::PendingConfirmation.as_str() {
        return Err(withdrawal_problem(WithdrawalError::Conflict {
            status: row.status,
            action: "confirm",
        }));
    }
    let by_totp = totp::require_code(
        &state,
        principal.user_id,
        input.code.as_deref(),
        client_ip(&req),
    )
    .await?;
    let token_hash = if by_totp {
        None
    } else {
        let token = input.token.as_deref().ok_or_else(|| {
            Problem::validation("token", "the token from the withdrawal email is required")
        })?;
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(token_invalid());
        }
        Some(crypto::sha256_hex(token.to_ascii_lowercase().as_bytes()))
    };
    let confirmed = service::transition(
        &*state.store,
        *id,
        Some(principal.user_id),
        Action::Confirm { token_hash },
        state.config.clock.now(),
        |_| None,
    )
    .await
    .map_err(withdrawal_problem)?;
    Ok(HttpResponse::Ok().json(view(&state, &confirmed)))
}

/// Cancels one of the caller's unconfirmed withdrawals; the amount is available again.
#[utoipa::path(delete, path = "/v1/withdrawals/{id}", tag = "withdrawals",
    responses((status = 200, body = WithdrawalView), (status = 404, body = crate::problem::ProblemWire),
              (status = 409, body = crate::problem::ProblemWire)))]
pub async fn cancel_withdrawal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    principal.require_scope(Scope::Withdraw)?;
    let cancelled = service::transition(
        &*state.store,
        *id,
        Some(principal.user_id),
        Action::Cancel,
        state.config.clock.now(),
        |_| None,
    )
    .await
    .map_err(withdrawal_problem)?;
    Ok(HttpResponse::Ok().json(view(&state, &cancelled)))
}

/// The operator's record of a sent withdrawal.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInput {
    /// The network transaction id, 1–128 printable characters.
    pub txid: String,
}

/// Marks a confirmed withdrawal sent (operator): amount − fee to `world`, the fee
/// to `fees`; the user is emailed the txid.
#[utoipa::path(post, path = "/v1/admin/withdrawals/{id}/complete", tag = "admin", request_body = CompleteInput,
    responses((status = 200, body = WithdrawalView), (status = 403, body = crate::problem::ProblemWire),
              (status = 404, body = crate::problem::ProblemWire), (status = 409, body = crate::problem::ProblemWire),
              (status = 422, body = crate::problem::ProblemWire)))]
pub async fn complete_withdrawal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_role(&[Role::Operator])?;
    principal.require_scope(Scope::Withdraw)?;
    let input: CompleteInput = parse_json(&body)?;
    let txid = input.txid;
    let ok = !txid.is_empty()
        && txid.chars().count() <= TXID_MAX_CHARS
        && txid.chars().all(|c| c.is_ascii_graphic());
    if !ok {
        return Err(Problem::validation(
            "txid",
            format!("1 to {TXID_MAX_CHARS} printable characters, no spaces"),
        ));
    }
    let done = service::transition(
        &*state.store,
        *id,
        None,
        Action::Complete { txid },
        state.config.clock.now(),
        |row| service::outcome_email(&state, row),
    )
    .await
    .map_err(withdrawal_problem)?;
    state.mailer.wake();
    Ok(HttpResponse::Ok().json(view(&state, &done)))
}

/// The operator's refusal.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    /// Why, shown to the user: 1–500 characters.
    pub reason: String,
}

/// Rejects a pending or confirmed withdrawal (operator): the whole amount returns
/// to the user's available balance; the user is emailed the reason.
#[utoipa::path(post, path = "/v1/admin/withdrawals/{id}/reject", tag = "admin", request_body = RejectInput,
    responses((status = 200, body = WithdrawalView), (status = 403, body = crate::problem::ProblemWire),
              (status = 404, body = crate::problem::ProblemWire), (status = 409, body = crate::problem::ProblemWire),
              (status = 422, body = crate::problem::ProblemWire)))]
pub async fn reject_withdrawal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    principal.require_role(&[Role::Operator])?;
    principal.require_scope(Scope::Withdraw)?;
    let input: RejectInput = parse_json(&body)?;
    let reason = input.reason.trim().to_string();
    if reason.is_empty()
        || reason.chars().count() > REASON_MAX_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(Problem::validation(
            "reason",
            format!("1 to {REASON_MAX_CHARS} characters, no control characters"),
        ));
    }
    let done = service::transition(
        &*state.store,
        *id,
        None,
        Action::Reject { reason },
        state.config.clock.now(),
        |row| service::outcome_email(&state, row),
    )
    .await
    .map_err(withdrawal_problem)?;
    state.mailer.wake();
    Ok(HttpResponse::Ok().json(view(&state, &done)))
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        get_settings,
        put_settings,
        request_withdrawal,
        list_withdrawals,
        admin_list_withdrawals,
        get_withdrawal,
        confirm_withdrawal,
        cancel_withdrawal,
        complete_withdrawal,
        reject_withdrawal
    ),
    components(schemas(
        SettingsView,
        SettingsInput,
        WithdrawalView,
        WithdrawalInput,
        ConfirmInput,
        CompleteInput,
        RejectInput
    ))
)]
pub struct ApiDoc;
