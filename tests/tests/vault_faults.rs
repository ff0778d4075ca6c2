//! The vault on a failing file system: a disk that fills up (a file size limit on a writer
//! process, and a small tmpfs) and a vault that cannot be written (an immutable file, a
//! read-only mount). Each gives a typed error with a clear message, never a panic, and the
//! vault reopened afterwards holds everything written before, with `PRAGMA integrity_check` ok.
//!
//! The tmpfs and mount tests need root (they mount); without it they print that they were
//! skipped. The file size limit and the immutable file need no mount.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cityauth_core::{AccountId, KdfParams, Vault, VaultError};
use cityauth_e2e::faults::{PASSPHRASE_ENV, VAULT_PASSPHRASE, hotp_account, numbered_account};

/// Accounts a vault is known to hold: id → number.
type Known = BTreeMap<i64, u64>;

fn cheap_kdf() -> KdfParams {
    KdfParams::new(256, 1, 1).unwrap()
}

/// A vault at `path` with accounts 0..5, closed again.
fn vault_with_five(path: &Path) -> Known {
    let vault = Vault::create(path, VAULT_PASSPHRASE, cheap_kdf()).unwrap();
    (0..5)
        .map(|n| (vault.add(numbered_account(n)).unwrap().0, n))
        .collect()
}

fn unlocked(path: &Path) -> Vault {
    let vault = Vault::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    vault.unlock_with_passphrase(VAULT_PASSPHRASE).unwrap();
    vault
}

/// The file passes `integrity_check`, opens with the passphrase and holds exactly `known`
/// (plus the accounts in `others`, checked by id only).
fn assert_intact(path: &Path, known: &Known, others: &[i64]) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let vault = unlocked(path);
    assert_eq!(vault.integrity_problems().unwrap(), vec![]);
    let stored: BTreeMap<i64, _> = vault
        .all_accounts()
        .unwrap()
        .into_iter()
        .map(|(id, a)| (id.0, a))
        .collect();
    for (id, n) in known {
        assert_eq!(stored.get(id), Some(&numbered_account(*n)), "account {id}");
    }
    let mut expected: Vec<i64> = known.keys().chain(others).copied().collect();
    expected.sort();
    assert_eq!(stored.keys().copied().collect::<Vec<_>>(), expected);
}

