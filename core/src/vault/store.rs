//! The SQLite file: opening without ever creating or repairing, the schema and its
//! migrations, and the rows the vault reads and writes.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::error::{IntegrityError, VaultError};

/// `PRAGMA application_id` of a cityauth vault ("CAV1"): tells our files from other SQLite files.
pub const APPLICATION_ID: i32 = 0x4341_5631;
/// The schema version this build writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = 3;
/// The first schema whose vault row carries the key epoch and the generation (header v2).
pub const HEADER_V2_SCHEMA: u32 = 3;
/// How long a write waits for another process's transaction before reporting busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Migration N takes the schema from version N to N + 1. Never edit one that has shipped:
/// add the next.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema.
    "CREATE TABLE vault (
         singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
         vault_id BLOB NOT NULL,
         header_mac BLOB NOT NULL,
         sealed_index BLOB NOT NULL
     );
     CREATE TABLE slots (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         kind TEXT NOT NULL,
         params BLOB NOT NULL,
         wrapped_key BLOB NOT NULL
     );
     CREATE TABLE accounts (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         sealed BLOB NOT NULL
     );",
    // 1 -> 2: this device's registration with the City account server.
    "CREATE TABLE enrollment (
         singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
         sealed BLOB NOT NULL
     );",
    // 2 -> 3: header v2 (the key epoch and the index generation, both under the header MAC).
    // Run only at an unlock, after the old header has been verified.
    "ALTER TABLE vault ADD COLUMN key_epoch INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE vault ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;",
];

/// A stored slot row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRow {
    pub id: i64,
    pub kind: String,
    pub params: Vec<u8>,
    pub wrapped_key: Vec<u8>,
}

/// The singleton row that describes the vault.
#[derive(Debug, Clone)]
pub struct VaultRow {
    pub vault_id: Vec<u8>,
    pub header_mac: Vec<u8>,
    pub sealed_index: Vec<u8>,
    /// How many times the data key was rotated (0 before schema 3).
    pub key_epoch: u64,
    /// The index generation the header was signed with (0 before schema 3).
    pub generation: u64,
}

/// Creates a new vault file at `path`; fails if anything is already there.
pub fn create(path: &Path) -> Result<Connection, VaultError> {
    // create_new is atomic: two creators cannot both win, and nothing existing is touched.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    // Owner-only: the contents are encrypted, but other local users need not even get the
    // ciphertext. SQLite gives its -wal and -shm files the same mode.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => VaultError::AlreadyExists,
        _ => VaultError::Io(error.to_string()),
    })?;
    let conn = connect(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(storage)?;
    Ok(conn)
}

/// Opens an existing vault file, checking that it is one and that this build can read it.
/// Nothing is written: an older schema is migrated only at unlock, after its header has been
/// verified with the data key.
pub fn open(path: &Path) -> Result<Connection, VaultError> {
    if !path.exists() {
        return Err(VaultError::NotFound);
    }
    let conn = connect(path)?;
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(not_a_vault_or_storage)?;
    if application_id != APPLICATION_ID {
        return Err(VaultError::NotAVault);
    }
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage)?;
    if version > SCHEMA_VERSION {
        return Err(VaultError::TooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version == 0 {
        // Our id is only set in the same transaction as the first schema.
        return Err(VaultError::NotAVault);
    }
    check_schema(&conn, version)?;
    Ok(conn)
}

/// One `sqlite_master` row: type, name, table, and the `CREATE` text (`None` for the
/// indexes SQLite makes itself).
type SchemaRow = (String, String, String, Option<String>);

fn schema_of(conn: &Connection) -> rusqlite::Result<Vec<SchemaRow>> {
    let mut statement = conn.prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name, tbl_name",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    })?;
    rows.collect()
}

/// Checks that the file's schema is exactly what our migrations make at `version`: the same
/// tables, columns, indexes, and no trigger or view. A crafted file's trigger could swallow
/// a write (an HOTP counter that never advances shows a code twice); a view could stand in
/// for a table. The expected schema is built by running the migrations on an in-memory
/// database, so it follows the migrations list and never drifts from it.
pub fn check_schema(conn: &Connection, version: u32) -> Result<(), VaultError> {
    let steps = MIGRATIONS
        .get(..version as usize)
        .ok_or(IntegrityError::Schema)?;
    let reference = Connection::open_in_memory().map_err(storage)?;
    for step in steps {
        reference.execute_batch(step).map_err(storage)?;
    }
    let expected = schema_of(&reference).map_err(storage)?;
    let found = schema_of(conn).map_err(not_a_vault_or_storage)?;
    if found != expected {
        return Err(IntegrityError::Schema.into());
    }
    Ok(())
}

/// The file's schema version (`PRAGMA user_version`).
pub fn schema_version(conn: &Connection) -> Result<u32, VaultError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage)
}

