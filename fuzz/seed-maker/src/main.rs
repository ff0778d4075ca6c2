//! Writes the seeds that must be made by the code itself: a vault with cheap KDF settings
//! holding two accounts (fuzz/seeds/vault/), and a cityauth backup with a cheap KDF
//! (fuzz/seeds/import/). Run from the repository root:
//! `cargo run --manifest-path fuzz/seed-maker/Cargo.toml` (stable; its own workspace).

use std::path::Path;

use cityauth_core::{KdfParams, Vault, otpauth};
use cityauth_transfer::backup;

/// The vault target's passphrase (fuzz_targets/vault.rs).
const PASSPHRASE: &str = "correct horse fuzz staple 42";
/// The import target's password (fuzz_targets/import.rs).
const PASSWORD: &str = "fuzz password";

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds");
    let accounts = [
        "otpauth://totp/Example:alice@example.org?secret=JBSWY3DPEHPK3PXP&issuer=Example",
        "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&counter=7&digits=8&algorithm=SHA256",
    ]
    .map(|link| otpauth::parse(link).expect("seed link"));
    let cheap = KdfParams::new(8, 1, 1).expect("cheap KDF");

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vault.db");
    let vault = Vault::create(&path, PASSPHRASE, cheap).expect("create");
    vault.add_all(accounts.to_vec()).expect("add");
    drop(vault);
    // One file: checkpoint the write-ahead log into it.
    let conn = rusqlite::Connection::open(&path).expect("reopen");
    conn.pragma_update(None, "journal_mode", "DELETE")
        .expect("checkpoint");
    drop(conn);
    std::fs::create_dir_all(root.join("vault")).expect("mkdir");
    std::fs::copy(&path, root.join("vault/two-accounts.db")).expect("copy");

    let file = backup::write(&accounts, PASSWORD, &cheap).expect("backup");
    std::fs::create_dir_all(root.join("import")).expect("mkdir");
    std::fs::write(root.join("import/cheap.cityauth-backup"), file).expect("write");
}
