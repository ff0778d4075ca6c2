//! The registration campaign (issue 13), as an employee meets it in the portal: an account
//! with no phone is asked to register one after signing in, "Remind me later" works as many
//! times as the City allows and then is gone (never, with 0), without locking anyone out of
//! what they could do before; Security info shows when each phone was added, last used and
//! last confirmed, and "This is still my phone" confirms it (audited). On SQLite, and on
//! PostgreSQL with `CITYAUTH_TEST_STORE=postgres`.

mod common;

use cityauth_protocol::wire::Decision;
use cityauth_server::i18n::Lang;
use cityauth_server::store::PhoneActivity;
use cityauth_server::{FirstDevice, admin};
use common::browser::{Browser, Page, field, shown_number};
use common::*;
use serde_json::json;

/// The prompt's address.
const PROMPT: &str = "/security/register";
/// What the "later" button's form posts to.
const LATER: &str = "/security/register/later";

/// The id of `username`'s account.
fn user_id(h: &Harness, username: &str) -> i64 {
    h.state()
        .store()
        .user_by_name(username)
        .unwrap()
        .unwrap()
        .id
}

/// What the store holds of `device`'s use and confirmation.
fn activity(h: &Harness, username: &str, device: &TestDevice) -> PhoneActivity {
    h.state()
        .store()
        .phone_activity(user_id(h, username))
        .unwrap()
        .remove(&device.id)
        .unwrap_or_default()
}

/// The audit events `event` of alice.
fn audited(h: &Harness, event: &str) -> Vec<String> {
    admin::audit(h.state(), Some("alice"), 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event == event)
        .map(|e| e.detail)
        .collect()
}

/// Signs a new browser in as alice (no phone: the password alone) and follows Security
/// info to where it sends the browser.
fn signed_in_without_phone(h: &Harness) -> (Browser<'_>, Page) {
    let browser = Browser::new(h);
    browser.sign_in_without_phone("alice", PASSWORD);
    let security = browser.get("/security");
    (browser, security)
}

/// Whether the page offers "Remind me later".
fn offers_later(page: &Page) -> bool {
    page.html.contains(&format!("action=\"{LATER}\""))
}

