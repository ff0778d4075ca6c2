//! What replicas share through PostgreSQL besides the tables: the limiter's counters (the
//! same rules as the in-memory limiter, counted across replicas) and the long-poll wake-ups
//! (`LISTEN/NOTIFY`, surviving a database restart). And the pool's reconnection.

#[path = "../../tests/src/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use cityauth_server::limits::{Bucket, Limit};
use cityauth_server::store::shared::{LimitKey, LockPolicy, Wake, WakeHandler};
use cityauth_server::store::{Durability, PgStore, Store, StoreLocation};

fn replica(url: &str) -> PgStore {
    PgStore::open(url, Durability::Normal, 2).unwrap()
}

fn fresh() -> String {
    postgres::Postgres::shared().fresh_database().unwrap()
}

#[test]
fn sqlite_keeps_its_counters_and_wake_ups_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreLocation::Sqlite(dir.path().join("db"))
        .open(Durability::Normal)
        .unwrap();
    assert!(store.shared_limiter().is_none() && store.wake_bus().is_none());
}

#[test]
fn the_shared_bucket_answers_as_the_in_memory_bucket_does() {
    let store = replica(&fresh());
    let limiter = store.shared_limiter().unwrap();
    let key = LimitKey([1; 16]);
    for limit in [
        Limit { max: 3, window: 60 },
        Limit { max: 1, window: 1 },
        Limit {
            max: 10,
            window: 900,
        },
    ] {
        let key = LimitKey([limit.max as u8; 16]);
        let mut bucket = Bucket::default();
        let mut now = 1_000_000u64;
        for step in 0..60u64 {
            // Bursts and pauses of varied length.
            now += [0, 0, 7, 333, 1_000, 19_999, 61_000][(step % 7) as usize];
            let memory = bucket.take(limit, now).err();
            let shared = limiter.take(&[(key, limit)], now).unwrap();
            assert_eq!(shared, memory, "{limit:?} at step {step}");
        }
    }
    // The first empty bucket stops the take; the later ones keep their tokens.
    let (one, two) = (LimitKey([7; 16]), LimitKey([8; 16]));
    let tight = Limit { max: 1, window: 60 };
    assert_eq!(limiter.take(&[(one, tight)], 0).unwrap(), None);
    assert_eq!(
        limiter.take(&[(one, tight), (two, tight)], 0).unwrap(),
        Some(60)
    );
    assert_eq!(limiter.take(&[(two, tight)], 0).unwrap(), None);
    let _ = key;
}

#[test]
fn replicas_draw_from_one_bucket() {
    let url = fresh();
    let (a, b) = (replica(&url), replica(&url));
    let (a, b) = (a.shared_limiter().unwrap(), b.shared_limiter().unwrap());
    let limit = Limit {
        max: 10,
        window: 3600,
    };
    let key = LimitKey([3; 16]);
    let taken = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let limiter = if i % 2 == 0 { a.clone() } else { b.clone() };
                scope.spawn(move || {
                    (0..10)
                        .filter(|_| limiter.take(&[(key, limit)], 5_000).unwrap().is_none())
                        .count()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum::<usize>()
    });
    assert_eq!(taken, 10, "the sum across replicas, not 10 each");
}

