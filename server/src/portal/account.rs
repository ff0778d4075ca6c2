//! Sign in, sign out, change password.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cityauth_protocol::wire::{ChallengeKind, SessionResponse, SignInRequest};
use serde::Deserialize;

use super::binding::{Browser, owned_flow};
use super::view::{self, Awaited, render};
use super::{cookies, signed_in};
use crate::api::{self, ChangeStarted};
use crate::error::ApiError;
use crate::state::AppState;

/// The status a failed form answers with.
pub(super) fn status_of(error: &ApiError) -> StatusCode {
    error.status_and_code().0
}

/// Sets the session cookie and goes to "Security info".
pub(super) fn start_session(state: &AppState, session: &SessionResponse) -> Response {
    let max_age = session.expires_at.saturating_sub(crate::util::now());
    let mut response = Redirect::to("/security").into_response();
    cookies::set_session(state, &mut response, &session.session, max_age);
    response
}

/// The page after a flow's id names nothing this browser started.
fn unknown_flow(page: impl FnOnce(Option<String>) -> Response) -> Response {
    page(Some(view::say("msg-unknown-flow")))
}

/// `/`: where to go.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if signed_in(&state, &headers).is_some() {
        return Redirect::to("/security").into_response();
    }
    render(StatusCode::OK, &view::home(None))
}

fn signin_page(status: StatusCode, message: Option<String>) -> Response {
    render(status, &view::sign_in(message))
}

