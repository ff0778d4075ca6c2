//! Local HTTPS stand-ins for FCM (HTTP v1 and Google's OAuth2 token endpoint) and APNs
//! (HTTP/2 only), on loopback with a certificate from a test CA. Each checks a request as
//! the vendor documents it and refuses it as the vendor would (the JWT's claims and its
//! signature verified with the public key), answers success or the vendor's error bodies
//! as scripted, and records what it delivered. Anything it finds wrong is also kept in
//! `problems`, which the tests assert empty.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey, VerificationAlgorithm,
};
use serde_json::{Value, json};

/// Which vendor a stand-in plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// FCM and Google's token endpoint (`/token`).
    Fcm,
    /// The same, offering only HTTP/1.1 in ALPN (a proxy in front of Google, say).
    FcmHttp1,
    /// APNs.
    Apns,
}

/// A scripted answer to the next message (not to token grants).
#[derive(Debug, Clone)]
pub enum Script {
    /// This status with this body and `Retry-After: 0`.
    Fail(u16, Value),
    /// Hold the request this long, then answer success.
    Stall(Duration),
}

/// A message the stand-in accepted.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The device token it was for.
    pub token: String,
    /// The challenge id in its payload.
    pub challenge_id: String,
}

/// What the stand-in saw and will answer; shared with the test.
#[derive(Default)]
pub struct Book {
    /// Messages accepted (answered 200).
    pub delivered: Vec<Delivered>,
    /// Message requests received (any answer), counted when they arrive.
    pub received: usize,
    /// Token grants answered (FCM), or distinct provider tokens seen (APNs).
    pub grants: usize,
    /// Violations of the vendor's documented request format.
    pub problems: Vec<String>,
    /// Answers for the next messages, in order.
    pub script: VecDeque<Script>,
    /// Device tokens the vendor says are unregistered.
    pub unregistered: HashSet<String>,
    /// Access tokens (FCM) or provider JWTs (APNs) accepted; others are refused.
    valid: HashSet<String>,
    /// Provider tokens (APNs) or access tokens (FCM) to refuse as expired.
    expired: HashSet<String>,
    /// APNs: provider tokens seen.
    seen: HashSet<String>,
}

/// A running stand-in.
pub struct StandIn {
    /// Its base URL (`https://127.0.0.1:port`).
    pub base: String,
    /// The CA file that signed its certificate.
    pub ca_file: PathBuf,
    /// What it saw.
    pub book: Arc<Mutex<Book>>,
    _runtime: tokio::runtime::Runtime,
}

/// The checks' expectations.
#[derive(Clone)]
pub struct Expect {
    /// The public key the JWTs must verify with (RSA `RSAPublicKey` DER, or an uncompressed
    /// P-256 point).
    pub public_key: Vec<u8>,
    /// FCM: the service account's email; APNs: the team id.
    pub issuer: String,
    /// FCM: the project; APNs: the topic (bundle id).
    pub scope: String,
    /// APNs: the key id.
    pub key_id: String,
}

impl StandIn {
    /// Starts one on a free loopback port; its CA file goes in `dir`.
    pub fn start(vendor: Vendor, expect: Expect, dir: &std::path::Path) -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let ca_file = dir.join(format!("{vendor:?}-ca.pem"));
        std::fs::write(&ca_file, ca_cert.pem()).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        tls.alpn_protocols = match vendor {
            Vendor::Apns => vec![b"h2".to_vec()],
            Vendor::Fcm => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            Vendor::FcmHttp1 => vec![b"http/1.1".to_vec()],
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("https://{}", listener.local_addr().unwrap());
        let book = Arc::new(Mutex::new(Book::default()));
        let shared = (book.clone(), Arc::new(expect), base.clone());
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let shared = shared.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(answer(vendor, &shared, request).await) }
                    });
                    let io = TokioIo::new(tls);
                    if h2 {
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, service)
                            .await;
                    } else {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    }
                });
            }
        });
        Self {
            base,
            ca_file,
            book,
            _runtime: runtime,
        }
    }

    /// Waits (up to 20 s) until `done` holds of the book.
    pub fn wait_for(&self, what: &str, done: impl Fn(&Book) -> bool) {
        for _ in 0..400 {
            if done(&self.book.lock().unwrap()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the stand-in never saw: {what}");
    }

    /// Refuses every access token or provider token issued so far as expired.
    pub fn expire_tokens(&self) {
        let mut book = self.book.lock().unwrap();
        let valid: Vec<String> = book.valid.drain().collect();
        book.expired.extend(valid);
        let seen: Vec<String> = book.seen.iter().cloned().collect();
        book.expired.extend(seen);
    }
}

type Shared = (Arc<Mutex<Book>>, Arc<Expect>, String);

fn reply(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("retry-after", "0")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

async fn answer(
    vendor: Vendor,
    shared: &Shared,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (head, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    match vendor {
        Vendor::Fcm | Vendor::FcmHttp1 if head.uri.path() == "/token" => {
            fcm_grant(shared, &head, &body)
        }
        Vendor::Fcm | Vendor::FcmHttp1 => fcm_send(shared, &head, &body).await,
        Vendor::Apns => apns_send(shared, &head, &body).await,
    }
}

/// Splits and verifies a compact JWS: (header, claims) if the signature holds.
fn verify_jwt(
    jwt: &str,
    alg: &'static dyn VerificationAlgorithm,
    key: &[u8],
) -> Result<(Value, Value), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("not three parts".into());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string());
    let signature = decode(signature)?;
    UnparsedPublicKey::new(alg, key)
        .verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| "bad signature".to_owned())?;
    let json = |bytes: Vec<u8>| serde_json::from_slice::<Value>(&bytes).map_err(|e| e.to_string());
    Ok((json(decode(header)?)?, json(decode(claims)?)?))
}

