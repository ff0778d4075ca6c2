//! Issue 10, item 12: a new vault, a changed passphrase and a new passphrase slot need a
//! passphrase of the minimum strength; the refusal is typed, and loses and writes nothing.

mod common;

use cityauth_core::{Vault, VaultError, WeakPassphrase};
use common::{PASSPHRASE, cheap_kdf, new_vault};

#[test]
fn a_weak_passphrase_is_refused_for_a_new_vault_a_change_and_a_new_slot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weak.sqlite");
    assert!(matches!(
        Vault::create(&path, "short", cheap_kdf()),
        Err(VaultError::WeakPassphrase(WeakPassphrase::TooShort))
    ));
    assert!(!path.exists(), "no file is left behind");
    assert!(matches!(
        Vault::create(&path, "1234567890", cheap_kdf()),
        Err(VaultError::WeakPassphrase(WeakPassphrase::Run))
    ));
    assert!(!path.exists());

    let (path, vault) = new_vault(dir.path());
    assert_eq!(
        vault.change_passphrase("aaaaaaaaaaaaaaaa", cheap_kdf()),
        Err(VaultError::WeakPassphrase(WeakPassphrase::Repetitive))
    );
    assert_eq!(
        vault.add_passphrase_slot("qwertyuiop", cheap_kdf()),
        Err(VaultError::WeakPassphrase(WeakPassphrase::Run))
    );
    assert_eq!(vault.slots().unwrap().len(), 1, "no slot was added");
    let error = vault.change_passphrase("hunter2", cheap_kdf()).unwrap_err();
    assert!(!error.to_string().contains("hunter2"));
    assert_eq!(
        error.to_string(),
        "the passphrase must have at least 10 characters"
    );
    drop(vault);
    // The old passphrase still opens the vault: nothing was changed.
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    vault
        .change_passphrase("a strong new passphrase", cheap_kdf())
        .unwrap();
}
