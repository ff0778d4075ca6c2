//! The portal: plain server-rendered HTML that works in any browser, with a little script
//! only to notice an approval sooner (a button does the same without it).

mod account;
mod forgot;
mod page;

use axum::Router;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};

use crate::state::AppState;
use crate::store::User;

/// The session cookie.
const COOKIE: &str = "cityauth_session";

/// The portal's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(account::home))
        .route("/signin", get(account::signin_form).post(account::signin))
        .route("/signin/continue", post(account::signin_continue))
        .route("/signout", post(account::signout))
        .route("/security", get(account::security))
        .route("/security/devices/remove", post(account::remove_device))
        .route(
            "/password",
            get(account::password_form).post(account::change_password),
        )
        .route(
            "/password/continue",
            post(account::change_password_continue),
        )
        .route("/forgot", get(forgot::start_form).post(forgot::start))
        .route("/forgot/continue", post(forgot::proceed))
        .route("/forgot/code", post(forgot::code))
        .route("/forgot/password", post(forgot::password))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::limits::fields::MAX_BODY_BYTES,
        ))
}

/// The session token from the cookie, if any.
fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The signed-in user, if the cookie holds a live session.
fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<User> {
    let token = session_token(headers)?;
    crate::api::session_user(state, &token).ok()
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict (no cross-site form posts carry it),
/// Secure when the server is reached over https.
fn cookie(state: &AppState, token: &str, max_age: u64) -> String {
    let secure = if state.config().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}
