//! Rollback: older rows put back behind the vault's back. The index carries a generation
//! that the header MAC signs and binds the enrollment row, so an index rolled back with a row
//! (an HOTP counter going back, a deleted account returning), an enrollment rolled back,
//! swapped or brought back, and a whole vault row put back during a session are all
//! detected; a damaged index has a repair path.

mod common;

use std::path::Path;

use cityauth_core::{AccountId, IntegrityError, Vault, VaultError};
use common::{PASSPHRASE, RFC_SECRET, account, enrollment, new_vault, numbered};
use rusqlite::Connection;

fn hotp() -> cityauth_core::Account {
    account(&format!(
        "otpauth://hotp/Corp:carol?secret={RFC_SECRET}&counter=0"
    ))
}

/// The columns of the vault row and one account row, as another copy of the file had them.
struct Copy {
    vault: (Vec<u8>, Vec<u8>, i64),
    row: Option<Vec<u8>>,
}

fn take(path: &Path, id: AccountId) -> Copy {
    let conn = Connection::open(path).unwrap();
    let vault = conn
        .query_row(
            "SELECT sealed_index, header_mac, generation FROM vault",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let row = conn
        .query_row("SELECT sealed FROM accounts WHERE id = ?1", [id.0], |r| {
            r.get(0)
        })
        .ok();
    Copy { vault, row }
}

/// Puts back the old index (with its generation and header MAC when `whole`) and the row.
fn put_back(conn: &Connection, copy: &Copy, id: AccountId, whole: bool) {
    let (index, mac, generation) = &copy.vault;
    conn.execute("UPDATE vault SET sealed_index = ?1", [index])
        .unwrap();
    if whole {
        conn.execute(
            "UPDATE vault SET header_mac = ?1, generation = ?2",
            rusqlite::params![mac, generation],
        )
        .unwrap();
    }
    let row = copy.row.as_ref().unwrap();
    conn.execute(
        "INSERT INTO accounts (id, sealed) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET sealed = ?2",
        rusqlite::params![id.0, row],
    )
    .unwrap();
}

fn reopen(path: &Path) -> Vault {
    let vault = Vault::open(path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    vault
}

#[test]
fn an_hotp_counter_rolled_back_with_its_index_is_detected_and_no_code_is_shown_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let id = vault.add(hotp()).unwrap();
    assert_eq!(vault.next_hotp(id).unwrap().as_str(), "755224");
    let old = take(&path, id);
    assert_eq!(vault.next_hotp(id).unwrap().as_str(), "287082");
    drop(vault);

    put_back(&Connection::open(&path).unwrap(), &old, id, false);
    let vault = reopen(&path);
    assert!(
        vault
            .integrity_problems()
            .unwrap()
            .contains(&IntegrityError::Index)
    );
    assert_eq!(
        vault.next_hotp(id),
        Err(VaultError::Integrity(IntegrityError::Index))
    );
}

#[test]
fn an_index_rolled_back_with_its_generation_fails_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let id = vault.add(hotp()).unwrap();
    let old = take(&path, id);
    vault.next_hotp(id).unwrap();
    drop(vault);
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE vault SET sealed_index = ?1, generation = ?2",
        rusqlite::params![old.vault.0, old.vault.2],
    )
    .unwrap();
    drop(conn);
    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase(PASSPHRASE),
        Err(VaultError::Integrity(IntegrityError::Header))
    );
}

#[test]
fn a_deleted_account_returning_with_an_old_index_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    vault.add(numbered(1)).unwrap();
    let gone = vault.add(numbered(2)).unwrap();
    let old = take(&path, gone);
    vault.remove(gone).unwrap();
    drop(vault);

    put_back(&Connection::open(&path).unwrap(), &old, gone, false);
    let vault = reopen(&path);
    assert!(
        vault
            .integrity_problems()
            .unwrap()
            .contains(&IntegrityError::Index)
    );
    assert_eq!(
        vault.rename(gone, "x", "y"),
        Err(VaultError::Integrity(IntegrityError::Index))
    );
}

