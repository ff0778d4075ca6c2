//! What each security event ends, run inside the event's own transaction: the PostgreSQL
//! form of `store/ending.rs` (which says why each one ends what it does).

use super::super::StoreResult;
use super::pool::Conn;

/// A new password: every flow not yet done with its pending challenges, and every unused
/// enrollment code (the caller ends the sessions).
pub(super) fn on_password_replaced(c: &mut Conn, user_id: i64) -> StoreResult<()> {
    end_open_flows(c, user_id)?;
    c.execute(
        "DELETE FROM enrollment_codes WHERE user_id = $1 AND NOT used",
        &[&user_id],
    )?;
    Ok(())
}

/// A fraud report: pushes blocked, every session, every open flow with its challenges,
/// every unused enrollment and access code.
pub(super) fn on_fraud(c: &mut Conn, user_id: i64) -> StoreResult<()> {
    c.execute(
        "UPDATE users SET blocked = TRUE, session_generation = session_generation + 1
         WHERE id = $1",
        &[&user_id],
    )?;
    c.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id])?;
    end_open_flows(c, user_id)?;
    c.execute(
        "DELETE FROM enrollment_codes WHERE user_id = $1 AND NOT used",
        &[&user_id],
    )?;
    c.execute(
        "DELETE FROM access_codes WHERE user_id = $1 AND NOT used",
        &[&user_id],
    )?;
    Ok(())
}

/// A device removed: its pending challenges, and any flow it approved not used yet. Runs
/// before the device row goes.
pub(super) fn on_device_removed(c: &mut Conn, device_id: &str) -> StoreResult<()> {
    c.execute(
        "UPDATE flows SET state = 'denied', pending_passwords = NULL
         WHERE state = 'verified' AND id IN
             (SELECT flow_id FROM challenges WHERE device_id = $1 AND state = 'approved')",
        &[&device_id],
    )?;
    c.execute(
        "UPDATE challenges SET state = 'cancelled' WHERE device_id = $1 AND state = 'pending'",
        &[&device_id],
    )?;
    Ok(())
}

/// Ends the user's pending or verified flows and cancels their pending challenges.
fn end_open_flows(c: &mut Conn, user_id: i64) -> StoreResult<()> {
    c.execute(
        "UPDATE challenges SET state = 'cancelled'
         WHERE state = 'pending' AND flow_id IN
             (SELECT id FROM flows WHERE user_id = $1 AND state IN ('pending', 'verified'))",
        &[&user_id],
    )?;
    c.execute(
        "UPDATE flows SET state = 'denied', pending_passwords = NULL
         WHERE user_id = $1 AND state IN ('pending', 'verified')",
        &[&user_id],
    )?;
    Ok(())
}
