//! The HTTP layer, pluggable: the apps may hand in the platform's stack (as Mozilla's
//! viaduct does); [`UreqTransport`] is the default, on rustls with ring.

use std::time::Duration;

/// One HTTP request. Bodies are JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST` or `DELETE`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Extra headers (the signed-request headers).
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

/// One HTTP response, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// The request did not get a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("network error: {reason}")]
pub struct TransportError {
    /// Why, for people.
    pub reason: String,
}

/// Sends HTTP requests. Implementations must return non-2xx responses as responses, not
/// errors: the protocol's error codes are in their bodies.
pub trait Transport: Send + Sync {
    /// Sends a request and waits for the whole response (blocking).
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// The default transport: ureq over rustls (ring), webpki roots.
pub struct UreqTransport {
    agent: ureq::Agent,
}

/// Waiting for the response: longer than the server's 25-second long poll.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(40);
/// Connecting, sending the request, and each other phase.
const PHASE_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest response body read (challenge lists are small).
const MAX_BODY: u64 = 1024 * 1024;

impl UreqTransport {
    /// A transport with a timeout for each phase of a request: 15 s to connect, send, and
    /// read the body, 40 s to wait for the response (the server's long poll holds it 25 s).
    ///
    /// Name resolution has no timeout of ours (the system resolver's applies): with one,
    /// ureq resolves on a new thread for every request, which cost the load benchmark more
    /// than the request itself.
    pub fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(PHASE_TIMEOUT))
            .timeout_send_request(Some(PHASE_TIMEOUT))
            .timeout_send_body(Some(PHASE_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .timeout_recv_body(Some(PHASE_TIMEOUT))
            .http_status_as_error(false)
            .build();
        Self {
            agent: config.into(),
        }
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(&request.url)
            .header("content-type", "application/json");
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(request.body.clone())
            .map_err(|e| TransportError {
                reason: e.to_string(),
            })?;
        let mut response = self.agent.run(http_request).map_err(|e| TransportError {
            reason: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| TransportError {
                reason: e.to_string(),
            })?;
        Ok(HttpResponse { status, body })
    }
}
