//! Active Directory through the `Directory` trait, against a real Samba AD DC on loopback
//! (tests/src/samba.rs), as the least-privilege service account.

use std::time::{Duration, Instant};

use cityauth_e2e::samba::{self, Samba, alone, shared};
use cityauth_server::directory::ad::ActiveDirectory;
use cityauth_server::directory::ldap::LdapSettings;
use cityauth_server::directory::{
    Account, Directory, DirectoryError, DirectoryId, PasswordCheck, PasswordPolicy, Refusal,
};
use zeroize::Zeroizing;

fn directory(samba: &Samba) -> ActiveDirectory {
    ActiveDirectory::new(samba.settings()).expect("valid settings")
}

/// Runs `f` on a runtime of its own, as each server or test would.
fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
}

/// A fresh employee in scope; returns (sAMAccountName, DN).
fn employee(samba: &Samba, name: &str) -> (String, String) {
    let dn = samba
        .add_user(name, &[samba::SCOPE_GROUP])
        .unwrap_or_else(|e| panic!("{e}"));
    (name.to_owned(), dn)
}

fn found(ad: &ActiveDirectory, name: &str) -> Account {
    block(ad.find(name))
        .expect("the directory answers")
        .unwrap_or_else(|| panic!("{name} is found"))
}

#[test]
fn an_employee_is_found_by_name_with_the_guid_display_name_and_mail() {
    let samba = shared();
    let (name, dn) = employee(&samba, "finn");
    let ad = directory(&samba);
    let account = found(&ad, &name);
    assert_eq!(account.username, "finn");
    assert_eq!(account.locator, dn);
    assert_eq!(account.display_name, "finn Example");
    assert_eq!(account.mail.as_deref(), Some("finn@city.test"));
    assert!(!account.protected && !account.locked);
    // The canonical text form of the objectGUID, as samba-tool prints it.
    let guid = samba.guid_text(&dn).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(account.id, DirectoryId(guid));
    assert_eq!(
        block(ad.by_id(&account.id)).expect("answers"),
        Some(account)
    );
    assert_eq!(block(ad.find("nobody-here")).expect("answers"), None);
}

#[test]
fn a_user_principal_name_finds_the_same_account() {
    let samba = shared();
    let (name, _) = employee(&samba, "uma");
    let by_sam = found(&directory(&samba), &name);
    let ad = ActiveDirectory::new(LdapSettings {
        user_attribute: "userPrincipalName".into(),
        ..samba.settings()
    })
    .expect("valid settings");
    let by_upn = found(&ad, "uma@city.test");
    assert_eq!(by_upn.id, by_sam.id);
    assert_eq!(by_upn.username, "uma@city.test");
}

#[test]
fn a_filter_injection_in_the_username_finds_nobody() {
    let samba = shared();
    let (name, _) = employee(&samba, "injy");
    let ad = directory(&samba);
    assert_eq!(found(&ad, &name).username, "injy");
    for attempt in [
        "*",
        "inj*",
        "*)(sAMAccountName=*",
        "injy)(|(sAMAccountName=*",
        "*)(objectClass=*))(|(cn=*",
        "injy\\",
        "injy\0",
        "",
    ] {
        assert_eq!(
            block(ad.find(attempt)).expect("a typed answer, not an error"),
            None,
            "{attempt:?} matched an account"
        );
    }
    // Nor can a forged id carry filter syntax.
    let forged = DirectoryId("*)(objectClass=*".into());
    assert_eq!(block(ad.by_id(&forged)).expect("answers"), None);
}

#[test]
fn a_disabled_account_answers_as_unknown() {
    let samba = shared();
    let (name, dn) = employee(&samba, "dora");
    let ad = directory(&samba);
    let account = found(&ad, &name);
    samba.disable(&dn).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(block(ad.find(&name)).expect("answers"), None);
    assert_eq!(block(ad.by_id(&account.id)).expect("answers"), None);
}

