//! The LDAP directory (`OpenLdap`) against a real slapd with ppolicy on loopback, through
//! the `Directory` trait: look-up, binds, resets and changes, refusals, lockout and unlock,
//! the policy, TLS, and the directory going away and coming back.

use std::time::Instant;

use cityauth_e2e::slapd::{self, ADMINS_GROUP, FIRST_PASSWORD, IT_GROUP, SCOPE_GROUP, Slapd};
use cityauth_server::directory::openldap::OpenLdap;
use cityauth_server::directory::{
    Account, Directory, DirectoryError, PasswordCheck, PasswordPolicy, Refusal,
};

const NEW_PASSWORD: &str = "Velvet-Quince-Drum-2025";

fn directory(server: &Slapd) -> OpenLdap {
    OpenLdap::new(server.settings()).expect("valid settings")
}

async fn found(dir: &OpenLdap, username: &str) -> Account {
    dir.find(username)
        .await
        .expect("the directory answers")
        .unwrap_or_else(|| panic!("{username} is found"))
}

/// A slapd with one employee, `alice`, in the self-service scope.
fn with_alice() -> Slapd {
    let server = Slapd::start();
    eprintln!("slapd started in {:?}", server.started_in);
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    server
}

#[tokio::test]
async fn an_employee_is_found_by_uid_with_entry_uuid_display_name_and_mail() {
    let server = with_alice();
    let dir = directory(&server);
    let started = Instant::now();
    let alice = found(&dir, "alice").await;
    eprintln!(
        "the first find (connect, bind, policy, groups) took {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    found(&dir, "alice").await;
    eprintln!("a pooled find took {:?}", started.elapsed());
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.display_name, "Alice Example");
    assert_eq!(alice.mail.as_deref(), Some("alice@city.test"));
    assert_eq!(alice.locator, Slapd::user_dn("alice"));
    assert_eq!(alice.id.as_str(), server.attribute("alice", "entryUUID")[0]);
    assert!(!alice.protected && !alice.locked);
    // uid matches as the directory compares it (caseIgnoreMatch).
    assert_eq!(found(&dir, "ALICE").await.id, alice.id);
    assert_eq!(dir.by_id(&alice.id).await.unwrap(), Some(alice));
    assert_eq!(dir.find("nobody").await.unwrap(), None);
}

#[tokio::test]
async fn a_filter_injection_in_the_username_finds_nobody() {
    let server = with_alice();
    server.add_user("bob", "Bob", &[SCOPE_GROUP]);
    let dir = directory(&server);
    for attempt in [
        "*",
        "a*",
        "*)(uid=*",
        "alice)(|(uid=*",
        "*)(|(objectClass=*",
        "alice\\",
        "alice\0",
        "(uid=alice)",
    ] {
        assert_eq!(dir.find(attempt).await.unwrap(), None, "{attempt:?}");
    }
    // An id that is not a UUID is never sent.
    let id = cityauth_server::directory::DirectoryId("*".into());
    assert_eq!(dir.by_id(&id).await.unwrap(), None);
    assert_eq!(found(&dir, "alice").await.username, "alice");
}

#[tokio::test]
async fn a_rename_keeps_the_entry_uuid_and_the_account() {
    let server = with_alice();
    let dir = directory(&server);
    let before = found(&dir, "alice").await;
    server.rename("alice", "alice.example");
    assert_eq!(dir.find("alice").await.unwrap(), None);
    let after = found(&dir, "alice.example").await;
    assert_eq!(after.id, before.id);
    assert_eq!(after.locator, Slapd::user_dn("alice.example"));
    let by_id = dir.by_id(&before.id).await.unwrap().expect("still there");
    assert_eq!(by_id.username, "alice.example");
    // Still in scope (refint moved the membership), so a reset still works.
    dir.set_password(&by_id, NEW_PASSWORD).await.expect("reset");
    assert!(server.bind("alice.example", NEW_PASSWORD));
}

#[tokio::test]
async fn a_disabled_account_is_answered_as_unknown() {
    let server = with_alice();
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    server.disable("alice");
    assert_eq!(dir.find("alice").await.unwrap(), None);
    assert_eq!(dir.by_id(&alice.id).await.unwrap(), None);
    // Nor is it re-enabled by a reset or an unlock with a stale account.
    assert!(matches!(
        dir.set_password(&alice, NEW_PASSWORD).await,
        Err(DirectoryError::NotFound)
    ));
    assert!(matches!(
        dir.unlock(&alice).await,
        Err(DirectoryError::NotFound)
    ));
    assert_eq!(
        server.attribute("alice", "pwdAccountLockedTime"),
        ["000001010000Z"]
    );
}

