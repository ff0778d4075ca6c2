//! oathtool parity: `--window`, `validate`, `--hex` and RFC 3339 `--time`, checked against
//! the RFC 4226 / RFC 6238 vectors and against the real `oathtool` binary (Debian's
//! `oathtool` package; the test fails without it rather than passing untested).

mod common;

use std::process::Command;

use common::*;

/// "12345678901234567890" and the RFC 6238 SHA-256 / SHA-512 seeds, in hex.
const HEX_20: &str = "3132333435363738393031323334353637383930";
const HEX_32: &str = "3132333435363738393031323334353637383930313233343536373839303132";
const HEX_64: &str = "31323334353637383930313233343536373839303132333435363738393031323334353637383930313233343536373839303132333435363738393031323334";

/// oathtool's stdout lines and exit status.
fn oathtool(args: &[&str]) -> (Vec<String>, i32) {
    let out = Command::new("oathtool")
        .args(args)
        .output()
        .expect("run oathtool (apt-get install oathtool)");
    let lines = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect();
    (lines, out.status.code().expect("exit status"))
}

fn lines(run: &Run) -> Vec<String> {
    run.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn totp_windows_at_rfc3339_times_match_the_rfc_and_oathtool() {
    // RFC 6238 Appendix B: Unix time, RFC 3339 time, SHA-1, SHA-256, SHA-512 (8 digits).
    let vectors = [
        (
            59u64,
            "1970-01-01T00:00:59Z",
            ["94287082", "46119246", "90693936"],
        ),
        (
            1_111_111_109,
            "2005-03-18T01:58:29Z",
            ["07081804", "68084774", "25091201"],
        ),
        (
            1_111_111_111,
            "2005-03-18T02:58:31+01:00",
            ["14050471", "67062674", "99943326"],
        ),
        (
            1_234_567_890,
            "2009-02-13T23:31:30Z",
            ["89005924", "91819424", "93441116"],
        ),
        (
            2_000_000_000,
            "2033-05-18T03:33:20Z",
            ["69279037", "90698825", "38618901"],
        ),
        (
            20_000_000_000,
            "2603-10-11T11:33:20Z",
            ["65353130", "77737706", "47863826"],
        ),
    ];
    let seeds = [("SHA1", HEX_20), ("SHA256", HEX_32), ("SHA512", HEX_64)];
    for (unix, rfc3339, expected) in vectors {
        for ((algorithm, hex), rfc_code) in seeds.iter().zip(expected) {
            let ours = bare(&[
                "code",
                "--hex",
                hex,
                "--algorithm",
                algorithm,
                "--digits",
                "8",
                "--time",
                rfc3339,
                "--window",
                "2",
            ]);
            ours.assert_ok();
            let ours = lines(&ours);
            assert_eq!(ours[0], rfc_code, "{algorithm} at {rfc3339}");
            let now = format!("@{unix}");
            let totp = format!("--totp={algorithm}");
            let (theirs, status) = oathtool(&[&totp, "-d", "8", "-w", "2", "-N", &now, hex]);
            assert_eq!(status, 0);
            assert_eq!(ours, theirs, "{algorithm} at {rfc3339}: ours vs oathtool");
            assert_eq!(ours.len(), 3);
        }
    }
    // The base32 form and Unix seconds give the same codes as the hex form.
    let base32 = bare(&[
        "code",
        "--secret",
        RFC_SECRET,
        "--time",
        "1234567890",
        "--window",
        "2",
    ]);
    let (theirs, _) = oathtool(&["--totp", "-w", "2", "-N", "@1234567890", HEX_20]);
    assert_eq!(lines(base32.assert_ok()), theirs);
}

#[test]
fn hotp_windows_match_rfc_4226_and_oathtool() {
    // RFC 4226 Appendix D, counters 0..9.
    let rfc = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    let ours = bare(&["code", "--hex", HEX_20, "--type", "hotp", "--window", "9"]);
    assert_eq!(lines(ours.assert_ok()), rfc);
    let (theirs, _) = oathtool(&["-w", "9", HEX_20]);
    assert_eq!(theirs, rfc);
    let from_3 = bare(&[
        "code",
        "--hex",
        HEX_20,
        "--type",
        "hotp",
        "--counter",
        "3",
        "--window",
        "2",
    ]);
    let (theirs, _) = oathtool(&["-c", "3", "-w", "2", HEX_20]);
    assert_eq!(lines(from_3.assert_ok()), theirs);
    assert_eq!(theirs, rfc[3..6]);
}

#[test]
fn validation_accepts_and_refuses_what_oathtool_does() {
    // At step 4 (time 120..149), the codes of steps 0..8 against a window of 2.
    let codes: Vec<String> = oathtool(&["--totp", "-w", "8", "-N", "@0", HEX_20]).0;
    assert_eq!(codes.len(), 9);
    for (step, code) in codes.iter().enumerate() {
        let ours = bare(&[
            "validate",
            code,
            "--hex",
            HEX_20,
            "--window",
            "2",
            "--time",
            "1970-01-01T00:02:10Z",
        ]);
        let (theirs, status) = oathtool(&["--totp", "-w", "2", "-N", "@130", HEX_20, code]);
        let offset = step as i64 - 4;
        if offset.abs() <= 2 {
            ours.assert_ok();
            assert_eq!(status, 0, "oathtool accepts step {step}");
            let shown = if offset > 0 {
                format!("+{offset}")
            } else {
                offset.to_string()
            };
            assert_eq!(ours.stdout.trim(), shown, "step {step}");
            // oathtool prints the distance without its sign.
            assert_eq!(theirs, [offset.abs().to_string()]);
        } else {
            ours.assert_error("code_mismatch", 1, "within 2 time step(s)");
            assert!(ours.stdout.is_empty());
            assert_ne!(status, 0, "oathtool refuses step {step}");
        }
    }
    // HOTP: counters 3..=5 from counter 3, as oathtool -c 3 -w 2.
    let rfc = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922",
    ];
    for (counter, code) in rfc.iter().enumerate() {
        let ours = bare(&[
            "validate",
            code,
            "--hex",
            HEX_20,
            "--type",
            "hotp",
            "--counter",
            "3",
            "--window",
            "2",
        ]);
        let (theirs, status) = oathtool(&["-c", "3", "-w", "2", HEX_20, code]);
        if (3..=5).contains(&counter) {
            assert_eq!(ours.assert_ok().stdout.trim(), (counter - 3).to_string());
            assert_eq!(theirs, [(counter - 3).to_string()]);
        } else {
            ours.assert_error("code_mismatch", 1, "the next 3 counter(s)");
            assert_ne!(status, 0);
        }
    }
}

