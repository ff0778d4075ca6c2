//! Signed device endpoints: pending challenges (long poll), answers, unenrollment.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use cityauth_protocol::canonical::challenges_message;
use cityauth_protocol::wire::{
    AnswerRequest, AnswerResponse, ChallengeList, LONG_POLL_SECONDS, NONCE_HEADER,
};
use tokio::time::Instant;

use crate::auth::verify_request;
use crate::challenges;
use crate::error::ApiError;
use crate::notify::Notice;
use crate::state::AppState;
use crate::util::now;

/// The list's query: `wait` (seconds, capped at the long-poll maximum) and `time=1`, which
/// asks for the server's time signed for this request.
fn list_query(query: Option<&str>) -> Result<(u64, bool), ApiError> {
    let (mut wait, mut signed_time) = (0, false);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        if let Some(value) = pair.strip_prefix("wait=") {
            wait = value
                .parse::<u64>()
                .map_err(|_| ApiError::BadRequest("wait: not a number of seconds".into()))?;
        } else if pair == "time=1" {
            signed_time = true;
        }
    }
    Ok((wait.min(LONG_POLL_SECONDS), signed_time))
}

/// `GET /api/v1/device/challenges?wait=N[&time=1]`: answers once a challenge is pending, or
/// after `wait` seconds with none; with `time=1`, the server's time signed for the request.
pub async fn challenges(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ChallengeList>, ApiError> {
    let device = verify_request(&state, &method, &uri, &headers, &body)?;
    let device_id = device.device.id;
    // verify_request checked it: present, well-formed, and new.
    let nonce = headers
        .get(NONCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (wait, signed_time) = list_query(uri.query())?;
    let deadline = Instant::now() + Duration::from_secs(wait);
    let notify = state.0.waiters.get(&device_id);
    loop {
        // Registered before the query, so a challenge created in between still wakes us.
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let pending = state.store().challenges_pending(&device_id, now())?;
        if !pending.is_empty() || Instant::now() >= deadline {
            // The time is signed with the request's nonce: the device learns its clock only
            // from an answer to the request it just made. Only when asked: a signature is
            // a fifth of an approval round trip's cryptography, and a device needs the time
            // once in a while, not on every poll.
            let server_time = now();
            let signature = if signed_time {
                let signature = state
                    .signing_key()
                    .sign(&challenges_message(&device_id, &nonce, server_time))
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                Some(signature.to_string())
            } else {
                None
            };
            return Ok(Json(ChallengeList {
                server_time,
                challenges: pending.into_iter().map(|c| c.signed).collect(),
                signature,
            }));
        }
        // A timeout only means the next pass answers with an empty list. The gauge comes
        // down however the wait ends, the client's hang-up (the future dropped) included.
        let _waiting = Waiting::new(&state);
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

/// One long poll counted in `long_polls_waiting` while it lives.
struct Waiting<'a>(&'a AppState);

impl<'a> Waiting<'a> {
    fn new(state: &'a AppState) -> Self {
        state.metrics().long_polls_waiting.inc();
        Self(state)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.metrics().long_polls_waiting.dec();
    }
}

/// `POST /api/v1/device/challenges/{id}/answer`.
pub async fn answer(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AnswerResponse>, ApiError> {
    let device = verify_request(&state, &method, &uri, &headers, &body)?;
    let request: AnswerRequest = super::parse(&body)?;
    let ip = peer.ip().to_string();
    let outcome = challenges::answer(&state, &device, &id, &request, &ip)?;
    Ok(Json(AnswerResponse {
        outcome: outcome.as_str().to_owned(),
    }))
}

/// `DELETE /api/v1/device`: removes the calling device.
pub async fn unenroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let device = verify_request(&state, &method, &uri, &headers, &body)?;
    state.store().device_delete(&device.device.id)?;
    state.0.waiters.remove(&device.device.id);
    let user = state.store().user_by_id(device.user_id)?;
    if let Some(user) = &user {
        state.notify(
            user,
            Notice::PhoneRemoved {
                phone: device.device.name.clone(),
                by_helpdesk: false,
            },
        );
    }
    state.audit(
        user.as_ref().map(|u| u.username.as_str()),
        "device_removed",
        &format!("device {} removed itself", device.device.id),
        Some(&peer.ip().to_string()),
    );
    Ok(StatusCode::NO_CONTENT)
}
