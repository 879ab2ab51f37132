//! The operator's side of withdrawals (`/v1/admin/withdrawals`): everyone's
//! withdrawals (the queue to send), and completing or rejecting one.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::{check_printable, list, view, withdrawal_problem, WithdrawalListQuery, WithdrawalView};
use crate::auth::{Principal, Role, Scope};
use crate::pagination::Page;
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::parse_json;
use crate::withdrawals::{self as service, Action, REASON_MAX_CHARS, TXID_MAX_CHARS};

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
    check_printable("txid", &txid, TXID_MAX_CHARS)?;
    decide(&state, *id, Action::Complete { txid }).await
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
    decide(&state, *id, Action::Reject { reason }).await
}

/// Applies the operator's decision `action` to withdrawal `id`, queues the email
/// telling the user the outcome, and answers with the withdrawal as it now stands.
async fn decide(state: &AppState, id: Uuid, action: Action) -> Result<HttpResponse, Problem> {
    let done = service::transition(
        &*state.store,
        id,
        None,
        action,
        state.config.clock.now(),
        |row| service::outcome_email(state, row),
    )
    .await
    .map_err(withdrawal_problem)?;
    state.mailer.wake();
    Ok(HttpResponse::Ok().json(view(state, &done)))
}
