//! The HTTP transport the host may implement, so that approvals travel over the platform's
//! own stack (its proxy settings, its certificate store, its network policy) instead of the
//! core's built-in client.

use std::sync::Arc;

use cityauth_core::device::{HttpRequest, HttpResponse, Transport, TransportError};

/// A request for the host to send. Bodies are JSON. `Debug` shows the method, the URL and
/// the header names, never the header values (signatures) nor the body (answers, numbers).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HostHttpRequest {
    /// `GET`, `POST` or `DELETE`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers to add (the signed-request headers) as name and value pairs.
    pub headers: Vec<HostHttpHeader>,
    /// The body; empty for none.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HostHttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|h| h.name.as_str()).collect();
        f.debug_struct("HostHttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &names)
            .field(
                "body",
                &format_args!("<{} bytes redacted>", self.body.len()),
            )
            .finish()
    }
}

/// One header. `Debug` shows its name only.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HostHttpHeader {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}

impl std::fmt::Debug for HostHttpHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostHttpHeader")
            .field("name", &self.name)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// The host's response, whatever its status: non-2xx statuses are responses, not errors
/// (the protocol's error codes are in their bodies).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HostHttpResponse {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// What a host transport throws when no response came. Kotlin: `HostHttpException.Failed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HostHttpError {
    /// No response (no network, timeout, TLS failure); `reason` is for people.
    #[error("{reason}")]
    Failed {
        /// Why, for people and logs; never key material.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HostHttpError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed {
            reason: format!("the host transport threw: {}", error.reason),
        }
    }
}

/// Implemented in Kotlin or Swift; called from the thread that called `Approvals`, and must
/// block until the whole response is in (with a timeout longer than the 25-second long poll).
#[uniffi::export(foreign)]
pub trait HostHttpTransport: Send + Sync {
    /// Sends `request` and returns the response, or throws when there is none.
    fn send(&self, request: HostHttpRequest) -> Result<HostHttpResponse, HostHttpError>;
}

/// The core's view of a host transport.
pub struct HostTransport(pub Arc<dyn HostHttpTransport>);

impl Transport for HostTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let request = HostHttpRequest {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| HostHttpHeader {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            body: request.body.clone(),
        };
        match self.0.send(request) {
            Ok(response) => Ok(HttpResponse {
                status: response.status,
                body: response.body,
            }),
            Err(HostHttpError::Failed { reason }) => Err(TransportError { reason }),
        }
    }
}