#[test]
fn an_account_outside_the_scope_group_answers_as_unknown_and_nested_membership_counts() {
    let samba = shared();
    let outside = samba
        .add_user("otto", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    samba
        .add_user("nell", &[samba::NESTED_GROUP])
        .unwrap_or_else(|e| panic!("{e}"));
    let ad = directory(&samba);
    assert_eq!(block(ad.find("otto")).expect("answers"), None);
    assert_eq!(found(&ad, "nell").username, "nell");
    // Without a scope group, everyone under the base is in scope.
    let everyone = ActiveDirectory::new(LdapSettings {
        scope_group: None,
        ..samba.settings()
    })
    .expect("valid settings");
    assert_eq!(found(&everyone, "otto").locator, outside);
}

#[test]
fn a_domain_admin_is_protected_and_is_neither_reset_nor_unlocked() {
    let samba = shared();
    let (name, dn) = employee(&samba, "boss");
    samba
        .add_member(samba::DOMAIN_ADMINS, &dn)
        .unwrap_or_else(|e| panic!("{e}"));
    // Through a group nested in Domain Admins too.
    samba
        .ldapmodify(&format!(
            "dn: CN=Ops Admins,{}\nchangetype: add\nobjectClass: group\nsAMAccountName: opsadmins\n",
            samba::STAFF_OU
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let ops = format!("CN=Ops Admins,{}", samba::STAFF_OU);
    samba
        .add_member(samba::DOMAIN_ADMINS, &ops)
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, ops_dn) = employee(&samba, "opsy");
    samba
        .add_member(&ops, &ops_dn)
        .unwrap_or_else(|e| panic!("{e}"));

    let ad = directory(&samba);
    for who in [name.as_str(), "opsy"] {
        let account = found(&ad, who);
        assert!(account.protected, "{who} is protected");
        // Even if the caller forgets to look at the flag, the write is refused.
        let unflagged = Account {
            protected: false,
            ..account
        };
        assert!(matches!(
            block(ad.set_password(&unflagged, "Another-Pass-77")),
            Err(DirectoryError::Protected)
        ));
        assert!(matches!(
            block(ad.unlock(&unflagged)),
            Err(DirectoryError::Protected)
        ));
    }
    assert!(samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap());
}

#[test]
fn the_right_password_binds_and_a_wrong_or_empty_one_does_not() {
    let samba = shared();
    let (name, _) = employee(&samba, "bea");
    let ad = directory(&samba);
    let account = found(&ad, &name);
    let check = |password| block(ad.check_password(&account, password)).expect("answers");
    assert_eq!(check(samba::INITIAL_PASSWORD), PasswordCheck::Correct);
    assert_eq!(check("Wrong-Pass-42"), PasswordCheck::Wrong);
    // An empty password would be an anonymous ("unauthenticated") bind, which succeeds.
    assert_eq!(check(""), PasswordCheck::Wrong);
}

#[test]
fn a_password_that_must_change_is_told_apart_from_a_wrong_one() {
    let samba = shared();
    let (name, dn) = employee(&samba, "mona");
    samba.must_change(&dn).unwrap_or_else(|e| panic!("{e}"));
    let ad = directory(&samba);
    let account = found(&ad, &name);
    assert_eq!(
        block(ad.check_password(&account, samba::INITIAL_PASSWORD)).expect("answers"),
        PasswordCheck::MustChange
    );
    assert_eq!(
        block(ad.check_password(&account, "Wrong-Pass-42")).expect("answers"),
        PasswordCheck::Wrong
    );
}

#[test]
fn a_reset_sets_the_password_the_directory_binds_with_and_the_old_one_stops_working() {
    let samba = shared();
    let (name, dn) = employee(&samba, "rita");
    let ad = directory(&samba);
    let account = found(&ad, &name);
    block(ad.set_password(&account, "Brand-New-Pass-7")).expect("the reset is written");
    assert!(samba.binds(&dn, "Brand-New-Pass-7").unwrap());
    assert!(!samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap());
}

#[test]
fn a_reset_the_length_or_complexity_rule_refuses_says_which() {
    let samba = shared();
    let (name, dn) = employee(&samba, "cora");
    let ad = directory(&samba);
    let account = found(&ad, &name);
    match block(ad.set_password(&account, "Ab1!")) {
        Err(DirectoryError::Refused(Refusal::TooShort { minimum })) => {
            assert_eq!(minimum, Some(samba::MIN_LENGTH));
        }
        other => panic!("expected too short, got {other:?}"),
    }
    match block(ad.set_password(&account, "alllowercaseletters")) {
        Err(DirectoryError::Refused(Refusal::Complexity)) => {}
        other => panic!("expected complexity, got {other:?}"),
    }
    assert!(samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap());
}

#[test]
fn a_change_as_the_user_applies_the_history_and_needs_the_right_old_password() {
    let samba = shared();
    let (name, dn) = employee(&samba, "cass");
    let ad = directory(&samba);
    let account = found(&ad, &name);
    block(ad.change_password(&account, samba::INITIAL_PASSWORD, "Changed-Pass-42"))
        .expect("the user's change is written");
    assert!(samba.binds(&dn, "Changed-Pass-42").unwrap());
    assert!(!samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap());
    match block(ad.change_password(&account, "Changed-Pass-42", samba::INITIAL_PASSWORD)) {
        Err(DirectoryError::Refused(Refusal::History)) => {}
        other => panic!("expected a history refusal, got {other:?}"),
    }
    assert!(matches!(
        block(ad.change_password(&account, "Not-The-Pass-42", "Other-Pass-43")),
        Err(DirectoryError::Other(_))
    ));
    assert!(samba.binds(&dn, "Changed-Pass-42").unwrap());
}

#[test]
fn a_change_too_soon_after_the_last_is_refused_as_minimum_age() {
    let samba = shared();
    let dn = samba
        .add_user("ages", &[samba::SCOPE_GROUP, samba::MIN_AGE_GROUP])
        .unwrap_or_else(|e| panic!("{e}"));
    let ad = directory(&samba);
    let account = found(&ad, "ages");
    // Its password was set a moment ago; its settings want a day between changes.
    match block(ad.change_password(&account, samba::INITIAL_PASSWORD, "Too-Soon-Pass-42")) {
        Err(DirectoryError::Refused(Refusal::MinimumAge)) => {}
        other => panic!("expected a minimum-age refusal, got {other:?}"),
    }
    assert!(samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap());
}

#[test]
fn a_real_lockout_is_seen_and_unlock_lifts_it_without_changing_the_password() {
    let samba = shared();
    let dn = samba
        .add_user("lola", &[samba::SCOPE_GROUP, samba::LOCKOUT_GROUP])
        .unwrap_or_else(|e| panic!("{e}"));
    let ad = directory(&samba);
    samba.lock_out(&dn).unwrap_or_else(|e| panic!("{e}"));
    let account = found(&ad, "lola");
    assert!(account.locked, "the lockout shows in the account");
    assert_eq!(
        block(ad.check_password(&account, samba::INITIAL_PASSWORD)).expect("answers"),
        PasswordCheck::Locked
    );
    assert!(!samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap());
    block(ad.unlock(&account)).expect("unlocked");
    assert!(!found(&ad, "lola").locked);
    assert!(samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap());
}

#[test]
fn a_reset_lifts_a_lockout_too() {
    let samba = shared();
    let dn = samba
        .add_user("lars", &[samba::SCOPE_GROUP, samba::LOCKOUT_GROUP])
        .unwrap_or_else(|e| panic!("{e}"));
    let ad = directory(&samba);
    samba.lock_out(&dn).unwrap_or_else(|e| panic!("{e}"));
    let account = found(&ad, "lars");
    assert!(account.locked);
    block(ad.set_password(&account, "Unlocked-Pass-42")).expect("the reset is written");
    assert!(samba.binds(&dn, "Unlocked-Pass-42").unwrap());
}

#[test]
fn a_rename_keeps_the_object_guid() {
    let samba = shared();
    let (name, _) = employee(&samba, "rena");
    let ad = directory(&samba);
    let before = found(&ad, &name);
    let dn = samba
        .rename("rena", "renata")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(block(ad.find("rena")).expect("answers"), None);
    let after = found(&ad, "renata");
    assert_eq!(after.id, before.id);
    assert_eq!(after.locator, dn);
    let by_id = block(ad.by_id(&before.id))
        .expect("answers")
        .expect("found by id");
    assert_eq!(by_id.username, "renata");
}

#[test]
fn the_policy_is_the_domain_s() {
    let samba = shared();
    let ad = directory(&samba);
    assert_eq!(
        block(ad.policy()).expect("readable"),
        PasswordPolicy {
            min_length: samba::MIN_LENGTH,
            complexity: true,
            history: samba::HISTORY,
            min_age_seconds: 0,
        }
    );
}

#[test]
fn the_service_account_may_not_reset_outside_its_ou() {
    let samba = shared();
    let ad = directory(&samba);
    // An ordinary account, but in CN=Users, outside the OU the delegation covers.
    let locator = format!("CN=outsider,CN=Users,{}", samba::DOMAIN_DN);
    samba
        .ldapmodify(&format!(
            "dn: {locator}\nchangetype: add\nobjectClass: user\nsAMAccountName: outsider\n"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let outsider = Account {
        id: DirectoryId("00000000-0000-0000-0000-000000000000".into()),
        locator,
        username: "outsider".into(),
        display_name: "outsider".into(),
        mail: None,
        protected: false,
        locked: false,
    };
    match block(ad.set_password(&outsider, "Taken-Over-Pass-42")) {
        Err(DirectoryError::Other(text)) => assert!(text.contains("may not"), "{text}"),
        other => panic!("expected a refusal of access, got {other:?}"),
    }
    // Nor anything in the OU but the password and the lockout.
    let (_, dn) = employee(&samba, "vic");
    let service =
        |ldif: String| samba.ldapmodify_as(samba::SERVICE_DN, samba::SERVICE_PASSWORD, &ldif);
    assert!(
        service(format!(
            "dn: {dn}\nchangetype: modify\nreplace: displayName\ndisplayName: Mallory\n-\n"
        ))
        .is_err()
    );
    assert!(
        service(format!(
            "dn: {dn}\nchangetype: modify\nreplace: lockoutTime\nlockoutTime: 0\n-\n"
        ))
        .is_ok()
    );
}

#[test]
fn a_wrong_service_password_is_a_clear_error_without_the_password() {
    let samba = shared();
    let ad = ActiveDirectory::new(LdapSettings {
        bind_password: Zeroizing::new("Not-The-Service-Pass".into()),
        ..samba.settings()
    })
    .expect("valid settings");
    match block(ad.health()) {
        Err(e @ DirectoryError::ServiceAccount(_)) => {
            let text = e.to_string();
            assert!(
                text.contains("the password in the configuration is wrong"),
                "{text}"
            );
            assert!(!text.contains("Not-The-Service-Pass"), "{text}");
        }
        other => panic!("expected the service account's refusal, got {other:?}"),
    }
    match block(ad.find("anyone")) {
        Err(DirectoryError::ServiceAccount(_)) => {}
        other => panic!("expected the service account's refusal, got {other:?}"),
    }
    let debug = format!("{:?}", samba.settings());
    assert!(!debug.contains(samba::SERVICE_PASSWORD), "{debug}");
}

#[test]
fn a_certificate_from_another_ca_is_not_trusted() {
    let samba = shared();
    let dir = tempfile::tempdir().expect("temp dir");
    let other = cityauth_e2e::nginx::TestCa::new().expect("a CA");
    let ca_file = dir.path().join("other-ca.pem");
    std::fs::write(&ca_file, other.root_pem()).expect("write");
    let ad = ActiveDirectory::new(LdapSettings {
        ca_file,
        ..samba.settings()
    })
    .expect("valid settings");
    assert!(matches!(
        block(ad.health()),
        Err(DirectoryError::Unavailable(_))
    ));
}

#[test]
fn starttls_on_the_plain_port_works_as_ldaps_does() {
    let samba = shared();
    let ad = ActiveDirectory::new(LdapSettings {
        url: samba.starttls_url(),
        ..samba.settings()
    })
    .expect("valid settings");
    block(ad.health()).expect("healthy over StartTLS");
    let (name, dn) = employee(&samba, "stan");
    block(ad.set_password(&found(&ad, &name), "Start-Tls-Pass-42")).expect("written");
    assert!(samba.binds(&dn, "Start-Tls-Pass-42").unwrap());
}

#[test]
fn a_directory_used_on_one_runtime_then_another_works_on_the_second() {
    let samba = shared();
    let (name, _) = employee(&samba, "runa");
    let ad = directory(&samba);
    // The startup check on a runtime of its own, which stays alive but idle.
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    first.block_on(ad.health()).expect("healthy");
    // A look-up there too (it leaves pooled connections driven by that runtime), then
    // that runtime ends, as a test's does before it hands the directory to a server.
    first
        .block_on(ad.find(&name))
        .expect("answers")
        .expect("found");
    drop(first);
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let started = Instant::now();
    let account = server
        .block_on(ad.find(&name))
        .expect("answers")
        .expect("found");
    eprintln!(
        "look-up after the first runtime ended: {:?}",
        started.elapsed()
    );
    assert_eq!(account.username, name);
}

#[test]
fn the_directory_stopped_midway_is_unavailable_then_works_after_restart() {
    let mut samba = alone();
    let (name, dn) = employee(&samba, "stop");
    let ad = directory(&samba);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let account = runtime
        .block_on(ad.find(&name))
        .expect("answers")
        .expect("found");
    samba.stop();
    let started = Instant::now();
    assert!(matches!(
        runtime.block_on(ad.find(&name)),
        Err(DirectoryError::Unavailable(_))
    ));
    assert!(matches!(
        runtime.block_on(ad.set_password(&account, "While-Down-Pass-42")),
        Err(DirectoryError::Unavailable(_))
    ));
    assert!(matches!(
        runtime.block_on(ad.health()),
        Err(DirectoryError::Unavailable(_))
    ));
    eprintln!(
        "three calls to a stopped directory: {:?}",
        started.elapsed()
    );
    let restarting = Instant::now();
    samba.restart().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("samba restarted in {:?}", restarting.elapsed());
    // The pooled connections died with the old process; the same directory recovers.
    runtime
        .block_on(ad.set_password(&account, "After-Restart-Pass-42"))
        .expect("written after the restart");
    assert!(samba.binds(&dn, "After-Restart-Pass-42").unwrap());
    // A pooled connection that died while idle (nothing asked the directory while it was
    // down) is replaced at the next call, which succeeds.
    samba.stop();
    samba.restart().unwrap_or_else(|e| panic!("{e}"));
    runtime
        .block_on(ad.set_password(&account, "Second-Restart-Pass-42"))
        .expect("written at the first call after the restart");
    assert!(samba.binds(&dn, "Second-Restart-Pass-42").unwrap());
}

#[test]
fn an_empty_password_is_wrong_without_asking_the_directory() {
    // AD accepts a simple bind with a DN and no password as an "unauthenticated bind":
    // the empty password must never reach it. Here nothing listens, so any bind attempt
    // would be an error rather than an answer.
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = cityauth_e2e::nginx::TestCa::new().expect("a CA");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.root_pem()).expect("write");
    let ad = ActiveDirectory::new(LdapSettings {
        url: "ldaps://127.0.0.1:1".into(),
        base_dn: samba::STAFF_OU.into(),
        bind_dn: samba::SERVICE_DN.into(),
        bind_password: Zeroizing::new(samba::SERVICE_PASSWORD.into()),
        user_attribute: "sAMAccountName".into(),
        ca_file,
        scope_group: None,
        protected_groups: Vec::new(),
        timeout: Duration::from_secs(5),
        pool_size: 1,
    })
    .expect("valid settings");
    let account = Account {
        id: DirectoryId("6eb2384b-a529-47c3-be9b-2e325ce302e7".into()),
        locator: Samba::dn("anyone"),
        username: "anyone".into(),
        display_name: "anyone".into(),
        mail: None,
        protected: false,
        locked: false,
    };
    assert_eq!(
        block(ad.check_password(&account, "")).expect("an answer without a connection"),
        PasswordCheck::Wrong
    );
    assert!(matches!(
        block(ad.check_password(&account, "Some-Pass-42")),
        Err(DirectoryError::Unavailable(_))
    ));
}

#[test]
fn many_look_ups_at_once_share_the_small_pool() {
    let samba = shared();
    let (name, _) = employee(&samba, "poly");
    let ad = std::sync::Arc::new(directory(&samba));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let started = Instant::now();
    let answers = runtime.block_on(async {
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let (ad, name) = (ad.clone(), name.clone());
            calls.spawn(async move { ad.find(&name).await });
        }
        calls.join_all().await
    });
    eprintln!(
        "12 concurrent look-ups on a pool of 2: {:?}",
        started.elapsed()
    );
    for answer in answers {
        assert_eq!(answer.expect("answers").expect("found").username, name);
    }
}

#[test]
fn a_directory_that_never_answers_is_unavailable_after_the_timeout() {
    // A listener that accepts and then says nothing: the TLS handshake never completes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = silent.local_addr().expect("its address").port();
    let holder = std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(2).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(held);
    });
    let samba = shared();
    let ad = ActiveDirectory::new(LdapSettings {
        url: format!("ldaps://127.0.0.1:{port}"),
        timeout: Duration::from_secs(1),
        ..samba.settings()
    })
    .expect("valid settings");
    let started = Instant::now();
    assert!(matches!(
        block(ad.health()),
        Err(DirectoryError::Unavailable(_))
    ));
    let health = started.elapsed();
    assert!(matches!(
        block(ad.find("anyone")),
        Err(DirectoryError::Unavailable(_))
    ));
    let find = started.elapsed() - health;
    eprintln!("two calls to a silent directory, timeout 1 s: {health:?} and {find:?}");
    // Each within the timeout and a margin, well before the listener lets go (5 s): a
    // timeout not applied would wait for that instead.
    for took in [health, find] {
        assert!(took < Duration::from_millis(2500), "{took:?}");
    }
    let _ = holder.join();
}

