//! Google Authenticator migration links: real links built with Google's protobuf runtime,
//! hand-assembled payloads with odd fields, exports batched and read back.

use cityauth_core::{Account, Algorithm, OtpKind, OtpParams, SecretBytes};
use cityauth_transfer::export::{
    ExportError, GOOGLE_LINK_BUDGET, GOOGLE_MAX_ACCOUNTS_PER_LINK, google_migration_links,
};
use cityauth_transfer::formats::google::read_links;
use cityauth_transfer::{Entry, ImportError, Location};

/// Made by a one-off Python script (not part of the build) with the `protobuf` package from
/// PyPI (7.36.2): a descriptor written from migration.proto's field numbers, a
/// `MigrationPayload(version=1, batch_size=1, batch_index=0, batch_id=-1320898453)` holding
///   1. secret b"12345678901234567890", name "GitHub:alice@example.org", issuer "GitHub",
///      SHA1, SIX, TOTP;
///   2. secret bytes 1..=32, name "bob", issuer "Bank é", SHA256, EIGHT, HOTP, counter 42;
///   3. secret 64 × 0xff, name "Example:carol", no issuer, SHA512, SIX, TOTP;
///   4. secret b"md5 secret", name "Legacy:dave", issuer "Legacy", MD5, SIX, TOTP;
///
/// serialized, `base64.b64encode`d and `urllib.parse.quote(data, safe="")`d. The expected
/// base32 secrets below are Python's `base64.b32encode` of the same bytes.
const PYTHON_LINK: &str = "otpauth-migration://offline?data=Cj4KFDEyMzQ1Njc4OTAxMjM0NTY3ODkwEhhHaXRIdWI6YWxpY2VAZXhhbXBsZS5vcmcaBkdpdEh1YiABKAEwAgo4CiABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fIBIDYm9iGgdCYW5rIMOpIAIoAjABOCoKVwpA%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FxINRXhhbXBsZTpjYXJvbCADKAEwAgonCgptZDUgc2VjcmV0EgtMZWdhY3k6ZGF2ZRoGTGVnYWN5IAQoATACEAEYASjr4JKK%2B%2F%2F%2F%2F%2F8B";

/// The same script: two parts of one export (batch_id 7), one TOTP account each, secrets
/// ten bytes of 0x01 and of 0x02, names "user0"/"user1", issuers "Part0"/"Part1".
const PYTHON_PARTS: [&str; 2] = [
    "otpauth-migration://offline?data=CiAKCgEBAQEBAQEBAQESBXVzZXIwGgVQYXJ0MCABKAEwAhABGAIoBw%3D%3D",
    "otpauth-migration://offline?data=CiAKCgICAgICAgICAgISBXVzZXIxGgVQYXJ0MSABKAEwAhABGAIgASgH",
];

fn links<'a>(texts: &[&'a str]) -> Vec<(Location, &'a str)> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| (Location::new(format!("link {}", i + 1)), *text))
        .collect()
}

fn account(issuer: &str, name: &str, secret: &[u8], params: OtpParams) -> Account {
    Account::new(issuer, name, SecretBytes::new(secret.to_vec()), params).unwrap()
}

fn totp(digits: u8) -> OtpParams {
    OtpParams::totp(Algorithm::Sha1, digits, 30).unwrap()
}

fn accounts_of(entries: &[Entry]) -> Vec<Account> {
    entries
        .iter()
        .map(|e| e.outcome.clone().expect("an account"))
        .collect()
}

#[test]
fn a_link_made_by_googles_protobuf_runtime_reads_as_built() {
    let entries = read_links(&links(&[PYTHON_LINK])).unwrap();
    assert_eq!(entries.len(), 4);
    let locations: Vec<&str> = entries.iter().map(|e| e.location.as_str()).collect();
    assert_eq!(
        locations,
        [
            "link 1, item 1",
            "link 1, item 2",
            "link 1, item 3",
            "link 1, item 4"
        ]
    );
    let expected = [
        (
            "GitHub",
            "alice@example.org",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            totp(6),
        ),
        (
            "Bank é",
            "bob",
            "AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4QA",
            OtpParams::hotp(Algorithm::Sha256, 8, 42).unwrap(),
        ),
        (
            "Example",
            "carol",
            "777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777Y",
            OtpParams::totp(Algorithm::Sha512, 6, 30).unwrap(),
        ),
    ];
    for (entry, (issuer, name, secret, params)) in entries.iter().zip(expected) {
        let got = entry.outcome.as_ref().expect("an account");
        assert_eq!((got.issuer(), got.name()), (issuer, name));
        assert_eq!(got.secret().to_base32().as_str(), secret);
        assert_eq!(got.params(), &params);
    }
    let md5 = entries[3].outcome.as_ref().expect_err("MD5 is refused");
    assert_eq!(md5.label, "Legacy (dave)");
    assert!(md5.reason.starts_with("algorithm"), "{}", md5.reason);
}

