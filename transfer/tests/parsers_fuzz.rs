//! Fuzzing every importer with proptest (cargo-fuzz needs nightly): arbitrary bytes, the real
//! fixtures mutated as bytes (bits flipped, cut, bytes inserted or deleted, pieces of other
//! files spliced in, syntax characters dropped in) and, for JSON formats, as JSON (values
//! replaced by other types or removed) must never panic, and no error, nor any rejection's
//! reason, label or location, may quote a secret.
//!
//! The encrypted formats take their KDF cost from the file. So that the cases exercise the
//! parsers and not the KDF, the Aegis and andOTP cases mutate copies of the fixtures
//! re-encrypted here with cheap parameters (scrypt N=2, one PBKDF2 iteration), and the
//! andOTP iteration field is brought back to at most 1,000 when a mutation lands in the
//! bounded range (the bound itself is tested in import_fixtures.rs); 2FAS's count is fixed
//! at 10,000, so its mutated files are read without a password (the framing is parsed before
//! the password is asked for), and fewer cases, with JSON values changed, with it.
//!
//! `cargo test --release -p cityauth-transfer --test parsers_fuzz -- --ignored --nocapture`
//! runs 100,000 cases per target (`FUZZ_CASES` to change it), and a fiftieth as many of 2FAS
//! with its password.

use std::cell::Cell;
use std::path::PathBuf;

use base64::Engine;
use cityauth_transfer::{Format, ImportError, read};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// --- Cheap re-encryption of the fixtures (real AES-GCM, real KDFs, low cost) ---------------

fn seal(key: &[u8; 32], nonce: [u8; 12], plain: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
    let mut buffer = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::empty(),
        &mut buffer,
    )
    .unwrap();
    buffer
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `aegis_plain.json`'s database.
fn aegis_db() -> Value {
    let plain: Value = serde_json::from_slice(&fixture("aegis_plain.json")).unwrap();
    plain["db"].clone()
}

/// `db` sealed in an encrypted vault whose password slot uses scrypt N=2, r=1, p=1.
fn cheap_aegis(db: &[u8], password: &str) -> Vec<u8> {
    let master = [0x5a; 32];
    let salt = [7u8; 32];
    let mut slot_key = [0u8; 32];
    let params = scrypt::Params::new(1, 1, 1).unwrap();
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut slot_key).unwrap();
    let wrapped = seal(&slot_key, [1; 12], &master);
    let sealed_db = seal(&master, [2; 12], db);
    let (db_ciphertext, db_tag) = sealed_db.split_at(sealed_db.len() - 16);
    serde_json::to_vec_pretty(&json!({
        "version": 1,
        "header": {
            "slots": [{
                "type": 1, "uuid": "00000000-0000-0000-0000-000000000000",
                "key": hex(&wrapped[..32]),
                "key_params": {"nonce": hex(&[1; 12]), "tag": hex(&wrapped[32..])},
                "n": 2, "r": 1, "p": 1, "salt": hex(&salt), "repaired": true
            }],
            "params": {"nonce": hex(&[2; 12]), "tag": hex(db_tag)}
        },
        "db": base64::engine::general_purpose::STANDARD.encode(db_ciphertext)
    }))
    .unwrap()
}

/// `plain` as an encrypted andOTP backup with one PBKDF2 iteration.
fn cheap_andotp(plain: &[u8], password: &str) -> Vec<u8> {
    let salt = [3u8; 12];
    let nonce = [4u8; 12];
    let mut key = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA1,
        std::num::NonZeroU32::MIN,
        &salt,
        password.as_bytes(),
        &mut key,
    );
    let mut out = 1u32.to_be_bytes().to_vec();
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&seal(&key, nonce, plain));
    out
}

/// Brings an andOTP iteration field inside the bound down to at most 1,000 (see the module
/// comment); counts beyond the bound are left for the bound to refuse.
fn keep_andotp_kdf_cheap(bytes: &mut [u8]) {
    if let Some(head) = bytes.get_mut(..4) {
        let iterations = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if (1_001..=cityauth_transfer::formats::MAX_PBKDF2_ITERATIONS).contains(&iterations) {
            head.copy_from_slice(&(iterations % 1_000 + 1).to_be_bytes());
        }
    }
}

