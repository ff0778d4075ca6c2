//! Every real export in `tests/fixtures/` (see its README.md) imports to the accounts of
//! `plain.txt`, in the README's number; wrong, missing and damaged passwords and files fail
//! the way the docs say.

use std::path::PathBuf;

use cityauth_core::{Account, SecretBytes};
use cityauth_transfer::{Entry, Format, ImportError, Parsed, detect, read};
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The seven reference accounts.
fn reference() -> Vec<Account> {
    let parsed = read(&fixture("plain.txt"), Some(Format::OtpauthLinks), None).unwrap();
    let accounts: Vec<Account> = parsed.accounts().cloned().collect();
    assert_eq!(accounts.len(), 7, "plain.txt holds seven accounts");
    accounts
}

/// An account that an app could not express as `plain.txt` has it: the file holds what the
/// app wrote, so the import gives these labels instead. Everything else must still be equal.
struct Differs {
    /// The reference account's secret, in base32.
    secret: &'static str,
    issuer: &'static str,
    name: &'static str,
    why: &'static str,
}

/// Reads `name` (detecting the format, which must be `format`) and checks it holds `count`
/// accounts, each equal to its `plain.txt` counterpart except for the labels in `differs`.
fn check(
    name: &str,
    format: Format,
    password: Option<&str>,
    count: usize,
    differs: &[Differs],
) -> Parsed {
    let bytes = fixture(name);
    assert_eq!(detect(&bytes), Some(format), "{name}: detected format");
    let parsed = read(&bytes, None, password).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(parsed.format, format);
    let rejected: Vec<&Entry> = parsed
        .entries
        .iter()
        .filter(|e| e.outcome.is_err())
        .collect();
    assert!(rejected.is_empty(), "{name}: rejected {rejected:?}");
    let accounts: Vec<&Account> = parsed.accounts().collect();
    assert_eq!(accounts.len(), count, "{name}: number of accounts");
    let reference = reference();
    for account in accounts {
        let expected = reference
            .iter()
            .find(|r| r.secret() == account.secret())
            .unwrap_or_else(|| panic!("{name}: {} has no counterpart", account.display_label()));
        let differ = differs
            .iter()
            .find(|d| SecretBytes::from_base32(d.secret).unwrap() == *account.secret());
        let expected = match differ {
            Some(d) => {
                assert_ne!(
                    (expected.issuer(), expected.name()),
                    (d.issuer, d.name),
                    "{name}: {} is listed as differing but does not ({})",
                    expected.display_label(),
                    d.why
                );
                expected.renamed(d.issuer, d.name).unwrap()
            }
            None => expected.clone(),
        };
        assert_eq!(account, &expected, "{name}: {}", expected.display_label());
    }
    parsed
}

#[test]
fn every_fixture_is_detected_without_a_hint() {
    let expected = [
        ("plain.txt", Format::OtpauthLinks),
        ("ente_auth.txt", Format::OtpauthLinks),
        ("aegis_plain.json", Format::Aegis),
        ("aegis_encrypted.json", Format::Aegis),
        ("2fas_authenticator_plain_v4.2fas", Format::TwoFas),
        ("2fas_authenticator_encrypted_v4.2fas", Format::TwoFas),
        ("andotp_plain.json", Format::AndOtp),
        ("andotp_encrypted.bin", Format::AndOtp),
        ("bitwarden.json", Format::BitwardenJson),
        ("bitwarden.csv", Format::BitwardenCsv),
        ("freeotp_plus.json", Format::FreeOtpPlus),
        ("proton_authenticator.json", Format::Proton),
    ];
    for (name, format) in expected {
        assert_eq!(detect(&fixture(name)), Some(format), "{name}");
        // With a byte order mark too, as Windows editors save text.
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend(fixture(name));
        if format != Format::AndOtp || name.ends_with(".json") {
            assert_eq!(detect(&with_bom), Some(format), "{name} with a BOM");
        }
    }
}

#[test]
fn otpauth_links() {
    check("plain.txt", Format::OtpauthLinks, None, 7, &[]);
}

#[test]
fn ente_auth_links_with_code_display() {
    // Ente adds a `codeDisplay` JSON parameter to each link, and writes the WWE link with
    // `algorithm=sha512` in lower case and a stray `period=30` on an HOTP link.
    check("ente_auth.txt", Format::OtpauthLinks, None, 7, &[]);
}

#[test]
fn aegis_plain() {
    check("aegis_plain.json", Format::Aegis, None, 7, &[]);
}

