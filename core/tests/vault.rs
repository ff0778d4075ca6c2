//! The vault against real SQLite files: round trips, passphrases, slots, files that are not
//! vaults, and operations that must persist.

mod common;

use std::fs;

use cityauth_core::otp::{self, Algorithm, OtpKind, OtpParams};
use cityauth_core::{
    AccountId, AesGcmKeyWrapper, KeyWrapper, SecretBytes, Vault, VaultError, otpauth,
};
use common::{PASSPHRASE, RFC_SECRET, account, cheap_kdf, enrollment, new_vault, numbered};

#[test]
fn the_vault_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Vault>();
}

#[test]
fn accounts_survive_lock_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let links = [
        format!("otpauth://totp/ACME:alice?secret={RFC_SECRET}&issuer=ACME"),
        format!(
            "otpauth://totp/Big%20Bank:bob?secret={RFC_SECRET}&algorithm=SHA256&digits=8&period=60"
        ),
        format!("otpauth://hotp/Corp:carol?secret={RFC_SECRET}&counter=5"),
        format!("otpauth://steam/Steam:dave?secret={RFC_SECRET}"),
    ];
    let ids: Vec<AccountId> = links
        .iter()
        .map(|l| vault.add(account(l)).unwrap())
        .collect();
    let before = vault.accounts().unwrap();
    let codes_before = vault.codes(1_111_111_109).unwrap();
    vault.lock();
    assert_eq!(vault.accounts(), Err(VaultError::Locked));
    drop(vault);

    let vault = Vault::open(&path).unwrap();
    assert!(!vault.is_unlocked());
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    let after = vault.accounts().unwrap();
    assert_eq!(after, before);
    assert_eq!(after.iter().map(|a| a.id).collect::<Vec<_>>(), ids);
    for (info, link) in after.iter().zip(&links) {
        let original = account(link);
        assert_eq!(vault.account(info.id).unwrap(), original);
        assert_eq!(
            (info.issuer.as_str(), info.name.as_str()),
            (original.issuer(), original.name())
        );
    }
    assert_eq!(after[2].params.kind(), OtpKind::Hotp);
    assert_eq!(after[2].params.counter(), 5);

    // Codes equal the stateless generator's, HOTP accounts excluded.
    let codes = vault.codes(1_111_111_109).unwrap();
    assert_eq!(codes, codes_before);
    assert_eq!(
        codes.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ids[0], ids[1], ids[3]]
    );
    assert_eq!(codes[0].code.as_str(), "081804"); // RFC 6238, 6 low digits of 07081804
    let sha256 = OtpParams::totp(Algorithm::Sha256, 8, 60).unwrap();
    let secret = SecretBytes::from_base32(RFC_SECRET).unwrap();
    assert_eq!(
        codes[1].code,
        otp::code_at_time(&secret, &sha256, 1_111_111_109).code
    );
    assert_eq!(
        (codes[0].remaining, codes[1].remaining),
        (30 - 1_111_111_109 % 30, 60 - 1_111_111_109 % 60)
    );
    assert_eq!(codes[2].code.as_str().len(), 5);
}

#[test]
fn hotp_counter_advances_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let id = vault
        .add(account(&format!(
            "otpauth://hotp/HOTP:user?secret={RFC_SECRET}&counter=0"
        )))
        .unwrap();
    // RFC 4226 Appendix D, counters 0, 1, 2, ...
    assert_eq!(vault.next_hotp(id).unwrap().as_str(), "755224");
    assert_eq!(vault.next_hotp(id).unwrap().as_str(), "287082");
    drop(vault);
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert_eq!(vault.accounts().unwrap()[0].params.counter(), 2);
    assert_eq!(vault.next_hotp(id).unwrap().as_str(), "359152");
    assert_eq!(vault.next_hotp(id).unwrap().as_str(), "969429");
    // A TOTP account has no "next" code, and an HOTP one no current code.
    let totp = vault.add(numbered(1)).unwrap();
    assert_eq!(vault.next_hotp(totp), Err(VaultError::NotHotp(totp)));
    assert_eq!(vault.code(id, 0), Err(VaultError::NotTimeBased(id)));
}

#[test]
fn hotp_counter_at_its_maximum_is_an_error_not_a_wrap() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, vault) = new_vault(dir.path());
    let max = u64::MAX;
    let id = vault
        .add(account(&format!(
            "otpauth://hotp/x?secret={RFC_SECRET}&counter={max}"
        )))
        .unwrap();
    assert_eq!(vault.next_hotp(id), Err(VaultError::CounterExhausted(id)));
    assert_eq!(vault.accounts().unwrap()[0].params.counter(), max);
}

