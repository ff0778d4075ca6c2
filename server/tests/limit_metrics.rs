//! The limiter's counters for Prometheus move at their events: a refused request counts in
//! `rate_limited` under its action (the push cap under `push`), a pair locked by failures
//! in `lockouts`, and a long poll in `long_polls_waiting` while it waits, whatever ends it.
//! On both stores (`CITYAUTH_TEST_STORE=postgres`: the limiter then counts in PostgreSQL).

mod common;

use std::time::{Duration, Instant};

use cityauth_server::limits::Limit;
use cityauth_server::metrics::ActionLabel;
use common::clients::*;
use common::*;
use serde_json::json;

fn rate_limited(h: &Harness, action: &'static str) -> u64 {
    h.state()
        .metrics()
        .rate_limited
        .get_or_create(&ActionLabel { action })
        .get()
}

#[test]
fn refusals_are_counted_by_the_limit_that_refused_them() {
    let h = Harness::with_config(|c| {
        c.limits.reset_start_per_ip = Limit {
            max: 3,
            window: 600,
        };
        c.limits.push_anonymous = Limit {
            max: 1,
            window: 600,
        };
    });
    h.add_user("alice");
    let _device = h.enroll("alice");
    // The first start pushes; the next two are within the per-address limit but over the
    // anonymous push cap; the fourth is over the per-address limit.
    for expected in [200, 200, 200, 429] {
        let reply = start_from(&h, STRANGER, "alice");
        assert_eq!(reply.status, expected, "{reply:?}");
    }
    assert_eq!(rate_limited(&h, "reset"), 1);
    assert_eq!(rate_limited(&h, "push"), 2);
    assert_eq!(rate_limited(&h, "code"), 0);
}

#[test]
fn a_pair_locked_by_failures_is_one_lockout() {
    let h = Harness::with_config(|c| {
        c.limits.code_per_user_ip = WIDE;
        c.limits.code_per_user = WIDE;
        c.limits.code_per_ip = WIDE;
        c.limits.reset_start_per_user_ip = WIDE;
        c.limits.reset_start_per_user = WIDE;
        c.limits.reset_start_per_ip = WIDE;
        c.limits.push_anonymous = WIDE;
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    let wrong = wrong_code(&device);
    // Ten wrong codes from one address lock that pair: one lockout, at the tenth.
    for _ in 0..10 {
        assert_eq!(h.state().metrics().lockouts.get(), 0);
        let reply = code_from(&h, OWNER, "alice", &wrong);
        assert_eq!(reply.error(), "wrong_code");
    }
    assert_eq!(h.state().metrics().lockouts.get(), 1);
    assert_eq!(code_from(&h, OWNER, "alice", &wrong).error(), "locked");
    assert_eq!(
        h.state().metrics().lockouts.get(),
        1,
        "a refused try locks nothing"
    );
}

#[test]
fn a_waiting_long_poll_is_counted_until_it_answers() {
    let h = Harness::start();
    h.add_user("bob");
    let device = h.enroll("bob");
    let waiting = || h.state().metrics().long_polls_waiting.get();
    assert_eq!(waiting(), 0);
    std::thread::scope(|scope| {
        let poll = scope.spawn(|| device.poll(&h, 20));
        let started = Instant::now();
        while waiting() == 0 && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(waiting(), 1, "the poll waits");
        let reply = h.post("/api/v1/reset/start", &json!({ "username": "bob" }));
        assert_eq!(reply.status, 200);
        assert_eq!(poll.join().unwrap().len(), 1);
    });
    assert_eq!(waiting(), 0, "none waits once it answered");
}
