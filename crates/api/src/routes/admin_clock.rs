//! `GET|POST /v1/admin/clock`: the simulated business clock (API.md "Simulated time").
//! Without `--simulated-clock` both answer 404, as if the endpoint did not exist.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use hashmarket_market::clock::SIMULATED_CLOCK_SETTING;
use hashmarket_market::ClockError;
use serde::{Deserialize, Serialize};

use crate::auth::{Principal, Role};
use crate::problem::Problem;
use crate::state::AppState;

/// Registers the clock endpoints (under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/clock").get(get_clock).post(set_clock));
}

/// The business clock's time.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClockView {
    /// Current business time (RFC 3339 UTC).
    pub now: DateTime<Utc>,
    /// Always true here (the endpoint exists only for a simulated clock).
    pub simulated: bool,
}

/// Where to move the clock.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    /// The new business time; not before the current one.
    pub now: DateTime<Utc>,
}

fn require_simulated_operator(state: &AppState, principal: &Principal) -> Result<(), Problem> {
    if !state.config.clock.is_simulated() {
        return Err(Problem::not_found().with_detail("no simulated clock on this server"));
    }
    principal.require_role(&[Role::Operator])
}

/// The simulated business time (operator).
#[utoipa::path(get, path = "/v1/admin/clock", tag = "admin",
    responses((status = 200, body = ClockView), (status = 404, body = crate::problem::ProblemWire)))]
pub async fn get_clock(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, Problem> {
    require_simulated_operator(&state, &principal)?;
    Ok(HttpResponse::Ok().json(ClockView {
        now: state.config.clock.now(),
        simulated: true,
    }))
}

/// Moves the simulated business clock forward (operator); 409 `clock-backwards`.
#[utoipa::path(post, path = "/v1/admin/clock", tag = "admin", request_body = SetClock,
    responses((status = 200, body = ClockView), (status = 409, body = crate::problem::ProblemWire),
              (status = 404, body = crate::problem::ProblemWire)))]
pub async fn set_clock(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<SetClock>,
) -> Result<HttpResponse, Problem> {
    require_simulated_operator(&state, &principal)?;
    let now = match state.config.clock.advance_to(body.now) {
        Ok(now) => now,
        Err(ClockError::Backwards { now, asked }) => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "clock-backwards",
                "Clock only moves forward",
            )
            .with_detail(format!("the clock is at {now}; {asked} is in its past")))
        }
        Err(ClockError::NotSimulated) => return Err(Problem::not_found()),
    };
    state
        .store
        .put_setting(SIMULATED_CLOCK_SETTING, &now.to_rfc3339())
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "could not persist the simulated clock");
            Problem::internal()
        })?;
    tracing::info!(%now, operator = %principal.user_id, "business clock moved");
    Ok(HttpResponse::Ok().json(ClockView {
        now,
        simulated: true,
    }))
}

/// The OpenAPI description of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(get_clock, set_clock), components(schemas(ClockView, SetClock)))]
pub struct ApiDoc;
