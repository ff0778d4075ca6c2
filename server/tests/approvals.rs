//! Challenges and answers: long poll, number matching, deny, fraud, expiry, replays.

mod common;

use std::time::{Duration, Instant};

use cityauth_protocol::wire::{ChallengeKind, Decision};
use common::*;

fn enrolled() -> (Harness, TestDevice) {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    (h, device)
}

#[test]
fn long_poll_returns_when_a_reset_starts() {
    let (h, device) = enrolled();
    let started = Instant::now();
    let (challenges, reset) = std::thread::scope(|scope| {
        let poll = scope.spawn(|| device.poll(&h, 20));
        std::thread::sleep(Duration::from_millis(500));
        let reset = h.start_reset("alice");
        (poll.join().unwrap(), reset)
    });
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "woken, not timed out"
    );
    assert_eq!(challenges.len(), 1);
    let c = &challenges[0].challenge;
    assert_eq!(c.kind, ChallengeKind::PasswordReset);
    assert_eq!(c.account, "alice");
    assert_eq!(c.client_ip, "127.0.0.1");
    assert_eq!(c.location, "This computer (loopback)");
    assert_eq!(c.number_digits, 2);
    assert_eq!(reset.1.len(), 2);
    assert!(c.expires_at > c.created_at && c.expires_at - c.created_at <= 120);
    // The push carried only the challenge id.
    let pushes = h.state().sent_pushes();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].challenge_id, c.id);
}

#[test]
fn an_empty_long_poll_waits_then_answers() {
    let (h, device) = enrolled();
    let started = Instant::now();
    assert!(device.poll(&h, 1).is_empty());
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[test]
fn approve_with_the_number_then_set_a_password_ends_sessions() {
    let (h, device) = enrolled();
    let session = cityauth_server::admin::create_session(h.state(), "alice", 3600).unwrap();
    let session_user =
        |token: &str| cityauth_server::admin::session_user(h.state(), token).unwrap();
    assert_eq!(session_user(&session).as_deref(), Some("alice"));

    let (reset, number) = h.start_reset("alice");
    assert_eq!(h.reset_state(&reset), "pending");
    let early = h.post(
        &format!("/api/v1/reset/{reset}/password"),
        &serde_json::json!({"password": "Brand-New-Quokka-Saddle-91"}),
    );
    assert_eq!((early.status, early.error()), (409, "not_verified"));

    let challenges = device.poll(&h, 5);
    let reply = device.answer(&h, &challenges[0], Decision::Approve, Some(&number));
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["outcome"], "approved");
    assert_eq!(h.reset_state(&reset), "verified");
    assert!(
        device.poll(&h, 0).is_empty(),
        "answered challenges are no longer pending"
    );

    let done = h.post(
        &format!("/api/v1/reset/{reset}/password"),
        &serde_json::json!({"password": "Brand-New-Quokka-Saddle-91"}),
    );
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["state"], "done");
    assert_eq!(h.reset_state(&reset), "done");
    assert_eq!(session_user(&session), None, "the old session ended");
    let again = h.post(
        &format!("/api/v1/reset/{reset}/password"),
        &serde_json::json!({"password": "Another-Fresh-Walrus-Tune-77"}),
    );
    assert_eq!((again.status, again.error()), (409, "already_answered"));

    let user = h.state().store().user_by_name("alice").unwrap().unwrap();
    assert!(cityauth_server::password::verify(
        "Brand-New-Quokka-Saddle-91",
        &user.password_hash
    ));
    let events: Vec<String> = cityauth_server::admin::audit(h.state(), Some("alice"), 100)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    for event in [
        "reset_start",
        "push_sent",
        "challenge_answer",
        "password_reset",
    ] {
        assert!(events.iter().any(|e| e == event), "{event} in {events:?}");
    }
}

#[test]
fn a_wrong_number_fails_the_challenge_and_the_reset() {
    let (h, device) = enrolled();
    let (reset, number) = h.start_reset("alice");
    let challenge = &device.poll(&h, 5)[0];
    let wrong = if number == "00" { "01" } else { "00" };
    let reply = device.answer(&h, challenge, Decision::Approve, Some(wrong));
    assert_eq!((reply.status, reply.error()), (422, "wrong_number"));
    let retry = device.answer(&h, challenge, Decision::Approve, Some(&number));
    assert_eq!((retry.status, retry.error()), (409, "already_answered"));
    assert_eq!(h.reset_state(&reset), "denied");
}

