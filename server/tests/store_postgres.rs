//! What only the PostgreSQL store has to get right: its errors never quote the URL's
//! password nor a row's values, replicas starting at once migrate once, a newer schema is
//! refused, and it answers inside either kind of tokio runtime (its client blocks on a
//! runtime of its own, only on its worker threads).

#[path = "../../tests/src/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use std::sync::Arc;

use cityauth_server::store::{Durability, NewUser, PgStore, Store, StoreError, StoreLocation};

fn pg_url() -> String {
    postgres::Postgres::shared().fresh_database().unwrap()
}

fn pg() -> Arc<dyn Store> {
    StoreLocation::parse(&pg_url())
        .open_with(Durability::Normal, 2)
        .unwrap()
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

#[test]
fn a_refused_row_is_not_quoted_in_the_error() {
    let store = pg();
    store
        .enrollment_code_create(b"secret-ish-value", 999, 10)
        .err();
    let id = user(store.as_ref(), "alice");
    store
        .access_code_create(b"code-hash-1", id, 10, false)
        .unwrap();
    let error = store
        .access_code_create(b"code-hash-1", id, 10, false)
        .unwrap_err();
    let text = format!("{error} {error:?}");
    // PostgreSQL's DETAIL would say `Key (code_hash)=(\x636f...) already exists`.
    assert!(text.contains("23505"), "{text}");
    assert!(
        !text.contains("636f6465") && !text.contains("Key ("),
        "{text}"
    );
}

#[test]
fn a_postgres_url_with_a_wrong_password_fails_without_telling_it() {
    let cluster = postgres::Postgres::shared();
    let url = format!(
        "postgres://postgres:hunter2secret@127.0.0.1:{}/postgres",
        cluster.port()
    );
    let error = match StoreLocation::parse(&url).open(Durability::Normal) {
        Err(error) => error,
        Ok(_) => panic!("a wrong password connected"),
    };
    assert!(matches!(error, StoreError::Postgres(_)), "{error:?}");
    let text = format!("{error} {error:?}");
    assert!(!text.contains("hunter2secret"), "{text}");
    assert!(
        text.contains("password authentication failed"),
        "says why: {text}"
    );
    let bad = StoreLocation::parse("postgres://u:hunter2secret@[::1/x").open(Durability::Normal);
    let text = format!("{}", bad.err().unwrap());
    assert!(!text.contains("hunter2secret"), "{text}");
}

#[test]
fn replicas_starting_at_once_migrate_once_and_a_newer_schema_is_refused() {
    let cluster = postgres::Postgres::shared();
    let url = pg_url();
    let opened = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| PgStore::open(&url, Durability::Normal, 1).map(|_| ())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    for result in opened {
        result.unwrap();
    }
    let store = PgStore::open(&url, Durability::Normal, 1).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        PgStore::known_schema_version()
    );
    let db = url.rsplit('/').next().unwrap();
    cluster
        .psql(db, "UPDATE schema_version SET version = 99")
        .unwrap();
    assert!(matches!(
        PgStore::open(&url, Durability::Normal, 1),
        Err(StoreError::TooNew(99))
    ));
}

#[test]
fn the_store_answers_inside_either_kind_of_tokio_runtime() {
    let url = pg_url();
    let store: Arc<dyn Store> = Arc::new(PgStore::open(&url, Durability::Normal, 2).unwrap());
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = store.clone();
    current.block_on(async move { s.setting_set("a", b"1").unwrap() });
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = store.clone();
    multi.block_on(async move {
        // On the thread that blocks on the runtime, and on its worker threads.
        s.setting_set("b", b"2").unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move { s.setting_set(&format!("k{i}"), b"v").unwrap() })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(store.setting("k7").unwrap().unwrap(), b"v");
}

/// Audit events are queued and written by a background thread each tick; a read of the
/// trail writes the queue first. It must also wait for a batch the thread has taken and not
/// yet committed, or the read misses events recorded before it (seen as a flaky count in
/// `access_codes.rs` on a loaded machine). Other users' events keep the batches large, so
/// the writer's batches take long enough to be caught in flight.
#[test]
fn a_read_of_the_audit_trail_sees_every_event_recorded_before_it() {
    use cityauth_server::store::AuditEvent;
    use std::sync::atomic::{AtomicBool, Ordering};
    let event = |name: &str, detail: String| AuditEvent {
        time: 1_000,
        username: Some(name.into()),
        event: "probe".into(),
        detail,
        client_ip: None,
    };
    let store = pg();
    let done = Arc::new(AtomicBool::new(false));
    let noise: Vec<_> = (0..2)
        .map(|n| {
            let (store, done) = (Arc::clone(&store), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !done.load(Ordering::Relaxed) {
                    store.audit(&event_for_noise(n, i)).unwrap();
                    i += 1;
                    if i.is_multiple_of(500) {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                }
            })
        })
        .collect();
    let mut missed = Vec::new();
    for round in 0..200u64 {
        store
            .audit(&event("alice", format!("round {round}")))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(round * 997 % 20_000));
        let seen = store.audit_list(Some("alice"), 1).unwrap();
        if seen.first().map(|e| e.detail.clone()) != Some(format!("round {round}")) {
            missed.push(round);
        }
    }
    done.store(true, Ordering::Relaxed);
    for thread in noise {
        thread.join().unwrap();
    }
    assert!(
        missed.is_empty(),
        "reads missed the event just recorded in rounds {missed:?}"
    );
}

fn event_for_noise(thread: u64, i: u64) -> cityauth_server::store::AuditEvent {
    cityauth_server::store::AuditEvent {
        time: 1_000,
        username: Some(format!("noise{thread}")),
        event: "probe".into(),
        detail: format!("noise {i}"),
        client_ip: None,
    }
}
