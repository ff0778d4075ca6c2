//! The portal's cookies: the session, and the browser cookie flows are bound to. Under
//! https both carry the `__Host-` prefix, which a browser accepts only with `Secure`,
//! `Path=/` and no `Domain`, so a sibling host cannot plant or overwrite them.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::state::AppState;

/// The session cookie's name under https and over plain http (loopback tests).
const SESSION: (&str, &str) = ("__Host-cityauth_session", "cityauth_session");
/// The browser cookie's name under https and over plain http.
const BROWSER: (&str, &str) = ("__Host-cityauth_browser", "cityauth_browser");
/// The help-desk console's session cookie's name under https and over plain http.
const CONSOLE: (&str, &str) = ("__Host-cityauth_helpdesk", "cityauth_helpdesk");

/// Whether the portal is reached over https (its public URL says so).
pub fn https(state: &AppState) -> bool {
    state
        .config()
        .public_url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

fn name(state: &AppState, names: (&'static str, &'static str)) -> &'static str {
    if https(state) { names.0 } else { names.1 }
}

/// The value of cookie `name`, if the request has it.
fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    crate::util::cookie(headers, name)
}

/// The session token the browser sent, if any.
pub fn session(state: &AppState, headers: &HeaderMap) -> Option<String> {
    read(headers, name(state, SESSION))
}

/// The console session token the browser sent, if any.
pub fn console(state: &AppState, headers: &HeaderMap) -> Option<String> {
    read(headers, name(state, CONSOLE))
}

/// Sets the console's session cookie (`max_age` 0 deletes it).
pub fn set_console(state: &AppState, response: &mut Response, token: &str, max_age: u64) {
    set(state, response, name(state, CONSOLE), token, Some(max_age));
}

/// The browser cookie the browser sent, if any.
pub fn browser(state: &AppState, headers: &HeaderMap) -> Option<String> {
    read(headers, name(state, BROWSER))
}

/// Adds a `Set-Cookie` to `response`: HttpOnly, SameSite=Strict (a cross-site request
/// never carries it), Path=/, Secure under https; `max_age` `None` lasts until the browser
/// closes, `Some(0)` deletes it.
fn set(state: &AppState, response: &mut Response, name: &str, value: &str, max_age: Option<u64>) {
    let secure = if https(state) { "; Secure" } else { "" };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{age}{secure}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Sets the session cookie (`max_age` 0 deletes it).
pub fn set_session(state: &AppState, response: &mut Response, token: &str, max_age: u64) {
    set(state, response, name(state, SESSION), token, Some(max_age));
}

/// Sets the browser cookie, for as long as the browser runs.
pub fn set_browser(state: &AppState, response: &mut Response, token: &str) {
    set(state, response, name(state, BROWSER), token, None);
}
