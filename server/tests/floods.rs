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