#[test]
fn rename_move_and_remove_persist() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let ids: Vec<AccountId> = (0..4).map(|n| vault.add(numbered(n)).unwrap()).collect();
    vault.rename(ids[1], "Renamed Inc", "new-name").unwrap();
    vault.move_account(ids[3], 0).unwrap();
    vault.move_account(ids[0], 99).unwrap();
    vault.remove(ids[2]).unwrap();
    assert_eq!(
        vault.remove(ids[2]),
        Err(VaultError::UnknownAccount(ids[2]))
    );
    let expected = vec![ids[3], ids[1], ids[0]];
    assert_eq!(
        vault
            .accounts()
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        expected
    );
    drop(vault);

    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    let listed = vault.accounts().unwrap();
    assert_eq!(listed.iter().map(|a| a.id).collect::<Vec<_>>(), expected);
    assert_eq!(
        (listed[1].issuer.as_str(), listed[1].name.as_str()),
        ("Renamed Inc", "new-name")
    );
    // Renaming keeps the secret: same codes as before.
    assert_eq!(
        vault.account(ids[1]).unwrap().secret(),
        numbered(1).secret()
    );
    assert!(vault.integrity_problems().unwrap().is_empty());
}

#[test]
fn wrong_passphrase_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    vault.add(numbered(1)).unwrap();
    drop(vault);
    let before = fs::read(&path).unwrap();

    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase("Correct horse battery staple"),
        Err(VaultError::WrongPassphrase)
    );
    assert_eq!(
        vault.unlock_with_passphrase(""),
        Err(VaultError::WrongPassphrase)
    );
    assert!(!vault.is_unlocked());
    assert_eq!(vault.accounts(), Err(VaultError::Locked));
    drop(vault);
    assert_eq!(fs::read(&path).unwrap(), before);

    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert_eq!(vault.accounts().unwrap().len(), 1);
}

#[test]
fn change_passphrase_reseals_every_record_under_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let id = vault.add(numbered(7)).unwrap();
    let sealed_before = account_blobs(&path);
    assert_eq!(
        vault.change_passphrase("", cheap_kdf()),
        Err(VaultError::EmptyPassphrase)
    );
    vault
        .change_passphrase("a new passphrase", cheap_kdf())
        .unwrap();
    // Issue 10, item 4: the data key rotates, so every record is sealed again.
    assert_ne!(account_blobs(&path), sealed_before);
    drop(vault);

    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase(PASSPHRASE),
        Err(VaultError::WrongPassphrase)
    );
    vault.unlock_with_passphrase("a new passphrase").unwrap();
    assert_eq!(vault.account(id).unwrap(), numbered(7));
    assert_eq!(vault.slots().unwrap().len(), 1);
}

#[test]
fn key_wrapping_slot_unlocks_and_the_last_slot_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let id = vault.add(numbered(3)).unwrap();
    let wrapper = AesGcmKeyWrapper::generate("device-key").unwrap();
    let slot = vault.add_key_wrapper_slot(&wrapper).unwrap();
    let slots = vault.slots().unwrap();
    assert_eq!(slots.len(), 2);
    assert_eq!(slots[1].key_id.as_deref(), Some("device-key"));
    drop(vault);

    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_key_wrapper(&wrapper).unwrap();
    assert_eq!(vault.account(id).unwrap(), numbered(3));

    // Another key under the same name cannot open it; an unknown name has no slot.
    let impostor = AesGcmKeyWrapper::generate("device-key").unwrap();
    let locked = Vault::open(&path).unwrap();
    assert!(matches!(
        locked.unlock_with_key_wrapper(&impostor),
        Err(VaultError::KeyWrap(_))
    ));
    let stranger = AesGcmKeyWrapper::generate("other-key").unwrap();
    assert_eq!(
        locked.unlock_with_key_wrapper(&stranger),
        Err(VaultError::NoMatchingSlot)
    );
    assert!(!locked.is_unlocked());

    // Remove the passphrase slot: the platform key alone opens the vault, and it is the
    // last slot, so it cannot go.
    let passphrase_slot = slots[0].id;
    vault.remove_slot(passphrase_slot).unwrap();
    assert_eq!(vault.remove_slot(slot), Err(VaultError::LastSlot));
    assert_eq!(vault.remove_slot(999), Err(VaultError::UnknownSlot(999)));
    drop(vault);
    let vault = Vault::open(&path).unwrap();
    assert_eq!(
        vault.unlock_with_passphrase(PASSPHRASE),
        Err(VaultError::NoMatchingSlot)
    );
    vault.unlock_with_key_wrapper(&wrapper).unwrap();
    assert_eq!(vault.accounts().unwrap().len(), 1);
}

