//! The portal's HTML pages over real HTTP: forgot my password, sign in, Security info,
//! change password, each from one browser (its cookies kept).

mod common;

use cityauth_protocol::wire::{ChallengeKind, Decision};
use common::browser::{Browser, field, shown_number};
use common::*;

#[test]
fn forgot_my_password_with_the_phone() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let browser = Browser::new(&h);
    let form = browser.get("/forgot");
    assert_eq!(form.status, 200);
    assert!(
        form.html.contains("<html lang=\"en\">") && form.html.contains("<label for=\"username\">")
    );

    let waiting = browser.post("/forgot", &[("username", "alice")]);
    assert_eq!(waiting.status, 200, "{}", waiting.html);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    assert_eq!(number.len(), 2);
    let early = browser.post("/forgot/continue", &[("id", &id)]);
    assert_eq!(early.status, 409);
    assert!(early.html.contains("Not approved yet"));

    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(
        device
            .answer(&h, &challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
    let next = browser.post("/forgot/continue", &[("id", &id)]);
    assert_eq!(next.status, 200);
    assert!(next.html.contains("Choose a new password"));
    let weak = browser.post(
        "/forgot/password",
        &[("id", &id), ("password", "alice-password-1")],
    );
    assert_eq!(weak.status, 422);
    assert!(weak.html.contains("role=\"alert\""));
    let done = browser.post(
        "/forgot/password",
        &[("id", &id), ("password", "Velvet-Harbor-Quince-Drum-8")],
    );
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Password changed"));

    // Unknown users see the same page.
    let unknown = browser.post("/forgot", &[("username", "mallory")]);
    assert_eq!(unknown.status, 200);
    assert!(unknown.html.contains("class=\"number\""));
}

#[test]
fn forgot_my_password_with_a_code() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let browser = Browser::new(&h);
    let waiting = browser.post("/forgot", &[("username", "alice")]);
    let id = field(&waiting.html, "id");
    let wrong = browser.post("/forgot/code", &[("id", &id), ("code", "abc")]);
    assert_eq!(wrong.status, 422);
    let code = device.code();
    let next = browser.post("/forgot/code", &[("id", &id), ("code", &code)]);
    assert_eq!(next.status, 200);
    assert!(next.html.contains("Choose a new password"));
}

#[test]
fn sign_in_security_info_and_change_password() {
    let h = Harness::start();
    h.add_user("alice");
    // No device yet: the password alone signs in, but (by default) enrolls nothing.
    let first = Browser::new(&h);
    first.sign_in_without_phone("alice", PASSWORD);
    first.remind_later();
    let security = first.get("/security");
    assert_eq!(security.status, 200);
    assert!(security.html.contains("No device is registered yet."));
    assert!(
        !security.html.contains("cityauth://enroll"),
        "no enrollment code without the help desk or an approval"
    );

    let device = h.enroll("alice");
    let browser = Browser::new(&h);
    let wrong = browser.post(
        "/signin",
        &[("username", "alice"), ("password", "Nope-Nope-Nope-1")],
    );
    assert_eq!(wrong.status, 401);
    let waiting = browser.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    assert_eq!(waiting.status, 200);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(
        device
            .answer(&h, &challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
    let signed = browser.post("/signin/continue", &[("id", &id)]);
    assert_eq!(signed.status, 303);
    let old_cookie = browser.cookie("cityauth_session").unwrap();
    let security = browser.get("/security");
    assert!(security.html.contains("Test phone"), "{}", security.html);

    let changed = browser.post(
        "/password",
        &[
            ("current", PASSWORD),
            ("new", "Velvet-Harbor-Quince-Drum-8"),
        ],
    );
    // With a phone registered, the change waits for it: nothing changes before it approves.
    assert_eq!(changed.status, 200);
    assert!(changed.html.contains("Approve the password change"));
    let (id, number) = (field(&changed.html, "id"), shown_number(&changed.html));
    let early = browser.post("/password/continue", &[("id", &id)]);
    assert_eq!(early.status, 409, "not approved yet");
    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(challenge.challenge.kind, ChallengeKind::PasswordChange);
    assert_eq!(
        device
            .answer(&h, &challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
    let changed = browser.post("/password/continue", &[("id", &id)]);
    assert_eq!(changed.status, 303, "{}", changed.html);
    let again = browser.post("/password/continue", &[("id", &id)]);
    assert_eq!(again.status, 409, "a change completes once");
    let old = Browser::new(&h).post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    assert_eq!(old.status, 401, "the old password no longer works");
    let stale = Browser::new(&h);
    stale.set_cookie("cityauth_session", &old_cookie);
    assert_eq!(
        stale.get("/security").location.as_deref(),
        Some("/signin"),
        "old session ended"
    );
    let device_id = field(&browser.get("/security").html, "device");
    let removed = browser.post("/security/devices/remove", &[("device", &device_id)]);
    assert_eq!(removed.status, 303);
    assert!(
        browser
            .get("/security")
            .html
            .contains("No device is registered yet.")
    );
}

#[test]
fn a_password_change_denied_on_the_phone_leaves_the_password_unchanged() {
    let h = Harness::start();
    h.add_user("alice");
    let browser = Browser::new(&h);
    browser.sign_in_without_phone("alice", PASSWORD);
    let device = h.enroll("alice");
    let waiting = browser.post(
        "/password",
        &[
            ("current", PASSWORD),
            ("new", "Velvet-Harbor-Quince-Drum-8"),
        ],
    );
    assert_eq!(waiting.status, 200);
    let id = field(&waiting.html, "id");
    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(
        device.answer(&h, &challenge, Decision::Deny, None).status,
        200
    );
    let denied = browser.post("/password/continue", &[("id", &id)]);
    assert_eq!(denied.status, 409);
    assert!(denied.html.contains("Your password is unchanged"));
    let signed = Browser::new(&h).post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    assert_eq!(
        signed.status, 200,
        "the old password still works (waits for the phone)"
    );
}
