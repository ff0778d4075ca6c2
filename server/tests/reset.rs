//! Self-service password reset: unknown users, the code alternative, the password policy,
//! rate limits and lockout.

mod common;

use common::*;
use serde_json::json;

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn reset_start_is_the_same_for_unknown_users() {
    let h = Harness::start();
    h.add_user("alice");
    let _device = h.enroll("alice");
    // The answers are alike; the time each takes is measured, not asserted: the figures of
    // `enumeration_timing_figures` (server/tests/enumeration.rs) are in docs/security.md.
    for _ in 0..3 {
        let known = h.post("/api/v1/reset/start", &json!({"username": "alice"}));
        let unknown = h.post("/api/v1/reset/start", &json!({"username": "mallory"}));
        assert_eq!((known.status, unknown.status), (200, 200));
        assert_eq!(keys(&known.body), keys(&unknown.body));
        for field in ["reset_id", "number"] {
            assert_eq!(
                known.body[field].as_str().unwrap().len(),
                unknown.body[field].as_str().unwrap().len()
            );
        }
        let unknown_id = unknown.body["reset_id"].as_str().unwrap();
        assert_eq!(h.reset_state(unknown_id), "pending");
        let code = h.post(
            &format!("/api/v1/reset/{unknown_id}/code"),
            &json!({"code": "123456"}),
        );
        assert_eq!((code.status, code.error()), (422, "wrong_code"));
    }
}

#[test]
fn a_code_from_the_app_verifies_the_reset() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let (reset, _) = h.start_reset("alice");
    let code = device.code();
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/code"),
        &json!({ "code": code }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(h.reset_state(&reset), "verified");
    assert!(device.poll(&h, 0).is_empty(), "the push is withdrawn");
    // The same code cannot verify another reset.
    let (second, _) = h.start_reset("alice");
    let reply = h.post(
        &format!("/api/v1/reset/{second}/code"),
        &json!({ "code": code }),
    );
    assert_eq!((reply.status, reply.error()), (422, "wrong_code"));
}

#[test]
fn at_most_five_code_tries_per_reset() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let (reset, _) = h.start_reset("alice");
    let right = device.code();
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let reply = h.post(
            &format!("/api/v1/reset/{reset}/code"),
            &json!({"code": wrong}),
        );
        assert_eq!((reply.status, reply.error()), (422, "wrong_code"));
    }
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/code"),
        &json!({"code": right}),
    );
    assert_eq!((reply.status, reply.error()), (423, "locked"));
    assert_eq!(h.reset_state(&reset), "pending");
}

#[test]
fn repeated_failures_lock_the_account() {
    let h = Harness::with_config(|c| {
        c.limits.lock_after = 6;
        c.limits.code_per_user.max = 100;
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    let mut last = None;
    for _ in 0..2 {
        let (reset, _) = h.start_reset("alice");
        for _ in 0..3 {
            last = Some(h.post(
                &format!("/api/v1/reset/{reset}/code"),
                &json!({"code": "99999x"}),
            ));
        }
    }
    assert_eq!(last.unwrap().error(), "wrong_code");
    // Six failures across two resets: a fresh reset with the right code is locked out.
    let (reset, _) = h.start_reset("alice");
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/code"),
        &json!({"code": device.code()}),
    );
    assert_eq!((reply.status, reply.error()), (423, "locked"));
}

#[test]
fn new_passwords_must_pass_the_policy() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let reset = h.verified_reset("alice", &device);
    let path = format!("/api/v1/reset/{reset}/password");
    for (password, why) in [
        ("Short-1a-Orbit", "15 characters"),
        (&*"Zq7!-xP".repeat(40), "256 characters"),
        ("password12345678", "common"),
        ("qwertyuiop123456", "common"),
        ("My-ALICE-Lantern-Orbit-42", "username"),
    ] {
        let reply = h.post(&path, &json!({ "password": password }));
        assert_eq!(
            (reply.status, reply.error()),
            (422, "password_policy"),
            "{password}"
        );
        let message = reply.body["message"].as_str().unwrap();
        assert!(message.contains(why), "{message} should say {why}");
        assert!(
            !message.contains(password),
            "the message does not echo the password"
        );
    }
    let reply = h.post(&path, &json!({ "password": "Velvet-Harbor-Quince-Drum-8" }));
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[test]
fn reset_starts_are_rate_limited_per_username_and_per_ip() {
    let h = Harness::start();
    h.add_user("alice");
    for _ in 0..5 {
        h.start_reset("alice");
    }
    let reply = h.post("/api/v1/reset/start", &json!({"username": "ALICE"}));
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
    let retry: u64 = reply.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry));
    // Unknown names are limited alike.
    for _ in 0..5 {
        h.start_reset("nobody");
    }
    assert_eq!(
        h.post("/api/v1/reset/start", &json!({"username": "nobody"}))
            .status,
        429
    );

    let h = Harness::with_config(|c| c.limits.reset_start_per_ip.max = 4);
    for name in ["a", "b", "c", "d"] {
        h.start_reset(name);
    }
    let reply = h.post("/api/v1/reset/start", &json!({"username": "e"}));
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
    assert!(reply.retry_after.is_some());
}

