//! What replicas share besides the tables: the limiter's counters and the long-poll wake-ups.
//!
//! One server on SQLite keeps both in its own memory (`Store::shared_limiter` and
//! `Store::wake_bus` answer `None`); replicas on PostgreSQL keep the counters in the database
//! and wake each other with `LISTEN/NOTIFY`, so that any replica's answer is every replica's.

use std::sync::Arc;

use super::StoreResult;
use crate::limits::Limit;

/// A limiter key: a keyed hash of what is counted (action, client, username), the same on
/// every replica (the hash key is a setting in the store), never the clear username.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimitKey(pub [u8; 16]);

/// How a run of failures locks its (username, client) pair (`crate::config::Limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockPolicy {
    /// Every this many consecutive failures lock the pair again.
    pub lock_after: u32,
    /// The first lock, milliseconds; each further one doubles.
    pub lock_ms: u64,
    /// The longest lock, milliseconds.
    pub lock_max_ms: u64,
}

/// The limiter's counters where every replica sees them. Times are wall-clock milliseconds
/// since the Unix epoch, given by the caller; each call is one atomic step, so two replicas
/// counting at once both count.
pub trait SharedLimiter: Send + Sync {
    /// Takes one token from each bucket in turn (token buckets of `max` per `window`,
    /// refilling continuously); stops at the first one that is empty, leaving the later ones
    /// untouched. `Ok(None)` when every token was taken, `Ok(Some(seconds))` until the empty
    /// one has a token again (at least 1).
    fn take(&self, buckets: &[(LimitKey, Limit)], now_ms: u64) -> StoreResult<Option<u64>>;
    /// Whether the pair's run of failures has it locked at `now_ms`.
    fn run_locked(&self, key: LimitKey, now_ms: u64) -> StoreResult<bool>;
    /// Counts one more failure of the pair, locking it as `policy` says.
    fn run_fail(&self, key: LimitKey, policy: LockPolicy, now_ms: u64) -> StoreResult<()>;
    /// Ends the pair's run (a success).
    fn run_clear(&self, key: LimitKey) -> StoreResult<()>;
    /// Whether the (username, client) pair is trusted at `now_ms` (its owner succeeded lately).
    fn trusted(&self, key: LimitKey, now_ms: u64) -> StoreResult<bool>;
    /// Trusts the pair until `until_ms`.
    fn trust(&self, key: LimitKey, until_ms: u64) -> StoreResult<()>;
    /// [`take`](Self::take) of `trusted`'s buckets if the pair `trust` is trusted at `now_ms`,
    /// else of `untrusted`'s; answers whether it was, with the take's answer. One call, so
    /// a shared store may answer it in one round trip; the trust is read before any take.
    fn take_trusting(
        &self,
        trust: LimitKey,
        trusted: &[(LimitKey, Limit)],
        untrusted: &[(LimitKey, Limit)],
        now_ms: u64,
    ) -> StoreResult<(bool, Option<u64>)> {
        let is = self.trusted(trust, now_ms)?;
        let buckets = if is { trusted } else { untrusted };
        Ok((is, self.take(buckets, now_ms)?))
    }
}

/// What a replica is told when a device has something new to fetch.
pub type WakeHandler = Arc<dyn Fn(Wake<'_>) + Send + Sync>;

/// One wake-up delivered by a [`WakeBus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake<'a> {
    /// This device has a new challenge (or was removed): its polls look again.
    Device(&'a str),
    /// Wake-ups may have been missed (the bus reconnected): every poll looks again.
    All,
}

/// Wakes the long polls of a device on whichever replica holds them.
pub trait WakeBus: Send + Sync {
    /// Tells every replica, this one too, that `device_id` has something new; called after
    /// the commit that made it, so a woken poll finds it.
    fn publish(&self, device_id: &str) -> StoreResult<()>;
    /// Delivers every replica's publications to `handler` from now on, on a task or thread
    /// of the bus's own, reconnecting after a loss (and then delivering [`Wake::All`]).
    /// Called once, when the server starts.
    fn subscribe(&self, handler: WakeHandler) -> StoreResult<()>;
    /// Whether storing a challenge (`challenge_insert`, `flow_insert_with`) publishes its
    /// device's wake-up by itself, delivered at that transaction's commit: then whoever
    /// stored it need not publish again (one round trip and one commit fewer).
    fn publishes_stored_challenges(&self) -> bool {
        false
    }
}
