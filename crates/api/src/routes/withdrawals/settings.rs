//! Payout settings (`/v1/withdrawal-settings`): per asset, the default address,
//! the threshold below which no withdrawal is made, and automatic payout.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hashmarket_store::withdrawals::WithdrawalSettingsRow;

use super::{asset_terms, check_address};
use crate::auth::{totp, Principal, Scope};
use crate::problem::Problem;
use crate::state::AppState;
use crate::values::{client_ip, parse_json, store_error};

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

/// The user's settings for `asset`, if they set any (a request without an
/// address, and its threshold, fall back on them).
pub(super) async fn own_settings(
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
