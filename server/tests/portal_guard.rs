//! The portal against another site and another browser (issue 9, items 13 and 14): the
//! security headers, cross-site posts refused, flows bound to the browser that started
//! them, JSON required on the JSON API, and nothing shown that the request supplied.

mod common;

use cityauth_protocol::wire::Decision;
use common::browser::{Browser, Page, field, shown_number};
use common::*;
use serde_json::json;

const NEW_PASSWORD: &str = "Velvet-Harbor-Quince-Drum-8";

/// The policy every answer carries.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
base-uri 'none'";

fn assert_secured(page: &Page, what: &str) {
    assert_eq!(page.header("content-security-policy"), Some(CSP), "{what}");
    assert_eq!(
        page.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        page.header("referrer-policy"),
        Some("same-origin"),
        "{what}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(page.header("cache-control"), Some("no-store"), "{what}");
    // No inline script or style anywhere: the CSP would block it, so none may be needed.
    let html = page.html.to_ascii_lowercase();
    assert!(!html.contains("<style"), "{what}: inline style element");
    assert!(!html.contains(" style="), "{what}: inline style attribute");
    assert!(!html.contains("<script>"), "{what}: inline script");
    assert!(!html.contains("javascript:"), "{what}");
    for (at, _) in html.match_indices("<script") {
        assert!(
            html[at..].starts_with("<script src=\"/static/"),
            "{what}: {html}"
        );
    }
}

/// Starts a reset in `browser` and approves it on `device`: the reset's id.
fn approved_reset(h: &Harness, browser: &Browser, device: &TestDevice) -> String {
    let waiting = browser.post("/forgot", &[("username", "alice")]);
    assert_eq!(waiting.status, 200, "{}", waiting.html);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let challenge = device.poll(h, 5).remove(0);
    let answer = device.answer(h, &challenge, Decision::Approve, Some(&number));
    assert_eq!(answer.status, 200, "{answer:?}");
    id
}

fn password_works(h: &Harness, password: &str) -> bool {
    let reply = h.post(
        "/api/v1/signin",
        &json!({"username": "alice", "password": password}),
    );
    reply.status == 200
}

#[test]
fn portal_pages_send_the_security_headers() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let browser = Browser::new(&h);
    for path in ["/", "/signin", "/signin/access-code", "/forgot"] {
        assert_secured(&browser.get(path), path);
    }
    let waiting = browser.post("/forgot", &[("username", "alice")]);
    assert_secured(&waiting, "the reset's waiting page");
    assert!(waiting.html.contains("data-poll=\"/api/v1/reset/"));
    let poll = browser.get(&format!("/api/v1/reset/{}", field(&waiting.html, "id")));
    assert_secured(&poll, "the JSON API");

    let signed_in = Browser::new(&h);
    let started = signed_in.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    let (id, number) = (field(&started.html, "id"), shown_number(&started.html));
    let challenge = device
        .poll(&h, 5)
        .into_iter()
        .find(|c| c.challenge.kind == cityauth_protocol::wire::ChallengeKind::SignIn)
        .unwrap();
    device.answer(&h, &challenge, Decision::Approve, Some(&number));
    let redirect = signed_in.post("/signin/continue", &[("id", &id)]);
    assert_eq!(redirect.status, 303);
    assert_eq!(redirect.header("cache-control"), Some("no-store"));
    assert_secured(&signed_in.get("/security"), "/security");
    assert_secured(&signed_in.get("/password"), "/password");
    let cookie = redirect
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("cityauth_session="))
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains("Secure"), "plain http on loopback");
    assert_eq!(redirect.header("strict-transport-security"), None);

    // The stylesheet and the script: static files, cacheable, typed.
    let css = browser.get("/static/portal.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(
        css.header("cache-control")
            .unwrap()
            .contains("max-age=31536000")
    );
    let js = browser.get("/static/poll.js");
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js.html.contains("data-poll"));
    assert_eq!(js.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn under_https_cookies_are_host_prefixed_and_hsts_is_sent() {
    let h = Harness::with_config(|c| c.public_url = "https://auth.city.example".into());
    h.add_user("alice");
    let browser = Browser::new(&h);
    let signed = browser.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    assert_eq!(signed.status, 303, "{}", signed.html);
    browser.remind_later();
    let cookie = signed.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-cityauth_session="), "{cookie}");
    assert!(cookie.contains("; Secure") && cookie.contains("Path=/"));
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert_eq!(
        signed.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    assert_eq!(
        browser.get("/security").status,
        200,
        "the prefixed cookie is read"
    );
    // A cookie without the prefix (planted by a sibling host or over http) is not a session.
    let planted = Browser::new(&h);
    planted.set_cookie(
        "cityauth_session",
        &browser.cookie("__Host-cityauth_session").unwrap(),
    );
    assert_eq!(
        planted.get("/security").location.as_deref(),
        Some("/signin")
    );
}

#[test]
fn a_cross_site_post_is_refused_and_changes_nothing() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let browser = Browser::new(&h);
    let id = approved_reset(&h, &browser, &device);
    let form = [("id", id.as_str()), ("password", NEW_PASSWORD)];

    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")][..],
        &[("origin", "null")][..],
        &[
            ("sec-fetch-site", "same-origin"),
            ("origin", "https://evil.example"),
        ][..],
    ] {
        let refused = browser.post_with("/forgot/password", &form, headers);
        assert_eq!(refused.status, 403, "{headers:?}: {}", refused.html);
        assert!(refused.html.contains("nothing was changed"));
    }
    assert!(password_works(&h, PASSWORD), "the password is unchanged");
    let api = h.send(
        "POST",
        "/api/v1/reset/start",
        &[("origin".into(), "https://evil.example".into())],
        Some(json!({"username": "alice"}).to_string().as_bytes()),
    );
    assert_eq!((api.status, api.error()), (403, "cross_site"));

    // The same post from the portal's own origin goes through.
    let same = browser.post_with(
        "/forgot/password",
        &form,
        &[
            ("origin", "http://127.0.0.1:1"),
            ("sec-fetch-site", "same-origin"),
        ],
    );
    assert_eq!(same.status, 200, "{}", same.html);
    assert!(password_works(&h, NEW_PASSWORD));
}

