//! Secret byte strings: zeroized on drop, never printed, compared in constant time.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// The shared secret of an OTP account (the HMAC key), as raw bytes.
///
/// Its `Debug` output never shows the bytes, it is wiped from memory when dropped,
/// and equality is decided in constant time.
#[derive(Clone)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps bytes that are already secret; the caller's vector is moved, not copied.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Decodes RFC 4648 base32 as real QR codes carry it: any case, with or without `=`
    /// padding, with spaces or dashes between groups.
    ///
    /// Fails with [`Base32Error::Empty`] when nothing is left after the separators, and
    /// with [`Base32Error::Invalid`] for any other character or an impossible length.
    pub fn from_base32(text: &str) -> Result<Self, Base32Error> {
        let mut cleaned = Zeroizing::new(String::with_capacity(text.len()));
        for c in text.chars() {
            match c {
                ' ' | '-' | '\t' => {}
                'a'..='z' | 'A'..='Z' | '2'..='7' => cleaned.push(c.to_ascii_uppercase()),
                '=' => {}
                _ => return Err(Base32Error::Invalid),
            }
        }
        // Padding is only allowed at the end: "AB=CD" is not base32.
        let trimmed = text.trim_end_matches([' ', '-', '\t', '=']);
        if trimmed.contains('=') {
            return Err(Base32Error::Invalid);
        }
        if cleaned.is_empty() {
            return Err(Base32Error::Empty);
        }
        // A base32 length of 1, 3 or 6 (mod 8) cannot come from whole bytes.
        if matches!(cleaned.len() % 8, 1 | 3 | 6) {
            return Err(Base32Error::Invalid);
        }
        base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &cleaned)
            .filter(|bytes| !bytes.is_empty())
            .map(Self::new)
            .ok_or(Base32Error::Invalid)
    }

    /// Encodes as upper-case base32 without padding, the form otpauth links use.
    ///
    /// Written into a buffer of the exact final length, so that it never reallocates and
    /// leaves a copy behind (`base32::encode` under-reserves and grows its string).
    pub fn to_base32(&self) -> Zeroizing<String> {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = Zeroizing::new(String::with_capacity(base32_len(self.0.len())));
        // Five bytes make eight characters; a short last group is read as if zero-padded.
        for group in self.0.chunks(5) {
            let mut word = [0u8; 8];
            word[3..3 + group.len()].copy_from_slice(group);
            let bits = u64::from_be_bytes(word);
            for index in 0..base32_len(group.len()) {
                let value = (bits >> (35 - 5 * index)) & 0x1f;
                out.push(char::from(ALPHABET[value as usize]));
            }
        }
        out
    }

    /// The raw bytes; keep any copy of them in a zeroizing buffer.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no bytes (a valid account never has an empty secret).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The number of unpadded base32 characters for `bytes` bytes: ⌈8·bytes / 5⌉.
fn base32_len(bytes: usize) -> usize {
    (bytes * 8).div_ceil(5)
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

impl Zeroize for SecretBytes {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

/// Why a base32 secret could not be decoded. Never carries the text itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Base32Error {
    /// Nothing but separators or padding.
    #[error("the secret is empty")]
    Empty,
    /// A character outside A–Z and 2–7, padding in the middle, or an impossible length.
    #[error("the secret is not valid base32")]
    Invalid,
}

/// Compares two byte strings in time that depends only on their lengths.
pub use cityauth_protocol::ct::eq as constant_time_eq;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_forms_real_qr_codes_carry() {
        let expected = b"Hello!\xde\xad\xbe\xef";
        for text in [
            "JBSWY3DPEHPK3PXP",
            "jbswy3dpehpk3pxp",
            "JBSW Y3DP EHPK 3PXP",
            "jbsw-y3dp-ehpk-3pxp",
            "JBSWY3DPEHPK3PXP====",
        ] {
            let secret = SecretBytes::from_base32(text).unwrap();
            assert_eq!(secret.expose(), expected, "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_base32() {
        assert_eq!(SecretBytes::from_base32(""), Err(Base32Error::Empty));
        assert_eq!(SecretBytes::from_base32(" - = "), Err(Base32Error::Empty));
        assert_eq!(SecretBytes::from_base32("JBSW1"), Err(Base32Error::Invalid));
        assert_eq!(SecretBytes::from_base32("JB=SW"), Err(Base32Error::Invalid));
        assert_eq!(SecretBytes::from_base32("A"), Err(Base32Error::Invalid));
        assert_eq!(SecretBytes::from_base32("ÄBCD"), Err(Base32Error::Invalid));
    }

    #[test]
    fn base32_round_trips() {
        let secret = SecretBytes::new((0u8..=40).collect());
        let again = SecretBytes::from_base32(&secret.to_base32()).unwrap();
        assert_eq!(secret, again);
    }

    #[test]
    fn to_base32_matches_the_base32_crate_at_every_length() {
        for len in 0..=70usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let expected = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &bytes);
            let ours = SecretBytes::new(bytes).to_base32();
            assert_eq!(*ours, expected, "length {len}");
        }
    }

    #[test]
    fn to_base32_never_outgrows_its_buffer() {
        for len in 1..=70usize {
            let text = SecretBytes::new(vec![0xA5; len]).to_base32();
            assert_eq!(text.capacity(), text.len(), "length {len}");
        }
    }

    #[test]
    fn debug_never_shows_the_bytes() {
        let secret = SecretBytes::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains("JBSW") && !shown.contains("72"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(
            SecretBytes::new(vec![1, 2, 3]),
            SecretBytes::new(vec![1, 2, 3])
        );
        assert_ne!(
            SecretBytes::new(vec![1, 2, 3]),
            SecretBytes::new(vec![1, 2, 4])
        );
        assert_ne!(
            SecretBytes::new(vec![1, 2]),
            SecretBytes::new(vec![1, 2, 3])
        );
    }
}
