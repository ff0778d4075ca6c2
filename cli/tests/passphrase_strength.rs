//! Issue 10, item 12, on the command line: `init` and `passwd` refuse a weak passphrase with
//! the rule (exit 2), create or change nothing.

mod common;

use common::*;

#[test]
fn init_and_passwd_refuse_a_weak_passphrase_with_the_rule() {
    let (_dir, vault) = vault_dir();
    with_vault(&vault, "short", &["init"]).assert_error(
        "invalid_input",
        2,
        "the passphrase must have at least 10 characters",
    );
    assert!(!vault.exists(), "no vault was created");
    run(&vault, &["init"]).assert_ok();
    let mut passwd = command(&["passwd"]);
    passwd
        .env("CITYAUTH_VAULT", &vault)
        .env("CITYAUTH_PASSPHRASE", PASSPHRASE)
        .env("CITYAUTH_NEW_PASSPHRASE", "abcdefghijkl");
    output(passwd).assert_error(
        "invalid_input",
        2,
        "must not be a run of letters, digits or keys",
    );
    run(&vault, &["list"]).assert_ok();
}