#[test]
fn code_checks_are_rate_limited_per_ip() {
    let h = Harness::with_config(|c| c.limits.code_per_ip.max = 3);
    let (reset, _) = h.start_reset("nobody");
    for _ in 0..3 {
        let reply = h.post(
            &format!("/api/v1/reset/{reset}/code"),
            &json!({"code": "123456"}),
        );
        assert_eq!(reply.status, 422);
    }
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/code"),
        &json!({"code": "123456"}),
    );
    assert_eq!((reply.status, reply.error()), (429, "rate_limited"));
}

#[test]
fn unknown_resets_and_bad_bodies() {
    let h = Harness::start();
    let reply = h.get("/api/v1/reset/no-such-reset");
    assert_eq!((reply.status, reply.error()), (404, "not_found"));
    let reply = h.post("/api/v1/reset/start", &json!({"name": "alice"}));
    assert_eq!((reply.status, reply.error()), (400, "bad_request"));
    let reply = h.post("/api/v1/reset/start", &json!({"username": ""}));
    assert_eq!((reply.status, reply.error()), (400, "bad_request"));
}

/// A claimed reset as a server killed mid-write leaves it: claimed at `claimed_at` by a
/// request that recorded `written` (sealed for the reset, as the server seals it), and, if
/// `took`, the directory (the built-in store) holding `written`. The account's row id.
fn cut_write(h: &Harness, reset: &str, written: &str, claimed_at: u64, took: bool) -> i64 {
    let state = h.state();
    let user = state.store().user_by_name("alice").unwrap().unwrap();
    let sealed = state
        .kek()
        .seal(
            &cityauth_server::kek::reset_password_aad(reset),
            written.as_bytes(),
        )
        .unwrap();
    assert!(
        state
            .store()
            .flow_claim(reset, user.id, claimed_at, Some(&sealed))
            .unwrap()
    );
    if took {
        let hash = cityauth_server::password::hash(written).unwrap();
        state.store().user_set_password(user.id, &hash).unwrap();
    }
    user.id
}

/// Whether reset `id`'s row holds a sealed password (read from the database itself).
fn recorded(h: &Harness, id: &str) -> bool {
    let sql = format!("SELECT pending_passwords IS NOT NULL FROM flows WHERE id = '{id}'");
    if let Some(out) = h.psql(&sql) {
        return out.trim() == "t";
    }
    let db = rusqlite::Connection::open(h.db_path()).unwrap();
    db.query_row(&sql, [], |r| r.get::<_, bool>(0)).unwrap()
}

/// Whether `password` is Alice's now.
fn is_in_effect(h: &Harness, password: &str) -> bool {
    cityauth_server::password::verify(password, &h.password_hash_of("alice"))
}

#[test]
fn a_claimed_reset_whose_password_took_is_finished_when_submitted_again_without_a_second_write() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let reset = h.verified_reset("alice", &device);
    let first = "Velvet-Harbor-Quince-Drum-1";
    cut_write(&h, &reset, first, now(), true);
    let written = h.password_hash_of("alice");
    let generation = h.session_generation_of("alice");
    assert!(recorded(&h, &reset), "the claim recorded its password");
    assert_eq!(h.reset_state(&reset), "verified", "no bind per status poll");

    let again = "Amber-Lattice-Comet-Fig-2";
    let path = format!("/api/v1/reset/{reset}/password");
    let reply = h.post(&path, &json!({ "password": again }));
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["state"], "done");
    assert_eq!(h.reset_state(&reset), "done");
    assert_eq!(
        h.password_hash_of("alice"),
        written,
        "nothing written again"
    );
    assert!(is_in_effect(&h, first) && !is_in_effect(&h, again));
    assert!(!recorded(&h, &reset), "the sealed password is erased");
    assert!(
        h.session_generation_of("alice") > generation,
        "every session ended"
    );
    let events = h.audit_events("alice");
    let completions: Vec<_> = events
        .iter()
        .filter(|(event, _)| event == "password_reset")
        .collect();
    assert_eq!(completions.len(), 1, "{events:?}");
    assert!(
        completions[0].1.contains("nothing written again"),
        "{events:?}"
    );
    for (_, detail) in &events {
        assert!(
            !detail.contains(first) && !detail.contains(again),
            "{detail}"
        );
    }
    let late = h.post(&path, &json!({ "password": again }));
    assert_eq!((late.status, late.error()), (409, "already_answered"));
}

