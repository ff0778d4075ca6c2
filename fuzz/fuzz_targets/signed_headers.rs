//! The signed-request header parser (server/src/auth.rs `verify_request`) against a real
//! server state on SQLite that has no device enrolled. A case is a request as text: a first
//! line `METHOD /path`, header lines `name: value` (the device, time, nonce and signature
//! headers, or anything else), an empty line, the body. Invariant: every case is refused, as
//! a bad request, a bad signature or an unknown device, never accepted nor a server error.
#![no_main]

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use cityauth_server::{ApiError, AppState, Config};
use libfuzzer_sys::fuzz_target;

fn state() -> &'static AppState {
    static STATE: OnceLock<(tempfile::TempDir, AppState)> = OnceLock::new();
    &STATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let config = Config::new("https://auth.example.org");
            let state = AppState::open(&dir.path().join("server.db"), config).expect("state");
            (dir, state)
        })
        .1
}

fn split<'a>(bytes: &'a [u8], separator: &[u8]) -> (&'a [u8], &'a [u8]) {
    match bytes.windows(separator.len()).position(|w| w == separator) {
        Some(at) => (&bytes[..at], &bytes[at + separator.len()..]),
        None => (bytes, &[]),
    }
}

fuzz_target!(|bytes: &[u8]| {
    let (head, body) = split(bytes, b"\n\n");
    let mut lines = head.split(|b| *b == b'\n');
    let (method, path) = split(lines.next().unwrap_or_default(), b" ");
    let method = Method::from_bytes(method).unwrap_or(Method::GET);
    let uri = Uri::try_from(path).unwrap_or_else(|_| Uri::from_static("/api/v1/device"));
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = split(line, b": ");
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    match cityauth_server::auth::verify_request(state(), &method, &uri, &headers, body) {
        Ok(_) => panic!("a request was accepted with no device enrolled"),
        Err(ApiError::BadRequest(_) | ApiError::InvalidSignature | ApiError::UnknownDevice) => {}
        Err(other) => panic!("unexpected refusal: {other:?}"),
    }
});