// --- Mutations -------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    /// Replaces a stretch with a piece of another fixture.
    Splice(Index, Index, usize),
    /// Puts a byte that matters to the syntax (quote, bracket, digit…) somewhere.
    Syntax(Index, u8),
}

const SYNTAX: &[u8] = b"\"{}[]:,\\0123456789-+.eE \n\r=/%&?#";

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<Index>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<Index>(), any::<Index>(), 1usize..200)
            .prop_map(|(at, from, len)| Mutation::Splice(at, from, len)),
        (any::<Index>(), any::<Index>())
            .prop_map(|(at, which)| Mutation::Syntax(at, *which.get(SYNTAX))),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation, donor: &[u8]) {
    let len = bytes.len();
    let at = |index: &Index| if len == 0 { 0 } else { index.index(len) };
    match mutation {
        Mutation::Flip(index, bit) if len > 0 => bytes[at(index)] ^= 1 << bit,
        Mutation::Truncate(index) => bytes.truncate(at(index)),
        Mutation::Insert(index, extra) => {
            let at = at(index);
            bytes.splice(at..at, extra.iter().copied());
        }
        Mutation::Delete(index, count) => {
            let start = at(index);
            bytes.drain(start..(start + count).min(len));
        }
        Mutation::Splice(index, from, count) if !donor.is_empty() => {
            let start = at(index);
            let from = from.index(donor.len());
            let piece = &donor[from..(from + count).min(donor.len())];
            bytes.splice(start..(start + piece.len()).min(len), piece.iter().copied());
        }
        Mutation::Syntax(index, byte) if len > 0 => bytes[at(index)] = *byte,
        _ => {}
    }
}

/// A change to one value of a JSON document: the entry parsers meet wrong types, missing
/// fields and odd values instead of broken syntax.
#[derive(Debug, Clone)]
struct JsonMutation {
    at: Index,
    replacement: u8,
}

fn json_mutation() -> impl Strategy<Value = JsonMutation> {
    (any::<Index>(), any::<u8>()).prop_map(|(at, replacement)| JsonMutation { at, replacement })
}

