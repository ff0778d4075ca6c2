//! The server's limits, in one place: rate limits per client address, per (username, client)
//! and per username; lockouts after consecutive failures; the push cap; and the bounds on
//! every field. The numbers live in [`crate::config::Limits`]; `server/README.md` and
//! `docs/security.md` ("Limits and lockouts") give each one and what it defends.
//!
//! The state is in memory, in tables with a fixed cap on their keys, except the per-account
//! failure counts, which are in the store (they must survive a restart: the NIST cap) and
//! are kept per normalised username, for unknown names too.

mod buckets;
mod client;
pub mod fields;
mod lockout;
pub mod pushes;
mod table;
mod trust;

use std::time::Instant;

pub use buckets::{Bucket, Limit};
pub use client::ClientKey;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Factor, User};
use buckets::Buckets;
use lockout::Run;
use table::Table;
use trust::Trust;

/// The limiter's in-memory state.
pub struct Limiter {
    buckets: Buckets,
    runs: Table<Run>,
    trusted: Table<Trust>,
    started: Instant,
}

impl Limiter {
    /// A limiter holding at most `keys` keys in each of its tables.
    pub fn new(keys: usize) -> Self {
        Self {
            buckets: Table::new(keys),
            runs: Table::new(keys),
            trusted: Table::new(keys),
            started: Instant::now(),
        }
    }

    /// Milliseconds on the limiter's monotonic clock.
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Keys held (buckets, failure runs and trusted pairs together): bounded by the
    /// configured cap on each table.
    pub fn keys(&self) -> (usize, usize) {
        (self.buckets.len(), self.runs.len() + self.trusted.len())
    }

    fn trusted(&self, name: &str, client: ClientKey, now_ms: u64) -> bool {
        let key = self.trusted.key((name, client));
        self.trusted
            .peek(key, |t| t.until > now_ms)
            .unwrap_or(false)
    }
}

/// What a request does, for its rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A reset start (anyone, naming an account).
    ResetStart,
    /// A code from the app for a reset.
    Code,
    /// A password sign-in, a password change or a help-desk access code.
    SignIn,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::ResetStart => "reset",
            Action::Code => "code",
            Action::SignIn => "signin",
        }
    }
}

/// Counts one request of `action` for username `name` (its key) from `client`: against the
/// client's limit, the (username, client) pair's, then the username's. The pair's is well
/// below the username's, so that one stranger's address runs out long before the owner's
/// username does; a refused request takes no token from the later buckets; and a pair that
/// succeeded lately (the owner's address) skips the username's.
pub fn rate(
    state: &AppState,
    action: Action,
    name: &str,
    client: ClientKey,
) -> Result<(), ApiError> {
    let limits = &state.config().limits;
    let (per_ip, per_pair, per_user) = match action {
        Action::ResetStart => (
            limits.reset_start_per_ip,
            limits.reset_start_per_user_ip,
            limits.reset_start_per_user,
        ),
        Action::Code => (
            limits.code_per_ip,
            limits.code_per_user_ip,
            limits.code_per_user,
        ),
        Action::SignIn => (
            limits.sign_in_per_ip,
            limits.sign_in_per_user_ip,
            limits.sign_in_per_user,
        ),
    };
    let limiter = &state.0.limiter;
    let what = action.as_str();
    let now_ms = limiter.now_ms();
    let take = |key: u64, limit: Limit| {
        limiter
            .buckets
            .with(key, now_ms, |b| b.take(limit, now_ms))
            .map_err(ApiError::RateLimited)
    };
    take(limiter.buckets.key((what, "ip", client)), per_ip)?;
    take(limiter.buckets.key((what, "pair", name, client)), per_pair)?;
    if limiter.trusted(name, client, now_ms) {
        return Ok(());
    }
    take(limiter.buckets.key((what, "user", name)), per_user)
}

/// One try of an authenticator: which, for which username (its key), from where.
#[derive(Clone, Copy)]
pub struct Attempt<'a> {
    /// The password or the codes from the app.
    pub factor: Factor,
    /// The username's key ([`fields::username_key`]), whether or not an account has it.
    pub name: &'a str,
    /// The client.
    pub client: ClientKey,
}

impl Attempt<'_> {
    /// What the lockout table keys this attempt's (username, client) pair by.
    fn pair_key(&self) -> impl std::hash::Hash + '_ {
        lockout::pair_key(self.factor, self.name, self.client)
    }
}

/// `423 locked` if the attempt's (username, client) pair is locked, or the account's
/// authenticator is disabled. Unknown names are counted in the store as real ones are, so
/// the answer, and the work, are the same whether or not the name exists.
pub fn check(state: &AppState, attempt: &Attempt<'_>) -> Result<(), ApiError> {
    let limits = &state.config().limits;
    let limiter = &state.0.limiter;
    let now_ms = limiter.now_ms();
    let pair = limiter.runs.key(attempt.pair_key());
    let pair_locked = limiter
        .runs
        .peek(pair, |r| r.locked(now_ms))
        .unwrap_or(false);
    let account = state.store().failures(attempt.name, attempt.factor)?;
    if pair_locked || account >= limits.disable_after {
        return Err(ApiError::Locked);
    }
    Ok(())
}

/// Counts a failed attempt for its pair and its account.
pub fn failed(state: &AppState, attempt: &Attempt<'_>) -> Result<(), ApiError> {
    let limits = &state.config().limits;
    let limiter = &state.0.limiter;
    let now_ms = limiter.now_ms();
    let pair = limiter.runs.key(attempt.pair_key());
    limiter.runs.with(pair, now_ms, |r| r.fail(limits, now_ms));
    state.store().failure_add(attempt.name, attempt.factor)?;
    Ok(())
}

/// A success of `user` from `client`: clears the named factors' account counts and this
/// client's runs for them (NIST: earlier failures from the same address are disregarded
/// after a success), and trusts the pair. Other clients' runs stay: a stranger's count is
/// the stranger's.
pub fn succeeded(
    state: &AppState,
    user: &User,
    client: ClientKey,
    factors: &[Factor],
) -> Result<(), ApiError> {
    let limiter = &state.0.limiter;
    let name = fields::username_key(&user.username);
    let now_ms = limiter.now_ms();
    let until = now_ms.saturating_add(
        state
            .config()
            .limits
            .trusted_client_seconds
            .saturating_mul(1000),
    );
    let trusted = limiter.trusted.key((name.as_str(), client));
    limiter.trusted.with(trusted, now_ms, |t| t.until = until);
    for &factor in factors {
        let pair = limiter.runs.key(lockout::pair_key(factor, &name, client));
        limiter.runs.remove(pair);
        state.store().failures_clear(&name, factor)?;
    }
    Ok(())
}

/// The owner proved it is them (a sign-in approved on the phone, a help-desk access code, a
/// completed reset): both of the account's failure counts, and this client's, start afresh.
pub fn owner_proven(
    state: &AppState,
    user: &User,
    client: std::net::IpAddr,
) -> Result<(), ApiError> {
    succeeded(
        state,
        user,
        ClientKey::of(client),
        &[Factor::Password, Factor::Code],
    )
}

/// An approval on the phone: a success through another path, which lifts a lockout of the
/// codes from the app (NIST's cap on one authenticator). On the approval path of every
/// round trip: a delete that finds nothing writes nothing.
pub fn approved_on_phone(state: &AppState, username: &str) -> Result<(), ApiError> {
    let name = fields::username_key(username);
    state.store().failures_clear(&name, Factor::Code)?;
    Ok(())
}
