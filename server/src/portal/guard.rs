//! What every request and response passes through: cross-site state changes refused, JSON
//! required on the JSON API, and the security headers on every answer.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cityauth_protocol::wire::ErrorBody;

use super::view;
use crate::state::AppState;

/// The pages' policy: scripts, styles and images only from this origin (the QR code is a
/// `data:` image), fetches only to it, forms only to it, never framed, no `<base>`.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
base-uri 'none'";
/// HSTS under https: a year.
const HSTS: &str = "max-age=31536000";

/// The origin (`scheme://host[:port]`, lowercase, default port left out) of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let uri: axum::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    let default = matches!(
        (scheme.as_str(), uri.port_u16()),
        ("https", Some(443)) | ("http", Some(80))
    );
    Some(match uri.port_u16() {
        Some(port) if !default => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// Whether a browser says this request comes from another site: `Sec-Fetch-Site` other
/// than `same-origin` or `none` (typed in, a bookmark), or an `Origin` other than the
/// portal's. A request with neither header is not from a browser that could be misled
/// (the phones, the API's clients); the SameSite cookies and the flow binding cover the
/// oldest browsers.
fn cross_site(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    let site = headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or("cross-site"));
    if site.is_some_and(|s| s != "same-origin" && s != "none") {
        return true;
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => {
            let origin = origin.to_str().ok().and_then(origin_of);
            origin.is_none() || origin.as_deref() != public_origin
        }
        None => false,
    }
}

/// Whether the request's body is declared as JSON.
fn json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        error: code.to_owned(),
        message: message.to_owned(),
    };
    (status, Json(body)).into_response()
}

/// Middleware: refuses, before any handler runs, a state-changing request from another
/// site (`403`); the JSON API's `415` is [`require_json`], on its routes.
pub async fn refuse(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let api = request.uri().path().starts_with("/api/");
    if changes {
        let public = origin_of(&state.config().public_url);
        if cross_site(request.headers(), public.as_deref()) {
            let why = "a cross-site request may not change anything here";
            return if api {
                api_error(StatusCode::FORBIDDEN, "cross_site", why)
            } else {
                let page = view::notice(
                    "notice-refused-title",
                    vec!["notice-refused-body"],
                    ("/", "link-portal-home"),
                );
                view::render(StatusCode::FORBIDDEN, &page)
            };
        }
    }
    next.run(request).await
}

/// Route middleware on every `POST` of the JSON API: a body not declared as JSON is `415`
/// before the handler runs (a cross-site HTML form cannot send that type). On the route
/// rather than the whole router, so that a method a path does not serve is `405` whatever
/// its content type (schemathesis found `415` there).
pub async fn require_json(request: Request, next: Next) -> Response {
    if !json(request.headers()) {
        return api_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be sent as Content-Type: application/json",
        );
    }
    next.run(request).await
}

/// Middleware: the security headers on every answer; `Cache-Control: no-store` on all
/// but the versioned static files (pages hold flows, codes and sessions).
pub async fn headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` on
    // the portal's own form posts, which would defeat the check of `Origin` above. No
    // Referer ever leaves for another site either way.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if super::cookies::https(&state) {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            origin_of("https://Auth.City.example:443/portal").as_deref(),
            Some("https://auth.city.example")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("null"), None);
        assert_eq!(origin_of("http://a@b.example"), None);
    }
}