#[tokio::test]
async fn an_account_outside_the_scope_group_is_answered_as_unknown() {
    let server = with_alice();
    server.add_user("carol", "Carol", &[]);
    let dir = directory(&server);
    assert_eq!(dir.find("carol").await.unwrap(), None);
    // Without a scope group everyone under the base is in scope.
    let mut settings = server.settings();
    settings.scope_group = None;
    let everyone = OpenLdap::new(settings).unwrap();
    assert_eq!(found(&everyone, "carol").await.username, "carol");
}

#[tokio::test]
async fn members_of_protected_groups_direct_or_nested_are_never_reset() {
    let server = with_alice();
    server.add_user("root1", "Direct Admin", &[SCOPE_GROUP, ADMINS_GROUP]);
    server.add_user("root2", "Nested Admin", &[SCOPE_GROUP, IT_GROUP]);
    let dir = directory(&server);
    assert!(!found(&dir, "alice").await.protected);
    for admin in ["root1", "root2"] {
        let account = found(&dir, admin).await;
        assert!(account.protected, "{admin}");
        assert!(matches!(
            dir.set_password(&account, NEW_PASSWORD).await,
            Err(DirectoryError::Protected)
        ));
        // An account value claiming otherwise changes nothing: the directory is asked.
        let forged = Account {
            protected: false,
            ..account.clone()
        };
        assert!(matches!(
            dir.set_password(&forged, NEW_PASSWORD).await,
            Err(DirectoryError::Protected)
        ));
        assert!(matches!(
            dir.unlock(&forged).await,
            Err(DirectoryError::Protected)
        ));
        assert!(server.bind(admin, FIRST_PASSWORD), "{admin} unchanged");
    }
}

#[tokio::test]
async fn group_membership_is_followed_through_nested_groups_for_the_helpdesk_roles() {
    let server = with_alice();
    server.add_user("root2", "Nested Admin", &[SCOPE_GROUP, IT_GROUP]);
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    let nested = found(&dir, "root2").await;
    assert!(dir.in_group(&alice, SCOPE_GROUP).await.unwrap());
    assert!(!dir.in_group(&alice, ADMINS_GROUP).await.unwrap());
    assert!(dir.in_group(&nested, IT_GROUP).await.unwrap());
    assert!(
        dir.in_group(&nested, ADMINS_GROUP).await.unwrap(),
        "through it-staff"
    );
    // DNs compare as the directory does: case and spacing do not matter.
    let spelled = ADMINS_GROUP.to_uppercase().replace(',', ", ");
    assert!(dir.in_group(&nested, &spelled).await.unwrap(), "{spelled}");
}

#[tokio::test]
async fn a_password_is_checked_by_binding_as_the_user() {
    let server = with_alice();
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    assert_eq!(
        dir.check_password(&alice, FIRST_PASSWORD).await.unwrap(),
        PasswordCheck::Correct
    );
    assert_eq!(
        dir.check_password(&alice, "wrong-password").await.unwrap(),
        PasswordCheck::Wrong
    );
    // An empty password would be an unauthenticated bind, which this slapd accepts
    // (`allow bind_anon_dn`, as some directories do).
    assert_eq!(
        dir.check_password(&alice, "").await.unwrap(),
        PasswordCheck::Wrong
    );
}

#[tokio::test]
async fn a_password_reset_by_an_administrator_must_be_changed() {
    let server = with_alice();
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    server.require_change("alice");
    assert_eq!(
        dir.check_password(&alice, FIRST_PASSWORD).await.unwrap(),
        PasswordCheck::MustChange
    );
}

#[tokio::test]
async fn an_expired_password_that_is_right_must_be_changed() {
    let server = with_alice();
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    server.expire("alice");
    assert!(
        !server.bind("alice", FIRST_PASSWORD),
        "slapd refuses the bind"
    );
    assert_eq!(
        dir.check_password(&alice, FIRST_PASSWORD).await.unwrap(),
        PasswordCheck::MustChange
    );
    assert_eq!(
        dir.check_password(&alice, "wrong-password").await.unwrap(),
        PasswordCheck::Wrong
    );
}

#[tokio::test]
async fn a_reset_sets_the_password_the_directory_binds_with() {
    let server = with_alice();
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    let started = Instant::now();
    dir.set_password(&alice, NEW_PASSWORD).await.expect("reset");
    eprintln!("set_password took {:?}", started.elapsed());
    assert!(server.bind("alice", NEW_PASSWORD));
    assert!(!server.bind("alice", FIRST_PASSWORD));
    // Stored hashed, never in clear.
    let stored = server.attribute("alice", "userPassword");
    assert!(
        stored.iter().all(|v| !v.contains(NEW_PASSWORD)),
        "{stored:?}"
    );
}

