//! The registration campaign (issue 13): how many times an account without a phone put off
//! registering one ("remind me later"), which sessions did, and for each phone when it was
//! last used and when its owner last confirmed it is still theirs.
//!
//! Kept in tables of their own, beside the rows they describe (deleted with them), so that
//! the devices and sessions rows that every signed request reads stay as they were.

use std::collections::HashMap;

use super::StoreResult;

/// What Security info shows of a phone besides its name: when it was last used and last
/// confirmed (`None`: never).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhoneActivity {
    /// Its last answer to a challenge, or the last code from it that was accepted.
    pub last_used: Option<u64>,
    /// When its owner last said on Security info that it is still their phone.
    pub confirmed: Option<u64>,
}

/// The registration campaign's records.
pub trait Campaign {
    /// Records that `device_id` was used at `at`: an answer it signed was taken, or a code
    /// from it accepted. Never called for a poll, which would write on every request of the
    /// hottest path. Nothing is written for a device that is gone.
    fn phone_used(&self, device_id: &str, at: u64) -> StoreResult<()>;
    /// Records that the owner `user_id` confirmed at `at` that `device_id` is still theirs;
    /// false (nothing written) if it is not a device of theirs.
    fn phone_confirm(&self, device_id: &str, user_id: i64, at: u64) -> StoreResult<bool>;
    /// The activity of the user's devices, by device id (a device with none is absent).
    fn phone_activity(&self, user_id: i64) -> StoreResult<HashMap<String, PhoneActivity>>;

    /// How many reminders ("remind me later") the account has used.
    fn reminders_used(&self, user_id: i64) -> StoreResult<u32>;
    /// "Remind me later" from the session whose token hashes to `token_hash`: the session
    /// may use the portal without a phone from now on. A session that took one already
    /// takes no second; otherwise one more is counted if fewer than `allowed` were used, in
    /// one step (two sessions racing for the last one cannot both have it). The reminders
    /// used now, or `None` (nothing changed) if none was left.
    fn reminder_take(
        &self,
        user_id: i64,
        token_hash: &[u8],
        allowed: u32,
    ) -> StoreResult<Option<u32>>;
    /// Whether the session put off registering (took a reminder, or was passed one).
    fn reminded(&self, token_hash: &[u8]) -> StoreResult<bool>;
    /// Passes a session through without counting a reminder: the new session a password
    /// change hands to a browser whose session had already taken one.
    fn reminder_pass(&self, token_hash: &[u8]) -> StoreResult<()>;
}
