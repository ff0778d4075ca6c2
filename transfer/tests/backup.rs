//! cityauth's encrypted backup: the documented test vector, round trips, and every way a
//! file can be wrong.

use cityauth_core::{Account, Algorithm, KdfParams, OtpParams, SecretBytes};
use cityauth_transfer::backup::{self, BackupError};
use cityauth_transfer::{Format, ImportError, detect, read};

/// The test vector's inputs, as docs/formats.md gives them.
const VECTOR_PASSPHRASE: &str = "correct horse battery staple";
const VECTOR_SALT: [u8; 16] = *b"cityauth-salt-16";
const VECTOR_NONCE: [u8; 12] = *b"nonce-12byte";

fn vector_kdf() -> KdfParams {
    KdfParams::new(64, 1, 1).unwrap()
}

fn vector_accounts() -> Vec<Account> {
    vec![
        Account::new(
            "Example",
            "alice@example.org",
            SecretBytes::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(),
            OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(),
        )
        .unwrap(),
        Account::new(
            "",
            "bob",
            SecretBytes::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
            OtpParams::hotp(Algorithm::Sha256, 8, 7).unwrap(),
        )
        .unwrap(),
        Account::new(
            "Steam",
            "carol",
            SecretBytes::from_base32("KRSXG5CTORSWC3I").unwrap(),
            OtpParams::steam(30).unwrap(),
        )
        .unwrap(),
    ]
}

fn cheap() -> KdfParams {
    KdfParams::new(8, 1, 1).unwrap()
}

fn accounts_of(entries: &[cityauth_transfer::Entry]) -> Vec<Account> {
    entries
        .iter()
        .map(|e| e.outcome.clone().expect("an account"))
        .collect()
}

/// The test vector's file, as printed in docs/formats.md (the line that starts the JSON).
fn documented_vector() -> String {
    let docs = include_str!("../../docs/formats.md");
    let section = docs
        .split("## Encrypted backup")
        .nth(1)
        .and_then(|backup| backup.split("### Test vector").nth(1))
        .expect("docs/formats.md has the Encrypted backup section and its test vector");
    let line = section
        .lines()
        .find(|line| line.starts_with("{\"format\":\"cityauth-backup\""))
        .expect("the section prints the test vector");
    format!("{line}\n")
}

#[test]
fn write_produces_the_documented_test_vector_byte_for_byte() {
    let written = backup::write_with_salt_and_nonce(
        &vector_accounts(),
        VECTOR_PASSPHRASE,
        &vector_kdf(),
        VECTOR_SALT,
        VECTOR_NONCE,
    )
    .unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), documented_vector());
}

#[test]
fn the_documented_test_vector_reads_back_to_its_accounts() {
    let vector = documented_vector();
    assert_eq!(detect(vector.as_bytes()), Some(Format::CityauthBackup));
    let parsed = read(vector.as_bytes(), None, Some(VECTOR_PASSPHRASE)).unwrap();
    assert_eq!(parsed.format, Format::CityauthBackup);
    assert_eq!(accounts_of(&parsed.entries), vector_accounts());
    let locations: Vec<&str> = parsed.entries.iter().map(|e| e.location.as_str()).collect();
    assert_eq!(locations, ["entry 1", "entry 2", "entry 3"]);
}

#[test]
fn a_backup_round_trips_and_each_is_freshly_salted() {
    let accounts = vector_accounts();
    let first = backup::write(&accounts, "pass phrase", &cheap()).unwrap();
    let second = backup::write(&accounts, "pass phrase", &cheap()).unwrap();
    assert_ne!(first, second, "salt and nonce are random");
    for file in [&first, &second] {
        let parsed = read(file, Some(Format::CityauthBackup), Some("pass phrase")).unwrap();
        assert_eq!(accounts_of(&parsed.entries), accounts);
        assert_eq!(
            parsed.entries[1]
                .outcome
                .as_ref()
                .unwrap()
                .params()
                .counter(),
            7
        );
    }
    let empty = backup::write(&[], "pass phrase", &cheap()).unwrap();
    assert!(
        read(&empty, None, Some("pass phrase"))
            .unwrap()
            .entries
            .is_empty()
    );
}

#[test]
fn the_file_holds_no_secret_or_label_in_the_clear() {
    let file = backup::write(&vector_accounts(), "pass phrase", &cheap()).unwrap();
    let text = String::from_utf8(file).unwrap();
    for clear in ["GEZDGNBV", "JBSWY3DP", "alice", "Example", "bob", "totp"] {
        assert!(!text.contains(clear), "{clear} is visible");
    }
}

#[test]
fn a_wrong_or_missing_passphrase_is_told_apart_from_damage() {
    let file = backup::write(&vector_accounts(), "right", &cheap()).unwrap();
    assert_eq!(
        read(&file, None, Some("wrong")),
        Err(ImportError::WrongPassword)
    );
    assert_eq!(read(&file, None, None), Err(ImportError::PasswordRequired));
}

