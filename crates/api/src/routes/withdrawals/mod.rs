//! Withdrawals (API.md "Payouts and withdrawals"): settings and thresholds,
//! requests (Idempotency-Key required), confirmation by emailed token or TOTP,
//! cancellation, and the operator's completion and rejection. The rules live in
//! [`crate::withdrawals`]; the routes read and check the requests, one file per
//! side: `settings` (payout settings), `user` (a user's own withdrawals),
//! `operator` (everyone's, completed or rejected). What they share — the
//! withdrawal as shown and listed, the problems, the input checks — is here.

mod operator;
mod settings;
mod user;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_store::withdrawals::{WithdrawalQuery, WithdrawalRow};

use crate::pagination::{Cursor, Page};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::store_error;
use crate::withdrawals::{Status, WithdrawalError, ADDRESS_MAX_CHARS, CONFIRM_TTL_HOURS};

pub use operator::{admin_list_withdrawals, complete_withdrawal, reject_withdrawal};
pub use operator::{CompleteInput, RejectInput};
pub use settings::{get_settings, put_settings, SettingsInput, SettingsView};
pub use user::{cancel_withdrawal, confirm_withdrawal, get_withdrawal};
pub use user::{list_withdrawals, request_withdrawal, ConfirmInput, WithdrawalInput};

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

/// The emailed confirmation token is wrong, or has expired.
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
    check_printable("address", text, ADDRESS_MAX_CHARS)?;
    Ok(text.to_string())
}

/// `text`, the value of `field`, is 1 to `max_chars` printable ASCII characters
/// with no spaces (addresses and txids: what a wallet or explorer would accept).
fn check_printable(field: &str, text: &str, max_chars: usize) -> Result<(), Problem> {
    let ok = !text.is_empty()
        && text.chars().count() <= max_chars
        && text.chars().all(|c| c.is_ascii_graphic());
    if !ok {
        return Err(Problem::validation(
            field,
            format!("1 to {max_chars} printable characters, no spaces"),
        ));
    }
    Ok(())
}

/// The catalog's terms of `asset` (minimum, fee, decimals), or a problem naming it.
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

// --- the withdrawal, as shown and listed --------------------------------------

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

/// The row as shown: amounts formatted in the asset's decimals.
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

/// One page of withdrawals, newest first: `user_id`'s, or everyone's when `None`.
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

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        settings::get_settings,
        settings::put_settings,
        user::request_withdrawal,
        user::list_withdrawals,
        operator::admin_list_withdrawals,
        user::get_withdrawal,
        user::confirm_withdrawal,
        user::cancel_withdrawal,
        operator::complete_withdrawal,
        operator::reject_withdrawal
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
