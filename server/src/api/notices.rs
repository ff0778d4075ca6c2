//! `GET /api/v1/session/notices`: what the owner of a session should know about their
//! account, today the pushes withheld by the push cap (someone kept asking for approvals).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

/// Notices listed at most.
const MAX_NOTICES: usize = 20;
/// Audit events of the account read to find them.
const SCANNED_EVENTS: u32 = 1000;

/// The notices of the session's account.
#[derive(Debug, Serialize)]
pub struct Notices {
    /// Newest first.
    pub notices: Vec<Notice>,
}

/// One notice.
#[derive(Debug, Serialize)]
pub struct Notice {
    /// Unix time.
    pub time: u64,
    /// What happened (`push_flood`).
    pub event: String,
    /// In words.
    pub detail: String,
    /// The address that caused it.
    pub client_ip: Option<String>,
}

/// The session's account's recent `push_flood` events.
pub async fn notices(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Notices>, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::InvalidSession)?;
    let user = super::session_user(&state, token)?;
    let notices = state
        .store()
        .audit_list(Some(&user.username), SCANNED_EVENTS)?
        .into_iter()
        .filter(|e| e.event == "push_flood")
        .take(MAX_NOTICES)
        .map(|e| Notice {
            time: e.time,
            event: e.event,
            detail: e.detail,
            client_ip: e.client_ip,
        })
        .collect();
    Ok(Json(Notices { notices }))
}
