//! A small HTTPS client for the two vendors: hyper 1 over tokio-rustls (ring), ALPN h2
//! first. One HTTP/2 connection per vendor is kept and multiplexed (APNs asks for exactly
//! that); a server that only speaks HTTP/1.1 gets one connection per request. Redirects are
//! never followed: a 3xx is just an answer.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ClientConfig;
use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use super::config::PushConfigError;

/// The largest answer body read (the vendors' error bodies are a few hundred bytes).
const MAX_ANSWER: usize = 64 * 1024;

/// Why a request got no answer (a retryable failure: the vendor may be down).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connecting, TLS or the exchange failed.
    #[error("{0}")]
    Transport(String),
    /// No answer within the request timeout.
    #[error("timed out")]
    Timeout,
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    /// Its status.
    pub status: u16,
    /// `Retry-After`, in seconds, when given as a number.
    pub retry_after: Option<u64>,
    /// Its body (at most [`MAX_ANSWER`] bytes).
    pub body: Bytes,
}

/// One vendor host: where, how to trust it, and the kept HTTP/2 connection.
pub struct Endpoint {
    host: String,
    port: u16,
    tls: Arc<ClientConfig>,
    h2_only: bool,
    timeout: Duration,
    h2: Mutex<Option<SendRequest<Full<Bytes>>>>,
}

/// A TLS client configuration: the CAs in `ca_file`, or the public web roots.
pub fn tls_config(
    ca_file: Option<&std::path::Path>,
    setting: &'static str,
    h2_only: bool,
) -> Result<Arc<ClientConfig>, PushConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| PushConfigError::file(setting, path, e))?;
            for cert in certs {
                let cert = cert.map_err(|e| PushConfigError::file(setting, path, e))?;
                roots
                    .add(cert)
                    .map_err(|e| PushConfigError::file(setting, path, e))?;
            }
            if roots.is_empty() {
                return Err(PushConfigError::file(setting, path, "no certificate in it"));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PushConfigError::Value {
            setting,
            why: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = if h2_only {
        vec![b"h2".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    Ok(Arc::new(config))
}

/// `https://host[:port]` of `url` (any path after it is the caller's), or why not.
pub fn host_of(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| "not an https:// URL".to_owned())?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().map_err(|_| "bad port".to_owned())?),
        None => (authority, 443),
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    Ok((host.to_owned(), port))
}

impl Endpoint {
    /// The endpoint at `url`'s host.
    pub fn new(
        url: &str,
        tls: Arc<ClientConfig>,
        h2_only: bool,
        timeout: Duration,
    ) -> Result<Self, String> {
        let (host, port) = host_of(url)?;
        ServerName::try_from(host.clone()).map_err(|_| "bad host name".to_owned())?;
        Ok(Self {
            host,
            port,
            tls,
            h2_only,
            timeout,
            h2: Mutex::new(None),
        })
    }

    /// Sends `request` (its URI a path; the authority is added) and reads the answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Answer, HttpError> {
        tokio::time::timeout(self.timeout, self.exchange(method, path, headers, body))
            .await
            .map_err(|_| HttpError::Timeout)?
    }

    async fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Answer, HttpError> {
        let authority = if self.port == 443 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let build = |absolute: bool| {
            let uri = if absolute {
                format!("https://{authority}{path}")
            } else {
                path.to_owned()
            };
            let mut builder = hyper::Request::builder().method(method).uri(uri);
            if !absolute {
                builder = builder.header("host", &authority);
            }
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            builder
                .body(Full::new(Bytes::from(body.clone())))
                .map_err(|e| HttpError::Transport(format!("request: {e}")))
        };
        // The kept connection first; a closed one is replaced below.
        let kept = self.h2.lock().await.clone();
        if let Some(mut sender) = kept
            && sender.ready().await.is_ok()
        {
            return read(sender.send_request(build(true)?).await).await;
        }
        let (tls, h2) = self.connect().await?;
        if h2 {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                    .await
                    .map_err(|e| HttpError::Transport(format!("h2 handshake: {e}")))?;
            tokio::spawn(connection);
            *self.h2.lock().await = Some(sender.clone());
            return read(sender.send_request(build(true)?).await).await;
        }
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| HttpError::Transport(format!("http/1.1 handshake: {e}")))?;
        tokio::spawn(connection);
        read(sender.send_request(build(false)?).await).await
    }

    /// A TLS connection; true if the server chose h2.
    async fn connect(
        &self,
    ) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, bool), HttpError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| HttpError::Transport(format!("connect: {e}")))?;
        // Checked in `new`.
        let name = ServerName::try_from(self.host.clone())
            .map_err(|_| HttpError::Transport("bad host name".into()))?;
        let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| HttpError::Transport(format!("tls: {e}")))?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        if self.h2_only && !h2 {
            return Err(HttpError::Transport("the server does not speak h2".into()));
        }
        Ok((tls, h2))
    }
}

/// The answer's status, `Retry-After` and (bounded) body.
async fn read(
    answer: Result<hyper::Response<hyper::body::Incoming>, hyper::Error>,
) -> Result<Answer, HttpError> {
    let answer = answer.map_err(|e| HttpError::Transport(format!("exchange: {e}")))?;
    let status = answer.status().as_u16();
    let retry_after = answer
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let body = Limited::new(answer.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| HttpError::Transport(format!("answer body: {e}")))?
        .to_bytes();
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}