#[tokio::test]
async fn a_reset_to_a_remembered_password_is_refused_as_history_and_changes_nothing() {
    let server = with_alice();
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    dir.set_password(&alice, NEW_PASSWORD).await.expect("reset");
    match dir.set_password(&alice, FIRST_PASSWORD).await {
        Err(DirectoryError::Refused(Refusal::History)) => {}
        other => panic!("expected a history refusal, got {other:?}"),
    }
    assert!(server.bind("alice", NEW_PASSWORD));
    assert!(!server.bind("alice", FIRST_PASSWORD));
    // The sentence the employee reads.
    assert!(
        DirectoryError::Refused(Refusal::History)
            .to_string()
            .contains("you used it before")
    );
}

#[tokio::test]
async fn a_too_short_password_is_refused_with_the_directory_minimum() {
    let server = with_alice();
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    for short in ["Short-1", ""] {
        match dir.set_password(&alice, short).await {
            Err(DirectoryError::Refused(Refusal::TooShort {
                minimum: Some(slapd::MIN_LENGTH),
            })) => {}
            other => panic!("{short:?}: expected too short, got {other:?}"),
        }
    }
    assert!(server.bind("alice", FIRST_PASSWORD));
}

#[tokio::test]
async fn a_change_as_the_user_proves_the_old_password_and_applies_history_and_age() {
    let server = with_alice();
    server.add_user("dave", "Dave", &[SCOPE_GROUP]);
    server.set_policy("dave", slapd::SLOW_POLICY);
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    assert!(matches!(
        dir.change_password(&alice, "not-the-password", NEW_PASSWORD)
            .await,
        Err(DirectoryError::Other(_))
    ));
    dir.change_password(&alice, FIRST_PASSWORD, NEW_PASSWORD)
        .await
        .expect("change");
    assert!(server.bind("alice", NEW_PASSWORD));
    assert!(!server.bind("alice", FIRST_PASSWORD));
    assert!(matches!(
        dir.change_password(&alice, NEW_PASSWORD, FIRST_PASSWORD)
            .await,
        Err(DirectoryError::Refused(Refusal::History))
    ));
    // Dave's policy has a day's minimum age: a second change the same day is too soon.
    let dave = found(&dir, "dave").await;
    dir.change_password(&dave, FIRST_PASSWORD, NEW_PASSWORD)
        .await
        .expect("the first change (no change time yet)");
    match dir
        .change_password(&dave, NEW_PASSWORD, "Copper-Meadow-Lark-2026")
        .await
    {
        Err(DirectoryError::Refused(Refusal::MinimumAge)) => {}
        other => panic!("expected a minimum-age refusal, got {other:?}"),
    }
    assert!(server.bind("dave", NEW_PASSWORD));
}

#[tokio::test]
async fn a_real_lockout_is_reported_and_lifted_by_unlock_keeping_the_password() {
    let server = with_alice();
    let dir = directory(&server);
    server.lock_out("alice");
    let alice = found(&dir, "alice").await;
    assert!(alice.locked);
    assert_eq!(
        dir.check_password(&alice, FIRST_PASSWORD).await.unwrap(),
        PasswordCheck::Locked
    );
    assert!(!server.bind("alice", FIRST_PASSWORD));
    dir.unlock(&alice).await.expect("unlock");
    assert!(!found(&dir, "alice").await.locked);
    assert!(server.bind("alice", FIRST_PASSWORD));
    assert_eq!(
        dir.check_password(&alice, FIRST_PASSWORD).await.unwrap(),
        PasswordCheck::Correct
    );
    assert!(server.attribute("alice", "pwdFailureTime").is_empty());
}

#[tokio::test]
async fn a_lockout_slapd_does_not_report_is_read_from_the_entry() {
    // Without ppolicy_use_lockout a locked account's bind is a plain "invalid credentials".
    let server = Slapd::start_with(false);
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    let dir = directory(&server);
    server.lock_out("alice");
    let alice = found(&dir, "alice").await;
    assert_eq!(
        dir.check_password(&alice, FIRST_PASSWORD).await.unwrap(),
        PasswordCheck::Locked
    );
}

#[tokio::test]
async fn a_reset_lifts_a_lockout() {
    let server = with_alice();
    let dir = directory(&server);
    server.lock_out("alice");
    let alice = found(&dir, "alice").await;
    dir.set_password(&alice, NEW_PASSWORD).await.expect("reset");
    assert!(server.bind("alice", NEW_PASSWORD));
    assert!(!found(&dir, "alice").await.locked);
}

#[tokio::test]
async fn the_policy_is_read_from_the_default_ppolicy_entry() {
    let server = with_alice();
    let dir = directory(&server);
    assert_eq!(
        dir.policy().await.unwrap(),
        PasswordPolicy {
            min_length: slapd::MIN_LENGTH,
            complexity: false,
            history: slapd::HISTORY,
            min_age_seconds: 0,
        }
    );
}

