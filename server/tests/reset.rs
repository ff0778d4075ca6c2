//! Self-service password reset: unknown users, the code alternative, the password policy,
//! rate limits and lockout.

mod common;

use common::*;
use serde_json::json;

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn reset_start_is_the_same_for_unknown_users() {
    let h = Harness::start();
    h.add_user("alice");
    let _device = h.enroll("alice");
    // The answers are alike; the time each takes is measured, not asserted: the figures of
    // `enumeration_timing_figures` (server/tests/enumeration.rs) are in docs/security.md.
    for _ in 0..3 {
        let known = h.post("/api/v1/reset/start", &json!({"username": "alice"}));
        let unknown = h.post("/api/v1/reset/start", &json!({"username": "mallory"}));
        assert_eq!((known.status, unknown.status), (200, 200));
        assert_eq!(keys(&known.body), keys(&unknown.body));
        for field in ["reset_id", "number"] {
            assert_eq!(
                known.body[field].as_str().unwrap().len(),
                unknown.body[field].as_str().unwrap().len()
            );
        }
        let unknown_id = unknown.body["reset_id"].as_str().unwrap();
        assert_eq!(h.reset_state(unknown_id), "pending");
        let code = h.post(
            &format!("/api/v1/reset/{unknown_id}/code"),
            &json!({"code": "123456"}),
        );
        assert_eq!((code.status, code.error()), (422, "wrong_code"));
    }
}

#[test]
fn a_code_from_the_app_verifies_the_reset() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let (reset, _) = h.start_reset("alice");
    let code = device.code();
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/code"),
        &json!({ "code": code }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(h.reset_state(&reset), "verified");
    assert!(device.poll(&h, 0).is_empty(), "the push is withdrawn");
    // The same code cannot verify another reset.
    let (second, _) = h.start_reset("alice");
    let reply = h.post(
        &format!("/api/v1/reset/{second}/code"),
        &json!({ "code": code }),
    );
    assert_eq!((reply.status, reply.error()), (422, "wrong_code"));
}

#[test]
fn at_most_five_code_tries_per_reset() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let (reset, _) = h.start_reset("alice");
    let right = device.code();
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let reply = h.post(
            &format!("/api/v1/reset/{reset}/code"),
            &json!({"code": wrong}),
        );
        assert_eq!((reply.status, reply.error()), (422, "wrong_code"));
    }
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/code"),
        &json!({"code": right}),
    );
    assert_eq!((reply.status, reply.error()), (423, "locked"));
    assert_eq!(h.reset_state(&reset), "pending");
}

#[test]
fn repeated_failures_lock_the_account() {
    let h = Harness::with_config(|c| {
        c.limits.lock_after = 6;
        c.limits.code_per_user.max = 100;
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    let mut last = None;
    for _ in 0..2 {
        let (reset, _) = h.start_reset("alice");
        for _ in 0..3 {
            last = Some(h.post(
                &format!("/api/v1/reset/{reset}/code"),
                &json!({"code": "99999x"}),
            ));
        }
    }
    assert_eq!(last.unwrap().error(), "wrong_code");
    // Six failures across two resets: a fresh reset with the right code is locked out.
    let (reset, _) = h.start_reset("alice");
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/code"),
        &json!({"code": device.code()}),
    );
    assert_eq!((reply.status, reply.error()), (423, "locked"));
}

#[test]
fn new_passwords_must_pass_the_policy() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let reset = h.verified_reset("alice", &device);
    let path = format!("/api/v1/reset/{reset}/password");
    for (password, why) in [
        ("Short-1a-Orbit", "15 characters"),
        (&*"Zq7!-xP".repeat(40), "256 characters"),
        ("password12345678", "common"),
        ("qwertyuiop123456", "common"),
        ("My-ALICE-Lantern-Orbit-42", "username"),
    ] {
        let reply = h.post(&path, &json!({ "password": password }));
        assert_eq!(
            (reply.status, reply.error()),
            (422, "password_policy"),
            "{password}"
        );
        let message = reply.body["message"].as_str().unwrap();
        assert!(message.contains(why), "{message} should say {why}");
        assert!(
            !message.contains(password),
            "the message does not echo the password"
        );
    }
    let reply = h.post(&path, &json!({ "password": "Velvet-Harbor-Quince-Drum-8" }));
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[test]
fn reset_starts_are_rate_limited_per_username_and_per_ip() {
    let h = Harness::start();
    h.add_user("alice");
    for _ in 0..5 {
        h.start_reset("alice");
    }
    let reply = h.post("/api/v1/reset/start", &json!({"username": "ALICE"}));
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
    let retry: u64 = reply.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry));
    // Unknown names are limited alike.
    for _ in 0..5 {
        h.start_reset("nobody");
    }
    assert_eq!(
        h.post("/api/v1/reset/start", &json!({"username": "nobody"}))
            .status,
        429
    );

    let h = Harness::with_config(|c| c.limits.reset_start_per_ip.max = 4);
    for name in ["a", "b", "c", "d"] {
        h.start_reset(name);
    }
    let reply = h.post("/api/v1/reset/start", &json!({"username": "e"}));
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
    assert!(reply.retry_after.is_some());
}

#[test]
fn code_checks_are_rate_limited_per_ip() {
    let h = Harness::with_config(|c| c.limits.code_per_ip.max = 3);
    let (reset, _) = h.start_reset("nobody");
    for _ in 0..3 {
        let reply = h.post(
            &format!("/api/v1/reset/{reset}/code"),
            &json!({"code": "123456"}),
        );
        assert_eq!(reply.status, 422);
    }
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/code"),
        &json!({"code": "123456"}),
    );
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
}

#[test]
fn unknown_resets_and_bad_bodies() {
    let h = Harness::start();
    let reply = h.get("/api/v1/reset/no-such-reset");
    assert_eq!((reply.status, reply.error()), (404, "not_found"));
    let reply = h.post("/api/v1/reset/start", &json!({"name": "alice"}));
    assert_eq!((reply.status, reply.error()), (400, "bad_request"));
    let reply = h.post("/api/v1/reset/start", &json!({"username": ""}));
    assert_eq!((reply.status, reply.error()), (400, "bad_request"));
}
