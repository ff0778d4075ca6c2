//! The City account's TOTP (RFC 6238: SHA-1, 6 digits, 30 s), just enough to check the
//! codes the app shows for the reset's code alternative.

use ring::hmac;

/// Seconds per step.
pub const PERIOD: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;

/// The code for time step `step`.
pub fn code_at(secret: &[u8], step: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let tag = tag.as_ref();
    let offset = usize::from(tag[tag.len() - 1] & 0x0f);
    let mut word = [0u8; 4];
    word.copy_from_slice(&tag[offset..offset + 4]);
    let value = (u32::from_be_bytes(word) & 0x7fff_ffff) % 10u32.pow(DIGITS);
    format!("{value:06}")
}

/// The step (one back, current, one ahead: a little clock drift) whose code is `code`,
/// compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    let current = unix_seconds / PERIOD;
    let mut found = None;
    for step in [current.saturating_sub(1), current, current + 1] {
        if crate::util::ct_eq(code_at(secret, step).as_bytes(), code.trim().as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// The otpauth link the device adds to its vault.
pub fn otpauth_link(username: &str, secret: &[u8]) -> String {
    let secret = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, secret);
    let label: String = username
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("otpauth://totp/City:{label}?secret={secret}&issuer=City")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        let secret = b"12345678901234567890";
        // RFC 6238 appendix B, last six digits.
        assert_eq!(code_at(secret, 59 / 30), "287082");
        assert_eq!(code_at(secret, 1_111_111_109 / 30), "081804");
        assert_eq!(code_at(secret, 2_000_000_000 / 30), "279037");
    }

    #[test]
    fn neighbouring_steps_match_and_others_do_not() {
        let secret = b"12345678901234567890";
        let code = code_at(secret, 1000);
        assert_eq!(matching_step(secret, &code, 1000 * 30 + 29), Some(1000));
        assert_eq!(matching_step(secret, &code, 1001 * 30), Some(1000));
        assert_eq!(matching_step(secret, &code, 1003 * 30), None);
        assert_eq!(matching_step(secret, "12345", 1000 * 30), None);
    }

    #[test]
    fn links_name_the_city_account() {
        let link = otpauth_link("alice", b"12345678901234567890");
        assert_eq!(
            link,
            "otpauth://totp/City:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=City"
        );
    }
}
