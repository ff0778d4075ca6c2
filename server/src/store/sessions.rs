//! Sessions and the browsers flows are bound to: sign-out, the one-enrollment grant of an
//! access-code session, taking a verified flow's session in one step, and flow bindings.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreResult;
use super::connection::{Cached, begin};
use super::rows::t;

/// Deletes a session; false if there was none.
pub(super) fn delete(db: &Connection, token_hash: &[u8]) -> StoreResult<bool> {
    let changed = db.run("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(changed == 1)
}

/// Lets a session enroll one phone without an approval.
pub(super) fn grant_enrollment(db: &Connection, token_hash: &[u8]) -> StoreResult<()> {
    db.run(
        "UPDATE sessions SET may_enroll = 1 WHERE token_hash = ?1",
        [token_hash],
    )?;
    Ok(())
}

/// Whether a live session holds the grant.
pub(super) fn may_enroll(db: &Connection, token_hash: &[u8], now: u64) -> StoreResult<bool> {
    Ok(db
        .row(
            "SELECT may_enroll FROM sessions WHERE token_hash = ?1 AND expires_at > ?2",
            params![token_hash, t(now)],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// Uses a live session's grant; false if it had none.
pub(super) fn take_enrollment(db: &Connection, token_hash: &[u8], now: u64) -> StoreResult<bool> {
    let changed = db.run(
        "UPDATE sessions SET may_enroll = 0
         WHERE token_hash = ?1 AND may_enroll = 1 AND expires_at > ?2",
        params![token_hash, t(now)],
    )?;
    Ok(changed == 1)
}

/// A verified, unexpired flow becomes done and its session is stored, in one transaction;
/// the user id, or `None` (nothing changed).
pub(super) fn take_from_flow(
    db: &mut Connection,
    flow_id: &str,
    token_hash: &[u8],
    now: u64,
    expires_at: u64,
) -> StoreResult<Option<i64>> {
    let transaction = begin(db)?;
    let user_id: Option<Option<i64>> = transaction
        .row(
            "UPDATE flows SET state = 'done'
             WHERE id = ?1 AND state = 'verified' AND expires_at > ?2 RETURNING user_id",
            params![flow_id, t(now)],
            |r| r.get(0),
        )
        .optional()?;
    let Some(Some(user_id)) = user_id else {
        return Ok(None);
    };
    transaction.run(
        "INSERT INTO sessions (token_hash, user_id, generation, created_at, expires_at)
         SELECT ?1, id, session_generation, ?3, ?4 FROM users WHERE id = ?2",
        params![token_hash, user_id, t(now), t(expires_at)],
    )?;
    transaction.commit()?;
    Ok(Some(user_id))
}

/// Binds an unbound flow to a browser; false if unknown or bound already.
pub(super) fn bind_flow(db: &Connection, flow_id: &str, browser_hash: &[u8]) -> StoreResult<bool> {
    let changed = db.run(
        "UPDATE flows SET browser_hash = ?2 WHERE id = ?1 AND browser_hash IS NULL",
        params![flow_id, browser_hash],
    )?;
    Ok(changed == 1)
}

/// The browser hash a flow is bound to, if any.
pub(super) fn flow_binding(db: &Connection, flow_id: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(db
        .row(
            "SELECT browser_hash FROM flows WHERE id = ?1",
            [flow_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}
