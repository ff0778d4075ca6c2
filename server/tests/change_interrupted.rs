//! A password change whose directory write was cut by a stopped server (the flow left
//! claimed): continued again, it is finished if the new password is in effect, with nothing
//! written again, and otherwise answered "being set" while the claim is young.

mod common;

use cityauth_protocol::wire::Decision;
use common::browser::{Browser, field, shown_number};
use common::*;

const NEW: &str = "Velvet-Harbor-Quince-Drum-8";

/// Alice signed in with her phone, a change to [`NEW`] approved on it; the browser and the
/// change's id.
fn approved_change(h: &Harness) -> (Browser<'_>, String) {
    h.add_user("alice");
    let device = h.enroll("alice");
    let browser = Browser::new(h);
    let waiting = browser.post("/signin", &[("username", "alice"), ("password", PASSWORD)]);
    let (id, number) = (field(&waiting.html, "id"), shown_number(&waiting.html));
    let challenge = device.poll(h, 5).remove(0);
    device.answer(h, &challenge, Decision::Approve, Some(&number));
    assert_eq!(browser.post("/signin/continue", &[("id", &id)]).status, 303);
    let changed = browser.post("/password", &[("current", PASSWORD), ("new", NEW)]);
    let (id, number) = (field(&changed.html, "id"), shown_number(&changed.html));
    let challenge = device.poll(h, 5).remove(0);
    let answered = device.answer(h, &challenge, Decision::Approve, Some(&number));
    assert_eq!(answered.status, 200);
    (browser, id)
}

/// What a server stopped mid-write leaves: the change claimed now, and (when `took`) the
/// new password in effect in the built-in directory. Alice's id.
fn cut_write(h: &Harness, change: &str, took: bool) -> i64 {
    let store = h.state().store();
    let user = store.user_by_name("alice").unwrap().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(store.flow_claim(change, user.id, now, None).unwrap());
    if took {
        // The hash swapped without ending sessions: as a write to AD or LDAP leaves this
        // server's sessions (the built-in store's own write ends them, and the browser then
        // signs in again with the new password).
        let hash = cityauth_server::password::hash(NEW).unwrap();
        assert!(
            store
                .user_rehash_password(user.id, &user.password_hash, &hash)
                .unwrap()
        );
    }
    user.id
}

#[test]
fn a_claimed_change_whose_password_took_is_finished_when_continued_without_a_second_write() {
    let h = Harness::start();
    let (browser, change) = approved_change(&h);
    let user_id = cut_write(&h, &change, true);
    let written = h.password_hash_of("alice");
    let generation = h.session_generation_of("alice");

    let continued = browser.post("/password/continue", &[("id", &change)]);
    assert_eq!(continued.status, 303, "{}", continued.html);
    assert_eq!(
        h.password_hash_of("alice"),
        written,
        "nothing written again"
    );
    let after = h.session_generation_of("alice");
    assert!(
        after > generation,
        "every session ended: {generation} then {after}"
    );
    assert_eq!(
        h.state()
            .store()
            .password_change_pending(&change, user_id)
            .unwrap(),
        None,
        "the sealed pair is erased"
    );
    let events = h.audit_events("alice");
    let completions: Vec<_> = events
        .iter()
        .filter(|(event, detail)| event == "password_changed" && detail.contains("interrupted"))
        .collect();
    assert_eq!(completions.len(), 1, "{events:?}");
    for (_, detail) in &events {
        assert!(
            !detail.contains(NEW) && !detail.contains(PASSWORD),
            "{detail}"
        );
    }
    let again = browser.post("/password/continue", &[("id", &change)]);
    assert_eq!(again.status, 409, "a change completes once");
    let signed_in = Browser::new(&h).post("/signin", &[("username", "alice"), ("password", NEW)]);
    assert_eq!(signed_in.status, 200, "the new password signs in");
}

#[test]
fn a_young_claim_whose_change_did_not_take_answers_being_set_and_writes_nothing() {
    let h = Harness::start();
    let (browser, change) = approved_change(&h);
    let user_id = cut_write(&h, &change, false);
    let before = h.password_hash_of("alice");
    let continued = browser.post("/password/continue", &[("id", &change)]);
    assert_eq!(continued.status, 409, "{}", continued.html);
    assert_eq!(h.password_hash_of("alice"), before, "nothing written");
    assert!(
        h.state()
            .store()
            .password_change_pending(&change, user_id)
            .unwrap()
            .is_some(),
        "the claim and its sealed pair hold"
    );
}
