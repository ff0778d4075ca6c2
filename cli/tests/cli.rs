//! The real `cityauth` binary against vaults in temporary directories.
//!
//! Every unlock costs an Argon2id run with the default parameters (~0.2 s), so each test
//! keeps its number of vault invocations small.

mod common;

use cityauth_core::{Algorithm, OtpParams, SecretBytes, otp};
use common::*;
use serde_json::Value;

#[test]
fn accounts_are_added_listed_coded_renamed_moved_and_removed() {
    let (_dir, vault) = vault_dir();
    assert!(
        run(&vault, &["init"])
            .assert_ok()
            .stdout
            .contains("Created")
    );
    let example = format!("otpauth://totp/Example:alice?secret={RFC_SECRET}&period=3600");
    let bank = format!("otpauth://hotp/Bank:me?secret={RFC_SECRET}&counter=0");
    let steam = "otpauth://steam/Steam:gamer?secret=JBSWY3DPEHPK3PXP";
    run(&vault, &["add", &example, &bank, steam]).assert_ok();
    let work = [
        "add",
        "--issuer",
        "Work",
        "--name",
        "bob",
        "--secret",
        "JBSWY3DPEHPK3PXP",
        "--algorithm",
        "SHA256",
        "--digits",
        "8",
        "--period",
        "60",
    ];
    run(&vault, &work).assert_ok();

    let listed = run(&vault, &["list", "--json"]).assert_ok().json();
    assert_eq!(listed.len(), 4);
    let expected = [
        (
            "Example",
            "alice",
            "totp",
            "SHA1",
            6,
            Value::from(3600),
            Value::Null,
        ),
        ("Bank", "me", "hotp", "SHA1", 6, Value::Null, Value::from(0)),
        (
            "Steam",
            "gamer",
            "steam",
            "SHA1",
            5,
            Value::from(30),
            Value::Null,
        ),
        (
            "Work",
            "bob",
            "totp",
            "SHA256",
            8,
            Value::from(60),
            Value::Null,
        ),
    ];
    for (item, (issuer, name, kind, algorithm, digits, period, counter)) in
        listed.iter().zip(expected)
    {
        assert!(field(item, "id").is_i64(), "{item}");
        assert_eq!(field(item, "issuer"), issuer);
        assert_eq!(field(item, "name"), name);
        assert_eq!(field(item, "type"), kind);
        assert_eq!(field(item, "algorithm"), algorithm);
        assert_eq!(field(item, "digits"), digits);
        assert_eq!(field(item, "period"), &period);
        assert_eq!(field(item, "counter"), &counter);
    }

    // A one-hour period keeps the code stable across the call, except exactly at an hour
    // boundary: then either side's code is right.
    let secret = SecretBytes::from_base32(RFC_SECRET).unwrap();
    let params = OtpParams::totp(Algorithm::Sha1, 6, 3600).unwrap();
    let before = now();
    let codes = run(&vault, &["codes", "--json"]).assert_ok().json();
    let after = now();
    let issuers: Vec<&str> = codes.iter().filter_map(|c| c["issuer"].as_str()).collect();
    assert_eq!(issuers, ["Example", "Steam", "Work"], "HOTP is not listed");
    let shown = find(&codes, "Example");
    let acceptable: Vec<String> = [before, after]
        .iter()
        .map(|t| otp::code_at_time(&secret, &params, *t).code.to_string())
        .collect();
    assert!(
        acceptable.contains(&shown["code"].as_str().unwrap().to_owned()),
        "{shown}"
    );
    let remaining = field(shown, "remaining").as_u64().unwrap();
    assert!((1..=3600).contains(&remaining), "{shown}");
    assert_eq!(find(&codes, "Steam")["code"].as_str().unwrap().len(), 5);

    // The HOTP counter advances and persists from one process to the next (RFC 4226).
    assert_eq!(
        run(&vault, &["code", "bank"]).assert_ok().stdout,
        "755224\n"
    );
    assert_eq!(
        run(&vault, &["code", "Bank:me"]).assert_ok().stdout,
        "287082\n"
    );
    // stdout holds the bare code; the time left goes to stderr.
    let totp = run(&vault, &["code", "exam"]);
    assert!(acceptable.contains(&totp.assert_ok().stdout.trim().to_owned()));
    assert_eq!(totp.stdout.lines().count(), 1);
    let ambiguous = run(&vault, &["code", "b"]);
    ambiguous.assert_error("ambiguous_account", 2, "'b' matches 2 accounts");
    assert!(ambiguous.stderr.contains("Bank (me)") && ambiguous.stderr.contains("Work (bob)"));

    run(&vault, &["rename", "bank", "--name", "you"]).assert_ok();
    run(&vault, &["move", "Work:bob", "1"]).assert_ok();
    run(&vault, &["remove", "steam"]).assert_error("not_a_terminal", 2, "--yes");
    run(&vault, &["remove", "steam", "--yes"]).assert_ok();
    let listed = run(&vault, &["list", "--json"]).assert_ok().json();
    let labels: Vec<(&str, &str)> = listed
        .iter()
        .map(|a| (a["issuer"].as_str().unwrap(), a["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        labels,
        [("Work", "bob"), ("Example", "alice"), ("Bank", "you")]
    );
    assert_eq!(find(&listed, "Bank")["counter"], 2);
}

#[test]
fn passwd_replaces_the_passphrase() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let mut passwd = command(&["passwd"]);
    passwd
        .env("CITYAUTH_VAULT", &vault)
        .env("CITYAUTH_PASSPHRASE", PASSPHRASE)
        .env("CITYAUTH_NEW_PASSPHRASE", "a brand new passphrase");
    output(passwd).assert_ok();
    let refused = run(&vault, &["list"]);
    refused.assert_error("wrong_passphrase", 3, "wrong passphrase");
    assert!(refused.stdout.is_empty());
    let listed = with_vault(&vault, "a brand new passphrase", &["list", "--json"]);
    assert!(listed.assert_ok().json().is_empty());
}

#[test]
fn bad_input_exits_2_with_one_clear_line() {
    bare(&["frobnicate"]).assert_error("usage", 2, "unrecognized subcommand 'frobnicate'");
    bare(&["list", "--foo"]).assert_error("usage", 2, "unexpected argument '--foo'");
    bare(&[]).assert_error("usage", 2, "cityauth --help");
    bare(&["code", "--secret", RFC_SECRET, "--digits", "9"]).assert_error(
        "invalid_input",
        2,
        "digits",
    );
    bare(&["code", "--secret", RFC_SECRET, "--counter", "3"]).assert_error("usage", 2, "--counter");
    bare(&["code", "--secret", RFC_SECRET, "--algorithm", "MD5"])
        .assert_error("usage", 2, "SHA256");
    bare(&["move", "x", "0"]).assert_error("usage", 2, "0");

    let (_dir, vault) = vault_dir();
    run(&vault, &["list"]).assert_error("not_found", 4, "no vault at");
    // Invalid links are refused before the vault is even opened; the field is named and
    // the secret never shown.
    let bad_digits = "otpauth://totp/Acme:bob?secret=JBSWY3DPEHPK3PXP&digits=9";
    let refused = run(&vault, &["add", bad_digits]);
    refused.assert_error("invalid_link", 2, "digits");
    assert!(
        !refused.stderr.contains("JBSWY3DPEHPK3PXP"),
        "{}",
        refused.stderr
    );
    let refused = run(&vault, &["add", "otpauth://totp/a?secret=SECRETSECRET1"]);
    refused.assert_error("invalid_link", 2, "secret: not valid base32");
    assert!(
        !refused.stderr.contains("SECRETSECRET1"),
        "{}",
        refused.stderr
    );
    let refused = bare(&["code", "--secret", "SECRETSECRET1"]);
    refused.assert_error("invalid_input", 2, "--secret");
    assert!(
        !refused.stderr.contains("SECRETSECRET1"),
        "{}",
        refused.stderr
    );
    // A link given to the wrong command is quoted by clap; the CLI redacts it.
    let refused = bare(&["list", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"]);
    refused.assert_error("usage", 2, "<redacted>");
    assert!(
        !refused.stderr.contains("JBSWY3DPEHPK3PXP"),
        "{}",
        refused.stderr
    );

    run(&vault, &["init"]).assert_ok();
    run(&vault, &["init"]).assert_error("already_exists", 2, "already exists");
    run(&vault, &["code", "nobody"]).assert_error(
        "unknown_account",
        4,
        "no account matches 'nobody'",
    );

    let help = bare(&["--help"]);
    assert!(help.assert_ok().stdout.contains("Usage: cityauth"));
    assert!(
        bare(&["--version"])
            .assert_ok()
            .stdout
            .starts_with("cityauth ")
    );
}

#[test]
fn stateless_codes_match_the_rfc_vectors() {
    // RFC 6238 Appendix B: time, then the SHA-1, SHA-256 and SHA-512 codes.
    let totp = [
        ("59", ["94287082", "46119246", "90693936"]),
        ("1111111109", ["07081804", "68084774", "25091201"]),
        ("1111111111", ["14050471", "67062674", "99943326"]),
        ("1234567890", ["89005924", "91819424", "93441116"]),
        ("2000000000", ["69279037", "90698825", "38618901"]),
        ("20000000000", ["65353130", "77737706", "47863826"]),
    ];
    let seeds = [
        ("SHA1", RFC_SECRET),
        ("sha256", RFC_SECRET_256),
        ("SHA-512", RFC_SECRET_512),
    ];
    for (time, codes) in totp {
        for ((algorithm, secret), code) in seeds.iter().zip(codes) {
            let args = [
                "code",
                "--secret",
                secret,
                "--algorithm",
                algorithm,
                "--digits",
                "8",
                "--time",
                time,
            ];
            assert_eq!(
                bare(&args).assert_ok().stdout,
                format!("{code}\n"),
                "{args:?}"
            );
        }
    }
    // RFC 4226 Appendix D.
    let hotp = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    for (counter, code) in hotp.iter().enumerate() {
        let counter = counter.to_string();
        let args = [
            "code",
            "--type",
            "hotp",
            "--counter",
            &counter,
            "--secret",
            RFC_SECRET,
        ];
        assert_eq!(
            bare(&args).assert_ok().stdout,
            format!("{code}\n"),
            "{args:?}"
        );
    }
    // Defaults: TOTP, SHA-1, six digits, 30 s.
    let short = bare(&["code", "--secret", RFC_SECRET, "--time", "59"]);
    assert_eq!(short.assert_ok().stdout, "287082\n");
    // `-` reads the secret from stdin, keeping it out of the process list.
    let piped = with_stdin(
        command(&["code", "--secret", "-", "--time", "59"]),
        RFC_SECRET,
    );
    assert_eq!(piped.assert_ok().stdout, "287082\n");
    let steam = bare(&[
        "code", "--type", "steam", "--secret", RFC_SECRET, "--time", "59",
    ]);
    assert_eq!(steam.assert_ok().stdout.trim().len(), 5);
}

#[test]
fn demo_walks_through_the_vault_and_the_city_story() {
    let demo = bare(&["demo"]);
    demo.assert_ok();
    for step in [
        "1. Create a vault",
        "94287082",
        "46119246",
        "counter 0: 755224",
        "counter 1: 287082",
        "reopen it from the file",
        "359152",
        "refused: WrongPassphrase",
        "enrolled as device",
        "the server's key matched",
        "typed ",
        "and approved: approved",
        "The reset is verified",
        "The old password no longer signs in (HTTP 401)",
        "Signed in: the portal greets Alice Example (alice)",
        "Done",
    ] {
        assert!(
            demo.stdout.contains(step),
            "{step:?} not in:\n{}",
            demo.stdout
        );
    }
}

#[test]
fn a_tampered_account_is_named_and_the_others_still_shown() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let links = ["Alpha:ann", "Beta:bob", "Gamma:gil"]
        .map(|label| format!("otpauth://totp/{label}?secret={RFC_SECRET}"));
    run(&vault, &["add", &links[0], &links[1], &links[2]]).assert_ok();
    let ids: Vec<i64> = run(&vault, &["list", "--json"])
        .assert_ok()
        .json()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();

    // Flip one byte in the middle of Beta's sealed record.
    {
        let conn = rusqlite::Connection::open(&vault).unwrap();
        let mut sealed: Vec<u8> = conn
            .query_row(
                "SELECT sealed FROM accounts WHERE id = ?1",
                [ids[1]],
                |row| row.get(0),
            )
            .unwrap();
        let middle = sealed.len() / 2;
        sealed[middle] ^= 0x01;
        conn.execute(
            "UPDATE accounts SET sealed = ?2 WHERE id = ?1",
            rusqlite::params![ids[1], sealed],
        )
        .unwrap();
    }

    // With --json, the problem is a JSON error on stderr; exit 9, the damaged class.
    let codes = run(&vault, &["codes", "--json"]);
    let (code, message) = codes.json_error(9);
    assert_eq!(code, "integrity");
    assert!(message.contains("Beta (bob)"), "{message}");
    assert!(message.contains("integrity"), "{message}");
    let items = codes.json();
    let shown: Vec<&str> = items.iter().filter_map(|c| c["issuer"].as_str()).collect();
    assert_eq!(shown, ["Alpha", "Gamma"]);

    // Naming the damaged account reports it too, and it can still be removed.
    run(&vault, &["code", "beta"]).assert_error("integrity", 9, "Beta (bob)");
    run(&vault, &["remove", "beta", "--yes"]).assert_ok();
    assert_eq!(run(&vault, &["list", "--json"]).assert_ok().json().len(), 2);
}

#[test]
fn repair_rebuilds_a_rolled_back_index() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let bank = format!("otpauth://hotp/Bank:me?secret={RFC_SECRET}&counter=0");
    run(&vault, &["add", &bank]).assert_ok();
    let conn = rusqlite::Connection::open(&vault).unwrap();
    let old: (Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT sealed_index, (SELECT sealed FROM accounts WHERE id = 1) FROM vault",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    run(&vault, &["code", "Bank"]).assert_ok();
    conn.execute("UPDATE vault SET sealed_index = ?1", [&old.0])
        .unwrap();
    conn.execute("UPDATE accounts SET sealed = ?1 WHERE id = 1", [&old.1])
        .unwrap();
    drop(conn);

    run(&vault, &["list"]).assert_error("integrity", 9, "index");
    run(&vault, &["repair"]).assert_error("not_a_terminal", 2, "--yes");
    assert!(
        run(&vault, &["repair", "--yes"])
            .assert_ok()
            .stdout
            .contains("Index rebuilt")
    );
    let listed = run(&vault, &["list", "--json"]).assert_ok().json();
    assert_eq!(listed.len(), 1);
    assert!(
        run(&vault, &["repair", "--yes"])
            .assert_ok()
            .stdout
            .contains("nothing to repair")
    );
}
