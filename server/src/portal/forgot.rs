//! "Forgot my password": username, the number to type on the phone (or a code from the
//! app), then the new password.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityauth_protocol::wire::{ResetCodeRequest, ResetPasswordRequest, ResetStartRequest};
use serde::Deserialize;

use super::page::{error, esc, hidden, input, page, poll_script};
use crate::api;
use crate::error::ApiError;
use crate::state::AppState;

fn start_page(status: StatusCode, message: Option<&str>) -> Response {
    let body = format!(
        "{}<p>Enter your username. We will ask your phone to confirm it is you.</p>\
<form method=\"post\" action=\"/forgot\">{}<button type=\"submit\">Next</button></form>",
        message.map(error).unwrap_or_default(),
        input("username", "Username", "text", "username"),
    );
    page(status, "Forgot my password", &body)
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
    number: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

fn waiting_page(status: StatusCode, id: &str, number: &str, message: Option<&str>) -> Response {
    let body = format!(
        "{}<p>Open the City authenticator app on your phone and type this number to approve:</p>\
<p class=\"number\">{n}</p>\
<form id=\"continue\" method=\"post\" action=\"/forgot/continue\">{ids}\
<button type=\"submit\">I approved on my phone – continue</button></form>{script}\
<h2>No notification?</h2><p>Enter the current code of your City account from the app instead.</p>\
<form method=\"post\" action=\"/forgot/code\">{ids}{code}<button type=\"submit\" class=\"secondary\">Verify code</button></form>",
        message.map(error).unwrap_or_default(),
        n = esc(number),
        ids = format!("{}{}", hidden("id", id), hidden("number", number)),
        script = poll_script(&format!("/api/v1/reset/{}", esc(id)), "continue"),
        code = input("code", "Code from the app", "text", "one-time-code"),
    );
    page(status, "Confirm it is you", &body)
}

fn new_password_page(status: StatusCode, id: &str, message: Option<&str>) -> Response {
    let body = format!(
        "{}<p>{}</p>\
<form method=\"post\" action=\"/forgot/password\">{}{}<button type=\"submit\">Set password</button></form>",
        message.map(error).unwrap_or_default(),
        crate::password::requirement(),
        hidden("id", id),
        input("password", "New password", "password", "new-password"),
    );
    page(status, "Choose a new password", &body)
}

/// `POST /forgot`: starts the reset and shows the number.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<ForgotForm>,
) -> Response {
    let request = ResetStartRequest {
        username: form.username,
    };
    match api::start_reset(&state, peer.ip(), request) {
        Ok(started) => waiting_page(StatusCode::OK, &started.reset_id, &started.number, None),
        Err(e) => start_page(e.status_and_code().0, Some(&e.to_string())),
    }
}

/// After an approval or a code: the new-password form, or why not.
fn next(state: &AppState, form: &ForgotForm, failure: Option<ApiError>) -> Response {
    let current = api::reset_status(state, &form.id).map(|s| s.state);
    match (current.as_deref(), failure) {
        (Ok("verified"), _) => new_password_page(StatusCode::OK, &form.id, None),
        (Ok("pending"), Some(e)) => waiting_page(
            e.status_and_code().0,
            &form.id,
            &form.number,
            Some(&e.to_string()),
        ),
        (Ok("pending"), None) => waiting_page(
            StatusCode::CONFLICT,
            &form.id,
            &form.number,
            Some("Not approved yet."),
        ),
        (Ok("denied"), _) => start_page(
            StatusCode::CONFLICT,
            Some("The request was denied on the phone."),
        ),
        _ => start_page(
            StatusCode::GONE,
            Some("This request has expired. Please start again."),
        ),
    }
}

/// `POST /forgot/continue`.
pub async fn proceed(State(state): State<AppState>, Form(form): Form<ForgotForm>) -> Response {
    next(&state, &form, None)
}

/// `POST /forgot/code`.
pub async fn code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<ForgotForm>,
) -> Response {
    let request = ResetCodeRequest {
        code: form.code.clone(),
    };
    let failure = api::check_code(&state, peer.ip(), &form.id, request).err();
    next(&state, &form, failure)
}

/// `POST /forgot/password`.
pub async fn password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<ForgotForm>,
) -> Response {
    let request = ResetPasswordRequest {
        password: form.password,
    };
    match api::set_password(&state, peer.ip(), &form.id, request).await {
        Ok(_) => page(
            StatusCode::OK,
            "Password changed",
            "<p>Your password was changed, and you were signed out everywhere.</p>\
<p><a href=\"/signin\">Sign in with the new password</a></p>",
        ),
        Err(e @ ApiError::PasswordPolicy(_)) => new_password_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.id,
            Some(&e.to_string()),
        ),
        Err(e) => start_page(e.status_and_code().0, Some(&e.to_string())),
    }
}