#[test]
fn a_young_claim_whose_password_did_not_take_answers_being_set_and_writes_nothing() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let reset = h.verified_reset("alice", &device);
    cut_write(&h, &reset, "Velvet-Harbor-Quince-Drum-1", now(), false);
    let before = h.password_hash_of("alice");
    let path = format!("/api/v1/reset/{reset}/password");
    let reply = h.post(&path, &json!({ "password": "Amber-Lattice-Comet-Fig-2" }));
    assert_eq!((reply.status, reply.error()), (409, "already_answered"));
    let message = reply.body["message"].as_str().unwrap();
    assert!(
        message.contains("being set") && message.contains("try again in a minute"),
        "{message}"
    );
    assert_eq!(h.password_hash_of("alice"), before, "nothing written");
    assert!(recorded(&h, &reset), "the claim holds");
    let unlock = h.post(&format!("/api/v1/reset/{reset}/unlock"), &json!({}));
    assert_eq!((unlock.status, unlock.error()), (409, "already_answered"));
    assert_eq!(h.reset_state(&reset), "verified");
}

#[test]
fn a_stale_claim_whose_password_did_not_take_is_taken_over_once() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let reset = h.verified_reset("alice", &device);
    let first = "Velvet-Harbor-Quince-Drum-1";
    let stale = now() - cityauth_server::store::CLAIM_SECONDS - 5;
    cut_write(&h, &reset, first, stale, false);
    let path = format!("/api/v1/reset/{reset}/password");
    let passwords = ["Amber-Lattice-Comet-Fig-2", "Copper-Meadow-Lantern-Kite-3"];
    // Two resubmissions at once: one takes the claim over and writes; the other finds it
    // young (409) or its password in effect (done, nothing written).
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let sending: Vec<_> = passwords
            .iter()
            .map(|p| {
                let (h, path) = (&h, &path);
                scope.spawn(move || h.post(path, &json!({ "password": p })).status)
            })
            .collect();
        sending.into_iter().map(|s| s.join().unwrap()).collect()
    });
    println!("two resubmissions of a stale claim: {statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [200, 409].contains(s)),
        "{statuses:?}"
    );
    let in_effect: Vec<_> = passwords.iter().filter(|p| is_in_effect(&h, p)).collect();
    assert_eq!(in_effect.len(), 1, "one write");
    assert!(!is_in_effect(&h, first));
    assert_eq!(h.reset_state(&reset), "done");
    assert!(!recorded(&h, &reset), "the sealed password is erased");
    let events = h.audit_events("alice");
    let count = |name: &str| events.iter().filter(|(e, _)| e == name).count();
    assert_eq!(count("reset_claim_taken_over"), 1, "{events:?}");
    assert_eq!(count("password_reset"), 1, "{events:?}");
}

#[test]
fn an_unlock_of_a_claimed_reset_whose_password_took_finishes_it() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let reset = h.verified_reset("alice", &device);
    let first = "Velvet-Harbor-Quince-Drum-1";
    cut_write(&h, &reset, first, now(), true);
    let written = h.password_hash_of("alice");
    let reply = h.post(&format!("/api/v1/reset/{reset}/unlock"), &json!({}));
    assert_eq!((reply.status, &reply.body["state"]), (200, &json!("done")));
    assert_eq!(
        h.password_hash_of("alice"),
        written,
        "nothing written again"
    );
    assert!(!recorded(&h, &reset), "the sealed password is erased");
    let events = h.audit_events("alice");
    let count = |name: &str| events.iter().filter(|(e, _)| e == name).count();
    assert_eq!(
        (count("password_reset"), count("account_unlocked")),
        (1, 0),
        "{events:?}"
    );
}
