//! Helpers shared by the vault tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cityauth_core::{Account, Enrollment, KdfParams, Vault, otpauth};

/// A passphrase used by the tests.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// Argon2id parameters cheap enough for tests (the cost is not what these tests check).
pub fn cheap_kdf() -> KdfParams {
    KdfParams::new(256, 1, 1).expect("valid test parameters")
}

/// A fresh vault file in `dir`.
pub fn new_vault(dir: &Path) -> (PathBuf, Vault) {
    let path = dir.join("vault.sqlite");
    let vault = Vault::create(&path, PASSPHRASE, cheap_kdf()).expect("create vault");
    (path, vault)
}

/// An account parsed from a link.
pub fn account(link: &str) -> Account {
    otpauth::parse(link).expect("valid link")
}

/// The RFC 6238 SHA-1 seed "12345678901234567890" in base32.
pub const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// A TOTP account numbered `n`, with a distinct secret per `n`.
pub fn numbered(n: u32) -> Account {
    let secret = base32_of(&format!("account secret {n:08}"));
    account(&format!(
        "otpauth://totp/Issuer{n}:user{n}?secret={secret}&issuer=Issuer{n}"
    ))
}

fn base32_of(text: &str) -> String {
    cityauth_core::SecretBytes::new(text.as_bytes().to_vec())
        .to_base32()
        .to_string()
}

/// A well-formed enrollment with `clock_offset`, not yet tied to a City account; its device
/// key is 138 bytes of 9 (a test can look for "9, 9" in a `Debug` form).
pub fn enrollment(clock_offset: i64) -> Enrollment {
    Enrollment {
        server_url: "https://city.example".into(),
        device_id: "device-1".into(),
        username: "alice".into(),
        display_name: "Alice Example".into(),
        server_public_key: vec![4; 65],
        device_key: cityauth_core::DeviceKey::Vault(zeroize::Zeroizing::new(vec![9; 138])),
        clock_offset,
        city_account: None,
    }
}