#[test]
fn a_whole_vault_row_rolled_back_during_a_session_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let id = vault.add(hotp()).unwrap();
    vault.next_hotp(id).unwrap();
    let old = take(&path, id);
    assert_eq!(vault.next_hotp(id).unwrap().as_str(), "287082");
    // Another writer puts back everything the old copy had: index, generation, header MAC
    // and the row. The vault still open in this session has seen a later generation.
    put_back(&Connection::open(&path).unwrap(), &old, id, true);
    assert_eq!(
        vault.next_hotp(id),
        Err(VaultError::Integrity(IntegrityError::Index))
    );
    assert!(
        vault
            .integrity_problems()
            .unwrap()
            .contains(&IntegrityError::Index)
    );
}

#[test]
fn an_enrollment_rolled_back_swapped_or_brought_back_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let kept = vault.add(numbered(1)).unwrap();
    vault.save_enrollment(enrollment(1), None).unwrap();
    let read = |conn: &Connection| -> Vec<u8> {
        conn.query_row("SELECT sealed FROM enrollment", [], |r| r.get(0))
            .unwrap()
    };
    let conn = Connection::open(&path).unwrap();
    let first = read(&conn);
    vault.set_clock_offset(2).unwrap();
    let second = read(&conn);

    // Rolled back to the older row.
    conn.execute("UPDATE enrollment SET sealed = ?1", [&first])
        .unwrap();
    assert_eq!(
        vault.enrollment(),
        Err(VaultError::Integrity(IntegrityError::Enrollment))
    );
    assert!(vault.code(kept, 59).is_ok(), "the other codes keep working");
    conn.execute("UPDATE enrollment SET sealed = ?1", [&second])
        .unwrap();
    assert_eq!(vault.enrollment().unwrap().unwrap().clock_offset, 2);

    // Deleted behind the vault's back.
    conn.execute("DELETE FROM enrollment", []).unwrap();
    assert_eq!(
        vault.enrollment(),
        Err(VaultError::Integrity(IntegrityError::Enrollment))
    );
    conn.execute(
        "INSERT INTO enrollment (singleton, sealed) VALUES (1, ?1)",
        [&second],
    )
    .unwrap();

    // Forgotten, then brought back.
    vault.forget_enrollment().unwrap();
    conn.execute(
        "INSERT INTO enrollment (singleton, sealed) VALUES (1, ?1)",
        [&second],
    )
    .unwrap();
    assert_eq!(
        vault.enrollment(),
        Err(VaultError::Integrity(IntegrityError::Enrollment))
    );

    // Swapped in from another vault of the same user: a different vault id.
    let other_dir = tempfile::tempdir().unwrap();
    let (other_path, other) = new_vault(other_dir.path());
    other.save_enrollment(enrollment(3), None).unwrap();
    let foreign = read(&Connection::open(&other_path).unwrap());
    conn.execute("UPDATE enrollment SET sealed = ?1", [&foreign])
        .unwrap();
    assert_eq!(
        vault.enrollment(),
        Err(VaultError::Integrity(IntegrityError::Enrollment))
    );
}

#[test]
fn a_damaged_index_is_repaired_and_the_vault_is_writable_again() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let first = vault.add(numbered(1)).unwrap();
    let id = vault.add(hotp()).unwrap();
    vault.next_hotp(id).unwrap();
    let old = take(&path, id);
    vault.next_hotp(id).unwrap();
    vault.save_enrollment(enrollment(5), None).unwrap();
    drop(vault);
    put_back(&Connection::open(&path).unwrap(), &old, id, false);

    let vault = reopen(&path);
    assert_eq!(
        vault.next_hotp(id),
        Err(VaultError::Integrity(IntegrityError::Index))
    );
    vault.repair_index().unwrap();
    assert_eq!(vault.integrity_problems().unwrap(), vec![]);
    // The rows are taken as they are: the HOTP row is the one put back (counter 1).
    assert_eq!(vault.account(id).unwrap().params().counter(), 1);
    assert_eq!(vault.next_hotp(id).unwrap().as_str(), "287082");
    assert_eq!(vault.enrollment().unwrap().unwrap().clock_offset, 5);
    assert!(vault.code(first, 59).is_ok());
    drop(vault);
    let vault = reopen(&path);
    assert_eq!(vault.integrity_problems().unwrap(), vec![]);
    assert_eq!(vault.next_hotp(id).unwrap().as_str(), "359152");
}
