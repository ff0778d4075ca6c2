//! The portal's forms must be UTF-8 once percent-decoded: the form parser would otherwise
//! put U+FFFD in place of each bad byte and carry on with a name nobody typed.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::view;
use crate::error::ApiError;

/// The most read here: the edge's own bound (a larger body never gets this far).
const MAX_READ: usize = 2 * 1024 * 1024;

/// Whether `form` (`application/x-www-form-urlencoded`) decodes to UTF-8: every name and
/// value, after `+` and `%XX`, and the raw bytes themselves.
fn decodes_to_utf8(form: &[u8]) -> bool {
    form.split(|b| *b == b'&').all(|pair| {
        let mut decoded = Vec::with_capacity(pair.len());
        let mut bytes = pair.iter().copied();
        while let Some(byte) = bytes.next() {
            match byte {
                b'+' => decoded.push(b' '),
                b'%' => {
                    let hex: Vec<u8> = bytes.clone().take(2).collect();
                    match std::str::from_utf8(&hex)
                        .ok()
                        .filter(|h| h.len() == 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        Some(value) => {
                            decoded.push(value);
                            bytes.nth(1);
                        }
                        // Not an escape: kept as typed, as the parser does.
                        None => decoded.push(b'%'),
                    }
                }
                other => decoded.push(other),
            }
        }
        std::str::from_utf8(&decoded).is_ok()
    })
}

/// Middleware on the portal's routes: a posted form that is not UTF-8 is `400` with the
/// start page, before any handler reads it.
pub async fn require_utf8(request: Request, next: Next) -> Response {
    let form = request.method() == Method::POST
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
    if !form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_READ).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let error = ApiError::TooLarge;
            let page = view::home(Some(view::error_text(&error)));
            return view::render(StatusCode::PAYLOAD_TOO_LARGE, &page);
        }
    };
    if !decodes_to_utf8(&bytes) {
        let error = ApiError::BadRequest("the form is not UTF-8".into());
        return view::render(
            StatusCode::BAD_REQUEST,
            &view::home(Some(view::error_text(&error))),
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::decodes_to_utf8;

    #[test]
    fn only_forms_that_decode_to_utf8_pass() {
        for good in [
            &b"username=alice&password=a+b%20c"[..],
            b"name=%C3%A9l%C3%A8ve",
            b"x=100%",
            b"x=%zz",
            b"",
        ] {
            assert!(decodes_to_utf8(good), "{good:?}");
        }
        for bad in [
            &b"username=%FF%FE"[..],
            b"username=al%EDce",
            b"username=\xff",
            b"%C3=x",
            b"a=ok&b=%ED%A0%80",
        ] {
            assert!(!decodes_to_utf8(bad), "{bad:?}");
        }
    }
}
