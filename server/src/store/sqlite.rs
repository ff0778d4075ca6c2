//! The SQLite store: one file, WAL, one connection behind a mutex (SQLite writes one at a
//! time anyway; every call is short).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::{Background, Cached, begin};
use super::rows::*;
use super::schema::migrate;
use super::sessions;
use super::sweep::Sweeper;
use super::*;

mod campaign;
mod contacts;
mod helpdesk;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    /// Audit events not yet written: they are written together, every tick of the
    /// background thread, in one transaction (a commit per event cost a large share of
    /// each request), and before any read of the audit table.
    audits: Arc<Mutex<Vec<AuditEvent>>>,
    /// Writes the queued audit events and checkpoints the WAL off the request path.
    _background: Background,
    /// When [`sweep_expired`] runs, and by which time.
    sweeper: Sweeper,
}

/// The page size of a new database, bytes.
const PAGE_SIZE: u32 = 1024;

/// How hard each commit presses to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// WAL with `synchronous=NORMAL`: a process crash loses nothing; a power loss or OS crash
    /// may roll back the last commits (never corrupts). About ten times the commits per
    /// second of `Full` on this machine's disk, which the approval throughput needs.
    #[default]
    Normal,
    /// WAL with `synchronous=FULL`: every acknowledged commit survives a power loss.
    Full,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it, with
    /// [`Durability::Normal`].
    pub fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, Durability::Normal)
    }

    /// Opens with the given durability.
    pub fn open_with(path: &Path, durability: Durability) -> StoreResult<Self> {
        super::files::restrict(path)?;
        let mut connection = Connection::open(path)?;
        // Small pages: every commit writes each page it touched to the WAL (and a checkpoint
        // writes it again), and the server's rows are small. Takes effect when the file is
        // created; an existing database keeps its page size.
        connection.pragma_update(None, "page_size", PAGE_SIZE)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        let synchronous = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        connection.pragma_update(None, "synchronous", synchronous)?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut connection)?;
        connection.set_prepared_statement_cache_capacity(64);
        // A checkpoint fsyncs; run inside a commit it stalled every request queued on the
        // connection's mutex. A background thread checkpoints instead.
        connection.pragma_update(None, "wal_autocheckpoint", 0)?;
        let connection = Arc::new(Mutex::new(connection));
        let audits = Arc::new(Mutex::new(Vec::new()));
        let (weak_connection, weak_audits) = (Arc::downgrade(&connection), Arc::downgrade(&audits));
        let background = Background::start(path, move || {
            if let (Some(connection), Some(audits)) =
                (weak_connection.upgrade(), weak_audits.upgrade())
                && let Err(error) = write_audits(&connection, &audits)
            {
                tracing::error!(%error, "audit write failed (will retry)");
            }
        })?;
        Ok(Self {
            connection,
            audits,
            _background: background,
            sweeper: Sweeper::default(),
        })
    }

    fn insert_flow(&self, flow: &Flow, pending_passwords: Option<&[u8]>) -> StoreResult<()> {
        insert_flow(&self.db(), flow, pending_passwords)?;
        Ok(())
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        lock(&self.connection)
    }
}

/// Locks `mutex`, whether or not a panic poisoned it: a panic while holding the connection
/// leaves SQLite consistent (transactions roll back), and the audit queue is a plain list.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Inserts a flow (with a password change's sealed passwords); part of the caller's
/// transaction.
fn insert_flow(
    db: &Connection,
    flow: &Flow,
    pending_passwords: Option<&[u8]>,
) -> rusqlite::Result<()> {
    db.run(
        "INSERT INTO flows (id, username, user_id, number, state, code_tries, client_ip,
                            created_at, expires_at, kind, pending_passwords)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            flow.id,
            flow.username,
            flow.user_id,
            flow.number,
            flow.state.as_str(),
            flow.code_tries,
            flow.client_ip,
            t(flow.created_at),
            t(flow.expires_at),
            flow.kind.as_str(),
            pending_passwords
        ],
    )?;
    Ok(())
}

/// Inserts a challenge; part of the caller's transaction.
fn insert_challenge(db: &Connection, challenge: &StoredChallenge) -> rusqlite::Result<()> {
    let body = serde_json::to_string(&challenge.signed.challenge)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let c = &challenge.signed.challenge;
    db.run(
        "INSERT INTO challenges (id, device_id, flow_id, body, signature, number, expires_at,
                                 state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            c.id,
            c.device_id,
            challenge.flow_id,
            body,
            challenge.signed.signature,
            challenge.number,
            t(c.expires_at),
            challenge.state.as_str()
        ],
    )?;
    Ok(())
}

