//! End to end on LDAP: the real server on loopback with its accounts in a real slapd
//! (ppolicy, LDAPS, a least-privilege service account), phones with real vaults, and the
//! reset portal's pages over HTTP with a browser's cookie. Each test has a slapd of its own.

use std::sync::Arc;

use cityauth_e2e::City;
use cityauth_e2e::portal::Browser;
use cityauth_e2e::slapd::{self, ADMINS_GROUP, FIRST_PASSWORD, SCOPE_GROUP, Slapd};
use cityauth_server::directory::openldap::OpenLdap;

const NEW_PASSWORD: &str = "Velvet-Quince-Drum-2025";

/// The server on `server`'s directory, after the startup check (as `serve` starts it).
fn city_on(server: &Slapd) -> City {
    City::checked_on(Arc::new(
        OpenLdap::new(server.settings()).expect("valid settings"),
    ))
}

#[test]
fn an_employee_only_in_the_directory_resets_the_directory_password_from_the_portal() {
    let server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = city.phone_for("alice");

    let browser = Browser::new(&city.url());
    let (id, _form) = browser.verified_reset("alice", &phone);

    // A password the directory remembers: ppolicy's history refuses it, said in words,
    // and the reset stays verified.
    let refused = browser.new_password(&id, FIRST_PASSWORD);
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("you used it before"),
        "{}",
        refused.html
    );
    // The form again, for the same verified reset (the API does not show a portal's reset
    // to another browser).
    assert_eq!(
        refused.field("id").as_deref(),
        Some(id.as_str()),
        "the reset is still open"
    );
    assert!(server.bind("alice", FIRST_PASSWORD), "nothing changed");

    let done = browser.new_password(&id, NEW_PASSWORD);
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Password changed"), "{}", done.html);
    assert!(
        server.bind("alice", NEW_PASSWORD),
        "the directory has the new password"
    );
    assert!(!server.bind("alice", FIRST_PASSWORD), "and not the old one");
    assert_eq!(city.sign_in("alice", NEW_PASSWORD).0, 200);
    // The reset is done: it sets no second password.
    let again = browser.new_password(&id, "Copper-Meadow-Lark-2026");
    assert_ne!(again.status, 200, "{}", again.html);
    assert!(server.bind("alice", NEW_PASSWORD));
}

#[test]
fn disabled_out_of_scope_protected_and_injected_names_answer_as_unknown() {
    let server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    server.add_user("dis", "Disabled Employee", &[SCOPE_GROUP]);
    server.add_user("out", "Former Employee", &[SCOPE_GROUP]);
    server.add_user("root", "Directory Admin", &[SCOPE_GROUP, ADMINS_GROUP]);
    let city = city_on(&server);
    let alice = city.phone_for("alice");
    let dis = city.phone_for("dis");
    let out = city.phone_for("out");
    server.disable("dis");
    server.remove_member(SCOPE_GROUP, &Slapd::user_dn("out"));

    let keys = |answer: &Option<cityauth_protocol::wire::ResetStartResponse>| {
        let value = serde_json::to_value(answer.as_ref().expect("an answer")).unwrap();
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let (unknown_status, unknown) = city.start_reset("nobody");
    for name in [
        "dis",
        "out",
        "root",
        "*",
        "al*",
        "*)(uid=*",
        "alice)(|(uid=*",
    ] {
        let (status, answer) = city.start_reset(name);
        assert_eq!(status, unknown_status, "{name}");
        assert_eq!(keys(&answer), keys(&unknown), "{name}");
    }
    for (who, phone) in [("alice", &alice), ("dis", &dis), ("out", &out)] {
        assert!(
            phone.device().pending_challenges(0).unwrap().is_empty(),
            "no push to {who}"
        );
    }
    // Signing in with the right password: the same refusal as an unknown name.
    let nobody = city.sign_in("nobody", FIRST_PASSWORD);
    assert_eq!(nobody.0, 401);
    for name in ["dis", "out", "*", "al*"] {
        let answer = city.sign_in(name, FIRST_PASSWORD);
        assert_eq!(
            (answer.0, &answer.1["error"]),
            (nobody.0, &nobody.1["error"]),
            "{name}"
        );
    }
    assert!(
        server.bind("root", FIRST_PASSWORD),
        "the admin's password is untouched"
    );
}

#[test]
fn a_protected_admin_cannot_be_reset_even_with_an_enrolled_phone() {
    let server = Slapd::start();
    server.add_user("root", "Directory Admin", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = city.phone_for("root");
    server.add_member(slapd::IT_GROUP, &Slapd::user_dn("root"));
    let (status, _) = city.start_reset("root");
    assert_eq!(status, 200);
    assert!(
        phone.device().pending_challenges(0).unwrap().is_empty(),
        "no push to a protected admin"
    );
    assert!(server.bind("root", FIRST_PASSWORD));
}

#[test]
fn an_account_locked_by_wrong_passwords_is_unlocked_by_the_phone_keeping_its_password() {
    let server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = city.phone_for("alice");
    // Locked out for real: ppolicy counted the wrong binds (pwdMaxFailure).
    server.lock_out("alice");
    assert!(!server.bind("alice", FIRST_PASSWORD), "slapd locked it");
    assert_eq!(city.sign_in("alice", FIRST_PASSWORD).0, 423);

    let reset = city.verified_reset("alice", &phone);
    let (status, _) = city.post(&format!("/api/v1/reset/{reset}/unlock"), b"{}".to_vec());
    assert_eq!(status, 200);
    assert!(
        server.bind("alice", FIRST_PASSWORD),
        "unlocked, same password"
    );
    assert_eq!(city.sign_in("alice", FIRST_PASSWORD).0, 200);
}

#[test]
fn the_directory_unreachable_mid_reset_loses_nothing_and_the_retry_succeeds() {
    let mut server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = city.phone_for("alice");
    let reset = city.verified_reset("alice", &phone);
    server.stop();
    let (status, body) = city.set_password(&reset, NEW_PASSWORD);
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("directory_unavailable"))
    );
    assert!(
        body["message"].as_str().unwrap_or("").contains("try again"),
        "{body}"
    );
    assert_eq!(city.reset_state(&reset), "verified");
    assert_eq!(
        city.audited("alice", "directory_unavailable"),
        1,
        "the audit says what happened: {:?}",
        city.audit("alice")
    );
    server.restart();
    assert!(server.bind("alice", FIRST_PASSWORD), "nothing half-done");
    let (status, body) = city.set_password(&reset, NEW_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert!(server.bind("alice", NEW_PASSWORD));
    assert!(!server.bind("alice", FIRST_PASSWORD));
}

#[test]
fn a_rename_in_the_directory_keeps_the_phone() {
    let server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = city.phone_for("alice");
    server.rename("alice", "alice.wed");
    let (status, _) = city.start_reset("alice");
    assert_eq!(status, 200);
    assert!(
        phone.device().pending_challenges(0).unwrap().is_empty(),
        "the old name is nobody now"
    );
    let reset = city.verified_reset("alice.wed", &phone);
    let (status, body) = city.set_password(&reset, NEW_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert!(server.bind("alice.wed", NEW_PASSWORD));
}
