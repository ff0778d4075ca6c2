//! The help-desk console over real HTTP: an operator signs in with a phone approval,
//! verifies a caller on the employee's phone by number matching, issues an access code the
//! employee then uses, removes a lost phone, clears a fraud block; an auditor reads the
//! trail; and everyone else is refused. On SQLite and on PostgreSQL.

mod common;

use cityauth_protocol::wire::{ChallengeKind, Decision};
use cityauth_server::helpdesk::{self, Role};
use common::browser::{Browser, Page, field, shown_number};
use common::{Harness, PASSWORD, TestDevice};
use serde_json::json;

/// A server with an operator, an auditor and an employee, each with a phone.
struct Desk {
    h: Harness,
    operator: TestDevice,
    auditor: TestDevice,
    alice: TestDevice,
}

fn desk() -> Desk {
    desk_with(|_| {})
}

/// [`desk`] on a server whose settings `adjust` changes.
fn desk_with(adjust: impl FnOnce(&mut cityauth_server::Config)) -> Desk {
    let h = Harness::with_config(adjust);
    for name in ["olga", "aaron", "alice"] {
        h.add_user(name);
    }
    let operator = h.enroll("olga");
    let auditor = h.enroll("aaron");
    let alice = h.enroll("alice");
    helpdesk::grant(h.state(), "olga", Role::Operator).unwrap();
    helpdesk::grant(h.state(), "aaron", Role::Auditor).unwrap();
    Desk {
        h,
        operator,
        auditor,
        alice,
    }
}

/// Signs `username` in to the console, approving on `phone`; the page after.
fn console_sign_in(b: &Browser, h: &Harness, username: &str, phone: &TestDevice) -> Page {
    let waiting = b.post(
        "/helpdesk/signin",
        &[("username", username), ("password", PASSWORD)],
    );
    assert_eq!(waiting.status, 200, "{}", waiting.html);
    phone.approve_newest_of(h, ChallengeKind::SignIn, &shown_number(&waiting.html));
    b.post(
        "/helpdesk/signin/continue",
        &[("id", &field(&waiting.html, "id"))],
    )
}

/// An operator's browser, signed in.
fn operator_browser<'h>(d: &'h Desk) -> Browser<'h> {
    let b = Browser::new(&d.h);
    let signed = console_sign_in(&b, &d.h, "olga", &d.operator);
    assert_eq!(signed.status, 303, "{}", signed.html);
    assert!(b.cookie("cityauth_helpdesk").is_some());
    b
}

/// Verifies the caller for alice on her phone; the verification's id.
fn verify_alice(d: &Desk, b: &Browser) -> String {
    let waiting = b.post("/helpdesk/verify", &[("username", "alice")]);
    assert_eq!(waiting.status, 200, "{}", waiting.html);
    let id = field(&waiting.html, "id");
    let status = b.get(&format!("/helpdesk/verify/{id}"));
    assert!(status.html.contains("\"pending\""), "{}", status.html);
    d.alice.approve_newest_of(
        &d.h,
        ChallengeKind::CallerVerification,
        &shown_number(&waiting.html),
    );
    let back = b.post("/helpdesk/verify/continue", &[("id", &id)]);
    assert_eq!(back.status, 303, "{}", back.html);
    let page = b.get(back.location.as_deref().unwrap());
    assert!(
        page.html.contains("The caller is verified"),
        "{}",
        page.html
    );
    id
}

/// The access code a page shows.
fn shown_code(page: &Page) -> String {
    assert_eq!(page.status, 200, "{}", page.html);
    shown_number(&page.html)
}

fn audit_details(h: &Harness, event: &str) -> Vec<String> {
    cityauth_server::admin::audit(h.state(), None, 500)
        .unwrap()
        .into_iter()
        .filter(|e| e.event == event)
        .map(|e| e.detail)
        .collect()
}

fn access_code_sign_in(h: &Harness, code: &str) -> u16 {
    h.post(
        "/api/v1/signin/access-code",
        &json!({ "username": "alice", "code": code }),
    )
    .status
}

