//! The local row of a directory account: found by the account's stable id, made on first
//! sight, its username and display name refreshed on each look-up; and the steps of a reset
//! or change whose password is written to the directory (claim, finish, give back).

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::{Cached, begin};
use super::rows::{USER_COLUMNS, t, user_from};
use super::{ResetClaim, StoreResult, User};

/// The row of the account with stable id `directory_id`, made if there is none, with
/// `username` and `display_name` as the directory has them now. Another row holding that
/// username (the account that had it before a rename in the directory) gives it up: it is
/// renamed to a name no one can type (`~` and its row id), and takes its own name back on
/// its own next look-up. Directory rows carry no password hash (an empty one, which never
/// verifies).
pub(super) fn for_account(
    db: &mut Connection,
    directory_id: &str,
    username: &str,
    display_name: &str,
    now: u64,
) -> StoreResult<User> {
    // The common case, an account seen before under the same names, writes nothing: a
    // reset start for a real account then costs one commit, as an unknown name does.
    if let Some(user) = by_directory_id(db, directory_id)?
        && user.username == username
        && user.display_name == display_name
    {
        return Ok(user);
    }
    let transaction = begin(db)?;
    transaction.run(
        "UPDATE users SET username = '~' || id
         WHERE username = ?1 AND (directory_id IS NULL OR directory_id <> ?2)",
        params![username, directory_id],
    )?;
    let updated = transaction.run(
        "UPDATE users SET username = ?2, display_name = ?3 WHERE directory_id = ?1",
        params![directory_id, username, display_name],
    )?;
    if updated == 0 {
        transaction.run(
            "INSERT INTO users (username, display_name, password_hash, created_at, directory_id)
             VALUES (?1, ?2, '', ?3, ?4)",
            params![username, display_name, t(now), directory_id],
        )?;
    }
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE directory_id = ?1");
    let user = transaction.row(&sql, [directory_id], user_from)?;
    transaction.commit()?;
    Ok(user)
}

/// The row of the account with stable id `directory_id`, if it was ever seen.
pub(super) fn by_directory_id(db: &Connection, directory_id: &str) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE directory_id = ?1");
    Ok(db.row(&sql, [directory_id], user_from).optional()?)
}