/// `GET /signin`.
pub async fn signin_form() -> Response {
    signin_page(StatusCode::OK, None)
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /signin`: the password, then the number to type on the phone (the sign-in bound
/// to this browser).
pub async fn signin(
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
        Err(e @ ApiError::Locked) => {
            // The server's own lock and the directory's answer alike; both end with a reset.
            let message = format!(
                "{e}. If the City directory locked your account, \"Forgot my password\" \
                 can unlock it with your phone."
            );
            return signin_page(status_of(&e), Some(message));
        }
        Err(e) => return signin_page(status_of(&e), Some(view::error_text(&e))),
    };
    let Some(number) = started.number else {
        return match api::take_session(&state, peer.ip(), &started.signin_id) {
            Ok(session) => start_session(&state, &session),
            Err(e) => signin_page(status_of(&e), Some(view::error_text(&e))),
        };
    };
    let bound = Browser::of(&state, &headers).and_then(|browser| {
        browser.bind(&state, &started.signin_id)?;
        Ok(browser)
    });
    match bound {
        Ok(browser) => {
            let page = view::waiting(Awaited::SignIn, &started.signin_id, &number, None);
            browser.remember(&state, render(StatusCode::OK, &page))
        }
        Err(e) => signin_page(status_of(&e), Some(view::error_text(&e))),
    }
}

/// The continue forms' field.
#[derive(Deserialize)]
pub struct ContinueForm {
    #[serde(default)]
    id: String,
}

/// `POST /signin/continue`: takes the session once the phone approved.
pub async fn signin_continue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ContinueForm>,
) -> Response {
    let flow = match owned_flow(&state, &headers, &form.id, ChallengeKind::SignIn) {
        Ok(Some(flow)) => flow,
        Ok(None) => return unknown_flow(|m| signin_page(StatusCode::NOT_FOUND, m)),
        Err(e) => return signin_page(status_of(&e), Some(view::error_text(&e))),
    };
    match api::take_session(&state, peer.ip(), &flow.id) {
        Ok(session) => start_session(&state, &session),
        Err(ApiError::NotVerified)
            if api::sign_in_status(&state, &flow.id).is_ok_and(|s| s.state == "pending") =>
        {
            let message = Some(view::say("msg-not-approved"));
            let page = view::waiting(Awaited::SignIn, &flow.id, &flow.number, message);
            render(StatusCode::CONFLICT, &page)
        }
        Err(ApiError::NotVerified) => {
            signin_page(StatusCode::CONFLICT, Some(view::say("msg-sign-in-denied")))
        }
        Err(e) => signin_page(status_of(&e), Some(view::error_text(&e))),
    }
}

/// `POST /signout`: ends the session on the server, then forgets the cookie.
pub async fn signout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookies::session(&state, &headers)
        && let Err(e) = state
            .store()
            .session_delete(&crate::util::sha256(token.trim().as_bytes()))
    {
        // The cookie stays: the browser must not believe it signed out when it did not.
        return ApiError::from(e).into_response();
    }
    let mut response = Redirect::to("/").into_response();
    cookies::set_session(&state, &mut response, "", 0);
    response
}

/// The change-password page, with our rules and the directory's policy (`policy`, from
/// `api::requirement`).
fn password_page(
    policy: &(String, usize),
    status: StatusCode,
    message: Option<String>,
) -> Response {
    render(status, &view::password(message, policy.clone()))
}

/// `GET /password`.
pub async fn password_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if signed_in(&state, &headers).is_none() {
        return Redirect::to("/signin").into_response();
    }
    password_page(&api::requirement(&state).await, StatusCode::OK, None)
}

/// The change-password form's fields.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

/// `POST /password`: checks both passwords, then waits for the phone to approve (or, with
/// no phone registered yet, changes the password at once); ends every session and signs
/// this browser in again.
pub async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let Some((user, old_session)) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    let policy = api::requirement(&state).await;
    // Read before the change ends the session (and its mark with it): an employee who put
    // off registering a phone is not asked again, nor charged a reminder, for changing the
    // password.
    let reminded = state.store().reminded(&old_session).unwrap_or(false);
    match api::change_password(&state, peer.ip(), &user, form.current, form.new).await {
        Ok(ChangeStarted::Changed(session)) => {
            if reminded
                && let Err(e) = state
                    .store()
                    .reminder_pass(&crate::util::sha256(session.session.trim().as_bytes()))
            {
                tracing::warn!(error = %e, "the new session was not passed the reminder");
            }
            start_session(&state, &session)
        }
        Ok(ChangeStarted::Pending { id, number }) => {
            let bound = Browser::of(&state, &headers).and_then(|browser| {
                browser.bind(&state, &id)?;
                Ok(browser)
            });
            match bound {
                Ok(browser) => {
                    let page = view::waiting(Awaited::Change, &id, &number, None);
                    browser.remember(&state, render(StatusCode::OK, &page))
                }
                Err(e) => password_page(&policy, status_of(&e), Some(view::error_text(&e))),
            }
        }
        Err(e) => password_page(&policy, status_of(&e), Some(view::error_text(&e))),
    }
}

/// `POST /password/continue`: the new password takes effect once the phone approved.
pub async fn change_password_continue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ContinueForm>,
) -> Response {
    let Some((user, _)) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    let policy = api::requirement(&state).await;
    let flow = match owned_flow(&state, &headers, &form.id, ChallengeKind::PasswordChange) {
        Ok(Some(flow)) => flow,
        Ok(None) => return unknown_flow(|m| password_page(&policy, StatusCode::NOT_FOUND, m)),
        Err(e) => return password_page(&policy, status_of(&e), Some(view::error_text(&e))),
    };
    match api::finish_password_change(&state, peer.ip(), &user, &flow.id).await {
        Ok(session) => start_session(&state, &session),
        Err(ApiError::NotVerified)
            if api::change_status(&state, &flow.id).is_ok_and(|s| s.state == "pending") =>
        {
            let message = Some(view::say("msg-not-approved"));
            let page = view::waiting(Awaited::Change, &flow.id, &flow.number, message);
            render(StatusCode::CONFLICT, &page)
        }
        Err(ApiError::NotVerified) => password_page(
            &policy,
            StatusCode::CONFLICT,
            Some(view::say("msg-change-denied")),
        ),
        Err(e) => password_page(&policy, status_of(&e), Some(view::error_text(&e))),
    }
}