#[test]
fn a_verified_caller_gets_a_one_time_code_that_signs_them_in_once() {
    let d = desk();
    let b = operator_browser(&d);
    let verification = verify_alice(&d, &b);
    let issued = b.post(
        "/helpdesk/access-code",
        &[
            ("username", "alice"),
            ("verification", &verification),
            ("minutes", "30"),
            ("one_use", "yes"),
        ],
    );
    let code = shown_code(&issued);
    assert_eq!(code.len(), 19, "four groups of four: {code}");
    // Typed over the phone: lower case, no dashes.
    // A verification is no reset, approved or not: its id sets no password.
    let misuse = d.h.post(
        &format!("/api/v1/reset/{verification}/password"),
        &json!({ "password": "Another-Quiet-Lantern-77" }),
    );
    assert_eq!(misuse.status, 404, "{misuse:?}");
    let typed = code.replace('-', "").to_lowercase();
    assert_eq!(access_code_sign_in(&d.h, &typed), 200);
    assert_eq!(
        access_code_sign_in(&d.h, &code),
        401,
        "a one-time code, used twice"
    );
    let details = audit_details(&d.h, "access_code_issued");
    assert!(
        details.iter().any(|d| d.contains("by operator olga")
            && d.contains("valid 30 min, single use")
            && d.contains("caller verified")),
        "{details:?}"
    );
    assert!(
        !details
            .iter()
            .any(|d| d.contains(&typed) || d.contains(&code))
    );
}

#[test]
fn without_a_verification_the_operator_must_record_why_and_it_is_audited() {
    let d = desk();
    let b = operator_browser(&d);
    let refused = b.post(
        "/helpdesk/access-code",
        &[("username", "alice"), ("minutes", "30"), ("one_use", "yes")],
    );
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(
        refused.html.contains("Verify the caller first"),
        "{}",
        refused.html
    );
    let too_short = b.post(
        "/helpdesk/remove-phone",
        &[
            ("username", "alice"),
            ("device", &d.alice.id),
            ("reason", "lost"),
        ],
    );
    assert_eq!(too_short.status, 403);
    assert_eq!(
        d.h.state()
            .store()
            .devices_of(alice_id(&d.h))
            .unwrap()
            .len(),
        1
    );

    let reason = "caller's phone was stolen; identity checked by badge photo";
    let removed = b.post(
        "/helpdesk/remove-phone",
        &[
            ("username", "alice"),
            ("device", &d.alice.id),
            ("reason", reason),
        ],
    );
    assert_eq!(removed.status, 200, "{}", removed.html);
    assert!(
        d.h.state()
            .store()
            .devices_of(alice_id(&d.h))
            .unwrap()
            .is_empty()
    );
    // The lost phone's requests are refused from now on.
    assert_eq!(
        d.alice
            .request(&d.h, "GET", "/api/v1/device/challenges", None)
            .status,
        401
    );
    let details = audit_details(&d.h, "device_removed");
    assert!(
        details.iter().any(|x| x.contains("by operator olga")
            && x.contains("NOT verified")
            && x.contains(reason)),
        "{details:?}"
    );
}

#[test]
fn a_reusable_code_works_within_its_lifetime_and_lifetimes_stay_within_bounds() {
    let d = desk();
    let b = operator_browser(&d);
    let verification = verify_alice(&d, &b);
    for minutes in ["9", "481", "soon"] {
        let refused = b.post(
            "/helpdesk/access-code",
            &[
                ("username", "alice"),
                ("verification", &verification),
                ("minutes", minutes),
            ],
        );
        assert_eq!(refused.status, 400, "{minutes}: {}", refused.html);
    }
    let issued = b.post(
        "/helpdesk/access-code",
        &[
            ("username", "alice"),
            ("verification", &verification),
            ("minutes", "480"),
        ],
    );
    let code = shown_code(&issued);
    assert_eq!(access_code_sign_in(&d.h, &code), 200);
    assert_eq!(access_code_sign_in(&d.h, &code), 200);
}

