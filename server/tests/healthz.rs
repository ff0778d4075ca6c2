//! `GET /readyz`: 200 when the store, the directory and the signing key answer, 503 naming
//! the part that does not, nothing secret in the answer; `GET /healthz`: alive whatever the
//! store says. (The directory servers' part: tests/tests/directory_operations.rs.)

mod common;

use common::Harness;
use serde_json::json;

#[test]
fn readyz_answers_ok_when_the_store_the_built_in_directory_and_the_key_answer() {
    let h = Harness::start();
    let reply = h.get("/readyz");
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body,
        json!({"status": "ok", "store": "ok", "directory": "ok", "signing_key": "ok"})
    );
    assert_eq!(h.get("/healthz").body, json!({"status": "ok"}));
}

#[test]
fn readyz_answers_503_naming_the_store_when_the_database_is_destroyed_and_healthz_stays_alive() {
    let h = Harness::start();
    assert_eq!(h.get("/readyz").status, 200);
    if common::on_postgres() {
        // PostgreSQL's equivalent: the database dropped under the running server.
        let name = h
            .url
            .as_deref()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        common::postgres::Postgres::shared()
            .psql("postgres", &format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
    }
    // The database, its write-ahead log and its shared index overwritten in place under the
    // running server (a failed disk, a file someone wrote over): SQLite sees the index
    // change, reads the files again and finds no database in them.
    let garbage = vec![0xA5u8; 64 * 1024];
    for suffix in ["", "-wal", "-shm"]
        .iter()
        .filter(|_| !common::on_postgres())
    {
        let mut path = h.db_path().into_os_string();
        path.push(suffix);
        std::fs::write(path, &garbage).unwrap();
    }
    // A report is reused for a second: ask until the store's failure shows.
    let started = std::time::Instant::now();
    let reply = loop {
        let reply = h.get("/readyz");
        if reply.status != 200 || started.elapsed() > std::time::Duration::from_secs(30) {
            break reply;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(reply.status, 503, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "unavailable");
    assert_eq!(reply.body["store"], "unavailable");
    assert_eq!(reply.body["signing_key"], "ok");
    // Alive: a supervisor must not restart a server because its database failed.
    assert_eq!(h.get("/healthz").status, 200);
    let text = reply.body.to_string();
    assert!(
        !text.contains("malformed") && !text.contains("database"),
        "{text}"
    );
}