/// Signs `browser` in as alice, approving on `device`.
fn sign_in_with_phone(h: &Harness, browser: &Browser, device: &TestDevice) {
    let started = browser.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    let (id, number) = (field(&started.html, "id"), shown_number(&started.html));
    let challenge = device.poll(h, 5).pop().unwrap();
    assert_eq!(
        device
            .answer(h, &challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
    assert_eq!(browser.post("/signin/continue", &[("id", &id)]).status, 303);
}

#[test]
fn an_account_without_a_phone_is_asked_to_register_one_after_signing_in() {
    let h = Harness::start();
    h.add_user("alice");
    let browser = Browser::new(&h);
    let signed = browser.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    assert_eq!(signed.location.as_deref(), Some("/security"));
    let security = browser.get("/security");
    assert_eq!(security.status, 303, "{}", security.html);
    assert_eq!(security.location.as_deref(), Some(PROMPT));
    assert_eq!(browser.get("/").location.as_deref(), Some("/security"));

    let prompt = browser.get(PROMPT);
    assert_eq!(prompt.status, 200);
    assert!(
        prompt.html.contains("<h1>Register a phone</h1>"),
        "{}",
        prompt.html
    );
    assert!(
        prompt.html.contains("Remind me later (3 left)"),
        "the default is 3"
    );
    // The City's default policy: a first phone takes the help desk's access code, which
    // the prompt says, and links to.
    assert!(prompt.html.contains("href=\"/signin/access-code\""));
    assert!(!prompt.html.contains("action=\"/security/add-phone\""));
    assert!(prompt.html.contains("action=\"/signout\""));
    assert!(prompt.html.contains("href=\"/password\""));

    // In Spanish too.
    let spanish = Browser::new(&h);
    spanish.always("accept-language", "es");
    spanish.sign_in_without_phone("alice", PASSWORD);
    let prompt = spanish.get(PROMPT);
    assert!(
        prompt.html.contains("<h1>Registre un teléfono</h1>"),
        "{}",
        prompt.html
    );
    assert!(prompt.html.contains("Recordármelo más tarde (le quedan 3)"));

    // An account with a phone is not asked.
    let device = h.enroll("alice");
    let with_phone = Browser::new(&h);
    sign_in_with_phone(&h, &with_phone, &device);
    assert_eq!(with_phone.get("/security").status, 200);
    assert_eq!(
        with_phone.get(PROMPT).location.as_deref(),
        Some("/security")
    );
}

#[test]
fn remind_me_later_works_exactly_n_times_then_disappears() {
    let h = Harness::with_config(|c| c.register_reminders = 2);
    h.add_user("alice");
    for left in [2, 1] {
        let (browser, security) = signed_in_without_phone(&h);
        assert_eq!(security.location.as_deref(), Some(PROMPT));
        let prompt = browser.get(PROMPT);
        assert!(
            prompt
                .html
                .contains(&format!("Remind me later ({left} left)")),
            "{}",
            prompt.html
        );
        browser.remind_later();
        // A second click of the same session counts nothing more.
        browser.remind_later();
        let security = browser.get("/security");
        assert_eq!(security.status, 200, "{}", security.html);
        assert!(security.html.contains("No device is registered yet."));
    }
    let events = audited(&h, "register_reminder");
    assert_eq!(events.len(), 2, "one per reminder counted: {events:?}");
    assert!(events.iter().any(|e| e.contains("2 of 2")), "{events:?}");

    // None left: no "later", and asking anyway changes nothing.
    let (browser, security) = signed_in_without_phone(&h);
    assert_eq!(security.location.as_deref(), Some(PROMPT));
    let prompt = browser.get(PROMPT);
    assert!(!offers_later(&prompt), "{}", prompt.html);
    assert!(prompt.html.contains("before you continue to Security info"));
    let refused = browser.post(LATER, &[]);
    assert_eq!(refused.status, 409, "{}", refused.html);
    assert!(refused.html.contains("You have no reminders left"));
    assert!(!offers_later(&refused));
    assert_eq!(
        browser.get("/security").location.as_deref(),
        Some(PROMPT),
        "still asked"
    );
    // Nothing is locked that was open before: the password can be changed (a phoneless
    // account's change applies at once), and signing out works.
    let form = browser.get("/password");
    assert_eq!(form.status, 200, "{}", form.html);
    let changed = browser.post(
        "/password",
        &[
            ("current", PASSWORD),
            ("new", "Velvet-Harbor-Quince-Drum-8"),
        ],
    );
    assert_eq!(changed.status, 303, "{}", changed.html);
    assert_eq!(browser.get("/security").location.as_deref(), Some(PROMPT));
    assert_eq!(browser.post("/signout", &[]).status, 303);
    assert!(browser.cookie("cityauth_session").is_none());
}

#[test]
fn a_password_change_does_not_spend_another_reminder() {
    let h = Harness::with_config(|c| c.register_reminders = 1);
    h.add_user("alice");
    let (browser, _) = signed_in_without_phone(&h);
    browser.remind_later();
    let changed = browser.post(
        "/password",
        &[
            ("current", PASSWORD),
            ("new", "Velvet-Harbor-Quince-Drum-8"),
        ],
    );
    assert_eq!(changed.status, 303, "{}", changed.html);
    // A new session (the change ended the old one), still let through.
    assert_eq!(browser.get("/security").status, 200);
}

#[test]
fn zero_reminders_means_register_first() {
    let h = Harness::with_config(|c| c.register_reminders = 0);
    h.add_user("alice");
    let (browser, security) = signed_in_without_phone(&h);
    assert_eq!(security.location.as_deref(), Some(PROMPT));
    let prompt = browser.get(PROMPT);
    assert!(!offers_later(&prompt), "{}", prompt.html);
    assert!(!prompt.html.contains("Remind me later"));
    assert_eq!(browser.post(LATER, &[]).status, 409);
    assert_eq!(browser.get("/security").location.as_deref(), Some(PROMPT));
    assert!(audited(&h, "register_reminder").is_empty());

    // The help desk's access code: Security info opens at once with its one phone to add.
    let code = admin::access_code(h.state(), "alice").unwrap();
    let helped = Browser::new(&h);
    let signed = helped.post(
        "/signin/access-code",
        &[("username", "alice"), ("code", &code)],
    );
    assert_eq!(signed.status, 303, "{}", signed.html);
    let security = helped.get("/security");
    assert_eq!(security.status, 200, "{}", security.html);
    assert!(security.html.contains("access code lets you add one phone"));
    let added = helped.post("/security/add-phone", &[]);
    assert_eq!(added.status, 200, "{}", added.html);
    assert!(added.html.contains("cityauth://enroll"));
}

#[test]
fn with_the_password_policy_the_prompt_registers_the_phone_itself() {
    let h = Harness::with_config(|c| {
        c.register_reminders = 0;
        c.first_device = FirstDevice::Password;
    });
    h.add_user("alice");
    let (browser, _) = signed_in_without_phone(&h);
    let prompt = browser.get(PROMPT);
    assert!(
        prompt.html.contains("action=\"/security/add-phone\""),
        "{}",
        prompt.html
    );
    assert!(prompt.html.contains("Register a phone now"));
    let added = browser.post("/security/add-phone", &[]);
    assert_eq!(added.status, 200, "{}", added.html);
    assert!(added.html.contains("cityauth://enroll"));
    // Once a phone is registered, Security info opens.
    h.enroll("alice");
    assert_eq!(browser.get("/security").status, 200);
    assert_eq!(browser.get(PROMPT).location.as_deref(), Some("/security"));
}

#[test]
fn removing_the_last_phone_keeps_security_info_open() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let browser = Browser::new(&h);
    sign_in_with_phone(&h, &browser, &device);
    let removed = browser.post("/security/devices/remove", &[("device", &device.id)]);
    assert_eq!(removed.status, 303);
    let security = browser.get("/security");
    assert_eq!(security.status, 200, "{}", security.html);
    assert!(security.html.contains("No device is registered yet."));
    assert!(audited(&h, "register_reminder").is_empty(), "none spent");
}

#[test]
fn last_used_changes_after_an_approval_a_denial_or_a_code_and_not_after_a_poll() {
    let h = Harness::start();
    h.add_user("alice");
    let first = h.enroll("alice");
    let second = h.enroll("alice");
    assert_eq!(activity(&h, "alice", &first), PhoneActivity::default());
    // Long ago, as far as the store knows.
    for device in [&first, &second] {
        h.state().store().phone_used(&device.id, 1_000).unwrap();
    }
    for _ in 0..3 {
        assert!(first.poll(&h, 0).is_empty());
        assert!(second.poll(&h, 0).is_empty());
    }
    assert_eq!(
        activity(&h, "alice", &first).last_used,
        Some(1_000),
        "polls write nothing"
    );
    assert_eq!(activity(&h, "alice", &second).last_used, Some(1_000));

    // An approval: the phone that approved, not the other one asked.
    let before = now();
    let browser = Browser::new(&h);
    let started = browser.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    let (id, number) = (field(&started.html, "id"), shown_number(&started.html));
    let challenge = first.poll(&h, 5).pop().unwrap();
    let answered = first.answer(&h, &challenge, Decision::Approve, Some(&number));
    assert_eq!(answered.status, 200, "{answered:?}");
    assert_eq!(browser.post("/signin/continue", &[("id", &id)]).status, 303);
    let used = activity(&h, "alice", &first).last_used.unwrap();
    assert!(used >= before && used <= now(), "{used}");
    assert_eq!(activity(&h, "alice", &second).last_used, Some(1_000));
    for _ in 0..3 {
        first.poll(&h, 0);
    }
    assert_eq!(activity(&h, "alice", &first).last_used, Some(used));

    // Security info shows it, in the page's language.
    let page = browser.get("/security");
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains(&Lang::En.date_time(used)),
        "{}",
        page.html
    );
    assert!(
        page.html.contains(&Lang::En.date_time(1_000)),
        "the other phone's"
    );
    assert!(page.html.contains("Never"), "never confirmed");

    // A denial.
    let (reset, _) = h.start_reset("alice");
    let challenge = second.poll(&h, 5).pop().unwrap();
    assert_eq!(
        second.answer(&h, &challenge, Decision::Deny, None).status,
        200
    );
    assert_eq!(h.reset_state(&reset), "denied");
    assert!(activity(&h, "alice", &second).last_used.unwrap() >= before);

    // A code from the app.
    let third = h.enroll("alice");
    h.state().store().phone_used(&third.id, 1_000).unwrap();
    let (reset, _) = h.start_reset("alice");
    let code = h.post(
        &format!("/api/v1/reset/{reset}/code"),
        &json!({"code": third.code()}),
    );
    assert_eq!(code.status, 200, "{code:?}");
    assert!(activity(&h, "alice", &third).last_used.unwrap() >= before);
}

