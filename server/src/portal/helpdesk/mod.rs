//! The help-desk console (`/helpdesk`): operators sign in with their own password and a
//! phone approval, look an employee up, verify a caller by a number read out and typed on
//! the employee's phone, then issue a one-time access code, remove a lost phone or clear a
//! fraud block; auditors read the audit trail. Every action is audited with the operator's
//! name. The pages are the portal's: the same layout, headers, cross-site refusal and
//! catalogues.

mod audit;
mod employee;
mod pages;
mod roles;
mod signin;

pub use roles::{Role, grant, revoke};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};

use super::cookies;
use super::view::render;
use crate::state::AppState;
use crate::store::User;
use crate::util::sha256;

/// The console's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/helpdesk", get(signin::home))
        .route("/helpdesk/signin", post(signin::start))
        .route("/helpdesk/signin/continue", post(signin::finish))
        .route("/helpdesk/signout", post(signin::sign_out))
        .route("/helpdesk/employee", get(employee::show))
        .route("/helpdesk/verify", post(employee::verify))
        .route("/helpdesk/verify/continue", post(employee::verify_continue))
        .route("/helpdesk/verify/{id}", get(employee::verify_status))
        .route("/helpdesk/access-code", post(employee::access_code))
        .route("/helpdesk/remove-phone", post(employee::remove_phone))
        .route("/helpdesk/unblock", post(employee::unblock))
        .route("/helpdesk/audit", get(audit::show))
}

/// The signed-in console user: their row, roles, and the session's hash.
pub(super) struct Staff {
    pub user: User,
    pub roles: Vec<Role>,
    pub session_hash: Vec<u8>,
}

impl Staff {
    /// Whether they hold `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The console user of this request: a live session made by the console's own sign-in,
/// whose user holds a role now (roles are read on every request: one taken away ends
/// the access at once).
async fn staff(state: &AppState, headers: &HeaderMap) -> Option<Staff> {
    let token = cookies::console(state, headers)?;
    let user = crate::api::session_user(state, &token).ok()?;
    let session_hash = sha256(token.trim().as_bytes());
    if !state.store().console_session_is(&session_hash).ok()? {
        return None;
    }
    let roles = roles::of(state, &user).await.ok()?;
    (!roles.is_empty()).then_some(Staff {
        user,
        roles,
        session_hash,
    })
}

/// Why a request to the console was not served.
pub(super) enum Refusal {
    /// No console session: sign in first.
    SignedOut,
    /// Signed in, but the action needs a role they do not hold.
    Forbidden,
}

/// The console user holding `role`, or the page that says why not: the sign-in page, or
/// `403` for a role they lack (audited).
async fn require(state: &AppState, headers: &HeaderMap, role: Role) -> Result<Staff, Response> {
    match staff(state, headers).await {
        Some(staff) if staff.has(role) => Ok(staff),
        Some(staff) => {
            state.audit(
                Some(&staff.user.username),
                "helpdesk_forbidden",
                &format!("needs the {} role", role.as_str()),
                None,
            );
            Err(refused(Refusal::Forbidden))
        }
        None => Err(refused(Refusal::SignedOut)),
    }
}

/// The page for a refusal.
fn refused(why: Refusal) -> Response {
    match why {
        Refusal::SignedOut => render(StatusCode::UNAUTHORIZED, &pages::sign_in(None)),
        Refusal::Forbidden => render(
            StatusCode::FORBIDDEN,
            &super::view::notice(
                "title-helpdesk-forbidden",
                vec!["helpdesk-forbidden-body"],
                ("/helpdesk", "helpdesk-link-console"),
            ),
        ),
    }
}

/// Parses `bytes` as each of the help desk's forms and queries (serde_urlencoded, as the
/// `Form` and `Query` extractors do); whether each parsed (the fuzz targets, fuzz/).
#[cfg(feature = "fuzzing")]
pub(crate) fn parse_forms(bytes: &[u8]) -> Vec<bool> {
    fn parses<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> bool {
        serde_urlencoded::from_bytes::<T>(bytes).is_ok()
    }
    vec![
        parses::<audit::Filter>(bytes),
        parses::<signin::SignInForm>(bytes),
        parses::<signin::ContinueForm>(bytes),
        parses::<employee::EmployeeForm>(bytes),
        parses::<employee::Lookup>(bytes),
    ]
}