#[test]
fn the_parts_of_an_export_read_in_any_order() {
    let reversed = read_links(&links(&[PYTHON_PARTS[1], PYTHON_PARTS[0]])).unwrap();
    let got = accounts_of(&reversed);
    assert_eq!(
        got,
        [
            account("Part0", "user0", &[1; 10], totp(6)),
            account("Part1", "user1", &[2; 10], totp(6)),
        ]
    );
    // Each keeps the location it was found at.
    assert_eq!(reversed[0].location.as_str(), "link 2, item 1");
}

#[test]
fn a_missing_part_is_named_one_based() {
    let error = read_links(&links(&[PYTHON_PARTS[1]])).unwrap_err();
    assert_eq!(
        error,
        ImportError::MissingBatchParts {
            missing: vec![1],
            total: 2
        }
    );
    let many: Vec<Account> = (0..25u8)
        .map(|i| account("Svc", &format!("user{i}"), &[i + 1; 10], totp(6)))
        .collect();
    let exported = google_migration_links(&many).unwrap();
    assert_eq!(exported.len(), 3);
    let error = read_links(&links(&[&exported[2], &exported[0]])).unwrap_err();
    assert_eq!(
        error,
        ImportError::MissingBatchParts {
            missing: vec![2],
            total: 3
        }
    );
    assert!(error.to_string().contains("part 2"), "{error}");
}

#[test]
fn parts_of_different_exports_or_twice_the_same_part_are_refused() {
    let many: Vec<Account> = (0..15u8)
        .map(|i| account("Svc", &format!("u{i}"), &[i + 1; 10], totp(6)))
        .collect();
    let first = google_migration_links(&many).unwrap();
    let second = google_migration_links(&many).unwrap();
    // Two exports of the same accounts differ only by their random batch id.
    let error = read_links(&links(&[&first[0], &second[1]])).unwrap_err();
    assert!(
        matches!(&error, ImportError::Damaged { reason } if reason.contains("another export")),
        "{error}"
    );
    let error = read_links(&links(&[&first[0], &first[1], &first[0]])).unwrap_err();
    assert!(
        matches!(&error, ImportError::Damaged { reason } if reason.contains("twice")),
        "{error}"
    );
}

#[test]
fn undecodable_links_are_damaged_and_never_quoted() {
    let truncated = &PYTHON_LINK[..PYTHON_LINK.len() - 40];
    for bad in [
        "otpauth-migration://offline?data=not*base64",
        "otpauth-migration://offline",
        "otpauth://totp/a?secret=JBSWY3DP",
        // Valid base64 of a payload cut short inside a field.
        "otpauth-migration://offline?data=CiAKCgEB",
        truncated,
    ] {
        let error = read_links(&links(&[bad])).unwrap_err();
        let ImportError::Damaged { reason } = &error else {
            panic!("{bad}: {error:?}");
        };
        assert!(reason.starts_with("link 1: "), "{reason}");
        assert!(
            !reason.contains("CiAK") && !reason.contains("data="),
            "{reason}"
        );
    }
}

#[test]
fn plain_and_percent_encoded_data_read_alike() {
    let plain = PYTHON_LINK
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=");
    assert_ne!(plain, PYTHON_LINK);
    assert_eq!(
        read_links(&links(&[&plain])).unwrap(),
        read_links(&links(&[PYTHON_LINK])).unwrap()
    );
}

/// A protobuf varint, written here independently of the crate's writer.
fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn bytes_field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint(number << 3 | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn varint_field(number: u64, value: u64, out: &mut Vec<u8>) {
    varint(number << 3, out);
    varint(value, out);
}

/// An OtpParameters message with the given algorithm, digits and type numbers.
fn otp(name: &str, algorithm: u64, digits: u64, kind: u64) -> Vec<u8> {
    let mut out = Vec::new();
    bytes_field(1, b"0123456789", &mut out);
    bytes_field(2, name.as_bytes(), &mut out);
    varint_field(4, algorithm, &mut out);
    varint_field(5, digits, &mut out);
    varint_field(6, kind, &mut out);
    out
}

fn link_of(payload: &[u8]) -> String {
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(payload);
    format!(
        "otpauth-migration://offline?data={}",
        data.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    )
}

#[test]
fn entries_cityauth_cannot_use_are_rejected_where_they_are() {
    let mut payload = Vec::new();
    bytes_field(1, &otp("Good:one", 1, 1, 2), &mut payload);
    bytes_field(1, &otp("Weird:type", 1, 1, 3), &mut payload);
    bytes_field(1, &otp("No:type", 1, 1, 0), &mut payload);
    bytes_field(1, &otp("Odd:digits", 1, 3, 2), &mut payload);
    bytes_field(1, &otp("Odd:algorithm", 9, 1, 2), &mut payload);
    let entries = read_links(&links(&[&link_of(&payload)])).unwrap();
    assert_eq!(
        entries[0].outcome.as_ref().unwrap(),
        &account("Good", "one", b"0123456789", totp(6))
    );
    let reasons: Vec<(String, String, String)> = entries[1..]
        .iter()
        .map(|e| {
            let r = e.outcome.as_ref().unwrap_err();
            (e.location.to_string(), r.label.clone(), r.reason.clone())
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "link 1, item 2".into(),
                "Weird (type)".into(),
                "type: unknown value 3".into()
            ),
            (
                "link 1, item 3".into(),
                "No (type)".into(),
                "type: not specified".into()
            ),
            (
                "link 1, item 4".into(),
                "Odd (digits)".into(),
                "digits: unknown value 3".into()
            ),
            (
                "link 1, item 5".into(),
                "Odd (algorithm)".into(),
                "algorithm: unknown value 9".into()
            ),
        ]
    );
}