#[test]
fn this_is_still_my_phone_sets_the_date_and_is_audited() {
    let h = Harness::start();
    h.add_user("alice");
    h.add_user("bob");
    let device = h.enroll("alice");
    let bobs = h.enroll("bob");
    let browser = Browser::new(&h);
    browser.always("accept-language", "es");
    sign_in_with_phone(&h, &browser, &device);
    let page = browser.get("/security");
    assert!(
        page.html.contains("Este sigue siendo mi teléfono"),
        "{}",
        page.html
    );
    assert!(page.html.contains("Nunca"), "not confirmed yet");
    assert_eq!(activity(&h, "alice", &device).confirmed, None);

    // From another site: refused before the handler, nothing changed.
    let refused = browser.post_with(
        "/security/devices/confirm",
        &[("device", &device.id)],
        &[("origin", "https://evil.example")],
    );
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert_eq!(activity(&h, "alice", &device).confirmed, None);
    // Signed out: to the sign-in page, nothing changed.
    let stranger = Browser::new(&h).post("/security/devices/confirm", &[("device", &device.id)]);
    assert_eq!(stranger.location.as_deref(), Some("/signin"));
    assert_eq!(activity(&h, "alice", &device).confirmed, None);

    let before = now();
    let confirmed = browser.post("/security/devices/confirm", &[("device", &device.id)]);
    assert_eq!(confirmed.status, 303, "{}", confirmed.html);
    assert_eq!(confirmed.location.as_deref(), Some("/security"));
    let at = activity(&h, "alice", &device).confirmed.unwrap();
    assert!(at >= before && at <= now(), "{at}");
    let page = browser.get("/security");
    assert!(page.html.contains(&Lang::Es.date_time(at)), "{}", page.html);
    let events = audited(&h, "device_confirmed");
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].contains(&device.id), "{events:?}");
    // The remove button stays beside it.
    assert!(page.html.contains("action=\"/security/devices/remove\""));

    // Another account's phone: nothing changes, nothing is audited.
    let other = browser.post("/security/devices/confirm", &[("device", &bobs.id)]);
    assert_eq!(other.status, 303);
    assert_eq!(activity(&h, "bob", &bobs).confirmed, None);
    assert_eq!(audited(&h, "device_confirmed").len(), 1);
}
