//! Issue 9, items 2 and 3: the device checks the server's key before its enrollment code
//! leaves it, refuses an enrollment answer the pinned key did not sign, and refuses a link
//! whose server URL hides another host behind userinfo; its default transport refuses a TLS
//! certificate from an unknown CA (issue 15). Core against a live server and a hostile one
//! on loopback.

use std::sync::{Arc, Mutex};

use cityauth_core::device::{
    ClientError, Device, HttpRequest, HttpResponse, Transport, TransportError, UreqTransport,
};
use cityauth_e2e::hostile::{HostileServer, Received};
use cityauth_e2e::nginx::{self, Nginx, ProxyOptions, TestCa};
use cityauth_e2e::{City, Phone};
use cityauth_protocol::canonical::enrolled_message;
use cityauth_protocol::wire::{EnrollRequest, EnrollResponse, ServerKeyResponse};
use cityauth_protocol::{EnrollmentLink, EnrollmentLinkError, PublicKey, SigningKey};

/// A real transport that records every request the device sends.
#[derive(Default)]
struct Recorder {
    inner: UreqTransport,
    sent: Mutex<Vec<HttpRequest>>,
}

impl Transport for Recorder {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent.lock().unwrap().push(request.clone());
        self.inner.send(request)
    }
}

fn mentions(request: &HttpRequest, code: &str) -> bool {
    request.url.contains(code) || String::from_utf8_lossy(&request.body).contains(code)
}

fn assert_nothing_stored(phone: &Phone) {
    assert_eq!(phone.vault.enrollment().unwrap(), None);
    assert!(phone.vault.accounts().unwrap().is_empty());
}

fn enroll_events(city: &City) -> Vec<String> {
    cityauth_server::admin::audit(city.state(), None, 1000)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .filter(|e| e == "enroll_refused" || e == "device_enrolled")
        .collect()
}

#[test]
fn a_mismatched_fingerprint_is_refused_before_the_code_leaves_the_phone() {
    let city = City::start();
    city.add_employee("alice");
    let genuine = city.enrollment_link("alice");
    let mut forged = EnrollmentLink::parse(&genuine).unwrap();
    let code = forged.code.clone();
    let (other, _) = SigningKey::generate().unwrap();
    forged.fingerprint = other.public_key().fingerprint();

    let phone = Phone::new();
    let recorder = Recorder::default();
    let error = Device::new(&phone.vault, &recorder)
        .enroll(&forged.to_link(), "phone", "android", None)
        .unwrap_err();
    assert_eq!(error, ClientError::FingerprintMismatch);
    assert_nothing_stored(&phone);
    let sent = recorder.sent.lock().unwrap().clone();
    assert!(!sent.iter().any(|r| mentions(r, &code)), "{sent:?}");
    assert!(sent.iter().all(|r| r.url.ends_with("/api/v1/server-key")));
    assert!(
        enroll_events(&city).is_empty(),
        "the server saw no enrollment"
    );

    // The code is still unused: the genuine link enrolls a genuine phone.
    let genuine_phone = Phone::new();
    genuine_phone.enroll(&genuine);
    assert_eq!(
        genuine_phone.vault.enrollment().unwrap().unwrap().username,
        "alice"
    );
}

#[test]
fn a_hostile_server_with_its_own_key_never_receives_the_code() {
    let city = City::start();
    city.add_employee("alice");
    let mut link = EnrollmentLink::parse(&city.enrollment_link("alice")).unwrap();
    let (attacker, _) = SigningKey::generate().unwrap();
    let attacker_key = attacker.public_key().to_string();
    let hostile = HostileServer::start(move |_| {
        let body = ServerKeyResponse {
            server_public_key: attacker_key.clone(),
        };
        (200, serde_json::to_vec(&body).unwrap())
    });
    link.server = hostile.url();
    let phone = Phone::new();
    let error = phone
        .device()
        .enroll(&link.to_link(), "phone", "android", None)
        .unwrap_err();
    assert_eq!(error, ClientError::FingerprintMismatch);
    assert_nothing_stored(&phone);
    let received = hostile.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        (received[0].method.as_str(), received[0].path.as_str()),
        ("GET", "/api/v1/server-key")
    );
}