#[test]
fn deny_denies_the_reset() {
    let (h, device) = enrolled();
    let (reset, _) = h.start_reset("alice");
    let challenge = &device.poll(&h, 5)[0];
    let reply = device.answer(&h, challenge, Decision::Deny, None);
    assert_eq!(
        (reply.status, reply.body["outcome"].as_str()),
        (200, Some("denied"))
    );
    assert_eq!(h.reset_state(&reset), "denied");
    let password = h.post(
        &format!("/api/v1/reset/{reset}/password"),
        &serde_json::json!({"password": "Brand-New-Quokka-Saddle-91"}),
    );
    assert_eq!((password.status, password.error()), (409, "not_verified"));
}

#[test]
fn fraud_blocks_pushes_until_unblocked() {
    let (h, device) = enrolled();
    let (reset, _) = h.start_reset("alice");
    let challenge = &device.poll(&h, 5)[0];
    let reply = device.answer(&h, challenge, Decision::Fraud, None);
    assert_eq!(
        (reply.status, reply.body["outcome"].as_str()),
        (200, Some("fraud_reported"))
    );
    assert_eq!(h.reset_state(&reset), "denied");

    // The start answers as usual (nothing to tell an attacker), but no push goes out.
    let (_, _) = h.start_reset("alice");
    assert!(device.poll(&h, 1).is_empty());
    assert_eq!(h.state().sent_pushes().len(), 1);

    cityauth_server::admin::unblock(h.state(), "alice").unwrap();
    let (_, _) = h.start_reset("alice");
    assert_eq!(device.poll(&h, 5).len(), 1);
}

#[test]
fn expired_challenges_cannot_be_answered() {
    // Three seconds: long enough that a loaded machine still lists it once before it ends.
    let h = Harness::with_config(|c| c.challenge_lifetime = 3);
    h.add_user("alice");
    let device = h.enroll("alice");
    let (_, number) = h.start_reset("alice");
    let challenge = device.poll(&h, 5).remove(0);
    // Wait from the challenge's own expiry, not a fixed time from here: the server's clock
    // counts whole seconds, so one more second past `expires_at` is past it for certain.
    let expires_at = challenge.challenge.expires_at;
    while now() <= expires_at + 1 {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        device.poll(&h, 0).is_empty(),
        "expired challenges are not listed"
    );
    let reply = device.answer(&h, &challenge, Decision::Approve, Some(&number));
    assert_eq!((reply.status, reply.error()), (410, "expired"));
}

#[test]
fn answers_are_accepted_once() {
    let (h, device) = enrolled();
    let (_, number) = h.start_reset("alice");
    let challenge = &device.poll(&h, 5)[0];
    let body = device.answer_body(challenge, Decision::Approve, Some(&number));
    let path = format!(
        "/api/v1/device/challenges/{}/answer",
        challenge.challenge.id
    );
    let headers = device.headers("POST", &path, &body, now(), &nonce());
    assert_eq!(h.send("POST", &path, &headers, Some(&body)).status, 200);
    // The same request again: its nonce is spent.
    let replay = h.send("POST", &path, &headers, Some(&body));
    assert_eq!((replay.status, replay.error()), (401, "replayed_nonce"));
    // The same answer in a fresh request: the challenge is spent.
    let again = device.request(&h, "POST", &path, Some(&body));
    assert_eq!((again.status, again.error()), (409, "already_answered"));
}

#[test]
fn forged_answers_and_other_devices_challenges_are_refused() {
    let (h, device) = enrolled();
    let other = h.enroll("alice");
    let (_, number) = h.start_reset("alice");
    let mine = &device.poll(&h, 5)[0];
    // Another device of the same account cannot answer this device's challenge.
    let reply = other.answer(&h, mine, Decision::Approve, Some(&number));
    assert_eq!((reply.status, reply.error()), (404, "not_found"));
    // An answer whose signature is not over what it says.
    let mut body: serde_json::Value =
        serde_json::from_slice(&device.answer_body(mine, Decision::Deny, None)).unwrap();
    body["decision"] = "approve".into();
    body["number"] = number.clone().into();
    let path = format!("/api/v1/device/challenges/{}/answer", mine.challenge.id);
    let reply = device.request(&h, "POST", &path, Some(body.to_string().as_bytes()));
    assert_eq!((reply.status, reply.error()), (401, "invalid_signature"));
    assert_eq!(
        device
            .answer(&h, mine, Decision::Approve, Some(&number))
            .status,
        200
    );
}

#[test]
fn six_digit_numbers_when_configured() {
    let h = Harness::with_config(|c| c.number_digits = 6);
    h.add_user("alice");
    let device = h.enroll("alice");
    let (_, number) = h.start_reset("alice");
    assert_eq!(number.len(), 6);
    let challenge = &device.poll(&h, 5)[0];
    assert_eq!(challenge.challenge.number_digits, 6);
    assert_eq!(
        device
            .answer(&h, challenge, Decision::Approve, Some(&number))
            .status,
        200
    );
}