/// Runs the migrations inside the caller's transaction (creation does all in one; an older
/// vault is migrated in the transaction of its first unlock).
pub fn migrate_in(tx: &rusqlite::Transaction<'_>) -> Result<(), VaultError> {
    let version: u32 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage)?;
    for step in MIGRATIONS.iter().skip(version as usize) {
        tx.execute_batch(step).map_err(storage)?;
    }
    if version == 0 {
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(storage)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(storage)
}

fn connect(path: &Path) -> Result<Connection, VaultError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(not_a_vault_or_storage)?;
    harden(&conn)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(storage)?;
    // Acknowledged writes must survive power loss, not only a process crash.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(not_a_vault_or_storage)?;
    // Freed pages are zeroed: a removed slot or an old record does not linger in the file.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(not_a_vault_or_storage)?;
    Ok(conn)
}

/// Distrusts whatever the file's schema holds, before anything reads it: defensive mode
/// (no `writable_schema`, no shadow-table writes, no corrupting pragmas), no trusted schema
/// (functions with side effects and virtual tables cannot run from the file's schema), and
/// no triggers or views at all (the vault uses none; [`check_schema`] refuses them, and a
/// trigger another process adds later still does not fire here).
fn harden(conn: &Connection) -> Result<(), VaultError> {
    for (config, on) in [
        (DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true),
        (DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false),
    ] {
        if conn.set_db_config(config, on).map_err(storage)? != on {
            return Err(VaultError::Storage(
                "this SQLite build cannot harden the connection".into(),
            ));
        }
    }
    Ok(())
}

/// Turns a write's changed-row count into an error unless it is exactly one: a write that
/// silently changed nothing (a trigger's `RAISE(IGNORE)`, a row gone behind our back) must
/// never let the caller go on as if it had been stored.
pub fn one_row(changed: rusqlite::Result<usize>) -> Result<(), VaultError> {
    match changed.map_err(storage)? {
        1 => Ok(()),
        _ => Err(IntegrityError::LostWrite.into()),
    }
}

/// The counter SQLite bumps when another connection commits.
///
/// Asked before every read, so the statement is prepared once and cached.
pub fn data_version(conn: &Connection) -> Result<i64, VaultError> {
    conn.prepare_cached("PRAGMA data_version")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
        .map_err(storage)
}

/// The vault row, or `None` while the file is being created. Reads the columns the file's
/// schema has (a vault not yet upgraded has no key epoch or generation: both read as 0).
pub fn read_vault_row(conn: &Connection) -> Result<Option<VaultRow>, VaultError> {
    let query = if schema_version(conn)? >= HEADER_V2_SCHEMA {
        "SELECT vault_id, header_mac, sealed_index, key_epoch, generation FROM vault
         WHERE singleton = 1"
    } else {
        "SELECT vault_id, header_mac, sealed_index, 0, 0 FROM vault WHERE singleton = 1"
    };
    conn.query_row(query, [], |row| {
        Ok(VaultRow {
            vault_id: row.get(0)?,
            header_mac: row.get(1)?,
            sealed_index: row.get(2)?,
            // Stored as SQLite's i64, bit for bit; the header MAC covers the u64.
            key_epoch: row.get::<_, i64>(3)?.cast_unsigned(),
            generation: row.get::<_, i64>(4)?.cast_unsigned(),
        })
    })
    .optional()
    .map_err(storage)
}

/// Writes the vault row.
pub fn write_vault_row(conn: &Connection, row: &VaultRow) -> Result<(), VaultError> {
    one_row(conn.execute(
        "INSERT INTO vault (singleton, vault_id, header_mac, sealed_index, key_epoch, generation)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (singleton) DO UPDATE SET vault_id = ?1, header_mac = ?2,
             sealed_index = ?3, key_epoch = ?4, generation = ?5",
        params![
            row.vault_id,
            row.header_mac,
            row.sealed_index,
            row.key_epoch.cast_signed(),
            row.generation.cast_signed()
        ],
    ))
}

