//! The portal on a directory: the directory's policy shown on the new-password page, its
//! refusal shown there with the reset still usable, the unlock button, and a password
//! change that waits for the phone with both passwords sealed, never in clear.

mod common;

use std::sync::Arc;

use cityauth_protocol::wire::{ChallengeKind, Decision};
use cityauth_server::DirectoryChoice;
use cityauth_server::directory::PasswordPolicy;
use common::browser::{Browser, field, shown_number};
use common::directory::TestDirectory;
use common::*;

const NEW_PASSWORD: &str = "Velvet-Harbor-Quince-Drum-8";

fn on(directory: &Arc<TestDirectory>) -> Harness {
    let directory = directory.clone();
    Harness::with_config(move |c| c.directory = DirectoryChoice::External(directory))
}

/// A reset started in `browser` and verified with a code from the app: the page then shown.
fn verified_in_portal(browser: &Browser, device: &TestDevice, username: &str) -> (String, String) {
    let waiting = browser.post("/forgot", &[("username", username)]);
    assert_eq!(waiting.status, 200, "{}", waiting.html);
    let id = field(&waiting.html, "id");
    let next = browser.post("/forgot/code", &[("id", &id), ("code", &device.code())]);
    assert_eq!(next.status, 200, "{}", next.html);
    (id, next.html)
}

#[test]
fn the_new_password_page_shows_the_directory_policy_and_its_refusal() {
    let directory = TestDirectory::new();
    directory.add("dana", PASSWORD);
    directory.set_policy(PasswordPolicy {
        min_length: 20,
        complexity: true,
        history: 24,
        min_age_seconds: 0,
    });
    let h = on(&directory);
    let device = h.enroll("dana");
    let browser = Browser::new(&h);
    let (id, page) = verified_in_portal(&browser, &device, "dana");
    assert!(page.contains("at least 20 characters"), "{page}");
    assert!(page.contains("none of your last 24 passwords"), "{page}");
    assert!(page.contains("minlength=\"20\""), "{page}");
    assert!(
        !page.contains("Your account is locked"),
        "not locked: {page}"
    );
    // The directory's history refuses the current password: the sentence, the form again.
    let refused = browser.post("/forgot/password", &[("id", &id), ("password", PASSWORD)]);
    assert_eq!(refused.status, 422);
    assert!(refused.html.contains("role=\"alert\""));
    assert!(
        refused.html.contains("you used it before"),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("Choose a new password"));
    let done = browser.post(
        "/forgot/password",
        &[("id", &id), ("password", "Amber-Signal-Orchard-4711")],
    );
    assert_eq!(done.status, 200, "{}", done.html);
    assert_eq!(directory.password("dana"), "Amber-Signal-Orchard-4711");
}

#[test]
fn the_unlock_button_unlocks_the_account_and_keeps_the_password() {
    let directory = TestDirectory::new();
    directory.add("dana", PASSWORD);
    let h = on(&directory);
    let device = h.enroll("dana");
    directory.set_locked("dana", true);
    let browser = Browser::new(&h);
    let (id, page) = verified_in_portal(&browser, &device, "dana");
    assert!(page.contains("Your account is locked"), "{page}");
    assert!(page.contains("Unlock my account without changing the password"));
    let unlocked = browser.post("/forgot/unlock", &[("id", &id)]);
    assert_eq!(unlocked.status, 200, "{}", unlocked.html);
    assert!(unlocked.html.contains("Your password is unchanged"));
    assert!(!directory.locked("dana"));
    assert_eq!(directory.password("dana"), PASSWORD);
}

fn pending_passwords(h: &Harness) -> Vec<Option<Vec<u8>>> {
    let db = rusqlite::Connection::open(&h.db).unwrap();
    let mut statement = db
        .prepare("SELECT pending_passwords FROM flows WHERE kind = 'password_change'")
        .unwrap();
    statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Signs `browser` in as dana with the phone's approval.
fn signed_in<'h>(h: &'h Harness, device: &TestDevice) -> Browser<'h> {
    let browser = Browser::new(h);
    let waiting = browser.post("/signin", &[("username", "dana"), ("password", PASSWORD)]);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let challenge = device.poll(h, 5).remove(0);
    device.answer(h, &challenge, Decision::Approve, Some(&number));
    assert_eq!(browser.post("/signin/continue", &[("id", &id)]).status, 303);
    browser
}

