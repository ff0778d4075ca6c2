//! Push delivery through FCM and APNs, against local HTTPS stand-ins (push/standin.rs) that
//! check each request as the vendor documents it. A real server (Harness) creates the
//! challenges; the stand-ins count what reached them.

mod common;
#[path = "push/standin.rs"]
mod standin;

use std::path::Path;
use std::time::Duration;

use cityauth_protocol::{PublicKey, SigningKey};
use cityauth_server::push::{ApnsConfig, FcmConfig, PushConfig};
use common::*;
use ring::signature::KeyPair;
use rustls_pki_types::pem::PemObject;
use serde_json::json;
use standin::{Expect, Script, StandIn, Vendor, fcm_error};

/// The frozen RSA test key (fixtures/push/README.md).
const FCM_KEY: &str = include_str!("fixtures/push/fcm-service-account-key.pem");
const CLIENT_EMAIL: &str = "cityauth-push@city-test.iam.gserviceaccount.com";
const PROJECT: &str = "city-test";
const TEAM: &str = "TEAM123456";
const KEY_ID: &str = "KEY1234567";
const TOPIC: &str = "city.cityauth.app";
const ANDROID_TOKEN: &str = "fcm-token-of-alices-phone:APA91b-test";
const IOS_TOKEN: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

/// Quick retries, so that a retry test takes a fraction of a second.
fn quick(mut push: PushConfig) -> PushConfig {
    push.retry_base = Duration::from_millis(50);
    push.retry_cap = Duration::from_millis(200);
    push
}

/// An FCM stand-in and the push settings that point at it (a service-account file in `dir`).
fn fcm(dir: &Path) -> (StandIn, PushConfig) {
    fcm_on(Vendor::Fcm, dir)
}

/// [`fcm`] with the stand-in playing `vendor` (FCM offering h2, or HTTP/1.1 only).
fn fcm_on(vendor: Vendor, dir: &Path) -> (StandIn, PushConfig) {
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(FCM_KEY.as_bytes()).unwrap();
    let key = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
    let expect = Expect {
        public_key: key.public_key().as_ref().to_vec(),
        issuer: CLIENT_EMAIL.into(),
        scope: PROJECT.into(),
        key_id: String::new(),
    };
    let standin = StandIn::start(vendor, expect, dir);
    let account = dir.join("service-account.json");
    let file = json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0123456789abcdef",
        "private_key": FCM_KEY,
        "client_email": CLIENT_EMAIL,
        "client_id": "1234567890",
        "token_uri": format!("{}/token", standin.base),
    });
    std::fs::write(&account, file.to_string()).unwrap();
    let push = PushConfig {
        fcm: Some(FcmConfig {
            service_account: account,
            base_url: standin.base.clone(),
            ca_file: Some(standin.ca_file.clone()),
        }),
        ..PushConfig::default()
    };
    (standin, quick(push))
}

/// An APNs stand-in and the push settings that point at it (a fresh `.p8` key in `dir`).
fn apns(dir: &Path) -> (StandIn, PushConfig) {
    let rng = ring::rand::SystemRandom::new();
    let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    let key = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
    let expect = Expect {
        public_key: key.public_key().as_ref().to_vec(),
        issuer: TEAM.into(),
        scope: TOPIC.into(),
        key_id: KEY_ID.into(),
    };
    let standin = StandIn::start(Vendor::Apns, expect, dir);
    let p8 = dir.join(format!("AuthKey_{KEY_ID}.p8"));
    let base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pkcs8);
    std::fs::write(
        &p8,
        format!("-----BEGIN PRIVATE KEY-----\n{base64}\n-----END PRIVATE KEY-----\n"),
    )
    .unwrap();
    let push = PushConfig {
        apns: Some(ApnsConfig {
            key_file: p8,
            key_id: KEY_ID.into(),
            team_id: TEAM.into(),
            topic: TOPIC.into(),
            base_url: standin.base.clone(),
            ca_file: Some(standin.ca_file.clone()),
        }),
        ..PushConfig::default()
    };
    (standin, quick(push))
}

