//! The limits of issue 9, over real HTTP on loopback, with a second client address
//! (127.0.0.2 and up) for the stranger: code guessing across lockouts (item 5), the push cap
//! (6), targeted lockouts (7), bounded input (8), enumeration (11) and wrong numbers on the
//! phone (18).

mod common;

use std::time::Duration;

use cityauth_protocol::wire::{ChallengeKind, Decision};
use cityauth_server::limits::Limit;
use cityauth_server::store::Factor;
use common::*;
use serde_json::{Value, json};

const STRANGER: &str = "127.0.0.2";
const OWNER: &str = "127.0.0.1";
const WRONG_PASSWORD: &str = "Not-The-Password-123";

const WIDE: Limit = Limit {
    max: 100_000,
    window: 600,
};

/// A code that none of the accepted steps (the current one and its neighbours) gives.
fn wrong_code(device: &TestDevice) -> String {
    let step = now() / 30;
    let taken: Vec<String> = (step - 2..=step + 2)
        .map(|s| cityauth_server::totp::code_at(&device.oath_secret, s))
        .collect();
    (0..)
        .map(|n| format!("{n:06}"))
        .find(|c| !taken.contains(c))
        .unwrap()
}

fn start_from(h: &Harness, from: &str, username: &str) -> Reply {
    h.post_from(
        from,
        "/api/v1/reset/start",
        &json!({ "username": username }),
    )
}

/// Starts a reset from `from` and sends one code for it.
fn code_from(h: &Harness, from: &str, username: &str, code: &str) -> Reply {
    let start = start_from(h, from, username);
    assert_eq!(start.status, 200, "{start:?}");
    let id = start.body["reset_id"].as_str().unwrap();
    h.post_from(
        from,
        &format!("/api/v1/reset/{id}/code"),
        &json!({ "code": code }),
    )
}

fn sign_in_from(h: &Harness, from: &str, username: &str, password: &str) -> Reply {
    h.post_from(
        from,
        "/api/v1/signin",
        &json!({"username": username, "password": password}),
    )
}

/// The account's consecutive failures of `factor`, as stored.
fn stored_failures(h: &Harness, name: &str, factor: Factor) -> u32 {
    h.state().store().failures(name, factor).unwrap()
}