#[test]
fn a_change_the_directory_refuses_shows_its_sentence_and_erases_the_sealed_passwords() {
    let directory = TestDirectory::new();
    directory.add("dana", PASSWORD);
    let h = on(&directory);
    let device = h.enroll("dana");
    let browser = signed_in(&h, &device);
    // Our rules pass it; the directory's history refuses the current password.
    let changed = browser.post("/password", &[("current", PASSWORD), ("new", PASSWORD)]);
    assert_eq!(changed.status, 200, "{}", changed.html);
    let (id, number) = (field(&changed.html, "id"), shown_number(&changed.html));
    let challenge = device.poll(&h, 5).remove(0);
    device.answer(&h, &challenge, Decision::Approve, Some(&number));
    let refused = browser.post("/password/continue", &[("id", &id)]);
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("you used it before"),
        "{}",
        refused.html
    );
    assert_eq!(pending_passwords(&h), vec![None], "erased once refused");
    assert_eq!(directory.writes(), 0);
}

#[test]
fn a_password_change_waits_with_both_passwords_sealed_and_erases_them_when_done() {
    let directory = TestDirectory::new();
    directory.add("dana", PASSWORD);
    let h = on(&directory);
    let device = h.enroll("dana");
    let browser = signed_in(&h, &device);

    let changed = browser.post("/password", &[("current", PASSWORD), ("new", NEW_PASSWORD)]);
    assert_eq!(changed.status, 200, "{}", changed.html);
    let (id, number) = (field(&changed.html, "id"), shown_number(&changed.html));
    let sealed = pending_passwords(&h)
        .remove(0)
        .expect("kept until the phone approves");
    for secret in [PASSWORD, NEW_PASSWORD] {
        assert!(
            !sealed.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "never in clear"
        );
    }
    let database = std::fs::read(&h.db).unwrap();
    let wal = std::fs::read(h.db.with_extension("db-wal")).unwrap_or_default();
    for bytes in [&database, &wal] {
        assert!(
            !bytes
                .windows(NEW_PASSWORD.len())
                .any(|w| w == NEW_PASSWORD.as_bytes())
        );
    }
    assert_eq!(
        directory.password("dana"),
        PASSWORD,
        "nothing before the approval"
    );
    let challenge = device.poll(&h, 5).remove(0);
    assert_eq!(challenge.challenge.kind, ChallengeKind::PasswordChange);
    device.answer(&h, &challenge, Decision::Approve, Some(&number));
    let done = browser.post("/password/continue", &[("id", &id)]);
    assert_eq!(done.status, 303, "{}", done.html);
    assert_eq!(
        directory.password("dana"),
        NEW_PASSWORD,
        "changed as the user"
    );
    assert_eq!(pending_passwords(&h), vec![None], "erased on completion");
}

#[test]
fn a_locked_out_employee_is_pointed_at_the_unlock_on_the_sign_in_page() {
    let directory = TestDirectory::new();
    directory.add("dana", PASSWORD);
    let h = on(&directory);
    directory.set_locked("dana", true);
    let page = Browser::new(&h).post("/signin", &[("username", "dana"), ("password", PASSWORD)]);
    assert_eq!(page.status, 423);
    assert!(
        page.html.contains("can unlock it with your phone"),
        "{}",
        page.html
    );
}

#[test]
fn an_empty_current_password_is_wrong_without_asking_the_directory() {
    let directory = TestDirectory::new();
    directory.add("dana", PASSWORD);
    let h = on(&directory);
    let browser = Browser::new(&h);
    let session = cityauth_server::admin::create_session(h.state(), "dana", 600).unwrap();
    browser.set_cookie("cityauth_session", &session);
    let binds = directory.binds();
    let changed = browser.post("/password", &[("current", ""), ("new", NEW_PASSWORD)]);
    assert_eq!(changed.status, 401, "{}", changed.html);
    assert_eq!(directory.binds(), binds, "no bind with an empty password");
}
