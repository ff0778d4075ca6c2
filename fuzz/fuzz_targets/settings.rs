//! The server's settings file (server/src/settings/file.rs `FileSettings::parse`).
//! Invariants: parsing is deterministic, and a refusal never quotes the file: the seeds'
//! database URL carries a password (`Fz9SecretPw`) that no error message may contain.
#![no_main]

use cityauth_server::settings::FileSettings;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "Fz9SecretPw";

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match FileSettings::parse(text) {
        Ok(_) => assert!(FileSettings::parse(text).is_ok()),
        Err(error) => {
            let message = error.to_string();
            assert!(
                !message.contains(SECRET),
                "a settings error quotes the file: {message}"
            );
        }
    }
});
