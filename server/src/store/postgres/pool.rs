//! The bridge from the synchronous `Store` trait to PostgreSQL: a few worker threads, each
//! owning one connection, take closures from a queue and send back their answers.
//!
//! `::postgres::Client` runs a tokio runtime of its own and calls `block_on` inside every
//! method, which panics on a thread that already runs a runtime: the server's request
//! handlers do. So a client is only ever touched on its worker thread, and the caller waits
//! for the answer: inside `block_in_place` on a multi-thread runtime (tokio moves the
//! worker's other tasks elsewhere meanwhile), plainly on a current-thread runtime or a plain
//! thread.
//!
//! Workers are started on demand, up to the pool size: a store that never sees two calls at
//! once holds one connection (tests run many stores against one cluster).

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use ::postgres::types::ToSql;
use ::postgres::{Client, Config, NoTls, Row, Statement};

use super::super::{Durability, StoreError, StoreResult};
use super::error::PgError;

/// Parameters of one statement.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

type Job = Box<dyn FnOnce(&mut Conn) + Send>;

/// What the callers and the workers share.
struct Queue {
    jobs: VecDeque<Job>,
    /// Workers waiting for a job.
    idle: usize,
    /// Workers started.
    workers: usize,
    /// The store is gone: workers finish what is queued and stop.
    closed: bool,
}

/// How to open a connection, shared by the workers.
struct Opener {
    config: Config,
    durability: Durability,
    /// Counts the connections found lost (by a worker or the wake-up listener): a worker
    /// that sees it move checks its own idle connection before its next job, so that a
    /// database restart costs at most one failed call per pool rather than one per worker.
    lost: AtomicU64,
}

/// A pool of connection workers.
pub(super) struct Pool {
    queue: Arc<(Mutex<Queue>, Condvar)>,
    opener: Arc<Opener>,
    size: usize,
}

fn lock(mutex: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    // A worker's job never panics while holding the queue (jobs run outside the lock).
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pool {
    /// A pool of at most `size` connections to `config`'s database.
    pub(super) fn new(config: Config, durability: Durability, size: usize) -> Self {
        Self {
            queue: Arc::new((
                Mutex::new(Queue {
                    jobs: VecDeque::new(),
                    idle: 0,
                    workers: 0,
                    closed: false,
                }),
                Condvar::new(),
            )),
            opener: Arc::new(Opener {
                config,
                durability,
                lost: AtomicU64::new(0),
            }),
            size: size.max(1),
        }
    }

    /// Runs `job` on a worker's connection and waits for its answer.
    pub(super) fn run<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = mpsc::sync_channel(1);
        self.submit(Box::new(move |conn| {
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| job(conn)))
                .unwrap_or(Err(StoreError::Postgres(PgError::WorkerGone)));
            // The caller may be gone (its request was dropped): nothing to tell.
            let _ = answer.send(result);
        }))?;
        wait(move || answered.recv()).unwrap_or(Err(StoreError::Postgres(PgError::WorkerGone)))
    }

    /// Someone found a connection to the database lost: every worker checks its own.
    pub(super) fn connection_lost(&self) {
        self.opener.lost.fetch_add(1, Ordering::Relaxed);
    }

    fn submit(&self, job: Job) -> StoreResult<()> {
        let (mutex, condvar) = &*self.queue;
        let mut queue = lock(mutex);
        queue.jobs.push_back(job);
        if queue.idle == 0 && queue.workers < self.size {
            queue.workers += 1;
            let (shared, opener) = (self.queue.clone(), self.opener.clone());
            let started = std::thread::Builder::new()
                .name("cityauth-pg".into())
                .spawn(move || work(&shared, &opener));
            if started.is_err() {
                queue.workers -= 1;
                if queue.workers == 0 {
                    queue.jobs.pop_back();
                    return Err(StoreError::Postgres(PgError::WorkerGone));
                }
            }
        } else {
            condvar.notify_one();
        }
        Ok(())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let (mutex, condvar) = &*self.queue;
        lock(mutex).closed = true;
        condvar.notify_all();
    }
}

/// Waits for a worker's answer without stalling the runtime the caller may be on.
pub(super) fn wait<T>(recv: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(recv)
        }
        _ => recv(),
    }
}

