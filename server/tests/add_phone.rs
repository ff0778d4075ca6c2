//! Adding a phone on Security info (issue 9, item 4): a GET mints nothing; a second phone
//! needs an approval on the first; a first phone needs a help-desk access code (or an
//! administrator's link, or the City's `first_device = password` policy).

mod common;

use cityauth_protocol::EnrollmentLink;
use cityauth_protocol::wire::{ChallengeKind, Decision};
use cityauth_server::{FirstDevice, admin};
use common::browser::{Browser, Page, field, shown_number};
use common::*;

/// How many enrollment codes the server issued to alice.
fn codes_issued(h: &Harness) -> usize {
    admin::audit(h.state(), Some("alice"), 1000)
        .unwrap()
        .iter()
        .filter(|e| e.event == "enrollment_code_issued")
        .count()
}

/// The enrollment link a page shows, if any.
fn shown_link(page: &Page) -> Option<EnrollmentLink> {
    let start = page.html.find("cityauth://enroll")?;
    let link = page.html[start..]
        .split('<')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    Some(EnrollmentLink::parse(&link).unwrap_or_else(|e| panic!("{link}: {e:?}")))
}

/// Enrolls a new key with `link`'s code: the HTTP status.
fn enroll_with(h: &Harness, link: &EnrollmentLink) -> u16 {
    let (key, _) = cityauth_protocol::SigningKey::generate().unwrap();
    h.post("/api/v1/enroll", &enroll_body(&key, &link.code))
        .status
}

/// Signs `browser` in as alice, approving on `device`.
fn sign_in_with_phone(h: &Harness, browser: &Browser, device: &TestDevice) {
    let started = browser.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    let (id, number) = (field(&started.html, "id"), shown_number(&started.html));
    let challenge = device.poll(h, 5).pop().unwrap();
    device.answer(h, &challenge, Decision::Approve, Some(&number));
    assert_eq!(browser.post("/signin/continue", &[("id", &id)]).status, 303);
}

#[test]
fn security_info_get_mints_no_code() {
    let h = Harness::with_config(|c| c.first_device = FirstDevice::Password);
    h.add_user("alice");
    let browser = Browser::new(&h);
    browser.sign_in_without_phone("alice", PASSWORD);
    browser.remind_later();
    for _ in 0..3 {
        let page = browser.get("/security");
        assert_eq!(page.status, 200);
        assert!(shown_link(&page).is_none(), "{}", page.html);
    }
    assert_eq!(codes_issued(&h), 0, "viewing the page minted nothing");
    // Minting is the POST (here the policy lets the password enroll a first phone).
    let added = browser.post("/security/add-phone", &[]);
    assert_eq!(added.status, 200, "{}", added.html);
    assert!(
        added
            .html
            .contains("<img class=\"qr\" src=\"data:image/svg+xml;base64,")
    );
    assert_eq!(codes_issued(&h), 1);
    let mut link = shown_link(&added).unwrap();
    link.server = h.server.url();
    assert_eq!(enroll_with(&h, &link), 200);
}

#[test]
fn a_first_phone_needs_a_help_desk_access_code() {
    let h = Harness::start();
    h.add_user("alice");
    let browser = Browser::new(&h);
    browser.sign_in_without_phone("alice", PASSWORD);
    let refused = browser.post("/security/add-phone", &[]);
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(shown_link(&refused).is_none());
    assert!(refused.html.contains("access code from the help desk"));
    assert_eq!(codes_issued(&h), 0, "a password alone mints nothing");

    let code = admin::access_code(h.state(), "alice").unwrap();
    let helped = Browser::new(&h);
    let signed = helped.post(
        "/signin/access-code",
        &[("username", "alice"), ("code", &code)],
    );
    assert_eq!(signed.status, 303, "{}", signed.html);
    assert!(
        helped
            .get("/security")
            .html
            .contains("access code lets you add one phone")
    );
    let added = helped.post("/security/add-phone", &[]);
    assert_eq!(added.status, 200, "{}", added.html);
    let link = shown_link(&added).unwrap();
    assert_eq!(enroll_with(&h, &link), 200);
    // The grant is used: the next phone needs an approval on this one.
    let next = helped.post("/security/add-phone", &[]);
    assert!(shown_link(&next).is_none());
    assert!(next.html.contains("Approve the new phone"), "{}", next.html);
}

#[test]
fn a_second_phone_needs_an_approval_on_the_first() {
    let h = Harness::with_config(|c| c.first_device = FirstDevice::Password);
    h.add_user("alice");
    let first = h.enroll("alice");
    let browser = Browser::new(&h);
    sign_in_with_phone(&h, &browser, &first);
    let minted_before = codes_issued(&h);

    let waiting = browser.post("/security/add-phone", &[]);
    assert_eq!(waiting.status, 200, "{}", waiting.html);
    assert!(
        shown_link(&waiting).is_none(),
        "no code before the approval"
    );
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let early = browser.post("/security/add-phone/continue", &[("id", &id)]);
    assert_eq!(early.status, 409);
    assert!(shown_link(&early).is_none());
    assert_eq!(
        browser.get(&format!("/security/add-phone/{id}")).html,
        r#"{"state":"pending"}"#
    );
    assert_eq!(
        Browser::new(&h)
            .get(&format!("/security/add-phone/{id}"))
            .status,
        404
    );

    let challenge = first.poll(&h, 5).pop().unwrap();
    assert_eq!(challenge.challenge.kind, ChallengeKind::AddDevice);
    assert_eq!(
        first
            .answer(&h, &challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
    assert_eq!(
        codes_issued(&h),
        minted_before,
        "nothing minted until the browser continues"
    );
    let added = browser.post("/security/add-phone/continue", &[("id", &id)]);
    assert_eq!(added.status, 200, "{}", added.html);
    let mut link = shown_link(&added).unwrap();
    link.server = h.server.url();
    assert_eq!(enroll_with(&h, &link), 200);
    let again = browser.post("/security/add-phone/continue", &[("id", &id)]);
    assert!(shown_link(&again).is_none(), "one approval, one code");

    // Denied on the phone: no code.
    let waiting = browser.post("/security/add-phone", &[]);
    let id = field(&waiting.html, "id");
    for challenge in first.poll(&h, 5) {
        first.answer(&h, &challenge, Decision::Deny, None);
    }
    let denied = browser.post("/security/add-phone/continue", &[("id", &id)]);
    assert_eq!(denied.status, 409);
    assert!(shown_link(&denied).is_none());
}
