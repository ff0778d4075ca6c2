//! The (username, client) pairs that succeeded lately: the owner's own addresses. They are
//! exempt from the per-username rate limits (not from their own pair's limits and locks),
//! so that strangers at many addresses who use up a username's budget do not stop the
//! owner where the owner already signed in (NIST SP 800-63B rev. 4 lets a verifier weigh
//! the client's history so that rate limiting does not lock the claimant out).

use super::table::Entry;

/// Trusted until this time (ms on the limiter's clock).
#[derive(Debug, Clone, Copy, Default)]
pub struct Trust {
    /// The end of the trust.
    pub until: u64,
}

impl Entry for Trust {
    fn idle(&self, now_ms: u64) -> bool {
        self.until <= now_ms
    }

    fn weight(&self, now_ms: u64) -> u64 {
        self.until.saturating_sub(now_ms)
    }
}