/// Sets `user_id`'s password hash and ends every session of the account (the session
/// generation moves on, and the stored sessions are deleted). Part of the caller's transaction.
fn replace_password(db: &Connection, user_id: i64, password_hash: &str) -> rusqlite::Result<()> {
    db.run(
        "UPDATE users SET password_hash = ?2, session_generation = session_generation + 1
         WHERE id = ?1",
        params![user_id, password_hash],
    )?;
    db.run("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    super::ending::on_password_replaced(db, user_id)
}

/// Answers pending challenge `id` and decides its flow: the challenge goes to `to`, a
/// pending flow to `flow_to`, the flow's other pending challenges are cancelled. The flow's
/// id, or `None` (nothing changed) if the challenge was not pending. Part of the caller's
/// transaction.
fn decide(
    db: &Connection,
    id: &str,
    to: ChallengeState,
    flow_to: FlowState,
) -> rusqlite::Result<Option<String>> {
    let flow_id: Option<String> = db
        .row(
            "UPDATE challenges SET state = ?2 WHERE id = ?1 AND state = 'pending'
             RETURNING flow_id",
            params![id, to.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(flow_id) = flow_id else {
        return Ok(None);
    };
    db.run(
        "UPDATE flows SET state = ?2 WHERE id = ?1 AND state = 'pending'",
        params![flow_id, flow_to.as_str()],
    )?;
    db.run(
        "UPDATE challenges SET state = 'cancelled' WHERE flow_id = ?1 AND state = 'pending'",
        [&flow_id],
    )?;
    Ok(Some(flow_id))
}

/// Deletes what can no longer be used: nonces older than twice the replay window (their
/// time is stale, so they can never be replayed), and the sealed passwords (and older
/// servers' new-password hashes) of password changes that expired or were denied.
fn sweep_expired(db: &Connection, now: u64, window: u64) -> rusqlite::Result<()> {
    db.run(
        "DELETE FROM nonces WHERE seen_at < ?1",
        [t(now.saturating_sub(window.saturating_mul(2)))],
    )?;
    db.run(
        "UPDATE flows SET new_password_hash = NULL, pending_passwords = NULL
         WHERE (new_password_hash IS NOT NULL OR pending_passwords IS NOT NULL)
               AND (expires_at <= ?1 OR state = 'denied')",
        [t(now)],
    )?;
    Ok(())
}

/// The most audit events queued before a request writes them itself.
const MAX_QUEUED_AUDITS: usize = 4096;

/// Writes the queued audit events in one transaction; on failure they stay queued.
fn write_audits(
    connection: &Mutex<Connection>,
    audits: &Mutex<Vec<AuditEvent>>,
) -> StoreResult<()> {
    let events = std::mem::take(&mut *lock(audits));
    if events.is_empty() {
        return Ok(());
    }
    let mut db = lock(connection);
    let written = (|| {
        let transaction = begin(&mut db)?;
        for event in &events {
            transaction.run(
                "INSERT INTO audit (time, username, event, detail, client_ip)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    t(event.time),
                    event.username,
                    event.event,
                    event.detail,
                    event.client_ip
                ],
            )?;
        }
        transaction.commit()
    })();
    if let Err(error) = written {
        // Put them back in front of any queued since, in order.
        let mut queue = lock(audits);
        let later = std::mem::replace(&mut *queue, events);
        queue.extend(later);
        return Err(error.into());
    }
    Ok(())
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Err(error) = write_audits(&self.connection, &self.audits) {
            tracing::error!(%error, "audit write failed at shutdown");
        }
    }
}

impl Store for SqliteStore {
    fn ready(&self) -> StoreResult<()> {
        self.db().row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn backup(&self, to: &Path) -> StoreResult<()> {
        // The copy is made 0600 before SQLite writes into it; `create_new` refuses to write
        // over an existing file.
        super::files::create_private(to)?;
        write_audits(&self.connection, &self.audits)?;
        let target = to.to_str().ok_or(StoreError::Unsupported(
            "the backup path must be valid UTF-8",
        ))?;
        self.db().run("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    fn setting(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .db()
            .row("SELECT value FROM settings WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn setting_set(&self, name: &str, value: &[u8]) -> StoreResult<()> {
        self.db().run(
            "INSERT INTO settings (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }

    fn setting_replace(&self, replaced: &str, name: &str, value: &[u8]) -> StoreResult<()> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        transaction.run(
            "INSERT INTO settings (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        transaction.run("DELETE FROM settings WHERE name = ?1", [replaced])?;
        transaction.commit()?;
        Ok(())
    }

    fn setting_init(&self, name: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
        let db = self.db();
        db.run(
            "INSERT OR IGNORE INTO settings (name, value) VALUES (?1, ?2)",
            params![name, value],
        )?;
        Ok(
            db.row("SELECT value FROM settings WHERE name = ?1", [name], |r| {
                r.get(0)
            })?,
        )
    }

    fn user_create(&self, user: &NewUser) -> StoreResult<i64> {
        let db = self.db();
        let result = db.run(
            "INSERT INTO users (username, display_name, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                user.username,
                user.display_name,
                user.password_hash,
                t(user.created_at)
            ],
        );
        match result {
            Ok(_) => {
                let id = db.last_insert_rowid();
                super::accounts::mark_builtin(&db, id)?;
                Ok(id)
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn user_by_name(&self, username: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
        Ok(self.db().row(&sql, [username], user_from).optional()?)
    }

    fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
        Ok(self.db().row(&sql, [id], user_from).optional()?)
    }

    fn failures(&self, name: &str, factor: Factor) -> StoreResult<u32> {
        Ok(self
            .db()
            .row(
                "SELECT count FROM failures WHERE name = ?1 AND factor = ?2",
                params![name, factor.as_str()],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    fn failure_add(&self, name: &str, factor: Factor) -> StoreResult<u32> {
        Ok(self.db().row(
            "INSERT INTO failures (name, factor, count) VALUES (?1, ?2, 1)
             ON CONFLICT (name, factor) DO UPDATE SET count = count + 1
             RETURNING count",
            params![name, factor.as_str()],
            |r| r.get(0),
        )?)
    }

    fn failures_clear(&self, name: &str, factor: Factor) -> StoreResult<()> {
        self.db().run(
            "DELETE FROM failures WHERE name = ?1 AND factor = ?2",
            params![name, factor.as_str()],
        )?;
        Ok(())
    }

    fn user_set_blocked(&self, id: i64, blocked: bool) -> StoreResult<()> {
        self.db().run(
            "UPDATE users SET blocked = ?2 WHERE id = ?1",
            params![id, blocked],
        )?;
        Ok(())
    }

    fn purge(&self) -> StoreResult<()> {
        let db = self.db();
        db.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    fn device_oath_use(&self, device_id: &str, step: u64) -> StoreResult<bool> {
        let changed = self.db().run(
            "UPDATE devices SET oath_last_step = ?2
             WHERE id = ?1 AND oath_secret IS NOT NULL AND oath_last_step < ?2",
            params![device_id, t(step)],
        )?;
        Ok(changed == 1)
    }

    fn legacy_oath_seeds(&self) -> StoreResult<Vec<LegacyOathSeed>> {
        let db = self.db();
        let mut statement = db.prepare(
            "SELECT id, oath_secret, oath_last_step FROM users WHERE oath_secret IS NOT NULL",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(LegacyOathSeed {
                user_id: r.get(0)?,
                secret: zeroize::Zeroizing::new(r.get(1)?),
                last_step: r.get::<_, i64>(2)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn legacy_oath_move(
        &self,
        seed: &LegacyOathSeed,
        sealed: &[(String, Vec<u8>)],
    ) -> StoreResult<()> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        for (device_id, secret) in sealed {
            transaction.run(
                "UPDATE devices SET oath_secret = ?3, oath_last_step = ?4, oath_shared = 1
                 WHERE id = ?1 AND user_id = ?2",
                params![device_id, seed.user_id, secret, t(seed.last_step)],
            )?;
        }
        transaction.run(
            "UPDATE users SET oath_secret = NULL WHERE id = ?1",
            [seed.user_id],
        )?;
        transaction.commit()?;
        Ok(())
    }

    fn enrollment_code_create(
        &self,
        code_hash: &[u8],
        user_id: i64,
        expires_at: u64,
    ) -> StoreResult<()> {
        self.db().run(
            "INSERT INTO enrollment_codes (code_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
            params![code_hash, user_id, t(expires_at)],
        )?;
        Ok(())
    }

    fn enroll(&self, code_hash: &[u8], now: u64, device: &NewDevice) -> StoreResult<Option<i64>> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        let user_id: Option<i64> = transaction
            .row(
                "UPDATE enrollment_codes SET used = 1
                 WHERE code_hash = ?1 AND used = 0 AND expires_at > ?2 RETURNING user_id",
                params![code_hash, t(now)],
                |r| r.get(0),
            )
            .optional()?;
        let Some(user_id) = user_id else {
            return Ok(None);
        };
        transaction.run(
            "INSERT INTO devices (id, user_id, public_key, name, platform, push_token, created_at,
                                  oath_secret)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                device.id,
                user_id,
                device.public_key,
                device.name,
                device.platform,
                device.push_token,
                t(device.created_at),
                device.oath_secret
            ],
        )?;
        transaction.commit()?;
        Ok(Some(user_id))
    }

    fn device(&self, id: &str) -> StoreResult<Option<Device>> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1");
        Ok(self.db().row(&sql, [id], device_from).optional()?)
    }

    fn devices_of(&self, user_id: i64) -> StoreResult<Vec<Device>> {
        let db = self.db();
        // Sorted here, not by ORDER BY, which made SQLite re-prepare the statement on every
        // call (see connection.rs).
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = ?1");
        let mut statement = db.prepare_cached(&sql)?;
        let rows = statement.query_map([user_id], device_from)?;
        let mut devices = rows.collect::<Result<Vec<_>, _>>()?;
        devices.sort_unstable_by(|a, b| {
            (a.device.created_at, &a.device.id).cmp(&(b.device.created_at, &b.device.id))
        });
        Ok(devices)
    }

    fn device_push_token_stale(&self, device_id: &str, token: &str) -> StoreResult<bool> {
        let changed = self.db().run(
            "UPDATE devices SET push_token = NULL WHERE id = ?1 AND push_token = ?2",
            params![device_id, token],
        )?;
        Ok(changed == 1)
    }

    fn device_delete(&self, id: &str) -> StoreResult<bool> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        super::ending::on_device_removed(&transaction, id)?;
        transaction.run("DELETE FROM nonces WHERE device_id = ?1", [id])?;
        let removed: Option<(i64, bool)> = transaction
            .row(
                "DELETE FROM devices WHERE id = ?1 RETURNING user_id, oath_shared",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((user_id, shared)) = removed else {
            return Ok(false);
        };
        if shared {
            // The removed phone knows the shared seed: no copy of it may verify anywhere.
            transaction.run(
                "UPDATE devices SET oath_secret = NULL, oath_shared = 0
                 WHERE user_id = ?1 AND oath_shared = 1",
                [user_id],
            )?;
        }
        transaction.commit()?;
        Ok(true)
    }

    fn nonce_use(&self, device_id: &str, nonce: &str, now: u64, window: u64) -> StoreResult<bool> {
        let db = self.db();
        // Sweeping once a minute, not on every request, keeps requests to one write.
        if let Some(by) = self.sweeper.due(now) {
            sweep_expired(&db, by, window)?;
        }
        let inserted = db.run(
            "INSERT OR IGNORE INTO nonces (device_id, nonce, seen_at) VALUES (?1, ?2, ?3)",
            params![device_id, nonce, t(now)],
        )?;
        Ok(inserted == 1)
    }

    fn challenge_insert(&self, challenge: &StoredChallenge) -> StoreResult<()> {
        insert_challenge(&self.db(), challenge)?;
        Ok(())
    }

    fn challenge(&self, id: &str) -> StoreResult<Option<StoredChallenge>> {
        let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE id = ?1");
        Ok(self.db().row(&sql, [id], challenge_from).optional()?)
    }

    fn challenges_pending(&self, device_id: &str, now: u64) -> StoreResult<Vec<StoredChallenge>> {
        let db = self.db();
        // Sorted here rather than by `ORDER BY rowid`: with that clause SQLite re-prepared
        // the statement on every use from rusqlite's statement cache (see connection.rs).
        let sql = format!(
            "SELECT {CHALLENGE_COLUMNS}, rowid FROM challenges
             WHERE device_id = ?1 AND state = 'pending' AND expires_at > ?2"
        );
        let mut statement = db.prepare_cached(&sql)?;
        let rows = statement.query_map(params![device_id, t(now)], |row| {
            Ok((
                row.get::<_, i64>(CHALLENGE_COLUMN_COUNT)?,
                challenge_from(row)?,
            ))
        })?;
        let mut pending = rows.collect::<Result<Vec<_>, _>>()?;
        pending.sort_unstable_by_key(|(rowid, _)| *rowid);
        Ok(pending
            .into_iter()
            .map(|(_, challenge)| challenge)
            .collect())
    }

    fn challenge_resolve(&self, id: &str, to: ChallengeState) -> StoreResult<bool> {
        let changed = self.db().run(
            "UPDATE challenges SET state = ?2 WHERE id = ?1 AND state = 'pending'",
            params![id, to.as_str()],
        )?;
        Ok(changed == 1)
    }

    fn challenge_decide(
        &self,
        id: &str,
        to: ChallengeState,
        flow_to: FlowState,
    ) -> StoreResult<bool> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        if decide(&transaction, id, to, flow_to)?.is_none() {
            return Ok(false);
        }
        transaction.commit()?;
        Ok(true)
    }

    fn challenges_cancel_flow(&self, flow_id: &str) -> StoreResult<()> {
        self.db().run(
            "UPDATE challenges SET state = 'cancelled' WHERE flow_id = ?1 AND state = 'pending'",
            [flow_id],
        )?;
        Ok(())
    }

    fn flow_insert(&self, flow: &Flow) -> StoreResult<()> {
        self.insert_flow(flow, None)
    }

    fn flow_insert_with(&self, flow: &Flow, challenges: &[StoredChallenge]) -> StoreResult<()> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        insert_flow(&transaction, flow, None)?;
        for challenge in challenges {
            insert_challenge(&transaction, challenge)?;
        }
        transaction.commit()?;
        Ok(())
    }

    fn flow(&self, id: &str) -> StoreResult<Option<Flow>> {
        Ok(self
            .db()
            .row(
                "SELECT id, username, user_id, number, state, code_tries, client_ip, created_at,
                        expires_at, kind
                 FROM flows WHERE id = ?1",
                [id],
                flow_from,
            )
            .optional()?)
    }

    fn flow_transition(&self, id: &str, from: FlowState, to: FlowState) -> StoreResult<bool> {
        let changed = self.db().run(
            "UPDATE flows SET state = ?3 WHERE id = ?1 AND state = ?2",
            params![id, from.as_str(), to.as_str()],
        )?;
        Ok(changed == 1)
    }

    fn flow_code_try(&self, id: &str) -> StoreResult<u32> {
        Ok(self.db().row(
            "UPDATE flows SET code_tries = code_tries + 1 WHERE id = ?1 RETURNING code_tries",
            [id],
            |r| r.get(0),
        )?)
    }

    fn flow_claim(
        &self,
        flow_id: &str,
        user_id: i64,
        now: u64,
        sealed: Option<&[u8]>,
    ) -> StoreResult<bool> {
        super::accounts::claim(&self.db(), flow_id, user_id, now, sealed)
    }

    fn reset_claim(&self, flow_id: &str, user_id: i64) -> StoreResult<Option<ResetClaim>> {
        super::accounts::reset_claim(&self.db(), flow_id, user_id)
    }

    fn flow_unclaim(&self, flow_id: &str) -> StoreResult<bool> {
        super::accounts::unclaim(&self.db(), flow_id)
    }

    fn flow_finish(&self, flow_id: &str, user_id: i64) -> StoreResult<bool> {
        super::accounts::finish(&mut self.db(), flow_id, user_id)
    }

    fn flow_abandon(&self, flow_id: &str) -> StoreResult<bool> {
        super::accounts::abandon(&self.db(), flow_id)
    }

    fn user_for_account(
        &self,
        directory_id: &str,
        username: &str,
        display_name: &str,
        now: u64,
    ) -> StoreResult<User> {
        super::accounts::for_account(&mut self.db(), directory_id, username, display_name, now)
    }

    fn user_by_directory_id(&self, directory_id: &str) -> StoreResult<Option<User>> {
        super::accounts::by_directory_id(&self.db(), directory_id)
    }

    fn user_end_sessions(&self, id: i64) -> StoreResult<()> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        super::accounts::end_sessions(&transaction, id)?;
        transaction.commit()?;
        Ok(())
    }

    fn user_rehash_password(&self, id: i64, old_hash: &str, new_hash: &str) -> StoreResult<bool> {
        let changed = self.db().run(
            "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
            params![id, old_hash, new_hash],
        )?;
        Ok(changed == 1)
    }

    fn user_set_password(&self, id: i64, password_hash: &str) -> StoreResult<()> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        replace_password(&transaction, id, password_hash)?;
        transaction.commit()?;
        Ok(())
    }

    fn password_change_insert(&self, flow: &Flow, sealed_passwords: &[u8]) -> StoreResult<()> {
        self.insert_flow(flow, Some(sealed_passwords))
    }

    fn password_change_pending(&self, flow_id: &str, user_id: i64) -> StoreResult<Option<Vec<u8>>> {
        super::accounts::pending_passwords(&self.db(), flow_id, user_id)
    }

    fn session_create(
        &self,
        token_hash: &[u8],
        user_id: i64,
        now: u64,
        expires_at: u64,
    ) -> StoreResult<()> {
        self.db().run(
            "INSERT INTO sessions (token_hash, user_id, generation, created_at, expires_at)
             SELECT ?1, id, session_generation, ?3, ?4 FROM users WHERE id = ?2",
            params![token_hash, user_id, t(now), t(expires_at)],
        )?;
        Ok(())
    }

    fn session_user(&self, token_hash: &[u8], now: u64) -> StoreResult<Option<User>> {
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2
               AND s.generation = u.session_generation"
        );
        Ok(self
            .db()
            .row(&sql, params![token_hash, t(now)], user_from)
            .optional()?)
    }

    fn session_delete(&self, token_hash: &[u8]) -> StoreResult<bool> {
        sessions::delete(&self.db(), token_hash)
    }

    fn session_grant_enrollment(&self, token_hash: &[u8]) -> StoreResult<()> {
        sessions::grant_enrollment(&self.db(), token_hash)
    }

    fn session_may_enroll(&self, token_hash: &[u8], now: u64) -> StoreResult<bool> {
        sessions::may_enroll(&self.db(), token_hash, now)
    }

    fn session_take_enrollment(&self, token_hash: &[u8], now: u64) -> StoreResult<bool> {
        sessions::take_enrollment(&self.db(), token_hash, now)
    }

    fn flow_take_session(
        &self,
        flow_id: &str,
        token_hash: &[u8],
        now: u64,
        expires_at: u64,
    ) -> StoreResult<Option<i64>> {
        sessions::take_from_flow(&mut self.db(), flow_id, token_hash, now, expires_at)
    }

    fn flow_bind(&self, flow_id: &str, browser_hash: &[u8]) -> StoreResult<bool> {
        sessions::bind_flow(&self.db(), flow_id, browser_hash)
    }

    fn flow_binding(&self, flow_id: &str) -> StoreResult<Option<Vec<u8>>> {
        sessions::flow_binding(&self.db(), flow_id)
    }

    fn challenge_report_fraud(&self, id: &str, user_id: i64) -> StoreResult<bool> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        if decide(&transaction, id, ChallengeState::Fraud, FlowState::Denied)?.is_none() {
            return Ok(false);
        }
        super::ending::on_fraud(&transaction, user_id)?;
        transaction.commit()?;
        Ok(true)
    }

    fn access_code_create(
        &self,
        code_hash: &[u8],
        user_id: i64,
        expires_at: u64,
        reusable: bool,
    ) -> StoreResult<()> {
        self.db().run(
            "INSERT INTO access_codes (code_hash, user_id, expires_at, reusable)
             VALUES (?1, ?2, ?3, ?4)",
            params![code_hash, user_id, t(expires_at), reusable],
        )?;
        Ok(())
    }

    fn access_code_use(&self, code_hash: &[u8], user_id: i64, now: u64) -> StoreResult<bool> {
        let used = self.db().run(
            "UPDATE access_codes SET used = 1 - reusable
             WHERE code_hash = ?1 AND user_id = ?2 AND used = 0 AND expires_at > ?3",
            params![code_hash, user_id, t(now)],
        )?;
        Ok(used == 1)
    }

    fn audit(&self, event: &AuditEvent) -> StoreResult<()> {
        let queued = {
            let mut queue = lock(&self.audits);
            queue.push(event.clone());
            queue.len()
        };
        if queued >= MAX_QUEUED_AUDITS {
            write_audits(&self.connection, &self.audits)?;
        }
        Ok(())
    }

    fn audit_list(&self, username: Option<&str>, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        write_audits(&self.connection, &self.audits)?;
        let db = self.db();
        let mut statement = db.prepare_cached(
            "SELECT time, username, event, detail, client_ip FROM audit
             WHERE ?1 IS NULL OR username = ?1 COLLATE NOCASE ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(params![username, limit], |r| {
            Ok(AuditEvent {
                time: r.get::<_, i64>(0)? as u64,
                username: r.get(1)?,
                event: r.get(2)?,
                detail: r.get(3)?,
                client_ip: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
