//! The store's contract, checked on both stores: every assertion runs on a SQLite file and
//! on a real PostgreSQL database (a throwaway cluster, `tests/src/postgres.rs`). Races run
//! on two PostgreSQL stores over one database (two replicas), and on one SQLite store from
//! several threads.

#[path = "../../tests/src/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cityauth_protocol::wire::{Challenge, ChallengeKind, SignedChallenge};
use cityauth_server::store::{
    CLAIM_SECONDS, ChallengeState, Contact, Durability, Factor, Flow, FlowState, NewDevice,
    NewUser, PhoneActivity, Store, StoreError, StoreLocation, StoredChallenge,
};

/// One kind of store: a first "replica" and a second over the same database.
struct Kind {
    name: &'static str,
    a: Arc<dyn Store>,
    b: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

fn sqlite() -> Kind {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreLocation::Sqlite(dir.path().join("db.sqlite"))
        .open(Durability::Normal)
        .unwrap();
    Kind {
        name: "sqlite",
        a: store.clone(),
        b: store,
        _dir: Some(dir),
    }
}

fn pg_url() -> String {
    postgres::Postgres::shared().fresh_database().unwrap()
}

fn pg() -> Kind {
    let url = pg_url();
    let open = || {
        StoreLocation::parse(&url)
            .open_with(Durability::Normal, 4)
            .unwrap()
    };
    Kind {
        name: "postgres",
        a: open(),
        b: open(),
        _dir: None,
    }
}

fn kinds() -> [Kind; 2] {
    [sqlite(), pg()]
}

fn user(store: &dyn Store, name: &str) -> i64 {
    store
        .user_create(&NewUser {
            username: name.into(),
            display_name: name.into(),
            password_hash: "hash".into(),
            created_at: 1,
        })
        .unwrap()
}

fn device(store: &dyn Store, user_id: i64, id: &str) {
    let code = format!("code-{id}").into_bytes();
    store.enrollment_code_create(&code, user_id, 1_000).unwrap();
    let enrolled = store.enroll(&code, 10, &new_device(id)).unwrap();
    assert_eq!(enrolled, Some(user_id));
}

fn new_device(id: &str) -> NewDevice {
    NewDevice {
        id: id.into(),
        public_key: vec![7; 32],
        name: "phone".into(),
        platform: "android".into(),
        push_token: Some("token-1".into()),
        created_at: 10,
        oath_secret: Some(vec![1; 20]),
    }
}

fn flow(id: &str, user_id: i64, state: FlowState) -> Flow {
    Flow {
        id: id.into(),
        kind: ChallengeKind::PasswordReset,
        username: "alice".into(),
        user_id: Some(user_id),
        number: "42".into(),
        state,
        code_tries: 0,
        client_ip: "::1".into(),
        created_at: 10,
        expires_at: 1_000,
    }
}

fn challenge(id: &str, device_id: &str, flow_id: &str) -> StoredChallenge {
    StoredChallenge {
        signed: SignedChallenge {
            challenge: Challenge {
                id: id.into(),
                device_id: device_id.into(),
                kind: ChallengeKind::PasswordReset,
                account: "alice".into(),
                application: "City portal".into(),
                client_ip: "::1".into(),
                location: "".into(),
                created_at: 10,
                expires_at: 1_000,
                nonce: format!("nonce-{id}"),
                number_digits: 2,
            },
            signature: "sig".into(),
        },
        flow_id: flow_id.into(),
        number: "42".into(),
        state: ChallengeState::Pending,
    }
}

/// Runs `attempt` from 8 threads, half on each replica; how many succeeded.
fn race(kind: &Kind, attempt: impl Fn(&dyn Store, usize) -> bool + Sync) -> usize {
    let wins = AtomicUsize::new(0);
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|scope| {
        for i in 0..8 {
            let store = if i % 2 == 0 { &kind.a } else { &kind.b };
            let (wins, barrier, attempt) = (&wins, &barrier, &attempt);
            scope.spawn(move || {
                barrier.wait();
                if attempt(store.as_ref(), i) {
                    wins.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    wins.into_inner()
}

#[test]
fn settings_are_set_once_and_replaced() {
    for kind in kinds() {
        let (store, name) = (&kind.a, kind.name);
        assert_eq!(store.setting("k").unwrap(), None, "{name}");
        assert_eq!(store.setting_init("k", b"one").unwrap(), b"one", "{name}");
        assert_eq!(kind.b.setting_init("k", b"two").unwrap(), b"one", "{name}");
        store.setting_set("k", b"three").unwrap();
        store.setting_replace("k", "k2", b"four").unwrap();
        assert_eq!(store.setting("k").unwrap(), None, "{name}");
        assert_eq!(kind.b.setting("k2").unwrap().unwrap(), b"four", "{name}");
        store.ready().unwrap();
        store.purge().unwrap();
        assert_eq!(
            kind.b.setting("k2").unwrap().unwrap(),
            b"four",
            "{name}: purged, kept"
        );
    }
}

#[test]
fn an_address_and_a_language_are_kept_apart_and_cleared() {
    for kind in kinds() {
        let (store, name) = (&kind.a, kind.name);
        let alice = user(store.as_ref(), "alice");
        let bob = user(store.as_ref(), "bob");
        assert_eq!(store.contact(alice).unwrap(), Contact::default(), "{name}");
        store.set_lang(alice, "es").unwrap();
        store.set_mail(alice, Some("alice@city.test")).unwrap();
        kind.b.set_lang(alice, "en").unwrap();
        let expected = Contact {
            mail: Some("alice@city.test".into()),
            lang: Some("en".into()),
        };
        assert_eq!(kind.b.contact(alice).unwrap(), expected, "{name}");
        assert_eq!(store.contact(bob).unwrap(), Contact::default(), "{name}");
        store.set_mail(alice, None).unwrap();
        assert_eq!(store.contact(alice).unwrap().mail, None, "{name}");
        assert_eq!(
            store.contact(alice).unwrap().lang.as_deref(),
            Some("en"),
            "{name}"
        );
    }
}

#[test]
fn a_reminder_is_counted_once_per_session_up_to_the_limit() {
    for kind in kinds() {
        let (store, name) = (&kind.a, kind.name);
        let alice = user(store.as_ref(), "alice");
        for token in [b"s1", b"s2", b"s3"] {
            store.session_create(token, alice, 10, 1_000).unwrap();
        }
        assert_eq!(store.reminders_used(alice).unwrap(), 0, "{name}");
        assert!(!store.reminded(b"s1").unwrap(), "{name}");
        assert_eq!(
            store.reminder_take(alice, b"s1", 2).unwrap(),
            Some(1),
            "{name}"
        );
        assert_eq!(
            kind.b.reminder_take(alice, b"s1", 2).unwrap(),
            Some(1),
            "{name}: the same session counts once"
        );
        assert!(kind.b.reminded(b"s1").unwrap(), "{name}");
        assert_eq!(
            kind.b.reminder_take(alice, b"s2", 2).unwrap(),
            Some(2),
            "{name}"
        );
        assert_eq!(
            store.reminder_take(alice, b"s3", 2).unwrap(),
            None,
            "{name}"
        );
        assert!(
            !store.reminded(b"s3").unwrap(),
            "{name}: none left, not let through"
        );
        assert_eq!(
            store.reminder_take(alice, b"s3", 0).unwrap(),
            None,
            "{name}"
        );
        assert_eq!(store.reminders_used(alice).unwrap(), 2, "{name}");
        // Passed through (a password change's new session) without counting, twice alike.
        store.reminder_pass(b"s3").unwrap();
        kind.b.reminder_pass(b"s3").unwrap();
        assert!(store.reminded(b"s3").unwrap(), "{name}");
        assert_eq!(kind.b.reminders_used(alice).unwrap(), 2, "{name}");
        // A session that ends takes its mark with it.
        assert!(store.session_delete(b"s1").unwrap());
        assert!(!kind.b.reminded(b"s1").unwrap(), "{name}");
    }
}

#[test]
fn the_last_reminders_go_to_as_many_sessions_racing() {
    for kind in kinds() {
        let alice = user(kind.a.as_ref(), "alice");
        for i in 0..8 {
            let token = format!("s{i}");
            kind.a
                .session_create(token.as_bytes(), alice, 10, 1_000)
                .unwrap();
        }
        let wins = race(&kind, |store, i| {
            let token = format!("s{i}");
            store
                .reminder_take(alice, token.as_bytes(), 3)
                .unwrap()
                .is_some()
        });
        assert_eq!(wins, 3, "{}", kind.name);
        assert_eq!(kind.b.reminders_used(alice).unwrap(), 3, "{}", kind.name);
    }
}

#[test]
fn a_phones_last_use_and_confirmation_are_kept_per_device() {
    for kind in kinds() {
        let (store, name) = (&kind.a, kind.name);
        let alice = user(store.as_ref(), "alice");
        let bob = user(store.as_ref(), "bob");
        device(store.as_ref(), alice, "d1");
        device(store.as_ref(), alice, "d2");
        device(store.as_ref(), bob, "d3");
        assert!(store.phone_activity(alice).unwrap().is_empty(), "{name}");
        store.phone_used("d1", 500).unwrap();
        kind.b.phone_used("d1", 400).unwrap();
        store.phone_used("d2", 600).unwrap();
        store.phone_used("gone", 1).unwrap();
        assert!(store.phone_confirm("d1", alice, 700).unwrap(), "{name}");
        assert!(
            !store.phone_confirm("d3", alice, 700).unwrap(),
            "{name}: another account's"
        );
        assert!(!kind.b.phone_confirm("gone", alice, 700).unwrap(), "{name}");
        let activity = kind.b.phone_activity(alice).unwrap();
        assert_eq!(activity.len(), 2, "{name}: {activity:?}");
        assert_eq!(
            activity["d1"],
            PhoneActivity {
                last_used: Some(500),
                confirmed: Some(700),
            },
            "{name}: a last use never goes back"
        );
        assert_eq!(
            activity["d2"],
            PhoneActivity {
                last_used: Some(600),
                confirmed: None,
            },
            "{name}"
        );
        assert!(kind.b.phone_activity(bob).unwrap().is_empty(), "{name}");
        kind.b.phone_confirm("d1", alice, 800).unwrap();
        assert_eq!(
            store.phone_activity(alice).unwrap()["d1"].confirmed,
            Some(800),
            "{name}"
        );
        assert!(store.device_delete("d1").unwrap());
        let activity = store.phone_activity(alice).unwrap();
        assert!(!activity.contains_key("d1"), "{name}: gone with the device");
        assert!(activity.contains_key("d2"), "{name}");
    }
}

#[test]
fn usernames_are_unique_without_regard_to_case() {
    for kind in kinds() {
        let id = user(kind.a.as_ref(), "Alice");
        let again = kind.a.user_create(&NewUser {
            username: "aLICE".into(),
            display_name: "x".into(),
            password_hash: "h".into(),
            created_at: 1,
        });
        assert!(matches!(again, Err(StoreError::Conflict)), "{}", kind.name);
        let found = kind.b.user_by_name("ALICE").unwrap().unwrap();
        assert_eq!(
            (found.id, found.directory_id),
            (id, format!("builtin:{id}"))
        );
        assert!(
            kind.a
                .user_by_directory_id(&format!("builtin:{id}"))
                .unwrap()
                .is_some()
        );
    }
}

#[test]
fn a_rename_keeps_the_row_and_frees_the_old_name_for_its_new_holder() {
    for kind in kinds() {
        let store = kind.a.as_ref();
        let erin = store.user_for_account("guid-1", "erin", "Erin", 1).unwrap();
        assert_eq!(erin.password_hash, "", "{}", kind.name);
        let newcomer = store
            .user_for_account("guid-2", "erin", "Erin New", 2)
            .unwrap();
        assert_ne!(newcomer.id, erin.id);
        let renamed = store
            .user_for_account("guid-1", "erin.married", "Erin M", 3)
            .unwrap();
        assert_eq!(renamed.id, erin.id, "{}: the same row", kind.name);
        assert_eq!(renamed.username, "erin.married");
        assert_eq!(
            store
                .user_by_directory_id("guid-2")
                .unwrap()
                .unwrap()
                .username,
            "erin"
        );
    }
}

#[test]
fn one_new_account_row_when_replicas_see_it_first_at_once() {
    for kind in kinds() {
        race(&kind, |store, _| {
            store.user_for_account("guid-9", "zoe", "Zoe", 1).is_ok()
        });
        let zoe = kind.a.user_by_directory_id("guid-9").unwrap().unwrap();
        assert_eq!(
            kind.b.user_by_name("zoe").unwrap().unwrap().id,
            zoe.id,
            "{}",
            kind.name
        );
    }
}

#[test]
fn a_claimed_flow_cannot_be_claimed_again_until_given_back() {
    for kind in kinds() {
        let store = kind.a.as_ref();
        let id = user(store, "erin");
        store
            .flow_insert(&flow("f", id, FlowState::Verified))
            .unwrap();
        // Each racer records its own sealed password: the one claim that wins holds its own.
        let sealed = |i: usize| format!("sealed-{i}").into_bytes();
        let winner = std::sync::Mutex::new(None);
        assert_eq!(
            race(&kind, |s, i| {
                let won = s.flow_claim("f", id, 10, Some(&sealed(i))).unwrap();
                if won {
                    *winner.lock().unwrap() = Some(i);
                }
                won
            }),
            1,
            "{}",
            kind.name
        );
        let winner = winner.into_inner().unwrap().unwrap();
        let held = kind.b.reset_claim("f", id).unwrap().unwrap();
        assert_eq!(
            (held.claimed_at, held.sealed),
            (10, Some(sealed(winner))),
            "{}: the winner's password, recorded with its claim",
            kind.name
        );
        assert_eq!(store.reset_claim("f", id + 1).unwrap(), None, "its user's");
        assert!(store.flow_unclaim("f").unwrap());
        assert_eq!(store.reset_claim("f", id).unwrap(), None, "given back");
        assert!(
            !store.flow_claim("f", id, 1000, None).unwrap(),
            "not once expired"
        );
        assert!(store.flow_claim("f", id, 10, None).unwrap());
        assert_eq!(
            store.reset_claim("f", id).unwrap().unwrap().sealed,
            None,
            "{}: the given-back claim's password was erased; an unlock records none",
            kind.name
        );
        assert!(
            !kind.b.flow_claim("f", id, 11, Some(b"young")).unwrap(),
            "a young claim holds"
        );
        assert!(
            kind.b
                .flow_claim("f", id, 10 + CLAIM_SECONDS, Some(b"taker"))
                .unwrap(),
            "a claim left by a stopped process is taken again"
        );
        assert_eq!(
            store.reset_claim("f", id).unwrap().unwrap(),
            cityauth_server::store::ResetClaim {
                claimed_at: 10 + CLAIM_SECONDS,
                sealed: Some(b"taker".to_vec()),
            },
            "{}: the taker's password replaces the stale claim's",
            kind.name
        );
        assert!(store.flow_finish("f", id).unwrap());
        assert!(!store.flow_unclaim("f").unwrap(), "done stays done");
        assert_eq!(store.flow("f").unwrap().unwrap().state, FlowState::Done);
        assert_eq!(store.reset_claim("f", id).unwrap(), None);
    }
}

#[test]
fn a_password_changes_claim_keeps_its_sealed_pair() {
    for kind in kinds() {
        let store = kind.a.as_ref();
        let id = user(store, "erin");
        let mut change = flow("c", id, FlowState::Pending);
        change.kind = ChallengeKind::PasswordChange;
        store.password_change_insert(&change, b"pair").unwrap();
        assert!(
            store
                .flow_transition("c", FlowState::Pending, FlowState::Verified)
                .unwrap()
        );
        assert!(store.flow_claim("c", id, 10, Some(b"ignored")).unwrap());
        assert_eq!(
            store.password_change_pending("c", id).unwrap().as_deref(),
            Some(&b"pair"[..]),
            "{}",
            kind.name
        );
        assert_eq!(store.reset_claim("c", id).unwrap(), None, "not a reset");
        assert!(store.flow_unclaim("c").unwrap());
        assert!(store.flow_claim("c", id, 10, None).unwrap());
        assert_eq!(
            store.password_change_pending("c", id).unwrap().as_deref(),
            Some(&b"pair"[..]),
            "{}: kept through a retry",
            kind.name
        );
    }
}

#[test]
fn one_answer_decides_a_challenge_across_replicas() {
    for kind in kinds() {
        let store = kind.a.as_ref();
        let id = user(store, "alice");
        device(store, id, "d1");
        let f = flow("f1", id, FlowState::Pending);
        store
            .flow_insert_with(
                &f,
                &[challenge("c1", "d1", "f1"), challenge("c2", "d1", "f1")],
            )
            .unwrap();
        assert_eq!(kind.b.challenges_pending("d1", 20).unwrap().len(), 2);
        let wins = race(&kind, |s, i| {
            let to = if i % 2 == 0 {
                ChallengeState::Approved
            } else {
                ChallengeState::Denied
            };
            let flow_to = if i % 2 == 0 {
                FlowState::Verified
            } else {
                FlowState::Denied
            };
            s.challenge_decide("c1", to, flow_to).unwrap()
        });
        assert_eq!(wins, 1, "{}: exactly one answer counts", kind.name);
        let c1 = kind.b.challenge("c1").unwrap().unwrap().state;
        let flow_state = kind.b.flow("f1").unwrap().unwrap().state;
        assert!(
            matches!(
                (c1, flow_state),
                (ChallengeState::Approved, FlowState::Verified)
                    | (ChallengeState::Denied, FlowState::Denied)
            ),
            "{}: {c1:?} {flow_state:?}",
            kind.name
        );
        assert_eq!(
            kind.a.challenge("c2").unwrap().unwrap().state,
            ChallengeState::Cancelled
        );
        assert!(kind.a.challenges_pending("d1", 20).unwrap().is_empty());
    }
}

#[test]
fn single_use_things_are_used_once_across_replicas() {
    for kind in kinds() {
        let store = kind.a.as_ref();
        let id = user(store, "alice");
        store.enrollment_code_create(b"enroll", id, 1_000).unwrap();
        let enrolled = race(&kind, |s, i| {
            s.enroll(b"enroll", 10, &new_device(&format!("d{i}")))
                .unwrap()
                .is_some()
        });
        assert_eq!(enrolled, 1, "{}: one enrollment per code", kind.name);
        let device_id = kind.b.devices_of(id).unwrap()[0].device.id.clone();

        store
            .access_code_create(b"access", id, 1_000, false)
            .unwrap();
        let used = race(&kind, |s, _| s.access_code_use(b"access", id, 10).unwrap());
        assert_eq!(used, 1, "{}: one use per access code", kind.name);

        let fresh = race(&kind, |s, _| {
            s.nonce_use(&device_id, "n1", 10, 300).unwrap()
        });
        assert_eq!(fresh, 1, "{}: a nonce is accepted once", kind.name);

        let steps = race(&kind, |s, _| s.device_oath_use(&device_id, 5).unwrap());
        assert_eq!(steps, 1, "{}: a TOTP step is accepted once", kind.name);
        assert!(
            !store.device_oath_use(&device_id, 4).unwrap(),
            "an older step"
        );

        store
            .flow_insert(&flow("s", id, FlowState::Verified))
            .unwrap();
        let taken = race(&kind, |s, i| {
            s.flow_take_session("s", format!("tok{i}").as_bytes(), 10, 500)
                .unwrap()
                .is_some()
        });
        assert_eq!(taken, 1, "{}: one session per verified flow", kind.name);
    }
}

#[test]
fn failures_counted_at_once_all_count() {
    for kind in kinds() {
        race(&kind, |s, _| {
            (0..25).all(|_| s.failure_add("bob", Factor::Password).is_ok())
        });
        let counted = kind.a.failures("bob", Factor::Password).unwrap();
        assert_eq!(counted, 200, "{}: 8 threads × 25", kind.name);
        kind.b.failures_clear("bob", Factor::Password).unwrap();
        assert_eq!(kind.a.failures("bob", Factor::Password).unwrap(), 0);
    }
}

#[test]
fn a_new_password_ends_sessions_flows_and_codes() {
    for kind in kinds() {
        let store = kind.a.as_ref();
        let id = user(store, "alice");
        device(store, id, "d1");
        store.session_create(b"tok", id, 10, 500).unwrap();
        assert_eq!(kind.b.session_user(b"tok", 20).unwrap().unwrap().id, id);
        store
            .flow_insert_with(
                &flow("f", id, FlowState::Pending),
                &[challenge("c", "d1", "f")],
            )
            .unwrap();
        store.enrollment_code_create(b"unused", id, 1_000).unwrap();
        store.user_set_password(id, "new-hash").unwrap();
        assert!(
            kind.b.session_user(b"tok", 20).unwrap().is_none(),
            "{}",
            kind.name
        );
        assert_eq!(store.flow("f").unwrap().unwrap().state, FlowState::Denied);
        assert_eq!(
            store.challenge("c").unwrap().unwrap().state,
            ChallengeState::Cancelled
        );
        assert!(
            store
                .enroll(b"unused", 10, &new_device("d2"))
                .unwrap()
                .is_none()
        );
    }
}

#[test]
fn a_fraud_report_blocks_and_ends_everything() {
    for kind in kinds() {
        let store = kind.a.as_ref();
        let id = user(store, "alice");
        device(store, id, "d1");
        store.session_create(b"tok", id, 10, 500).unwrap();
        store
            .access_code_create(b"access", id, 1_000, false)
            .unwrap();
        store
            .flow_insert_with(
                &flow("f", id, FlowState::Pending),
                &[challenge("c", "d1", "f")],
            )
            .unwrap();
        assert!(
            kind.b.challenge_report_fraud("c", id).unwrap(),
            "{}",
            kind.name
        );
        assert!(
            !store.challenge_report_fraud("c", id).unwrap(),
            "answered once"
        );
        assert!(store.user_by_id(id).unwrap().unwrap().blocked);
        assert!(store.session_user(b"tok", 20).unwrap().is_none());
        assert!(!store.access_code_use(b"access", id, 20).unwrap());
        assert_eq!(
            store.challenge("c").unwrap().unwrap().state,
            ChallengeState::Fraud
        );
    }
}

#[test]
fn removing_a_device_denies_what_it_approved_and_clears_its_token_only_if_current() {
    for kind in kinds() {
        let store = kind.a.as_ref();
        let id = user(store, "alice");
        device(store, id, "d1");
        assert!(!store.device_push_token_stale("d1", "other").unwrap());
        assert!(
            store.device_push_token_stale("d1", "token-1").unwrap(),
            "{}",
            kind.name
        );
        assert_eq!(store.device("d1").unwrap().unwrap().device.push_token, None);
        store
            .flow_insert_with(
                &flow("f", id, FlowState::Pending),
                &[challenge("c", "d1", "f")],
            )
            .unwrap();
        assert!(
            store
                .challenge_decide("c", ChallengeState::Approved, FlowState::Verified)
                .unwrap()
        );
        assert!(kind.b.device_delete("d1").unwrap());
        assert!(!store.device_delete("d1").unwrap());
        assert_eq!(
            store.flow("f").unwrap().unwrap().state,
            FlowState::Denied,
            "{}",
            kind.name
        );
    }
}

#[test]
fn sessions_bindings_and_audit() {
    for kind in kinds() {
        let store = kind.a.as_ref();
        let id = user(store, "alice");
        store.session_create(b"tok", id, 10, 500).unwrap();
        assert!(!store.session_may_enroll(b"tok", 20).unwrap());
        store.session_grant_enrollment(b"tok").unwrap();
        assert!(kind.b.session_may_enroll(b"tok", 20).unwrap());
        assert_eq!(
            race(&kind, |s, _| s.session_take_enrollment(b"tok", 20).unwrap()),
            1
        );
        assert!(store.session_delete(b"tok").unwrap());
        assert!(!store.session_delete(b"tok").unwrap(), "{}", kind.name);

        store
            .flow_insert(&flow("f", id, FlowState::Pending))
            .unwrap();
        assert_eq!(store.flow_binding("f").unwrap(), None);
        assert!(store.flow_bind("f", b"browser").unwrap());
        assert!(!kind.b.flow_bind("f", b"other").unwrap());
        assert_eq!(store.flow_binding("f").unwrap().unwrap(), b"browser");
        assert_eq!(store.flow_code_try("f").unwrap(), 1);
        assert_eq!(kind.b.flow_code_try("f").unwrap(), 2);
        assert!(
            store
                .flow_transition("f", FlowState::Pending, FlowState::Denied)
                .unwrap()
        );
        assert!(
            !store
                .flow_transition("f", FlowState::Pending, FlowState::Denied)
                .unwrap()
        );

        for (i, who) in ["Alice", "bob", "alice"].iter().enumerate() {
            store
                .audit(&cityauth_server::store::AuditEvent {
                    time: i as u64,
                    username: Some((*who).into()),
                    event: "e".into(),
                    detail: format!("{i}"),
                    client_ip: None,
                })
                .unwrap();
        }
        let details = |store: &dyn Store| -> Vec<String> {
            let events = store.audit_list(Some("ALICE"), 10).unwrap();
            events.into_iter().map(|e| e.detail).collect()
        };
        assert_eq!(
            details(store),
            ["2", "0"],
            "{}: newest first, any case",
            kind.name
        );
        assert_eq!(store.audit_list(None, 2).unwrap().len(), 2);
        // The other replica sees them once written: its own queue is not this one's.
        kind.a
            .audit(&cityauth_server::store::AuditEvent {
                time: 9,
                username: Some("alice".into()),
                event: "e".into(),
                detail: "9".into(),
                client_ip: None,
            })
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while details(kind.b.as_ref()).len() < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(details(kind.b.as_ref()), ["9", "2", "0"], "{}", kind.name);
    }
}

#[test]
fn queued_audit_events_are_written_when_the_store_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let file = StoreLocation::Sqlite(dir.path().join("db.sqlite"));
    let url = pg_url();
    for location in [file, StoreLocation::parse(&url)] {
        let event = cityauth_server::store::AuditEvent {
            time: 7,
            username: Some("alice".into()),
            event: "reset_started".into(),
            detail: "queued".into(),
            client_ip: Some("127.0.0.1".into()),
        };
        let store = location.open(Durability::Normal).unwrap();
        for _ in 0..3 {
            store.audit(&event).unwrap();
        }
        drop(store);
        let reopened = location.open(Durability::Normal).unwrap();
        let events = reopened.audit_list(Some("alice"), 10).unwrap();
        assert_eq!(events.len(), 3, "{location:?}");
        assert_eq!(events[0].client_ip.as_deref(), Some("127.0.0.1"));
    }
}
