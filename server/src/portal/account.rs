//! Sign in, "Security info" (enroll a phone, list and remove devices), change password.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cityauth_protocol::wire::{SessionResponse, SignInRequest};
use serde::Deserialize;

use super::page::{error, esc, hidden, input, page, poll_script};
use super::{cookie, signed_in};
use crate::api::{self, ChangeStarted};
use crate::error::ApiError;
use crate::state::AppState;

/// The status a failed form answers with.
fn status_of(error: &ApiError) -> StatusCode {
    error.status_and_code().0
}

/// Sets the session cookie and goes to "Security info".
fn start_session(state: &AppState, session: &SessionResponse) -> Response {
    let max_age = session.expires_at.saturating_sub(crate::util::now());
    let mut response = Redirect::to("/security").into_response();
    if let Ok(value) = cookie(state, &session.session, max_age).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `/`: where to go.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if signed_in(&state, &headers).is_some() {
        return Redirect::to("/security").into_response();
    }
    page(
        StatusCode::OK,
        "Welcome",
        "<p>Manage your City account.</p><ul><li><a href=\"/signin\">Sign in</a></li>\
<li><a href=\"/forgot\">Forgot my password</a></li></ul>",
    )
}

fn signin_page(status: StatusCode, message: Option<&str>) -> Response {
    let body = format!(
        "{}<form method=\"post\" action=\"/signin\">{}{}<button type=\"submit\">Sign in</button></form>\
<p><a href=\"/forgot\">Forgot my password</a></p>",
        message.map(error).unwrap_or_default(),
        input("username", "Username", "text", "username"),
        input("password", "Password", "password", "current-password"),
    );
    page(status, "Sign in", &body)
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

/// `POST /signin`: the password, then the number to type on the phone.
pub async fn signin(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<SignInForm>,
) -> Response {
    let request = SignInRequest {
        username: form.username,
        password: form.password,
    };
    let started = match api::password_sign_in(&state, peer.ip(), request).await {
        Ok(started) => started,
        Err(e) => return signin_page(status_of(&e), Some(&e.to_string())),
    };
    let Some(number) = started.number else {
        return match api::take_session(&state, peer.ip(), &started.signin_id) {
            Ok(session) => start_session(&state, &session),
            Err(e) => signin_page(status_of(&e), Some(&e.to_string())),
        };
    };
    waiting_page(StatusCode::OK, &started.signin_id, &number, None)
}

fn waiting_page(status: StatusCode, id: &str, number: &str, message: Option<&str>) -> Response {
    let body = format!(
        "{}<p>Open the City authenticator app on your phone and type this number to approve:</p>\
<p class=\"number\">{n}</p>\
<form id=\"continue\" method=\"post\" action=\"/signin/continue\">{}{}\
<button type=\"submit\">I approved on my phone – continue</button></form>{}",
        message.map(error).unwrap_or_default(),
        hidden("id", id),
        hidden("number", number),
        poll_script(&format!("/api/v1/signin/{}", esc(id)), "continue"),
        n = esc(number),
    );
    page(status, "Approve the sign-in", &body)
}

/// The continue form's fields.
#[derive(Deserialize)]
pub struct ContinueForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    number: String,
}

/// `POST /signin/continue`: takes the session once the phone approved.
pub async fn signin_continue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<ContinueForm>,
) -> Response {
    match api::take_session(&state, peer.ip(), &form.id) {
        Ok(session) => start_session(&state, &session),
        Err(ApiError::NotVerified)
            if api::sign_in_status(&state, &form.id).is_ok_and(|s| s.state == "pending") =>
        {
            waiting_page(
                StatusCode::CONFLICT,
                &form.id,
                &form.number,
                Some("Not approved yet."),
            )
        }
        Err(ApiError::NotVerified) => {
            signin_page(StatusCode::CONFLICT, Some("The sign-in was denied."))
        }
        Err(e) => signin_page(status_of(&e), Some(&e.to_string())),
    }
}

