//! The vault opened from arbitrary bytes: written to a file, opened, unlocked with a wrong
//! and then the right passphrase, its accounts listed and their codes made.
//!
//! Each passphrase slot costs the Argon2id work its file states; a case whose slots ask for
//! more than [`CHEAP_KIB`] KiB × passes is opened but not unlocked, so that executions stay
//! fast (the cost caps themselves are tested in core/tests/slot_limits.rs). Invariants: the
//! wrong passphrase never unlocks; an unlocked vault gives one code per time-based account,
//! in the accounts' order.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cityauth_core::{OtpKind, Vault};
use libfuzzer_sys::fuzz_target;

/// The seeds' passphrase (fuzz/seed-maker/).
const PASSPHRASE: &str = "correct horse fuzz staple 42";
/// The most Argon2id work one case may cost before unlocking is skipped.
const CHEAP_KIB: u64 = 4096;

fn dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_owned()
        } else {
            std::env::temp_dir()
        };
        tempfile::Builder::new()
            .prefix("cityauth-fuzz-vault")
            .tempdir_in(base)
            .expect("tempdir")
    })
    .path()
}

/// The Argon2id work of the file's passphrase slots, as their params blobs state it
/// (version byte, then memory KiB, passes and lanes as big-endian u32); `None` if unreadable.
fn slot_work(path: &Path) -> Option<u64> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    let mut statement = conn
        .prepare("SELECT params FROM slots WHERE kind = 'passphrase'")
        .ok()?;
    let blobs = statement
        .query_map([], |row| row.get::<_, Vec<u8>>(0))
        .ok()?
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    let mut work = 0u64;
    for blob in blobs {
        let field = |at: usize| -> u64 {
            blob.get(at..at + 4).map_or(u64::MAX, |b| {
                u64::from(u32::from_be_bytes(b.try_into().unwrap()))
            })
        };
        work = work.saturating_add(field(1).saturating_mul(field(5)));
    }
    Some(work)
}

fn case(path: &PathBuf, bytes: &[u8]) {
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
    std::fs::write(path, bytes).expect("write the case");
    let Ok(vault) = Vault::open(path) else { return };
    let _ = vault.slots();
    if slot_work(path).is_none_or(|work| work > CHEAP_KIB) {
        return;
    }
    assert!(
        vault.unlock_with_passphrase("not the passphrase").is_err(),
        "a wrong passphrase unlocked the vault"
    );
    if vault.unlock_with_passphrase(PASSPHRASE).is_err() {
        return;
    }
    let (Ok(accounts), Ok(codes)) = (vault.accounts(), vault.codes(1_700_000_000)) else {
        return;
    };
    let timed: Vec<_> = accounts
        .iter()
        .filter(|a| a.params.kind() != OtpKind::Hotp)
        .map(|a| a.id)
        .collect();
    let coded: Vec<_> = codes.iter().map(|c| c.id).collect();
    assert_eq!(coded, timed, "one code per time-based account, in order");
}

fuzz_target!(|bytes: &[u8]| {
    case(&dir().join("vault.db"), bytes);
});
