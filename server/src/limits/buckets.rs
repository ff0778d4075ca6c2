//! Token buckets per key: a limit of `max` events per `window` refills continuously, so a
//! count decays with time instead of resetting at a window's edge (no burst of 2 × `max`
//! across an edge, and no wait for a fixed reset).

use super::table::{Entry, Table};

/// A limit: bursts of at most `max` events, refilled at `max` per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed at once (the bucket's size), and per window.
    pub max: u32,
    /// The window, seconds: an empty bucket is full again after it.
    pub window: u64,
}

impl Limit {
    /// Tokens gained per millisecond.
    fn rate(self) -> f64 {
        f64::from(self.max) / (self.window.max(1) as f64 * 1000.0)
    }
}

/// One key's bucket. Absent means full.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    /// Tokens left at `at`.
    tokens: f64,
    /// When `tokens` was computed (ms on the limiter's clock).
    at: u64,
    /// The limit it was last used with.
    limit: Option<Limit>,
}

impl Default for Bucket {
    fn default() -> Self {
        Self {
            tokens: f64::INFINITY,
            at: 0,
            limit: None,
        }
    }
}

impl Bucket {
    fn tokens_at(&self, now_ms: u64) -> f64 {
        match self.limit {
            None => f64::INFINITY,
            Some(limit) => {
                let gained = now_ms.saturating_sub(self.at) as f64 * limit.rate();
                (self.tokens + gained).min(f64::from(limit.max))
            }
        }
    }

    /// Takes one token under `limit`; `Err(seconds until one is back)` when empty.
    pub fn take(&mut self, limit: Limit, now_ms: u64) -> Result<(), u64> {
        let tokens = self.tokens_at(now_ms).min(f64::from(limit.max));
        self.limit = Some(limit);
        self.at = now_ms;
        if tokens >= 1.0 {
            self.tokens = tokens - 1.0;
            return Ok(());
        }
        self.tokens = tokens;
        let wait_ms = (1.0 - tokens) / limit.rate();
        Err(((wait_ms / 1000.0).ceil() as u64).max(1))
    }

    /// True if a token is there (takes none).
    pub fn has_token(&self, now_ms: u64) -> bool {
        self.tokens_at(now_ms) >= 1.0
    }
}

impl Entry for Bucket {
    fn idle(&self, now_ms: u64) -> bool {
        self.limit
            .is_none_or(|l| self.tokens_at(now_ms) >= f64::from(l.max))
    }

    fn weight(&self, now_ms: u64) -> u64 {
        // Emptier buckets hold more: dropping one refills it at once.
        let missing = match self.limit {
            None => 0.0,
            Some(l) => f64::from(l.max) - self.tokens_at(now_ms),
        };
        missing.max(0.0) as u64
    }
}

/// Token buckets for any number of keys, within the table's cap.
pub type Buckets = Table<Bucket>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refills_with_time() {
        let limit = Limit { max: 2, window: 60 };
        let mut bucket = Bucket::default();
        assert!(bucket.take(limit, 0).is_ok());
        assert!(bucket.take(limit, 0).is_ok());
        assert_eq!(bucket.take(limit, 0), Err(30));
        // Half a window later one token is back, not both.
        assert!(bucket.take(limit, 30_000).is_ok());
        assert!(bucket.take(limit, 30_000).is_err());
        assert!(!bucket.idle(30_000));
        assert!(bucket.idle(120_000));
    }
}