#[test]
fn a_verification_counts_only_for_the_operator_who_started_it_and_its_employee() {
    let d = desk();
    d.h.add_user("otto");
    let otto_phone = d.h.enroll("otto");
    helpdesk::grant(d.h.state(), "otto", Role::Operator).unwrap();
    let olga = operator_browser(&d);
    let verification = verify_alice(&d, &olga);

    let otto = Browser::new(&d.h);
    assert_eq!(
        console_sign_in(&otto, &d.h, "otto", &otto_phone).status,
        303
    );
    let refused = otto.post(
        "/helpdesk/access-code",
        &[
            ("username", "alice"),
            ("verification", &verification),
            ("minutes", "30"),
        ],
    );
    assert_eq!(refused.status, 403, "another operator's verification");
    assert_eq!(
        otto.get(&format!("/helpdesk/verify/{verification}")).status,
        404
    );
    let other_employee = olga.post(
        "/helpdesk/access-code",
        &[
            ("username", "otto"),
            ("verification", &verification),
            ("minutes", "30"),
        ],
    );
    assert_eq!(other_employee.status, 403, "alice's verification, for otto");
}

#[test]
fn only_operators_act_only_auditors_read_and_a_revoked_role_ends_at_once() {
    let d = desk();
    // Signed out: the sign-in page.
    let nobody = Browser::new(&d.h);
    assert_eq!(nobody.get("/helpdesk/employee?username=alice").status, 401);
    assert_eq!(
        nobody
            .post("/helpdesk/unblock", &[("username", "alice")])
            .status,
        401
    );

    // An employee with a phone but no role: approved, then refused, with no console session.
    d.h.add_user("bob");
    let bob_phone = d.h.enroll("bob");
    let bob = Browser::new(&d.h);
    assert_eq!(console_sign_in(&bob, &d.h, "bob", &bob_phone).status, 403);
    assert!(bob.cookie("cityauth_helpdesk").is_none());

    // A portal session is not a console session, even an operator's: one without a phone
    // signs in to the portal with the password alone, which must not open the console.
    d.h.add_user("pam");
    helpdesk::grant(d.h.state(), "pam", Role::Operator).unwrap();
    let portal = Browser::new(&d.h);
    portal.sign_in_without_phone("pam", PASSWORD);
    let token = portal.cookie("cityauth_session").unwrap();
    portal.set_cookie("cityauth_helpdesk", &token);
    assert_eq!(portal.get("/helpdesk/employee?username=alice").status, 401);

    // The auditor reads the trail, and may not act.
    let aaron = Browser::new(&d.h);
    assert_eq!(
        console_sign_in(&aaron, &d.h, "aaron", &d.auditor).status,
        303
    );
    assert_eq!(aaron.get("/helpdesk/employee?username=alice").status, 403);
    let olga = operator_browser(&d);
    assert_eq!(olga.get("/helpdesk/employee?username=alice").status, 200);
    assert_eq!(olga.get("/helpdesk/audit").status, 403);
    let trail = aaron.get("/helpdesk/audit?username=alice");
    assert_eq!(trail.status, 200);
    assert!(trail.html.contains("helpdesk_lookup") && trail.html.contains("by operator olga"));

    // The role taken away: the next request is refused.
    assert!(helpdesk::revoke(d.h.state(), "olga", Role::Operator).unwrap());
    assert_eq!(olga.get("/helpdesk/employee?username=alice").status, 401);
}

#[test]
fn an_account_without_a_phone_cannot_sign_in_to_the_console() {
    let h = Harness::start();
    h.add_user("olga");
    helpdesk::grant(h.state(), "olga", Role::Operator).unwrap();
    let b = Browser::new(&h);
    let refused = b.post(
        "/helpdesk/signin",
        &[("username", "olga"), ("password", PASSWORD)],
    );
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(b.cookie("cityauth_helpdesk").is_none());
    assert_eq!(b.get("/helpdesk/employee?username=olga").status, 401);
}