/// A worker's loop: one connection, opened on its first job and again after it is lost.
fn work(queue: &(Mutex<Queue>, Condvar), opener: &Arc<Opener>) {
    let mut conn = Conn {
        opener: opener.clone(),
        seen_lost: opener.lost.load(Ordering::Relaxed),
        client: None,
        statements: HashMap::new(),
    };
    let (mutex, condvar) = queue;
    loop {
        let job = {
            let mut queue = lock(mutex);
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break Some(job);
                }
                if queue.closed {
                    break None;
                }
                queue.idle += 1;
                queue = condvar.wait(queue).unwrap_or_else(|p| p.into_inner());
                queue.idle -= 1;
            }
        };
        match job {
            Some(job) => job(&mut conn),
            None => return,
        }
    }
}

/// One worker's connection, with its prepared statements.
pub(super) struct Conn {
    opener: Arc<Opener>,
    /// The opener's `lost` count when this connection was last known good.
    seen_lost: u64,
    client: Option<Client>,
    /// Statements prepared on this connection, by their text: preparing costs a round trip.
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// The client, connected (again, if the last one was lost).
    fn client(&mut self) -> Result<&mut Client, PgError> {
        let lost = self.opener.lost.load(Ordering::Relaxed);
        if lost != self.seen_lost {
            self.seen_lost = lost;
            if let Some(client) = &mut self.client
                && client.is_valid(Duration::from_secs(2)).is_err()
            {
                self.client = None;
            }
        }
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = None;
            self.statements.clear();
            let mut client = self.opener.config.connect(NoTls).map_err(PgError::Client)?;
            // `Normal`: a commit returns before its WAL reaches the disk (the database
            // writes it within a fraction of a second). A server process killed loses
            // nothing; a PostgreSQL crash or power loss may lose the last commits, never
            // corrupting: SQLite's `synchronous=NORMAL`. `Full`: the server's own setting.
            if self.opener.durability == Durability::Normal {
                client
                    .batch_execute("SET synchronous_commit = off")
                    .map_err(PgError::Client)?;
            }
            self.client = Some(client);
        }
        self.client.as_mut().ok_or(PgError::WorkerGone)
    }

    fn prepared(&mut self, sql: &'static str) -> StoreResult<Statement> {
        // Connected first: a new connection starts with no prepared statements.
        self.client()?;
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let prepared = self.client()?.prepare(sql);
        let statement = self.checked(prepared)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// A client call's result; a failure that lost the connection is told to the other
    /// workers, and the connection dropped (the next call opens another).
    fn checked<T>(&mut self, result: Result<T, ::postgres::Error>) -> StoreResult<T> {
        result.map_err(|error| {
            let fatal = error
                .as_db_error()
                .is_some_and(|db| matches!(db.severity(), "FATAL" | "PANIC"));
            if fatal || error.is_closed() || self.client.as_ref().is_some_and(Client::is_closed) {
                self.client = None;
                self.statements.clear();
                self.seen_lost = self.opener.lost.fetch_add(1, Ordering::Relaxed) + 1;
            }
            error.into()
        })
    }

    /// Runs a statement; the rows it changed.
    pub(super) fn execute(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<u64> {
        let statement = self.prepared(sql)?;
        let result = self.client()?.execute(&statement, params);
        self.checked(result)
    }

    /// Runs a query; every row.
    pub(super) fn query(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<Vec<Row>> {
        let statement = self.prepared(sql)?;
        let result = self.client()?.query(&statement, params);
        self.checked(result)
    }

    /// Runs a query that answers at most one row.
    pub(super) fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> StoreResult<Option<Row>> {
        let statement = self.prepared(sql)?;
        let result = self.client()?.query_opt(&statement, params);
        self.checked(result)
    }

    /// Runs a query that answers exactly one row.
    pub(super) fn query_one(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<Row> {
        let statement = self.prepared(sql)?;
        let result = self.client()?.query_one(&statement, params);
        self.checked(result)
    }

    /// Runs statements without parameters (the simple protocol; no statement cache).
    pub(super) fn batch(&mut self, sql: &str) -> StoreResult<()> {
        let result = self.client()?.batch_execute(sql);
        self.checked(result)
    }

    /// Runs `body` in one transaction: committed when it answers `Ok`, rolled back when it
    /// fails. (READ COMMITTED: each decision is a conditional `UPDATE`, whose row lock
    /// makes a racing one wait and then see the new state.)
    pub(super) fn transaction<T>(
        &mut self,
        body: impl FnOnce(&mut Self) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.batch("BEGIN")?;
        match body(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(error) => {
                // A lost connection rolls back by itself; the next call reconnects.
                let _ = self.batch("ROLLBACK");
                Err(error)
            }
        }
    }
}
