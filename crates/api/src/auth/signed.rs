//! Programs' signed requests with API keys (HM-4 fills this in).

use actix_web::dev::ServiceRequest;

use super::Principal;
use crate::problem::Problem;
use crate::state::AppState;

/// Verifies a signed request's headers and body and returns whose key signed it.
pub async fn authenticate_signed(
    _state: &AppState,
    _req: &mut ServiceRequest,
) -> Result<Principal, Problem> {
    Err(Principal::unauthorized("API keys are not enabled yet"))
}
