//! Tampering: flip each byte of each stored blob, delete, swap, roll back and add rows.
//! Every case ends in an error or a named damaged account, never in a wrong code and never
//! in an account silently missing.

mod common;

use std::path::{Path, PathBuf};

use cityauth_core::{AccountId, Damage, IntegrityError, Vault, VaultError};
use common::{PASSPHRASE, RFC_SECRET, account, new_vault};
use rusqlite::Connection;

const TIME: u64 = 1_234_567_890;

/// A vault with three accounts, and what it shows before anyone touches it.
struct Original {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ids: Vec<AccountId>,
    codes: Vec<(AccountId, String)>,
}

fn original() -> Original {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let ids = vec![
        vault
            .add(account(&format!(
                "otpauth://totp/First:one?secret={RFC_SECRET}"
            )))
            .unwrap(),
        vault
            .add(account(
                "otpauth://hotp/Second:two?secret=JBSWY3DPEHPK3PXP&counter=3",
            ))
            .unwrap(),
        vault
            .add(account(
                "otpauth://totp/Third:three?secret=KRUGS4ZANFZSA5DIMU&digits=8",
            ))
            .unwrap(),
    ];
    let codes = codes_of(&vault);
    drop(vault);
    Original {
        _dir: dir,
        path,
        ids,
        codes,
    }
}

fn codes_of(vault: &Vault) -> Vec<(AccountId, String)> {
    vault
        .codes(TIME)
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.code.as_str().to_owned()))
        .collect()
}

/// A copy of the original file to damage.
fn copy_of(original: &Original, dir: &Path) -> PathBuf {
    let path = dir.join("copy.sqlite");
    let _ = std::fs::remove_file(&path);
    std::fs::copy(&original.path, &path).unwrap();
    path
}

fn blob(conn: &Connection, table: &str, column: &str, key: &str, id: i64) -> Vec<u8> {
    conn.query_row(
        &format!("SELECT {column} FROM {table} WHERE {key} = ?1"),
        [id],
        |row| row.get(0),
    )
    .unwrap()
}

