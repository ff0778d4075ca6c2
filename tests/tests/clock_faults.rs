//! Clock faults against the real `cityauth-server` binary, its clock moved by libfaketime
//! (LD_PRELOAD; the offset is read from a file on every call, so a test moves the server's
//! clock while it runs; the monotonic clock is left alone, as an NTP step leaves it).
//! Neither the server nor the device has an injectable clock: this is the honest way to
//! test one. Without Debian's `libfaketime` the tests print that they were skipped.
//!
//! - The device's clock minutes off the server's (the server shifted is the same thing seen
//!   from the phone): the learned offset keeps the City account's codes and the signed
//!   requests right; beyond the one-hour bound the signed requests are refused with an
//!   error that says the time is wrong.
//! - The server's clock jumping forward and back: a challenge past its lifetime after a jump
//!   is refused as expired, and after its real lifetime once the clock is back; an answered
//!   challenge and a replayed signed request are not accepted again after a jump either way;
//!   a jump beyond the 300 s request window refuses the enrolled phones (`stale_time`)
//!   until the server's clock is right again.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cityauth_core::ClientError;
use cityauth_core::device::{
    Decision, HttpRequest, HttpResponse, Transport, TransportError, UreqTransport, local_now,
};
use cityauth_e2e::faults::agent;
use cityauth_e2e::process::{free_port, run, server_binary};
use cityauth_e2e::{GOOD_PASSWORD, Phone, replicas};
use serde_json::{Value, json};

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

