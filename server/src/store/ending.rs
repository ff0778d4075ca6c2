//! What each security event ends, in one place per event, run inside the event's own
//! transaction: a password replaced (a reset, a change, the admin path), a fraud report,
//! a device removed. Whatever was started or issued under the old state cannot outlive it.

use rusqlite::Connection;

use super::connection::Cached;

/// A new password (a reset, a change): every session (the caller's `replace_password` does
/// that), every flow not yet done (a sign-in or change approved before the reset yields
/// nothing) with its pending challenges, and every unused enrollment code.
pub(super) fn on_password_replaced(db: &Connection, user_id: i64) -> rusqlite::Result<()> {
    end_open_flows(db, user_id)?;
    db.run(
        "DELETE FROM enrollment_codes WHERE user_id = ?1 AND used = 0",
        [user_id],
    )?;
    Ok(())
}

/// A fraud report: pushes blocked (and the push count restarted, for after the help desk
/// clears it), every session, every flow not yet done with its challenges, and every
/// unused enrollment code and help-desk access code (one may be how the attacker got in).
pub(super) fn on_fraud(db: &Connection, user_id: i64) -> rusqlite::Result<()> {
    db.run(
        "UPDATE users SET blocked = 1, pushes_since_sign_in = 0,
                          session_generation = session_generation + 1
         WHERE id = ?1",
        [user_id],
    )?;
    db.run("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    end_open_flows(db, user_id)?;
    db.run(
        "DELETE FROM enrollment_codes WHERE user_id = ?1 AND used = 0",
        [user_id],
    )?;
    db.run(
        "DELETE FROM access_codes WHERE user_id = ?1 AND used = 0",
        [user_id],
    )?;
    Ok(())
}

/// A device removed (by itself, on Security info, by the help desk): its pending
/// challenges, and any flow it approved that has not been used yet (a reset approved on a
/// phone that is then reported lost sets no password). Runs before the device row goes.
pub(super) fn on_device_removed(db: &Connection, device_id: &str) -> rusqlite::Result<()> {
    db.run(
        "UPDATE flows SET state = 'denied', new_password_hash = NULL, pending_passwords = NULL
         WHERE state = 'verified' AND id IN
             (SELECT flow_id FROM challenges WHERE device_id = ?1 AND state = 'approved')",
        [device_id],
    )?;
    db.run(
        "UPDATE challenges SET state = 'cancelled' WHERE device_id = ?1 AND state = 'pending'",
        [device_id],
    )?;
    Ok(())
}

/// Ends the user's flows that are pending or verified (not done) and cancels their pending
/// challenges, so that no phone is asked to approve what can no longer complete.
fn end_open_flows(db: &Connection, user_id: i64) -> rusqlite::Result<()> {
    db.run(
        "UPDATE challenges SET state = 'cancelled'
         WHERE state = 'pending' AND flow_id IN
             (SELECT id FROM flows WHERE user_id = ?1 AND state IN ('pending', 'verified'))",
        [user_id],
    )?;
    db.run(
        "UPDATE flows SET state = 'denied', new_password_hash = NULL, pending_passwords = NULL
         WHERE user_id = ?1 AND state IN ('pending', 'verified')",
        [user_id],
    )?;
    Ok(())
}
