//! The PostgreSQL store, for several replicas sharing one database.
//!
//! The `Store` trait is synchronous (SQLite answers in microseconds on the caller's
//! thread), so this store uses the synchronous `postgres` client (tokio-postgres
//! underneath, without TLS: the database is on loopback or a private network) behind a pool
//! of worker threads, each owning one connection (`pool.rs` says why a client is never
//! touched on the caller's thread). Pool size: [`DEFAULT_POOL_SIZE`] by default, enough for
//! the two cores this server is measured on to keep the database busy while requests wait
//! on round trips; a larger machine raises it (each connection is a PostgreSQL backend, so
//! replicas × pool size must stay under the server's `max_connections`).
//!
//! Every decision SQLite makes in one transaction is one transaction here too, correct
//! under READ COMMITTED with replicas racing: a conditional `UPDATE ... WHERE state = ...`
//! (its row lock makes the second wait, then re-check and change nothing), `INSERT ... ON
//! CONFLICT` for nonces and counters, `... RETURNING` to read what was decided. Audit events
//! are queued and written together (`audit.rs`), as on SQLite: measured on this machine
//! (2 cores, loaded), one insert per event cost 0.7–1.3 ms of round trip and commit each,
//! while a tick's batch of 4,000 is one statement of 20–50 ms (one probe, three rounds).

mod accounts;
mod audit;
mod campaign;
mod contacts;
mod devices;
mod ending;
mod error;
mod flows;
mod helpdesk;
mod pool;
mod rows;
mod schema;
mod sessions;
mod shared;
mod wake;

pub use error::PgError;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::shared::{SharedLimiter, WakeBus};
use super::sweep::Sweeper;
use super::*;
use pool::Pool;

/// Connections per replica unless configured.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// The PostgreSQL implementation of [`Store`].
pub struct PgStore {
    pool: Arc<Pool>,
    limiter: Arc<shared::PgLimiter>,
    bus: Arc<wake::PgWakeBus>,
    /// Audit events not yet written (`audit.rs`).
    audits: Arc<audit::AuditQueue>,
    /// When this replica sweeps expired rows, and by which time.
    sweeper: Sweeper,
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL), migrating it as needed, with
    /// at most `pool_size` connections.
    pub fn open(url: &str, durability: Durability, pool_size: usize) -> StoreResult<Self> {
        let config = ::postgres::Config::from_str(url).map_err(|_| PgError::BadUrl)?;
        let pool = Arc::new(Pool::new(config.clone(), durability, pool_size));
        pool.run(schema::migrate)?;
        let audits = Arc::new(audit::AuditQueue::default());
        audit::AuditQueue::start_writer(&audits, &pool)?;
        Ok(Self {
            audits,
            limiter: Arc::new(shared::PgLimiter { pool: pool.clone() }),
            bus: Arc::new(wake::PgWakeBus {
                pool: pool.clone(),
                config,
                stopped: Arc::new(AtomicBool::new(false)),
            }),
            pool,
            sweeper: Sweeper::default(),
        })
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> StoreResult<i64> {
        self.pool.run(schema::version)
    }

    /// How many schema versions this server knows.
    pub fn known_schema_version() -> i64 {
        schema::MIGRATIONS.len() as i64
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.bus.stopped.store(true, Ordering::Relaxed);
        if let Err(error) = self.audits.flush(&self.pool) {
            crate::log(&format!("audit write failed at shutdown: {error}"));
        }
    }
}

/// Runs `$body` on a pool worker with the listed arguments moved in as owned copies.
macro_rules! on_pool {
    ($self:ident, |$c:ident| $body:expr) => {
        $self.pool.run(move |$c| $body)
    };
    ($self:ident, ($($arg:ident = $value:expr),*), |$c:ident| $body:expr) => {{
        $(let $arg = $value;)*
        $self.pool.run(move |$c| $body)
    }};
}

impl Store for PgStore {
    fn ready(&self) -> StoreResult<()> {
        on_pool!(self, |c| c.query_one("SELECT 1", &[]).map(|_| ()))
    }

    fn backup(&self, _to: &Path) -> StoreResult<()> {
        Err(StoreError::Unsupported("use pg_dump (docs/deploy.md)"))
    }

    fn shared_limiter(&self) -> Option<Arc<dyn SharedLimiter>> {
        Some(self.limiter.clone())
    }

    fn wake_bus(&self) -> Option<Arc<dyn WakeBus>> {
        Some(self.bus.clone())
    }

    fn setting(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        on_pool!(self, (name = name.to_owned()), |c| accounts::setting(
            c, &name
        ))
    }

    fn setting_set(&self, name: &str, value: &[u8]) -> StoreResult<()> {
        on_pool!(
            self,
            (name = name.to_owned(), value = value.to_vec()),
            |c| { accounts::setting_set(c, &name, &value) }
        )
    }