#[test]
fn a_part_may_not_hold_more_accounts_than_any_real_export() {
    let item = otp("a", 1, 1, 2);
    let payload_of = |n: usize| {
        let mut payload = Vec::new();
        for _ in 0..n {
            bytes_field(1, &item, &mut payload);
        }
        payload
    };
    assert_eq!(
        read_links(&links(&[&link_of(&payload_of(200))]))
            .unwrap()
            .len(),
        200
    );
    let error = read_links(&links(&[&link_of(&payload_of(201))])).unwrap_err();
    assert!(matches!(error, ImportError::Damaged { .. }), "{error}");
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    let mut inner = otp("Svc:me", 0, 0, 2);
    inner.extend_from_slice(&[0x41, 1, 2, 3, 4, 5, 6, 7, 8]); // field 8, fixed64
    inner.extend_from_slice(&[0x4d, 1, 2, 3, 4]); // field 9, fixed32
    inner.extend_from_slice(&[0x53, 0x08, 0x01, 0x5b, 0x5c, 0x54]); // field 10, nested groups
    bytes_field(11, b"future", &mut inner);
    varint_field(12, 99, &mut inner);
    let mut payload = Vec::new();
    bytes_field(1, &inner, &mut payload);
    bytes_field(6, b"unknown payload field", &mut payload);
    let entries = read_links(&links(&[&link_of(&payload)])).unwrap();
    // Unspecified algorithm and digits are the app's defaults: SHA1, six digits.
    assert_eq!(
        accounts_of(&entries),
        [account("Svc", "me", b"0123456789", totp(6))]
    );
}

#[test]
fn exports_are_batched_to_scannable_links_and_read_back() {
    let mut all = Vec::new();
    for i in 0..23u32 {
        let secret: Vec<u8> = (0..20).map(|b| (b as u32 * 7 + i) as u8).collect();
        let params = match i % 3 {
            0 => totp(6),
            1 => OtpParams::totp(Algorithm::Sha256, 8, 30).unwrap(),
            _ => OtpParams::hotp(Algorithm::Sha512, 6, u64::from(i) * 1000).unwrap(),
        };
        let issuer = if i % 4 == 0 {
            String::new()
        } else {
            format!("Issuer {i} & Co")
        };
        all.push(account(
            &issuer,
            &format!("user{i}@example.org:work"),
            &secret,
            params,
        ));
    }
    let exported = google_migration_links(&all).unwrap();
    assert_eq!(exported.len(), 3, "23 accounts, at most 10 a link");
    for link in &exported {
        assert!(
            link.len() <= GOOGLE_LINK_BUDGET,
            "{} characters",
            link.len()
        );
        assert!(link.starts_with("otpauth-migration://offline?data="));
    }
    let texts: Vec<&str> = exported.iter().map(|l| l.as_str()).collect();
    let entries = read_links(&links(&texts)).unwrap();
    assert_eq!(accounts_of(&entries), all);

    // Long labels fill a link before ten accounts do.
    let long: Vec<Account> = (0..10u8)
        .map(|i| {
            account(
                &"I".repeat(60),
                &format!("{i}{}", "n".repeat(60)),
                &[i + 1; 20],
                totp(6),
            )
        })
        .collect();
    let exported = google_migration_links(&long).unwrap();
    assert!(
        exported.len() > 1 && exported.len() < 10,
        "{} links",
        exported.len()
    );
    assert!(exported.iter().all(|l| l.len() <= GOOGLE_LINK_BUDGET));
    let texts: Vec<&str> = exported.iter().map(|l| l.as_str()).collect();
    assert_eq!(accounts_of(&read_links(&links(&texts)).unwrap()), long);
    // Short accounts: the count bound decides.
    let short = &all[..GOOGLE_MAX_ACCOUNTS_PER_LINK + 1];
    assert_eq!(
        google_migration_links(&short[..GOOGLE_MAX_ACCOUNTS_PER_LINK])
            .unwrap()
            .len(),
        1
    );
    assert_eq!(google_migration_links(short).unwrap().len(), 2);
}

