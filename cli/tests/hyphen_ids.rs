//! Request ids are base64url, so about one in 64 starts with `-`: such an id is an argument,
//! never read as a flag (issue 14). Account names keep clap's rule (`--` before a name that
//! starts with `-`), so that a mistyped flag is never taken for a name.

mod common;

use common::*;

/// An id as the server makes them, that happens to start with `-`.
const ID: &str = "-Xq3vT0b_kL9mZ2rN8pW4sY6uA1cE5gI7jH0dF2oQ";

#[test]
fn approve_and_deny_take_an_id_that_starts_with_a_hyphen() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    // The id is read as the id: the vault is not enrolled, which is the error, not usage.
    for args in [
        vec!["approve", ID, "--number", "42"],
        vec!["approve", "--number", "42", ID],
        vec!["deny", ID],
        vec!["deny", "--fraud", ID],
    ] {
        let text = run(&vault, &args);
        assert!(
            !text.stderr.contains("error[usage]"),
            "{args:?} was read as a flag: {}",
            text.stderr
        );
        text.assert_error("not_enrolled", 4, "");
    }
}

#[test]
fn known_flags_stay_flags_and_an_account_that_starts_with_a_hyphen_follows_two_dashes() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    // Flags and the global error format around a hyphen id are still flags.
    let json = run(&vault, &["--error-format", "json", "approve", ID]);
    assert_eq!(json.json_error(4).0, "not_enrolled");
    // An account name is free text, so a leading `-` needs `--` (a mistyped flag must stay
    // a usage error, not become an account's name).
    run(&vault, &["remove", "--yes", "--", "-dev-box"]).assert_error("unknown_account", 4, "");
    run(&vault, &["remove", "--yse", "dev-box"]).assert_error("usage", 2, "");
}
