//! The JSON API under `/api/v1/` (`docs/protocol.md`).

mod add_device;
mod caller;
mod change;
mod device;
mod directory;
pub(crate) use caller::{caller_check_status, caller_verified, start_caller_check};
pub(crate) use directory::{account_of, api_error as directory_error, look_up, row_of};
mod enroll;
mod notices;
mod policy;
mod reset;
mod sealed;
mod signin;

pub(crate) use add_device::{add_device_status, finish_add_device, start_add_device};
pub(crate) use change::{ChangeStarted, change_password, change_status, finish_password_change};
pub(crate) use policy::requirement;
pub(crate) use reset::{check_code, reset_locked, reset_status, set_password, start_reset, unlock};
pub(crate) use signin::{
    access_code_reset, access_code_sign_in, password_sign_in, session_user, sign_in_status,
    take_session,
};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::limits::fields::{self, MAX_BODY_BYTES};
use crate::state::AppState;

/// The API's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/server-key", get(enroll::server_key))
        .route("/api/v1/enroll", json_post(enroll::enroll))
        .route("/api/v1/device", delete(device::unenroll))
        .route("/api/v1/device/challenges", get(device::challenges))
        .route(
            "/api/v1/device/challenges/{id}/answer",
            json_post(device::answer),
        )
        .route("/api/v1/reset/start", json_post(reset::start))
        .route("/api/v1/reset/{id}", get(reset::status))
        .route("/api/v1/reset/{id}/code", json_post(reset::code))
        .route("/api/v1/reset/{id}/password", json_post(reset::password))
        .route(
            "/api/v1/reset/{id}/unlock",
            json_post(reset::unlock_handler),
        )
        .route("/api/v1/signin", json_post(signin::start))
        .route("/api/v1/signin/access-code", json_post(signin::access_code))
        .route("/api/v1/signin/{id}", get(signin::status))
        .route("/api/v1/signin/{id}/session", json_post(signin::session))
        .route("/api/v1/session", get(signin::whoami))
        .route("/api/v1/session/notices", get(notices::notices))
        .route("/api/v1/password-change/{id}", get(change::status))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(too_large_as_json))
}

/// A `POST` route whose body must be declared as JSON (`415` otherwise, before `handler`).
fn json_post<H, T>(handler: H) -> axum::routing::MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    post(handler).route_layer(axum::middleware::from_fn(crate::portal::require_json))
}

/// The OpenAPI 3 description of these routes and `/healthz`, `/readyz`, `/metrics`
/// (hand-written; `server/tests/openapi.rs` keeps it in step with this router).
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// `GET /api/v1/openapi.json`: [`OPENAPI`].
async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

/// The router's own refusals (the body limit's `413`, a method a path does not serve,
/// `405`) in the protocol's JSON error form; a `405` keeps its `Allow` header.
async fn too_large_as_json(response: Response) -> Response {
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge.into_response(),
        StatusCode::METHOD_NOT_ALLOWED if response.headers().get(CONTENT_TYPE).is_none() => {
            let mut answer = ApiError::MethodNotAllowed.into_response();
            if let Some(allow) = response.headers().get(ALLOW) {
                answer.headers_mut().insert(ALLOW, allow.clone());
            }
            answer
        }
        _ => response,
    }
}

/// Unknown paths: the protocol's JSON error.
async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The flow `id` if it is of `kind`; any other id is `404 not_found`.
fn find_flow(
    state: &AppState,
    id: &str,
    kind: cityauth_protocol::wire::ChallengeKind,
) -> Result<crate::store::Flow, ApiError> {
    fields::id("id", id)?;
    state
        .store()
        .flow(id)?
        .filter(|f| f.kind == kind)
        .ok_or(ApiError::NotFound)
}

/// A flow's state as the browser sees it; an id that is not a flow of `kind` is `404`.
fn flow_status(
    state: &AppState,
    id: &str,
    kind: cityauth_protocol::wire::ChallengeKind,
) -> Result<cityauth_protocol::wire::ResetStatus, ApiError> {
    let flow = find_flow(state, id, kind)?;
    Ok(cityauth_protocol::wire::ResetStatus {
        state: visible_state(&flow).to_owned(),
    })
}

/// The state a browser sees: pending and verified flows expire.
fn visible_state(flow: &crate::store::Flow) -> &'static str {
    use crate::store::FlowState;
    match flow.state {
        FlowState::Pending | FlowState::Verified if crate::util::now() >= flow.expires_at => {
            "expired"
        }
        // One request is writing its password: still verified to the browser, which
        // retries if the write fails.
        FlowState::Claimed => "verified",
        other => other.as_str(),
    }
}

/// Fails unless `flow` is verified and unexpired, the one state in which its last step
/// (a session, a new password) may be taken: done is `already_answered`, pending or denied
/// `not_verified`, past its time `expired`.
fn require_verified(flow: &crate::store::Flow) -> Result<(), ApiError> {
    use crate::store::FlowState;
    match flow.state {
        FlowState::Done => Err(ApiError::AlreadyAnswered),
        // Taken by another request; the claim decides (one left by a stopped process is
        // taken again once it is old).
        FlowState::Claimed if crate::util::now() >= flow.expires_at => Err(ApiError::Expired),
        FlowState::Claimed => Ok(()),
        FlowState::Pending | FlowState::Denied => Err(ApiError::NotVerified),
        FlowState::Verified if crate::util::now() >= flow.expires_at => Err(ApiError::Expired),
        FlowState::Verified => Ok(()),
    }
}

/// A new pending flow of `kind` for `username` (and its account, if the name has one),
/// started now from `client_ip`, with a fresh id and number, living `lifetime` seconds.
fn new_flow(
    state: &AppState,
    kind: cityauth_protocol::wire::ChallengeKind,
    username: &str,
    user_id: Option<i64>,
    client_ip: &str,
    lifetime: u64,
) -> Result<crate::store::Flow, ApiError> {
    let created_at = crate::util::now();
    Ok(crate::store::Flow {
        id: crate::util::random_token()?,
        kind,
        username: username.to_owned(),
        user_id,
        number: crate::util::random_number(state.config().number_digits)?,
        state: crate::store::FlowState::Pending,
        code_tries: 0,
        client_ip: client_ip.to_owned(),
        created_at,
        expires_at: created_at + lifetime,
    })
}

/// When the challenges of a flow created at `created_at` stop being answerable.
fn challenge_deadline(state: &AppState, created_at: u64) -> u64 {
    created_at
        + state
            .config()
            .challenge_lifetime
            .min(cityauth_protocol::wire::MAX_CHALLENGE_LIFETIME)
}

/// Parses a JSON body; malformed JSON is `400 bad_request`.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
}