/// Every value's JSON pointer in `value`, the root included.
fn pointers(value: &Value, here: String, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{here}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(item, format!("{here}/{key}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

fn apply_json(value: &mut Value, mutation: &JsonMutation) {
    let mut all = Vec::new();
    pointers(value, String::new(), &mut all);
    let pointer = mutation.at.get(&all).clone();
    let replacement = match mutation.replacement % 16 {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(0),
        4 => json!(u64::MAX),
        5 => json!(1e300),
        6 => json!(""),
        7 => json!("yandex"),
        8 => json!("JBSWY3DP"),
        9 => json!([]),
        10 => json!({}),
        11 => json!([-129, 300, 1.5]),
        12 => json!("otpauth://totp/x?secret=AA&digits=99"),
        13 => json!(4_294_967_296u64),
        14 => json!("x".repeat(600)),
        _ => {
            // Removes the value from its object or list.
            if let Some((parent, last)) = pointer.rsplit_once('/') {
                match value.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = last.parse::<usize>() {
                            items.remove(i);
                        }
                    }
                    _ => {}
                }
            }
            return;
        }
    };
    if let Some(slot) = value.pointer_mut(&pointer) {
        *slot = replacement;
    }
}

/// The donor of spliced pieces: every fixture, end to end.
fn donor() -> Vec<u8> {
    let mut all = Vec::new();
    for name in [
        "aegis_plain.json",
        "2fas_authenticator_plain_v4.2fas",
        "andotp_plain.json",
        "bitwarden.json",
        "bitwarden.csv",
        "freeotp_plus.json",
        "proton_authenticator.json",
        "ente_auth.txt",
    ] {
        all.extend(fixture(name));
    }
    all
}

// --- The checks ------------------------------------------------------------------------------

/// Every 16-character stretch of the reference secrets (the shortest real secret is 16
/// base32 characters), none of which may show up in an error or a reason.
fn secret_fragments() -> Vec<String> {
    let plain = String::from_utf8(fixture("plain.txt")).unwrap();
    plain
        .lines()
        .filter_map(|line| line.split("secret=").nth(1))
        .map(|rest| rest.split('&').next().unwrap().to_owned())
        .flat_map(|secret| {
            (0..=secret.len() - 16)
                .map(move |at| secret[at..at + 16].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// How the inputs of a run came out, to show that the mutations reach the parsers.
#[derive(Default)]
struct Tally {
    read: Cell<usize>,
    with_accounts: Cell<usize>,
    damaged: Cell<usize>,
    wrong_password: Cell<usize>,
    other_errors: Cell<usize>,
}

impl Tally {
    fn count(&self, result: &Result<cityauth_transfer::Parsed, ImportError>) {
        let cell = match result {
            Ok(parsed) if parsed.accounts().next().is_some() => &self.with_accounts,
            Ok(_) => &self.read,
            Err(ImportError::Damaged { .. }) => &self.damaged,
            Err(ImportError::WrongPassword) => &self.wrong_password,
            Err(_) => &self.other_errors,
        };
        cell.set(cell.get() + 1);
    }

    fn total(&self) -> usize {
        [
            &self.read,
            &self.with_accounts,
            &self.damaged,
            &self.wrong_password,
            &self.other_errors,
        ]
        .iter()
        .map(|c| c.get())
        .sum()
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>7} inputs: {:>6} with accounts, {:>6} read empty, {:>6} damaged, {:>6} wrong password, {:>6} other errors",
            self.total(),
            self.with_accounts.get(),
            self.read.get(),
            self.damaged.get(),
            self.wrong_password.get(),
            self.other_errors.get()
        )
    }
}

/// Reads `bytes`; the proptest runner turns a panic into a failure with the input.
fn read_checked(
    bytes: &[u8],
    format: Format,
    password: Option<&str>,
    fragments: &[String],
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let result = read(bytes, Some(format), password);
    tally.count(&result);
    // Everything a user is shown of a file that was not read as accounts: the error, and for
    // each refused entry its reason, its label and its location.
    let texts: Vec<String> = match result {
        Err(error) => vec![error.to_string()],
        Ok(parsed) => parsed
            .entries
            .iter()
            .filter_map(|e| e.outcome.as_ref().err().map(|r| (&e.location, r)))
            .flat_map(|(location, rejection)| {
                [
                    rejection.reason.clone(),
                    rejection.label.clone(),
                    location.to_string(),
                ]
            })
            .collect(),
    };
    for text in texts {
        for fragment in fragments {
            prop_assert!(
                !text.contains(fragment.as_str()),
                "{format:?}: quotes a secret in an error, reason, label or location: {text}"
            );
        }
    }
    Ok(())
}

/// What a fuzz target mutates.
enum Base {
    /// Nothing: arbitrary bytes.
    Arbitrary,
    /// A file's bytes.
    Bytes(Vec<u8>),
    /// A JSON document's values.
    Json(Value),
}

/// What one fuzz target reads: a base to mutate, the format, the password, and a fix-up
/// applied after mutating.
struct Target {
    name: &'static str,
    format: Format,
    base: Base,
    password: Option<&'static str>,
    fix_up: fn(Vec<u8>) -> Vec<u8>,
}

fn no_fix_up(bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

fn andotp_fix_up(mut bytes: Vec<u8>) -> Vec<u8> {
    keep_andotp_kdf_cheap(&mut bytes);
    bytes
}

/// Seals the mutated JSON as an encrypted Aegis vault, so the database parser sees it.
fn seal_as_aegis(bytes: Vec<u8>) -> Vec<u8> {
    cheap_aegis(&bytes, "test")
}

/// Seals the mutated JSON as an encrypted andOTP backup.
fn seal_as_andotp(bytes: Vec<u8>) -> Vec<u8> {
    cheap_andotp(&bytes, "test")
}

fn json_fixture(name: &str) -> Base {
    Base::Json(serde_json::from_slice(&fixture(name)).unwrap())
}

fn targets() -> Vec<Target> {
    let target = |name, format, base| Target {
        name,
        format,
        base,
        password: Some("test"),
        fix_up: no_fix_up,
    };
    let bytes = |name| Base::Bytes(fixture(name));
    let arbitrary = |name, format| Target {
        fix_up: if format == Format::AndOtp {
            andotp_fix_up
        } else {
            no_fix_up
        },
        ..target(name, format, Base::Arbitrary)
    };
    vec![
        arbitrary("links: arbitrary bytes", Format::OtpauthLinks),
        target(
            "links: plain.txt mutated",
            Format::OtpauthLinks,
            bytes("plain.txt"),
        ),
        // Every line a link whose query is glued to its label (`?` made `&`): the secret then
        // sits in what looks like the label, which the oracle checks.
        target(
            "links: plain.txt, queries glued to labels",
            Format::OtpauthLinks,
            Base::Bytes(
                String::from_utf8(fixture("plain.txt"))
                    .unwrap()
                    .replace('?', "&")
                    .into_bytes(),
            ),
        ),
        target(
            "links: ente_auth.txt mutated",
            Format::OtpauthLinks,
            bytes("ente_auth.txt"),
        ),
        arbitrary("aegis: arbitrary bytes", Format::Aegis),
        target(
            "aegis: plain mutated",
            Format::Aegis,
            bytes("aegis_plain.json"),
        ),
        target(
            "aegis: plain, JSON values",
            Format::Aegis,
            json_fixture("aegis_plain.json"),
        ),
        target(
            "aegis: cheap encrypted mutated",
            Format::Aegis,
            Base::Bytes(cheap_aegis(
                &serde_json::to_vec(&aegis_db()).unwrap(),
                "test",
            )),
        ),
        Target {
            fix_up: seal_as_aegis,
            ..target(
                "aegis: db JSON values, then sealed",
                Format::Aegis,
                Base::Json(aegis_db()),
            )
        },
        Target {
            password: None,
            ..target(
                "aegis: real encrypted mutated, no password",
                Format::Aegis,
                bytes("aegis_encrypted.json"),
            )
        },
        arbitrary("2fas: arbitrary bytes", Format::TwoFas),
        target(
            "2fas: plain mutated",
            Format::TwoFas,
            bytes("2fas_authenticator_plain_v4.2fas"),
        ),
        target(
            "2fas: plain, JSON values",
            Format::TwoFas,
            json_fixture("2fas_authenticator_plain_v4.2fas"),
        ),
        Target {
            password: None,
            ..target(
                "2fas: encrypted mutated, no password",
                Format::TwoFas,
                bytes("2fas_authenticator_encrypted_v4.2fas"),
            )
        },
        arbitrary("andotp: arbitrary bytes", Format::AndOtp),
        target(
            "andotp: plain mutated",
            Format::AndOtp,
            bytes("andotp_plain.json"),
        ),
        target(
            "andotp: plain, JSON values",
            Format::AndOtp,
            json_fixture("andotp_plain.json"),
        ),
        Target {
            fix_up: andotp_fix_up,
            ..target(
                "andotp: cheap encrypted mutated",
                Format::AndOtp,
                Base::Bytes(cheap_andotp(&fixture("andotp_plain.json"), "test")),
            )
        },
        Target {
            fix_up: seal_as_andotp,
            ..target(
                "andotp: JSON values, then sealed",
                Format::AndOtp,
                json_fixture("andotp_plain.json"),
            )
        },
        arbitrary("bitwarden-json: arbitrary bytes", Format::BitwardenJson),
        target(
            "bitwarden-json: mutated",
            Format::BitwardenJson,
            bytes("bitwarden.json"),
        ),
        target(
            "bitwarden-json: JSON values",
            Format::BitwardenJson,
            json_fixture("bitwarden.json"),
        ),
        arbitrary("bitwarden-csv: arbitrary bytes", Format::BitwardenCsv),
        target(
            "bitwarden-csv: mutated",
            Format::BitwardenCsv,
            bytes("bitwarden.csv"),
        ),
        arbitrary("freeotp-plus: arbitrary bytes", Format::FreeOtpPlus),
        target(
            "freeotp-plus: mutated",
            Format::FreeOtpPlus,
            bytes("freeotp_plus.json"),
        ),
        target(
            "freeotp-plus: JSON values",
            Format::FreeOtpPlus,
            json_fixture("freeotp_plus.json"),
        ),
        arbitrary("proton: arbitrary bytes", Format::Proton),
        target(
            "proton: mutated",
            Format::Proton,
            bytes("proton_authenticator.json"),
        ),
        target(
            "proton: JSON values",
            Format::Proton,
            json_fixture("proton_authenticator.json"),
        ),
    ]
}

/// Runs `cases` cases of `target`; returns how the inputs came out.
fn fuzz(target: &Target, cases: u32, donor: &[u8], fragments: &[String]) -> Tally {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let tally = Tally::default();
    let strategy = (
        prop::collection::vec(any::<u8>(), 0..1024),
        prop::collection::vec(mutation(), 1..6),
        prop::collection::vec(json_mutation(), 1..4),
    );
    let result = runner.run(&strategy, |(random, mutations, json_mutations)| {
        let bytes = match &target.base {
            Base::Arbitrary => random,
            Base::Bytes(base) => {
                let mut bytes = base.clone();
                for mutation in &mutations {
                    apply(&mut bytes, mutation, donor);
                }
                bytes
            }
            Base::Json(base) => {
                let mut value = base.clone();
                for mutation in &json_mutations {
                    apply_json(&mut value, mutation);
                }
                serde_json::to_vec(&value).unwrap()
            }
        };
        let bytes = (target.fix_up)(bytes);
        read_checked(&bytes, target.format, target.password, fragments, &tally)
    });
    if let Err(error) = result {
        panic!("{}: {error}", target.name);
    }
    tally
}

fn run_all(cases: u32) {
    let donor = donor();
    let fragments = secret_fragments();
    for target in targets() {
        let started = std::time::Instant::now();
        let tally = fuzz(&target, cases, &donor, &fragments);
        eprintln!("{:<45} {tally} ({:.1?})", target.name, started.elapsed());
    }
}

/// The debug-build run: 800 cases per target (30 targets; about 35 s on two shared cores).
#[test]
fn no_importer_panics_or_quotes_a_secret() {
    run_all(800);
}

/// 2FAS's encrypted backup read with its password, its JSON values changed (byte-level
/// mutations rarely leave its framing intact): each case that keeps `servicesEncrypted`
/// costs a real 10,000-iteration PBKDF2, so fewer cases than the others.
#[test]
fn two_fas_encrypted_mutated_with_the_password() {
    let target = two_fas_with_the_password();
    let tally = fuzz(&target, 200, &donor(), &secret_fragments());
    eprintln!("{:<45} {tally}", target.name);
}

fn two_fas_with_the_password() -> Target {
    Target {
        name: "2fas: encrypted, JSON values, with the password",
        format: Format::TwoFas,
        base: json_fixture("2fas_authenticator_encrypted_v4.2fas"),
        password: Some("test"),
        fix_up: no_fix_up,
    }
}

/// The cheap re-encrypted files are real: they import to the fixtures' accounts, so the
/// mutations above start from files that decrypt.
#[test]
fn the_cheap_encrypted_files_open() {
    let db = serde_json::to_vec(&aegis_db()).unwrap();
    let aegis = read(&cheap_aegis(&db, "test"), None, Some("test")).unwrap();
    assert_eq!(aegis.accounts().count(), 7);
    let andotp = cheap_andotp(&fixture("andotp_plain.json"), "test");
    assert_eq!(
        read(&andotp, None, Some("test"))
            .unwrap()
            .accounts()
            .count(),
        7
    );
    assert_eq!(
        read(&andotp, None, Some("nope")).unwrap_err(),
        ImportError::WrongPassword
    );
}

/// The large run, for a release build: `FUZZ_CASES` cases per target (default 100,000).
#[test]
#[ignore = "long: run in release with --ignored --nocapture"]
fn many_cases_per_format() {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    run_all(cases);
    // A real PBKDF2 per case: a fiftieth as many.
    let target = two_fas_with_the_password();
    let started = std::time::Instant::now();
    let tally = fuzz(&target, (cases / 50).max(1), &donor(), &secret_fragments());
    eprintln!("{:<45} {tally} ({:.1?})", target.name, started.elapsed());
}