/// Gives a built-in row its stable id (`builtin:<row id>`) right after it is inserted.
pub(super) fn mark_builtin(db: &Connection, id: i64) -> rusqlite::Result<()> {
    db.run(
        "UPDATE users SET directory_id = 'builtin:' || id WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// How long a claim holds, seconds: longer than any directory write takes (each call is
/// bounded by the directory's timeout, seconds). A claim older than this was left by a
/// process that stopped mid-write, and may be taken again.
pub const CLAIM_SECONDS: u64 = 120;

/// Takes a verified, unexpired flow of `user_id` for the one request that writes its
/// password (or one whose claim was left by a stopped process): false (nothing changed)
/// if it was not verified, or expired. A reset's claim records `sealed` (the sealed new
/// password it writes, or none for an unlock) in the same update, replacing what a claim
/// taken over had recorded; a change keeps the sealed pair it started with.
pub(super) fn claim(
    db: &Connection,
    flow_id: &str,
    user_id: i64,
    now: u64,
    sealed: Option<&[u8]>,
) -> StoreResult<bool> {
    let changed = db.run(
        "UPDATE flows SET state = 'claimed', claimed_at = ?3,
             pending_passwords = CASE WHEN kind = 'password_change' THEN pending_passwords
                                      ELSE ?5 END
         WHERE id = ?1 AND user_id = ?2 AND expires_at > ?3
           AND (state = 'verified' OR (state = 'claimed' AND claimed_at <= ?4))",
        params![
            flow_id,
            user_id,
            t(now),
            t(now.saturating_sub(CLAIM_SECONDS)),
            sealed
        ],
    )?;
    Ok(changed == 1)
}

/// The claim on password reset `flow_id` of `user_id`, if it is claimed.
pub(super) fn reset_claim(
    db: &Connection,
    flow_id: &str,
    user_id: i64,
) -> StoreResult<Option<ResetClaim>> {
    Ok(db
        .row(
            "SELECT claimed_at, pending_passwords FROM flows
             WHERE id = ?1 AND user_id = ?2 AND state = 'claimed' AND kind = 'password_reset'",
            params![flow_id, user_id],
            |r| {
                Ok(ResetClaim {
                    claimed_at: r
                        .get::<_, Option<i64>>(0)?
                        .map_or(0, |at| u64::try_from(at).unwrap_or(0)),
                    sealed: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// The directory did not write the password: a claimed flow is verified again, to retry;
/// a reset's recorded password is erased with its claim (a change keeps its sealed pair).
pub(super) fn unclaim(db: &Connection, flow_id: &str) -> StoreResult<bool> {
    let changed = db.run(
        "UPDATE flows SET state = 'verified',
             pending_passwords = CASE WHEN kind = 'password_change' THEN pending_passwords
                                      ELSE NULL END
         WHERE id = ?1 AND state = 'claimed'",
        [flow_id],
    )?;
    Ok(changed == 1)
}

/// The directory wrote the new password of claimed flow `flow_id`: the flow is done, its
/// sealed passwords erased, and what a new password ends is ended (every session, every
/// open flow, unused enrollment codes), in one transaction. False if it was not claimed.
pub(super) fn finish(db: &mut Connection, flow_id: &str, user_id: i64) -> StoreResult<bool> {
    let transaction = begin(db)?;
    let changed = transaction.run(
        "UPDATE flows SET state = 'done', pending_passwords = NULL, new_password_hash = NULL
         WHERE id = ?1 AND user_id = ?2 AND state = 'claimed'",
        params![flow_id, user_id],
    )?;
    if changed != 1 {
        return Ok(false);
    }
    end_sessions(&transaction, user_id)?;
    transaction.commit()?;
    Ok(true)
}

/// A claimed flow that cannot complete (the directory refused a change's sealed password,
/// which cannot be chosen again in it): denied, its sealed passwords erased.
pub(super) fn abandon(db: &Connection, flow_id: &str) -> StoreResult<bool> {
    let changed = db.run(
        "UPDATE flows SET state = 'denied', pending_passwords = NULL, new_password_hash = NULL
         WHERE id = ?1 AND state = 'claimed'",
        [flow_id],
    )?;
    Ok(changed == 1)
}

/// Ends what a password replaced in the directory ends: every session (the generation
/// moves on) and every open flow, with unused enrollment codes. Part of the caller's
/// transaction.
pub(super) fn end_sessions(db: &Connection, user_id: i64) -> rusqlite::Result<()> {
    db.run(
        "UPDATE users SET session_generation = session_generation + 1 WHERE id = ?1",
        [user_id],
    )?;
    db.run("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    super::ending::on_password_replaced(db, user_id)
}

/// The sealed passwords of a claimed password change of `user_id`.
pub(super) fn pending_passwords(
    db: &Connection,
    flow_id: &str,
    user_id: i64,
) -> StoreResult<Option<Vec<u8>>> {
    Ok(db
        .row(
            "SELECT pending_passwords FROM flows
             WHERE id = ?1 AND user_id = ?2 AND state = 'claimed' AND kind = 'password_change'",
            params![flow_id, user_id],
            |r| r.get::<_, Option<Vec<u8>>>(0),
        )
        .optional()?
        .flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Connection {
        let mut db = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut db).unwrap();
        db
    }

    #[test]
    fn a_rename_keeps_the_row_and_frees_the_old_name_for_its_new_holder() {
        let mut db = store();
        let erin = for_account(&mut db, "guid-1", "erin", "Erin", 1).unwrap();
        assert_eq!(
            erin.password_hash, "",
            "a directory row holds no password hash"
        );
        // Renamed in the directory, and the old name given to a newcomer who is seen first.
        let newcomer = for_account(&mut db, "guid-2", "erin", "Erin New", 2).unwrap();
        assert_ne!(newcomer.id, erin.id);
        assert_eq!(newcomer.username, "erin");
        let renamed = for_account(&mut db, "guid-1", "erin.married", "Erin M", 3).unwrap();
        assert_eq!(
            renamed.id, erin.id,
            "the same row: its devices and sessions stay"
        );
        assert_eq!(
            (renamed.username.as_str(), renamed.display_name.as_str()),
            ("erin.married", "Erin M")
        );
        assert_eq!(
            by_directory_id(&db, "guid-2").unwrap().unwrap().username,
            "erin"
        );
    }

    #[test]
    fn users_from_before_the_directory_get_their_builtin_stable_id() {
        let mut db = Connection::open_in_memory().unwrap();
        for sql in &super::super::schema::MIGRATIONS[..7] {
            db.execute_batch(sql).unwrap();
        }
        db.pragma_update(None, "user_version", 7).unwrap();
        db.execute_batch(
            "INSERT INTO users (username, display_name, password_hash, created_at)
             VALUES ('alice', 'A', 'h', 0)",
        )
        .unwrap();
        super::super::schema::migrate(&mut db).unwrap();
        let alice = by_directory_id(&db, "builtin:1").unwrap().unwrap();
        assert_eq!((alice.username.as_str(), alice.id), ("alice", 1));
        let duplicate = db.execute(
            "INSERT INTO users (username, display_name, password_hash, created_at, directory_id)
             VALUES ('bob', 'B', '', 0, 'builtin:1')",
            [],
        );
        assert!(duplicate.is_err(), "a stable id names one row");
    }

    #[test]
    fn a_claimed_flow_cannot_be_claimed_again_until_given_back() {
        let mut db = store();
        let user = for_account(&mut db, "guid-1", "erin", "Erin", 1).unwrap();
        db.execute(
            "INSERT INTO flows (id, username, user_id, number, state, client_ip, created_at,
                                expires_at)
             VALUES ('f', 'erin', ?1, '42', 'verified', '::1', 0, 1000)",
            [user.id],
        )
        .unwrap();
        assert!(claim(&db, "f", user.id, 10, Some(&b"sealed-1"[..])).unwrap());
        assert!(
            !claim(&db, "f", user.id, 10, Some(&b"sealed-2"[..])).unwrap(),
            "one writer at a time"
        );
        let held = reset_claim(&db, "f", user.id).unwrap().unwrap();
        assert_eq!(
            (held.claimed_at, held.sealed.as_deref()),
            (10, Some(&b"sealed-1"[..])),
            "the refused claim recorded nothing"
        );
        assert!(unclaim(&db, "f").unwrap());
        assert_eq!(reset_claim(&db, "f", user.id).unwrap(), None);
        let recorded = |db: &Connection| {
            db.query_row(
                "SELECT pending_passwords FROM flows WHERE id = 'f'",
                [],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .unwrap()
        };
        assert_eq!(recorded(&db), None, "given back, its password erased");
        assert!(
            !claim(&db, "f", user.id, 1000, None).unwrap(),
            "not once expired"
        );
        assert!(claim(&db, "f", user.id, 10, Some(&b"sealed-3"[..])).unwrap());
        assert!(
            claim(
                &db,
                "f",
                user.id,
                10 + CLAIM_SECONDS,
                Some(&b"sealed-4"[..])
            )
            .unwrap(),
            "a claim left by a stopped process is taken again"
        );
        assert_eq!(
            recorded(&db).as_deref(),
            Some(&b"sealed-4"[..]),
            "the taker's"
        );
        assert!(finish(&mut db, "f", user.id).unwrap());
        assert_eq!(recorded(&db), None, "erased once done");
        assert!(!unclaim(&db, "f").unwrap(), "done stays done");
    }
}