#[test]
fn an_operator_clears_a_fraud_block_and_pushes_reach_the_phone_again() {
    let d = desk();
    let (reset, _) = d.h.start_reset("alice");
    let prompt = d.alice.poll(&d.h, 5).remove(0);
    assert_eq!(
        d.alice.answer(&d.h, &prompt, Decision::Fraud, None).status,
        200
    );
    assert_eq!(d.h.reset_state(&reset), "denied");
    let b = operator_browser(&d);
    let page = b.get("/helpdesk/employee?username=alice");
    assert!(page.html.contains("blocked"), "{}", page.html);
    let cleared = b.post("/helpdesk/unblock", &[("username", "alice")]);
    assert_eq!(cleared.status, 200, "{}", cleared.html);
    d.h.start_reset("alice");
    assert_eq!(
        d.alice.poll(&d.h, 5).len(),
        1,
        "pushes reach the phone again"
    );
    let details = audit_details(&d.h, "unblocked");
    assert!(
        details.iter().any(|x| x.contains("by operator olga")),
        "{details:?}"
    );
}

fn alice_id(h: &Harness) -> i64 {
    h.state().store().user_by_name("alice").unwrap().unwrap().id
}

#[test]
fn a_code_from_the_help_desk_resets_the_password_on_the_portal_without_the_phone() {
    let d = desk();
    let b = operator_browser(&d);
    let issued = b.post(
        "/helpdesk/access-code",
        &[
            ("username", "alice"),
            ("minutes", "30"),
            ("one_use", "yes"),
            (
                "reason",
                "phone lost on the train; verified by the manager's call",
            ),
        ],
    );
    let code = shown_code(&issued);
    let employee = Browser::new(&d.h);
    let form = employee.post(
        "/forgot/access-code",
        &[("username", "alice"), ("code", &code)],
    );
    assert_eq!(form.status, 200, "{}", form.html);
    let new = "Brand-New-Harbour-Lantern-58";
    let done = employee.post(
        "/forgot/password",
        &[("id", &field(&form.html, "id")), ("password", new)],
    );
    assert_eq!(done.status, 200, "{}", done.html);
    let sign_in = |password: &str| {
        d.h.post(
            "/api/v1/signin",
            &json!({ "username": "alice", "password": password }),
        )
        .status
    };
    assert_eq!(sign_in(new), 200, "the new password works");
    assert_eq!(sign_in(PASSWORD), 401, "the old one does not");
    let again = Browser::new(&d.h).post(
        "/forgot/access-code",
        &[("username", "alice"), ("code", &code)],
    );
    assert_eq!(again.status, 401, "the one-time code is spent");
    assert_eq!(audit_details(&d.h, "reset_verified").len(), 1);
}

/// Starts a verification of alice from `b`: (its id, the number the operator reads out).
fn start_verifying_alice(b: &Browser) -> (String, String) {
    let waiting = b.post("/helpdesk/verify", &[("username", "alice")]);
    assert_eq!(waiting.status, 200, "{}", waiting.html);
    (field(&waiting.html, "id"), shown_number(&waiting.html))
}

/// Asks for an access code for alice on the strength of `verification` alone (no override
/// reason): the status and the page.
fn code_on(b: &Browser, verification: &str) -> Page {
    b.post(
        "/helpdesk/access-code",
        &[
            ("username", "alice"),
            ("verification", verification),
            ("minutes", "30"),
            ("one_use", "yes"),
        ],
    )
}

/// Asserts the console refused the code as unverified and none was issued.
fn refused_as_unverified(d: &Desk, page: &Page, case: &str) {
    assert_eq!(page.status, 403, "{case}: {}", page.html);
    assert!(
        page.html.contains("Verify the caller first"),
        "{case}: {}",
        page.html
    );
    assert!(
        audit_details(&d.h, "access_code_issued").is_empty(),
        "{case}: a code was issued"
    );
}

/// The caller verification prompt on alice's phone.
fn verification_prompt(d: &Desk) -> cityauth_protocol::wire::SignedChallenge {
    d.alice
        .poll(&d.h, 5)
        .into_iter()
        .find(|c| c.challenge.kind == ChallengeKind::CallerVerification)
        .expect("a caller verification prompt")
}

