//! What a sign-out, a reset, a fraud report and a device removal end (issue 9, items 12
//! and 1): nothing issued or started under the old state outlives it.

mod common;

use cityauth_protocol::wire::Decision;
use cityauth_server::admin;
use common::browser::Browser;
use common::*;
use serde_json::json;

const NEW_PASSWORD: &str = "Velvet-Harbor-Quince-Drum-8";

/// Starts a sign-in through the API: (id, number).
fn start_sign_in(h: &Harness) -> (String, String) {
    let reply = h.post(
        "/api/v1/signin",
        &json!({"username": "alice", "password": PASSWORD}),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    (
        reply.body["signin_id"].as_str().unwrap().to_owned(),
        reply.body["number"].as_str().unwrap().to_owned(),
    )
}

/// Approves the newest pending challenge on `device` with `number`.
fn approve_newest(h: &Harness, device: &TestDevice, number: &str) {
    let challenge = device.poll(h, 5).pop().expect("a pending challenge");
    let reply = device.answer(h, &challenge, Decision::Approve, Some(number));
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// A reset started, approved and completed with [`NEW_PASSWORD`].
fn reset_password(h: &Harness, device: &TestDevice) {
    let (id, number) = h.start_reset("alice");
    approve_newest(h, device, &number);
    let reply = h.post(
        &format!("/api/v1/reset/{id}/password"),
        &json!({"password": NEW_PASSWORD}),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
}

fn whoami(h: &Harness, token: &str) -> u16 {
    h.send(
        "GET",
        "/api/v1/session",
        &[("authorization".into(), format!("Bearer {token}"))],
        None,
    )
    .status
}

#[test]
fn sign_out_ends_the_session_on_the_server() {
    let h = Harness::start();
    h.add_user("alice");
    let browser = Browser::new(&h);
    browser.sign_in_without_phone("alice", PASSWORD);
    let token = browser.cookie("cityauth_session").unwrap();
    assert_eq!(whoami(&h, &token), 200);
    let out = browser.post("/signout", &[]);
    assert_eq!(out.status, 303);
    assert!(
        browser.cookie("cityauth_session").is_none(),
        "the cookie is gone"
    );
    assert_eq!(
        whoami(&h, &token),
        401,
        "and so is the session, on the server"
    );
    // A copy of the cookie (another tab, a thief) no longer opens the portal either.
    let copy = Browser::new(&h);
    copy.set_cookie("cityauth_session", &token);
    assert_eq!(copy.get("/security").location.as_deref(), Some("/signin"));
}

#[test]
fn a_sign_in_verified_before_a_reset_yields_no_session() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let (signin, number) = start_sign_in(&h);
    approve_newest(&h, &device, &number);
    assert_eq!(
        h.get(&format!("/api/v1/signin/{signin}")).body["state"],
        "verified"
    );
    reset_password(&h, &device);
    let taken = h.post(&format!("/api/v1/signin/{signin}/session"), &json!({}));
    assert_ne!(taken.status, 200, "{taken:?}");
    assert!(taken.body["session"].is_null());
    assert_eq!(
        h.get(&format!("/api/v1/signin/{signin}")).body["state"],
        "denied",
        "the reset ended it"
    );
}

#[test]
fn a_password_change_approved_before_a_reset_changes_nothing() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let browser = Browser::new(&h);
    let started = browser.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    approve_newest(&h, &device, &common::browser::shown_number(&started.html));
    let id = common::browser::field(&started.html, "id");
    assert_eq!(browser.post("/signin/continue", &[("id", &id)]).status, 303);
    let change = browser.post(
        "/password",
        &[
            ("current", PASSWORD),
            ("new", "Amber-Signal-Orchard-Gate-5"),
        ],
    );
    let change_id = common::browser::field(&change.html, "id");
    approve_newest(&h, &device, &common::browser::shown_number(&change.html));
    reset_password(&h, &device);
    // The browser's session ended with the reset; it signs in again and tries to finish.
    assert_eq!(
        browser.get("/security").location.as_deref(),
        Some("/signin")
    );
    let started = browser.post(
        "/signin",
        &[("username", "alice"), ("password", NEW_PASSWORD)],
    );
    approve_newest(&h, &device, &common::browser::shown_number(&started.html));
    let id = common::browser::field(&started.html, "id");
    assert_eq!(browser.post("/signin/continue", &[("id", &id)]).status, 303);
    let finished = browser.post("/password/continue", &[("id", &change_id)]);
    assert_ne!(finished.status, 303, "{}", finished.html);
    let signin = |password: &str| {
        h.post(
            "/api/v1/signin",
            &json!({"username": "alice", "password": password}),
        )
        .status
    };
    assert_eq!(signin("Amber-Signal-Orchard-Gate-5"), 401);
    assert_eq!(signin(NEW_PASSWORD), 200);
}

#[test]
fn an_enrollment_code_minted_before_a_reset_no_longer_enrolls() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let before = h.enroll_link("alice");
    reset_password(&h, &device);
    let (key, _) = cityauth_protocol::SigningKey::generate().unwrap();
    let reply = h.post("/api/v1/enroll", &enroll_body(&key, &before.code));
    assert_eq!(
        (reply.status, reply.error()),
        (403, "enrollment_code_invalid")
    );
    assert_eq!(admin::devices(h.state(), "alice").unwrap().len(), 1);
    // One minted after the reset works.
    let after = h.enroll_link("alice");
    let reply = h.post("/api/v1/enroll", &enroll_body(&key, &after.code));
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[test]
fn a_fraud_report_ends_sessions_and_pending_flows() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let (signin, number) = start_sign_in(&h);
    approve_newest(&h, &device, &number);
    let session = h.post(&format!("/api/v1/signin/{signin}/session"), &json!({}));
    let token = session.body["session"].as_str().unwrap().to_owned();
    assert_eq!(whoami(&h, &token), 200);
    let access_code = admin::access_code(h.state(), "alice").unwrap();
    let code = h.enroll_link("alice").code;
    // A sign-in approved but not yet taken, a reset waiting for the phone; then a push
    // the employee did not ask for, reported as fraud.
    let (approved, number) = start_sign_in(&h);
    approve_newest(&h, &device, &number);
    let (waiting, _) = h.start_reset("alice");
    let (_, _) = h.start_reset("alice");
    let fraud = device.poll(&h, 5).pop().unwrap();
    let reply = device.answer(&h, &fraud, Decision::Fraud, None);
    assert_eq!(reply.body["outcome"], "fraud_reported", "{reply:?}");

    assert_eq!(whoami(&h, &token), 401, "the session ended");
    let taken = h.post(&format!("/api/v1/signin/{approved}/session"), &json!({}));
    assert_ne!(taken.status, 200, "the approved sign-in yields nothing");
    assert_eq!(h.reset_state(&waiting), "denied");
    assert!(
        device.poll(&h, 0).is_empty(),
        "its challenges are gone from the phone"
    );
    let reply = h.post(
        "/api/v1/signin/access-code",
        &json!({"username": "alice", "code": access_code}),
    );
    assert_eq!(
        reply.status, 401,
        "the help-desk code issued before is dead"
    );
    let (key, _) = cityauth_protocol::SigningKey::generate().unwrap();
    let reply = h.post("/api/v1/enroll", &enroll_body(&key, &code));
    assert_eq!(reply.status, 403, "so is the enrollment code");
}

#[test]
fn a_reset_approved_on_a_removed_phone_sets_no_password() {
    let h = Harness::start();
    h.add_user("alice");
    let lost = h.enroll("alice");
    let kept = h.enroll("alice");
    let (id, number) = h.start_reset("alice");
    approve_newest(&h, &lost, &number);
    assert_eq!(h.reset_state(&id), "verified");
    let (pending, _) = h.start_reset("alice");
    // The help desk (or the employee on Security info) removes the lost phone.
    assert_eq!(
        lost.request(&h, "DELETE", "/api/v1/device", None).status,
        204
    );
    let reply = h.post(
        &format!("/api/v1/reset/{id}/password"),
        &json!({"password": NEW_PASSWORD}),
    );
    assert_eq!(
        (reply.status, reply.error()),
        (409, "not_verified"),
        "{reply:?}"
    );
    // The other phone still answers the reset that was waiting.
    assert_eq!(h.reset_state(&pending), "pending");
    assert_eq!(kept.poll(&h, 0).len(), 1, "the waiting reset's challenge");
}