/// The real server with its clock at an offset the test moves.
struct ShiftedServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl ShiftedServer {
    /// None (and a printed line) without libfaketime.
    fn start(offset: &str, lifetime: u64) -> Option<Self> {
        if !Path::new(LIBFAKETIME).exists() {
            println!("skipped: no {LIBFAKETIME} (Debian's libfaketime)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kek"), "ef".repeat(32)).unwrap();
        std::fs::write(dir.path().join("offset"), offset).unwrap();
        let port = free_port();
        let mut server = Self {
            child: Command::new("true").spawn().unwrap(),
            dir,
            port,
        };
        let log = std::fs::File::create(server.dir.path().join("serve.log")).unwrap();
        server.child = Command::new(server_binary())
            .args(server.global())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--challenge-lifetime", &lifetime.to_string()])
            .env("LD_PRELOAD", LIBFAKETIME)
            .env("FAKETIME_TIMESTAMP_FILE", server.dir.path().join("offset"))
            .env("FAKETIME_NO_CACHE", "1")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let started = Instant::now();
        while replicas::reset_state(&agent(), &server.url(), "none").is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn global(&self) -> Vec<String> {
        let path = |p: PathBuf| p.to_str().unwrap().to_owned();
        vec![
            "--db".into(),
            path(self.dir.path().join("city.db")),
            "--kek-file".into(),
            path(self.dir.path().join("kek")),
            "--public-url".into(),
            self.url(),
        ]
    }

    fn admin(&self, args: &[&str], stdin: &str) -> String {
        let mut all = self.global();
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        // The admin commands run on the server's clock too (an enrollment code's expiry).
        let offset = self.dir.path().join("offset");
        let env = [
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME_TIMESTAMP_FILE", offset.to_str().unwrap()),
            ("FAKETIME_NO_CACHE", "1"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ];
        let out = run(&refs, &env, stdin);
        assert!(out.success, "{args:?}: {}", out.stderr);
        out.stdout
    }

    /// Moves the server's clock: `offset` as libfaketime reads it ("+10m", "-200", "+0").
    fn set_clock(&self, offset: &str) {
        std::fs::write(self.dir.path().join("offset"), offset).unwrap();
    }

    /// Creates the employee and a phone enrolled for them.
    fn enrolled_phone(&self, username: &str) -> Phone {
        self.admin(
            &["user", "add", username, "--display-name", "Test Employee"],
            &format!("{GOOD_PASSWORD}\n"),
        );
        let link = self.admin(&["enroll-link", username], "");
        let phone = Phone::new();
        phone.enroll(link.lines().last().unwrap());
        phone
    }

    fn start_reset(&self, username: &str) -> cityauth_protocol::wire::ResetStartResponse {
        let (status, start) = replicas::reset_start(&agent(), &self.url(), username).unwrap();
        assert_eq!(status, 200);
        start.unwrap()
    }
}

impl Drop for ShiftedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let mut response = agent()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The City account's code as the phone shows it (with the learned offset), and the code of
/// the same account at the phone's own clock (what a phone without the offset would show).
fn city_codes(phone: &Phone) -> (String, String) {
    let id = phone
        .vault
        .enrollment()
        .unwrap()
        .unwrap()
        .city_account
        .unwrap();
    let shown = phone
        .vault
        .code_now(id, local_now())
        .unwrap()
        .code
        .to_string();
    let own_clock = phone.vault.code(id, local_now()).unwrap().code.to_string();
    (shown, own_clock)
}

#[test]
fn a_phone_ten_minutes_behind_the_server_shows_right_codes_and_signs_right_requests() {
    let Some(server) = ShiftedServer::start("+10m", 120) else {
        return;
    };
    let phone = server.enrolled_phone("alice");
    let offset = phone.clock_offset();
    assert!(
        (offset - 600).abs() <= 2,
        "the offset learned at enrollment: {offset}"
    );

    // The code the phone shows is the server's; the one at the phone's own clock is not.
    let (shown, own_clock) = city_codes(&phone);
    assert_ne!(shown, own_clock);
    let reset = server.start_reset("alice");
    let path = format!("/api/v1/reset/{}/code", reset.reset_id);
    let (status, body) = post(&server.url(), &path, &json!({ "code": own_clock }));
    assert_ne!(status, 200, "a code 10 minutes old is refused: {body}");
    let (status, body) = post(&server.url(), &path, &json!({ "code": shown }));
    assert_eq!(status, 200, "the phone's code: {body}");
    let state = replicas::reset_state(&agent(), &server.url(), &reset.reset_id).unwrap();
    assert_eq!(state, "verified");

    // Signed requests carry the corrected time: a push is fetched and approved.
    let reset = server.start_reset("alice");
    phone.approve(&reset.number);
}

#[test]
fn a_phone_hours_off_is_refused_with_an_error_that_says_the_time_is_wrong() {
    let Some(server) = ShiftedServer::start("+0", 120) else {
        return;
    };
    let phone = server.enrolled_phone("bob");
    // The server's clock goes two hours ahead: beyond the one-hour offset the phone learns.
    server.set_clock("+2h");
    server.start_reset("bob");
    let error = phone.device().pending_challenges(0).unwrap_err();
    match &error {
        ClientError::Refused { code, .. } => assert_eq!(code, "stale_time"),
        other => panic!("{other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("time") && message.contains("server"),
        "{message}"
    );
    println!("the phone is told: {message}");
    assert!(
        phone.clock_offset().abs() <= 2,
        "no offset beyond the bound was learned"
    );
}

#[test]
fn a_challenge_refused_as_expired_after_a_forward_jump_stays_expired_when_the_clock_is_put_back() {
    let Some(server) = ShiftedServer::start("+0", 10) else {
        return;
    };
    let phone = server.enrolled_phone("carol");
    let reset = server.start_reset("carol");
    let challenges = phone.device().pending_challenges(5).unwrap();
    assert_eq!(challenges.len(), 1);
    // 200 s forward: inside the 300 s a signed request may be off, past the 10 s lifetime.
    server.set_clock("+200");
    let device = phone.device();
    let late = device.answer(&challenges[0], Decision::Approve, Some(&reset.number));
    match &late {
        Err(ClientError::Refused { code, .. }) => assert_eq!(code, "expired"),
        other => panic!("answered after the jump forward: {other:?}"),
    }
    let state = replicas::reset_state(&agent(), &server.url(), &reset.reset_id).unwrap();
    assert_ne!(state, "verified");
    // Back to the right time, within the challenge's real 10 s: the refusal was recorded as
    // the challenge's state, so it is not young again.
    server.set_clock("+0");
    let again = device.answer(&challenges[0], Decision::Approve, Some(&reset.number));
    let answered_within = local_now().saturating_sub(challenges[0].created_at);
    match &again {
        Err(ClientError::Refused { code, .. }) => assert_eq!(code, "expired"),
        other => panic!("answered {answered_within} s after it was made: {other:?}"),
    }
    println!("refused as expired again {answered_within} s after the challenge was made");
    let state = replicas::reset_state(&agent(), &server.url(), &reset.reset_id).unwrap();
    assert_ne!(state, "verified");
    assert!(
        phone.device().pending_challenges(0).unwrap().is_empty(),
        "an expired challenge is not offered again"
    );
}

#[test]
fn a_server_clock_jumped_beyond_the_request_window_is_learned_from_its_signed_refusal() {
    let Some(server) = ShiftedServer::start("+0", 120) else {
        return;
    };
    let phone = server.enrolled_phone("erin");
    // Ten minutes forward: the phone's request is refused as stale, with the server's clock
    // signed for it; the phone learns the offset and signs again, and gets in.
    server.set_clock("+10m");
    assert!(phone.device().pending_challenges(0).unwrap().is_empty());
    let learned = phone.clock_offset();
    println!("offset learned from the refusal: {learned} s");
    assert!((learned - 600).abs() <= 2, "{learned}");
    // A reset started now reaches the phone and is approved.
    let reset = server.start_reset("erin");
    phone.approve(&reset.number);
    // The clock put right: the phone's learned offset is now stale, and it learns again.
    server.set_clock("+0");
    assert!(phone.device().pending_challenges(0).unwrap().is_empty());
    assert!(phone.clock_offset().abs() <= 2, "{}", phone.clock_offset());
    // Beyond the hour a phone learns at most, the refusal stands and nothing is learned.
    server.set_clock("+2h");
    let error = phone.device().pending_challenges(0).unwrap_err();
    assert!(
        matches!(&error, ClientError::Refused { code, .. } if code == "stale_time"),
        "{error:?}"
    );
    assert!(phone.clock_offset().abs() <= 2);
    server.set_clock("+0");
    assert!(phone.device().pending_challenges(0).unwrap().is_empty());
}

/// A transport that keeps every signed request, to replay one as it was sent.
#[derive(Default)]
struct Recorder {
    inner: UreqTransport,
    sent: std::sync::Mutex<Vec<HttpRequest>>,
}

impl Transport for Recorder {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent.lock().unwrap().push(request.clone());
        self.inner.send(request)
    }
}

#[test]
fn after_a_jump_back_an_answered_challenge_and_a_replayed_request_are_refused() {
    let Some(server) = ShiftedServer::start("+0", 120) else {
        return;
    };
    let phone = server.enrolled_phone("dave");
    let recorder = Recorder::default();
    let device = cityauth_core::Device::new(&phone.vault, &recorder);
    let reset = server.start_reset("dave");
    let challenges = device.pending_challenges(5).unwrap();
    let outcome = device
        .answer(&challenges[0], Decision::Approve, Some(&reset.number))
        .unwrap();
    assert_eq!(outcome, "approved");
    let answer = recorder
        .sent
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|r| r.url.contains("/answer"))
        .cloned()
        .unwrap();

    for jump in ["-200", "+200"] {
        // Within the 300 s a signed request may be off, back and forward.
        server.set_clock(jump);
        let replayed = UreqTransport::new().send(&answer).unwrap();
        let body = String::from_utf8_lossy(&replayed.body);
        println!(
            "the answer replayed at {jump} s: {} {body}",
            replayed.status
        );
        assert_ne!(replayed.status, 200, "replayed at {jump}: {body}");
        assert!(body.contains("replayed_nonce"), "{body}");
        // The phone sending its approval again (a new request) is refused too.
        let again = phone
            .device()
            .answer(&challenges[0], Decision::Approve, Some(&reset.number));
        match again {
            Err(ClientError::Refused { code, .. }) => assert_eq!(code, "already_answered"),
            other => panic!("answered again at {jump}: {other:?}"),
        }
    }
}

#[test]
fn after_a_jump_forward_and_back_the_server_still_knows_a_replayed_nonce() {
    let Some(server) = ShiftedServer::start("+0", 120) else {
        return;
    };
    let phone = server.enrolled_phone("frank");
    let recorder = Recorder::default();
    let device = cityauth_core::Device::new(&phone.vault, &recorder);
    let reset = server.start_reset("frank");
    let challenges = device.pending_challenges(5).unwrap();
    device
        .answer(&challenges[0], Decision::Approve, Some(&reset.number))
        .unwrap();
    let answer = recorder
        .sent
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|r| r.url.contains("/answer"))
        .cloned()
        .unwrap();
    // An hour forward; a phone that learned the server's time makes a request there. By the
    // wall clock the nonces are an hour old, but the sweep goes by the time that really
    // passed (server/src/store/sweep.rs), so it forgets none of the last 600 s.
    server.set_clock("+1h");
    phone.vault.set_clock_offset(3600).unwrap();
    phone.device().pending_challenges(0).unwrap();
    // The clock is put right; the recorded answer, replayed within its 300 s, is still known
    // as a replay by its nonce, before the challenge's state is looked at.
    server.set_clock("+0");
    let replayed = UreqTransport::new().send(&answer).unwrap();
    let body = String::from_utf8_lossy(&replayed.body);
    println!("replayed after +1 h and back: {} {body}", replayed.status);
    assert_ne!(replayed.status, 200);
    assert!(body.contains("replayed_nonce"), "{body}");
}
