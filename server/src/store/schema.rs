//! Schema migrations, applied in order; `PRAGMA user_version` records how many ran.

use rusqlite::Connection;

use super::{StoreError, StoreResult};

/// Each migration, in order. Never edit one that shipped: append a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
     CREATE TABLE users (
         id INTEGER PRIMARY KEY,
         username TEXT NOT NULL UNIQUE COLLATE NOCASE,
         display_name TEXT NOT NULL,
         password_hash TEXT NOT NULL,
         failed_attempts INTEGER NOT NULL DEFAULT 0,
         locked_until INTEGER NOT NULL DEFAULT 0,
         blocked INTEGER NOT NULL DEFAULT 0,
         pushes_since_sign_in INTEGER NOT NULL DEFAULT 0,
         session_generation INTEGER NOT NULL DEFAULT 0,
         oath_secret BLOB,
         oath_last_step INTEGER NOT NULL DEFAULT 0,
         created_at INTEGER NOT NULL);
     CREATE TABLE enrollment_codes (
         code_hash BLOB PRIMARY KEY,
         user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
         expires_at INTEGER NOT NULL,
         used INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE devices (
         id TEXT PRIMARY KEY,
         user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
         public_key BLOB NOT NULL,
         name TEXT NOT NULL,
         platform TEXT NOT NULL,
         push_token TEXT,
         created_at INTEGER NOT NULL);
     CREATE INDEX devices_user ON devices(user_id);
     CREATE TABLE flows (
         id TEXT PRIMARY KEY,
         username TEXT NOT NULL,
         user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
         number TEXT NOT NULL,
         state TEXT NOT NULL,
         code_tries INTEGER NOT NULL DEFAULT 0,
         client_ip TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         expires_at INTEGER NOT NULL);
     CREATE TABLE challenges (
         id TEXT PRIMARY KEY,
         device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
         flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
         body TEXT NOT NULL,
         signature TEXT NOT NULL,
         number TEXT NOT NULL,
         expires_at INTEGER NOT NULL,
         state TEXT NOT NULL);
     CREATE INDEX challenges_device ON challenges(device_id, state);
     CREATE INDEX challenges_flow ON challenges(flow_id);
     CREATE TABLE nonces (
         device_id TEXT NOT NULL,
         nonce TEXT NOT NULL,
         seen_at INTEGER NOT NULL,
         PRIMARY KEY (device_id, nonce));
     CREATE INDEX nonces_seen ON nonces(seen_at);
     CREATE TABLE sessions (
         token_hash BLOB PRIMARY KEY,
         user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
         generation INTEGER NOT NULL,
         created_at INTEGER NOT NULL,
         expires_at INTEGER NOT NULL);
     CREATE TABLE access_codes (
         code_hash BLOB PRIMARY KEY,
         user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
         expires_at INTEGER NOT NULL,
         used INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE audit (
         id INTEGER PRIMARY KEY,
         time INTEGER NOT NULL,
         username TEXT,
         event TEXT NOT NULL,
         detail TEXT NOT NULL,
         client_ip TEXT);
     CREATE INDEX audit_user ON audit(username COLLATE NOCASE);",
    // 2: flows are sign-ins as well as password resets.
    "ALTER TABLE flows ADD COLUMN kind TEXT NOT NULL DEFAULT 'password_reset';",
    // 3: a password change waits for the phone with the new password's hash kept here
    // (cleared when the change completes).
    "ALTER TABLE flows ADD COLUMN new_password_hash TEXT;",
    // 4: nonces keyed by their primary key alone (WITHOUT ROWID): one B-tree less to write
    // on every signed request.
    "CREATE TABLE nonces_keyed (
         device_id TEXT NOT NULL,
         nonce TEXT NOT NULL,
         seen_at INTEGER NOT NULL,
         PRIMARY KEY (device_id, nonce)) WITHOUT ROWID;
     INSERT INTO nonces_keyed (device_id, nonce, seen_at)
         SELECT device_id, nonce, seen_at FROM nonces;
     DROP TABLE nonces;
     ALTER TABLE nonces_keyed RENAME TO nonces;
     CREATE INDEX nonces_seen ON nonces(seen_at);",
    // 5: each device has its own City account OATH secret, sealed under the
    // key-encryption key, with its own last accepted step. `oath_shared` marks a copy of an
    // older database's per-user seed: removing any device revokes every shared copy. The
    // copies are made (sealed) by the server's first start, which needs the key; the user
    // column is cleared then and no longer used.
    "ALTER TABLE devices ADD COLUMN oath_secret BLOB;
     ALTER TABLE devices ADD COLUMN oath_last_step INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE devices ADD COLUMN oath_shared INTEGER NOT NULL DEFAULT 0;",
    // 6: a flow is bound to the browser that started it (the hash of a cookie; NULL
    // for flows started through the JSON API, and for those that existed before); a
    // session may hold a single grant to enroll a phone (a help-desk access code).
    "ALTER TABLE flows ADD COLUMN browser_hash BLOB;
     ALTER TABLE sessions ADD COLUMN may_enroll INTEGER NOT NULL DEFAULT 0;",
    // 7: consecutive failures per normalised username and authenticator, kept for
    // unknown names as for real ones (so that both lock, and cost, alike), and no longer
    // reset by a lockout (only a success clears a count). Today's password counts carry
    // over; `users.failed_attempts`, `locked_until` and `pushes_since_sign_in` are no longer
    // read (locks per (username, client) and the push buckets are kept in memory).
    "CREATE TABLE failures (
         name TEXT NOT NULL,
         factor TEXT NOT NULL,
         count INTEGER NOT NULL,
         PRIMARY KEY (name, factor)) WITHOUT ROWID;
     INSERT INTO failures (name, factor, count)
         SELECT lower(username), 'password', failed_attempts FROM users
         WHERE failed_attempts > 0;",
    // 8: the directory (issue 11). Each local row is found by its account's stable id in
    // the directory (`objectGUID`, `entryUUID`; `builtin:<row id>` for the built-in store),
    // so that devices, flows, sessions and audit stay keyed by the row through a rename.
    // A password change waiting for the phone keeps the old and new passwords sealed under
    // the key-encryption key (the directory checks the old one as the user), erased when
    // the change completes or can no longer complete. `claimed_at`: when one request took
    // a verified flow to write its password (a claim older than the longest write is given
    // up: its process stopped).
    "ALTER TABLE users ADD COLUMN directory_id TEXT;
     UPDATE users SET directory_id = 'builtin:' || id;
     CREATE UNIQUE INDEX users_directory_id ON users(directory_id);
     ALTER TABLE flows ADD COLUMN pending_passwords BLOB;
     ALTER TABLE flows ADD COLUMN claimed_at INTEGER;",
    // 9: who is told by email (issue 13): the address kept for a built-in account, and the
    // language the employee last used on the portal (the email's language).
    "CREATE TABLE contacts (
         user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
         mail TEXT,
         lang TEXT);",
    // 10: the help-desk console (issue 13): roles granted in the built-in store, the
    // sessions made by the console's own sign-in (a phone approval), each caller
    // verification with the operator who started it, and access codes usable more than once
    // within their lifetime when the operator chose so.
    "CREATE TABLE helpdesk_roles (
         user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
         role TEXT NOT NULL,
         PRIMARY KEY (user_id, role));
     CREATE TABLE console_sessions (
         token_hash BLOB PRIMARY KEY REFERENCES sessions(token_hash) ON DELETE CASCADE);
     CREATE TABLE caller_checks (
         flow_id TEXT PRIMARY KEY REFERENCES flows(id) ON DELETE CASCADE,
         operator_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
         user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE);
     ALTER TABLE access_codes ADD COLUMN reusable INTEGER NOT NULL DEFAULT 0;",
    // 11: the registration campaign (issue 13). How many times an account without a phone
    // put off registering one, and the sessions that did (they may use the portal); for
    // each phone, when it was last used (an answer taken, a code accepted: never a poll)
    // and when its owner last confirmed it on Security info. Tables of their own, so that
    // the devices and sessions rows every request reads are unchanged.
    "CREATE TABLE phone_reminders (
         user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
         used INTEGER NOT NULL);
     CREATE TABLE reminded_sessions (
         token_hash BLOB PRIMARY KEY REFERENCES sessions(token_hash) ON DELETE CASCADE);
     CREATE TABLE phone_activity (
         device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
         last_used_at INTEGER,
         confirmed_at INTEGER);",
];

