//! Issue 10, item 12, through the FFI: a weak new passphrase is `InvalidInput` on the field
//! "passphrase" with the rule as its message.

use cityauth_ffi::{CityAuthError, KdfSettings, Vault};

const CHEAP: KdfSettings = KdfSettings {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

#[test]
fn a_weak_passphrase_is_invalid_input_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.sqlite").to_string_lossy().into_owned();
    match Vault::create(path.clone(), "p".into(), Some(CHEAP)) {
        Err(CityAuthError::InvalidInput { field, detail }) => {
            assert_eq!(field, "passphrase");
            assert_eq!(detail, "the passphrase must have at least 10 characters");
        }
        Err(other) => panic!("expected InvalidInput, got {other:?}"),
        Ok(_) => panic!("a one-letter passphrase made a vault"),
    }
    let vault = Vault::create(path, "a good passphrase".into(), Some(CHEAP)).unwrap();
    assert!(matches!(
        vault.change_passphrase("0987654321".into(), Some(CHEAP)),
        Err(CityAuthError::InvalidInput { ref field, .. }) if field == "passphrase"
    ));
}

/// Issue 14, item 1: the byte-array entries (Kotlin `ByteArray`) take the same passphrase as
/// the string ones, and bytes that are not UTF-8 are a typed error naming the field.
#[test]
fn the_utf8_entries_match_the_string_ones_and_refuse_bytes_that_are_not_text() {
    use cityauth_ffi::SecretUtf8;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.sqlite").to_string_lossy().into_owned();
    let vault = Vault::create_utf8(path.clone(), "grüne Brücke 7".into(), Some(CHEAP)).unwrap();
    vault.lock().unwrap();
    vault
        .unlock_with_passphrase("grüne Brücke 7".into())
        .unwrap();
    vault
        .change_passphrase_utf8("neue Brücke 8".into(), Some(CHEAP))
        .unwrap();
    vault.lock().unwrap();
    assert!(matches!(
        vault.unlock_with_passphrase_utf8("grüne Brücke 7".into()),
        Err(CityAuthError::WrongPassphrase { .. })
    ));
    vault
        .unlock_with_passphrase_utf8("neue Brücke 8".into())
        .unwrap();
    match vault.unlock_with_passphrase_utf8(SecretUtf8::from(vec![0x66, 0xff])) {
        Err(CityAuthError::InvalidInput { field, .. }) => assert_eq!(field, "passphrase"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    let backup = vault.backup_utf8("backup words".into()).unwrap();
    let restore = vault
        .preview_import_with_password_utf8(
            backup,
            Some("cityauth".into()),
            "backup words".into(),
            cityauth_ffi::ImportCancel::new(),
        )
        .unwrap();
    assert_eq!(restore.report().unwrap().format, "cityauth");
}