/// A party in the middle: it passes the real server's key on (it is public), forwards or
/// swallows the enrollment, and answers with `rewrite` applied to the real answer (or to a
/// made-up one when it swallowed the code).
fn man_in_the_middle(
    city: &City,
    rewrite: impl Fn(&EnrollRequest, EnrollResponse) -> EnrollResponse + Send + Sync + 'static,
    forward: bool,
) -> HostileServer {
    let upstream = city.url();
    let server_key = city.state().signing_key().public_key().to_string();
    let transport = Arc::new(UreqTransport::new());
    HostileServer::start(move |request: &Received| {
        if request.path == "/api/v1/server-key" {
            let body = ServerKeyResponse {
                server_public_key: server_key.clone(),
            };
            return (200, serde_json::to_vec(&body).unwrap());
        }
        let enroll: EnrollRequest = serde_json::from_slice(&request.body).unwrap();
        let answer = if forward {
            let response = transport
                .send(&HttpRequest {
                    method: request.method.clone(),
                    url: format!("{upstream}{}", request.path),
                    headers: Vec::new(),
                    body: request.body.clone(),
                })
                .unwrap();
            serde_json::from_slice(&response.body).unwrap()
        } else {
            EnrollResponse {
                device_id: "device-of-the-attacker".into(),
                username: "alice".into(),
                display_name: "Alice Example".into(),
                server_public_key: server_key.clone(),
                server_time: 1_800_000_000,
                oath_link: Some(
                    "otpauth://totp/City:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=City"
                        .into(),
                ),
                signature: None,
            }
        };
        (200, serde_json::to_vec(&rewrite(&enroll, answer)).unwrap())
    })
}

fn enroll_through(city: &City, hostile: &HostileServer) -> (Phone, Result<(), ClientError>) {
    let mut link = EnrollmentLink::parse(&city.enrollment_link("alice")).unwrap();
    link.server = hostile.url();
    let phone = Phone::new();
    let outcome = phone
        .device()
        .enroll(&link.to_link(), "phone", "android", None)
        .map(|_| ());
    (phone, outcome)
}

#[test]
fn a_party_in_the_middle_cannot_hand_the_phone_a_fake_enrollment() {
    let city = City::start();
    city.add_employee("alice");
    // Control: an honest relay changes nothing, and the phone enrolls through it.
    let relay = man_in_the_middle(&city, |_, answer| answer, true);
    let (phone, outcome) = enroll_through(&city, &relay);
    assert_eq!(outcome, Ok(()));
    assert_eq!(phone.vault.enrollment().unwrap().unwrap().username, "alice");

    let (attacker, _) = SigningKey::generate().unwrap();
    let attacker = Arc::new(attacker);
    let signed_by_attacker = {
        let attacker = Arc::clone(&attacker);
        move |request: &EnrollRequest, mut answer: EnrollResponse| {
            let device = PublicKey::from_base64(&request.device_public_key).unwrap();
            let message = enrolled_message(&answer, &device, &request.code);
            answer.signature = Some(attacker.sign(&message).unwrap().to_string());
            answer
        }
    };
    let fakes: Vec<HostileServer> = vec![
        // The code swallowed, an enrollment made up: unsigned...
        man_in_the_middle(&city, |_, answer| answer, false),
        // ...or signed by the attacker's key...
        man_in_the_middle(&city, signed_by_attacker.clone(), false),
        // ...or the attacker's key passed off as the server's, signing its own answer.
        man_in_the_middle(
            &city,
            {
                let attacker = Arc::clone(&attacker);
                move |request, answer| {
                    let mut answer = signed_by_attacker(request, answer);
                    answer.server_public_key = attacker.public_key().to_string();
                    answer
                }
            },
            false,
        ),
        // The genuine, signed answer with the attacker's OATH secret put in...
        man_in_the_middle(
            &city,
            |_, mut answer| {
                answer.oath_link = Some(
                    "otpauth://totp/City:alice?secret=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U&issuer=City"
                        .into(),
                );
                answer
            },
            true,
        ),
        // ...or another account's name, or its signature dropped.
        man_in_the_middle(
            &city,
            |_, mut answer| {
                answer.username = "mallory".into();
                answer
            },
            true,
        ),
        man_in_the_middle(
            &city,
            |_, mut answer| {
                answer.signature = None;
                answer
            },
            true,
        ),
    ];
    for (index, hostile) in fakes.iter().enumerate() {
        let (phone, outcome) = enroll_through(&city, hostile);
        assert_eq!(
            outcome,
            Err(ClientError::EnrollmentNotSigned),
            "fake answer {index}"
        );
        assert_nothing_stored(&phone);
    }
}

