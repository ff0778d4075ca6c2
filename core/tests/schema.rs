//! A crafted vault file: its schema is checked on open, its triggers never fire, and a
//! write that does not land is an error, never a code shown twice.

mod common;

use std::path::Path;

use cityauth_core::{AccountId, IntegrityError, Vault, VaultError};
use common::{PASSPHRASE, RFC_SECRET, account, new_vault};
use rusqlite::Connection;

/// The trigger of the issue: every account update is silently dropped.
const SWALLOW_COUNTER: &str =
    "CREATE TRIGGER keep_counter BEFORE UPDATE ON accounts BEGIN SELECT RAISE(IGNORE); END;";

fn vault_with_hotp(dir: &Path) -> (std::path::PathBuf, AccountId) {
    let (path, vault) = new_vault(dir);
    let id = vault
        .add(account(&format!(
            "otpauth://hotp/Bank:alice?secret={RFC_SECRET}&counter=0"
        )))
        .unwrap();
    drop(vault);
    (path, id)
}

fn alter(path: &Path, sql: &str) {
    Connection::open(path).unwrap().execute_batch(sql).unwrap();
}

fn file_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

#[test]
fn a_crafted_trigger_that_swallows_the_hotp_counter_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = vault_with_hotp(dir.path());
    alter(&path, SWALLOW_COUNTER);
    let before = file_bytes(&path);
    assert_eq!(
        Vault::open(&path).err(),
        Some(VaultError::Integrity(IntegrityError::Schema))
    );
    assert_eq!(file_bytes(&path), before, "the refused file was changed");
}

#[test]
fn any_schema_but_our_own_is_refused_at_open() {
    let alterations = [
        (
            "a view",
            "CREATE VIEW everything AS SELECT * FROM accounts;",
        ),
        (
            "an extra column",
            "ALTER TABLE accounts ADD COLUMN note TEXT;",
        ),
        (
            "an extra index",
            "CREATE INDEX by_sealed ON accounts (sealed);",
        ),
        ("an extra table", "CREATE TABLE extra (x);"),
        ("a missing table", "DROP TABLE enrollment;"),
        (
            "a table swapped for a view",
            "ALTER TABLE slots RENAME TO old_slots; CREATE VIEW slots AS SELECT * FROM old_slots;",
        ),
        (
            "an insert trigger",
            "CREATE TRIGGER t AFTER INSERT ON accounts BEGIN DELETE FROM accounts; END;",
        ),
    ];
    for (what, sql) in alterations {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = vault_with_hotp(dir.path());
        alter(&path, sql);
        assert_eq!(
            Vault::open(&path).err(),
            Some(VaultError::Integrity(IntegrityError::Schema)),
            "{what}"
        );
    }
}

#[test]
fn a_trigger_added_while_the_vault_is_open_never_swallows_the_counter() {
    let dir = tempfile::tempdir().unwrap();
    let (path, id) = vault_with_hotp(dir.path());
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    // Another process plants the trigger after our schema check has passed.
    alter(&path, SWALLOW_COUNTER);
    let first = vault.next_hotp(id).unwrap();
    let second = vault.next_hotp(id).unwrap();
    assert_ne!(first, second, "a code was shown twice");
    drop(vault);
    alter(&path, "DROP TRIGGER keep_counter;");
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert_eq!(vault.account(id).unwrap().params().counter(), 2);
}
