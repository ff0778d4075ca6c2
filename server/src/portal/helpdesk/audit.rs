//! The auditor's view: the audit trail, newest first, of everyone or of one account.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::super::view::{error_text, render};
use super::{Role, pages, require};
use crate::state::AppState;

/// The most events one page shows.
const PAGE: u32 = 200;

/// The filter.
#[derive(Deserialize)]
pub struct Filter {
    #[serde(default)]
    username: String,
}

/// `GET /helpdesk/audit?username=…`: for auditors only (reading it is audited too).
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Response {
    let staff = match require(&state, &headers, Role::Auditor).await {
        Ok(staff) => staff,
        Err(page) => return page,
    };
    let username = filter.username.trim();
    let wanted = (!username.is_empty()).then_some(username);
    let events = match state.store().audit_list(wanted, PAGE) {
        Ok(events) => events,
        Err(e) => {
            let message = Some(error_text(&e.into()));
            return render(
                StatusCode::INTERNAL_SERVER_ERROR,
                &pages::home(&staff, message),
            );
        }
    };
    state.audit(
        Some(&staff.user.username),
        "helpdesk_audit_read",
        &format!("filter: {}", wanted.unwrap_or("everyone")),
        None,
    );
    render(StatusCode::OK, &pages::audit(username, &events))
}