#[test]
fn a_run_of_failures_locks_doubling_up_to_the_longest_lock() {
    let url = fresh();
    let (a, b) = (replica(&url), replica(&url));
    let (a, b) = (a.shared_limiter().unwrap(), b.shared_limiter().unwrap());
    let key = LimitKey([4; 16]);
    let policy = LockPolicy {
        lock_after: 3,
        lock_ms: 1_000,
        lock_max_ms: 3_000,
    };
    let mut now = 10_000;
    for expected in [1_000, 2_000, 3_000, 3_000] {
        for i in 0..3 {
            assert!(
                !a.run_locked(key, now).unwrap(),
                "not locked before the run ends"
            );
            let limiter = if i % 2 == 0 { &a } else { &b };
            limiter.run_fail(key, policy, now).unwrap();
        }
        assert!(b.run_locked(key, now + expected - 1).unwrap());
        assert!(!b.run_locked(key, now + expected).unwrap(), "{expected}");
        now += expected;
    }
    a.run_clear(key).unwrap();
    b.run_fail(key, policy, now).unwrap();
    b.run_fail(key, policy, now).unwrap();
    assert!(
        !a.run_locked(key, now).unwrap(),
        "a success starts the run again"
    );

    assert!(!a.trusted(key, now).unwrap());
    b.trust(key, now + 100).unwrap();
    assert!(a.trusted(key, now + 99).unwrap());
    assert!(!a.trusted(key, now + 100).unwrap());
}

/// A handler that sends what it is told into a channel.
fn collector() -> (WakeHandler, mpsc::Receiver<String>) {
    let (send, receive) = mpsc::channel();
    let send = Mutex::new(send);
    let handler: WakeHandler = Arc::new(move |wake: Wake<'_>| {
        let text = match wake {
            Wake::Device(id) => id.to_owned(),
            Wake::All => "*all*".to_owned(),
        };
        let _ = send.lock().unwrap().send(text);
    });
    (handler, receive)
}

const PATIENCE: Duration = Duration::from_secs(20);

#[test]
fn a_publication_on_one_replica_wakes_the_other() {
    let url = fresh();
    let (a, b) = (replica(&url), replica(&url));
    let (handler, woken) = collector();
    b.wake_bus().unwrap().subscribe(handler).unwrap();
    a.wake_bus().unwrap().publish("device-1").unwrap();
    assert_eq!(woken.recv_timeout(PATIENCE).unwrap(), "device-1");
    b.wake_bus().unwrap().publish("device-2").unwrap();
    assert_eq!(
        woken.recv_timeout(PATIENCE).unwrap(),
        "device-2",
        "its own too"
    );
}

#[test]
fn after_a_database_restart_the_pool_reconnects_and_the_bus_wakes_everyone() {
    // A cluster of its own: this test stops it.
    let cluster = postgres::Postgres::start().unwrap();
    let url = cluster.create_database("restarts").unwrap();
    let (a, b) = (replica(&url), replica(&url));
    let (handler, woken) = collector();
    b.wake_bus().unwrap().subscribe(handler).unwrap();
    a.setting_set("before", b"1").unwrap();

    cluster.stop().unwrap();
    assert!(
        a.ready().is_err(),
        "no database, an error (no panic, no hang)"
    );
    cluster.restart().unwrap();
    assert_eq!(woken.recv_timeout(PATIENCE).unwrap(), "*all*");
    // The listener told its own pool: every worker checked its connection.
    b.ready().unwrap();
    // `a` has no listener: the first call that finds its connection dead fails, and tells
    // the other workers to check theirs.
    assert!(failures_then_fine(&a) <= 1);
    assert_eq!(a.setting("before").unwrap().unwrap(), b"1");
    a.wake_bus().unwrap().publish("device-3").unwrap();
    assert_eq!(woken.recv_timeout(PATIENCE).unwrap(), "device-3");

    // A crash (SIGKILL of the postmaster) likewise.
    cluster.kill().unwrap();
    cluster.restart().unwrap();
    assert!(failures_then_fine(&a) <= 1);
    assert_eq!(woken.recv_timeout(PATIENCE).unwrap(), "*all*");
    b.ready().unwrap();
}

/// Calls `ready` 6 times; how many failed. The failures come among the first two calls: a
/// worker whose connection died fails once and has every worker check its own, but a
/// worker that had already made a fresh connection may answer first.
fn failures_then_fine(store: &PgStore) -> usize {
    let answers: Vec<bool> = (0..6).map(|_| store.ready().is_ok()).collect();
    assert!(answers[2..].iter().all(|ok| *ok), "{answers:?}");
    answers.iter().filter(|ok| !**ok).count()
}
