//! "Forgot my password": username, the number to type on the phone (or a code from the
//! app), then the new password. The reset is bound to the browser that started it.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cityauth_protocol::wire::{
    ChallengeKind, ResetCodeRequest, ResetPasswordRequest, ResetStartRequest,
};
use serde::Deserialize;

use super::binding::{Browser, owned_flow};
use super::view::{self, Awaited, render};
use crate::api;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Flow;

fn start_page(status: StatusCode, message: Option<String>) -> Response {
    render(status, &view::forgot(message))
}

/// `GET /forgot`.
pub async fn start_form() -> Response {
    start_page(StatusCode::OK, None)
}

/// The fields of every step (each step uses some).
#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

/// The new-password form, with our rules and the directory's policy (and, after a
/// refusal, the directory's sentence).
async fn new_password_page(
    state: &AppState,
    status: StatusCode,
    id: &str,
    message: Option<String>,
) -> Response {
    let (requirement, min_length) = api::requirement(state).await;
    let locked = api::reset_locked(state, id).await;
    let page = view::NewPassword {
        title: view::say("title-new-password"),
        t: crate::i18n::Tr::current(),
        message,
        assets: super::assets::urls(),
        id: id.to_owned(),
        requirement,
        min_length,
        locked,
    };
    render(status, &page)
}

/// `POST /forgot`: starts the reset, binds it to this browser and shows the number.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let request = ResetStartRequest {
        username: form.username,
    };
    let started = api::start_reset(&state, peer.ip(), request)
        .await
        .and_then(|started| {
            let browser = Browser::of(&state, &headers)?;
            browser.bind(&state, &started.reset_id)?;
            Ok((started, browser))
        });
    match started {
        Ok((started, browser)) => {
            let page = view::waiting(Awaited::Reset, &started.reset_id, &started.number, None);
            browser.remember(&state, render(StatusCode::OK, &page))
        }
        Err(e) => start_page(e.status_and_code().0, Some(view::error_text(&e))),
    }
}

/// The reset this browser started, or the page to show instead.
/// `POST /forgot/access-code`: a help-desk access code in place of the phone, then the new
/// password (the reset bound to this browser).
pub async fn access_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let request = cityauth_protocol::wire::AccessCodeRequest {
        username: form.username,
        code: form.code,
    };
    let verified = api::access_code_reset(&state, peer.ip(), request)
        .await
        .and_then(|flow| {
            let browser = Browser::of(&state, &headers)?;
            browser.bind(&state, &flow.id)?;
            Ok((flow, browser))
        });
    match verified {
        Ok((flow, browser)) => {
            let page = new_password_page(&state, StatusCode::OK, &flow.id, None).await;
            browser.remember(&state, page)
        }
        Err(e) => start_page(e.status_and_code().0, Some(view::error_text(&e))),
    }
}

fn own_reset(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Flow, Box<Response>> {
    match owned_flow(state, headers, id, ChallengeKind::PasswordReset) {
        Ok(Some(flow)) => Ok(flow),
        Ok(None) => Err(Box::new(expired())),
        Err(e) => Err(Box::new(start_page(
            e.status_and_code().0,
            Some(view::error_text(&e)),
        ))),
    }
}

fn expired() -> Response {
    start_page(StatusCode::GONE, Some(view::say("msg-expired-restart")))
}

/// After an approval or a code: the new-password form, or why not.
async fn next(state: &AppState, flow: &Flow, failure: Option<ApiError>) -> Response {
    let current = api::reset_status(state, &flow.id).map(|s| s.state);
    let waiting = |status, message: String| {
        let page = view::waiting(Awaited::Reset, &flow.id, &flow.number, Some(message));
        render(status, &page)
    };
    match (current.as_deref(), failure) {
        (Ok("verified"), _) => new_password_page(state, StatusCode::OK, &flow.id, None).await,
        (Ok("pending"), Some(e)) => waiting(e.status_and_code().0, view::error_text(&e)),
        (Ok("pending"), None) => waiting(StatusCode::CONFLICT, view::say("msg-not-approved")),
        (Ok("denied"), _) => start_page(StatusCode::CONFLICT, Some(view::say("msg-denied"))),
        _ => expired(),
    }
}

/// `POST /forgot/continue`.
pub async fn proceed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    match own_reset(&state, &headers, &form.id) {
        Ok(flow) => next(&state, &flow, None).await,
        Err(page) => *page,
    }
}

/// `POST /forgot/code`.
pub async fn code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let flow = match own_reset(&state, &headers, &form.id) {
        Ok(flow) => flow,
        Err(page) => return *page,
    };
    let request = ResetCodeRequest { code: form.code };
    let failure = api::check_code(&state, peer.ip(), &flow.id, request).err();
    next(&state, &flow, failure).await
}

/// `POST /forgot/password`.
pub async fn password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let flow = match own_reset(&state, &headers, &form.id) {
        Ok(flow) => flow,
        Err(page) => return *page,
    };
    let request = ResetPasswordRequest {
        password: form.password,
    };
    match api::set_password(&state, peer.ip(), &flow.id, request).await {
        Ok(_) => render(
            StatusCode::OK,
            &view::notice(
                "notice-password-changed-title",
                vec!["notice-password-changed-body"],
                ("/signin", "link-sign-in-new-password"),
            ),
        ),
        // The reset is still verified: the form again, with what to change.
        Err(
            e @ (ApiError::PasswordPolicy(_)
            | ApiError::DirectoryRefused(_)
            | ApiError::DirectoryUnavailable(_)
            | ApiError::PasswordBeingSet),
        ) => {
            let status = e.status_and_code().0;
            new_password_page(&state, status, &flow.id, Some(view::error_text(&e))).await
        }
        Err(e) => start_page(e.status_and_code().0, Some(view::error_text(&e))),
    }
}

/// `POST /forgot/unlock`: "Unlock my account without changing the password".
pub async fn unlock(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let flow = match own_reset(&state, &headers, &form.id) {
        Ok(flow) => flow,
        Err(page) => return *page,
    };
    match api::unlock(&state, peer.ip(), &flow.id).await {
        Ok(_) => render(
            StatusCode::OK,
            &view::notice(
                "notice-unlocked-title",
                vec!["notice-unlocked-body"],
                ("/signin", "link-sign-in"),
            ),
        ),
        Err(e @ (ApiError::DirectoryUnavailable(_) | ApiError::PasswordBeingSet)) => {
            let status = e.status_and_code().0;
            new_password_page(&state, status, &flow.id, Some(view::error_text(&e))).await
        }
        Err(e) => start_page(e.status_and_code().0, Some(view::error_text(&e))),
    }
}
