//! The FFI surface called from Rust: the conversions and error mapping that Kotlin and Swift
//! rely on (the JVM tests in android/lib exercise the same through JNA).

use std::sync::Arc;

use cityauth_core::{AesGcmKeyWrapper, KeyWrapper};
use cityauth_ffi::{
    CityAuthError, HashAlgorithm, HostKeyWrapper, KdfSettings, KeyWrapError, NewAccount, OtpKind,
    Vault,
};

const CHEAP: KdfSettings = KdfSettings {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};
/// RFC 6238 appendix B's SHA-1 secret, "12345678901234567890", in base32.
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn vault_path(dir: &tempfile::TempDir) -> String {
    dir.path().join("v.sqlite").to_string_lossy().into_owned()
}

#[test]
fn codes_and_hotp_through_the_surface_match_the_rfcs() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create(vault_path(&dir), "test passphrase".into(), Some(CHEAP)).unwrap();
    let totp = vault
        .add_from_link(format!("otpauth://totp/A:b?secret={RFC_SECRET}&digits=8").into())
        .unwrap();
    let hotp = vault
        .add_account(NewAccount {
            issuer: "Bank".into(),
            name: "me".into(),
            secret_base32: RFC_SECRET.into(),
            kind: OtpKind::Hotp,
            algorithm: HashAlgorithm::Sha1,
            digits: 6,
            period: 30,
            counter: 0,
        })
        .unwrap();
    let codes = vault.codes_at(59).unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!((codes[0].id, codes[0].code.as_str()), (totp, "94287082"));
    assert_eq!(codes[0].remaining, 1);
    // RFC 4226 appendix D.
    assert_eq!(vault.next_hotp(hotp).unwrap(), "755224");
    assert_eq!(vault.next_hotp(hotp).unwrap(), "287082");
    let listed = vault.accounts().unwrap();
    assert_eq!(listed[1].counter, 2);
    assert_eq!(listed[1].kind, OtpKind::Hotp);
}

#[test]
fn errors_name_the_field_and_keep_secrets_out() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create(vault_path(&dir), "test passphrase".into(), Some(CHEAP)).unwrap();
    let error = vault
        .add_from_link("otpauth://totp/A:b?secret=SECRET*VALUE".into())
        .unwrap_err();
    match &error {
        CityAuthError::InvalidLink { field, detail } => {
            assert_eq!(field, "secret");
            assert!(!detail.contains("SECRET*VALUE"));
        }
        other => panic!("expected InvalidLink, got {other:?}"),
    }
    let bad_period = vault.add_account(NewAccount {
        issuer: "A".into(),
        name: "b".into(),
        secret_base32: RFC_SECRET.into(),
        kind: OtpKind::Totp,
        algorithm: HashAlgorithm::Sha1,
        digits: 6,
        period: 0,
        counter: 0,
    });
    assert!(matches!(
        bad_period,
        Err(CityAuthError::InvalidInput { ref field, .. }) if field == "period"
    ));
    vault.lock().unwrap();
    assert!(matches!(
        vault.accounts(),
        Err(CityAuthError::Locked { .. })
    ));
    let wrong = vault.unlock_with_passphrase("nope".into()).unwrap_err();
    assert_eq!(wrong.to_string(), "wrong passphrase");
    assert!(matches!(
        Vault::create(vault_path(&dir), "test passphrase".into(), Some(CHEAP)),
        Err(CityAuthError::AlreadyExists { .. })
    ));
    let tiny = KdfSettings {
        memory_kib: 1,
        ..CHEAP
    };
    let path = dir.path().join("w.sqlite").to_string_lossy().into_owned();
    assert!(matches!(
        Vault::create(path, "test passphrase".into(), Some(tiny)),
        Err(CityAuthError::InvalidInput { ref field, .. }) if field == "kdf"
    ));
}

/// A host key store over the core's AES-GCM wrapper (real AES-256-GCM), standing in for the
/// Keystore or Keychain; the JVM tests do the same through javax.crypto.
struct AesHost(AesGcmKeyWrapper);

