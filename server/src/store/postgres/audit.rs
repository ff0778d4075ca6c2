//! Audit events, queued and written together: every tick of a background thread, in one
//! statement (a round trip and a commit per event were a large share of each request's
//! work on the database), before any read of the audit table, and when the store is
//! dropped. As on SQLite (`Store::audit`), a process killed meanwhile loses the queued
//! events (at most one tick's worth).

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use super::super::{AuditEvent, StoreResult};
use super::pool::{Conn, Pool};
use super::rows::{t, u};

/// How often the queue is written.
const TICK: Duration = Duration::from_millis(100);

/// The most events queued before a request writes them itself.
const MAX_QUEUED: usize = 4096;

/// The events not yet written.
#[derive(Default)]
pub(super) struct AuditQueue {
    events: Mutex<Vec<AuditEvent>>,
    /// Held for a whole flush, from taking the events to their commit: a read's flush must
    /// wait for the background writer's batch in flight, or it reads the table without it.
    writing: Mutex<()>,
}

fn lock(queue: &AuditQueue) -> MutexGuard<'_, Vec<AuditEvent>> {
    // A plain list: a panic while holding it leaves nothing half-done.
    queue.events.lock().unwrap_or_else(|p| p.into_inner())
}

impl AuditQueue {
    /// Queues one event; writes the queue now if it is full.
    pub(super) fn push(&self, pool: &Pool, event: AuditEvent) -> StoreResult<()> {
        let queued = {
            let mut events = lock(self);
            events.push(event);
            events.len()
        };
        if queued >= MAX_QUEUED {
            self.flush(pool)?;
        }
        Ok(())
    }

    /// Writes every queued event in one statement; on failure they stay queued, in order.
    pub(super) fn flush(&self, pool: &Pool) -> StoreResult<()> {
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let events = std::mem::take(&mut *lock(self));
        if events.is_empty() {
            return Ok(());
        }
        let (events, written) = pool.run(move |c| {
            let written = write(c, &events);
            Ok((events, written))
        })?;
        if let Err(error) = written {
            let mut queue = lock(self);
            let later = std::mem::replace(&mut *queue, events);
            queue.extend(later);
            return Err(error);
        }
        Ok(())
    }

    /// Starts the thread that writes the queue every tick, until the store is dropped.
    pub(super) fn start_writer(queue: &Arc<Self>, pool: &Arc<Pool>) -> std::io::Result<()> {
        let (queue, pool): (Weak<Self>, Weak<Pool>) = (Arc::downgrade(queue), Arc::downgrade(pool));
        std::thread::Builder::new()
            .name("cityauth-pg-audit".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(TICK);
                    let (Some(queue), Some(pool)) = (queue.upgrade(), pool.upgrade()) else {
                        return;
                    };
                    if let Err(error) = queue.flush(&pool) {
                        crate::log(&format!("audit write failed (will retry): {error}"));
                    }
                }
            })
            .map(|_| ())
    }
}

/// Inserts `events` in order, in one statement.
fn write(c: &mut Conn, events: &[AuditEvent]) -> StoreResult<()> {
    let times: Vec<i64> = events.iter().map(|e| t(e.time)).collect();
    let usernames: Vec<Option<&str>> = events.iter().map(|e| e.username.as_deref()).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    let details: Vec<&str> = events.iter().map(|e| e.detail.as_str()).collect();
    let ips: Vec<Option<&str>> = events.iter().map(|e| e.client_ip.as_deref()).collect();
    c.execute(
        "INSERT INTO audit (time, username, event, detail, client_ip)
         SELECT time, username, event, detail, client_ip
         FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[])
              WITH ORDINALITY AS e (time, username, event, detail, client_ip, n)
         ORDER BY n",
        &[&times, &usernames, &kinds, &details, &ips],
    )?;
    Ok(())
}

/// Audit events, newest first, optionally of one user (any case).
pub(super) fn list(
    c: &mut Conn,
    username: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<AuditEvent>> {
    c.query(
        "SELECT time, username, event, detail, client_ip FROM audit
         WHERE $1::TEXT IS NULL OR lower(username) = lower($1)
         ORDER BY id DESC LIMIT $2",
        &[&username, &i64::from(limit)],
    )?
    .iter()
    .map(|r| {
        Ok(AuditEvent {
            time: u(r.try_get(0)?),
            username: r.try_get(1)?,
            event: r.try_get(2)?,
            detail: r.try_get(3)?,
            client_ip: r.try_get(4)?,
        })
    })
    .collect()
}
