//! The portal's stylesheet and script, compiled in and served as static files (a strict
//! CSP allows no inline style or script). Their URLs carry a digest of the content, so
//! browsers may cache them for a year and still fetch a new version after an upgrade.

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../static/portal.css");
const JS: &str = include_str!("../../static/poll.js");

/// How long browsers may keep a versioned asset.
const CACHE: &str = "public, max-age=31536000, immutable";

/// The versioned URLs of the assets, for the pages.
#[derive(Debug)]
pub struct Assets {
    /// The stylesheet's URL.
    pub css: String,
    /// The poll script's URL.
    pub js: String,
}

/// The assets' URLs, computed once.
pub fn urls() -> &'static Assets {
    static URLS: OnceLock<Assets> = OnceLock::new();
    URLS.get_or_init(|| Assets {
        css: format!("/static/portal.css?v={}", digest(CSS)),
        js: format!("/static/poll.js?v={}", digest(JS)),
    })
}

/// The first 48 bits of the content's SHA-256, as hex: enough to tell versions apart.
fn digest(content: &str) -> String {
    crate::util::sha256(content.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(CACHE)),
        ],
        body,
    )
        .into_response()
}

/// `GET /static/portal.css`.
pub async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// `GET /static/poll.js`.
pub async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}