#[tokio::test]
async fn the_directory_stopped_midway_is_unavailable_then_works_after_restart() {
    let mut server = with_alice();
    let dir = directory(&server);
    let alice = found(&dir, "alice").await;
    assert!(
        dir.idle_connections() > 0,
        "a pooled connection to go stale"
    );
    server.stop();
    assert!(matches!(
        dir.find("alice").await,
        Err(DirectoryError::Unavailable(_))
    ));
    assert!(matches!(
        dir.set_password(&alice, NEW_PASSWORD).await,
        Err(DirectoryError::Unavailable(_))
    ));
    assert!(matches!(
        dir.check_password(&alice, FIRST_PASSWORD).await,
        Err(DirectoryError::Unavailable(_))
    ));
    assert!(matches!(
        dir.health().await,
        Err(DirectoryError::Unavailable(_))
    ));
    let stopped = Instant::now();
    server.restart();
    eprintln!("slapd restarted in {:?}", stopped.elapsed());
    dir.set_password(&alice, NEW_PASSWORD)
        .await
        .expect("works again");
    assert!(server.bind("alice", NEW_PASSWORD));
}

#[tokio::test]
async fn a_dead_pooled_connection_is_replaced_once() {
    let mut server = with_alice();
    let dir = directory(&server);
    found(&dir, "alice").await;
    assert!(dir.idle_connections() > 0);
    // slapd restarted between two requests: every pooled connection is dead.
    server.restart();
    assert_eq!(found(&dir, "alice").await.username, "alice");
}

#[tokio::test]
async fn a_wrong_service_password_is_a_clear_error_without_the_password() {
    let server = with_alice();
    let mut settings = server.settings();
    settings.bind_password = "not-the-service-password".to_owned().into();
    let dir = OpenLdap::new(settings).unwrap();
    let error = dir.health().await.expect_err("refused");
    let text = error.to_string();
    assert!(
        matches!(error, DirectoryError::ServiceAccount(_)),
        "{error:?}"
    );
    assert!(text.contains(slapd::SERVICE_DN), "{text}");
    assert!(
        text.contains("the password in the configuration is wrong"),
        "{text}"
    );
    assert!(!text.contains("not-the-service-password"), "{text}");
    assert!(!format!("{dir:?}").contains("not-the-service-password"));
    assert!(matches!(
        dir.find("alice").await,
        Err(DirectoryError::ServiceAccount(_))
    ));
}

#[tokio::test]
async fn starttls_is_verified_and_a_certificate_from_another_ca_is_refused() {
    let server = with_alice();
    let mut settings = server.settings();
    settings.url = server.starttls_url();
    let dir = OpenLdap::new(settings).unwrap();
    dir.health().await.expect("StartTLS with the test CA");
    assert_eq!(found(&dir, "alice").await.username, "alice");

    let other = tempfile::tempdir().unwrap();
    let ca = cityauth_e2e::nginx::TestCa::new().unwrap();
    std::fs::write(other.path().join("ca.pem"), ca.root_pem()).unwrap();
    for url in [server.ldaps_url(), server.starttls_url()] {
        let mut settings = server.settings();
        settings.url = url.clone();
        settings.ca_file = other.path().join("ca.pem");
        let dir = OpenLdap::new(settings).unwrap();
        assert!(
            matches!(dir.health().await, Err(DirectoryError::Unavailable(_))),
            "{url}"
        );
    }
    // No URL without TLS.
    let mut settings = server.settings();
    settings.url = format!("http://127.0.0.1:{}", 1);
    assert!(matches!(
        OpenLdap::new(settings),
        Err(DirectoryError::Config(_))
    ));
}

#[test]
fn a_health_check_in_another_runtime_leaves_no_connection_the_server_would_use() {
    let server = with_alice();
    let dir = directory(&server);
    let startup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    startup.block_on(dir.health()).expect("healthy at startup");
    assert!(dir.idle_connections() > 0);
    // The startup runtime is gone; another one serves (as the server's does).
    drop(startup);
    let serving = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let alice = serving
        .block_on(dir.find("alice"))
        .expect("the directory answers");
    eprintln!("find on the serving runtime took {:?}", started.elapsed());
    assert_eq!(alice.expect("found").username, "alice");
}

#[test]
fn a_connection_of_a_runtime_that_is_alive_but_idle_is_not_used() {
    let server = with_alice();
    let dir = directory(&server);
    let idle = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    idle.block_on(dir.health()).expect("healthy");
    assert!(dir.idle_connections() > 0);
    // `idle` is never driven again while `serving` works.
    let serving = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A connection whose driver never runs would time out (the settings' timeout): an
    // error, not an answer.
    let alice = serving
        .block_on(dir.find("alice"))
        .expect("the directory answers, not a stuck connection of another runtime");
    assert_eq!(alice.expect("found").username, "alice");
    drop(idle);
}
