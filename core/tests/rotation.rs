//! Key rotation (issue 10, item 4): after a passphrase change or a slot removal, an old copy
//! of the file with the old passphrase opens nothing in the current file; the removed slot
//! is not left in the file or its WAL; the key epoch is under the header MAC.

mod common;

use std::path::{Path, PathBuf};

use cityauth_core::{AesGcmKeyWrapper, IntegrityError, KeyWrapper, Vault, VaultError};
use common::{PASSPHRASE, cheap_kdf, new_vault, numbered};
use rusqlite::Connection;

const RECOVERY: &str = "a recovery passphrase";

fn copy_of(path: &Path, name: &str) -> PathBuf {
    let copy = path.with_file_name(name);
    std::fs::copy(path, &copy).unwrap();
    copy
}

/// The current file with the old copy's slots and header put back: what someone holding
/// the old copy and the old passphrase can unlock against the current records.
fn graft_old_header(current: &Path, old: &Path) {
    let conn = Connection::open(current).unwrap();
    conn.execute("ATTACH DATABASE ?1 AS old", [old.to_str().unwrap()])
        .unwrap();
    conn.execute_batch(
        "DELETE FROM slots; INSERT INTO slots SELECT * FROM old.slots;
         UPDATE vault SET header_mac = (SELECT header_mac FROM old.vault),
             key_epoch = (SELECT key_epoch FROM old.vault),
             generation = (SELECT generation FROM old.vault);",
    )
    .unwrap();
}

/// True if any account of the current file is readable with the old key.
fn old_key_reads_current_accounts(current: &Path, old_passphrase: &str) -> bool {
    let vault = Vault::open(current).unwrap();
    match vault.unlock_with_passphrase(old_passphrase) {
        Ok(()) => {
            !vault.accounts().unwrap().is_empty() || vault.enrollment().is_ok_and(|e| e.is_some())
        }
        Err(_) => false,
    }
}

#[test]
fn an_old_copy_and_the_old_passphrase_open_nothing_after_a_passphrase_change() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    vault.add(numbered(1)).unwrap();
    drop(vault);
    let old = copy_of(&path, "old.sqlite");
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    vault
        .change_passphrase("a new passphrase", cheap_kdf())
        .unwrap();
    vault.add(numbered(2)).unwrap();
    assert_eq!(vault.accounts().unwrap().len(), 2);
    drop(vault);

    graft_old_header(&path, &old);
    assert!(!old_key_reads_current_accounts(&path, PASSPHRASE));
}

#[test]
fn removing_a_slot_with_rotation_revokes_it_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let id = vault.add(numbered(1)).unwrap();
    let recovery = vault.add_passphrase_slot(RECOVERY, cheap_kdf()).unwrap();
    let wrapper = AesGcmKeyWrapper::generate("device").unwrap();
    vault.add_key_wrapper_slot(&wrapper).unwrap();
    drop(vault);
    let old = copy_of(&path, "old.sqlite");
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    let wrappers: [&dyn KeyWrapper; 1] = [&wrapper];
    // Each kept slot needs its credential; nothing changes without it.
    assert!(matches!(
        vault.remove_slot_rotating(recovery, &["not it"], &wrappers),
        Err(VaultError::CredentialNeeded(_))
    ));
    assert!(matches!(
        vault.remove_slot_rotating(recovery, &[PASSPHRASE], &[]),
        Err(VaultError::CredentialNeeded(_))
    ));
    assert_eq!(vault.slots().unwrap().len(), 3);
    vault
        .remove_slot_rotating(recovery, &[PASSPHRASE], &wrappers)
        .unwrap();
    assert_eq!(vault.slots().unwrap().len(), 2);
    assert_eq!(vault.account(id).unwrap(), numbered(1));
    drop(vault);

    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase(RECOVERY),
        Err(VaultError::WrongPassphrase)
    );
    vault.unlock_with_key_wrapper(&wrapper).unwrap();
    assert_eq!(vault.account(id).unwrap(), numbered(1));
    vault.lock();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    drop(vault);

    graft_old_header(&path, &old);
    assert!(!old_key_reads_current_accounts(&path, RECOVERY));
}

#[test]
fn the_removed_slot_is_not_left_in_the_file_or_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    vault.add(numbered(1)).unwrap();
    let recovery = vault.add_passphrase_slot(RECOVERY, cheap_kdf()).unwrap();
    let conn = Connection::open(&path).unwrap();
    let (params, wrapped): (Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT params, wrapped_key FROM slots WHERE id = ?1",
            [recovery],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    vault
        .remove_slot_rotating(recovery, &[PASSPHRASE], &[])
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(path.with_file_name("vault.sqlite-wal")).unwrap_or_default());
    for (what, needle) in [("params", &params), ("wrapped key", &wrapped)] {
        assert!(
            !bytes
                .windows(needle.len())
                .any(|window| window == &needle[..]),
            "the removed slot's {what} is still in the file or the WAL"
        );
    }
    drop(vault);
}

#[test]
fn the_key_epoch_counts_rotations_under_the_header_mac() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    vault.add(numbered(1)).unwrap();
    vault
        .change_passphrase("second passphrase", cheap_kdf())
        .unwrap();
    vault
        .change_passphrase("third passphrase", cheap_kdf())
        .unwrap();
    drop(vault);
    let conn = Connection::open(&path).unwrap();
    let epoch: i64 = conn
        .query_row("SELECT key_epoch FROM vault", [], |r| r.get(0))
        .unwrap();
    assert_eq!(epoch, 2);
    conn.execute("UPDATE vault SET key_epoch = 1", []).unwrap();
    drop(conn);
    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase("third passphrase"),
        Err(VaultError::Integrity(IntegrityError::Header))
    );
}