/// Approves the newest pending challenge with `number` on `device`.
fn approve(h: &Harness, device: &TestDevice, kind: ChallengeKind, number: &str) {
    let challenge = device.poll(h, 5).pop().unwrap();
    assert_eq!(challenge.challenge.kind, kind);
    let reply = device.answer(h, &challenge, Decision::Approve, Some(number));
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// The whole sign-in of the owner from `from`: password, approval, session.
fn owner_signs_in(h: &Harness, device: &TestDevice, from: &str, password: &str) -> String {
    let reply = sign_in_from(h, from, "alice", password);
    assert_eq!(reply.status, 200, "the owner's sign-in: {reply:?}");
    let id = reply.body["signin_id"].as_str().unwrap().to_owned();
    approve(
        h,
        device,
        ChallengeKind::SignIn,
        reply.body["number"].as_str().unwrap(),
    );
    let session = h.post_from(from, &format!("/api/v1/signin/{id}/session"), &json!({}));
    assert_eq!(session.status, 200, "{session:?}");
    session.body["session"].as_str().unwrap().to_owned()
}

// Item 5.

#[test]
fn code_failures_survive_lockouts_until_the_cap_and_only_a_success_clears_them() {
    // A second of lock instead of 15 minutes, and a cap of 25 instead of 100, keep the test
    // short; the rule is the same.
    let h = Harness::with_config(|c| {
        c.limits.lock_seconds = 1;
        c.limits.disable_after = 25;
        c.limits.reset_start_per_user_ip = WIDE;
        c.limits.reset_start_per_user = WIDE;
        c.limits.reset_start_per_ip = WIDE;
        c.limits.code_per_user_ip = WIDE;
        c.limits.code_per_user = WIDE;
        c.limits.code_per_ip = WIDE;
        c.limits.push_anonymous = WIDE;
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    let wrong = wrong_code(&device);
    let failures = |n: usize| {
        for _ in 0..n {
            let reply = code_from(&h, OWNER, "alice", &wrong);
            assert_eq!((reply.status, reply.error()), (422, "wrong_code"));
        }
        let locked = code_from(&h, OWNER, "alice", &wrong);
        assert_eq!((locked.status, locked.error()), (423, "locked"));
    };
    failures(10);
    assert_eq!(stored_failures(&h, "alice", Factor::Code), 10);
    std::thread::sleep(Duration::from_millis(1100));
    failures(10);
    assert_eq!(
        stored_failures(&h, "alice", Factor::Code),
        20,
        "the count survived the lockout"
    );
    // The second lock lasts twice as long.
    std::thread::sleep(Duration::from_millis(2100));
    for _ in 0..5 {
        let reply = code_from(&h, OWNER, "alice", &wrong);
        assert_eq!((reply.status, reply.error()), (422, "wrong_code"));
    }
    assert_eq!(stored_failures(&h, "alice", Factor::Code), 25);
    // At the cap the codes are refused from any client, the right one too.
    for from in [OWNER, STRANGER] {
        let reply = code_from(&h, from, "alice", &device.code());
        assert_eq!(
            (reply.status, reply.error()),
            (423, "locked"),
            "from {from}"
        );
    }
    // A success through another path (an approval on the phone) clears the count.
    let start = start_from(&h, OWNER, "alice");
    approve(
        &h,
        &device,
        ChallengeKind::PasswordReset,
        start.body["number"].as_str().unwrap(),
    );
    assert_eq!(stored_failures(&h, "alice", Factor::Code), 0);
    let reply = code_from(&h, STRANGER, "alice", &device.code());
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[test]
fn a_hundred_wrong_codes_from_many_clients_disable_the_codes() {
    // The default numbers: 10 failures lock a (username, client) pair, 100 the account's codes.
    let h = Harness::with_config(|c| {
        c.limits.code_per_user = WIDE;
        c.limits.reset_start_per_user_ip = WIDE;
        c.limits.reset_start_per_user = WIDE;
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    let wrong = wrong_code(&device);
    for n in 2..=11 {
        let from = format!("127.0.0.{n}");
        for _ in 0..10 {
            let reply = code_from(&h, &from, "alice", &wrong);
            assert_eq!(reply.status, 422, "{reply:?}");
        }
    }
    assert_eq!(stored_failures(&h, "alice", Factor::Code), 100);
    let reply = code_from(&h, OWNER, "alice", &device.code());
    assert_eq!((reply.status, reply.error()), (423, "locked"));
}

// Item 6.

#[test]
fn a_flood_of_anonymous_reset_starts_does_not_silence_the_owners_sign_in() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    for _ in 0..5 {
        assert_eq!(start_from(&h, STRANGER, "alice").status, 200);
    }
    assert_eq!(device.poll(&h, 0).len(), 5);
    // The anonymous cap is reached: a sixth start (from yet another address) answers as
    // usual but pushes nothing, and the flood is in the audit log.
    assert_eq!(start_from(&h, "127.0.0.3", "alice").status, 200);
    assert_eq!(h.state().sent_pushes().len(), 5);
    // The owner's sign-in with the right password still reaches the phone.
    let session = owner_signs_in(&h, &device, OWNER, PASSWORD);
    assert_eq!(h.state().sent_pushes().len(), 6);
    // And the owner sees the flood.
    let headers = [("authorization".to_owned(), format!("Bearer {session}"))];
    let notices = h.send("GET", "/api/v1/session/notices", &headers, None);
    assert_eq!(notices.status, 200, "{notices:?}");
    let list = notices.body["notices"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["event"], "push_flood");
    assert_eq!(list[0]["client_ip"], "127.0.0.3");
    let events = cityauth_server::admin::audit(h.state(), Some("alice"), 100).unwrap();
    assert!(events.iter().any(|e| e.event == "push_flood"));
    let anonymous = h.send("GET", "/api/v1/session/notices", &[], None);
    assert_eq!(anonymous.status, 401);
}

#[test]
fn the_push_count_decays_with_time() {
    let h = Harness::with_config(|c| {
        c.limits.push_anonymous = Limit { max: 2, window: 2 };
    });
    h.add_user("alice");
    let _device = h.enroll("alice");
    for _ in 0..3 {
        h.start_reset("alice");
    }
    assert_eq!(
        h.state().sent_pushes().len(),
        2,
        "the third is over the cap"
    );
    // One push per second comes back.
    std::thread::sleep(Duration::from_millis(1200));
    h.start_reset("alice");
    assert_eq!(h.state().sent_pushes().len(), 3);
}

// Item 7.

#[test]
fn a_stranger_at_another_address_cannot_lock_the_owner_out() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let access_code = cityauth_server::admin::access_code(h.state(), "alice").unwrap();
    // The issue's reproduction: about 25 requests from a second address.
    for _ in 0..10 {
        let reply = sign_in_from(&h, STRANGER, "alice", WRONG_PASSWORD);
        assert_eq!(reply.status, 401, "{reply:?}");
    }
    let locked = sign_in_from(&h, STRANGER, "alice", PASSWORD);
    assert_eq!(
        (locked.status, locked.error()),
        (423, "locked"),
        "the stranger's address is locked, even with the right password"
    );
    for n in 0..10 {
        let reply = start_from(&h, STRANGER, "alice");
        assert_eq!(reply.status, if n < 5 { 200 } else { 429 }, "{reply:?}");
    }
    for _ in 0..5 {
        let body = json!({"username": "alice", "code": "not-the-code"});
        let reply = h.post_from(STRANGER, "/api/v1/signin/access-code", &body);
        assert!(matches!(reply.status, 401 | 429), "{reply:?}");
    }
    // The owner, from their own address: sign-in, reset, access code.
    owner_signs_in(&h, &device, OWNER, PASSWORD);
    let start = start_from(&h, OWNER, "alice");
    assert_eq!(start.status, 200, "{start:?}");
    approve(
        &h,
        &device,
        ChallengeKind::PasswordReset,
        start.body["number"].as_str().unwrap(),
    );
    let body = json!({"username": "alice", "code": access_code});
    let reply = h.post_from(OWNER, "/api/v1/signin/access-code", &body);
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[test]
fn failures_from_many_clients_disable_the_password_and_the_phone_still_resets_it() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    for n in 2..=11 {
        let from = format!("127.0.0.{n}");
        for _ in 0..10 {
            assert_eq!(sign_in_from(&h, &from, "alice", WRONG_PASSWORD).status, 401);
        }
    }
    assert_eq!(stored_failures(&h, "alice", Factor::Password), 100);
    let refused = sign_in_from(&h, OWNER, "alice", PASSWORD);
    assert_eq!((refused.status, refused.error()), (423, "locked"));
    // The owner's path: a reset approved on the phone, then the new password.
    let start = start_from(&h, OWNER, "alice");
    let id = start.body["reset_id"].as_str().unwrap();
    approve(
        &h,
        &device,
        ChallengeKind::PasswordReset,
        start.body["number"].as_str().unwrap(),
    );
    let new_password = "Velvet-Harbor-Quince-Drum-8";
    let done = h.post_from(
        OWNER,
        &format!("/api/v1/reset/{id}/password"),
        &json!({ "password": new_password }),
    );
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(stored_failures(&h, "alice", Factor::Password), 0);
    owner_signs_in(&h, &device, OWNER, new_password);
}

// Item 8.

#[test]
fn over_long_fields_are_refused_with_400() {
    let h = Harness::start();
    h.add_user("alice");
    let long_name = "a".repeat(65);
    let long_password = "p".repeat(1025);
    let (reset, _) = h.start_reset("alice");
    let cases: Vec<(String, Value)> = vec![
        (
            "/api/v1/reset/start".into(),
            json!({ "username": long_name }),
        ),
        (
            "/api/v1/signin".into(),
            json!({"username": long_name, "password": PASSWORD}),
        ),
        (
            "/api/v1/signin".into(),
            json!({"username": "alice", "password": long_password}),
        ),
        (
            "/api/v1/signin/access-code".into(),
            json!({"username": long_name, "code": "x"}),
        ),
        (
            "/api/v1/signin/access-code".into(),
            json!({"username": "alice", "code": "x".repeat(65)}),
        ),
        (
            format!("/api/v1/reset/{reset}/code"),
            json!({"code": "1".repeat(65)}),
        ),
        (
            format!("/api/v1/reset/{reset}/password"),
            json!({ "password": long_password }),
        ),
        (
            format!("/api/v1/reset/{}/code", "r".repeat(65)),
            json!({"code": "123456"}),
        ),
    ];
    for (path, body) in cases {
        let reply = h.post(&path, &body);
        assert_eq!(
            (reply.status, reply.error()),
            (400, "bad_request"),
            "{path}"
        );
    }
    let reply = h.get(&format!("/api/v1/signin/{}", "s".repeat(65)));
    assert_eq!(reply.status, 400);
    let big = json!({ "username": "a".repeat(20_000) });
    let reply = h.post("/api/v1/reset/start", &big);
    assert_eq!((reply.status, reply.error()), (413, "too_large"));
    // The portal's forms go through the same bounds.
    let form = format!("username={}", "a".repeat(65));
    let response = h
        .agent
        .post(&h.url("/forgot"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

/// The resident set of this process (the server runs in it), bytes.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// The database file's size once the background checkpoint has copied the WAL into it (the
/// WAL file itself is reused from its start, its size a high-water mark).
fn database_bytes(h: &Harness) -> u64 {
    cityauth_server::admin::audit(h.state(), None, 1).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::metadata(h.db_path()).unwrap().len()
}

#[test]
fn huge_and_many_usernames_keep_memory_and_the_database_small() {
    let h = Harness::with_config(|c| {
        c.limits.reset_start_per_ip = WIDE;
        c.limits.limiter_keys = 1000;
    });
    h.add_user("alice");
    let _device = h.enroll("alice");
    let (memory, disk) = (resident_bytes(), database_bytes(&h));
    // The issue's reproduction: 25 requests with usernames of almost 2 MB.
    let huge = "u".repeat(1_900_000);
    for _ in 0..25 {
        let body = json!({ "username": huge }).to_string();
        let reply = h.send_from(
            OWNER,
            "POST",
            "/api/v1/reset/start",
            &[],
            Some(body.as_bytes()),
        );
        assert!(matches!(reply.status, 413 | 0), "{reply:?}");
    }
    // And 3,000 distinct usernames of the longest length allowed.
    for n in 0..3000 {
        let name = format!("{n:0>64}");
        assert_eq!(
            h.post("/api/v1/reset/start", &json!({ "username": name }))
                .status,
            200
        );
    }
    let events = cityauth_server::admin::audit(h.state(), None, 10_000).unwrap();
    let (memory_grew, disk_grew) = (
        resident_bytes().saturating_sub(memory),
        database_bytes(&h).saturating_sub(disk),
    );

    eprintln!(
        "memory grew {} KiB, the database {} KiB, {} audit rows",
        memory_grew / 1024,
        disk_grew / 1024,
        events.len()
    );
    let (buckets, runs) = h.state().limiter_keys();
    assert!(buckets <= 1000 && runs <= 1000, "{buckets} {runs}");
    // One reset start writes a flow and an audit row of a few hundred bytes.
    assert!(disk_grew < 8 << 20, "the database grew {disk_grew} bytes");
    assert!(
        memory_grew < 64 << 20,
        "the process grew {memory_grew} bytes"
    );
    for event in &events {
        let size =
            event.username.as_deref().map_or(0, str::len) + event.detail.len() + event.event.len();
        assert!(size < 1024, "{event:?}");
    }
}

// Item 11.

#[test]
fn every_answer_is_the_same_for_unknown_locked_disabled_and_blocked_accounts() {
    let h = Harness::with_config(|c| {
        c.limits.reset_start_per_user_ip = WIDE;
        c.limits.reset_start_per_user = WIDE;
    });
    h.add_user("alice");
    let alice_phone = h.enroll("alice");
    h.add_user("bob");
    let bob_phone = h.enroll("bob");
    // Bob reported fraud: his account is blocked.
    h.start_reset("bob");
    let challenge = bob_phone.poll(&h, 5).remove(0);
    bob_phone.answer(&h, &challenge, Decision::Fraud, None);

    // The issue's reproduction: ten wrong passwords, then the reset code check.
    for name in ["alice", "nobody"] {
        for _ in 0..10 {
            assert_eq!(sign_in_from(&h, STRANGER, name, WRONG_PASSWORD).status, 401);
        }
    }
    let wrong = wrong_code(&alice_phone);
    let known = code_from(&h, STRANGER, "alice", &wrong);
    let unknown = code_from(&h, STRANGER, "nobody", &wrong);
    let blocked = code_from(&h, STRANGER, "bob", &wrong);
    assert_eq!((known.status, known.error()), (422, "wrong_code"));
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert_eq!((known.status, &known.body), (blocked.status, &blocked.body));

    // Locked: the real account and the unknown name alike.
    let known = sign_in_from(&h, STRANGER, "alice", WRONG_PASSWORD);
    let unknown = sign_in_from(&h, STRANGER, "nobody", WRONG_PASSWORD);
    assert_eq!((known.status, known.error()), (423, "locked"));
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));

    // Blocked: a wrong password answers as for anyone.
    let blocked = sign_in_from(&h, "127.0.0.3", "bob", WRONG_PASSWORD);
    let unknown = sign_in_from(&h, "127.0.0.3", "nobody2", WRONG_PASSWORD);
    assert_eq!(
        (blocked.status, blocked.error()),
        (401, "invalid_credentials")
    );
    assert_eq!(
        (blocked.status, &blocked.body),
        (unknown.status, &unknown.body)
    );

    // The codes lock alike too.
    for name in ["alice", "nobody"] {
        for _ in 0..10 {
            assert_eq!(code_from(&h, "127.0.0.4", name, &wrong).status, 422);
        }
    }
    let known = code_from(&h, "127.0.0.4", "alice", &alice_phone.code());
    let unknown = code_from(&h, "127.0.0.4", "nobody", &wrong);
    assert_eq!((known.status, known.error()), (423, "locked"));
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
}

#[test]
fn a_disabled_password_answers_as_an_unknown_name_at_the_cap_does() {
    let h = Harness::with_config(|c| c.limits.disable_after = 2);
    h.add_user("alice");
    for name in ["alice", "nobody"] {
        for from in [STRANGER, "127.0.0.3"] {
            assert_eq!(sign_in_from(&h, from, name, WRONG_PASSWORD).status, 401);
        }
    }
    let known = sign_in_from(&h, OWNER, "alice", PASSWORD);
    let unknown = sign_in_from(&h, OWNER, "nobody", PASSWORD);
    assert_eq!((known.status, known.error()), (423, "locked"));
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
}

/// One request to time, given the username.
type Measured<'a> = Box<dyn Fn(&str) + 'a>;

/// The median of `runs` timings of `f`, seconds.
fn median(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = std::time::Instant::now();
            f();
            started.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// Prints the timing figures of item 11 (no assertion: timings are measured, not asserted).
/// `cargo test -p cityauth-server --test limits -- --ignored --nocapture enumeration_timing`
#[test]
#[ignore]
fn enumeration_timing_figures() {
    let h = Harness::with_config(|c| {
        let l = &mut c.limits;
        for limit in [
            &mut l.reset_start_per_ip,
            &mut l.reset_start_per_user_ip,
            &mut l.reset_start_per_user,
            &mut l.code_per_ip,
            &mut l.code_per_user_ip,
            &mut l.code_per_user,
            &mut l.sign_in_per_ip,
            &mut l.sign_in_per_user_ip,
            &mut l.sign_in_per_user,
            &mut l.push_anonymous,
        ] {
            *limit = WIDE;
        }
        l.lock_after = u32::MAX;
        l.disable_after = u32::MAX;
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    // An account without a phone: what the per-phone work (sign, store, push) costs.
    h.add_user("carol");
    let wrong = wrong_code(&device);
    let pairs: [(&str, usize, Measured); 3] = [
        (
            "sign-in, wrong password",
            51,
            Box::new(|name: &str| {
                sign_in_from(&h, OWNER, name, WRONG_PASSWORD);
            }),
        ),
        (
            "reset start",
            1001,
            Box::new(|name: &str| {
                start_from(&h, OWNER, name);
            }),
        ),
        (
            "reset start + wrong code",
            1001,
            Box::new(|name: &str| {
                code_from(&h, OWNER, name, &wrong);
            }),
        ),
    ];
    for (what, runs, f) in pairs.iter() {
        let runs = *runs;
        for name in ["alice", "carol", "nobody"] {
            f(name);
        }
        // Interleaved, so that drift affects all alike.
        let (mut known, mut phoneless, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            known.push(median(1, || f("alice")));
            phoneless.push(median(1, || f("carol")));
            unknown.push(median(1, || f("nobody")));
        }
        for list in [&mut known, &mut phoneless, &mut unknown] {
            list.sort_by(f64::total_cmp);
        }
        let (k, p, u) = (
            known[runs / 2] * 1e3,
            phoneless[runs / 2] * 1e3,
            unknown[runs / 2] * 1e3,
        );
        println!(
            "{what} ({runs} runs each): median known with a phone {k:.3} ms, known without \
             one {p:.3} ms, unknown {u:.3} ms; known - unknown {:+.3} ms ({:+.1} %)",
            k - u,
            (k - u) / u * 100.0
        );
    }
}

// Item 18 (the part of it here).

#[test]
fn wrong_numbers_typed_on_the_phone_count_toward_the_lockout() {
    let h = Harness::with_config(|c| c.limits.lock_after = 3);
    h.add_user("alice");
    let device = h.enroll("alice");
    for _ in 0..3 {
        let reply = sign_in_from(&h, STRANGER, "alice", PASSWORD);
        assert_eq!(reply.status, 200, "{reply:?}");
        let number = reply.body["number"].as_str().unwrap();
        let wrong = if number == "00" { "01" } else { "00" };
        let challenge = device.poll(&h, 5).remove(0);
        let answer = device.answer(&h, &challenge, Decision::Approve, Some(wrong));
        assert_eq!((answer.status, answer.error()), (422, "wrong_number"));
    }
    assert_eq!(stored_failures(&h, "alice", Factor::Password), 3);
    // The browser whose numbers the phone got wrong is locked out; the account counts them.
    let reply = sign_in_from(&h, STRANGER, "alice", PASSWORD);
    assert_eq!((reply.status, reply.error()), (423, "locked"));
}