/// Replaces the sealed index, its generation and the header MAC that covers them, together.
pub fn write_index(
    conn: &Connection,
    sealed_index: &[u8],
    generation: u64,
    header_mac: &[u8],
) -> Result<(), VaultError> {
    one_row(conn.execute(
        "UPDATE vault SET sealed_index = ?1, generation = ?2, header_mac = ?3 WHERE singleton = 1",
        params![sealed_index, generation.cast_signed(), header_mac],
    ))
}

/// Replaces the index, the key epoch, the generation and the header MAC after a rotation.
pub fn write_rotated(
    conn: &Connection,
    sealed_index: &[u8],
    key_epoch: u64,
    generation: u64,
    header_mac: &[u8],
) -> Result<(), VaultError> {
    one_row(conn.execute(
        "UPDATE vault SET sealed_index = ?1, key_epoch = ?2, generation = ?3, header_mac = ?4
         WHERE singleton = 1",
        params![
            sealed_index,
            key_epoch.cast_signed(),
            generation.cast_signed(),
            header_mac
        ],
    ))
}

/// Copies the WAL into the file and truncates it, so that pages of removed slots do not
/// stay in it. Best effort: a reader in another process can hold the WAL (then its frames
/// are overwritten by later commits); the slot change itself is already durable.
pub fn truncate_wal(conn: &Connection) {
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// Every slot, oldest first.
pub fn read_slots(conn: &Connection) -> Result<Vec<SlotRow>, VaultError> {
    let mut statement = conn
        .prepare("SELECT id, kind, params, wrapped_key FROM slots ORDER BY id")
        .map_err(storage)?;
    let rows = statement
        .query_map([], |row| {
            Ok(SlotRow {
                id: row.get(0)?,
                kind: row.get(1)?,
                params: row.get(2)?,
                wrapped_key: row.get(3)?,
            })
        })
        .map_err(storage)?;
    rows.collect::<Result<_, _>>().map_err(storage)
}

/// Adds a slot and returns its id.
pub fn insert_slot(
    conn: &Connection,
    kind: &str,
    params: &[u8],
    wrapped_key: &[u8],
) -> Result<i64, VaultError> {
    one_row(conn.execute(
        "INSERT INTO slots (kind, params, wrapped_key) VALUES (?1, ?2, ?3)",
        params![kind, params, wrapped_key],
    ))?;
    Ok(conn.last_insert_rowid())
}

/// Deletes a slot the caller has just read.
pub fn delete_slot(conn: &Connection, id: i64) -> Result<(), VaultError> {
    one_row(conn.execute("DELETE FROM slots WHERE id = ?1", params![id]))
}

/// Every account row as `(id, sealed)`, by id.
pub fn read_account_rows(conn: &Connection) -> Result<Vec<(i64, Vec<u8>)>, VaultError> {
    let mut statement = conn
        .prepare("SELECT id, sealed FROM accounts ORDER BY id")
        .map_err(storage)?;
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(storage)?;
    rows.collect::<Result<_, _>>().map_err(storage)
}

/// One account row's sealed blob.
pub fn read_account_row(conn: &Connection, id: i64) -> Result<Option<Vec<u8>>, VaultError> {
    conn.query_row("SELECT sealed FROM accounts WHERE id = ?1", [id], |row| {
        row.get(0)
    })
    .optional()
    .map_err(storage)
}

/// Reserves a new account id (the row is filled in by [`update_account_row`]).
pub fn reserve_account_id(conn: &Connection) -> Result<i64, VaultError> {
    one_row(conn.execute("INSERT INTO accounts (sealed) VALUES (x'')", []))?;
    Ok(conn.last_insert_rowid())
}

/// Stores an account's sealed record.
pub fn update_account_row(conn: &Connection, id: i64, sealed: &[u8]) -> Result<(), VaultError> {
    one_row(conn.execute(
        "UPDATE accounts SET sealed = ?2 WHERE id = ?1",
        params![id, sealed],
    ))
}

/// Deletes an account row; `present` says whether the caller saw the row (an account the
/// index lists whose row is already gone has none to delete).
pub fn delete_account_row(conn: &Connection, id: i64, present: bool) -> Result<(), VaultError> {
    let changed = conn.execute("DELETE FROM accounts WHERE id = ?1", params![id]);
    if present {
        one_row(changed)
    } else {
        changed.map(drop).map_err(storage)
    }
}

/// The sealed enrollment, if this device is enrolled.
/// Read on every request the device makes: the statement is cached.
pub fn read_enrollment(conn: &Connection) -> Result<Option<Vec<u8>>, VaultError> {
    conn.prepare_cached("SELECT sealed FROM enrollment WHERE singleton = 1")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)).optional())
        .map_err(storage)
}

