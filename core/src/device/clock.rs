//! The offset between this device's clock and the City server's, and its bounds.
//!
//! The offset is learned only from a time the server signed (the enrollment answer, a
//! challenge list signed for the request's nonce, a `stale_time` refusal signed for the
//! refused request's nonce), applies only to the City account's own
//! codes and to signed requests, never to other accounts, and is bounded: a server can move
//! the City account's clock by at most [`MAX_CLOCK_OFFSET`].

use std::time::{SystemTime, UNIX_EPOCH};

/// The largest offset the device learns or applies, in seconds (one hour). A drifted or
/// misset clock is minutes off; a server claiming more is broken or hostile, and what it
/// could shift (the City account's codes, the time of signed requests) stays within an hour.
pub const MAX_CLOCK_OFFSET: i64 = 3600;

/// Offsets smaller than this are not worth a write to the vault.
pub(super) const OFFSET_TOLERANCE: u64 = 2;

/// `server_time - local_time`, when it is within [`MAX_CLOCK_OFFSET`]; `None` for a larger
/// difference, including times that do not fit an `i64` (a hostile `u64::MAX`).
pub fn offset_between(server_time: u64, local_time: u64) -> Option<i64> {
    let server = i64::try_from(server_time).ok()?;
    let local = i64::try_from(local_time).ok()?;
    server
        .checked_sub(local)
        .filter(|offset| offset.unsigned_abs() <= MAX_CLOCK_OFFSET.unsigned_abs())
}

/// A stored offset as it is applied: one beyond the bound (written by an older build, or by
/// hand) counts as none.
pub fn bounded(offset: i64) -> i64 {
    if offset.unsigned_abs() <= MAX_CLOCK_OFFSET.unsigned_abs() {
        offset
    } else {
        0
    }
}

/// This machine's Unix time.
pub fn local_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `local_time` corrected by `offset` (bounded first), saturating at both ends.
pub fn corrected(local_time: u64, offset: i64) -> u64 {
    local_time.saturating_add_signed(bounded(offset))
}

/// This machine's time corrected by the offset learned from the server.
pub fn corrected_now(offset: i64) -> u64 {
    corrected(local_now(), offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_arithmetic_is_checked_at_the_extremes() {
        let now = 1_800_000_000;
        assert_eq!(offset_between(now + 200, now), Some(200));
        assert_eq!(offset_between(now - 200, now), Some(-200));
        assert_eq!(offset_between(u64::MAX, now), None);
        assert_eq!(offset_between(1 << 63, now), None);
        assert_eq!(offset_between((1 << 63) - 1, now), None);
        assert_eq!(offset_between(0, now), None);
        assert_eq!(offset_between(0, u64::MAX), None);
        assert_eq!(corrected(u64::MAX, MAX_CLOCK_OFFSET), u64::MAX);
        assert_eq!(corrected(5, -MAX_CLOCK_OFFSET), 0);
    }

    #[test]
    fn an_offset_beyond_the_bound_is_neither_learned_nor_applied() {
        let now = 1_800_000_000;
        let bound = MAX_CLOCK_OFFSET as u64;
        assert_eq!(offset_between(now + bound, now), Some(MAX_CLOCK_OFFSET));
        assert_eq!(offset_between(now + bound + 1, now), None);
        assert_eq!(offset_between(now - bound - 1, now), None);
        assert_eq!(corrected(now, MAX_CLOCK_OFFSET + 1), now);
        assert_eq!(corrected(now, i64::MIN), now);
        assert_eq!(corrected(now, -MAX_CLOCK_OFFSET), now - bound);
    }
}
