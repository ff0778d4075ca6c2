//! The server's persistent state behind a trait, so that PostgreSQL can follow SQLite.
//!
//! Methods that decide something (consume a code, answer a challenge) are single atomic
//! steps in the store, so two requests racing cannot both succeed.

mod accounts;
mod campaign;
mod connection;
mod contacts;
mod ending;
mod files;
mod helpdesk;
mod location;
pub mod postgres;
mod records;
mod rows;
mod schema;
mod sessions;
pub mod shared;
mod sqlite;
mod sweep;

pub use accounts::CLAIM_SECONDS;
pub use campaign::{Campaign, PhoneActivity};
pub use contacts::{Contact, Contacts};
pub use helpdesk::Helpdesk;
pub use location::StoreLocation;
pub use postgres::PgStore;
pub use records::*;
pub use sqlite::{Durability, SqliteStore};

/// The SQLite schema version this server writes (`PRAGMA user_version`; `restore` checks it).
pub fn sqlite_schema_version() -> i64 {
    schema::MIGRATIONS.len() as i64
}

use std::path::Path;
use std::sync::Arc;

use shared::{SharedLimiter, WakeBus};

/// A store failure (I/O, corruption, a constraint).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The PostgreSQL database failed (its message never holds the URL or a row's values).
    #[error("postgres: {0}")]
    Postgres(postgres::PgError),
    /// A unique name is taken (a username).
    #[error("already exists")]
    Conflict,
    /// The database file could not be created or its permissions set.
    #[error("database file: {0}")]
    File(#[from] std::io::Error),
    /// The database's schema is newer than this server knows.
    #[error("database schema version {0} is newer than this server")]
    TooNew(i64),
    /// This store cannot do that (a SQLite backup of a PostgreSQL database); the sentence
    /// says what to do instead.
    #[error("{0}")]
    Unsupported(&'static str),
    /// A stored row holds what this server cannot read (a newer server's value).
    #[error("malformed row: {0}")]
    Malformed(&'static str),
}

/// Result of store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the server keeps.
pub trait Store: Contacts + Campaign + Helpdesk + Send + Sync {
    /// Whether the database answers now (one cheap query), for `/readyz`.
    fn ready(&self) -> StoreResult<()>;
    /// Writes a consistent copy of the whole database to the new file `to` (mode 0600),
    /// while the server runs; [`StoreError::Unsupported`] where the database has its own
    /// tools (PostgreSQL: `pg_dump`, `docs/deploy.md`).
    fn backup(&self, to: &Path) -> StoreResult<()>;
    /// The limiter's counters, when they must be shared with other replicas; `None`: this
    /// process is the only server and keeps them in memory.
    fn shared_limiter(&self) -> Option<Arc<dyn SharedLimiter>> {
        None
    }
    /// The long-poll wake-ups between replicas; `None`: this process is the only server.
    fn wake_bus(&self) -> Option<Arc<dyn WakeBus>> {
        None
    }

    /// A setting (the server key lives here).
    fn setting(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Sets a setting, replacing any value.
    fn setting_set(&self, name: &str, value: &[u8]) -> StoreResult<()>;
    /// Sets a setting only if it is not set yet; returns the value now stored.
    fn setting_init(&self, name: &str, value: &[u8]) -> StoreResult<Vec<u8>>;
    /// Sets `name` to `value` and deletes the setting `replaced`, in one transaction (a
    /// secret kept in clear by an older server, replaced by its sealed form).
    fn setting_replace(&self, replaced: &str, name: &str, value: &[u8]) -> StoreResult<()>;

    /// Rewrites the database so that deleted values (secrets an older server kept in clear)
    /// leave no trace in its files.
    fn purge(&self) -> StoreResult<()>;

    /// Creates a user; [`StoreError::Conflict`] if the name is taken.
    fn user_create(&self, user: &NewUser) -> StoreResult<i64>;
    /// A user by name (case-insensitive).
    fn user_by_name(&self, username: &str) -> StoreResult<Option<User>>;
    /// A user by id.
    fn user_by_id(&self, id: i64) -> StoreResult<Option<User>>;
    /// The consecutive failures of `factor` for the username `name` (its normalised key),
    /// whether or not an account has that name.
    fn failures(&self, name: &str, factor: Factor) -> StoreResult<u32>;
    /// Counts one more consecutive failure; the count now stored.
    fn failure_add(&self, name: &str, factor: Factor) -> StoreResult<u32>;
    /// A success: clears the count (writes nothing when there is none).
    fn failures_clear(&self, name: &str, factor: Factor) -> StoreResult<()>;
    /// Sets or clears the fraud block.
    fn user_set_blocked(&self, id: i64, blocked: bool) -> StoreResult<()>;
    /// Records an accepted TOTP step of a device's OATH secret; false if it is not after
    /// that device's last one (a replay), or the device is gone.
    fn device_oath_use(&self, device_id: &str, step: u64) -> StoreResult<bool>;
    /// The per-user OATH seeds an older database kept in clear.
    fn legacy_oath_seeds(&self) -> StoreResult<Vec<LegacyOathSeed>>;
    /// Gives each device of the seed's user its sealed copy (`(device id, sealed seed)`,
    /// marked shared) and clears the user's clear seed, in one transaction.
    fn legacy_oath_move(
        &self,
        seed: &LegacyOathSeed,
        sealed: &[(String, Vec<u8>)],
    ) -> StoreResult<()>;

    /// Stores a single-use enrollment code (by hash).
    fn enrollment_code_create(
        &self,
        code_hash: &[u8],
        user_id: i64,
        expires_at: u64,
    ) -> StoreResult<()>;
    /// Consumes an unused, unexpired code and registers the device, atomically; the user
    /// id, or `None` if the code is unknown, used or expired.
    fn enroll(&self, code_hash: &[u8], now: u64, device: &NewDevice) -> StoreResult<Option<i64>>;

    /// A device by id.
    fn device(&self, id: &str) -> StoreResult<Option<Device>>;
    /// A user's devices, oldest first.
    fn devices_of(&self, user_id: i64) -> StoreResult<Vec<Device>>;
    /// Marks the device's push token stale (the push vendor reports it unregistered): it is
    /// cleared if it is still `token`, and the device relies on its long poll until it
    /// enrolls a new one. False if the device is gone or has another token now.
    fn device_push_token_stale(&self, device_id: &str, token: &str) -> StoreResult<bool>;
    /// Removes a device with its OATH secret (its pending challenges go too); if that secret
    /// was a shared copy of an older database's per-user seed, every copy of it on the user's
    /// other devices is revoked too. False if there was no such device.
    fn device_delete(&self, id: &str) -> StoreResult<bool>;

    /// Records a request nonce; false if the device used it within `window` seconds.
    fn nonce_use(&self, device_id: &str, nonce: &str, now: u64, window: u64) -> StoreResult<bool>;

    /// Stores a new challenge (the push cap is the limiter's, `crate::limits::pushes`).
    fn challenge_insert(&self, challenge: &StoredChallenge) -> StoreResult<()>;
    /// A challenge by id.
    fn challenge(&self, id: &str) -> StoreResult<Option<StoredChallenge>>;
    /// A device's pending, unexpired challenges, oldest first.
    fn challenges_pending(&self, device_id: &str, now: u64) -> StoreResult<Vec<StoredChallenge>>;
    /// Moves a challenge from pending to `to`; false if it was not pending.
    fn challenge_resolve(&self, id: &str, to: ChallengeState) -> StoreResult<bool>;
    /// Answers a pending challenge and decides its flow in one step: the challenge goes to
    /// `to`, a pending flow to `flow_to`, and the flow's other pending challenges are
    /// cancelled. False (nothing changed) if the challenge was not pending.
    fn challenge_decide(
        &self,
        id: &str,
        to: ChallengeState,
        flow_to: FlowState,
    ) -> StoreResult<bool>;
    /// Cancels the other pending challenges of a flow (one answer decides it).
    fn challenges_cancel_flow(&self, flow_id: &str) -> StoreResult<()>;

    /// Stores a new flow (a reset).
    fn flow_insert(&self, flow: &Flow) -> StoreResult<()>;
    /// Stores a new flow and its challenges in one transaction.
    fn flow_insert_with(&self, flow: &Flow, challenges: &[StoredChallenge]) -> StoreResult<()>;
    /// A flow by id.
    fn flow(&self, id: &str) -> StoreResult<Option<Flow>>;
    /// Moves a flow from `from` to `to`; false if it was not in `from`.
    fn flow_transition(&self, id: &str, from: FlowState, to: FlowState) -> StoreResult<bool>;
    /// Counts one code try; the tries now counted.
    fn flow_code_try(&self, id: &str) -> StoreResult<u32>;
    /// Takes a verified, unexpired flow of `user_id` for the one request that writes its
    /// password to the directory (two submits cannot both write), or one whose claim is
    /// older than [`CLAIM_SECONDS`] (its process stopped mid-write); false, nothing
    /// changed, if it was not verified or expired. A password reset's claim records, in the
    /// same conditional update, `sealed`: the new password it writes, sealed for the flow
    /// (`None` for an unlock), replacing what an earlier claim recorded, so that a request
    /// that later finds the flow claimed can ask the directory whether that write took. A
    /// password change keeps the sealed pair it was started with (`sealed` is ignored).
    fn flow_claim(
        &self,
        flow_id: &str,
        user_id: i64,
        now: u64,
        sealed: Option<&[u8]>,
    ) -> StoreResult<bool>;
    /// The claim on password reset `flow_id` of `user_id`, if it is claimed now.
    fn reset_claim(&self, flow_id: &str, user_id: i64) -> StoreResult<Option<ResetClaim>>;
    /// The directory did not write the password: the claimed flow is verified again; a
    /// reset's recorded password is erased (a change keeps its sealed pair, to retry).
    fn flow_unclaim(&self, flow_id: &str) -> StoreResult<bool>;
    /// The directory wrote the password of the claimed flow: it is done, its sealed
    /// passwords erased, every session and open flow of the user ended, in one
    /// transaction. False if it was not claimed.
    fn flow_finish(&self, flow_id: &str, user_id: i64) -> StoreResult<bool>;
    /// A claimed flow that cannot complete: denied, its sealed passwords erased.
    fn flow_abandon(&self, flow_id: &str) -> StoreResult<bool>;

    /// The local row of the directory account with stable id `directory_id`, made on first
    /// sight (with no password hash), its username and display name set to the directory's;
    /// a row that held the username before (a rename) gives it up.
    fn user_for_account(
        &self,
        directory_id: &str,
        username: &str,
        display_name: &str,
        now: u64,
    ) -> StoreResult<User>;
    /// The local row of the account with this stable id, if it was ever seen.
    fn user_by_directory_id(&self, directory_id: &str) -> StoreResult<Option<User>>;
    /// Ends every session and open flow of the user (a password replaced in the directory,
    /// or an unlock that proves the owner lost control of it).
    fn user_end_sessions(&self, id: i64) -> StoreResult<()>;

    /// Replaces the stored hash of the same password by a new form of it (a rehash at
    /// sign-in), only if it is still `old_hash`; sessions are kept. False if it changed meanwhile.
    fn user_rehash_password(&self, id: i64, old_hash: &str, new_hash: &str) -> StoreResult<bool>;

    /// Sets a new password and ends all the user's sessions (a password change).
    fn user_set_password(&self, id: i64, password_hash: &str) -> StoreResult<()>;

    /// Stores a new password-change flow with its old and new passwords sealed under the
    /// key-encryption key (erased when it completes, is denied or expires).
    fn password_change_insert(&self, flow: &Flow, sealed_passwords: &[u8]) -> StoreResult<()>;
    /// The sealed passwords of a claimed password change of `user_id`.
    fn password_change_pending(&self, flow_id: &str, user_id: i64) -> StoreResult<Option<Vec<u8>>>;

    /// Stores a session (by token hash) at the user's current generation.
    fn session_create(
        &self,
        token_hash: &[u8],
        user_id: i64,
        now: u64,
        expires_at: u64,
    ) -> StoreResult<()>;
    /// The user of a live session (unexpired, and of the user's current generation).
    fn session_user(&self, token_hash: &[u8], now: u64) -> StoreResult<Option<User>>;

    /// Deletes a session (a sign-out); false if there was none.
    fn session_delete(&self, token_hash: &[u8]) -> StoreResult<bool>;
    /// Lets a session enroll one phone without an approval (a help-desk access code).
    fn session_grant_enrollment(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// Whether a live session may still enroll one phone without an approval.
    fn session_may_enroll(&self, token_hash: &[u8], now: u64) -> StoreResult<bool>;
    /// Uses a live session's enrollment grant; false if it had none.
    fn session_take_enrollment(&self, token_hash: &[u8], now: u64) -> StoreResult<bool>;
    /// Takes the session of a verified, unexpired flow in one step: the flow becomes done
    /// and the session is stored; the user id, or `None` (nothing changed) if the flow was
    /// not verified. One transaction, so a reset cannot fall between the two.
    fn flow_take_session(
        &self,
        flow_id: &str,
        token_hash: &[u8],
        now: u64,
        expires_at: u64,
    ) -> StoreResult<Option<i64>>;

    /// Binds a flow to the browser that started it (the hash of its cookie); false if
    /// there is no such flow or it is bound already.
    fn flow_bind(&self, flow_id: &str, browser_hash: &[u8]) -> StoreResult<bool>;
    /// The hash of the browser cookie a flow is bound to; `None` if unbound or unknown.
    fn flow_binding(&self, flow_id: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Answers a pending challenge with a fraud report and ends what the account had, in
    /// one transaction: the flow denied, pushes blocked, every session, every open flow
    /// and its challenges, unused enrollment and access codes. False if it was not pending.
    fn challenge_report_fraud(&self, id: &str, user_id: i64) -> StoreResult<bool>;

    /// Stores a help-desk access code (by hash): used once, or any number of times until it
    /// expires when `reusable`.
    fn access_code_create(
        &self,
        code_hash: &[u8],
        user_id: i64,
        expires_at: u64,
        reusable: bool,
    ) -> StoreResult<()>;
    /// Consumes an unused, unexpired access code of `user_id` in one step (a reusable one
    /// stays usable); false, consuming nothing, if the code is unknown, used, expired or
    /// another user's.
    fn access_code_use(&self, code_hash: &[u8], user_id: i64, now: u64) -> StoreResult<bool>;

    /// Appends an audit event. It may be queued and written with others shortly after
    /// (SQLite: within 100 ms, and at the latest when the store is dropped); a process
    /// killed meanwhile loses the queued events.
    fn audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Audit events, newest first, optionally of one user; queued events included.
    fn audit_list(&self, username: Option<&str>, limit: u32) -> StoreResult<Vec<AuditEvent>>;
}
