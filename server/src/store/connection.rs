//! The SQLite connection's plumbing: cached statements, cheap transactions, and WAL
//! checkpoints off the request path.
//!
//! Each of these was measured on the approval load benchmark (docs/benchmarks.md).
//! A note on the SQL: rusqlite clears a statement's bindings when it returns to the cache,
//! and SQLite (built with STAT4) re-prepares a statement whose plan looked at its
//! parameters whenever they are cleared. A query whose plan does (an `ORDER BY` after an
//! indexed equality: `ORDER BY rowid`, `ORDER BY created_at, id`) is then parsed and planned
//! on every call: hot statements sort in Rust instead (`sqlite3Reprepare` in a perf profile
//! shows any that do not).

use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Runs statements through the connection's statement cache: parsing SQL anew for every
/// call cost a measurable share of each request.
pub(super) trait Cached {
    /// `execute`, cached.
    fn run<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// `query_row`, cached.
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn run<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// A write transaction (`BEGIN IMMEDIATE`) through cached statements; rolled back when
/// dropped without [`Tx::commit`]. (rusqlite's own transaction parses BEGIN and COMMIT
/// again on every use.)
pub(super) struct Tx<'c> {
    connection: &'c Connection,
    open: bool,
}

/// Begins a write transaction on `connection`.
pub(super) fn begin(connection: &mut Connection) -> rusqlite::Result<Tx<'_>> {
    connection.run("BEGIN IMMEDIATE", [])?;
    Ok(Tx {
        connection,
        open: true,
    })
}

impl Tx<'_> {
    /// Commits; on error the transaction is rolled back when dropped.
    pub(super) fn commit(mut self) -> rusqlite::Result<()> {
        self.connection.run("COMMIT", [])?;
        self.open = false;
        Ok(())
    }
}

impl Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.connection
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: the caller already has the error that brought us here.
            let _ = self.connection.run("ROLLBACK", []);
        }
    }
}

/// A thread that, every [`TICK`], runs the store's `tick` (which writes the queued audit
/// events) and, every [`CHECKPOINT_EVERY`] ticks, checkpoints the WAL (PASSIVE: it never
/// blocks a writer) on its own connection, so that the fsync a checkpoint does never runs
/// while a request holds the store's connection. Stops within one tick of being dropped.
pub(super) struct Background {
    _alive: Arc<()>,
}

/// How often the background thread runs the store's tick.
pub(super) const TICK: Duration = Duration::from_millis(100);
/// Checkpoint once every this many ticks.
const CHECKPOINT_EVERY: u32 = 5;

impl Background {
    /// Opens a second connection to `path` and starts the thread; `tick` must not hold a
    /// strong reference to the store (or the store would never be dropped).
    pub(super) fn start(path: &Path, tick: impl Fn() + Send + 'static) -> rusqlite::Result<Self> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(Duration::from_secs(5))?;
        let alive = Arc::new(());
        let watch = Arc::downgrade(&alive);
        thread::Builder::new()
            .name("sqlite-background".into())
            .spawn(move || run_until_dropped(&connection, &watch, tick))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Self { _alive: alive })
    }
}

fn run_until_dropped(connection: &Connection, alive: &Weak<()>, tick: impl Fn()) {
    let mut ticks = 0u32;
    while alive.strong_count() > 0 {
        thread::sleep(TICK);
        tick();
        ticks = ticks.wrapping_add(1);
        if ticks.is_multiple_of(CHECKPOINT_EVERY) {
            // A failed checkpoint is retried next time; the WAL only grows meanwhile.
            let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(path: &Path) -> Connection {
        let connection = Connection::open(path).unwrap();
        connection
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        connection
    }

    fn count(connection: &Connection) -> i64 {
        connection
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_transaction_dropped_without_commit_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut connection = table(&dir.path().join("db"));
        {
            let tx = begin(&mut connection).unwrap();
            tx.run("INSERT INTO t VALUES (1)", []).unwrap();
        }
        assert_eq!(count(&connection), 0);
        let tx = begin(&mut connection).unwrap();
        tx.run("INSERT INTO t VALUES (2)", []).unwrap();
        tx.commit().unwrap();
        assert_eq!(count(&connection), 1);
    }

    #[test]
    fn the_background_thread_checkpoints_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let connection = table(&path);
        connection
            .pragma_update(None, "wal_autocheckpoint", 0)
            .unwrap();
        let _background = Background::start(&path, || {}).unwrap();
        for x in 0..100 {
            connection.run("INSERT INTO t VALUES (?1)", [x]).unwrap();
        }
        // The main file alone (without its WAL) holds the rows once they are checkpointed.
        let copy = dir.path().join("copy");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let checkpointed = loop {
            std::fs::copy(&path, &copy).unwrap();
            let rows = Connection::open(&copy)
                .and_then(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)))
                .unwrap_or(0);
            if rows == 100 || std::time::Instant::now() > deadline {
                break rows;
            }
            thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(checkpointed, 100);
    }
}
