//! The HTTP layer, pluggable: the apps may hand in the platform's stack (as Mozilla's
//! viaduct does); [`UreqTransport`] is the default, on rustls with ring.

#[cfg(feature = "rust-transport")]
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

/// The default transport: ureq over rustls (ring), webpki roots; redirects refused (a 3xx is
/// a response, which the client reports as the server's refusal). Not in a build without the
/// `rust-transport` feature.
#[cfg(feature = "rust-transport")]
pub struct UreqTransport {
    agent: ureq::Agent,
}

/// Waiting for the response: longer than the server's 25-second long poll.
#[cfg(feature = "rust-transport")]
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(40);
/// Connecting, sending the request, and each other phase.
#[cfg(feature = "rust-transport")]
const PHASE_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest response body read (challenge lists are small).
#[cfg(feature = "rust-transport")]
const MAX_BODY: u64 = 1024 * 1024;

#[cfg(feature = "rust-transport")]
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
            .max_redirects(0)
            .build();
        Self {
            agent: config.into(),
        }
    }
}

#[cfg(feature = "rust-transport")]
impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "rust-transport")]
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

#[cfg(all(test, feature = "rust-transport"))]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn a_redirect_is_the_response_and_is_never_followed() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let location = format!("{base}/elsewhere");
        let server = std::thread::spawn(move || {
            // Every request line it reads; one request unless the redirect is followed.
            let mut paths = Vec::new();
            listener.set_nonblocking(false).unwrap();
            for _ in 0..2 {
                let Ok((mut stream, _)) = listener.accept() else {
                    break;
                };
                let mut line = String::new();
                BufReader::new(&stream).read_line(&mut line).unwrap();
                paths.push(line.clone());
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\
                     Connection: close\r\n\r\n"
                );
                stream.write_all(answer.as_bytes()).unwrap();
                if paths.len() == 1 {
                    // Unblocks the second accept when the client does not come back.
                    let _ = std::net::TcpStream::connect(stream.local_addr().unwrap());
                }
            }
            paths
        });
        let request = HttpRequest {
            method: "POST".into(),
            url: format!("{base}/start"),
            headers: Vec::new(),
            body: b"{}".to_vec(),
        };
        let response = UreqTransport::new().send(&request).unwrap();
        assert_eq!(response.status, 302);
        let paths = server.join().unwrap();
        assert!(paths[0].starts_with("POST /start "), "{paths:?}");
        assert!(
            paths.iter().all(|p| !p.contains("/elsewhere")),
            "the redirect was followed: {paths:?}"
        );
    }
}