#[test]
fn a_key_wrapper_that_returns_the_wrong_key_is_an_integrity_error() {
    struct Liar;
    impl KeyWrapper for Liar {
        fn key_id(&self) -> String {
            "liar".into()
        }
        fn wrap(&self, _key: &[u8]) -> Result<Vec<u8>, cityauth_core::KeyWrapError> {
            Ok(vec![0; 32])
        }
        fn unwrap(
            &self,
            wrapped: &[u8],
        ) -> Result<zeroize::Zeroizing<Vec<u8>>, cityauth_core::KeyWrapError> {
            Ok(zeroize::Zeroizing::new(wrapped.to_vec()))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    vault.add_key_wrapper_slot(&Liar).unwrap();
    let vault = Vault::open(&path).unwrap();
    assert!(matches!(
        vault.unlock_with_key_wrapper(&Liar),
        Err(VaultError::Integrity(_))
    ));
}

#[test]
fn files_that_are_not_vaults_are_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sqlite");
    assert!(matches!(Vault::open(&missing), Err(VaultError::NotFound)));
    assert!(!missing.exists());

    let text = dir.path().join("notes.txt");
    fs::write(
        &text,
        "this is not a database, and it is long enough to look like one?".repeat(20),
    )
    .unwrap();
    let before = fs::read(&text).unwrap();
    assert!(matches!(Vault::open(&text), Err(VaultError::NotAVault)));
    assert_eq!(fs::read(&text).unwrap(), before);

    let empty = dir.path().join("empty");
    fs::write(&empty, b"").unwrap();
    assert!(matches!(Vault::open(&empty), Err(VaultError::NotAVault)));
    assert_eq!(fs::read(&empty).unwrap(), b"");

    let other = dir.path().join("other.sqlite");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    drop(conn);
    let before = fs::read(&other).unwrap();
    assert!(matches!(Vault::open(&other), Err(VaultError::NotAVault)));
    assert_eq!(fs::read(&other).unwrap(), before);

    // create never overwrites.
    assert!(matches!(
        Vault::create(&other, PASSPHRASE, cheap_kdf()),
        Err(VaultError::AlreadyExists)
    ));
    assert_eq!(fs::read(&other).unwrap(), before);
}

#[test]
fn a_vault_from_a_newer_version_says_so_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    vault.add(numbered(1)).unwrap();
    drop(vault);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(conn);
    let before = fs::read(&path).unwrap();
    match Vault::open(&path) {
        Err(VaultError::TooNew {
            found: 99,
            supported,
        }) => assert!(supported < 99),
        other => panic!("expected TooNew, got {:?}", other.err()),
    }
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn secrets_never_reach_the_file_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let link =
        "otpauth://totp/VeryDistinctIssuer:visible-name?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    vault.add(account(link)).unwrap();
    drop(vault);
    let mut bytes = fs::read(&path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(fs::read(wal).unwrap_or_default());
    let secret = otpauth::parse(link).unwrap().secret().expose().to_vec();
    for needle in [
        &secret[..],
        b"VeryDistinctIssuer",
        b"visible-name",
        b"JBSWY3DP",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{:?} found in the file",
            String::from_utf8_lossy(needle)
        );
    }
}

#[cfg(unix)]
#[test]
fn a_new_vault_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    vault.add(numbered(1)).unwrap();
    for suffix in ["", "-wal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let mode = fs::metadata(&name).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{suffix}");
    }
}

#[test]
fn debug_output_of_a_vault_listing_has_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, vault) = new_vault(dir.path());
    let id = vault
        .add(account(&format!("otpauth://totp/A:b?secret={RFC_SECRET}")))
        .unwrap();
    let shown = format!(
        "{:?} {:?} {:?}",
        vault.accounts().unwrap(),
        vault.account(id).unwrap(),
        vault.codes(59).unwrap()
    );
    assert!(
        !shown.contains(RFC_SECRET) && !shown.contains("49, 50, 51"),
        "{shown}"
    );
    assert!(
        !shown.contains("287082"),
        "codes are redacted in Debug: {shown}"
    );
}

/// Every account row's sealed blob, by id.
fn account_blobs(path: &std::path::Path) -> Vec<(i64, Vec<u8>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut statement = conn
        .prepare("SELECT id, sealed FROM accounts ORDER BY id")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_enrollment_is_sealed_with_the_city_account_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path());
    let city = account(&format!(
        "otpauth://totp/City:alice?secret={RFC_SECRET}&issuer=City"
    ));
    let id = vault
        .save_enrollment(enrollment(-7), Some(city.clone()))
        .unwrap()
        .expect("the City account was added");
    vault.set_clock_offset(12).unwrap();
    drop(vault);

    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    let stored = vault.enrollment().unwrap().unwrap();
    assert_eq!(stored.clock_offset, 12);
    assert_eq!(stored.city_account, Some(id));
    assert_eq!(stored.device_key, enrollment(-7).device_key);
    assert_eq!(vault.account(id).unwrap(), city);
    assert!(
        !format!("{stored:?}").contains("9, 9"),
        "Debug hides the device key"
    );
    drop(vault);

    // A flipped byte in the sealed enrollment is an integrity error, not a wrong key.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut sealed: Vec<u8> = conn
        .query_row("SELECT sealed FROM enrollment", [], |row| row.get(0))
        .unwrap();
    sealed[20] ^= 1;
    conn.execute("UPDATE enrollment SET sealed = ?1", [sealed])
        .unwrap();
    drop(conn);
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert_eq!(
        vault.enrollment(),
        Err(VaultError::Integrity(
            cityauth_core::IntegrityError::Enrollment
        ))
    );
    vault.forget_enrollment().unwrap();
    assert_eq!(vault.enrollment().unwrap(), None);
    assert_eq!(
        vault.account(id).unwrap(),
        city,
        "the City account's codes stay"
    );
}
