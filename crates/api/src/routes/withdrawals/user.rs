//! A user's own withdrawals (`/v1/withdrawals`): request (Idempotency-Key
//! required), list, read, confirm by emailed token or TOTP code, and cancel.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use hashmarket_store::withdrawals::WithdrawalRow;

use super::settings::own_settings;
use super::{
    asset_terms, check_address, list, token_invalid, view, withdrawal_problem, WithdrawalListQuery,
    WithdrawalView,
};
use crate::auth::{totp, Principal, Scope};
use crate::crypto;
use crate::idempotency::{self, key::fingerprint, IdempotencyKey};
use crate::mail::templates;
use crate::pagination::Page;
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{client_ip, parse_json, store_error};
use crate::withdrawals::{
    self as service, Action, Amount, Status, WithdrawalError, CONFIRM_TTL_HOURS,
};

/// The amount is below the caller's threshold, or the asset's minimum.
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

/// The caller's withdrawal `id`; another user's is not found, like a missing one.
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