fn edited(file: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(file).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

fn is_damaged(result: Result<cityauth_transfer::Parsed, ImportError>) -> bool {
    matches!(result, Err(ImportError::Damaged { .. }))
}

#[test]
fn a_tampered_or_truncated_file_is_damaged() {
    let file = backup::write(&vector_accounts(), "pw", &cheap()).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&file).unwrap();
    let ciphertext = value["ciphertext"].as_str().unwrap().to_owned();
    // One flipped base64 character in the ciphertext.
    let flipped = {
        let mut chars: Vec<char> = ciphertext.chars().collect();
        chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let nonce = "AAAAAAAAAAAAAAAA";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated file", file[..file.len() / 2].to_vec()),
        (
            "flipped ciphertext",
            edited(&file, |v| v["ciphertext"] = flipped.clone().into()),
        ),
        (
            "truncated ciphertext",
            edited(&file, |v| {
                v["ciphertext"] = ciphertext[..ciphertext.len() - 8].into()
            }),
        ),
        (
            "other nonce",
            edited(&file, |v| v["cipher"]["nonce"] = nonce.into()),
        ),
        (
            "short nonce",
            edited(&file, |v| v["cipher"]["nonce"] = "AAAA".into()),
        ),
        (
            "bad base64",
            edited(&file, |v| v["kdf"]["salt"] = "***".into()),
        ),
        (
            "missing field",
            edited(&file, |v| {
                v["kdf"]
                    .as_object_mut()
                    .unwrap()
                    .remove("check")
                    .map(drop)
                    .unwrap_or(())
            }),
        ),
        (
            "no format",
            edited(&file, |v| v["format"] = "something-else".into()),
        ),
        (
            "kdf below minimums",
            edited(&file, |v| v["kdf"]["m_kib"] = 1.into()),
        ),
    ];
    for (what, bytes) in cases {
        assert!(
            is_damaged(read(&bytes, Some(Format::CityauthBackup), Some("pw"))),
            "{what}"
        );
    }
}

#[test]
fn a_reformatted_file_still_reads() {
    // Spacing is not part of the header: only the values are bound to the ciphertext.
    let file = backup::write(&vector_accounts(), "pw", &cheap()).unwrap();
    let text = String::from_utf8(file).unwrap();
    let spaced = text
        .replacen("\"version\":1", "\"version\" : 1", 1)
        .replacen(",\"cipher\"", ",\n  \"cipher\"", 1);
    assert_ne!(spaced, text);
    let parsed = read(spaced.as_bytes(), None, Some("pw")).unwrap();
    assert_eq!(accounts_of(&parsed.entries), vector_accounts());
}

#[test]
fn unknown_versions_algorithms_and_excessive_costs_are_unsupported() {
    let file = backup::write(&vector_accounts(), "pw", &cheap()).unwrap();
    let unsupported = |bytes: Vec<u8>| {
        matches!(
            read(&bytes, Some(Format::CityauthBackup), Some("pw")),
            Err(ImportError::Unsupported { .. })
        )
    };
    assert!(unsupported(edited(&file, |v| v["version"] = 2.into())));
    assert!(unsupported(
        edited(&file, |v| v["kdf"]["alg"] = "scrypt".into())
    ));
    assert!(unsupported(
        edited(&file, |v| v["cipher"]["alg"] = "chacha20-poly1305".into())
    ));
    assert!(unsupported(
        edited(&file, |v| v["kdf"]["m_kib"] = (2u32 * 1024 * 1024).into())
    ));
    assert!(unsupported(edited(&file, |v| v["kdf"]["t"] = 11.into())));
    assert!(unsupported(edited(&file, |v| v["kdf"]["p"] = 17.into())));
    // A version-2 file need not look like version 1 at all.
    assert!(unsupported(
        br#"{"format":"cityauth-backup","version":2,"anything":[]}"#.to_vec()
    ));
}

#[test]
fn write_refuses_what_could_not_be_read_back() {
    let accounts = vector_accounts();
    assert_eq!(
        backup::write(&accounts, "", &cheap()),
        Err(BackupError::EmptyPassphrase)
    );
}

#[test]
fn a_backup_cannot_demand_more_than_the_envelope_caps() {
    // What a backup writer cannot even ask for: 1 GiB × 10 passes (item 5), 11 passes.
    let gib = KdfParams::MAX_MEMORY_KIB;
    assert_eq!(KdfParams::new(gib, 10, 1), None);
    assert_eq!(KdfParams::new(8, 11, 1), None);
    // And a file that asks is refused before the KDF runs (it would take many seconds).
    let file = backup::write(&vector_accounts(), "pw", &cheap()).unwrap();
    for (m, t) in [(gib, 10), (gib, 3), (256 * 1024, 9)] {
        let costly = edited(&file, |v| {
            v["kdf"]["m_kib"] = m.into();
            v["kdf"]["t"] = t.into();
        });
        assert!(
            matches!(
                read(&costly, Some(Format::CityauthBackup), Some("pw")),
                Err(ImportError::Unsupported { .. })
            ),
            "{m} KiB × {t}"
        );
    }
}

#[test]
fn only_backups_are_detected_as_backups() {
    let file = backup::write(&vector_accounts(), "pw", &cheap()).unwrap();
    assert!(backup::looks_like(&file));
    assert!(!backup::looks_like(b"otpauth://totp/a?secret=JBSWY3DP"));
    assert!(!backup::looks_like(br#"{"version":1,"header":{},"db":{}}"#));
}

#[test]
fn a_backup_of_more_accounts_than_an_import_reads_back_is_not_written() {
    let params = OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap();
    let accounts: Vec<Account> = (0..=cityauth_transfer::formats::limits::MAX_ENTRIES)
        .map(|n| {
            Account::new(
                "Issuer",
                &format!("user{n}"),
                SecretBytes::new(vec![7; 10]),
                params,
            )
            .unwrap()
        })
        .collect();
    assert_eq!(
        backup::write(&accounts, "backup passphrase", &cheap()),
        Err(BackupError::TooLarge)
    );
    let fit = &accounts[1..];
    let file = backup::write(fit, "backup passphrase", &cheap()).unwrap();
    let parsed = read(
        &file,
        Some(Format::CityauthBackup),
        Some("backup passphrase"),
    )
    .unwrap();
    assert_eq!(parsed.entries.len(), fit.len());
}
