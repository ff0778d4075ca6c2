//! Sign-in: password then phone approval, sessions, lockout, rate limits, access codes.

mod common;

use cityauth_protocol::wire::{ChallengeKind, Decision};
use common::*;
use serde_json::json;

fn sign_in(h: &Harness, username: &str, password: &str) -> Reply {
    h.post(
        "/api/v1/signin",
        &json!({"username": username, "password": password}),
    )
}

fn whoami(h: &Harness, session: &str) -> Reply {
    let headers = [("authorization".to_owned(), format!("Bearer {session}"))];
    h.send("GET", "/api/v1/session", &headers, None)
}

#[test]
fn password_then_phone_approval_gives_a_session() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let reply = sign_in(&h, "alice", PASSWORD);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["state"], "pending");
    let id = reply.body["signin_id"].as_str().unwrap().to_owned();
    let number = reply.body["number"].as_str().unwrap().to_owned();
    let early = h.post(&format!("/api/v1/signin/{id}/session"), &json!({}));
    assert_eq!((early.status, early.error()), (409, "not_verified"));

    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(challenge.challenge.kind, ChallengeKind::SignIn);
    assert_eq!(challenge.challenge.application, "City portal");
    assert_eq!(
        device
            .answer(&h, &challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
    assert_eq!(
        h.get(&format!("/api/v1/signin/{id}")).body["state"],
        "verified"
    );

    let session = h.post(&format!("/api/v1/signin/{id}/session"), &json!({}));
    assert_eq!(session.status, 200, "{session:?}");
    let token = session.body["session"].as_str().unwrap();
    let me = whoami(&h, token);
    assert_eq!(
        (me.status, me.body["username"].as_str()),
        (200, Some("alice"))
    );
    let again = h.post(&format!("/api/v1/signin/{id}/session"), &json!({}));
    assert_eq!((again.status, again.error()), (409, "already_answered"));
    // A sign-in's id is not a reset's.
    assert_eq!(h.get(&format!("/api/v1/reset/{id}")).status, 404);
}

#[test]
fn wrong_passwords_and_unknown_users_get_one_answer() {
    let h = Harness::start();
    h.add_user("alice");
    let wrong = sign_in(&h, "alice", "Not-The-Password-123");
    let unknown = sign_in(&h, "mallory", "Not-The-Password-123");
    assert_eq!((wrong.status, wrong.error()), (401, "invalid_credentials"));
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(unknown.status, 401);
    assert_eq!(whoami(&h, "no-such-session").error(), "invalid_session");
}

#[test]
fn repeated_wrong_passwords_lock_the_account() {
    let h = Harness::with_config(|c| c.limits.lock_after = 3);
    h.add_user("alice");
    for _ in 0..3 {
        assert_eq!(sign_in(&h, "alice", "Not-The-Password-123").status, 401);
    }
    let reply = sign_in(&h, "alice", PASSWORD);
    assert_eq!((reply.status, reply.error()), (423, "locked"));
}

#[test]
fn sign_ins_are_rate_limited() {
    let h = Harness::with_config(|c| c.limits.sign_in_per_user.max = 3);
    h.add_user("alice");
    for _ in 0..3 {
        sign_in(&h, "alice", "Not-The-Password-123");
    }
    let reply = sign_in(&h, "alice", PASSWORD);
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
    assert!(reply.retry_after.is_some());
}

#[test]
fn access_codes_work_once_and_a_reset_ends_the_session() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let code = cityauth_server::admin::access_code(h.state(), "alice").unwrap();
    let body = json!({"username": "alice", "code": code});
    let session = h.post("/api/v1/signin/access-code", &body);
    assert_eq!(session.status, 200, "{session:?}");
    let token = session.body["session"].as_str().unwrap().to_owned();
    assert_eq!(whoami(&h, &token).status, 200);
    let reuse = h.post("/api/v1/signin/access-code", &body);
    assert_eq!((reuse.status, reuse.error()), (401, "invalid_credentials"));

    let (reset, _) = h.start_reset("alice");
    let code = device.code();
    assert_eq!(
        h.post(
            &format!("/api/v1/reset/{reset}/code"),
            &json!({ "code": code })
        )
        .status,
        200
    );
    let password = json!({"password": "Velvet-Harbor-Quince-Drum-8"});
    assert_eq!(
        h.post(&format!("/api/v1/reset/{reset}/password"), &password)
            .status,
        200
    );
    let ended = whoami(&h, &token);
    assert_eq!((ended.status, ended.error()), (401, "invalid_session"));
    assert_eq!(
        sign_in(&h, "alice", "Velvet-Harbor-Quince-Drum-8").status,
        200
    );
    assert_eq!(sign_in(&h, "alice", PASSWORD).status, 401);
}

#[test]
fn without_a_device_the_password_suffices_and_fraud_blocks_sign_in() {
    let h = Harness::start();
    h.add_user("alice");
    let reply = sign_in(&h, "alice", PASSWORD);
    assert_eq!(reply.body["state"], "verified");
    assert!(reply.body["number"].is_null());
    let id = reply.body["signin_id"].as_str().unwrap();
    assert_eq!(
        h.post(&format!("/api/v1/signin/{id}/session"), &json!({}))
            .status,
        200
    );

    let device = h.enroll("alice");
    h.start_reset("alice");
    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(
        device.answer(&h, &challenge, Decision::Fraud, None).status,
        200
    );
    let reply = sign_in(&h, "alice", PASSWORD);
    assert_eq!((reply.status, reply.error()), (403, "blocked"));
}