#[test]
fn group_membership_for_the_helpdesk_roles_is_followed_through_nested_groups() {
    let samba = shared();
    let desk = format!("CN=Service Desk,{}", samba::STAFF_OU);
    let tier2 = format!("CN=Service Desk Tier 2,{}", samba::STAFF_OU);
    for (group, name) in [(&desk, "servicedesk"), (&tier2, "servicedesk2")] {
        samba
            .ldapmodify(&format!(
                "dn: {group}\nchangetype: add\nobjectClass: group\nsAMAccountName: {name}\n"
            ))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    samba
        .add_member(&desk, &tier2)
        .unwrap_or_else(|e| panic!("{e}"));
    let (direct, direct_dn) = employee(&samba, "olgad");
    let (nested, nested_dn) = employee(&samba, "ottod");
    let (outside, _) = employee(&samba, "danad");
    samba
        .add_member(&desk, &direct_dn)
        .unwrap_or_else(|e| panic!("{e}"));
    samba
        .add_member(&tier2, &nested_dn)
        .unwrap_or_else(|e| panic!("{e}"));
    let ad = directory(&samba);
    for (who, member) in [(&direct, true), (&nested, true), (&outside, false)] {
        let account = found(&ad, who);
        assert_eq!(
            block(ad.in_group(&account, &desk)).unwrap(),
            member,
            "{who}"
        );
    }
}