/// Brings the database to the newest schema, one transaction per migration.
pub fn migrate(connection: &mut Connection) -> StoreResult<()> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew(version));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_failure_counts_carry_over_to_the_failures_table() {
        let mut connection = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..4] {
            connection.execute_batch(sql).unwrap();
        }
        connection.pragma_update(None, "user_version", 4).unwrap();
        connection
            .execute_batch(
                "INSERT INTO users (username, display_name, password_hash, failed_attempts,
                                    created_at)
                 VALUES ('Alice', 'A', 'h', 7, 0), ('bob', 'B', 'h', 0, 0)",
            )
            .unwrap();
        migrate(&mut connection).unwrap();
        let rows: Vec<(String, String, i64)> = connection
            .prepare("SELECT name, factor, count FROM failures")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![("alice".into(), "password".into(), 7)]);
    }

    #[test]
    fn migrations_run_once_in_order_and_refuse_newer_databases() {
        let mut connection = Connection::open_in_memory().unwrap();
        migrate(&mut connection).unwrap();
        migrate(&mut connection).unwrap();
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        connection
            .execute_batch("INSERT INTO flows (id, username, number, state, client_ip, created_at, expires_at) VALUES ('f', 'a', '42', 'pending', '::1', 0, 1)")
            .unwrap();
        let kind: String = connection
            .query_row("SELECT kind FROM flows", [], |row| row.get(0))
            .unwrap();
        assert_eq!(kind, "password_reset");
        connection.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            migrate(&mut connection),
            Err(StoreError::TooNew(99))
        ));
    }

    #[test]
    fn nonces_seen_before_the_rekeying_migration_are_still_refused_after_it() {
        let mut connection = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            connection.execute_batch(sql).unwrap();
        }
        connection.pragma_update(None, "user_version", 3).unwrap();
        connection
            .execute_batch("INSERT INTO nonces VALUES ('device', 'nonce-1', 100)")
            .unwrap();
        migrate(&mut connection).unwrap();
        let replayed = connection
            .execute(
                "INSERT OR IGNORE INTO nonces VALUES ('device', 'nonce-1', 200)",
                [],
            )
            .unwrap();
        assert_eq!(replayed, 0, "the nonce is still known");
        let fresh = connection
            .execute(
                "INSERT OR IGNORE INTO nonces VALUES ('device', 'nonce-2', 200)",
                [],
            )
            .unwrap();
        assert_eq!(fresh, 1);
    }
}
