//! Passwords: PHC-string Argon2id (the earlier form rehashed at sign-in), NFKC, and the
//! NIST SP 800-63B rev. 4 policy, over HTTP.

mod common;

use argon2::password_hash::phc::PasswordHash;
use cityauth_server::admin;
use cityauth_server::password::Blocklist;
use common::*;
use serde_json::json;

fn sign_in(h: &Harness, username: &str, password: &str) -> Reply {
    h.post(
        "/api/v1/signin",
        &json!({"username": username, "password": password}),
    )
}

fn stored_hash(h: &Harness, username: &str) -> String {
    h.state()
        .store()
        .user_by_name(username)
        .unwrap()
        .unwrap()
        .password_hash
}

/// A hash as the server stored it before PHC strings: base64url salt and hash.
fn earlier_form(password: &str) -> String {
    use argon2::{Algorithm, Argon2, Params, Version};
    // 0xfb bytes encode with `-` and `_` in base64url: not a PHC string.
    let salt = [0xfbu8; 16];
    let mut out = [0u8; 32];
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, Some(32)).unwrap(),
    )
    .hash_password_into(password.as_bytes(), &salt, &mut out)
    .unwrap();
    let encode = cityauth_protocol::encoding::encode;
    format!(
        "$argon2id$v=19$m=19456,t=2,p=1${}${}",
        encode(&salt),
        encode(&out)
    )
}

#[test]
fn a_hash_in_the_earlier_form_is_rehashed_to_a_phc_string_at_the_next_sign_in() {
    let h = Harness::start();
    h.add_user("alice");
    let id = h.state().store().user_by_name("alice").unwrap().unwrap().id;
    let old = earlier_form(PASSWORD);
    assert!(
        PasswordHash::new(&old).is_err(),
        "the earlier form is not PHC"
    );
    h.state().store().user_set_password(id, &old).unwrap();

    let wrong = sign_in(&h, "alice", "Not-The-Password-At-All");
    assert_eq!(wrong.status, 401);
    assert_eq!(
        stored_hash(&h, "alice"),
        old,
        "a wrong password rehashes nothing"
    );

    let reply = sign_in(&h, "alice", PASSWORD);
    assert_eq!(reply.status, 200, "{reply:?}");
    let new = stored_hash(&h, "alice");
    assert_ne!(new, old);
    let parsed = PasswordHash::new(&new).expect("a PHC string");
    assert_eq!(parsed.algorithm.as_str(), "argon2id");
    assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{new}");
    assert!(!cityauth_server::password::needs_rehash(&new));

    assert_eq!(sign_in(&h, "alice", PASSWORD).status, 200);
    assert_eq!(stored_hash(&h, "alice"), new, "rehashed once");
    let audit = admin::audit(h.state(), Some("alice"), 20).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.event == "password_rehashed")
            .count(),
        1
    );
}

#[test]
fn the_composed_and_decomposed_forms_of_a_password_both_sign_in() {
    let h = Harness::start();
    let composed = "Cr\u{e8}me-Br\u{fb}l\u{e9}e-Orbit-42";
    let decomposed = "Cre\u{300}me-Bru\u{302}le\u{301}e-Orbit-42";
    assert_ne!(composed, decomposed);
    admin::create_user(h.state(), "alice", "Alice Example", composed).unwrap();
    admin::create_user(h.state(), "bob", "Bob Example", decomposed).unwrap();
    for user in ["alice", "bob"] {
        for form in [composed, decomposed] {
            let reply = sign_in(&h, user, form);
            assert_eq!(reply.status, 200, "{user} with {form:?}: {reply:?}");
        }
    }
    assert_eq!(
        sign_in(&h, "alice", "Creme-Brulee-Orbit-42").status,
        401,
        "NFKC keeps accents: a different password"
    );
}

#[test]
fn new_passwords_follow_nist_800_63b_rev4() {
    let h = Harness::with_config(|config| {
        config.password_blocklist =
            Blocklist::parse("# the City's own list\nHarbour-Lantern-Velvet\n");
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    let reset = h.verified_reset("alice", &device);
    let path = format!("/api/v1/reset/{reset}/password");
    for (password, why) in [
        ("Fourteen-chars", "15 characters"),
        ("harbour-lantern-velvet", "common"),
        ("HARBOUR-LANTERN-VELVET-2025", "common"),
        ("xalicex-orbit-lantern", "username"),
    ] {
        let reply = h.post(&path, &json!({ "password": password }));
        assert_eq!(
            (reply.status, reply.error()),
            (422, "password_policy"),
            "{password}"
        );
        let message = reply.body["message"].as_str().unwrap();
        assert!(
            message.contains(why),
            "{password}: {message} should say {why}"
        );
    }
    // The City's list replaced the default one (on which this repeat of `iloveyou` is),
    // and no composition rule applies: all lower case, no digit or symbol, 64 characters.
    let long = "iloveyou".repeat(8);
    assert_eq!(long.chars().count(), 64);
    let default = cityauth_server::password::check_policy(
        &Blocklist::builtin(),
        &long,
        "alice",
        "Alice Example",
    );
    assert!(default.is_err(), "the default list refuses it");
    let reply = h.post(&path, &json!({ "password": long }));
    assert_eq!(reply.status, 200, "{reply:?}");
}