#[test]
fn anonymous_pushes_stop_at_their_cap() {
    let h = Harness::with_config(|c| {
        c.limits.push_anonymous = cityauth_server::limits::Limit {
            max: 3,
            window: 3600,
        };
        c.limits.reset_start_per_user_ip.max = 100;
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    for _ in 0..5 {
        h.start_reset("alice");
    }
    assert_eq!(device.poll(&h, 0).len(), 3);
    assert_eq!(h.state().sent_pushes().len(), 3);
}

#[test]
fn stopping_does_not_wait_for_long_polls() {
    let (h, device) = enrolled();
    let path = "/api/v1/device/challenges?wait=25";
    let headers = device.headers("GET", path, b"", now(), &nonce());
    let url = h.url(path);
    let agent = h.agent.clone();
    let poll = std::thread::spawn(move || {
        let mut request = agent.get(&url);
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        let _ = request.call();
    });
    std::thread::sleep(Duration::from_millis(300));
    let Harness { server, .. } = h;
    let started = Instant::now();
    server.stop().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    poll.join().unwrap();
}

#[test]
fn an_approval_sent_without_the_number_fails_like_a_wrong_one() {
    // One failure locks the (username, client) pair: the missing number must count as one.
    let h = Harness::with_config(|c| c.limits.lock_after = 1);
    h.add_user("alice");
    let device = h.enroll("alice");
    let (reset, number) = h.start_reset("alice");
    let challenge = &device.poll(&h, 5)[0];
    assert_eq!(
        challenge.challenge.number_digits, 2,
        "the prompt asks for one"
    );
    let reply = device.answer(&h, challenge, Decision::Approve, None);
    assert_eq!((reply.status, reply.error()), (422, "wrong_number"));
    let retry = device.answer(&h, challenge, Decision::Approve, Some(&number));
    assert_eq!((retry.status, retry.error()), (409, "already_answered"));
    assert_eq!(h.reset_state(&reset), "denied");
    let events: Vec<String> = cityauth_server::admin::audit(h.state(), Some("alice"), 100)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(
        events.iter().any(|e| e == "challenge_wrong_number"),
        "{events:?}"
    );
    // Counted toward the lockout of the browser that started the reset, as a wrong number is.
    let sign_in = h.post(
        "/api/v1/signin",
        &serde_json::json!({"username": "alice", "password": PASSWORD}),
    );
    assert_eq!((sign_in.status, sign_in.error()), (423, "locked"));

    // An empty number is no number either.
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let (reset, _) = h.start_reset("alice");
    let challenge = &device.poll(&h, 5)[0];
    let reply = device.answer(&h, challenge, Decision::Approve, Some(""));
    assert_eq!((reply.status, reply.error()), (422, "wrong_number"));
    assert_eq!(h.reset_state(&reset), "denied");
}

#[test]
fn pushes_after_the_password_stop_at_ten_an_hour_per_account() {
    // The default cap (`push_after_password`: 10 per hour); the sign-in limits (20 per
    // username and client) let the eleventh sign-in through to the cap.
    let h = Harness::start();
    assert_eq!(h.state().config().limits.push_after_password.max, 10);
    h.add_user("alice");
    h.add_user("bob");
    let alice = h.enroll("alice");
    let bob = h.enroll("bob");
    let sign_in = |username: &str| {
        let reply = h.post(
            "/api/v1/signin",
            &serde_json::json!({"username": username, "password": PASSWORD}),
        );
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(
            reply.body["state"], "pending",
            "the browser sees no difference"
        );
    };
    for _ in 0..12 {
        sign_in("alice");
    }
    let prompts = alice.poll(&h, 0);
    assert_eq!(prompts.len(), 10, "ten prompts reach the phone");
    assert!(
        prompts
            .iter()
            .all(|p| p.challenge.kind == ChallengeKind::SignIn)
    );
    assert_eq!(h.state().sent_pushes().len(), 10);
    let withheld: Vec<String> = cityauth_server::admin::audit(h.state(), Some("alice"), 200)
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "push_flood")
        .map(|e| e.detail)
        .collect();
    assert_eq!(withheld.len(), 2, "{withheld:?}");
    assert!(
        withheld
            .iter()
            .all(|d| d.contains("after_password push withheld: more than 10 per 3600 s")),
        "{withheld:?}"
    );
    // The cap is per account: another employee's sign-in still reaches their phone.
    sign_in("bob");
    assert_eq!(bob.poll(&h, 5).len(), 1);
    assert_eq!(h.state().sent_pushes().len(), 11);
}
