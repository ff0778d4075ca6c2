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
