//! In-memory fixed-window rate limits, keyed by what is limited ("reset:ip:1.2.3.4").

use std::collections::HashMap;
use std::sync::Mutex;

/// A limit: at most `max` events per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed per window.
    pub max: u32,
    /// The window, seconds.
    pub window: u64,
}

/// Counts events per key in fixed windows.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

/// Keys kept before old windows are swept (bounds memory under a flood of distinct keys).
const SWEEP_AT: usize = 100_000;

impl RateLimiter {
    /// Counts one event for `key`; `Err(seconds to wait)` if it is over the limit.
    pub fn hit(&self, key: &str, limit: Limit, now: u64) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (start, _)| now < start.saturating_add(limit.window));
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now >= entry.0.saturating_add(limit.window) {
            *entry = (now, 0);
        }
        if entry.1 >= limit.max {
            return Err(entry
                .0
                .saturating_add(limit.window)
                .saturating_sub(now)
                .max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_window() {
        let limiter = RateLimiter::default();
        let limit = Limit { max: 2, window: 60 };
        assert!(limiter.hit("a", limit, 100).is_ok());
        assert!(limiter.hit("a", limit, 101).is_ok());
        assert_eq!(limiter.hit("a", limit, 110), Err(50));
        assert!(limiter.hit("b", limit, 110).is_ok());
        assert!(limiter.hit("a", limit, 160).is_ok());
    }
}
