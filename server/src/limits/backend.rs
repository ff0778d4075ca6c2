//! Where the limiter's counters live: this process's capped tables (one server: SQLite), or
//! the store's [`SharedLimiter`] (replicas on PostgreSQL), so that a limit is the sum over
//! every replica, not a budget per replica.
//!
//! The rules are written once, in Rust ([`Bucket::take`], [`Run::fail`]); the shared store
//! applies the same rules in its own atomic statements, given the [`LockPolicy`] this module
//! derives from the settings.

use std::sync::Arc;
use std::time::Instant;

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::buckets::{Bucket, Buckets, Limit};
use super::client::ClientKey;
use super::lockout::Run;
use super::table::Table;
use super::trust::Trust;
use crate::config::Limits;
use crate::kek::{KekError, KeyEncryptionKey};
use crate::store::shared::{LimitKey, LockPolicy, SharedLimiter};
use crate::store::{Factor, Store, StoreResult};

/// The setting holding the limiter's hash key, sealed under the key-encryption key: made
/// once by whichever replica starts first, then read by all of them.
const KEY_SETTING: &str = "limiter_hash_key_sealed";
/// What the sealed hash key is bound to.
const KEY_AAD: &[u8] = b"cityauth sealed v1\0limiter hash key";

/// What one counter is about. The in-memory tables hash it with their per-process key; the
/// shared store gets its keyed hash under the key every replica shares.
#[derive(Debug, Clone, Copy, Hash)]
pub enum Key<'a> {
    /// A client's bucket for an action.
    Ip(&'static str, ClientKey),
    /// A (username, client) pair's bucket for an action.
    Pair(&'static str, &'a str, ClientKey),
    /// A username's bucket for an action.
    User(&'static str, &'a str),
    /// An account's push bucket (`anonymous` or `after_password`).
    Push(&'static str, i64),
    /// A (username, client) pair's run of failures of a factor.
    Run(Factor, &'a str, ClientKey),
    /// A (username, client) pair the owner succeeded from lately.
    Trust(&'a str, ClientKey),
}

impl Key<'_> {
    /// An unambiguous byte form: a tag, then each field with its length.
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(96));
        let mut field = |bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        match *self {
            Key::Ip(action, client) => {
                field(b"ip");
                field(action.as_bytes());
                field(&client_bytes(client));
            }
            Key::Pair(action, name, client) => {
                field(b"pair");
                field(action.as_bytes());
                field(name.as_bytes());
                field(&client_bytes(client));
            }
            Key::User(action, name) => {
                field(b"user");
                field(action.as_bytes());
                field(name.as_bytes());
            }
            Key::Push(which, user_id) => {
                field(b"push");
                field(which.as_bytes());
                field(&user_id.to_be_bytes());
            }
            Key::Run(factor, name, client) => {
                field(b"run");
                field(factor.as_str().as_bytes());
                field(name.as_bytes());
                field(&client_bytes(client));
            }
            Key::Trust(name, client) => {
                field(b"trust");
                field(name.as_bytes());
                field(&client_bytes(client));
            }
        }
        out
    }
}

/// A client key's bytes: a family tag, then the address (or /64).
fn client_bytes(client: ClientKey) -> Vec<u8> {
    match client {
        ClientKey::V4(octets) => [&[4u8][..], &octets].concat(),
        ClientKey::V6(prefix) => [&[6u8][..], &prefix].concat(),
    }
}

/// The lockout rule's numbers from the settings, for [`Run::fail`] and the shared store.
pub fn lock_policy(limits: &Limits) -> LockPolicy {
    LockPolicy {
        lock_after: limits.lock_after.max(1),
        lock_ms: limits.lock_seconds.saturating_mul(1000),
        lock_max_ms: limits
            .lock_max_seconds
            .max(limits.lock_seconds)
            .saturating_mul(1000),
    }
}

/// The counters of one process.
struct Local {
    buckets: Buckets,
    runs: Table<Run>,
    trusted: Table<Trust>,
    started: Instant,
}

impl Local {
    /// Milliseconds on this process's monotonic clock.
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// The counters every replica shares, and the key that names them alike everywhere.
struct Shared {
    counters: Arc<dyn SharedLimiter>,
    hash_key: hmac::Key,
}

impl Shared {
    /// The key's keyed hash (HMAC-SHA256, first 16 bytes): the same on every replica, and
    /// no username in clear in the store's counters.
    fn key(&self, key: Key<'_>) -> LimitKey {
        let tag = hmac::sign(&self.hash_key, &key.encode());
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag.as_ref()[..16]);
        LimitKey(out)
    }
}