#[test]
fn a_link_with_userinfo_is_refused_before_any_request() {
    let hostile = HostileServer::start(|_| (500, Vec::new()));
    let (key, _) = SigningKey::generate().unwrap();
    let port = hostile.url().rsplit(':').next().unwrap().to_owned();
    for server in [
        // The example: "loopback" before the @, the real host after it.
        "http://127.0.0.1:1@city.invalid".to_owned(),
        format!("http://127.0.0.1:{port}@city.invalid"),
        format!("http://localhost:{port}@city.invalid/"),
        format!("http://[::1]:{port}@city.invalid"),
    ] {
        let link = EnrollmentLink {
            server: server.clone(),
            code: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            fingerprint: key.public_key().fingerprint(),
        };
        let phone = Phone::new();
        let recorder = Recorder::default();
        let error = Device::new(&phone.vault, &recorder)
            .enroll(&link.to_link(), "phone", "android", None)
            .unwrap_err();
        assert_eq!(
            error,
            ClientError::Link(EnrollmentLinkError::Server),
            "{server}"
        );
        assert!(recorder.sent.lock().unwrap().is_empty(), "{server}");
        assert_nothing_stored(&phone);
    }
    assert!(hostile.received().is_empty());
}

#[test]
fn the_default_transport_refuses_a_certificate_from_an_unknown_ca_and_nothing_is_enrolled() {
    let Some(binary) = nginx::binary() else {
        eprintln!("SKIPPED: nginx is not installed (apt-get install nginx); .ci/run installs it");
        return;
    };
    let city = City::start();
    city.add_employee("alice");
    // A real TLS server in front of the real one, its certificate (for 127.0.0.1) from a CA
    // made here, which no phone trusts.
    let ca = TestCa::new().unwrap();
    let loopback: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let proxy = Nginx::start(
        &binary,
        &ProxyOptions {
            upstreams: &[city.server.addr()],
            ca: &ca,
            bind: loopback,
        },
    )
    .unwrap();
    // A client that trusts the CA is served: the refusal below is the CA's alone.
    let trusting = nginx::client(loopback, &ca);
    let served = trusting
        .get(format!("{}/api/v1/server-key", proxy.url()))
        .call()
        .unwrap();
    assert_eq!(served.status(), 200, "{}", proxy.error_log());
    // nginx logs a request once it has answered it: wait for that line.
    let logged = std::time::Instant::now();
    while proxy.access_log().lines().count() < 1 {
        assert!(logged.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let requests_before = proxy.access_log().lines().count();

    let genuine = city.enrollment_link("alice");
    let mut link = EnrollmentLink::parse(&genuine).unwrap();
    link.server = proxy.url();
    let phone = Phone::new();
    let error = phone
        .device()
        .enroll(&link.to_link(), "phone", "android", None)
        .unwrap_err();
    let ClientError::Network(reason) = &error else {
        panic!("a network error, not {error:?}");
    };
    eprintln!("the default transport on a certificate from an unknown CA: {reason}");
    assert!(
        reason.reason.contains("UnknownIssuer"),
        "the certificate's issuer is unknown: {reason}"
    );
    assert_nothing_stored(&phone);
    // Time for a line of a request that did get through to be written.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        proxy.access_log().lines().count(),
        requests_before,
        "no request got past the handshake: {}",
        proxy.access_log()
    );
    assert!(enroll_events(&city).is_empty());

    // The code was never sent: the genuine link still enrolls.
    let genuine_phone = Phone::new();
    genuine_phone.enroll(&genuine);
    assert_eq!(
        genuine_phone.vault.enrollment().unwrap().unwrap().username,
        "alice"
    );
}