#[test]
fn vault_accounts_validate_without_moving_the_hotp_counter() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    run(
        &vault,
        &[
            "add", "--issuer", "Hex", "--name", "t", "--hex", HEX_20, "--digits", "8",
        ],
    )
    .assert_ok();
    run(
        &vault,
        &[
            "add", "--issuer", "Bank", "--name", "h", "--hex", HEX_20, "--type", "hotp",
        ],
    )
    .assert_ok();

    // The hex secret was stored as the same bytes: the RFC 6238 code at 59 s.
    let at = run(
        &vault,
        &[
            "code",
            "Hex",
            "--time",
            "1970-01-01T00:00:59Z",
            "--window",
            "1",
        ],
    );
    let (theirs, _) = oathtool(&["--totp", "-d", "8", "-w", "1", "-N", "@59", HEX_20]);
    assert_eq!(lines(at.assert_ok()), theirs);
    assert_eq!(theirs[0], "94287082");

    let ok = run(&vault, &["validate", "Hex", "94287082", "--time", "89"]);
    assert_eq!(ok.assert_ok().stdout, "-1\n");
    run(
        &vault,
        &[
            "validate", "Hex", "94287082", "--time", "89", "--window", "0",
        ],
    )
    .assert_error("code_mismatch", 1, "within 0 time step(s)");
    run(&vault, &["validate", "Hex", "9428708", "--time", "59"]).assert_error(
        "invalid_input",
        2,
        "must be 8 digits",
    );

    // HOTP: a look-ahead and checks, then the counter is still 0 and `code` draws 755224.
    let ahead = run(&vault, &["code", "Bank", "--window", "2"]);
    assert_eq!(lines(ahead.assert_ok()), ["755224", "287082", "359152"]);
    assert_eq!(
        run(&vault, &["validate", "Bank", "287082"])
            .assert_ok()
            .stdout,
        "1\n"
    );
    run(&vault, &["validate", "Bank", "969429"]).assert_error("code_mismatch", 1, "counter");
    let listed = run(&vault, &["list", "--json"]).assert_ok().json();
    assert_eq!(field(find(&listed, "Bank"), "counter"), 0);
    assert_eq!(
        run(&vault, &["code", "Bank"]).assert_ok().stdout,
        "755224\n"
    );
}

#[test]
fn bad_hex_and_bad_times_are_clear_errors_that_quote_no_secret() {
    for bad in ["31323", "3132zz34", ""] {
        let out = bare(&["code", "--hex", bad]);
        out.assert_error("invalid_input", 2, "--hex");
        assert!(
            bad.is_empty() || !out.stderr.contains(bad),
            "{}",
            out.stderr
        );
    }
    bare(&["code", "--hex", HEX_20, "--time", "2009-02-13T23:31:30"])
        .assert_error("usage", 2, "RFC 3339");
    bare(&["code", "--hex", HEX_20, "--type", "hotp", "--time", "5"]).assert_error(
        "usage",
        2,
        "--time is only for TOTP",
    );
    bare(&["code", "--hex", HEX_20, "--secret", RFC_SECRET]).assert_error("usage", 2, "--secret");
    bare(&["code", "--hex", HEX_20, "--window", "1001"]).assert_error("usage", 2, "1001");
    bare(&[
        "validate", "123456", "--hex", HEX_20, "--window", "99999999",
    ])
    .assert_error("usage", 2, "99999999");
    bare(&["validate", "123456", "--hex", HEX_20, "extra"]).assert_error(
        "usage",
        2,
        "only the code",
    );
}