#[test]
fn aegis_encrypted() {
    check("aegis_encrypted.json", Format::Aegis, Some("test"), 7, &[]);
}

#[test]
fn two_fas_plain() {
    // The 2FAS files hold five of the seven (README): the SHA256 and SHA512 TOTP accounts
    // (SPDX, Airbnb) are not in them.
    check(
        "2fas_authenticator_plain_v4.2fas",
        Format::TwoFas,
        None,
        5,
        &[],
    );
}

#[test]
fn two_fas_encrypted() {
    check(
        "2fas_authenticator_encrypted_v4.2fas",
        Format::TwoFas,
        Some("test"),
        5,
        &[],
    );
}

#[test]
fn andotp_plain() {
    check("andotp_plain.json", Format::AndOtp, None, 7, &[]);
}

#[test]
fn andotp_encrypted() {
    check("andotp_encrypted.bin", Format::AndOtp, Some("test"), 7, &[]);
}

/// Bitwarden keeps a Steam secret as `steam://SECRET`, with no issuer or account name: the
/// account takes the login item's name and (empty) username instead of Boeing / Sophia.
const BITWARDEN_STEAM: Differs = Differs {
    secret: "JRZCL47CMXVOQMNPZR2F7J4RGI",
    issuer: "Test Steam",
    name: "",
    why: "steam:// holds only the secret",
};

#[test]
fn bitwarden_json() {
    check(
        "bitwarden.json",
        Format::BitwardenJson,
        None,
        4,
        &[BITWARDEN_STEAM],
    );
}

#[test]
fn bitwarden_csv() {
    let steam = Differs {
        issuer: "Test 4",
        ..BITWARDEN_STEAM
    };
    check("bitwarden.csv", Format::BitwardenCsv, None, 4, &[steam]);
}

#[test]
fn freeotp_plus() {
    // Six accounts: FreeOTP+ has no Steam type. The HOTP counters it stores are one lower
    // than the links' and come out equal to plain.txt's.
    check("freeotp_plus.json", Format::FreeOtpPlus, None, 6, &[]);
}

#[test]
fn proton_authenticator() {
    check("proton_authenticator.json", Format::Proton, None, 3, &[]);
}

// --- Passwords and damage -------------------------------------------------------------------

const ENCRYPTED: [(&str, Format); 3] = [
    ("aegis_encrypted.json", Format::Aegis),
    ("2fas_authenticator_encrypted_v4.2fas", Format::TwoFas),
    ("andotp_encrypted.bin", Format::AndOtp),
];

#[test]
fn a_wrong_password_is_wrong_password() {
    for (name, format) in ENCRYPTED {
        let result = read(&fixture(name), Some(format), Some("not the password"));
        assert_eq!(result.unwrap_err(), ImportError::WrongPassword, "{name}");
    }
}

#[test]
fn no_password_is_password_required() {
    for (name, _) in ENCRYPTED {
        let result = read(&fixture(name), None, None);
        assert_eq!(result.unwrap_err(), ImportError::PasswordRequired, "{name}");
    }
}

#[test]
fn a_plain_file_ignores_a_password() {
    let parsed = read(&fixture("aegis_plain.json"), None, Some("unused")).unwrap();
    assert_eq!(parsed.accounts().count(), 7);
}

/// `bytes` with the character `offset` bytes into the string value of `key` replaced by
/// another of the same alphabet (base64 or hex), so the file still parses but the sealed
/// bytes differ.
fn change_char_in(bytes: &[u8], key: &str, offset: usize) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let start = text.find(&format!("\"{key}\"")).unwrap();
    let value = start
        + text[start..]
            .find(": \"")
            .or_else(|| text[start..].find(":\""))
            .unwrap();
    let at = text[value..].find('"').unwrap() + value + 1 + offset;
    let mut out = bytes.to_vec();
    out[at] = if out[at] == b'a' { b'b' } else { b'a' };
    assert_ne!(out[at], bytes[at]);
    out
}

fn is_damaged(result: &Result<Parsed, ImportError>) -> bool {
    matches!(result, Err(ImportError::Damaged { .. }))
}

