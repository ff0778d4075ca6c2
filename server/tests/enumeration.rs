//! Username enumeration (issue 9, item 11): the same answers for unknown, locked, disabled
//! and blocked accounts, and the timing figures (printed, not asserted).

mod common;

use cityauth_protocol::wire::Decision;
use common::clients::*;
use common::*;

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

    // The reproduction: ten wrong passwords, then the reset code check.
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
/// `cargo test -p cityauth-server --test enumeration -- --ignored --nocapture enumeration_timing`
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
