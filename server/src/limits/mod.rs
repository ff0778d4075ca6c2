//! The server's limits, in one place: rate limits per client address, per (username, client)
//! and per username; lockouts after consecutive failures; the push cap; and the bounds on
//! every field. The numbers live in [`crate::config::Limits`]; `server/README.md` and
//! `docs/security.md` ("Limits and lockouts") give each one and what it defends.
//!
//! The counters are in memory, in tables with a fixed cap on their keys, when this process is
//! the only server (SQLite), and in the store, shared by every replica, when it has a
//! [`SharedLimiter`](crate::store::shared::SharedLimiter) (PostgreSQL): see [`backend`]. The
//! per-account failure counts are always in the store (they must survive a restart: the
//! NIST cap) and are kept per normalised username, for unknown names too.

mod backend;
mod buckets;
mod client;
pub mod fields;
mod lockout;
pub mod pushes;
mod table;
mod trust;

pub use backend::{Limiter, LimiterError, lock_policy};
pub use buckets::{Bucket, Limit};
pub use client::ClientKey;

use crate::error::ApiError;
use crate::metrics::ActionLabel;
use crate::state::AppState;
use crate::store::{Factor, User};
use backend::Key;

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
    // The trust read first: a trusted pair skips the username's bucket. One call, so that
    // the shared store is asked once.
    let owner = [
        (Key::Ip(what, client), per_ip),
        (Key::Pair(what, name, client), per_pair),
    ];
    let anyone = [owner[0], owner[1], (Key::User(what, name), per_user)];
    let (_, taken) = limiter.take_trusting(name, client, &owner, &anyone)?;
    taken.map_err(|seconds| {
        state
            .metrics()
            .rate_limited
            .get_or_create(&ActionLabel { action: what })
            .inc();
        ApiError::RateLimited(seconds)
    })
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

/// `423 locked` if the attempt's (username, client) pair is locked, or the account's
/// authenticator is disabled. Unknown names are counted in the store as real ones are, so
/// the answer, and the work, are the same whether or not the name exists.
pub fn check(state: &AppState, attempt: &Attempt<'_>) -> Result<(), ApiError> {
    let limits = &state.config().limits;
    let pair_locked = state
        .0
        .limiter
        .run_locked(attempt.factor, attempt.name, attempt.client)?;
    let account = state.store().failures(attempt.name, attempt.factor)?;
    if pair_locked || account >= limits.disable_after {
        return Err(ApiError::Locked);
    }
    Ok(())
}

/// Counts a failed attempt for its pair and its account.
pub fn failed(state: &AppState, attempt: &Attempt<'_>) -> Result<(), ApiError> {
    let limits = &state.config().limits;
    let locked = state.0.limiter.run_fail(
        attempt.factor,
        attempt.name,
        attempt.client,
        lock_policy(limits),
    )?;
    let account = state.store().failure_add(attempt.name, attempt.factor)?;
    // A pair's run locks at each multiple of `lock_after` (the failure that locks it is
    // the last one let through); the account once, when its count reaches the cap.
    if locked || account == limits.disable_after {
        state.metrics().lockouts.inc();
    }
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
    limiter.trust(&name, client, state.config().limits.trusted_client_seconds)?;
    for &factor in factors {
        limiter.run_clear(factor, &name, client)?;
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