#[test]
fn truncated_encrypted_files_are_damaged_or_refused() {
    for (name, format) in ENCRYPTED {
        let bytes = fixture(name);
        // (One cut long enough to reach the KDF per file: each costs a real derivation.)
        for keep in [bytes.len() - 1, 40, 10, 0] {
            let result = read(&bytes[..keep], Some(format), Some("test"));
            // andOTP has one GCM tag over everything: a truncated ciphertext cannot be told
            // from a wrong password (docs/import.md). Too short for its header, it is damaged.
            let expected_wrong = format == Format::AndOtp && keep >= 4 + 12 + 12 + 16;
            if expected_wrong {
                assert_eq!(
                    result.unwrap_err(),
                    ImportError::WrongPassword,
                    "{name} cut to {keep}"
                );
            } else {
                assert!(is_damaged(&result), "{name} cut to {keep}: {result:?}");
            }
        }
    }
}

#[test]
fn aegis_tampering_with_the_database_is_damage_and_with_the_slot_a_wrong_password() {
    let bytes = fixture("aegis_encrypted.json");
    let db = read(&change_char_in(&bytes, "db", 200), None, Some("test"));
    assert!(is_damaged(&db), "{db:?}");
    let db_tag = read(&change_char_in(&bytes, "tag", 4), None, Some("test"));
    // The first "tag" in the file is the slot's: its key then fails to unwrap.
    assert_eq!(db_tag.unwrap_err(), ImportError::WrongPassword);
    let slot_key = read(&change_char_in(&bytes, "key", 10), None, Some("test"));
    assert_eq!(slot_key.unwrap_err(), ImportError::WrongPassword);
}

#[test]
fn two_fas_tampering_with_the_services_is_damage_and_with_the_reference_a_wrong_password() {
    let bytes = fixture("2fas_authenticator_encrypted_v4.2fas");
    let services = read(
        &change_char_in(&bytes, "servicesEncrypted", 100),
        None,
        Some("test"),
    );
    assert!(is_damaged(&services), "{services:?}");
    let reference = read(
        &change_char_in(&bytes, "reference", 100),
        None,
        Some("test"),
    );
    assert_eq!(reference.unwrap_err(), ImportError::WrongPassword);
}

#[test]
fn andotp_a_flipped_ciphertext_byte_is_a_wrong_password() {
    let mut bytes = fixture("andotp_encrypted.bin");
    bytes[100] ^= 1;
    let result = read(&bytes, None, Some("test"));
    assert_eq!(result.unwrap_err(), ImportError::WrongPassword);
}

#[test]
fn hostile_kdf_parameters_are_refused_before_any_work() {
    let mut andotp = fixture("andotp_encrypted.bin");
    andotp[0] = 0xff; // 4 billion iterations
    let started = std::time::Instant::now();
    let result = read(&andotp, Some(Format::AndOtp), Some("test"));
    assert!(
        matches!(result, Err(ImportError::Unsupported { .. })),
        "{result:?}"
    );
    // Refused before the password is asked for: no prompt for a file that will be refused.
    let result = read(&andotp, Some(Format::AndOtp), None);
    assert!(
        matches!(result, Err(ImportError::Unsupported { .. })),
        "{result:?}"
    );

    let mut aegis: Value = serde_json::from_slice(&fixture("aegis_encrypted.json")).unwrap();
    aegis["header"]["slots"][0]["n"] = json!(1u64 << 40);
    let result = read(&serde_json::to_vec(&aegis).unwrap(), None, Some("test"));
    assert!(
        matches!(result, Err(ImportError::Unsupported { .. })),
        "{result:?}"
    );
    aegis["header"]["slots"][0]["n"] = json!(1000);
    let result = read(&serde_json::to_vec(&aegis).unwrap(), None, Some("test"));
    assert!(is_damaged(&result), "{result:?}");
    assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
}

#[test]
fn an_aegis_vault_with_only_a_biometric_slot_is_unsupported() {
    let mut aegis: Value = serde_json::from_slice(&fixture("aegis_encrypted.json")).unwrap();
    aegis["header"]["slots"][0]["type"] = json!(2);
    let result = read(&serde_json::to_vec(&aegis).unwrap(), None, Some("test"));
    assert!(
        matches!(result, Err(ImportError::Unsupported { .. })),
        "{result:?}"
    );
}

// --- Entries that cannot be accounts --------------------------------------------------------

/// Reads `value` as `format` and returns the entries.
fn entries_of(value: &Value, format: Format) -> Vec<Entry> {
    let bytes = serde_json::to_vec(value).unwrap();
    assert_eq!(detect(&bytes), Some(format));
    read(&bytes, None, None).unwrap().entries
}

