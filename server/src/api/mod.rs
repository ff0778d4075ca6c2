//! The JSON API under `/api/v1/` (`docs/protocol.md`).

mod device;
mod enroll;
mod reset;

use axum::Router;
use axum::routing::{delete, get, post};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// The API's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/enroll", post(enroll::enroll))
        .route("/api/v1/device", delete(device::unenroll))
        .route("/api/v1/device/challenges", get(device::challenges))
        .route(
            "/api/v1/device/challenges/{id}/answer",
            post(device::answer),
        )
        .route("/api/v1/reset/start", post(reset::start))
        .route("/api/v1/reset/{id}", get(reset::status))
        .route("/api/v1/reset/{id}/code", post(reset::code))
        .route("/api/v1/reset/{id}/password", post(reset::password))
}

/// Parses a JSON body; malformed JSON is `400 bad_request`.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
}
