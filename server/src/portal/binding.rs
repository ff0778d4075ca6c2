//! Flows bound to the browser that started them: the portal stores the hash of a random
//! browser cookie with each flow it starts, and a flow is continued, or its state read,
//! only with that cookie. Another browser (an attacker's cross-site form, a link passed
//! on) meets the flow as unknown.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cityauth_protocol::wire::ChallengeKind;

use super::cookies;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Flow;
use crate::util::{ct_eq, random_token, sha256};

/// This browser's cookie: the one it sent, or a new one to set with the response.
pub struct Browser {
    token: String,
    fresh: bool,
}

impl Browser {
    /// The browser's cookie if it sent a well-formed one, else a new one.
    pub fn of(state: &AppState, headers: &HeaderMap) -> Result<Self, ApiError> {
        match cookies::browser(state, headers).filter(|t| well_formed(t)) {
            Some(token) => Ok(Self {
                token,
                fresh: false,
            }),
            None => Ok(Self {
                token: random_token()?,
                fresh: true,
            }),
        }
    }

    /// Binds `flow_id` (just started) to this browser.
    pub fn bind(&self, state: &AppState, flow_id: &str) -> Result<(), ApiError> {
        if state
            .store()
            .flow_bind(flow_id, &sha256(self.token.as_bytes()))?
        {
            Ok(())
        } else {
            Err(ApiError::Internal("a new flow was already bound".into()))
        }
    }

    /// Sets the cookie on `response` if it is new.
    pub fn remember(&self, state: &AppState, mut response: Response) -> Response {
        if self.fresh {
            cookies::set_browser(state, &mut response, &self.token);
        }
        response
    }
}

/// A random token as [`random_token`] makes them (43 base64url characters).
fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the request carries the browser cookie whose hash is `binding`.
fn from_browser(state: &AppState, headers: &HeaderMap, binding: &[u8]) -> bool {
    cookies::browser(state, headers).is_some_and(|token| ct_eq(&sha256(token.as_bytes()), binding))
}

/// The flow `id` of `kind` if it was started by this browser; `None` for any other
/// (unknown, of another kind, started elsewhere).
pub fn owned_flow(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    kind: ChallengeKind,
) -> Result<Option<Flow>, ApiError> {
    let Some(flow) = state.store().flow(id)?.filter(|f| f.kind == kind) else {
        return Ok(None);
    };
    // An unbound flow (started through the JSON API) belongs to no browser.
    let binding = state.store().flow_binding(id)?;
    Ok(binding
        .is_some_and(|b| from_browser(state, headers, &b))
        .then_some(flow))
}

/// The flow id in a JSON API path that names one (`/api/v1/reset/{id}…`,
/// `/api/v1/signin/{id}…`, `/api/v1/password-change/{id}`).
fn flow_in_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/")?;
    let mut parts = rest.split('/');
    let (family, id) = (parts.next()?, parts.next()?);
    let named = matches!(family, "reset" | "signin" | "password-change");
    (named && !matches!(id, "start" | "access-code" | "")).then_some(id)
}

/// Middleware: a JSON API request naming a flow that is bound to a browser must come from
/// that browser, or it is `404 not_found`, as for an unknown flow. Flows started through
/// the API itself are bound to no browser and are held by their id alone.
pub async fn guard_api(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(id) = flow_in_path(request.uri().path()) {
        let refused = match state.store().flow_binding(id) {
            Ok(Some(binding)) => !from_browser(&state, request.headers(), &binding),
            Ok(None) => false,
            Err(e) => return ApiError::from(e).into_response(),
        };
        if refused {
            return ApiError::NotFound.into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::flow_in_path;

    #[test]
    fn flow_paths_are_recognised() {
        assert_eq!(flow_in_path("/api/v1/reset/abc"), Some("abc"));
        assert_eq!(flow_in_path("/api/v1/reset/abc/code"), Some("abc"));
        assert_eq!(flow_in_path("/api/v1/signin/abc/session"), Some("abc"));
        assert_eq!(flow_in_path("/api/v1/password-change/abc"), Some("abc"));
        assert_eq!(flow_in_path("/api/v1/reset/start"), None);
        assert_eq!(flow_in_path("/api/v1/signin/access-code"), None);
        assert_eq!(flow_in_path("/api/v1/signin"), None);
        assert_eq!(flow_in_path("/api/v1/device/challenges"), None);
    }
}