impl HostKeyWrapper for AesHost {
    fn key_id(&self) -> String {
        self.0.key_id()
    }
    fn wrap(&self, key: Vec<u8>) -> Result<Vec<u8>, KeyWrapError> {
        self.0
            .wrap(&key)
            .map_err(|e| KeyWrapError::Failed { reason: e.reason })
    }
    fn unwrap(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyWrapError> {
        self.0
            .unwrap(&wrapped)
            .map(|key| key.to_vec())
            .map_err(|e| KeyWrapError::Failed { reason: e.reason })
    }
}

fn host(key_id: &str, key: &[u8; 32]) -> Arc<dyn HostKeyWrapper> {
    Arc::new(AesHost(AesGcmKeyWrapper::new(key_id, key).unwrap()))
}

#[test]
fn a_host_key_slot_unlocks_and_another_host_key_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let vault = Vault::create(path.clone(), "test passphrase".into(), Some(CHEAP)).unwrap();
    vault
        .add_key_wrapper_slot(host("device", &[7; 32]))
        .unwrap();
    let slots = vault.slots().unwrap();
    assert_eq!(slots[1].key_id.as_deref(), Some("device"));
    drop(vault);
    let reopened = Vault::open(path).unwrap();
    assert!(matches!(
        reopened.unlock_with_key_wrapper(host("device", &[8; 32])),
        Err(CityAuthError::KeyStore { .. })
    ));
    assert!(matches!(
        reopened.unlock_with_key_wrapper(host("other", &[7; 32])),
        Err(CityAuthError::NoMatchingSlot { .. })
    ));
    assert!(!reopened.is_unlocked().unwrap());
    reopened
        .unlock_with_key_wrapper(host("device", &[7; 32]))
        .unwrap();
    assert!(reopened.is_unlocked().unwrap());
}

#[test]
fn measuring_in_rust_draws_the_same_codes() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create(vault_path(&dir), "test passphrase".into(), Some(CHEAP)).unwrap();
    vault
        .add_from_link(format!("otpauth://totp/A:b?secret={RFC_SECRET}").into())
        .unwrap();
    let nanos = cityauth_ffi::measure_codes_in_rust(Arc::clone(&vault), 59, 10).unwrap();
    assert!(nanos > 0);
    vault.lock().unwrap();
    assert!(cityauth_ffi::measure_codes_in_rust(vault, 59, 1).is_err());
}

#[test]
fn a_rolled_back_index_is_reported_and_repaired_through_the_surface() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let vault = Vault::create(path.clone(), "test passphrase".into(), Some(CHEAP)).unwrap();
    let hotp = vault
        .add_from_link(format!("otpauth://hotp/Bank:me?secret={RFC_SECRET}&counter=0").into())
        .unwrap();
    assert_eq!(vault.next_hotp(hotp).unwrap(), "755224");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let old: (Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT sealed_index, (SELECT sealed FROM accounts WHERE id = ?1) FROM vault",
            [hotp],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(vault.next_hotp(hotp).unwrap(), "287082");
    drop(vault);
    conn.execute("UPDATE vault SET sealed_index = ?1", [&old.0])
        .unwrap();
    conn.execute(
        "UPDATE accounts SET sealed = ?1 WHERE id = ?2",
        rusqlite::params![old.1, hotp],
    )
    .unwrap();

    let vault = Vault::open(path).unwrap();
    vault
        .unlock_with_passphrase("test passphrase".into())
        .unwrap();
    assert_eq!(vault.integrity_problems().unwrap().len(), 1);
    assert!(matches!(
        vault.next_hotp(hotp),
        Err(CityAuthError::Integrity { .. })
    ));
    vault.repair_index().unwrap();
    assert!(vault.integrity_problems().unwrap().is_empty());
    assert_eq!(vault.next_hotp(hotp).unwrap(), "287082");
}

#[test]
fn rotation_through_the_surface_keeps_the_host_keys_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let vault = Vault::create(path.clone(), "test passphrase".into(), Some(CHEAP)).unwrap();
    let id = vault
        .add_from_link(format!("otpauth://totp/A:b?secret={RFC_SECRET}").into())
        .unwrap();
    vault
        .add_key_wrapper_slot(host("device", &[7; 32]))
        .unwrap();
    let recovery = vault.slots().unwrap().len();
    assert_eq!(recovery, 2);
    vault
        .change_passphrase_keeping(
            "another passphrase".into(),
            Some(CHEAP),
            vec![host("device", &[7; 32])],
        )
        .unwrap();
    assert_eq!(vault.slots().unwrap().len(), 2);
    let passphrase_slot = vault
        .slots()
        .unwrap()
        .into_iter()
        .find(|slot| slot.key_id.is_none())
        .unwrap()
        .id;
    assert!(matches!(
        vault.remove_slot_rotating(passphrase_slot, vec![], vec![]),
        Err(CityAuthError::InvalidInput { .. })
    ));
    vault
        .remove_slot_rotating(passphrase_slot, vec![], vec![host("device", &[7; 32])])
        .unwrap();
    drop(vault);
    let vault = Vault::open(path).unwrap();
    assert!(matches!(
        vault.unlock_with_passphrase("another passphrase".into()),
        Err(CityAuthError::NoMatchingSlot { .. } | CityAuthError::WrongPassphrase { .. })
    ));
    vault
        .unlock_with_key_wrapper(host("device", &[7; 32]))
        .unwrap();
    assert_eq!(vault.accounts().unwrap()[0].id, id);
}
