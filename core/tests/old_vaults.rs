//! Vault files written by earlier builds, frozen in `core/tests/fixtures/` (each directory's
//! README says which commit made it and how): every one opens, unlocks, draws the codes its
//! build drew, keeps its HOTP counter and slots, and a tampered one is still refused. Opening
//! writes nothing; the upgrade happens at the first unlock, after the old header verified.
//!
//! Never regenerate an old fixture with new code; a schema bump adds a new fixture.

use std::path::{Path, PathBuf};

use cityauth_core::{AccountId, AesGcmKeyWrapper, IntegrityError, KdfParams, Vault, VaultError};

const PASSPHRASE: &str = "fixture passphrase";
const RECOVERY: &str = "fixture recovery";
const WRAPPING_KEY: [u8; 32] = [0x42; 32];
const HOTP: AccountId = AccountId(8);
const CITY: AccountId = AccountId(9);

/// The codes the writing build drew at these times (its README), for accounts 1 to 7.
/// Accounts 2 to 4 are also RFC 6238's test vectors.
const EXPECTED: &[(u64, [&str; 7])] = &[
    (
        59,
        [
            "287082", "94287082", "46119246", "90693936", "920136", "550594", "PV9M4",
        ],
    ),
    (
        1_111_111_109,
        [
            "081804", "07081804", "68084774", "25091201", "857319", "023009", "PY4YB",
        ],
    ),
    (
        1_234_567_890,
        [
            "005924", "89005924", "91819424", "93441116", "450756", "275929", "VHHQY",
        ],
    ),
    (
        2_000_000_000,
        [
            "279037", "69279037", "90698825", "38618901", "471171", "791279", "9N776",
        ],
    ),
];
/// The City account's codes in the schema-2 fixture at the same times.
const CITY_CODES: [&str; 4] = ["416743", "837419", "655825", "404369"];
/// RFC 4226's HOTP values for counters 3 and 4: the fixtures drew counters 0 to 2.
const NEXT_HOTP: [&str; 2] = ["969429", "338314"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .join("vault.db")
}

/// A working copy of a frozen fixture (the fixture itself is never opened for writing).
fn copy(name: &str, dir: &Path) -> PathBuf {
    let path = dir.join(format!("{name}.db"));
    std::fs::copy(fixture(name), &path).unwrap();
    path
}

fn user_version(path: &Path) -> u32 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

/// Every byte of the file and of its WAL, to show that nothing was written.
fn snapshot(path: &Path) -> Vec<Vec<u8>> {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::fs::read(name).unwrap_or_default()
        })
        .collect()
}

fn assert_codes(vault: &Vault, with_city: bool) {
    for (n, (time, expected)) in EXPECTED.iter().enumerate() {
        let codes = vault.codes(*time).unwrap();
        let mut want: Vec<(i64, &str)> = expected
            .iter()
            .enumerate()
            .map(|(i, c)| (i as i64 + 1, *c))
            .collect();
        if with_city {
            want.push((CITY.0, CITY_CODES[n]));
        }
        let got: Vec<(i64, &str)> = codes.iter().map(|c| (c.id.0, c.code.as_str())).collect();
        assert_eq!(got, want, "codes at {time}");
    }
}

/// Opens, unlocks, draws every code, carries the HOTP counter on, then reopens the upgraded
/// file with each of its other slots.
fn check_old_vault(name: &str, with_city: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = copy(name, dir.path());
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert_eq!(vault.integrity_problems().unwrap(), vec![], "{name}");
    assert_codes(&vault, with_city);
    let accounts = vault.accounts().unwrap();
    assert_eq!(accounts.len(), if with_city { 9 } else { 8 });
    assert_eq!(
        vault.account(HOTP).unwrap().params().counter(),
        3,
        "{name}: the counter kept"
    );
    assert_eq!(vault.next_hotp(HOTP).unwrap().as_str(), NEXT_HOTP[0]);
    assert_eq!(vault.slots().unwrap().len(), 3);
    if with_city {
        let enrollment = vault
            .enrollment()
            .unwrap()
            .expect("the enrollment survives");
        assert_eq!(enrollment.username, "alice");
        assert_eq!(enrollment.clock_offset, -7);
        assert_eq!(enrollment.city_account, Some(CITY));
    } else {
        assert_eq!(vault.enrollment().unwrap(), None);
    }
    drop(vault);
    assert_eq!(user_version(&path), 3, "{name}: upgraded at the unlock");

    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(RECOVERY).unwrap();
    assert_codes(&vault, with_city);
    vault.lock();
    let wrapper = AesGcmKeyWrapper::new("fixture-key", &WRAPPING_KEY).unwrap();
    vault.unlock_with_key_wrapper(&wrapper).unwrap();
    assert_eq!(
        vault.next_hotp(HOTP).unwrap().as_str(),
        NEXT_HOTP[1],
        "{name}"
    );
    assert_eq!(vault.integrity_problems().unwrap(), vec![]);
    let labels = |list: &[cityauth_core::AccountInfo]| {
        list.iter()
            .map(|a| (a.id, a.issuer.clone(), a.name.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(labels(&accounts), labels(&vault.accounts().unwrap()));
}

#[test]
fn a_schema_1_vault_of_the_first_release_opens_unlocks_and_keeps_its_codes() {
    check_old_vault("vault-schema1", false);
}

#[test]
fn a_schema_2_vault_of_the_previous_release_opens_unlocks_and_keeps_its_codes() {
    check_old_vault("vault-schema2", true);
}

#[test]
fn a_schema_1_vault_the_previous_release_failed_to_upgrade_is_rescued() {
    // That release moved the file to user_version 2 at open and then refused its header.
    assert_eq!(user_version(&fixture("vault-schema1-opened-by-6e61727")), 2);
    check_old_vault("vault-schema1-opened-by-6e61727", false);
}

#[test]
fn opening_an_old_vault_writes_nothing_before_its_header_is_verified() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["vault-schema1", "vault-schema2"] {
        let path = copy(name, dir.path());
        let before = snapshot(&path);
        let vault = Vault::open(&path).unwrap();
        assert_eq!(
            vault.unlock_with_passphrase("not it"),
            Err(VaultError::WrongPassphrase)
        );
        assert!(vault.slots().is_ok());
        drop(vault);
        assert_eq!(
            snapshot(&path),
            before,
            "{name}: open and a failed unlock wrote nothing"
        );
    }
}

#[test]
fn a_tampered_old_vault_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "vault-schema1",
        "vault-schema2",
        "vault-schema1-opened-by-6e61727",
    ] {
        // A slot's parameters changed behind the vault's back: its header no longer verifies.
        let path = copy(name, dir.path());
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut wrapped: Vec<u8> = conn
            .query_row("SELECT wrapped_key FROM slots WHERE id = 3", [], |row| {
                row.get(0)
            })
            .unwrap();
        wrapped[0] ^= 1;
        conn.execute("UPDATE slots SET wrapped_key = ?1 WHERE id = 3", [wrapped])
            .unwrap();
        drop(conn);
        let before = snapshot(&path);
        let vault = Vault::open(&path).unwrap();
        assert_eq!(
            vault.unlock_with_passphrase(PASSPHRASE),
            Err(VaultError::Integrity(IntegrityError::Header)),
            "{name}"
        );
        drop(vault);
        assert_eq!(
            snapshot(&path),
            before,
            "{name}: nothing migrated or re-signed"
        );
        assert!(user_version(&path) < 3);
    }
}