/// Stores (or replaces) the sealed enrollment.
pub fn write_enrollment(conn: &Connection, sealed: &[u8]) -> Result<(), VaultError> {
    one_row(conn.execute(
        "INSERT INTO enrollment (singleton, sealed) VALUES (1, ?1)
         ON CONFLICT (singleton) DO UPDATE SET sealed = ?1",
        params![sealed],
    ))
}

/// Forgets the enrollment.
pub fn delete_enrollment(conn: &Connection) -> Result<(), VaultError> {
    conn.execute("DELETE FROM enrollment", [])
        .map(drop)
        .map_err(storage)
}

/// Maps SQLite errors to the vault's; SQLite's messages never contain our data. The file
/// system's failures get a message that says what happened and that the change was not made
/// (SQLite's own, "disk I/O error" or "unable to open database file", does not say either).
pub fn storage(error: rusqlite::Error) -> VaultError {
    use rusqlite::ErrorCode;
    let message = match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => return VaultError::Busy,
        Some(ErrorCode::DiskFull) => "the disk is full; the change was not saved".into(),
        Some(ErrorCode::ReadOnly) => {
            "the vault file is read-only (its permissions or a read-only file system); the change was not saved".into()
        }
        Some(ErrorCode::CannotOpen) => {
            "the vault file or its journal (-wal, -shm beside it) cannot be opened for writing: is its folder missing or read-only?".into()
        }
        Some(ErrorCode::SystemIoFailure) => {
            "the file system refused a read or write (a full disk, a file size limit or a failing device); the last change may not have been saved: reopen the vault to see".into()
        }
        _ => error.to_string(),
    };
    VaultError::Storage(message)
}

fn not_a_vault_or_storage(error: rusqlite::Error) -> VaultError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => VaultError::NotAVault,
        _ => storage(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with the current schema, on a plain (not hardened) connection.
    fn plain_current() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for step in MIGRATIONS {
            conn.execute_batch(step).unwrap();
        }
        conn
    }

    #[test]
    fn a_write_swallowed_by_a_trigger_is_a_lost_write_not_a_success() {
        let conn = plain_current();
        let id = reserve_account_id(&conn).unwrap();
        update_account_row(&conn, id, b"first").unwrap();
        conn.execute_batch(
            "CREATE TRIGGER keep BEFORE UPDATE ON accounts BEGIN SELECT RAISE(IGNORE); END;",
        )
        .unwrap();
        assert_eq!(
            update_account_row(&conn, id, b"second"),
            Err(IntegrityError::LostWrite.into())
        );
    }

    #[test]
    fn a_write_to_a_row_that_is_gone_is_a_lost_write() {
        let conn = plain_current();
        assert_eq!(
            update_account_row(&conn, 42, b"sealed"),
            Err(IntegrityError::LostWrite.into())
        );
        assert_eq!(
            delete_slot(&conn, 42),
            Err(IntegrityError::LostWrite.into())
        );
        assert_eq!(
            delete_account_row(&conn, 42, true),
            Err(IntegrityError::LostWrite.into())
        );
        assert_eq!(delete_account_row(&conn, 42, false), Ok(()));
    }

    #[test]
    fn connections_are_opened_defensive_without_trusted_schema_triggers_or_views() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.sqlite");
        let conn = create(&path).unwrap();
        assert!(conn.db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE).unwrap());
        assert!(
            !conn
                .db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA)
                .unwrap()
        );
        assert!(
            !conn
                .db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER)
                .unwrap()
        );
        assert!(
            !conn
                .db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW)
                .unwrap()
        );
        let trusted: i64 = conn
            .pragma_query_value(None, "trusted_schema", |row| row.get(0))
            .unwrap();
        assert_eq!(trusted, 0);
        // Defensive mode: the schema cannot be edited behind SQLite's back.
        assert!(conn.pragma_update(None, "writable_schema", true).is_ok());
        let writable: i64 = conn
            .pragma_query_value(None, "writable_schema", |row| row.get(0))
            .unwrap();
        assert_eq!(writable, 0);
    }
}