/// Enrolls a phone of `platform` with push `token` for `username`.
fn enroll_phone(h: &Harness, username: &str, platform: &str, token: &str) -> TestDevice {
    let link = h.enroll_link(username);
    let (key, _) = SigningKey::generate().unwrap();
    let mut body = enroll_body(&key, &link.code);
    body["platform"] = json!(platform);
    body["push_token"] = json!(token);
    let reply = h.post("/api/v1/enroll", &body);
    assert_eq!(reply.status, 200, "{reply:?}");
    TestDevice {
        key,
        id: reply.body["device_id"].as_str().unwrap().to_owned(),
        server_key: PublicKey::from_base64(reply.body["server_public_key"].as_str().unwrap())
            .unwrap(),
        oath_secret: Vec::new(),
    }
}

/// The device's push token as stored now.
fn stored_token(h: &Harness, username: &str, device: &TestDevice) -> Option<String> {
    let store = h.state().store();
    let user = store.user_by_name(username).unwrap().unwrap();
    let devices = store.devices_of(user.id).unwrap();
    let device = devices.iter().find(|d| d.device.id == device.id).unwrap();
    device.device.push_token.clone()
}

/// The metrics text line for `series`, e.g. `cityauth_pushes_sent_total{vendor="fcm"}`.
fn metric(h: &Harness, series: &str) -> u64 {
    let text = h.state().metrics().encode();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

/// A server with `push`, and alice enrolled on a phone of `platform`.
fn server(push: PushConfig, platform: &str, token: &str) -> (Harness, TestDevice) {
    let h = Harness::with_config(|c| c.push = Some(push));
    h.add_user("alice");
    let device = enroll_phone(&h, "alice", platform, token);
    (h, device)
}

/// The one pending challenge the phone sees (through its poll).
fn polled_challenge(h: &Harness, device: &TestDevice) -> String {
    let challenges = device.poll(h, 0);
    assert_eq!(challenges.len(), 1);
    challenges[0].challenge.id.clone()
}

#[test]
fn fcm_delivers_a_reset_challenge_with_the_phones_token_and_the_challenge_id() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, push) = fcm(dir.path());
    let (h, device) = server(push, "android", ANDROID_TOKEN);
    h.start_reset("alice");
    standin.wait_for("one delivery", |b| !b.delivered.is_empty());
    let book = standin.book.lock().unwrap();
    assert_eq!(book.problems, Vec::<String>::new());
    assert_eq!(book.delivered.len(), 1);
    assert_eq!(book.delivered[0].token, ANDROID_TOKEN);
    assert_eq!(
        book.delivered[0].challenge_id,
        polled_challenge(&h, &device)
    );
    assert_eq!(book.grants, 1, "one access token");
    drop(book);
    standin.wait_for("counted", |_| {
        metric(&h, "cityauth_pushes_sent_total{vendor=\"fcm\"}") == 1
    });
}

#[test]
fn apns_delivers_over_http2_with_a_valid_es256_provider_token() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, push) = apns(dir.path());
    let (h, device) = server(push, "ios", IOS_TOKEN);
    h.start_reset("alice");
    standin.wait_for("one delivery", |b| !b.delivered.is_empty());
    let challenge = polled_challenge(&h, &device);
    h.start_reset("alice");
    standin.wait_for("two deliveries", |b| b.delivered.len() == 2);
    let book = standin.book.lock().unwrap();
    assert_eq!(book.problems, Vec::<String>::new());
    assert_eq!(book.delivered[0].token, IOS_TOKEN);
    assert_eq!(book.delivered[0].challenge_id, challenge);
    assert_eq!(book.grants, 1, "the provider token is reused");
}

#[test]
fn an_unregistered_fcm_token_is_cleared_and_never_sent_to_again() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, push) = fcm(dir.path());
    standin
        .book
        .lock()
        .unwrap()
        .unregistered
        .insert(ANDROID_TOKEN.into());
    let (h, device) = server(push, "android", ANDROID_TOKEN);
    h.start_reset("alice");
    standin.wait_for("the refused try", |b| b.received == 1);
    standin.wait_for("the token cleared", |_| {
        stored_token(&h, "alice", &device).is_none()
    });
    assert_eq!(
        metric(
            &h,
            "cityauth_pushes_failed_total{vendor=\"fcm\",reason=\"unregistered\"}"
        ),
        1
    );
    // A second phone with a good token: its push is the marker that the next reset's
    // pushes went out; the first phone's is not among them.
    enroll_phone(&h, "alice", "android", "second-phone-token");
    h.start_reset("alice");
    standin.wait_for("the second phone's push", |b| b.delivered.len() == 1);
    std::thread::sleep(Duration::from_millis(500));
    let book = standin.book.lock().unwrap();
    assert_eq!(book.received, 2, "nothing more to the stale token");
    assert_eq!(book.delivered[0].token, "second-phone-token");
    assert_eq!(book.problems, Vec::<String>::new());
}