/// Wall-clock milliseconds since the Unix epoch: the clock replicas share.
fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

enum Backend {
    Local(Local),
    Shared(Shared),
}

/// The limiter's counters, wherever they live.
pub struct Limiter {
    backend: Backend,
}

/// Why the limiter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The shared hash key could not be sealed or opened.
    #[error("{0}")]
    Kek(#[from] KekError),
    /// No randomness for a new hash key.
    #[error("no randomness for the limiter's hash key")]
    Random,
}

impl Limiter {
    /// In-memory counters holding at most `keys` keys in each of their tables.
    pub fn new(keys: usize) -> Self {
        Self {
            backend: Backend::Local(Local {
                buckets: Table::new(keys),
                runs: Table::new(keys),
                trusted: Table::new(keys),
                started: Instant::now(),
            }),
        }
    }

    /// The store's shared counters when it has them (else in-memory ones of `keys` keys),
    /// named under the hash key kept sealed in the store's settings.
    pub fn open(
        store: &dyn Store,
        kek: &dyn KeyEncryptionKey,
        keys: usize,
    ) -> Result<Self, LimiterError> {
        let Some(counters) = store.shared_limiter() else {
            return Ok(Self::new(keys));
        };
        let mut fresh = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(fresh.as_mut())
            .map_err(|_| LimiterError::Random)?;
        // A replica starting at the same moment may have stored its key first: use that.
        let stored = store.setting_init(KEY_SETTING, &kek.seal(KEY_AAD, fresh.as_ref())?)?;
        let bytes = kek.open(KEY_AAD, &stored)?;
        Ok(Self {
            backend: Backend::Shared(Shared {
                counters,
                hash_key: hmac::Key::new(hmac::HMAC_SHA256, &bytes),
            }),
        })
    }