/// `POST /signout`.
pub async fn signout(State(state): State<AppState>) -> Response {
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) = cookie(&state, "", 0).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `GET /security`: the enrollment QR code and link, and the devices.
pub async fn security(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(user) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    let link = match crate::admin::enrollment_link(&state, &user.username) {
        Ok(link) => link,
        Err(e) => {
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Security info",
                &error(&e.to_string()),
            );
        }
    };
    let qr = crate::qr::svg(&link).unwrap_or_default();
    let devices = state.store().devices_of(user.id).unwrap_or_default();
    let rows: String = devices
        .iter()
        .map(|d| {
            let d = &d.device;
            format!(
                "<tr><td>{}</td><td>{}</td><td><form method=\"post\" action=\"/security/devices/remove\">{}\
<button type=\"submit\" class=\"secondary\">Remove {}</button></form></td></tr>",
                esc(&d.name),
                esc(&d.platform),
                hidden("device", &d.id),
                esc(&d.name)
            )
        })
        .collect();
    let table = if devices.is_empty() {
        "<p>No device is registered yet.</p>".to_owned()
    } else {
        format!(
            "<table><thead><tr><th scope=\"col\">Device</th><th scope=\"col\">Platform</th>\
<th scope=\"col\">Action</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let body = format!(
        "<p>Signed in as {} ({}).</p><h2>Register the authenticator app</h2>\
<p>In the City authenticator app, choose “Add work account” and scan this code. It works once, \
for 10 minutes.</p><div role=\"img\" aria-label=\"QR code of the enrollment link below\">{qr}</div>\
<p>Or paste this link into the app:</p><p><code>{}</code></p><h2>Your devices</h2>{table}\
<h2>Account</h2><p><a href=\"/password\">Change my password</a></p>\
<form method=\"post\" action=\"/signout\"><button type=\"submit\" class=\"secondary\">Sign out</button></form>",
        esc(&user.display_name),
        esc(&user.username),
        esc(&link),
    );
    page(StatusCode::OK, "Security info", &body)
}

/// The remove-device form's field.
#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    device: String,
}

/// `POST /security/devices/remove`: removes one of the signed-in user's devices.
pub async fn remove_device(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Response {
    let Some(user) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    let owned = state
        .store()
        .device(&form.device)
        .ok()
        .flatten()
        .is_some_and(|d| d.user_id == user.id);
    if owned && state.store().device_delete(&form.device).unwrap_or(false) {
        state.0.waiters.remove(&form.device);
        let detail = format!("device {} removed on Security info", form.device);
        state.audit(
            Some(&user.username),
            "device_removed",
            &detail,
            Some(&peer.ip().to_string()),
        );
    }
    Redirect::to("/security").into_response()
}

fn password_page(status: StatusCode, message: Option<&str>) -> Response {
    let body = format!(
        "{}<p>{}</p>\
<form method=\"post\" action=\"/password\">{}{}<button type=\"submit\">Change password</button></form>",
        message.map(error).unwrap_or_default(),
        crate::password::requirement(),
        input(
            "current",
            "Current password",
            "password",
            "current-password"
        ),
        input("new", "New password", "password", "new-password"),
    );
    page(status, "Change my password", &body)
}

/// `GET /password`.
pub async fn password_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if signed_in(&state, &headers).is_none() {
        return Redirect::to("/signin").into_response();
    }
    password_page(StatusCode::OK, None)
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
    let Some(user) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    match api::change_password(&state, peer.ip(), &user, form.current, form.new).await {
        Ok(ChangeStarted::Changed(session)) => start_session(&state, &session),
        Ok(ChangeStarted::Pending { id, number }) => {
            change_waiting_page(StatusCode::OK, &id, &number, None)
        }
        Err(e) => password_page(status_of(&e), Some(&e.to_string())),
    }
}

fn change_waiting_page(
    status: StatusCode,
    id: &str,
    number: &str,
    message: Option<&str>,
) -> Response {
    let body = format!(
        "{}<p>Open the City authenticator app on your phone and type this number to approve \
the password change:</p>\
<p class=\"number\">{n}</p>\
<form id=\"continue\" method=\"post\" action=\"/password/continue\">{}{}\
<button type=\"submit\">I approved on my phone – continue</button></form>{}",
        message.map(error).unwrap_or_default(),
        hidden("id", id),
        hidden("number", number),
        poll_script(&format!("/api/v1/password-change/{}", esc(id)), "continue"),
        n = esc(number),
    );
    page(status, "Approve the password change", &body)
}

/// `POST /password/continue`: the new password takes effect once the phone approved.
pub async fn change_password_continue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ContinueForm>,
) -> Response {
    let Some(user) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    match api::finish_password_change(&state, peer.ip(), &user, &form.id) {
        Ok(session) => start_session(&state, &session),
        Err(ApiError::NotVerified)
            if api::change_status(&state, &form.id).is_ok_and(|s| s.state == "pending") =>
        {
            change_waiting_page(
                StatusCode::CONFLICT,
                &form.id,
                &form.number,
                Some("Not approved yet."),
            )
        }
        Err(ApiError::NotVerified) => password_page(
            StatusCode::CONFLICT,
            Some("The change was denied on the phone. Your password is unchanged."),
        ),
        Err(e) => password_page(status_of(&e), Some(&e.to_string())),
    }
}
