//! Issue 13 on the command line: every error carries its stable code (docs/error-codes.md,
//! "The CLI") on stderr, as `error[<code>]: <message>` or as one JSON object per line, and
//! the exit status tells its class.

mod common;

use std::net::TcpListener;

use common::*;

#[test]
fn a_wrong_passphrase_is_wrong_passphrase_exit_3_in_both_forms() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let text = with_vault(&vault, "not the passphrase at all", &["list"]);
    text.assert_error("wrong_passphrase", 3, "wrong passphrase");
    assert!(text.stdout.is_empty());
    assert!(
        !text.stderr.contains("not the passphrase"),
        "{}",
        text.stderr
    );

    // --json asks for JSON errors too.
    let json = with_vault(&vault, "not the passphrase at all", &["codes", "--json"]);
    assert_eq!(
        json.json_error(3),
        ("wrong_passphrase".to_owned(), "wrong passphrase".to_owned())
    );
    assert!(json.stdout.is_empty());
}

#[test]
fn a_malformed_otpauth_link_is_invalid_link_exit_2_and_never_quoted() {
    let (_dir, vault) = vault_dir();
    let link = "otpauth://totp/Acme:bob?secret=JBSWY3DPEHPK3PXP&digits=9";
    let text = run(&vault, &["add", link]);
    text.assert_error("invalid_link", 2, "digits");
    assert!(!text.stderr.contains("JBSWY3DPEHPK3PXP"), "{}", text.stderr);

    let json = run(&vault, &["add", link, "--error-format", "json"]);
    let (code, message) = json.json_error(2);
    assert_eq!(code, "invalid_link");
    assert!(message.contains("digits"), "{message}");
    assert!(!json.stderr.contains("JBSWY3DPEHPK3PXP"), "{}", json.stderr);
}

#[test]
fn an_unknown_account_is_unknown_account_exit_4_and_ambiguity_is_usage() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let links = ["GitHub:alice", "GitLab:alice"]
        .map(|label| format!("otpauth://totp/{label}?secret={RFC_SECRET}"));
    run(&vault, &["add", &links[0], &links[1]]).assert_ok();
    run(&vault, &["code", "nobody"]).assert_error(
        "unknown_account",
        4,
        "no account matches 'nobody'",
    );
    // The variable chooses the JSON form for a command without --json.
    let mut json = command(&["code", "git"]);
    json.env("CITYAUTH_VAULT", &vault)
        .env("CITYAUTH_PASSPHRASE", PASSPHRASE)
        .env("CITYAUTH_ERROR_FORMAT", "json");
    let (code, message) = output(json).json_error(2);
    assert_eq!(code, "ambiguous_account");
    assert!(message.contains("GitHub (alice)"), "{message}");
}

#[test]
fn an_unreachable_server_is_network_exit_5_and_the_link_code_is_not_shown() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    // A loopback port nobody listens on any more.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let code = "A".repeat(22);
    let fingerprint = "A".repeat(43);
    let link = format!(
        "cityauth://enroll?v=1&server=http://127.0.0.1:{port}&code={code}&fp={fingerprint}"
    );
    let text = run(&vault, &["enroll", &link]);
    text.assert_error("network", 5, "network error");
    assert!(!text.stderr.contains(&code), "{}", text.stderr);

    let json = run(&vault, &["enroll", &link, "--error-format=json"]);
    let (error, _) = json.json_error(5);
    assert_eq!(error, "network");
    assert!(!json.stderr.contains(&code), "{}", json.stderr);
}

#[test]
fn a_command_line_clap_refuses_is_usage_exit_2_in_the_form_it_asks_for() {
    bare(&["frobnicate"]).assert_error("usage", 2, "unrecognized subcommand 'frobnicate'");
    let (code, message) = bare(&["list", "--json", "--foo"]).json_error(2);
    assert_eq!(code, "usage");
    assert!(message.contains("'--foo'"), "{message}");
    // A link put where it does not belong is redacted in the JSON form too.
    let json = bare(&[
        "--error-format",
        "json",
        "list",
        "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP",
    ]);
    let (code, message) = json.json_error(2);
    assert_eq!(code, "usage");
    assert!(message.contains("<redacted>"), "{message}");
    assert!(!json.stderr.contains("JBSWY3DPEHPK3PXP"), "{}", json.stderr);
    // A missing vault, as JSON: not_found, exit 4.
    let (_dir, vault) = vault_dir();
    let (code, _) = run(&vault, &["list", "--json"]).json_error(4);
    assert_eq!(code, "not_found");
}

#[test]
fn help_points_to_the_error_codes() {
    let help = bare(&["--help"]);
    assert!(
        help.assert_ok().stdout.contains("docs/error-codes.md"),
        "{}",
        help.stdout
    );
    assert!(help.stdout.contains("--error-format"), "{}", help.stdout);
}
