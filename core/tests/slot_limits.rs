//! Passphrase slots: their number and cost are capped and checked before any KDF runs
//! (item 6), and they are password envelopes, the first slot format still opening.

mod common;

use std::path::{Path, PathBuf};

use cityauth_core::{IntegrityError, KdfParams, Vault, VaultError};
use common::{PASSPHRASE, cheap_kdf, new_vault};
use rusqlite::{Connection, params};

/// One more passphrase than the slot limit allows.
const LIMIT: usize = 8;

fn slot_params(path: &Path) -> Vec<(i64, Vec<u8>)> {
    let conn = Connection::open(path).unwrap();
    let mut statement = conn
        .prepare("SELECT id, params FROM slots WHERE kind = 'passphrase' ORDER BY id")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Appends copies of the vault's first passphrase slot with their cost set to `m` KiB × `t`.
fn add_crafted_slots(path: &Path, copies: usize, m: u32, t: u32) {
    let conn = Connection::open(path).unwrap();
    let (params, wrapped): (Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT params, wrapped_key FROM slots WHERE kind = 'passphrase' ORDER BY id",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    let mut costly = params.clone();
    costly[1..5].copy_from_slice(&m.to_be_bytes());
    costly[5..9].copy_from_slice(&t.to_be_bytes());
    for _ in 0..copies {
        conn.execute(
            "INSERT INTO slots (kind, params, wrapped_key) VALUES ('passphrase', ?1, ?2)",
            params![costly, wrapped],
        )
        .unwrap();
    }
}

fn locked_vault() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    drop(vault);
    (dir, path)
}

#[test]
fn too_many_passphrase_slots_are_refused_before_any_kdf_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    for n in 1..LIMIT {
        vault
            .add_passphrase_slot(&format!("recovery passphrase {n}"), cheap_kdf())
            .unwrap();
    }
    assert_eq!(
        vault.add_passphrase_slot("one passphrase too many", cheap_kdf()),
        Err(VaultError::SlotLimit)
    );
    assert_eq!(slot_params(&path).len(), LIMIT);
    drop(vault);

    // A file with one slot more than any build writes: the first slot would open, but
    // nothing is tried.
    add_crafted_slots(&path, 1, 256, 1);
    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase(PASSPHRASE),
        Err(VaultError::SlotLimit)
    );
}

#[test]
fn passphrase_slots_costing_too_much_together_are_refused_before_any_kdf_runs() {
    let (_dir, path) = locked_vault();
    // Three slots each at the envelope's cap (1 GiB × 2 passes): 6 GiB·passes in all.
    add_crafted_slots(&path, 3, KdfParams::MAX_MEMORY_KIB, 2);
    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase(PASSPHRASE),
        Err(VaultError::SlotLimit)
    );
}

#[test]
fn a_slot_asking_more_than_the_envelope_cap_is_refused_before_its_kdf() {
    let (_dir, path) = locked_vault();
    // The first and only passphrase slot made to ask for 1 GiB × 3 passes.
    let conn = Connection::open(&path).unwrap();
    let (id, mut params) = slot_params(&path).remove(0);
    params[1..5].copy_from_slice(&KdfParams::MAX_MEMORY_KIB.to_be_bytes());
    params[5..9].copy_from_slice(&3u32.to_be_bytes());
    conn.execute(
        "UPDATE slots SET params = ?1 WHERE id = ?2",
        params![params, id],
    )
    .unwrap();
    drop(conn);
    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase(PASSPHRASE),
        Err(VaultError::Integrity(IntegrityError::Header))
    );
}

/// The frozen vault in tests/slot_fixtures/ (its README says how it was made).
fn fixture_copy(dir: &Path) -> PathBuf {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slot_fixtures/passphrase-slot-v1.sqlite");
    let path = dir.join("vault.sqlite");
    std::fs::copy(source, &path).unwrap();
    path
}

#[test]
fn passphrase_slots_written_before_the_envelope_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture_copy(dir.path());
    assert!(slot_params(&path).iter().all(|(_, params)| params[0] == 1));
    for passphrase in [PASSPHRASE, "recovery passphrase two"] {
        let vault = Vault::open(&path).unwrap();
        vault.unlock_with_passphrase(passphrase).unwrap();
        let codes = vault.codes(59).unwrap();
        assert_eq!(codes.len(), 1);
        assert_eq!(codes[0].code.as_str(), "287082", "RFC 6238 SHA-1 at 59 s");
        assert_eq!(
            vault.unlock_with_passphrase("not it"),
            Err(VaultError::WrongPassphrase)
        );
    }
    // A changed passphrase is sealed in the envelope, next to the old format's key slots.
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    vault
        .change_passphrase("a brand new passphrase", cheap_kdf())
        .unwrap();
    drop(vault);
    assert!(slot_params(&path).iter().all(|(_, params)| params[0] == 2));
    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase(PASSPHRASE),
        Err(VaultError::WrongPassphrase)
    );
    vault
        .unlock_with_passphrase("a brand new passphrase")
        .unwrap();
    assert_eq!(vault.codes(59).unwrap()[0].code.as_str(), "287082");
}

#[test]
fn new_passphrase_slots_are_envelopes_with_separate_subkeys() {
    let (_dir, path) = locked_vault();
    let slots = slot_params(&path);
    assert_eq!(slots.len(), 1);
    assert_eq!(slots[0].1[0], 2, "params version 2: the password envelope");
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
}
