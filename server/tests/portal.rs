//! The portal's HTML pages over real HTTP: forgot my password, sign in, Security info,
//! change password.

mod common;

use std::time::Duration;

use cityauth_protocol::wire::{ChallengeKind, Decision};
use common::*;

/// A page: status, body, and the session cookie it set (if any), redirects not followed.
struct Page {
    status: u16,
    html: String,
    location: Option<String>,
    cookie: Option<String>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn finish(mut response: ureq::http::Response<ureq::Body>) -> Page {
    let cookie =
        header(&response, "set-cookie").and_then(|c| c.split(';').next().map(str::to_owned));
    Page {
        status: response.status().as_u16(),
        location: header(&response, "location"),
        cookie,
        html: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn get(h: &Harness, path: &str, cookie: Option<&str>) -> Page {
    let mut request = agent().get(h.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    finish(request.call().unwrap())
}

fn post(h: &Harness, path: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Page {
    let mut request = agent().post(h.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    finish(request.send_form(fields.iter().copied()).unwrap())
}

/// The value of hidden field `name`.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn shown_number(html: &str) -> String {
    let start = html.find("class=\"number\"").unwrap();
    let text = &html[start..];
    let open = text.find('>').unwrap() + 1;
    text[open..].split('<').next().unwrap().to_owned()
}

#[test]
fn forgot_my_password_with_the_phone() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let form = get(&h, "/forgot", None);
    assert_eq!(form.status, 200);
    assert!(
        form.html.contains("<html lang=\"en\">") && form.html.contains("<label for=\"username\">")
    );

    let waiting = post(&h, "/forgot", &[("username", "alice")], None);
    assert_eq!(waiting.status, 200, "{}", waiting.html);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    assert_eq!(number.len(), 2);
    let early = post(
        &h,
        "/forgot/continue",
        &[("id", &id), ("number", &number)],
        None,
    );
    assert_eq!(early.status, 409);
    assert!(early.html.contains("Not approved yet"));

    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(
        device
            .answer(&h, &challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
    let next = post(
        &h,
        "/forgot/continue",
        &[("id", &id), ("number", &number)],
        None,
    );
    assert_eq!(next.status, 200);
    assert!(next.html.contains("Choose a new password"));
    let weak = post(
        &h,
        "/forgot/password",
        &[("id", &id), ("password", "alice-password-1")],
        None,
    );
    assert_eq!(weak.status, 422);
    assert!(weak.html.contains("role=\"alert\""));
    let done = post(
        &h,
        "/forgot/password",
        &[("id", &id), ("password", "Velvet-Harbor-Quince-Drum-8")],
        None,
    );
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Password changed"));

    // Unknown users see the same page.
    let unknown = post(&h, "/forgot", &[("username", "mallory")], None);
    assert_eq!(unknown.status, 200);
    assert!(unknown.html.contains("class=\"number\""));
}

#[test]
fn forgot_my_password_with_a_code() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let waiting = post(&h, "/forgot", &[("username", "alice")], None);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let wrong = post(
        &h,
        "/forgot/code",
        &[("id", &id), ("number", &number), ("code", "abc")],
        None,
    );
    assert_eq!(wrong.status, 422);
    let code = device.code();
    let next = post(
        &h,
        "/forgot/code",
        &[("id", &id), ("number", &number), ("code", &code)],
        None,
    );
    assert_eq!(next.status, 200);
    assert!(next.html.contains("Choose a new password"));
}

#[test]
fn sign_in_security_info_and_change_password() {
    let h = Harness::start();
    h.add_user("alice");
    // No device yet: the password alone signs in, to register the first phone.
    let signed = post(
        &h,
        "/signin",
        &[("username", "alice"), ("password", PASSWORD)],
        None,
    );
    assert_eq!(
        (signed.status, signed.location.as_deref()),
        (303, Some("/security"))
    );
    let cookie = signed.cookie.unwrap();
    let security = get(&h, "/security", Some(&cookie));
    assert_eq!(security.status, 200);
    assert!(security.html.contains("<svg") && security.html.contains("cityauth://enroll?v=1"));
    assert!(security.html.contains("No device is registered yet."));

    let device = h.enroll("alice");
    let wrong = post(
        &h,
        "/signin",
        &[("username", "alice"), ("password", "Nope-Nope-Nope-1")],
        None,
    );
    assert_eq!(wrong.status, 401);
    let waiting = post(
        &h,
        "/signin",
        &[("username", "alice"), ("password", PASSWORD)],
        None,
    );
    assert_eq!(waiting.status, 200);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(
        device
            .answer(&h, &challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
    let signed = post(
        &h,
        "/signin/continue",
        &[("id", &id), ("number", &number)],
        None,
    );
    assert_eq!(signed.status, 303);
    let cookie = signed.cookie.unwrap();
    let security = get(&h, "/security", Some(&cookie));
    assert!(security.html.contains("Test phone"), "{}", security.html);

    let changed = post(
        &h,
        "/password",
        &[
            ("current", PASSWORD),
            ("new", "Velvet-Harbor-Quince-Drum-8"),
        ],
        Some(&cookie),
    );
    // With a phone registered, the change waits for it: nothing changes before it approves.
    assert_eq!(changed.status, 200);
    assert!(changed.html.contains("Approve the password change"));
    let (id, number) = (field(&changed.html, "id"), shown_number(&changed.html));
    let early = post(
        &h,
        "/password/continue",
        &[("id", &id), ("number", &number)],
        Some(&cookie),
    );
    assert_eq!(early.status, 409, "not approved yet");
    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(challenge.challenge.kind, ChallengeKind::PasswordChange);
    assert_eq!(
        device
            .answer(&h, &challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
    let changed = post(
        &h,
        "/password/continue",
        &[("id", &id), ("number", &number)],
        Some(&cookie),
    );
    assert_eq!(changed.status, 303, "{}", changed.html);
    let fresh = changed.cookie.unwrap();
    let again = post(
        &h,
        "/password/continue",
        &[("id", &id), ("number", &number)],
        Some(&fresh),
    );
    assert_eq!(again.status, 409, "a change completes once");
    let old = post(
        &h,
        "/signin",
        &[("username", "alice"), ("password", PASSWORD)],
        None,
    );
    assert_eq!(old.status, 401, "the old password no longer works");
    assert_eq!(
        get(&h, "/security", Some(&cookie)).location.as_deref(),
        Some("/signin"),
        "old session ended"
    );
    let device_id = field(&get(&h, "/security", Some(&fresh)).html, "device");
    let removed = post(
        &h,
        "/security/devices/remove",
        &[("device", &device_id)],
        Some(&fresh),
    );
    assert_eq!(removed.status, 303);
    assert!(
        get(&h, "/security", Some(&fresh))
            .html
            .contains("No device is registered yet.")
    );
}

#[test]
fn a_password_change_denied_on_the_phone_leaves_the_password_unchanged() {
    let h = Harness::start();
    h.add_user("alice");
    let cookie = post(
        &h,
        "/signin",
        &[("username", "alice"), ("password", PASSWORD)],
        None,
    )
    .cookie
    .unwrap();
    let device = h.enroll("alice");
    let waiting = post(
        &h,
        "/password",
        &[
            ("current", PASSWORD),
            ("new", "Velvet-Harbor-Quince-Drum-8"),
        ],
        Some(&cookie),
    );
    assert_eq!(waiting.status, 200);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(
        device.answer(&h, &challenge, Decision::Deny, None).status,
        200
    );
    let denied = post(
        &h,
        "/password/continue",
        &[("id", &id), ("number", &number)],
        Some(&cookie),
    );
    assert_eq!(denied.status, 409);
    assert!(denied.html.contains("Your password is unchanged"));
    let signed = post(
        &h,
        "/signin",
        &[("username", "alice"), ("password", PASSWORD)],
        None,
    );
    assert_eq!(
        signed.status, 200,
        "the old password still works (waits for the phone)"
    );
}