fn now() -> i64 {
    cityauth_server::util::now() as i64
}

/// Google's token endpoint: a JWT-bearer grant (RFC 7523) for the service account.
fn fcm_grant(
    shared: &Shared,
    head: &hyper::http::request::Parts,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let (book, expect, base) = shared;
    let mut book = book.lock().unwrap();
    let refuse = |book: &mut Book, why: String| {
        book.problems.push(format!("token grant: {why}"));
        reply(
            400,
            json!({"error": "invalid_grant", "error_description": why}),
        )
    };
    if head.method != "POST"
        || head.headers.get("content-type").map(|v| v.as_bytes())
            != Some(b"application/x-www-form-urlencoded")
    {
        return refuse(&mut book, "not a form POST".into());
    }
    let form = String::from_utf8_lossy(body).to_string();
    let mut grant = None;
    let mut assertion = None;
    for pair in form.split('&') {
        match pair.split_once('=') {
            Some(("grant_type", v)) => grant = Some(v.to_owned()),
            Some(("assertion", v)) => assertion = Some(v.to_owned()),
            _ => {}
        }
    }
    if grant.as_deref() != Some("urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer") {
        return refuse(&mut book, format!("grant_type {grant:?}"));
    }
    let Some(assertion) = assertion else {
        return refuse(&mut book, "no assertion".into());
    };
    let (header, claims) =
        match verify_jwt(&assertion, &RSA_PKCS1_2048_8192_SHA256, &expect.public_key) {
            Ok(parts) => parts,
            Err(why) => return refuse(&mut book, why),
        };
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap_or(0),
        claims["exp"].as_i64().unwrap_or(0),
    );
    let checks = [
        (header["alg"] == "RS256", "alg RS256"),
        (header["typ"] == "JWT", "typ JWT"),
        (
            claims["iss"] == expect.issuer.as_str(),
            "iss is the client_email",
        ),
        (
            claims["aud"] == format!("{base}/token").as_str(),
            "aud is the token_uri",
        ),
        (
            claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging",
            "scope",
        ),
        ((iat - now()).abs() < 300, "iat is now"),
        (
            exp > iat && exp - iat <= 3600,
            "exp at most an hour after iat",
        ),
    ];
    for (ok, what) in checks {
        if !ok {
            return refuse(&mut book, format!("claims: {what}: {header} {claims}"));
        }
    }
    book.grants += 1;
    let token = format!("ya29.test-{}", book.grants);
    book.valid.insert(token.clone());
    reply(
        200,
        json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}),
    )
}

/// The FCM error body for `status`/`code` (the shape of Google's `google.rpc.Status`).
pub fn fcm_error(status: u16, code: &str) -> Value {
    json!({"error": {
        "code": status,
        "message": if code == "UNREGISTERED" { "Requested entity was not found." } else { "error" },
        "status": if code == "UNREGISTERED" { "NOT_FOUND" } else { code },
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}],
    }})
}

/// Takes the next scripted answer, if any: Some(response) to send instead of success.
async fn scripted(book: &Arc<Mutex<Book>>) -> Option<Response<Full<Bytes>>> {
    let next = book.lock().unwrap().script.pop_front();
    match next {
        Some(Script::Fail(status, body)) => Some(reply(status, body)),
        Some(Script::Stall(time)) => {
            tokio::time::sleep(time).await;
            None
        }
        None => None,
    }
}

