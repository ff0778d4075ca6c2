//! Floods over real HTTP on loopback: the push cap (issue 9, item 6) and bounded input
//! (item 8).

mod common;

use std::time::Duration;

use cityauth_server::limits::Limit;
use common::clients::*;
use common::*;
use serde_json::{Value, json};

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
