//! The server's side of the directory contract on a real slapd (ppolicy, TLS from a test
//! CA, the least-privilege service account): the reset's claim against two submits and
//! against a process that stopped mid-write, a real ppolicy expiry as the sign-in answers
//! it, the directory's published policy checked before the write, the help desk's access
//! codes, a connection an admin command opened, a locked client and an empty password
//! that never reach the directory, and a hung (frozen) slapd answered within the timeout
//! while the server's other requests are served. The employee's own journey (enroll, reset, history,
//! disabled, protected, lockout and unlock, outage, rename, injection) is in
//! `directory_e2e_ldap.rs`.

mod on_slapd;

use cityauth_e2e::directory::{self, error};
use cityauth_e2e::slapd::FIRST_PASSWORD;
use cityauth_server::admin;
use on_slapd::{Frozen, OnSlapd, twenty_characters};
use serde_json::json;

const NEW_PASSWORD: &str = "Velvet-Harbor-Quince-Drum-8";
const OTHER_PASSWORD: &str = "Another-Fine-Password-77";

#[test]
fn two_submits_of_one_reset_cannot_both_write() {
    // Long enough that the freeze below is never taken for an outage.
    let on = OnSlapd::start_with(
        |_| {},
        |s| s.timeout = std::time::Duration::from_secs(120),
        |_| {},
    );
    let phone = on.employee_with_phone("dana");
    let reset = on.city.verified_reset("dana", &phone);
    let url = on.city.url();
    let path = format!("/api/v1/reset/{reset}/password");
    let passwords = [NEW_PASSWORD, OTHER_PASSWORD];
    // Both submits pass the "is it verified?" check and wait on the frozen directory; let
    // go together, only the claim keeps the second from writing too.
    let frozen = Frozen::new(&on.slapd);
    let replies: Vec<(u16, serde_json::Value)> = std::thread::scope(|scope| {
        let submits: Vec<_> = passwords
            .iter()
            .map(|p| {
                let (url, path) = (&url, &path);
                scope.spawn(move || directory::api(url, path, &json!({ "password": p })))
            })
            .collect();
        frozen.wait_for_requests(2, || submits.iter().any(|s| s.is_finished()));
        drop(frozen);
        submits.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let mut outcomes: Vec<_> = replies.iter().map(|(s, b)| (*s, error(b))).collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![(200, ""), (409, "already_answered")],
        "{replies:?}"
    );
    let winner = passwords[replies.iter().position(|(s, _)| *s == 200).unwrap()];
    let loser = passwords[replies.iter().position(|(s, _)| *s != 200).unwrap()];
    assert!(
        on.slapd.bind("dana", winner),
        "the winner's password is set"
    );
    assert!(!on.slapd.bind("dana", loser), "the other was never written");
    assert!(!on.slapd.bind("dana", FIRST_PASSWORD));
    assert_eq!(
        on.slapd.attribute("dana", "pwdHistory").len(),
        1,
        "the directory saw one password change"
    );
    assert_eq!(
        on.city.audited("dana", "password_reset"),
        1,
        "{:?}",
        on.city.audit("dana")
    );
    assert_eq!(on.city.reset_state(&reset), "done");
}

#[test]
fn a_reset_claimed_by_a_server_that_stopped_mid_write_is_retryable_later() {
    let on = OnSlapd::start();
    let phone = on.employee_with_phone("dana");
    let reset = on.city.verified_reset("dana", &phone);
    // As a process stopped between the claim and the directory's answer leaves the row.
    let claimed = |at: u64| {
        on.database()
            .execute(
                "UPDATE flows SET state = 'claimed', claimed_at = ?2 WHERE id = ?1",
                rusqlite::params![reset, at as i64],
            )
            .unwrap();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    claimed(now);
    let (status, body) = on.city.set_password(&reset, NEW_PASSWORD);
    assert_eq!((status, error(&body)), (409, "already_answered"));
    assert_eq!(on.city.reset_state(&reset), "verified", "to the browser");
    assert!(on.slapd.bind("dana", FIRST_PASSWORD), "nothing written");
    claimed(now - cityauth_server::store::CLAIM_SECONDS - 1);
    let (status, body) = on.city.set_password(&reset, NEW_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert!(on.slapd.bind("dana", NEW_PASSWORD));
    assert!(!on.slapd.bind("dana", FIRST_PASSWORD));
}

#[test]
fn an_expired_password_is_told_to_its_owner_only() {
    let on = OnSlapd::start();
    on.employee("dana");
    on.slapd.expire("dana");
    let (status, body) = on.city.sign_in("dana", FIRST_PASSWORD);
    assert_eq!((status, error(&body)), (403, "password_expired"), "{body}");
    let (status, body) = on.city.sign_in("dana", "Not-The-Password-At-All-1");
    assert_eq!(
        (status, error(&body)),
        (401, "invalid_credentials"),
        "{body}"
    );
}

#[test]
fn the_directory_policy_is_checked_before_the_write() {
    let on = OnSlapd::start_with(twenty_characters, |_| {}, |_| {});
    let phone = on.employee_with_phone("dana");
    let reset = on.city.verified_reset("dana", &phone);
    // Long enough for our rules (15), too short for the directory's (20).
    let (status, body) = on.city.set_password(&reset, "Amber-Signal-42xyz");
    assert_eq!((status, error(&body)), (422, "directory_refused"), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("at least 20"),
        "{body}"
    );
    assert_eq!(on.city.reset_state(&reset), "verified");
    // Refused before the write: the directory was never asked to refuse it.
    assert_eq!(
        on.city.audited("dana", "directory_refused"),
        0,
        "{:?}",
        on.city.audit("dana")
    );
    assert!(on.slapd.bind("dana", FIRST_PASSWORD));
    assert!(on.slapd.attribute("dana", "pwdHistory").is_empty());
    let (status, body) = on.city.set_password(&reset, "Amber-Signal-Orchard-4711");
    assert_eq!(status, 200, "{body}");
    assert!(on.slapd.bind("dana", "Amber-Signal-Orchard-4711"));
}

#[test]
fn the_help_desk_gives_a_directory_account_an_access_code_refused_once_it_is_disabled() {
    let on = OnSlapd::start();
    on.employee("dana");
    on.employee("frank");
    assert!(matches!(
        admin::access_code(on.city.state(), "nobody"),
        Err(admin::AdminError::UnknownUser(_))
    ));
    let code = admin::access_code(on.city.state(), "dana").unwrap();
    let (status, body) = on.city.api(
        "/api/v1/signin/access-code",
        json!({"username": "dana", "code": code}),
    );
    assert_eq!(status, 200, "{body}");
    let later = admin::access_code(on.city.state(), "frank").unwrap();
    on.slapd.disable("frank");
    let (status, body) = on.city.api(
        "/api/v1/signin/access-code",
        json!({"username": "frank", "code": later}),
    );
    assert_eq!(
        (status, error(&body)),
        (401, "invalid_credentials"),
        "{body}"
    );
    assert!(matches!(
        admin::create_user(on.city.state(), "gina", "Gina", FIRST_PASSWORD),
        Err(admin::AdminError::NotBuiltIn)
    ));
}

#[test]
fn a_connection_an_admin_command_opened_keeps_serving_the_server() {
    let on = OnSlapd::start();
    on.employee("dana");
    // The help desk's command is the first to use the directory: the pooled connection it
    // opens has its ldap3 driver on the admin commands' runtime, and must outlive it.
    admin::access_code(on.city.state(), "dana").unwrap();
    let (status, body) = on.city.sign_in("dana", FIRST_PASSWORD);
    assert_eq!(status, 200, "{body}");
    admin::access_code(on.city.state(), "dana").unwrap();
    let (status, body) = on.city.sign_in("dana", FIRST_PASSWORD);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_client_locked_for_an_account_costs_the_directory_nothing() {
    let mut on = OnSlapd::start_with(|_| {}, |_| {}, |c| c.limits.lock_after = 2);
    on.employee("dana");
    for _ in 0..2 {
        let (status, _) = on.city.sign_in("dana", "Not-The-Password-At-All-1");
        assert_eq!(status, 401);
    }
    // The client is locked now: answered without the directory, even when it is down...
    on.slapd.stop();
    let (status, body) = on.city.sign_in("dana", FIRST_PASSWORD);
    assert_eq!((status, error(&body)), (423, "locked"), "{body}");
    on.slapd.restart();
    // ...and more guesses than ppolicy's pwdMaxFailure (3) would lock
    // the directory account if they reached it.
    for _ in 0..cityauth_e2e::slapd::MAX_FAILURE + 1 {
        let (status, body) = on.city.sign_in("dana", "Not-The-Password-At-All-1");
        assert_eq!((status, error(&body)), (423, "locked"), "{body}");
    }
    assert_eq!(
        on.slapd.attribute("dana", "pwdFailureTime").len(),
        2,
        "only the first two reached the directory"
    );
    assert!(
        on.slapd
            .attribute("dana", "pwdAccountLockedTime")
            .is_empty(),
        "the directory account is not locked"
    );
    assert!(on.slapd.bind("dana", FIRST_PASSWORD));
}

#[test]
fn an_empty_password_never_reaches_the_directory() {
    let on = OnSlapd::start();
    on.employee("dana");
    // This slapd allows unauthenticated binds (a DN, no password): one would "succeed".
    let (status, body) = on.city.sign_in("dana", "");
    assert_eq!(
        (status, error(&body)),
        (401, "invalid_credentials"),
        "{body}"
    );
    let (status, body) = on.city.sign_in("dana", FIRST_PASSWORD);
    assert_eq!(status, 200, "{body}");
}

/// Prints the reset start's timings on slapd, for a known account with a phone, a
/// protected one with a phone and an unknown name (no assertion: timings are measured, not
/// asserted).
/// `cargo test -p cityauth-e2e --test directory_server -- --ignored --nocapture timing`
#[test]
#[ignore]
fn reset_start_timing_figures_on_slapd() {
    use cityauth_e2e::slapd::ADMINS_GROUP;
    use cityauth_server::limits::Limit;
    let wide = Limit {
        max: 100_000,
        window: 600,
    };
    let on = OnSlapd::start_with(
        |_| {},
        |_| {},
        |c| {
            let l = &mut c.limits;
            for limit in [
                &mut l.reset_start_per_ip,
                &mut l.reset_start_per_user_ip,
                &mut l.reset_start_per_user,
                &mut l.push_anonymous,
            ] {
                *limit = wide;
            }
        },
    );
    on.employee_with_phone("dana");
    on.employee_with_phone("root");
    on.slapd
        .add_member(ADMINS_GROUP, &cityauth_e2e::slapd::Slapd::user_dn("root"));
    let runs = 201;
    let mut times: [Vec<f64>; 3] = Default::default();
    for _ in 0..runs {
        for (i, name) in ["dana", "root", "nobody"].iter().enumerate() {
            let started = std::time::Instant::now();
            let (status, _) = on.city.start_reset(name);
            times[i].push(started.elapsed().as_secs_f64() * 1e3);
            assert_eq!(status, 200);
        }
    }
    for list in &mut times {
        list.sort_by(f64::total_cmp);
    }
    let [known, protected, unknown] = times.map(|t| t[runs / 2]);
    println!(
        "reset start on slapd ({runs} runs each): median known with a phone {known:.3} ms, \
         protected with a phone {protected:.3} ms, unknown {unknown:.3} ms"
    );
}

/// A GET on a connection of its own: the status and how long the answer took.
fn timed_get(url: &str) -> (u16, std::time::Duration) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let started = std::time::Instant::now();
    let status = agent.get(url).call().expect("the server answers").status();
    (status.as_u16(), started.elapsed())
}

#[test]
fn a_hung_directory_is_unavailable_within_the_timeout_and_other_requests_are_still_served() {
    let timeout = std::time::Duration::from_secs(2);
    let on = OnSlapd::start_with(|_| {}, |s| s.timeout = timeout, |_| {});
    on.employee("dana");
    // The pool holds a live connection first: the hang is on a connection already open.
    let (status, body) = on.city.sign_in("dana", FIRST_PASSWORD);
    assert_eq!(status, 200, "{body}");
    let url = on.city.url();
    let frozen = Frozen::new(&on.slapd);
    let (signed, took, others) = std::thread::scope(|scope| {
        let sign_in = scope.spawn(|| {
            let started = std::time::Instant::now();
            let reply = directory::api(
                &url,
                "/api/v1/signin",
                &json!({"username": "dana", "password": FIRST_PASSWORD}),
            );
            (reply, started.elapsed())
        });
        // While the sign-in waits on the directory, what does not need it is answered.
        frozen.wait_for_requests(1, || sign_in.is_finished());
        let others = [
            timed_get(&format!("{url}/healthz")),
            timed_get(&format!("{url}/api/v1/server-key")),
        ];
        let still_waiting = !sign_in.is_finished();
        let (signed, took) = sign_in.join().unwrap();
        assert!(still_waiting, "the sign-in was answered before the others");
        (signed, took, others)
    });
    drop(frozen);
    assert_eq!(
        (signed.0, error(&signed.1)),
        (503, "directory_unavailable"),
        "{signed:?}"
    );
    eprintln!(
        "sign-in on a frozen slapd, timeout {timeout:?}: answered after {took:?}; others: {others:?}"
    );
    // slapd stays frozen as long as the test wants: only the server's timeout ends the wait.
    assert!(took >= timeout, "{took:?}");
    assert!(
        took < timeout + std::time::Duration::from_secs(2),
        "{took:?}"
    );
    for (status, elapsed) in others {
        assert_eq!(status, 200);
        assert!(elapsed < std::time::Duration::from_secs(1), "{elapsed:?}");
    }
    // Thawed, the directory serves the next sign-in.
    let (status, body) = on.city.sign_in("dana", FIRST_PASSWORD);
    assert_eq!(status, 200, "{body}");
}