#[test]
fn a_verification_still_pending_denied_wrongly_answered_or_reported_gives_no_code() {
    let d = desk();
    let b = operator_browser(&d);

    // Still pending: the caller has not answered yet. It lasts 15 minutes from its prompt.
    let (pending, _) = start_verifying_alice(&b);
    let flow = d.h.state().store().flow(&pending).unwrap().unwrap();
    assert_eq!(flow.expires_at - flow.created_at, 15 * 60);
    refused_as_unverified(&d, &code_on(&b, &pending), "pending");

    // Denied on the phone.
    let prompt = verification_prompt(&d);
    let denied = d.alice.answer(&d.h, &prompt, Decision::Deny, None);
    assert_eq!(denied.body["outcome"], "denied", "{denied:?}");
    refused_as_unverified(&d, &code_on(&b, &pending), "denied");

    // Answered with a wrong number, or with none.
    for missing in [false, true] {
        let (id, number) = start_verifying_alice(&b);
        let wrong = if number == "00" { "01" } else { "00" };
        let typed = (!missing).then_some(wrong);
        let prompt = verification_prompt(&d);
        let reply = d.alice.answer(&d.h, &prompt, Decision::Approve, typed);
        assert_eq!((reply.status, reply.error()), (422, "wrong_number"));
        refused_as_unverified(&d, &code_on(&b, &id), &format!("typed {typed:?}"));
    }

    // Reported as fraud ("It wasn't me"): last, since it blocks the pushes.
    let (id, _) = start_verifying_alice(&b);
    let prompt = verification_prompt(&d);
    let fraud = d.alice.answer(&d.h, &prompt, Decision::Fraud, None);
    assert_eq!(fraud.body["outcome"], "fraud_reported", "{fraud:?}");
    refused_as_unverified(&d, &code_on(&b, &id), "fraud reported");
    let status = b.get(&format!("/helpdesk/verify/{id}"));
    assert!(status.html.contains("\"denied\""), "{}", status.html);
}

#[test]
fn a_verification_past_its_lifetime_gives_no_code() {
    // Six seconds instead of fifteen minutes: the clock is the system's.
    let d = desk_with(|c| c.helpdesk.verification_seconds = 6);
    let b = operator_browser(&d);
    let verification = verify_alice(&d, &b);
    let within = code_on(&b, &verification);
    assert_eq!(within.status, 200, "within its lifetime: {}", within.html);
    let expires_at =
        d.h.state()
            .store()
            .flow(&verification)
            .unwrap()
            .unwrap()
            .expires_at;
    while common::now() <= expires_at {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let late = code_on(&b, &verification);
    assert_eq!(late.status, 403, "{}", late.html);
    assert!(
        late.html.contains("Verify the caller first"),
        "{}",
        late.html
    );
    assert_eq!(audit_details(&d.h, "access_code_issued").len(), 1);
}

#[test]
fn the_auditors_reading_of_the_trail_is_itself_audited() {
    let d = desk();
    let aaron = Browser::new(&d.h);
    assert_eq!(
        console_sign_in(&aaron, &d.h, "aaron", &d.auditor).status,
        303
    );
    assert_eq!(aaron.get("/helpdesk/audit?username=alice").status, 200);
    assert_eq!(aaron.get("/helpdesk/audit").status, 200);
    let reads: Vec<_> = cityauth_server::admin::audit(d.h.state(), None, 500)
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "helpdesk_audit_read")
        .map(|e| (e.username, e.detail))
        .collect();
    let aaron_name = Some("aaron".to_owned());
    assert_eq!(
        reads,
        vec![
            (aaron_name.clone(), "filter: everyone".to_owned()),
            (aaron_name, "filter: alice".to_owned()),
        ],
        "newest first"
    );
    // The next reader sees the earlier reads in the trail itself.
    let trail = aaron.get("/helpdesk/audit?username=aaron");
    assert!(
        trail.html.contains("helpdesk_audit_read") && trail.html.contains("filter: alice"),
        "{}",
        trail.html
    );
    // An operator's refused read is no read.
    let olga = operator_browser(&d);
    assert_eq!(olga.get("/helpdesk/audit").status, 403);
    assert_eq!(
        cityauth_server::admin::audit(d.h.state(), Some("olga"), 500)
            .unwrap()
            .iter()
            .filter(|e| e.event == "helpdesk_audit_read")
            .count(),
        0
    );
}
