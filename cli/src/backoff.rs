//! Capped exponential backoff for `watch`: 1 s after the first failure, doubling to 30 s,
//! back to 1 s after a success; and the one line per outage that tells the user about it.

use std::time::Duration;

/// The first wait after a failure.
pub const FIRST: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
pub const CAP: Duration = Duration::from_secs(30);

/// The waits between attempts at a server that does not answer.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    failing: bool,
}

/// What a failure means for the user: the first of an outage is worth a line.
#[derive(Debug, PartialEq, Eq)]
pub struct Retry {
    /// How long to wait before the next attempt.
    pub wait: Duration,
    /// True for the first failure since the last success.
    pub outage_began: bool,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: FIRST,
            failing: false,
        }
    }
}

impl Backoff {
    /// Records a failure: how long to wait, and whether an outage just began.
    pub fn failed(&mut self) -> Retry {
        let retry = Retry {
            wait: self.next,
            outage_began: !self.failing,
        };
        self.failing = true;
        self.next = (self.next * 2).min(CAP);
        retry
    }

    /// True between a failure and the next success.
    pub fn failing(&self) -> bool {
        self.failing
    }

    /// Records a success; true when it ends an outage.
    pub fn succeeded(&mut self) -> bool {
        self.next = FIRST;
        std::mem::replace(&mut self.failing, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_to_the_cap_and_start_over_after_a_success() {
        let mut backoff = Backoff::default();
        let waits: Vec<u64> = (0..8).map(|_| backoff.failed().wait.as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert!(backoff.succeeded());
        assert!(!backoff.succeeded(), "no outage to end twice");
        let again = backoff.failed();
        assert_eq!((again.wait.as_secs(), again.outage_began), (1, true));
        assert!(!backoff.failed().outage_began, "one line per outage");
    }
}
