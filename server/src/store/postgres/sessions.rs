//! Sessions, the one-enrollment grant of an access-code session, taking a verified flow's
//! session in one step, flow bindings to a browser, and help-desk access codes.

use super::super::{StoreResult, User};
use super::pool::Conn;
use super::rows::{t, user_from};

/// Stores a session at the user's current generation.
pub(super) fn create(
    c: &mut Conn,
    token_hash: &[u8],
    user_id: i64,
    now: u64,
    expires_at: u64,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO sessions (token_hash, user_id, generation, created_at, expires_at)
         SELECT $1, id, session_generation, $3, $4 FROM users WHERE id = $2",
        &[&token_hash, &user_id, &t(now), &t(expires_at)],
    )?;
    Ok(())
}

/// The user of a live session of the user's current generation.
pub(super) fn user(c: &mut Conn, token_hash: &[u8], now: u64) -> StoreResult<Option<User>> {
    c.query_opt(
        "SELECT u.id, u.username, u.display_name, u.password_hash, u.blocked,
                u.session_generation, u.directory_id
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.generation = u.session_generation",
        &[&token_hash, &t(now)],
    )?
    .map(|row| user_from(&row))
    .transpose()
}

/// Deletes a session; false if there was none.
pub(super) fn delete(c: &mut Conn, token_hash: &[u8]) -> StoreResult<bool> {
    Ok(c.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])? == 1)
}

/// Lets a session enroll one phone without an approval.
pub(super) fn grant_enrollment(c: &mut Conn, token_hash: &[u8]) -> StoreResult<()> {
    c.execute(
        "UPDATE sessions SET may_enroll = TRUE WHERE token_hash = $1",
        &[&token_hash],
    )?;
    Ok(())
}

/// Whether a live session holds the grant.
pub(super) fn may_enroll(c: &mut Conn, token_hash: &[u8], now: u64) -> StoreResult<bool> {
    Ok(c.query_opt(
        "SELECT may_enroll FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        &[&token_hash, &t(now)],
    )?
    .map(|row| row.try_get(0))
    .transpose()?
    .unwrap_or(false))
}

/// Uses a live session's grant (once, across replicas).
pub(super) fn take_enrollment(c: &mut Conn, token_hash: &[u8], now: u64) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE sessions SET may_enroll = FALSE
         WHERE token_hash = $1 AND may_enroll AND expires_at > $2",
        &[&token_hash, &t(now)],
    )? == 1)
}

/// A verified, unexpired flow becomes done and its session is stored, in one transaction.
pub(super) fn take_from_flow(
    c: &mut Conn,
    flow_id: &str,
    token_hash: &[u8],
    now: u64,
    expires_at: u64,
) -> StoreResult<Option<i64>> {
    c.transaction(|c| {
        let Some(row) = c.query_opt(
            "UPDATE flows SET state = 'done'
             WHERE id = $1 AND state = 'verified' AND expires_at > $2 RETURNING user_id",
            &[&flow_id, &t(now)],
        )?
        else {
            return Ok(None);
        };
        let Some(user_id) = row.try_get::<_, Option<i64>>(0)? else {
            return Ok(None);
        };
        create(c, token_hash, user_id, now, expires_at)?;
        Ok(Some(user_id))
    })
}

/// Binds an unbound flow to a browser; false if unknown or bound already.
pub(super) fn bind_flow(c: &mut Conn, flow_id: &str, browser_hash: &[u8]) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE flows SET browser_hash = $2 WHERE id = $1 AND browser_hash IS NULL",
        &[&flow_id, &browser_hash],
    )? == 1)
}

/// The browser hash a flow is bound to, if any.
pub(super) fn flow_binding(c: &mut Conn, flow_id: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(
        c.query_opt("SELECT browser_hash FROM flows WHERE id = $1", &[&flow_id])?
            .map(|row| row.try_get::<_, Option<Vec<u8>>>(0))
            .transpose()?
            .flatten(),
    )
}

/// Stores a help-desk access code.
pub(super) fn access_code_create(
    c: &mut Conn,
    code_hash: &[u8],
    user_id: i64,
    expires_at: u64,
    reusable: bool,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO access_codes (code_hash, user_id, expires_at, reusable)
         VALUES ($1, $2, $3, $4)",
        &[&code_hash, &user_id, &t(expires_at), &reusable],
    )?;
    Ok(())
}

/// Consumes an unused, unexpired access code of `user_id` (once, across replicas).
pub(super) fn access_code_use(
    c: &mut Conn,
    code_hash: &[u8],
    user_id: i64,
    now: u64,
) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE access_codes SET used = NOT reusable
         WHERE code_hash = $1 AND user_id = $2 AND NOT used AND expires_at > $3",
        &[&code_hash, &user_id, &t(now)],
    )? == 1)
}
