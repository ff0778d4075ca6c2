//! Consecutive failures and the lockouts they cause (NIST SP 800-63B rev. 4, 3.2.2: no more
//! than 100 consecutive failed attempts on one authenticator, with throttling before).
//!
//! Two counts per authenticator (the password; the codes from the app):
//! - per (username, client address), in memory or shared by replicas (`super::backend`): every `lock_after` consecutive failures lock
//!   that pair, for `lock_seconds`, doubling with each further lock up to `lock_max_seconds`.
//!   A stranger's failures lock the stranger's own address, not the owner's.
//! - per account, in the store, by normalised username (unknown names too, so that they lock,
//!   and cost, alike): at `disable_after` consecutive failures, from any clients, the
//!   authenticator is refused everywhere until a success through another path clears it.
//!
//! Neither count returns to zero at a lockout; only a success clears them.

use super::table::Entry;
use crate::store::shared::LockPolicy;

/// A run of consecutive failures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Run {
    /// Failures since the last success.
    pub failures: u32,
    /// Locked until this time (ms on the limiter's clock).
    pub locked_until: u64,
}

impl Entry for Run {
    fn idle(&self, now_ms: u64) -> bool {
        self.failures == 0 && self.locked_until <= now_ms
    }

    fn weight(&self, _now_ms: u64) -> u64 {
        u64::from(self.failures)
    }
}

impl Run {
    /// Counts one failure; locks at each multiple of `lock_after`, for `lock_ms` doubled
    /// with each further lock, at most `lock_max_ms`.
    pub fn fail(&mut self, policy: LockPolicy, now_ms: u64) {
        self.failures = self.failures.saturating_add(1);
        let every = policy.lock_after.max(1);
        if self.failures.is_multiple_of(every) {
            let locks = self.failures / every;
            let factor = 1u64 << (locks - 1).min(20);
            let span = policy
                .lock_ms
                .saturating_mul(factor)
                .min(policy.lock_max_ms.max(policy.lock_ms));
            self.locked_until = now_ms.saturating_add(span);
        }
    }

    /// True while locked.
    pub fn locked(&self, now_ms: u64) -> bool {
        self.locked_until > now_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_and_the_count_survives_them() {
        let limits = LockPolicy {
            lock_after: 10,
            lock_ms: 60_000,
            lock_max_ms: 200_000,
        };
        let mut run = Run::default();
        for _ in 0..10 {
            run.fail(limits, 0);
        }
        assert_eq!((run.failures, run.locked_until), (10, 60_000));
        for _ in 0..10 {
            run.fail(limits, 100_000);
        }
        assert_eq!((run.failures, run.locked_until), (20, 220_000));
        for _ in 0..10 {
            run.fail(limits, 300_000);
        }
        assert_eq!(run.locked_until, 500_000, "capped at lock_max_seconds");
    }
}