#[test]
fn a_vault_of_this_build_opens_unlocks_and_keeps_its_codes() {
    check_old_vault("vault-schema3", true);
}

/// Writes `tests/fixtures/vault-schema3/vault.db` with this build: run it once when the
/// schema is bumped (`cargo test -p cityauth-core --test old_vaults -- --ignored`), then
/// commit the file and never regenerate it.
#[test]
#[ignore = "writes a fixture; run by hand at a schema bump"]
fn write_the_schema_3_fixture() {
    use cityauth_core::otp::{Algorithm, OtpParams};
    use cityauth_core::{Account, SecretBytes};
    let path = fixture("vault-schema3");
    assert!(!path.exists(), "a fixture is frozen: never regenerate it");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let kdf = KdfParams::new(1024, 1, 1).unwrap();
    let vault = Vault::create(&path, PASSPHRASE, kdf).unwrap();
    let sha1 = SecretBytes::new(b"12345678901234567890".to_vec());
    let sha256 = SecretBytes::new(b"12345678901234567890123456789012".to_vec());
    let sha512 = SecretBytes::new(
        b"1234567890123456789012345678901234567890123456789012345678901234".to_vec(),
    );
    let accounts = [
        (
            "sha1-6-30",
            sha1.clone(),
            OtpParams::totp(Algorithm::Sha1, 6, 30),
        ),
        (
            "sha1-8-30",
            sha1.clone(),
            OtpParams::totp(Algorithm::Sha1, 8, 30),
        ),
        (
            "sha256-8-30",
            sha256.clone(),
            OtpParams::totp(Algorithm::Sha256, 8, 30),
        ),
        (
            "sha512-8-30",
            sha512.clone(),
            OtpParams::totp(Algorithm::Sha512, 8, 30),
        ),
        (
            "sha256-6-60",
            sha256,
            OtpParams::totp(Algorithm::Sha256, 6, 60),
        ),
        (
            "sha512-6-60",
            sha512,
            OtpParams::totp(Algorithm::Sha512, 6, 60),
        ),
        ("steam", sha1.clone(), OtpParams::steam(30)),
        ("hotp", sha1, OtpParams::hotp(Algorithm::Sha1, 6, 0)),
    ];
    for (name, secret, params) in accounts {
        let issuer = if name == "steam" { "Valve" } else { "RFC" };
        vault
            .add(Account::new(issuer, name, secret, params.unwrap()).unwrap())
            .unwrap();
    }
    for _ in 0..3 {
        vault.next_hotp(HOTP).unwrap();
    }
    vault.add_passphrase_slot(RECOVERY, kdf).unwrap();
    let wrapper = AesGcmKeyWrapper::new("fixture-key", &WRAPPING_KEY).unwrap();
    vault.add_key_wrapper_slot(&wrapper).unwrap();
    let city = Account::new(
        "City",
        "alice",
        SecretBytes::new(b"city-account-secret!".to_vec()),
        OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(),
    )
    .unwrap();
    let enrollment = cityauth_core::Enrollment {
        server_url: "https://city.example".into(),
        device_id: "device-1".into(),
        username: "alice".into(),
        display_name: "Alice Example".into(),
        server_public_key: vec![4; 65],
        device_key: cityauth_core::DeviceKey::Vault(zeroize::Zeroizing::new(vec![9; 138])),
        clock_offset: -7,
        city_account: None,
    };
    assert_eq!(
        vault.save_enrollment(enrollment, Some(city)).unwrap(),
        Some(CITY)
    );
    assert_codes(&vault, true);
}
