//! The registration campaign (issue 13): after a portal sign-in, an account with no phone is
//! asked to register one before Security info opens, with "Remind me later" as many times
//! as the City allows (`Config::register_reminders`, counted per account in the store).
//!
//! Only Security info waits behind the prompt. Everything an employee without a phone could
//! do before stays open: registering a phone (the prompt's own button posts to "Add a
//! phone"), the help-desk access code sign-in the prompt points to when the City's
//! `first_device` policy needs one, changing the password, signing out, and "Forgot my
//! password", which needs no session at all.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::view::{self, render};
use super::{assets, signed_in};
use crate::config::FirstDevice;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::User;
use crate::util::now;

/// Where the prompt is.
pub(super) const PROMPT: &str = "/security/register";

/// Whether Security info must first ask `user` (signed in with the session whose token
/// hashes to `session`) to register a phone: the account has none, and this session
/// neither put it off nor holds a help-desk grant (the help desk gave that code to register
/// a phone, which Security info offers at once; "later" would only spend a reminder).
pub(super) fn prompt_due(state: &AppState, user: &User, session: &[u8]) -> Result<bool, ApiError> {
    let store = state.store();
    if !store.devices_of(user.id)?.is_empty() || store.session_may_enroll(session, now())? {
        return Ok(false);
    }
    Ok(!store.reminded(session)?)
}

/// The prompt for `user`, with `message` above it.
fn prompt_page(
    state: &AppState,
    user: &User,
    session: &[u8],
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let store = state.store();
    let (grant, used) = match (
        store.session_may_enroll(session, now()),
        store.reminders_used(user.id),
    ) {
        (Ok(grant), Ok(used)) => (grant, used),
        (Err(e), _) | (_, Err(e)) => return ApiError::from(e).into_response(),
    };
    // The same notes as Security info's "Add a phone", for the same two ways a first phone
    // may be registered without an approval.
    let register_note = if grant {
        Some("security-add-note-grant")
    } else if state.config().first_device == FirstDevice::Password {
        Some("security-add-note-first")
    } else {
        None
    };
    let page = view::Register {
        title: view::say("title-register"),
        t: crate::i18n::Tr::current(),
        message,
        assets: assets::urls(),
        register_note,
        left: state.config().register_reminders.saturating_sub(used),
    };
    render(status, &page)
}

/// `GET /security/register`: the prompt; Security info once the account has a phone.
pub async fn prompt(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some((user, session)) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    match state.store().devices_of(user.id) {
        Ok(devices) if !devices.is_empty() => Redirect::to("/security").into_response(),
        Ok(_) => prompt_page(&state, &user, &session, StatusCode::OK, None),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /security/register/later`: "Remind me later". Counts one reminder for the account
/// (none for a session that took one already) and opens Security info for this session;
/// with none left, the prompt again, without the button.
pub async fn later(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let Some((user, session)) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    match state.store().devices_of(user.id) {
        Ok(devices) if !devices.is_empty() => return Redirect::to("/security").into_response(),
        Ok(_) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    let allowed = state.config().register_reminders;
    // A second click of the same session counts nothing, and is not audited as if it did.
    let already = match state.store().reminded(&session) {
        Ok(already) => already,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match state.store().reminder_take(user.id, &session, allowed) {
        Ok(Some(_)) if already => Redirect::to("/security").into_response(),
        Ok(Some(used)) => {
            let detail = format!("registering a phone put off ({used} of {allowed} reminders)");
            state.audit(
                Some(&user.username),
                "register_reminder",
                &detail,
                Some(&peer.ip().to_string()),
            );
            Redirect::to("/security").into_response()
        }
        Ok(None) => prompt_page(
            &state,
            &user,
            &session,
            StatusCode::CONFLICT,
            Some(view::say("msg-no-reminder-left")),
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}
