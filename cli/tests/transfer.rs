//! `import`, `backup`, `restore` and `export` through the real binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../transfer/tests/fixtures")
        .join(name)
}

/// A command against `vault` (the vault's passphrase set), with more environment.
fn vault_command(vault: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = command(args);
    command
        .env("CITYAUTH_VAULT", vault)
        .env("CITYAUTH_PASSPHRASE", PASSPHRASE)
        .env_remove("CITYAUTH_IMPORT_PASSWORD")
        .env_remove("CITYAUTH_BACKUP_PASSPHRASE");
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

fn listed(vault: &Path) -> Vec<Value> {
    let mut accounts = run(vault, &["list", "--json"]).assert_ok().json();
    for account in &mut accounts {
        // Ids differ between vaults; everything else must match.
        account.as_object_mut().unwrap().remove("id");
    }
    accounts
}

fn new_vault(dir: &Path, name: &str) -> PathBuf {
    let vault = dir.join(name);
    run(&vault, &["init"]).assert_ok();
    vault
}

#[test]
fn an_encrypted_aegis_export_imports_once_and_again_only_finds_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path(), "v.sqlite");
    let aegis = fixture("aegis_encrypted.json");
    let aegis = aegis.to_str().unwrap();

    let wrong = output(vault_command(
        &vault,
        &["import", aegis, "--yes"],
        &[("CITYAUTH_IMPORT_PASSWORD", "not-it")],
    ));
    wrong.assert_error("wrong_password", 3, "wrong password");
    assert!(listed(&vault).is_empty(), "nothing imported");

    let imported = output(vault_command(
        &vault,
        &["import", aegis, "--yes"],
        &[("CITYAUTH_IMPORT_PASSWORD", "test")],
    ));
    imported.assert_ok();
    assert!(
        imported.stdout.contains("Read as: aegis"),
        "{}",
        imported.stdout
    );
    assert!(imported.stdout.contains("Imported 7 account(s)."));
    assert_eq!(listed(&vault).len(), 7);

    let links = fixture("plain.txt");
    let again = run(&vault, &["import", links.to_str().unwrap(), "--yes"]);
    again.assert_ok();
    assert!(
        again.stdout.contains("Already there, skipped: 7"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("Nothing to import."));
    assert_eq!(listed(&vault).len(), 7);
}

#[test]
fn a_bad_line_is_named_and_the_rest_imported_and_a_script_must_say_yes() {
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path(), "v.sqlite");
    let file = dir.path().join("links.txt");
    std::fs::write(
        &file,
        "otpauth://totp/A:a?secret=GEZDGNBVGY3TQOJQ\n\
         otpauth://totp/B:b?secret=not*base32\n\
         otpauth://hotp/C:c?secret=GEZDGNBVGY3TQOJR&counter=5\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    run(&vault, &["import", file]).assert_error("not_a_terminal", 2, "--yes");
    assert!(listed(&vault).is_empty());

    // A rejected entry is loud.
    let imported = run(&vault, &["import", file, "--yes"]);
    imported.assert_error(
        "import_incomplete",
        1,
        "1 entry of the file could not be imported",
    );
    assert!(imported.stdout.contains("Imported 2 account(s)."));
    assert!(
        imported
            .stdout
            .contains("B:b (line 2): secret: not valid base32"),
        "{}",
        imported.stdout
    );
    let accounts = listed(&vault);
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[1]["counter"], 5);
}

#[test]
fn a_backup_restores_the_same_accounts_and_a_second_restore_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path(), "old.sqlite");
    let links = fixture("plain.txt");
    run(&vault, &["import", links.to_str().unwrap(), "--yes"]).assert_ok();
    let backup = dir.path().join("backup.json");
    let backup = backup.to_str().unwrap();
    let passphrase = [("CITYAUTH_BACKUP_PASSPHRASE", "a long backup passphrase")];
    output(vault_command(&vault, &["backup", backup], &passphrase)).assert_ok();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let contents = std::fs::read_to_string(backup).unwrap();
    assert!(
        !contents.contains("4SJHB4GSD43FZBAI7C2HLRJGPQ"),
        "the secrets are encrypted"
    );
    output(vault_command(&vault, &["backup", backup], &passphrase)).assert_error(
        "already_exists",
        2,
        "already exists",
    );

    let fresh = new_vault(dir.path(), "new.sqlite");
    output(vault_command(
        &fresh,
        &["restore", backup, "--yes"],
        &[("CITYAUTH_BACKUP_PASSPHRASE", "wrong")],
    ))
    .assert_error("wrong_password", 3, "wrong password");
    output(vault_command(
        &fresh,
        &["restore", backup, "--yes"],
        &passphrase,
    ))
    .assert_ok();
    assert_eq!(listed(&fresh), listed(&vault));
    let again = output(vault_command(
        &fresh,
        &["restore", backup, "--yes"],
        &passphrase,
    ));
    again.assert_ok();
    assert!(again.stdout.contains("Already there, skipped: 7"));
}

#[test]
fn exported_links_import_into_an_empty_vault_as_the_same_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path(), "old.sqlite");
    let links = fixture("plain.txt");
    run(&vault, &["import", links.to_str().unwrap(), "--yes"]).assert_ok();
    let exported = run(&vault, &["export", "-"]);
    exported.assert_ok();
    assert!(exported.stderr.contains("NOT encrypted"));
    assert_eq!(exported.stdout.lines().count(), 7);
    let file = dir.path().join("export.txt");
    std::fs::write(&file, &exported.stdout).unwrap();

    let google = run(&vault, &["export", "-", "--google"]);
    google.assert_error("invalid_input", 2, "Boeing (Sophia)");
    assert!(
        google.stdout.is_empty(),
        "nothing exported when an account cannot be"
    );

    let fresh = new_vault(dir.path(), "new.sqlite");
    run(&fresh, &["import", file.to_str().unwrap(), "--yes"]).assert_ok();
    assert_eq!(listed(&fresh), listed(&vault));
}