#[test]
fn a_flow_continues_only_in_the_browser_that_started_it() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let victim = Browser::new(&h);
    let attacker = Browser::new(&h);
    // The attacker starts a reset of the victim's account and has the victim's browser
    // open it (a cross-site form without the Origin header, as an old browser sends).
    let waiting = attacker.post("/forgot", &[("username", "alice")]);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let opened = victim.post("/forgot/continue", &[("id", &id)]);
    assert_eq!(opened.status, 410, "{}", opened.html);
    assert!(
        !opened.html.contains("class=\"number\""),
        "no number to approve"
    );
    assert_eq!(victim.get(&format!("/api/v1/reset/{id}")).status, 404);
    assert_eq!(attacker.get(&format!("/api/v1/reset/{id}")).status, 200);

    // Approved on the phone, it still goes nowhere but the browser that started it.
    let challenge = device.poll(&h, 5).remove(0);
    device.answer(&h, &challenge, Decision::Approve, Some(&number));
    let set = victim.post(
        "/forgot/password",
        &[("id", &id), ("password", NEW_PASSWORD)],
    );
    assert_eq!(set.status, 410);
    let api = h.post(
        &format!("/api/v1/reset/{id}/password"),
        &json!({"password": NEW_PASSWORD}),
    );
    assert_eq!((api.status, api.error()), (404, "not_found"), "the API too");
    assert!(password_works(&h, PASSWORD));

    // A sign-in: another browser cannot take the session of one it did not start.
    let own = Browser::new(&h);
    let started = own.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    let (id, number) = (field(&started.html, "id"), shown_number(&started.html));
    // The newest challenge: `password_works` left sign-ins of its own pending.
    let challenge = device.poll(&h, 5).pop().unwrap();
    device.answer(&h, &challenge, Decision::Approve, Some(&number));
    let stolen = victim.post("/signin/continue", &[("id", &id)]);
    assert_eq!(stolen.status, 404);
    assert!(victim.cookie("cityauth_session").is_none());
    let session = h.post(&format!("/api/v1/signin/{id}/session"), &json!({}));
    assert_eq!(session.status, 404, "nor through the API");
    assert_eq!(own.post("/signin/continue", &[("id", &id)]).status, 303);
}

#[test]
fn a_page_shows_the_stored_number_not_the_posted_one() {
    let h = Harness::start();
    h.add_user("alice");
    let _device = h.enroll("alice");
    let browser = Browser::new(&h);
    let waiting = browser.post("/forgot", &[("username", "alice")]);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let posted = "<b>77</b>";
    let early = browser.post("/forgot/continue", &[("id", &id), ("number", posted)]);
    assert_eq!(early.status, 409);
    assert_eq!(shown_number(&early.html), number);
    assert!(!early.html.contains("77</b>") && !early.html.contains("&lt;b&gt;77"));
}

#[test]
fn the_json_api_requires_a_json_content_type() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let body = json!({"username": "alice"}).to_string();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = h
            .agent
            .post(h.url("/api/v1/reset/start"))
            .header("content-type", content_type)
            .send(body.as_bytes())
            .unwrap();
        assert_eq!(response.status().as_u16(), 415, "{content_type}");
    }
    let none = h
        .agent
        .post(h.url("/api/v1/reset/start"))
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(none.status().as_u16(), 415, "no content type");
    assert!(device.poll(&h, 0).is_empty(), "no reset was started");
    let json = h
        .agent
        .post(h.url("/api/v1/reset/start"))
        .header("content-type", "application/json; charset=utf-8")
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(json.status().as_u16(), 200);
}
