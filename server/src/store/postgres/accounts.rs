//! Settings, users and their failure counts, directory accounts' local rows, and the steps
//! of a flow whose password is written to the directory (claim, finish, give back).

use ::postgres::error::SqlState;

use super::super::{CLAIM_SECONDS, Factor, NewUser, ResetClaim, StoreError, StoreResult, User};
use super::ending;
use super::pool::Conn;
use super::rows::{t, user_from};

/// A setting.
pub(super) fn setting(c: &mut Conn, name: &str) -> StoreResult<Option<Vec<u8>>> {
    c.query_opt("SELECT value FROM settings WHERE name = $1", &[&name])?
        .map(|row| Ok(row.try_get(0)?))
        .transpose()
}

/// Sets a setting, replacing any value.
pub(super) fn setting_set(c: &mut Conn, name: &str, value: &[u8]) -> StoreResult<()> {
    c.execute(
        "INSERT INTO settings (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&name, &value],
    )?;
    Ok(())
}

/// Sets a setting unless it is set; the value now stored. Two statements: a replica whose
/// insert waited on another's then reads the winner's committed value.
pub(super) fn setting_init(c: &mut Conn, name: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
    c.execute(
        "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&name, &value],
    )?;
    Ok(
        c.query_one("SELECT value FROM settings WHERE name = $1", &[&name])?
            .try_get(0)?,
    )
}

/// Sets `name` and deletes `replaced`, in one transaction.
pub(super) fn setting_replace(
    c: &mut Conn,
    replaced: &str,
    name: &str,
    value: &[u8],
) -> StoreResult<()> {
    c.transaction(|c| {
        setting_set(c, name, value)?;
        c.execute("DELETE FROM settings WHERE name = $1", &[&replaced])?;
        Ok(())
    })
}

/// Whether `error` is a unique constraint refusing a row.
pub(super) fn is_unique_violation(error: &StoreError) -> bool {
    matches!(error, StoreError::Postgres(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION))
}

/// Creates a built-in user with its stable id (`builtin:<row id>`), in one statement.
pub(super) fn user_create(c: &mut Conn, user: &NewUser) -> StoreResult<i64> {
    let result = c.query_one(
        "WITH next AS (SELECT nextval(pg_get_serial_sequence('users', 'id')) AS id)
         INSERT INTO users (id, username, display_name, password_hash, created_at, directory_id)
         SELECT id, $1, $2, $3, $4, 'builtin:' || id FROM next
         RETURNING id",
        &[
            &user.username,
            &user.display_name,
            &user.password_hash,
            &t(user.created_at),
        ],
    );
    match result {
        Ok(row) => Ok(row.try_get(0)?),
        Err(error) if is_unique_violation(&error) => Err(StoreError::Conflict),
        Err(error) => Err(error),
    }
}

/// A user by name, without regard to ASCII case.
pub(super) fn user_by_name(c: &mut Conn, username: &str) -> StoreResult<Option<User>> {
    c.query_opt(
        "SELECT id, username, display_name, password_hash, blocked, session_generation,
                directory_id
         FROM users WHERE lower(username) = lower($1)",
        &[&username],
    )?
    .map(|row| user_from(&row))
    .transpose()
}

/// A user by id.
pub(super) fn user_by_id(c: &mut Conn, id: i64) -> StoreResult<Option<User>> {
    c.query_opt(
        "SELECT id, username, display_name, password_hash, blocked, session_generation,
                directory_id
         FROM users WHERE id = $1",
        &[&id],
    )?
    .map(|row| user_from(&row))
    .transpose()
}

/// A user by the account's stable id.
pub(super) fn user_by_directory_id(c: &mut Conn, directory_id: &str) -> StoreResult<Option<User>> {
    c.query_opt(
        "SELECT id, username, display_name, password_hash, blocked, session_generation,
                directory_id
         FROM users WHERE directory_id = $1",
        &[&directory_id],
    )?
    .map(|row| user_from(&row))
    .transpose()
}

/// The consecutive failures of `factor` for `name`.
pub(super) fn failures(c: &mut Conn, name: &str, factor: Factor) -> StoreResult<u32> {
    let count: Option<i64> = c
        .query_opt(
            "SELECT count FROM failures WHERE name = $1 AND factor = $2",
            &[&name, &factor.as_str()],
        )?
        .map(|row| row.try_get(0))
        .transpose()?;
    Ok(count.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// One more failure, in one statement (two replicas counting at once both count).
pub(super) fn failure_add(c: &mut Conn, name: &str, factor: Factor) -> StoreResult<u32> {
    let count: i64 = c
        .query_one(
            "INSERT INTO failures AS f (name, factor, count) VALUES ($1, $2, 1)
             ON CONFLICT (name, factor) DO UPDATE SET count = f.count + 1
             RETURNING count",
            &[&name, &factor.as_str()],
        )?
        .try_get(0)?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// Clears the count.
pub(super) fn failures_clear(c: &mut Conn, name: &str, factor: Factor) -> StoreResult<()> {
    c.execute(
        "DELETE FROM failures WHERE name = $1 AND factor = $2",
        &[&name, &factor.as_str()],
    )?;
    Ok(())
}

/// The row of the directory account `directory_id`, made or renamed as the directory has it
/// now (`store/accounts.rs` says how a rename frees the old name). Two replicas making the
/// same new row at once: the second's insert hits the unique stable id, and it starts over
/// and finds the first's row.
pub(super) fn for_account(
    c: &mut Conn,
    directory_id: &str,
    username: &str,
    display_name: &str,
    now: u64,
) -> StoreResult<User> {
    let mut tries = 0;
    loop {
        if let Some(user) = user_by_directory_id(c, directory_id)?
            && user.username == username
            && user.display_name == display_name
        {
            return Ok(user);
        }
        let result = c.transaction(|c| {
            c.execute(
                "UPDATE users SET username = '~' || id
                 WHERE lower(username) = lower($1)
                   AND (directory_id IS NULL OR directory_id <> $2)",
                &[&username, &directory_id],
            )?;
            let updated = c.execute(
                "UPDATE users SET username = $2, display_name = $3 WHERE directory_id = $1",
                &[&directory_id, &username, &display_name],
            )?;
            if updated == 0 {
                c.execute(
                    "INSERT INTO users (username, display_name, password_hash, created_at,
                                        directory_id)
                     VALUES ($1, $2, '', $3, $4)",
                    &[&username, &display_name, &t(now), &directory_id],
                )?;
            }
            user_by_directory_id(c, directory_id)?
                .ok_or(StoreError::Unsupported("the account's row vanished"))
        });
        match result {
            Err(error) if is_unique_violation(&error) && tries < 3 => tries += 1,
            other => return other,
        }
    }
}

/// Sets or clears the fraud block.
pub(super) fn set_blocked(c: &mut Conn, id: i64, blocked: bool) -> StoreResult<()> {
    c.execute(
        "UPDATE users SET blocked = $2 WHERE id = $1",
        &[&id, &blocked],
    )?;
    Ok(())
}

/// Replaces the hash only if it is still `old_hash`.
pub(super) fn rehash(c: &mut Conn, id: i64, old_hash: &str, new_hash: &str) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        &[&id, &old_hash, &new_hash],
    )? == 1)
}

