//! When the store sweeps what can no longer be used, and by which time.
//!
//! The sweep deletes nonces older than twice the replay window. Swept by the wall clock, a
//! jump forward would delete the nonces of requests still within their window once the clock
//! is put back, and a recorded request could be replayed. The sweep's own clock therefore
//! never runs ahead of the time that really passed (the monotonic clock): after a jump
//! forward it lags behind the wall clock, keeping rows longer, which costs only space.

use std::sync::Mutex;
use std::time::Instant;

/// How often the sweep runs (on the first signed request after), seconds.
pub(crate) const SWEEP_SECONDS: u64 = 60;

/// The last sweep: the time it swept by, and when that was by the monotonic clock.
#[derive(Debug, Clone, Copy)]
struct Swept {
    by: u64,
    at: Instant,
}

/// Decides when a sweep is due and the time it sweeps by.
#[derive(Debug, Default)]
pub(crate) struct Sweeper {
    last: Mutex<Option<Swept>>,
}

impl Sweeper {
    /// The time to sweep by when a sweep is due (the first call, then every
    /// [`SWEEP_SECONDS`] of monotonic time), else `None`. `wall_now` is the wall clock.
    pub(crate) fn due(&self, wall_now: u64) -> Option<u64> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let by = match *last {
            None => wall_now,
            Some(swept) => sweep_time(
                swept.by,
                now.saturating_duration_since(swept.at).as_secs(),
                wall_now,
            )?,
        };
        *last = Some(Swept { by, at: now });
        Some(by)
    }
}

/// The time a sweep due `elapsed` monotonic seconds after one by `last_by` sweeps by: the
/// wall clock, but no further ahead than the time that passed. `None` while not due.
fn sweep_time(last_by: u64, elapsed: u64, wall_now: u64) -> Option<u64> {
    (elapsed >= SWEEP_SECONDS).then(|| wall_now.min(last_by.saturating_add(elapsed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_800_000_000;

    #[test]
    fn a_sweep_is_due_only_after_a_minute_of_real_time() {
        assert_eq!(sweep_time(T, 59, T + 59), None);
        // A wall clock an hour ahead does not make it due.
        assert_eq!(sweep_time(T, 10, T + 3600), None);
        assert_eq!(sweep_time(T, 60, T + 60), Some(T + 60));
    }

    #[test]
    fn after_a_jump_forward_the_sweep_time_follows_the_real_time() {
        // An hour forward, 61 s later: nonces of the last 600 real seconds stay.
        assert_eq!(sweep_time(T, 61, T + 3661), Some(T + 61));
    }

    #[test]
    fn after_a_jump_back_the_sweep_time_follows_the_wall_clock() {
        assert_eq!(sweep_time(T, 120, T - 3600), Some(T - 3600));
    }

    #[test]
    fn the_first_sweep_is_due_at_once_and_the_next_a_minute_later() {
        let sweeper = Sweeper::default();
        assert_eq!(sweeper.due(T), Some(T));
        assert_eq!(
            sweeper.due(T + 3600),
            None,
            "a wall-clock jump is not time passed"
        );
    }
}