fn set_blob(conn: &Connection, table: &str, column: &str, key: &str, id: i64, value: &[u8]) {
    let changed = conn
        .execute(
            &format!("UPDATE {table} SET {column} = ?2 WHERE {key} = ?1"),
            rusqlite::params![id, value],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

/// The outcome a user would see after the damage.
enum Seen {
    Refused(VaultError),
    Opened {
        codes: Vec<(AccountId, String)>,
        problems: Vec<IntegrityError>,
        listed: Vec<AccountId>,
    },
}

fn look(path: &Path) -> Seen {
    let vault = match Vault::open(path) {
        Ok(vault) => vault,
        Err(error) => return Seen::Refused(error),
    };
    if let Err(error) = vault.unlock_with_passphrase(PASSPHRASE) {
        return Seen::Refused(error);
    }
    Seen::Opened {
        codes: codes_of(&vault),
        problems: vault.integrity_problems().unwrap(),
        listed: vault.accounts().unwrap().iter().map(|a| a.id).collect(),
    }
}

/// Every code shown is the original code of that account, and every original account is
/// either shown or reported.
fn assert_no_wrong_code_and_none_lost(original: &Original, seen: &Seen, case: &str) {
    if let Seen::Opened {
        codes,
        problems,
        listed,
    } = seen
    {
        for code in codes {
            assert!(original.codes.contains(code), "{case}: wrong code {code:?}");
        }
        for id in &original.ids {
            let reported = problems.iter().any(|p| match p {
                IntegrityError::Account(damaged) => damaged.id == *id,
                _ => false,
            });
            assert!(
                listed.contains(id) || reported,
                "{case}: account {id} silently missing"
            );
        }
    }
}

#[test]
fn every_byte_of_every_account_record_is_protected() {
    let original = original();
    let dir = tempfile::tempdir().unwrap();
    for (position, id) in original.ids.iter().enumerate() {
        let conn = Connection::open(&original.path).unwrap();
        let length = blob(&conn, "accounts", "sealed", "id", id.0).len();
        drop(conn);
        for byte in 0..length {
            let path = copy_of(&original, dir.path());
            let conn = Connection::open(&path).unwrap();
            let mut sealed = blob(&conn, "accounts", "sealed", "id", id.0);
            sealed[byte] ^= 0x01;
            set_blob(&conn, "accounts", "sealed", "id", id.0, &sealed);
            drop(conn);
            let case = format!("account {id} byte {byte}");
            let seen = look(&path);
            assert_no_wrong_code_and_none_lost(&original, &seen, &case);
            let Seen::Opened {
                problems, listed, ..
            } = seen
            else {
                panic!("{case}: one damaged record must not lock the user out");
            };
            // The damaged account is named by its label; the others are all there.
            assert_eq!(problems.len(), 1, "{case}");
            let IntegrityError::Account(damaged) = &problems[0] else {
                panic!("{case}: {:?}", problems[0]);
            };
            assert_eq!(damaged.id, *id);
            // A changed tag no longer matches the write the index pinned; any other changed
            // byte fails AES-GCM's check.
            let expected = if byte >= length - 16 {
                Damage::Replaced
            } else {
                Damage::Tampered
            };
            assert_eq!(damaged.damage, expected, "{case}");
            let label = ["First (one)", "Second (two)", "Third (three)"][position];
            assert_eq!(damaged.label.as_deref(), Some(label));
            assert!(problems[0].to_string().contains(label));
            assert_eq!(listed.len(), 2, "{case}");
        }
    }
}

#[test]
fn a_record_altered_together_with_its_index_tag_still_fails() {
    // Flip a ciphertext byte but keep the tag (the last 16 bytes) as the index expects:
    // AES-GCM catches it, and the account is reported as tampered.
    let original = original();
    let dir = tempfile::tempdir().unwrap();
    let path = copy_of(&original, dir.path());
    let conn = Connection::open(&path).unwrap();
    let id = original.ids[0].0;
    let mut sealed = blob(&conn, "accounts", "sealed", "id", id);
    sealed[14] ^= 0x80;
    set_blob(&conn, "accounts", "sealed", "id", id, &sealed);
    drop(conn);
    let seen = look(&path);
    assert_no_wrong_code_and_none_lost(&original, &seen, "ciphertext");
    let Seen::Opened { problems, .. } = seen else {
        panic!("refused")
    };
    assert!(matches!(&problems[..], [IntegrityError::Account(d)] if d.damage == Damage::Tampered));
}

#[test]
fn every_byte_of_the_index_is_protected_and_accounts_stay_readable() {
    let original = original();
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(&original.path).unwrap();
    let length = blob(&conn, "vault", "sealed_index", "singleton", 1).len();
    drop(conn);
    for byte in 0..length {
        let path = copy_of(&original, dir.path());
        let conn = Connection::open(&path).unwrap();
        let mut index = blob(&conn, "vault", "sealed_index", "singleton", 1);
        index[byte] ^= 0x01;
        set_blob(&conn, "vault", "sealed_index", "singleton", 1, &index);
        drop(conn);
        let case = format!("index byte {byte}");
        let seen = look(&path);
        assert_no_wrong_code_and_none_lost(&original, &seen, &case);
        let Seen::Opened {
            codes, problems, ..
        } = seen
        else {
            panic!("{case}: a damaged index must not lock the user out");
        };
        assert_eq!(problems, vec![IntegrityError::Index], "{case}");
        assert_eq!(
            codes, original.codes,
            "{case}: every record is still readable"
        );
    }
    // Writes are refused while the index is damaged, so nothing is built on it.
    let vault = Vault::open(&dir.path().join("copy.sqlite")).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert_eq!(
        vault.rename(original.ids[0], "x", "y"),
        Err(VaultError::Integrity(IntegrityError::Index))
    );
}

#[test]
fn every_byte_of_the_header_and_slots_is_protected() {
    let original = original();
    let dir = tempfile::tempdir().unwrap();
    let targets: [(&str, &str, &str, i64); 4] = [
        ("vault", "vault_id", "singleton", 1),
        ("vault", "header_mac", "singleton", 1),
        ("slots", "params", "id", 1),
        ("slots", "wrapped_key", "id", 1),
    ];
    for (table, column, key, id) in targets {
        let conn = Connection::open(&original.path).unwrap();
        let length = blob(&conn, table, column, key, id).len();
        drop(conn);
        for byte in 0..length {
            let path = copy_of(&original, dir.path());
            let conn = Connection::open(&path).unwrap();
            let mut value = blob(&conn, table, column, key, id);
            value[byte] ^= 0x01;
            set_blob(&conn, table, column, key, id, &value);
            drop(conn);
            let case = format!("{table}.{column} byte {byte}");
            match look(&path) {
                Seen::Refused(VaultError::Integrity(IntegrityError::Header)) => {}
                // Altered Argon2 parameters, salt or check value derive another key: the
                // slot cannot tell that from a wrong passphrase. Nothing opens either way.
                Seen::Refused(VaultError::WrongPassphrase) if column == "params" => {}
                Seen::Refused(other) => panic!("{case}: unexpected {other:?}"),
                Seen::Opened { .. } => panic!("{case}: opened a tampered header"),
            }
        }
    }
}

#[test]
fn deleted_swapped_rolled_back_and_added_rows_are_named() {
    let original = original();
    let dir = tempfile::tempdir().unwrap();
    let [first, second, third] = [original.ids[0].0, original.ids[1].0, original.ids[2].0];

    // Deleted.
    let path = copy_of(&original, dir.path());
    let conn = Connection::open(&path).unwrap();
    conn.execute("DELETE FROM accounts WHERE id = ?1", [second])
        .unwrap();
    drop(conn);
    let seen = look(&path);
    assert_no_wrong_code_and_none_lost(&original, &seen, "deleted");
    let Seen::Opened { problems, .. } = seen else {
        panic!()
    };
    assert_eq!(problems.len(), 1);
    assert!(problems[0].to_string().contains("Second (two)"));
    assert!(problems[0].to_string().contains("missing"));

    // Swapped: the row id is bound into each record, and the index pins each write.
    let path = copy_of(&original, dir.path());
    let conn = Connection::open(&path).unwrap();
    let a = blob(&conn, "accounts", "sealed", "id", first);
    let c = blob(&conn, "accounts", "sealed", "id", third);
    set_blob(&conn, "accounts", "sealed", "id", first, &c);
    set_blob(&conn, "accounts", "sealed", "id", third, &a);
    drop(conn);
    let seen = look(&path);
    assert_no_wrong_code_and_none_lost(&original, &seen, "swapped");
    let Seen::Opened {
        codes, problems, ..
    } = seen
    else {
        panic!()
    };
    assert_eq!(problems.len(), 2);
    assert!(codes.is_empty(), "{codes:?}");

    // Rolled back: an HOTP record restored to before two codes were shown.
    let path = copy_of(&original, dir.path());
    let old = blob(
        &Connection::open(&path).unwrap(),
        "accounts",
        "sealed",
        "id",
        second,
    );
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    vault.next_hotp(AccountId(second)).unwrap();
    vault.next_hotp(AccountId(second)).unwrap();
    drop(vault);
    let conn = Connection::open(&path).unwrap();
    set_blob(&conn, "accounts", "sealed", "id", second, &old);
    drop(conn);
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert!(matches!(
        vault.next_hotp(AccountId(second)),
        Err(VaultError::Integrity(IntegrityError::Account(d))) if d.damage == Damage::Replaced
    ));
    drop(vault);

    // Added behind the vault's back (a copy of a real record under a new id).
    let path = copy_of(&original, dir.path());
    let conn = Connection::open(&path).unwrap();
    let a = blob(&conn, "accounts", "sealed", "id", first);
    conn.execute("INSERT INTO accounts (id, sealed) VALUES (100, ?1)", [a])
        .unwrap();
    drop(conn);
    let seen = look(&path);
    let Seen::Opened {
        codes, problems, ..
    } = seen
    else {
        panic!()
    };
    assert_eq!(codes, original.codes);
    assert!(matches!(
        &problems[..],
        [IntegrityError::Account(d)] if d.damage == Damage::Unlisted && d.id == AccountId(100)
    ));
}