/// `POST /v1/projects/{project}/messages:send`.
async fn fcm_send(
    shared: &Shared,
    head: &hyper::http::request::Parts,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let (book, expect, _) = shared;
    let token;
    let challenge_id;
    {
        let mut book = book.lock().unwrap();
        book.received += 1;
        let bearer = head
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let access = bearer.strip_prefix("Bearer ").unwrap_or_default();
        if !book.valid.contains(access) {
            if !book.expired.contains(access) {
                book.problems
                    .push(format!("send: unknown access token {bearer:?}"));
            }
            return reply(
                401,
                json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}),
            );
        }
        let path = format!("/v1/projects/{}/messages:send", expect.scope);
        let message: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let m = &message["message"];
        let checks = [
            (head.method == "POST", "POST"),
            (head.uri.path() == path, "path"),
            (
                head.headers
                    .get("content-type")
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/json")),
                "content-type json",
            ),
            (
                message.as_object().is_some_and(|o| o.len() == 1),
                "one top-level key",
            ),
            (m["token"].is_string(), "message.token"),
            (
                m["data"]["challenge_id"].is_string(),
                "message.data.challenge_id a string",
            ),
            (
                m["data"].as_object().is_some_and(|o| o.len() == 1),
                "data: the challenge id only",
            ),
            (m["android"]["priority"] == "high", "android.priority high"),
            (
                m.get("notification").is_none(),
                "no notification (a data message)",
            ),
        ];
        for (ok, what) in checks {
            if !ok {
                book.problems
                    .push(format!("send: {what}: {} {message}", head.uri.path()));
                return reply(400, fcm_error(400, "INVALID_ARGUMENT"));
            }
        }
        token = m["token"].as_str().unwrap_or_default().to_owned();
        challenge_id = m["data"]["challenge_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if book.unregistered.contains(&token) {
            return reply(404, fcm_error(404, "UNREGISTERED"));
        }
    }
    if let Some(failure) = scripted(book).await {
        return failure;
    }
    let mut book = book.lock().unwrap();
    book.delivered.push(Delivered {
        token,
        challenge_id,
    });
    reply(
        200,
        json!({"name": format!("projects/{}/messages/{}", expect.scope, book.delivered.len())}),
    )
}

/// `POST /3/device/{token}` over HTTP/2.
async fn apns_send(
    shared: &Shared,
    head: &hyper::http::request::Parts,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let (book, expect, _) = shared;
    let apns_error = |status: u16, reason: &str| reply(status, json!({"reason": reason}));
    let token;
    let challenge_id;
    {
        let mut book = book.lock().unwrap();
        book.received += 1;
        if head.version != hyper::Version::HTTP_2 {
            book.problems.push("not HTTP/2".into());
            return apns_error(400, "BadRequest");
        }
        let bearer = head
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let Some(jwt) = bearer.strip_prefix("bearer ") else {
            book.problems.push(format!("authorization {bearer:?}"));
            return apns_error(403, "MissingProviderToken");
        };
        if book.expired.contains(jwt) {
            return apns_error(403, "ExpiredProviderToken");
        }
        match verify_jwt(jwt, &ECDSA_P256_SHA256_FIXED, &expect.public_key) {
            Ok((header, claims)) => {
                let iat = claims["iat"].as_i64().unwrap_or(0);
                let fine = header["alg"] == "ES256"
                    && header["kid"] == expect.key_id.as_str()
                    && claims["iss"] == expect.issuer.as_str()
                    && (now() - iat).abs() < 3600
                    && header.as_object().is_some_and(|o| o.len() == 2)
                    && claims.as_object().is_some_and(|o| o.len() == 2);
                if !fine {
                    book.problems
                        .push(format!("provider token: {header} {claims}"));
                    return apns_error(403, "InvalidProviderToken");
                }
            }
            Err(why) => {
                book.problems.push(format!("provider token: {why}"));
                return apns_error(403, "InvalidProviderToken");
            }
        }
        if book.seen.insert(jwt.to_owned()) {
            book.grants += 1;
        }
        let header = |name: &str| {
            head.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        token = head
            .uri
            .path()
            .strip_prefix("/3/device/")
            .unwrap_or_default()
            .to_owned();
        let expiration: i64 = header("apns-expiration").parse().unwrap_or(0);
        let checks = [
            (head.method == "POST", "POST"),
            (
                !token.is_empty() && token.bytes().all(|b| b.is_ascii_hexdigit()),
                "path /3/device/<hex token>",
            ),
            (
                header("apns-topic") == expect.scope,
                "apns-topic the bundle id",
            ),
            (header("apns-push-type") == "alert", "apns-push-type alert"),
            (header("apns-priority") == "10", "apns-priority 10"),
            (
                expiration > now() && expiration <= now() + 121,
                "apns-expiration within the challenge's life",
            ),
            (payload["aps"]["alert"].is_object(), "aps.alert"),
            (
                payload["aps"]["alert"]["loc-key"] == "push.body"
                    && payload["aps"]["alert"]["title-loc-key"] == "push.title",
                "aps.alert's text from the app's catalogue, in the phone's language",
            ),
            (payload["challenge_id"].is_string(), "challenge_id"),
            (body.len() <= 4096, "payload at most 4 KB"),
        ];
        for (ok, what) in checks {
            if !ok {
                book.problems
                    .push(format!("send: {what}: {} {payload}", head.uri.path()));
                return apns_error(400, "BadRequest");
            }
        }
        challenge_id = payload["challenge_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if book.unregistered.contains(&token) {
            return reply(
                410,
                json!({"reason": "Unregistered", "timestamp": now() * 1000}),
            );
        }
    }
    if let Some(failure) = scripted(book).await {
        return failure;
    }
    book.lock().unwrap().delivered.push(Delivered {
        token,
        challenge_id,
    });
    Response::builder()
        .status(200)
        .header("apns-id", "00000000-0000-0000-0000-000000000001")
        .body(Full::new(Bytes::new()))
        .unwrap()
}