#[test]
fn an_unregistered_apns_token_is_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, push) = apns(dir.path());
    standin
        .book
        .lock()
        .unwrap()
        .unregistered
        .insert(IOS_TOKEN.into());
    let (h, device) = server(push, "ios", IOS_TOKEN);
    h.start_reset("alice");
    standin.wait_for("the token cleared", |_| {
        stored_token(&h, "alice", &device).is_none()
    });
    assert_eq!(
        metric(
            &h,
            "cityauth_pushes_failed_total{vendor=\"apns\",reason=\"unregistered\"}"
        ),
        1
    );
    assert!(standin.book.lock().unwrap().delivered.is_empty());
}

#[test]
fn a_vendor_5xx_is_retried_and_the_push_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let (fcm_standin, mut push) = fcm(dir.path());
    let (apns_standin, apns_push) = apns(dir.path());
    push.apns = apns_push.apns;
    fcm_standin
        .book
        .lock()
        .unwrap()
        .script
        .push_back(Script::Fail(503, fcm_error(503, "UNAVAILABLE")));
    apns_standin
        .book
        .lock()
        .unwrap()
        .script
        .push_back(Script::Fail(500, json!({"reason": "InternalServerError"})));
    let (h, _android) = server(push, "android", ANDROID_TOKEN);
    enroll_phone(&h, "alice", "ios", IOS_TOKEN);
    h.start_reset("alice");
    for standin in [&fcm_standin, &apns_standin] {
        standin.wait_for("delivered after a retry", |b| b.delivered.len() == 1);
    }
    std::thread::sleep(Duration::from_millis(500));
    for (standin, vendor) in [(&fcm_standin, "fcm"), (&apns_standin, "apns")] {
        let book = standin.book.lock().unwrap();
        assert_eq!(book.problems, Vec::<String>::new());
        assert_eq!((book.received, book.delivered.len()), (2, 1), "{vendor}");
        let unavailable =
            format!("cityauth_pushes_failed_total{{vendor=\"{vendor}\",reason=\"unavailable\"}}");
        assert_eq!(metric(&h, &unavailable), 1, "{vendor}");
        let sent = format!("cityauth_pushes_sent_total{{vendor=\"{vendor}\"}}");
        assert_eq!(metric(&h, &sent), 1, "{vendor}");
    }
}

#[test]
fn a_stalled_vendor_does_not_hold_the_reset_start() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, push) = fcm(dir.path());
    standin
        .book
        .lock()
        .unwrap()
        .script
        .push_back(Script::Stall(Duration::from_secs(5)));
    let (h, device) = server(push, "android", ANDROID_TOKEN);
    let (reset, _) = h.start_reset("alice");
    // The reset answered; the push is at the vendor, which has not answered yet.
    standin.wait_for("the push at the vendor", |b| b.received == 1);
    assert!(standin.book.lock().unwrap().delivered.is_empty());
    assert_eq!(metric(&h, "cityauth_pushes_sent_total{vendor=\"fcm\"}"), 0);
    assert_eq!(h.reset_state(&reset), "pending");
    // The long poll brings the challenge meanwhile.
    assert_eq!(device.poll(&h, 0).len(), 1);
    standin.wait_for("delivered once the vendor answers", |b| {
        b.delivered.len() == 1
    });
}

#[test]
fn a_revoked_fcm_access_token_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, push) = fcm(dir.path());
    let (h, _device) = server(push, "android", ANDROID_TOKEN);
    h.start_reset("alice");
    standin.wait_for("one delivery", |b| b.delivered.len() == 1);
    standin.expire_tokens();
    h.start_reset("alice");
    standin.wait_for("a second delivery", |b| b.delivered.len() == 2);
    let book = standin.book.lock().unwrap();
    assert_eq!(book.problems, Vec::<String>::new());
    assert_eq!(book.grants, 2, "a new access token after the 401");
    assert_eq!(book.received, 3, "one refused try, then the delivery");
}