/// A mount made by the test, undone when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Runs `mount ARGS… TARGET`; None (and a line saying what is skipped) if not permitted.
    fn new(args: &[&str], target: &Path, what: &str) -> Option<Self> {
        std::fs::create_dir_all(target).unwrap();
        let output = Command::new("mount").args(args).arg(target).output();
        match output {
            Ok(o) if o.status.success() => Some(Self(target.to_owned())),
            Ok(o) => {
                println!(
                    "skipped (mount refused: {}): {what}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                println!("skipped (no mount command: {e}): {what}");
                None
            }
        }
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", options])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// The failure of a write to a full disk: a storage error whose message says so.
fn assert_full(error: &VaultError) {
    assert!(matches!(error, VaultError::Storage(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "storage error: the disk is full; the change was not saved"
    );
}

#[test]
fn a_file_size_limit_stops_writes_with_a_storage_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.sqlite");
    let mut known = vault_with_five(&path);
    // The writer runs under a 256 KiB file size limit, SIGXFSZ ignored so that writes past it
    // fail with EFBIG as they would on a full quota.
    let output = Command::new("bash")
        .args(["-c", r#"trap '' XFSZ; ulimit -f 256; exec "$0" "$@""#])
        .arg(env!("CARGO_BIN_EXE_vault_writer"))
        .arg("--fill")
        .arg(&path)
        .arg("5")
        .env(PASSPHRASE_ENV, VAULT_PASSPHRASE)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{:?}: {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut error = None;
    let mut reads = None;
    let mut message = String::new();
    for line in stdout.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["@@ack", "add", n, id] => {
                known.insert(id.parse().unwrap(), n.parse().unwrap());
            }
            ["@@error", ..] => error = Some(line.to_owned()),
            ["@@message", ..] => message = line.to_owned(),
            ["@@reads", count] => reads = Some(count.parse::<usize>().unwrap()),
            _ => {}
        }
    }
    let error = error.expect("the writer reported the failed write");
    assert!(error.starts_with("@@error Storage("), "{error}");
    assert!(
        message.contains("the file system refused a read or write"),
        "{message}"
    );
    assert!(
        known.len() > 10,
        "the limit left room for some writes: {}",
        known.len()
    );
    // After the failure the same process still reads the vault, without the failed account.
    assert_eq!(reads, Some(known.len()));

    assert_intact(&path, &known, &[]);
    // Without the limit, writing works again.
    let id = unlocked(&path).add(numbered_account(100_000)).unwrap();
    assert_intact(&path, &known, &[id.0]);
}

#[test]
fn a_full_disk_gives_a_storage_error_that_says_so_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mount) = Mount::new(
        &["-t", "tmpfs", "-o", "size=384k", "tmpfs"],
        &dir.path().join("small"),
        "the vault on a full tmpfs",
    ) else {
        return;
    };
    let path = mount.0.join("vault.sqlite");
    let mut known = vault_with_five(&path);
    let vault = unlocked(&path);
    let hotp = vault.add(hotp_account()).unwrap();
    let mut shown = 0u64;
    let full = loop {
        let n = 5 + known.len() as u64;
        match vault.add(numbered_account(n)) {
            Ok(id) => {
                known.insert(id.0, n);
            }
            Err(error) => break error,
        }
        assert!(known.len() < 100_000, "the disk never filled");
    };
    println!("full after {} accounts: {full:?}", known.len());
    assert_full(&full);
    // A full disk shows no HOTP code whose counter was not saved.
    for _ in 0..50 {
        match vault.next_hotp(hotp) {
            Ok(_) => shown += 1,
            Err(error) => {
                assert_full(&error);
                break;
            }
        }
    }
    // Reads still work.
    assert_eq!(vault.accounts().unwrap().len(), known.len() + 1);
    drop(vault);
    assert_intact(&path, &known, &[hotp.0]);
    assert_eq!(counter_of(&path, hotp), shown);

    // Room again: writes go through.
    mount.remount("remount,size=8m");
    let vault = unlocked(&path);
    let id = vault.add(numbered_account(1_000_000)).unwrap();
    vault.next_hotp(hotp).unwrap();
    drop(vault);
    assert_intact(&path, &known, &[hotp.0, id.0]);
    assert_eq!(counter_of(&path, hotp), shown + 1);
}

fn counter_of(path: &Path, id: AccountId) -> u64 {
    unlocked(path).account(id).unwrap().params().counter()
}

/// Makes a file immutable (`chattr +i`: even root cannot write it) until dropped.
struct Immutable(PathBuf);

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// A read-only vault file opens, unlocks and reads (the codes still show); every write is
/// refused with an error that says the file is read-only, and no HOTP code is shown.
fn assert_reads_but_refuses_writes(path: &Path, known: &Known, hotp: AccountId) {
    let vault = unlocked(path);
    assert_eq!(vault.accounts().unwrap().len(), known.len() + 1);
    vault.codes(1_700_000_000).unwrap();
    let read_only = VaultError::Storage(
        "the vault file is read-only (its permissions or a read-only file system); the change was not saved".into(),
    );
    let first = AccountId(*known.keys().next().unwrap());
    assert_eq!(vault.add(numbered_account(9_999)), Err(read_only.clone()));
    assert_eq!(
        vault.rename(first, "Renamed", "renamed"),
        Err(read_only.clone())
    );
    assert_eq!(vault.next_hotp(hotp).map(|c| c.to_string()), Err(read_only));
}

#[test]
fn an_immutable_vault_file_refuses_writes_clearly_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.sqlite");
    let known = vault_with_five(&path);
    let hotp = unlocked(&path).add(hotp_account()).unwrap();
    let status = Command::new("chattr").arg("+i").arg(&path).status();
    if !status.is_ok_and(|s| s.success()) {
        println!("skipped (chattr +i refused here): the immutable vault file");
        return;
    }
    let guard = Immutable(path.clone());
    assert_reads_but_refuses_writes(&path, &known, hotp);
    drop(guard);
    assert_intact(&path, &known, &[hotp.0]);
    assert_eq!(counter_of(&path, hotp), 0);
}

#[test]
fn a_vault_on_a_read_only_mount_refuses_writes_clearly_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let known = vault_with_five(&real.join("vault.sqlite"));
    let Some(mount) = Mount::new(
        &["--bind", real.to_str().unwrap()],
        &dir.path().join("ro"),
        "the vault on a read-only bind mount",
    ) else {
        return;
    };
    mount.remount("remount,bind,ro");
    // WAL mode needs the `-shm` file beside the vault: on a read-only folder SQLite cannot
    // open the vault at all, and the message says where to look.
    let error = Vault::open(&mount.0.join("vault.sqlite"))
        .err()
        .expect("refused");
    assert_eq!(
        error,
        VaultError::Storage(
            "the vault file or its journal (-wal, -shm beside it) cannot be opened for writing: is its folder missing or read-only?".into()
        )
    );
    drop(mount);
    assert_intact(&real.join("vault.sqlite"), &known, &[]);
}
