//! Reading a request's body within a deadline, before the router sees it.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cityauth_protocol::wire::ErrorBody;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// The largest body read (axum's default limit, which the extractors apply too).
pub(super) const MAX_BODY: usize = 2 * 1024 * 1024;

/// Reads the whole body within `deadline`: a body sent slowly (or never finished) gets
/// `408` and the connection closed, instead of holding a connection for as long as the
/// client likes. The whole body counts, not the gap between two pieces of it.
pub(super) async fn read_within(body: Body, deadline: Duration) -> Result<Bytes, Response> {
    let read = Limited::new(body, MAX_BODY).collect();
    match tokio::time::timeout(deadline, read).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the body is larger than 2 MiB",
        )),
        Ok(Err(_)) => Err(refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the body could not be read",
        )),
        Err(_) => Err(refuse(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the body did not arrive in time",
        )),
    }
}

/// An error answer that also closes the connection: what is left of the body is unread.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        error: code.to_owned(),
        message: message.to_owned(),
    };
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