/// A new password: every session ended, with what a new password ends.
pub(super) fn set_password(c: &mut Conn, id: i64, password_hash: &str) -> StoreResult<()> {
    c.transaction(|c| {
        c.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&id, &password_hash],
        )?;
        end_sessions(c, id)
    })
}

/// Ends every session (the generation moves on) and every open flow, with unused
/// enrollment codes. Part of the caller's transaction.
pub(super) fn end_sessions(c: &mut Conn, user_id: i64) -> StoreResult<()> {
    c.execute(
        "UPDATE users SET session_generation = session_generation + 1 WHERE id = $1",
        &[&user_id],
    )?;
    c.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id])?;
    ending::on_password_replaced(c, user_id)
}

/// Takes a verified flow (or one whose claim was left by a stopped process) for the one
/// request that writes its password; a conditional update, so two replicas cannot both. A
/// reset's claim records `sealed` in the same update; a change keeps its sealed pair.
pub(super) fn claim(
    c: &mut Conn,
    flow_id: &str,
    user_id: i64,
    now: u64,
    sealed: Option<&[u8]>,
) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE flows SET state = 'claimed', claimed_at = $3,
             pending_passwords = CASE WHEN kind = 'password_change' THEN pending_passwords
                                      ELSE $5::BYTEA END
         WHERE id = $1 AND user_id = $2 AND expires_at > $3
           AND (state = 'verified' OR (state = 'claimed' AND claimed_at <= $4))",
        &[
            &flow_id,
            &user_id,
            &t(now),
            &t(now.saturating_sub(CLAIM_SECONDS)),
            &sealed,
        ],
    )? == 1)
}

/// The claim on password reset `flow_id` of `user_id`, if it is claimed.
pub(super) fn reset_claim(
    c: &mut Conn,
    flow_id: &str,
    user_id: i64,
) -> StoreResult<Option<ResetClaim>> {
    c.query_opt(
        "SELECT claimed_at, pending_passwords FROM flows
         WHERE id = $1 AND user_id = $2 AND state = 'claimed' AND kind = 'password_reset'",
        &[&flow_id, &user_id],
    )?
    .map(|row| {
        Ok(ResetClaim {
            claimed_at: row
                .try_get::<_, Option<i64>>(0)?
                .map_or(0, |at| u64::try_from(at).unwrap_or(0)),
            sealed: row.try_get(1)?,
        })
    })
    .transpose()
}

/// A claimed flow is verified again; a reset's recorded password is erased with its claim.
pub(super) fn unclaim(c: &mut Conn, flow_id: &str) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE flows SET state = 'verified',
             pending_passwords = CASE WHEN kind = 'password_change' THEN pending_passwords
                                      ELSE NULL END
         WHERE id = $1 AND state = 'claimed'",
        &[&flow_id],
    )? == 1)
}

/// The claimed flow is done and what a new password ends is ended, in one transaction.
pub(super) fn finish(c: &mut Conn, flow_id: &str, user_id: i64) -> StoreResult<bool> {
    c.transaction(|c| {
        let changed = c.execute(
            "UPDATE flows SET state = 'done', pending_passwords = NULL
             WHERE id = $1 AND user_id = $2 AND state = 'claimed'",
            &[&flow_id, &user_id],
        )?;
        if changed != 1 {
            return Ok(false);
        }
        end_sessions(c, user_id)?;
        Ok(true)
    })
}

/// A claimed flow that cannot complete: denied, its sealed passwords erased.
pub(super) fn abandon(c: &mut Conn, flow_id: &str) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE flows SET state = 'denied', pending_passwords = NULL
         WHERE id = $1 AND state = 'claimed'",
        &[&flow_id],
    )? == 1)
}

/// The sealed passwords of a claimed password change of `user_id`.
pub(super) fn pending_passwords(
    c: &mut Conn,
    flow_id: &str,
    user_id: i64,
) -> StoreResult<Option<Vec<u8>>> {
    Ok(c.query_opt(
        "SELECT pending_passwords FROM flows
             WHERE id = $1 AND user_id = $2 AND state = 'claimed' AND kind = 'password_change'",
        &[&flow_id, &user_id],
    )?
    .map(|row| row.try_get::<_, Option<Vec<u8>>>(0))
    .transpose()?
    .flatten())
}
