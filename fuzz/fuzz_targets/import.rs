//! Every importer: the format detector, each format's parser on the same bytes (without a
//! password: the framing of encrypted files is parsed before one is asked for), and, when
//! the file asks for a cheap KDF, cityauth's backup opener and Aegis's decryption with a
//! password. Invariants: reading with the detected format named gives what detection gives;
//! every accepted account, written as an otpauth link, parses back to itself.
#![no_main]

use cityauth_core::otpauth;
use cityauth_transfer::{Format, ImportError, Parsed, detect, read};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const PASSWORD: &str = "fuzz password";

/// The most KDF work (KiB × passes, or scrypt N × r) a case may cost.
const CHEAP: u64 = 1024;

fn check(parsed: &Result<Parsed, ImportError>) {
    let Ok(parsed) = parsed else { return };
    for entry in &parsed.entries {
        if let Ok(account) = &entry.outcome {
            let link = otpauth::write(account);
            let again = otpauth::parse(&link).expect("an imported account's link parses");
            assert_eq!(
                &again, account,
                "an imported account does not survive its link"
            );
        }
    }
}

fn number(value: &Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(value, |v, k| v.get(k))?.as_u64()
}

/// Whether the KDF the file asks for (a backup's Argon2id, Aegis's scrypt slots) is cheap.
fn cheap_kdf(bytes: &[u8]) -> bool {
    let Ok(json) = serde_json::from_slice::<Value>(bytes) else {
        return false;
    };
    if let (Some(m), Some(t)) = (
        number(&json, &["kdf", "m_kib"]),
        number(&json, &["kdf", "t"]),
    ) {
        return m.saturating_mul(t) <= CHEAP;
    }
    if let Some(slots) = json.pointer("/header/slots").and_then(Value::as_array) {
        return slots.iter().all(|slot| {
            let n = number(slot, &["n"]).unwrap_or(u64::MAX);
            let r = number(slot, &["r"]).unwrap_or(u64::MAX);
            let p = number(slot, &["p"]).unwrap_or(u64::MAX);
            n.saturating_mul(r).saturating_mul(p) <= CHEAP
        });
    }
    false
}

fuzz_target!(|bytes: &[u8]| {
    let detected = detect(bytes);
    let auto = read(bytes, None, None);
    check(&auto);
    match (&auto, detected) {
        (Err(ImportError::UnknownFormat), None) => {}
        (_, None) => panic!("no format detected, yet read did not say UnknownFormat"),
        (Ok(parsed), Some(format)) => assert_eq!(parsed.format, format),
        (Err(_), Some(_)) => {}
    }
    for format in Format::ALL {
        let named = read(bytes, Some(format), None);
        check(&named);
        if Some(format) == detected {
            assert_eq!(named.is_ok(), auto.is_ok(), "{format:?} named vs detected");
        }
    }
    if matches!(detected, Some(Format::CityauthBackup | Format::Aegis)) && cheap_kdf(bytes) {
        check(&read(bytes, detected, Some(PASSWORD)));
    }
});