/// Checks that the one rejected entry is at `location` with a reason starting `reason`, and
/// that the others are all accounts.
fn check_one_rejection(entries: &[Entry], total: usize, location: &str, reason: &str) {
    assert_eq!(entries.len(), total);
    let rejected: Vec<&Entry> = entries.iter().filter(|e| e.outcome.is_err()).collect();
    assert_eq!(rejected.len(), 1, "{entries:?}");
    assert_eq!(rejected[0].location.as_str(), location);
    let rejection = rejected[0].outcome.as_ref().unwrap_err();
    assert!(rejection.reason.starts_with(reason), "{}", rejection.reason);
}

#[test]
fn aegis_refuses_yandex_and_motp_by_name_and_reads_the_rest() {
    let mut aegis: Value = serde_json::from_slice(&fixture("aegis_plain.json")).unwrap();
    aegis["db"]["entries"][3]["type"] = json!("yandex");
    let entries = entries_of(&aegis, Format::Aegis);
    check_one_rejection(
        &entries,
        7,
        "entry 4 (\"Issuu (James)\")",
        "type: yandex is not supported",
    );
    assert_eq!(
        entries[3].outcome.as_ref().unwrap_err().label,
        "Issuu (James)"
    );

    aegis["db"]["entries"][3]["type"] = json!("motp");
    let entries = entries_of(&aegis, Format::Aegis);
    check_one_rejection(
        &entries,
        7,
        "entry 4 (\"Issuu (James)\")",
        "type: motp is not supported",
    );
}

#[test]
fn a_missing_or_mistyped_field_rejects_only_its_entry() {
    let mut aegis: Value = serde_json::from_slice(&fixture("aegis_plain.json")).unwrap();
    aegis["db"]["entries"][0]["info"]
        .as_object_mut()
        .unwrap()
        .remove("secret");
    aegis["db"]["entries"][1]["info"]["digits"] = json!("seven");
    aegis["db"]["entries"][2] = json!("not an entry");
    let entries = entries_of(&aegis, Format::Aegis);
    let reasons: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.outcome.as_ref().err())
        .map(|r| r.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "info.secret: missing",
            "info.digits: not a whole number",
            "entry: not a JSON object"
        ]
    );
    assert_eq!(entries.iter().filter(|e| e.outcome.is_ok()).count(), 4);
}

#[test]
fn andotp_two_fas_and_freeotp_refuse_unknown_types() {
    let mut andotp: Value = serde_json::from_slice(&fixture("andotp_plain.json")).unwrap();
    andotp[6]["type"] = json!("MOTP");
    check_one_rejection(
        &entries_of(&andotp, Format::AndOtp),
        7,
        "entry 7 (\"Boeing (Sophia)\")",
        "type: MOTP is not supported",
    );

    let mut twofas: Value =
        serde_json::from_slice(&fixture("2fas_authenticator_plain_v4.2fas")).unwrap();
    twofas["services"][1]["otp"]["tokenType"] = json!("YANDEX");
    check_one_rejection(
        &entries_of(&twofas, Format::TwoFas),
        5,
        "service 2 (\"Issuu (James)\")",
        "otp.tokenType: YANDEX is not supported",
    );

    let mut freeotp: Value = serde_json::from_slice(&fixture("freeotp_plus.json")).unwrap();
    freeotp["tokens"][0]["secret"] = json!([1, 2, 300]);
    check_one_rejection(
        &entries_of(&freeotp, Format::FreeOtpPlus),
        6,
        "token 1 (\"WWE (Mason)\")",
        "secret: not a list of bytes",
    );
}

#[test]
fn links_reject_bad_lines_at_their_number_and_never_quote_the_secret() {
    let text = "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP\r\n\
                # comment\r\n\
                otpauth://totp/B:b?secret=SECRETWITH1ANDEIGHT8&issuer=B\r\n\
                otpauth://yandex/C:c?secret=JBSWY3DPEHPK3PXP\r\n";
    let parsed = read(text.as_bytes(), None, None).unwrap();
    assert_eq!(parsed.format, Format::OtpauthLinks);
    let locations: Vec<&str> = parsed.entries.iter().map(|e| e.location.as_str()).collect();
    assert_eq!(locations, ["line 1", "line 3", "line 4"]);
    let secret = parsed.entries[1].outcome.as_ref().unwrap_err();
    assert!(secret.reason.starts_with("secret:"), "{}", secret.reason);
    assert!(!format!("{:?}", parsed.entries).contains("SECRETWITH"));
    let kind = parsed.entries[2].outcome.as_ref().unwrap_err();
    assert!(kind.reason.starts_with("type:"), "{}", kind.reason);
}

