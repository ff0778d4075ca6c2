//! Setting a file against a vault: duplicates in the vault and in the file are skipped, and
//! an account that reaches the vault between plan and commit is not added twice.

use cityauth_core::{KdfParams, Vault};
use cityauth_transfer::{Format, commit, plan, read};

const LINKS: &str = "otpauth://totp/A:a?secret=GEZDGNBVGY3TQOJQ\n\
                     otpauth://totp/B:b?secret=GEZDGNBVGY3TQOJR\n\
                     otpauth://totp/B%20again:b?secret=GEZDGNBVGY3TQOJR\n\
                     otpauth://hotp/C:c?secret=GEZDGNBVGY3TQOJS&counter=3\n";

fn fresh_vault(dir: &tempfile::TempDir) -> Vault {
    let kdf = KdfParams::new(8, 1, 1).expect("Argon2id's minimum cost");
    Vault::create(&dir.path().join("vault.sqlite"), "passphrase", kdf).expect("create vault")
}

#[test]
fn duplicates_in_the_vault_and_in_the_file_are_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let vault = fresh_vault(&dir);
    let first = read(
        b"otpauth://totp/Mine:a?secret=GEZDGNBVGY3TQOJQ\n",
        None,
        None,
    )
    .unwrap();
    let existing = commit(&vault, plan(&vault, first).unwrap()).unwrap();

    let planned = plan(&vault, read(LINKS.as_bytes(), None, None).unwrap()).unwrap();
    assert_eq!(planned.format, Format::OtpauthLinks);
    let to_add: Vec<_> = planned
        .to_add
        .iter()
        .map(|(l, a)| (l.as_str(), a.issuer()))
        .collect();
    assert_eq!(to_add, [("line 2", "B"), ("line 4", "C")]);
    let duplicates: Vec<_> = planned
        .duplicates
        .iter()
        .map(|d| (d.location.as_str(), d.existing))
        .collect();
    assert_eq!(
        duplicates,
        [("line 1", Some(existing[0])), ("line 3", None)]
    );
    assert_eq!(commit(&vault, planned).unwrap().len(), 2);
    assert_eq!(vault.accounts().unwrap().len(), 3);
}

#[test]
fn an_account_added_between_plan_and_commit_is_not_added_twice() {
    let dir = tempfile::tempdir().unwrap();
    let vault = fresh_vault(&dir);
    let planned = plan(&vault, read(LINKS.as_bytes(), None, None).unwrap()).unwrap();
    assert_eq!(planned.to_add.len(), 3);
    // Meanwhile, the same C arrives by another way (with a later counter: still the same account).
    let meanwhile = read(
        b"otpauth://hotp/C:c?secret=GEZDGNBVGY3TQOJS&counter=9\n",
        None,
        None,
    )
    .unwrap();
    commit(&vault, plan(&vault, meanwhile).unwrap()).unwrap();

    let added = commit(&vault, planned).unwrap();
    assert_eq!(added.len(), 2);
    let issuers: Vec<_> = vault
        .accounts()
        .unwrap()
        .into_iter()
        .map(|a| a.issuer)
        .collect();
    assert_eq!(issuers, ["C", "A", "B"]);
}
