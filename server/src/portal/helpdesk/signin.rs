//! The console's sign-in: the operator's own password, then a phone approval with number
//! matching (an account without a phone cannot sign in here), then a session the console
//! alone accepts, for as long as its user holds a role.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cityauth_protocol::wire::{ChallengeKind, SignInRequest};
use serde::Deserialize;

use super::super::binding::{Browser, owned_flow};
use super::super::cookies;
use super::super::view::{self, Awaited, render};
use super::{Refusal, pages, refused, roles, staff};
use crate::api;
use crate::error::ApiError;
use crate::state::AppState;
use crate::util::{now, sha256};

fn sign_in_page(status: StatusCode, message: Option<String>) -> Response {
    render(status, &pages::sign_in(message))
}

fn failed(error: &ApiError) -> Response {
    sign_in_page(error.status_and_code().0, Some(view::error_text(error)))
}

/// `GET /helpdesk`: the console's home for a signed-in operator or auditor, else its
/// sign-in form.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match staff(&state, &headers).await {
        Some(staff) => render(StatusCode::OK, &pages::home(&staff, None)),
        None => sign_in_page(StatusCode::OK, None),
    }
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /helpdesk/signin`: the password, then the number to type on the phone.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let request = SignInRequest {
        username: form.username,
        password: form.password,
    };
    let started = match api::password_sign_in(&state, peer.ip(), request).await {
        Ok(started) => started,
        Err(e) => return failed(&e),
    };
    let Some(number) = started.number else {
        // No phone: the password alone would do for the portal, never for the console.
        return sign_in_page(
            StatusCode::FORBIDDEN,
            Some(view::say("helpdesk-needs-phone")),
        );
    };
    let bound = Browser::of(&state, &headers).and_then(|browser| {
        browser.bind(&state, &started.signin_id)?;
        Ok(browser)
    });
    match bound {
        Ok(browser) => {
            let page = view::waiting(Awaited::ConsoleSignIn, &started.signin_id, &number, None);
            browser.remember(&state, render(StatusCode::OK, &page))
        }
        Err(e) => failed(&e),
    }
}

/// The continue form's field.
#[derive(Deserialize)]
pub struct ContinueForm {
    #[serde(default)]
    id: String,
}

/// `POST /helpdesk/signin/continue`: once the phone approved, a console session for a user
/// who holds a role; `403` for anyone else (audited).
pub async fn finish(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ContinueForm>,
) -> Response {
    let flow = match owned_flow(&state, &headers, &form.id, ChallengeKind::SignIn) {
        Ok(Some(flow)) => flow,
        Ok(None) => {
            return sign_in_page(StatusCode::NOT_FOUND, Some(view::say("msg-unknown-flow")));
        }
        Err(e) => return failed(&e),
    };
    let session = match api::take_session(&state, peer.ip(), &flow.id) {
        Ok(session) => session,
        Err(ApiError::NotVerified)
            if api::sign_in_status(&state, &flow.id).is_ok_and(|s| s.state == "pending") =>
        {
            let message = Some(view::say("msg-not-approved"));
            let page = view::waiting(Awaited::ConsoleSignIn, &flow.id, &flow.number, message);
            return render(StatusCode::CONFLICT, &page);
        }
        Err(ApiError::NotVerified) => {
            return sign_in_page(StatusCode::CONFLICT, Some(view::say("msg-sign-in-denied")));
        }
        Err(e) => return failed(&e),
    };
    let hash = sha256(session.session.as_bytes());
    let user = match api::session_user(&state, &session.session) {
        Ok(user) => user,
        Err(e) => return failed(&e),
    };
    let ip = peer.ip().to_string();
    match roles::of(&state, &user).await {
        Ok(roles) if !roles.is_empty() => {}
        Ok(_) => {
            // The session stays a portal one only: the console never accepts it.
            state.audit(
                Some(&user.username),
                "helpdesk_refused",
                "signed in to the console without a help-desk role",
                Some(&ip),
            );
            return refused(Refusal::Forbidden);
        }
        Err(e) => return failed(&e),
    }
    if let Err(e) = state.store().console_session_mark(&hash) {
        return failed(&e.into());
    }
    state.audit(
        Some(&user.username),
        "helpdesk_signed_in",
        "password and phone approval",
        Some(&ip),
    );
    let mut response = Redirect::to("/helpdesk").into_response();
    let max_age = session.expires_at.saturating_sub(now());
    cookies::set_console(&state, &mut response, &session.session, max_age);
    response
}

/// `POST /helpdesk/signout`: ends the console session.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(staff) = staff(&state, &headers).await {
        if let Err(e) = state.store().session_delete(&staff.session_hash) {
            return failed(&e.into());
        }
        state.audit(Some(&staff.user.username), "helpdesk_signed_out", "", None);
    }
    let mut response = Redirect::to("/helpdesk").into_response();
    cookies::set_console(&state, &mut response, "", 0);
    response
}