#[test]
fn bitwarden_skips_logins_without_totp_and_reads_bare_secrets() {
    let export = json!({
        "encrypted": false,
        "items": [
            {"type": 1, "name": "No TOTP", "login": {"username": "x", "totp": null}},
            {"type": 2, "name": "A secure note"},
            {"type": 1, "name": "Bare", "login": {"username": "me@example.org", "totp": "JBSW Y3DP EHPK 3PXP"}},
            {"type": 1, "name": "Broken", "login": {"username": "me", "totp": "not base32!"}},
        ]
    });
    let entries = entries_of(&export, Format::BitwardenJson);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(
        entries[0].location.as_str(),
        "item 3 (\"Bare (me@example.org)\")"
    );
    let bare = entries[0].outcome.as_ref().unwrap();
    assert_eq!((bare.issuer(), bare.name()), ("Bare", "me@example.org"));
    assert_eq!(
        bare.secret(),
        &SecretBytes::from_base32("JBSWY3DPEHPK3PXP").unwrap()
    );
    assert_eq!(
        (bare.params().digits(), bare.params().period()),
        (6, 30),
        "a bare secret is TOTP SHA1/6/30"
    );
    let broken = entries[1].outcome.as_ref().unwrap_err();
    assert_eq!(broken.reason, "login.totp: not valid base32");
}

#[test]
fn bitwarden_csv_with_quoted_fields_and_line_breaks() {
    let csv = "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\r\n\
               ,,login,\"Bank, \"\"main\"\"\",\"two\r\nline note\",,0,,me,pw,JBSWY3DPEHPK3PXP\r\n\
               ,,note,Just a note,,,0,,,,\r\n\
               ,,login,Bad,,,0,,me,pw,otpauth://totp/x?secret=\r\n";
    let parsed = read(csv.as_bytes(), None, None).unwrap();
    assert_eq!(parsed.format, Format::BitwardenCsv);
    assert_eq!(parsed.entries.len(), 2);
    let bank = parsed.entries[0].outcome.as_ref().unwrap();
    assert_eq!((bank.issuer(), bank.name()), ("Bank, \"main\"", "me"));
    assert_eq!(parsed.entries[1].location.as_str(), "line 5 (\"Bad (me)\")");
    let bad = parsed.entries[1].outcome.as_ref().unwrap_err();
    assert!(
        bad.reason.starts_with("login.totp: secret"),
        "{}",
        bad.reason
    );
}

#[test]
fn detection_refuses_what_is_no_known_format() {
    for bytes in [
        &b""[..],
        b"hello",
        b"{}",
        b"[]",
        b"{\"items\": 1}",
        b"\x01\x02\x03",
    ] {
        assert_eq!(detect(bytes), None, "{:?}", String::from_utf8_lossy(bytes));
        assert_eq!(
            read(bytes, None, None).unwrap_err(),
            ImportError::UnknownFormat
        );
    }
}

/// Issue 10, item 8: a broken link whose secret follows its label (no `?`), in plain or
/// percent-encoded form, or a JSON entry whose name hides one, is refused under a label cut
/// before any `secret`, `&` or `=`.
#[test]
fn rejection_labels_are_cut_before_secret_ampersand_or_equals() {
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let lines = [
        format!("otpauth://totp/Example:alice&secret={secret}"),
        format!("otpauth://totp/Example:alice%26secret%3D{secret}"),
        format!("otpauth://totp/Example:alice={secret}"),
        format!("otpauth://totp/Example:alice%20SECRET{secret}"),
    ];
    let parsed = read(lines.join("\n").as_bytes(), None, None).unwrap();
    assert_eq!(parsed.entries.len(), lines.len());
    for entry in &parsed.entries {
        let rejection = entry.outcome.as_ref().unwrap_err();
        assert!(
            rejection.label.starts_with("Example:alice"),
            "{rejection:?}"
        );
        assert!(!rejection.label.contains("JBSW"), "{rejection:?}");
        assert!(!rejection.reason.contains("JBSW"), "{rejection:?}");
    }
    let mut aegis: Value = serde_json::from_slice(&fixture("aegis_plain.json")).unwrap();
    aegis["db"]["entries"][3]["type"] = json!("yandex");
    aegis["db"]["entries"][3]["name"] = json!(format!("alice&secret={secret}"));
    let entries = entries_of(&aegis, Format::Aegis);
    let entry = &entries[3];
    {
        let rejection = entry.outcome.as_ref().unwrap_err();
        assert_eq!(rejection.label, "Issuu (alice");
        assert!(!entry.location.as_str().contains("JBSW"), "{entry:?}");
    }
}
