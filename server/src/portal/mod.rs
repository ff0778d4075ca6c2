//! The portal: server-rendered HTML from askama templates, with one small static script
//! only to notice an approval sooner (a button does the same without it). Every flow it
//! starts is bound to the browser that started it; every answer carries a strict CSP.

mod account;
mod assets;
mod binding;
mod campaign;
mod cookies;
mod forgot;
mod forms;
mod guard;
pub mod helpdesk;
mod phones;
mod view;

pub use binding::guard_api as bind_api_flows;
pub use guard::{headers as security_headers, refuse as refuse_cross_site, require_json};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

use crate::state::AppState;
use crate::store::User;
use crate::util::sha256;

/// The portal's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(account::home))
        .route("/static/portal.css", get(assets::css))
        .route("/static/poll.js", get(assets::js))
        .route("/lang/{code}", get(crate::i18n::switch))
        .route("/signin", get(account::signin_form).post(account::signin))
        .route("/signin/continue", post(account::signin_continue))
        .route(
            "/signin/access-code",
            get(phones::access_code_form).post(phones::access_code),
        )
        .route("/signout", post(account::signout))
        .route("/security", get(phones::security))
        .route("/security/add-phone", post(phones::add))
        .route("/security/add-phone/continue", post(phones::add_continue))
        .route("/security/add-phone/{id}", get(phones::add_status))
        .route("/security/devices/remove", post(phones::remove))
        .route("/security/devices/confirm", post(phones::confirm))
        .route(campaign::PROMPT, get(campaign::prompt))
        .route("/security/register/later", post(campaign::later))
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
        .route("/forgot/unlock", post(forgot::unlock))
        .route("/forgot/access-code", post(forgot::access_code))
        .merge(helpdesk::router())
        .layer(axum::middleware::from_fn(forms::require_utf8))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::limits::fields::MAX_BODY_BYTES,
        ))
}

/// The signed-in user and the hash of the session token, if the cookie holds a live session.
fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<(User, Vec<u8>)> {
    let token = cookies::session(state, headers)?;
    let user = crate::api::session_user(state, &token).ok()?;
    Some((user, sha256(token.trim().as_bytes())))
}

/// Parses `bytes` as each of the portal's forms, the way their handlers' `Form` extractor
/// does (serde_urlencoded); whether each parsed, in a fixed order (the fuzz targets, fuzz/).
#[cfg(feature = "fuzzing")]
pub(crate) fn parse_forms(bytes: &[u8]) -> Vec<bool> {
    fn parses<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> bool {
        serde_urlencoded::from_bytes::<T>(bytes).is_ok()
    }
    let mut parsed = vec![
        parses::<phones::ContinueForm>(bytes),
        parses::<phones::RemoveForm>(bytes),
        parses::<phones::AccessCodeForm>(bytes),
        parses::<forgot::ForgotForm>(bytes),
        parses::<account::SignInForm>(bytes),
        parses::<account::ContinueForm>(bytes),
        parses::<account::PasswordForm>(bytes),
    ];
    parsed.extend(helpdesk::parse_forms(bytes));
    parsed
}