#[test]
fn an_expired_apns_provider_token_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, push) = apns(dir.path());
    let (h, _device) = server(push, "ios", IOS_TOKEN);
    h.start_reset("alice");
    standin.wait_for("one delivery", |b| b.delivered.len() == 1);
    standin.expire_tokens();
    h.start_reset("alice");
    standin.wait_for("a second delivery", |b| b.delivered.len() == 2);
    let book = standin.book.lock().unwrap();
    assert_eq!(book.problems, Vec::<String>::new());
    assert_eq!(
        book.grants, 2,
        "a new provider token after ExpiredProviderToken"
    );
    assert_eq!(book.received, 3);
}

#[test]
fn without_credentials_for_its_vendor_a_phone_gets_no_push_and_still_polls() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, push) = fcm(dir.path());
    let (h, device) = server(push, "ios", IOS_TOKEN);
    h.start_reset("alice");
    assert_eq!(device.poll(&h, 0).len(), 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(standin.book.lock().unwrap().received, 0);
}

#[test]
fn a_full_queue_drops_the_push_counts_it_and_the_poll_still_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, mut push) = fcm(dir.path());
    push.queue_capacity = 1;
    push.concurrency = 1;
    standin
        .book
        .lock()
        .unwrap()
        .script
        .push_back(Script::Stall(Duration::from_secs(3)));
    let (h, _alice) = server(push, "android", ANDROID_TOKEN);
    h.start_reset("alice");
    standin.wait_for("the first push held at the vendor", |b| b.received == 1);
    // One in flight, one waiting for the slot, one in the queue: the rest are dropped.
    let mut phones = Vec::new();
    for name in ["bob", "carol", "dave", "frank"] {
        h.add_user(name);
        phones.push(enroll_phone(
            &h,
            name,
            "android",
            &format!("token-of-{name}"),
        ));
    }
    for name in ["bob", "carol", "dave", "frank"] {
        h.start_reset(name);
    }
    let dropped = metric(
        &h,
        "cityauth_pushes_failed_total{vendor=\"fcm\",reason=\"queue_full\"}",
    );
    assert!(dropped >= 1, "{}", h.state().metrics().encode());
    standin.wait_for("the queued ones delivered", |b| {
        b.delivered.len() as u64 == 5 - dropped
    });
    for phone in &phones {
        assert_eq!(
            phone.poll(&h, 0).len(),
            1,
            "the long poll serves every phone"
        );
    }
}

#[test]
fn an_unreadable_credential_is_a_start_error_naming_the_setting_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_standin, push) = fcm(dir.path());
    let account = push.fcm.as_ref().unwrap().service_account.clone();
    // The key's PEM cut in half: unusable, and its text must not appear in the error.
    let broken = json!({
        "project_id": PROJECT,
        "private_key": &FCM_KEY[..FCM_KEY.len() / 2],
        "client_email": CLIENT_EMAIL,
        "token_uri": "https://127.0.0.1:1/token",
    });
    std::fs::write(&account, broken.to_string()).unwrap();
    let mut config = cityauth_server::Config::new("http://127.0.0.1:1");
    config.push = Some(push);
    let error = match cityauth_server::AppState::open(&dir.path().join("db"), config) {
        Ok(_) => panic!("started with a broken key"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("push.fcm_service_account"), "{error}");
    let body_line = FCM_KEY.lines().nth(1).unwrap();
    assert!(!error.contains(&body_line[..20]), "{error}");
    let missing = cityauth_server::push::PushConfig::from_settings(
        None,
        None,
        Some(dir.path().join("AuthKey.p8")),
        Some(KEY_ID.into()),
        None,
        Some(TOPIC.into()),
        None,
        None,
    );
    let error = missing.err().unwrap().to_string();
    assert!(error.contains("push.apns_team_id"), "{error}");
}

#[test]
fn fcm_over_http1_delivers_too() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, push) = fcm_on(Vendor::FcmHttp1, dir.path());
    let (h, device) = server(push, "android", ANDROID_TOKEN);
    h.start_reset("alice");
    standin.wait_for("one delivery", |b| !b.delivered.is_empty());
    let book = standin.book.lock().unwrap();
    assert_eq!(book.problems, Vec::<String>::new());
    assert_eq!(
        book.delivered[0].challenge_id,
        polled_challenge(&h, &device)
    );
}