    /// Whether the counters are the store's (shared by replicas).
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Shared(_))
    }

    /// Keys held in memory (buckets; runs and trusted pairs): none when shared.
    pub fn keys(&self) -> (usize, usize) {
        match &self.backend {
            Backend::Local(l) => (l.buckets.len(), l.runs.len() + l.trusted.len()),
            Backend::Shared(_) => (0, 0),
        }
    }

    /// Takes one token from each bucket in turn, stopping at the first empty one (the
    /// later ones keep theirs): `Ok(Err(seconds))` until it has a token again.
    pub fn take(&self, buckets: &[(Key<'_>, Limit)]) -> StoreResult<Result<(), u64>> {
        match &self.backend {
            Backend::Local(l) => {
                let now_ms = l.now_ms();
                for (key, limit) in buckets {
                    let key = l.buckets.key(key);
                    if let Err(seconds) = l
                        .buckets
                        .with(key, now_ms, |b: &mut Bucket| b.take(*limit, now_ms))
                    {
                        return Ok(Err(seconds));
                    }
                }
                Ok(Ok(()))
            }
            Backend::Shared(s) => {
                let keyed: Vec<(LimitKey, Limit)> = buckets
                    .iter()
                    .map(|(key, limit)| (s.key(*key), *limit))
                    .collect();
                Ok(match s.counters.take(&keyed, wall_ms())? {
                    None => Ok(()),
                    Some(seconds) => Err(seconds.max(1)),
                })
            }
        }
    }

    /// [`take`](Self::take) of `trusted`'s buckets if the owner of `name` succeeded from
    /// `client` lately ([`trusted`](Self::trusted), read first), else of `untrusted`'s;
    /// answers whether it did, with the take's answer. The shared store answers both in
    /// one round trip.
    pub fn take_trusting(
        &self,
        name: &str,
        client: ClientKey,
        trusted: &[(Key<'_>, Limit)],
        untrusted: &[(Key<'_>, Limit)],
    ) -> StoreResult<(bool, Result<(), u64>)> {
        match &self.backend {
            Backend::Local(_) => {
                let is = self.trusted(name, client)?;
                Ok((is, self.take(if is { trusted } else { untrusted })?))
            }
            Backend::Shared(s) => {
                let keyed = |buckets: &[(Key<'_>, Limit)]| -> Vec<(LimitKey, Limit)> {
                    buckets
                        .iter()
                        .map(|(key, limit)| (s.key(*key), *limit))
                        .collect()
                };
                let (is, taken) = s.counters.take_trusting(
                    s.key(Key::Trust(name, client)),
                    &keyed(trusted),
                    &keyed(untrusted),
                    wall_ms(),
                )?;
                Ok((is, taken.map_or(Ok(()), |seconds| Err(seconds.max(1)))))
            }
        }
    }

    /// Whether the owner of `name` succeeded from `client` lately.
    pub fn trusted(&self, name: &str, client: ClientKey) -> StoreResult<bool> {
        match &self.backend {
            Backend::Local(l) => {
                let now_ms = l.now_ms();
                let key = l.trusted.key(Key::Trust(name, client));
                Ok(l.trusted.peek(key, |t| t.until > now_ms).unwrap_or(false))
            }
            Backend::Shared(s) => s
                .counters
                .trusted(s.key(Key::Trust(name, client)), wall_ms()),
        }
    }

    /// Trusts (`name`, `client`) for `seconds` from now.
    pub fn trust(&self, name: &str, client: ClientKey, seconds: u64) -> StoreResult<()> {
        let span = seconds.saturating_mul(1000);
        match &self.backend {
            Backend::Local(l) => {
                let now_ms = l.now_ms();
                let key = l.trusted.key(Key::Trust(name, client));
                l.trusted
                    .with(key, now_ms, |t| t.until = now_ms.saturating_add(span));
                Ok(())
            }
            Backend::Shared(s) => s.counters.trust(
                s.key(Key::Trust(name, client)),
                wall_ms().saturating_add(span),
            ),
        }
    }

    /// Whether the pair's run of failures of `factor` has it locked now.
    pub fn run_locked(&self, factor: Factor, name: &str, client: ClientKey) -> StoreResult<bool> {
        let run = Key::Run(factor, name, client);
        match &self.backend {
            Backend::Local(l) => {
                let now_ms = l.now_ms();
                let key = l.runs.key(run);
                Ok(l.runs.peek(key, |r| r.locked(now_ms)).unwrap_or(false))
            }
            Backend::Shared(s) => s.counters.run_locked(s.key(run), wall_ms()),
        }
    }

    /// Counts one failure of the pair; `true` if the pair is locked after it.
    pub fn run_fail(
        &self,
        factor: Factor,
        name: &str,
        client: ClientKey,
        policy: LockPolicy,
    ) -> StoreResult<bool> {
        let run = Key::Run(factor, name, client);
        match &self.backend {
            Backend::Local(l) => {
                let now_ms = l.now_ms();
                let key = l.runs.key(run);
                Ok(l.runs.with(key, now_ms, |r| {
                    r.fail(policy, now_ms);
                    r.locked(now_ms)
                }))
            }
            Backend::Shared(s) => {
                let key = s.key(run);
                let now_ms = wall_ms();
                s.counters.run_fail(key, policy, now_ms)?;
                // Failures are rare (a wrong password or code): one more read is cheap there.
                s.counters.run_locked(key, now_ms)
            }
        }
    }

    /// Ends the pair's run of failures of `factor` (a success).
    pub fn run_clear(&self, factor: Factor, name: &str, client: ClientKey) -> StoreResult<()> {
        let run = Key::Run(factor, name, client);
        match &self.backend {
            Backend::Local(l) => {
                l.runs.remove(l.runs.key(run));
                Ok(())
            }
            Backend::Shared(s) => s.counters.run_clear(s.key(run)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_every_field_and_cannot_run_into_each_other() {
        let client = ClientKey::V4([127, 0, 0, 1]);
        // "ab" + "c" must not be "a" + "bc": each field carries its length.
        let one = Key::Pair("ab", "c", client).encode();
        let two = Key::Pair("a", "bc", client).encode();
        assert_ne!(*one, *two);
        let user = Key::User("reset", "alice").encode();
        let trust = Key::Trust("alice", client).encode();
        assert_ne!(*user, *trust);
        let v4 = Key::Ip("reset", ClientKey::V4([1, 2, 3, 4])).encode();
        let v6 = Key::Ip("reset", ClientKey::V6([1, 2, 3, 4, 0, 0, 0, 0])).encode();
        assert_ne!(*v4, *v6);
    }

    #[test]
    fn the_lock_policy_is_the_settings_in_milliseconds() {
        let limits = Limits {
            lock_after: 0,
            lock_seconds: 60,
            lock_max_seconds: 10,
            ..Limits::default()
        };
        let policy = lock_policy(&limits);
        assert_eq!(policy.lock_after, 1, "never a division by zero");
        assert_eq!((policy.lock_ms, policy.lock_max_ms), (60_000, 60_000));
    }
}