    fn setting_init(&self, name: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
        on_pool!(
            self,
            (name = name.to_owned(), value = value.to_vec()),
            |c| { accounts::setting_init(c, &name, &value) }
        )
    }

    fn setting_replace(&self, replaced: &str, name: &str, value: &[u8]) -> StoreResult<()> {
        on_pool!(
            self,
            (
                replaced = replaced.to_owned(),
                name = name.to_owned(),
                value = value.to_vec()
            ),
            |c| { accounts::setting_replace(c, &replaced, &name, &value) }
        )
    }

    fn purge(&self) -> StoreResult<()> {
        // Rewrites the tables that held secrets older SQLite servers kept in clear; no
        // PostgreSQL database had them, so this only drops dead rows (VACUUM cannot run in
        // a transaction: one statement per call).
        on_pool!(self, |c| c.batch("VACUUM FULL settings, users, devices"))
    }

    fn user_create(&self, user: &NewUser) -> StoreResult<i64> {
        on_pool!(self, (user = user.clone()), |c| accounts::user_create(
            c, &user
        ))
    }

    fn user_by_name(&self, username: &str) -> StoreResult<Option<User>> {
        on_pool!(self, (name = username.to_owned()), |c| {
            accounts::user_by_name(c, &name)
        })
    }

    fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
        on_pool!(self, |c| accounts::user_by_id(c, id))
    }

    fn failures(&self, name: &str, factor: Factor) -> StoreResult<u32> {
        on_pool!(self, (name = name.to_owned()), |c| accounts::failures(
            c, &name, factor
        ))
    }

    fn failure_add(&self, name: &str, factor: Factor) -> StoreResult<u32> {
        on_pool!(self, (name = name.to_owned()), |c| accounts::failure_add(
            c, &name, factor
        ))
    }

    fn failures_clear(&self, name: &str, factor: Factor) -> StoreResult<()> {
        on_pool!(
            self,
            (name = name.to_owned()),
            |c| accounts::failures_clear(c, &name, factor)
        )
    }

    fn user_set_blocked(&self, id: i64, blocked: bool) -> StoreResult<()> {
        on_pool!(self, |c| accounts::set_blocked(c, id, blocked))
    }

    fn device_oath_use(&self, device_id: &str, step: u64) -> StoreResult<bool> {
        on_pool!(self, (id = device_id.to_owned()), |c| devices::oath_use(
            c, &id, step
        ))
    }

    fn legacy_oath_seeds(&self) -> StoreResult<Vec<LegacyOathSeed>> {
        // Per-user seeds were kept in clear only by SQLite releases before per-device
        // secrets; no PostgreSQL database ever held one.
        Ok(Vec::new())
    }

    fn legacy_oath_move(
        &self,
        _seed: &LegacyOathSeed,
        _sealed: &[(String, Vec<u8>)],
    ) -> StoreResult<()> {
        Err(StoreError::Unsupported(
            "no PostgreSQL database holds a per-user OATH seed",
        ))
    }

    fn enrollment_code_create(
        &self,
        code_hash: &[u8],
        user_id: i64,
        expires_at: u64,
    ) -> StoreResult<()> {
        on_pool!(self, (hash = code_hash.to_vec()), |c| {
            devices::code_create(c, &hash, user_id, expires_at)
        })
    }

    fn enroll(&self, code_hash: &[u8], now: u64, device: &NewDevice) -> StoreResult<Option<i64>> {
        on_pool!(
            self,
            (hash = code_hash.to_vec(), device = device.clone()),
            |c| { devices::enroll(c, &hash, now, &device) }
        )
    }

    fn device(&self, id: &str) -> StoreResult<Option<Device>> {
        on_pool!(self, (id = id.to_owned()), |c| devices::device(c, &id))
    }

    fn devices_of(&self, user_id: i64) -> StoreResult<Vec<Device>> {
        on_pool!(self, |c| devices::devices_of(c, user_id))
    }

    fn device_push_token_stale(&self, device_id: &str, token: &str) -> StoreResult<bool> {
        on_pool!(
            self,
            (id = device_id.to_owned(), token = token.to_owned()),
            |c| { devices::push_token_stale(c, &id, &token) }
        )
    }

    fn device_delete(&self, id: &str) -> StoreResult<bool> {
        on_pool!(self, (id = id.to_owned()), |c| devices::delete(c, &id))
    }

    fn nonce_use(&self, device_id: &str, nonce: &str, now: u64, window: u64) -> StoreResult<bool> {
        // Sweeping once a minute per replica, not on every request, keeps requests to one
        // write; replicas sweeping at once delete the same rows, harmlessly.
        let sweep = self.sweeper.due(now);
        on_pool!(
            self,
            (id = device_id.to_owned(), nonce = nonce.to_owned()),
            |c| {
                if let Some(by) = sweep {
                    devices::sweep_expired(c, by, window)?;
                }
                devices::nonce_use(c, &id, &nonce, now)
            }
        )
    }

    fn challenge_insert(&self, challenge: &StoredChallenge) -> StoreResult<()> {
        on_pool!(self, (challenge = challenge.clone()), |c| {
            flows::insert_challenge(c, &challenge)
        })
    }

    fn challenge(&self, id: &str) -> StoreResult<Option<StoredChallenge>> {
        on_pool!(self, (id = id.to_owned()), |c| flows::challenge(c, &id))
    }

    fn challenges_pending(&self, device_id: &str, now: u64) -> StoreResult<Vec<StoredChallenge>> {
        on_pool!(self, (id = device_id.to_owned()), |c| flows::pending(
            c, &id, now
        ))
    }

    fn challenge_resolve(&self, id: &str, to: ChallengeState) -> StoreResult<bool> {
        on_pool!(self, (id = id.to_owned()), |c| flows::resolve(c, &id, to))
    }

    fn challenge_decide(
        &self,
        id: &str,
        to: ChallengeState,
        flow_to: FlowState,
    ) -> StoreResult<bool> {
        on_pool!(self, (id = id.to_owned()), |c| flows::challenge_decide(
            c, &id, to, flow_to
        ))
    }

    fn challenges_cancel_flow(&self, flow_id: &str) -> StoreResult<()> {
        on_pool!(self, (id = flow_id.to_owned()), |c| flows::cancel_flow(
            c, &id
        ))
    }

    fn flow_insert(&self, flow: &Flow) -> StoreResult<()> {
        on_pool!(self, (flow = flow.clone()), |c| flows::insert_flow(
            c, &flow, None
        ))
    }

    fn flow_insert_with(&self, flow: &Flow, challenges: &[StoredChallenge]) -> StoreResult<()> {
        on_pool!(
            self,
            (flow = flow.clone(), challenges = challenges.to_vec()),
            |c| { flows::insert_with(c, &flow, &challenges) }
        )
    }

    fn flow(&self, id: &str) -> StoreResult<Option<Flow>> {
        on_pool!(self, (id = id.to_owned()), |c| flows::flow(c, &id))
    }

    fn flow_transition(&self, id: &str, from: FlowState, to: FlowState) -> StoreResult<bool> {
        on_pool!(self, (id = id.to_owned()), |c| flows::transition(
            c, &id, from, to
        ))
    }

    fn flow_code_try(&self, id: &str) -> StoreResult<u32> {
        on_pool!(self, (id = id.to_owned()), |c| flows::code_try(c, &id))
    }

    fn flow_claim(
        &self,
        flow_id: &str,
        user_id: i64,
        now: u64,
        sealed: Option<&[u8]>,
    ) -> StoreResult<bool> {
        on_pool!(
            self,
            (id = flow_id.to_owned(), sealed = sealed.map(<[u8]>::to_vec)),
            |c| accounts::claim(c, &id, user_id, now, sealed.as_deref())
        )
    }

    fn reset_claim(&self, flow_id: &str, user_id: i64) -> StoreResult<Option<ResetClaim>> {
        on_pool!(self, (id = flow_id.to_owned()), |c| accounts::reset_claim(
            c, &id, user_id
        ))
    }

    fn flow_unclaim(&self, flow_id: &str) -> StoreResult<bool> {
        on_pool!(self, (id = flow_id.to_owned()), |c| accounts::unclaim(
            c, &id
        ))
    }

    fn flow_finish(&self, flow_id: &str, user_id: i64) -> StoreResult<bool> {
        on_pool!(self, (id = flow_id.to_owned()), |c| accounts::finish(
            c, &id, user_id
        ))
    }

    fn flow_abandon(&self, flow_id: &str) -> StoreResult<bool> {
        on_pool!(self, (id = flow_id.to_owned()), |c| accounts::abandon(
            c, &id
        ))
    }

    fn user_for_account(
        &self,
        directory_id: &str,
        username: &str,
        display_name: &str,
        now: u64,
    ) -> StoreResult<User> {
        on_pool!(
            self,
            (
                id = directory_id.to_owned(),
                name = username.to_owned(),
                display = display_name.to_owned()
            ),
            |c| { accounts::for_account(c, &id, &name, &display, now) }
        )
    }

    fn user_by_directory_id(&self, directory_id: &str) -> StoreResult<Option<User>> {
        on_pool!(self, (id = directory_id.to_owned()), |c| {
            accounts::user_by_directory_id(c, &id)
        })
    }

    fn user_end_sessions(&self, id: i64) -> StoreResult<()> {
        on_pool!(self, |c| c.transaction(|c| accounts::end_sessions(c, id)))
    }

    fn user_rehash_password(&self, id: i64, old_hash: &str, new_hash: &str) -> StoreResult<bool> {
        on_pool!(
            self,
            (old = old_hash.to_owned(), new = new_hash.to_owned()),
            |c| { accounts::rehash(c, id, &old, &new) }
        )
    }

    fn user_set_password(&self, id: i64, password_hash: &str) -> StoreResult<()> {
        on_pool!(self, (hash = password_hash.to_owned()), |c| {
            accounts::set_password(c, id, &hash)
        })
    }

    fn password_change_insert(&self, flow: &Flow, sealed_passwords: &[u8]) -> StoreResult<()> {
        on_pool!(
            self,
            (
                flow = flow.clone(),
                sealed = zeroize::Zeroizing::new(sealed_passwords.to_vec())
            ),
            |c| { flows::insert_flow(c, &flow, Some(&sealed)) }
        )
    }

    fn password_change_pending(&self, flow_id: &str, user_id: i64) -> StoreResult<Option<Vec<u8>>> {
        on_pool!(self, (id = flow_id.to_owned()), |c| {
            accounts::pending_passwords(c, &id, user_id)
        })
    }

    fn session_create(
        &self,
        token_hash: &[u8],
        user_id: i64,
        now: u64,
        expires_at: u64,
    ) -> StoreResult<()> {
        on_pool!(self, (hash = token_hash.to_vec()), |c| {
            sessions::create(c, &hash, user_id, now, expires_at)
        })
    }

    fn session_user(&self, token_hash: &[u8], now: u64) -> StoreResult<Option<User>> {
        on_pool!(self, (hash = token_hash.to_vec()), |c| sessions::user(
            c, &hash, now
        ))
    }

    fn session_delete(&self, token_hash: &[u8]) -> StoreResult<bool> {
        on_pool!(self, (hash = token_hash.to_vec()), |c| sessions::delete(
            c, &hash
        ))
    }

    fn session_grant_enrollment(&self, token_hash: &[u8]) -> StoreResult<()> {
        on_pool!(self, (hash = token_hash.to_vec()), |c| {
            sessions::grant_enrollment(c, &hash)
        })
    }

    fn session_may_enroll(&self, token_hash: &[u8], now: u64) -> StoreResult<bool> {
        on_pool!(
            self,
            (hash = token_hash.to_vec()),
            |c| sessions::may_enroll(c, &hash, now)
        )
    }

    fn session_take_enrollment(&self, token_hash: &[u8], now: u64) -> StoreResult<bool> {
        on_pool!(self, (hash = token_hash.to_vec()), |c| {
            sessions::take_enrollment(c, &hash, now)
        })
    }

    fn flow_take_session(
        &self,
        flow_id: &str,
        token_hash: &[u8],
        now: u64,
        expires_at: u64,
    ) -> StoreResult<Option<i64>> {
        on_pool!(
            self,
            (id = flow_id.to_owned(), hash = token_hash.to_vec()),
            |c| { sessions::take_from_flow(c, &id, &hash, now, expires_at) }
        )
    }

    fn flow_bind(&self, flow_id: &str, browser_hash: &[u8]) -> StoreResult<bool> {
        on_pool!(
            self,
            (id = flow_id.to_owned(), hash = browser_hash.to_vec()),
            |c| { sessions::bind_flow(c, &id, &hash) }
        )
    }

    fn flow_binding(&self, flow_id: &str) -> StoreResult<Option<Vec<u8>>> {
        on_pool!(self, (id = flow_id.to_owned()), |c| sessions::flow_binding(
            c, &id
        ))
    }

    fn challenge_report_fraud(&self, id: &str, user_id: i64) -> StoreResult<bool> {
        on_pool!(self, (id = id.to_owned()), |c| flows::report_fraud(
            c, &id, user_id
        ))
    }

    fn access_code_create(
        &self,
        code_hash: &[u8],
        user_id: i64,
        expires_at: u64,
        reusable: bool,
    ) -> StoreResult<()> {
        on_pool!(self, (hash = code_hash.to_vec()), |c| {
            sessions::access_code_create(c, &hash, user_id, expires_at, reusable)
        })
    }

    fn access_code_use(&self, code_hash: &[u8], user_id: i64, now: u64) -> StoreResult<bool> {
        on_pool!(self, (hash = code_hash.to_vec()), |c| {
            sessions::access_code_use(c, &hash, user_id, now)
        })
    }

    fn audit(&self, event: &AuditEvent) -> StoreResult<()> {
        self.audits.push(&self.pool, event.clone())
    }

    fn audit_list(&self, username: Option<&str>, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        self.audits.flush(&self.pool)?;
        on_pool!(self, (name = username.map(str::to_owned)), |c| {
            audit::list(c, name.as_deref(), limit)
        })
    }
}