#[test]
fn accounts_google_cannot_hold_are_refused_not_dropped() {
    let all = vec![
        account("Fine", "a", &[1; 10], totp(6)),
        account("Steam", "b", &[2; 10], OtpParams::steam(30).unwrap()),
        account("Seven", "c", &[3; 10], totp(7)),
        account(
            "Minute",
            "d",
            &[4; 10],
            OtpParams::totp(Algorithm::Sha1, 6, 60).unwrap(),
        ),
        account(
            "Fine",
            "e",
            &[5; 10],
            OtpParams::hotp(Algorithm::Sha1, 8, 3).unwrap(),
        ),
        account(
            "Huge",
            "f",
            &[6; 10],
            OtpParams::hotp(Algorithm::Sha1, 6, u64::MAX).unwrap(),
        ),
        account(&"L".repeat(512), &"x".repeat(512), &[7; 1024], totp(6)),
    ];
    let Err(ExportError::NotExpressible { refused }) = google_migration_links(&all) else {
        panic!("expected refusals");
    };
    let got: Vec<(usize, &str)> = refused
        .iter()
        .map(|r| (r.index, r.reason.split(':').next().unwrap_or("")))
        .collect();
    assert_eq!(
        got,
        [
            (1, "type"),
            (2, "digits"),
            (3, "period"),
            (5, "counter"),
            (6, "labels")
        ]
    );
    assert_eq!(refused[0].label, "Steam (b)");
    // The ones it can hold export on their own, counter included.
    let fine: Vec<Account> = all
        .iter()
        .filter(|a| cityauth_transfer::export::google_refusal(a).is_none())
        .cloned()
        .collect();
    let exported = google_migration_links(&fine).unwrap();
    let texts: Vec<&str> = exported.iter().map(|l| l.as_str()).collect();
    let back = accounts_of(&read_links(&links(&texts)).unwrap());
    assert_eq!(back, fine);
    assert_eq!(back[1].params().kind(), OtpKind::Hotp);
    assert_eq!(back[1].params().counter(), 3);
}

#[test]
fn no_accounts_export_to_no_links() {
    assert!(google_migration_links(&[]).unwrap().is_empty());
    assert!(read_links(&[]).unwrap().is_empty());
}

/// Issue 10, item 12: a forged `batch_index` of `u64::MAX` (hostile input meeting `+ 1` in
/// the part number) is a damaged file, not an overflow panic.
#[test]
fn a_batch_index_at_u64_max_is_damage_not_an_overflow() {
    for (size, index) in [(2, u64::MAX), (1, u64::MAX), (0, u64::MAX - 1)] {
        let mut payload = Vec::new();
        bytes_field(1, &otp("a", 1, 1, 2), &mut payload);
        varint_field(3, size, &mut payload);
        varint_field(4, index, &mut payload);
        let result = std::panic::catch_unwind(|| read_links(&links(&[&link_of(&payload)])));
        let error = result.expect("no panic").unwrap_err();
        assert!(matches!(error, ImportError::Damaged { .. }), "{error}");
        assert!(
            error
                .to_string()
                .contains(&format!("part {}", u128::from(index) + 1))
        );
    }
}

/// Issue 10, item 5: the parts of an export are checked before their accounts are decoded;
/// more links than an export may have, or more accounts in all than one file may hold, are
/// refused as too many.
#[test]
fn google_batches_are_checked_before_their_accounts_are_decoded() {
    let empty_items = |n: usize, size: u64, index: u64| {
        let mut payload = Vec::new();
        for _ in 0..n {
            bytes_field(1, &[], &mut payload);
        }
        varint_field(3, size, &mut payload);
        varint_field(4, index, &mut payload);
        link_of(&payload)
    };
    // 1,001 links: refused on their number alone.
    let texts: Vec<String> = (0..1001).map(|i| empty_items(1, 1001, i)).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let error = read_links(&links(&refs)).unwrap_err();
    assert!(matches!(error, ImportError::TooMany { .. }), "{error}");
    // 51 parts of 200 empty accounts each: 10,200 accounts, over the file's 10,000.
    let texts: Vec<String> = (0..51).map(|i| empty_items(200, 51, i)).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let error = read_links(&links(&refs)).unwrap_err();
    assert!(
        matches!(
            error,
            ImportError::TooMany {
                what: "accounts",
                ..
            }
        ),
        "{error}"
    );
}
