//! Bounded growth (issue 9, item 8): huge and many usernames keep the process and the
//! database small. Alone in its binary, so that no other test's memory is measured with it.

mod common;

use std::time::Duration;

use common::clients::*;
use common::*;
use serde_json::json;

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
    if let Some(size) = h.psql("SELECT pg_database_size(current_database())") {
        return size.trim().parse().unwrap();
    }
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
    // The reproduction: 25 requests with usernames of almost 2 MB.
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
