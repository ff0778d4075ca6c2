//! Requests from several client addresses (127.0.0.1 for the owner, 127.0.0.2 and up for
//! strangers), and the steps of the limits' tests built on them.

use cityauth_protocol::wire::{ChallengeKind, Decision};
use cityauth_server::limits::Limit;
use cityauth_server::store::Factor;
use serde_json::json;

use super::{Harness, Reply, TestDevice, now};

/// A stranger's address.
pub const STRANGER: &str = "127.0.0.2";
/// The owner's address.
pub const OWNER: &str = "127.0.0.1";
/// A password that is not the test users'.
pub const WRONG_PASSWORD: &str = "Not-The-Password-123";

/// A limit no test reaches.
pub const WIDE: Limit = Limit {
    max: 100_000,
    window: 600,
};

/// A code that none of the accepted steps (the current one and its neighbours) gives.
pub fn wrong_code(device: &TestDevice) -> String {
    let step = now() / 30;
    let taken: Vec<String> = (step - 2..=step + 2)
        .map(|s| cityauth_server::totp::code_at(&device.oath_secret, s))
        .collect();
    (0..)
        .map(|n| format!("{n:06}"))
        .find(|c| !taken.contains(c))
        .unwrap()
}

/// Starts a reset from `from`.
pub fn start_from(h: &Harness, from: &str, username: &str) -> Reply {
    h.post_from(
        from,
        "/api/v1/reset/start",
        &json!({ "username": username }),
    )
}

/// Starts a reset from `from` and sends one code for it.
pub fn code_from(h: &Harness, from: &str, username: &str, code: &str) -> Reply {
    let start = start_from(h, from, username);
    assert_eq!(start.status, 200, "{start:?}");
    let id = start.body["reset_id"].as_str().unwrap();
    h.post_from(
        from,
        &format!("/api/v1/reset/{id}/code"),
        &json!({ "code": code }),
    )
}

/// A password sign-in from `from`.
pub fn sign_in_from(h: &Harness, from: &str, username: &str, password: &str) -> Reply {
    h.post_from(
        from,
        "/api/v1/signin",
        &json!({"username": username, "password": password}),
    )
}

/// The account's consecutive failures of `factor`, as stored.
pub fn stored_failures(h: &Harness, name: &str, factor: Factor) -> u32 {
    h.state().store().failures(name, factor).unwrap()
}

/// Approves the newest pending challenge with `number` on `device`.
pub fn approve(h: &Harness, device: &TestDevice, kind: ChallengeKind, number: &str) {
    let challenge = device.poll(h, 5).pop().unwrap();
    assert_eq!(challenge.challenge.kind, kind);
    let reply = device.answer(h, &challenge, Decision::Approve, Some(number));
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// The whole sign-in of the owner from `from`: password, approval, session.
pub fn owner_signs_in(h: &Harness, device: &TestDevice, from: &str, password: &str) -> String {
    let reply = sign_in_from(h, from, "alice", password);
    assert_eq!(reply.status, 200, "the owner's sign-in: {reply:?}");
    let id = reply.body["signin_id"].as_str().unwrap().to_owned();
    approve(
        h,
        device,
        ChallengeKind::SignIn,
        reply.body["number"].as_str().unwrap(),
    );
    let session = h.post_from(from, &format!("/api/v1/signin/{id}/session"), &json!({}));
    assert_eq!(session.status, 200, "{session:?}");
    session.body["session"].as_str().unwrap().to_owned()
}
