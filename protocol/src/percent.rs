//! The one percent codec (RFC 3986 `%XX`) of every link cityauth reads or writes: otpauth
//! links, enrollment links and Google Authenticator migration links.
//!
//! Strict: a `%` must be followed by two hex digits, so `%+A`, `%2` and `%G0` are errors
//! rather than a newline, a literal or a guess. It lives here, below the core, because the
//! server reads enrollment links too; the core re-exports it as `cityauth_core::percent`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

/// What is escaped when writing: all but RFC 3986's unreserved characters.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How a literal `+` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plus {
    /// `+` is itself (paths, base64 text).
    Literal,
    /// `+` is a space (form-encoded query values, as some QR generators write them).
    Space,
}

/// Why a text could not be decoded. Never carries the text, which may hold a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PercentError {
    /// A `%` not followed by two hex digits.
    #[error("a % not followed by two hex digits")]
    Escape,
    /// The decoded bytes are not UTF-8.
    #[error("not UTF-8 once decoded")]
    Utf8,
}

/// Decodes `%XX` escapes (and, with [`Plus::Space`], `+`), in a buffer wiped on drop.
///
/// The bytes are decoded into a buffer of the input's length (decoding only shrinks), and
/// checked as UTF-8 before they become a `String`, so that neither a reallocation nor a
/// failed conversion drops an unwiped copy.
pub fn decode(text: &str, plus: Plus) -> Result<Zeroizing<String>, PercentError> {
    check_escapes(text.as_bytes())?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(text.len()));
    match plus {
        Plus::Literal => bytes.extend(percent_encoding::percent_decode_str(text)),
        Plus::Space => {
            for (index, piece) in text.split('+').enumerate() {
                if index > 0 {
                    bytes.push(b' ');
                }
                bytes.extend(percent_encoding::percent_decode_str(piece));
            }
        }
    }
    if std::str::from_utf8(&bytes).is_err() {
        return Err(PercentError::Utf8);
    }
    let bytes = std::mem::take(&mut *bytes);
    // Checked just above, so this cannot fail; an error would drop the vector unwiped, so
    // it is mapped to an empty string rather than returned.
    Ok(Zeroizing::new(String::from_utf8(bytes).unwrap_or_default()))
}

/// Appends `text` to `out`, every byte outside `A–Z a–z 0–9 - . _ ~` written as `%XX`.
pub fn encode_into(out: &mut String, text: &str) {
    for piece in percent_encoding::utf8_percent_encode(text, ESCAPED) {
        out.push_str(piece);
    }
}

/// `text` percent-encoded, as [`encode_into`] writes it.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(encoded_len(text));
    encode_into(&mut out, text);
    out
}

/// The length of `text` once encoded, so that a buffer can be reserved exactly.
pub fn encoded_len(text: &str) -> usize {
    percent_encoding::utf8_percent_encode(text, ESCAPED)
        .map(str::len)
        .sum()
}

/// Every `%` must open an escape of exactly two hex digits.
fn check_escapes(bytes: &[u8]) -> Result<(), PercentError> {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            match bytes.get(i + 1..i + 3) {
                Some([high, low]) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                    i += 3;
                }
                _ => return Err(PercentError::Escape),
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_before_the_hex_digits_is_an_error() {
        for bad in ["%+A", "%-A", "a%+0b", "%2", "%", "%G0", "%0G", "%%41"] {
            assert_eq!(
                decode(bad, Plus::Literal),
                Err(PercentError::Escape),
                "{bad}"
            );
            assert_eq!(decode(bad, Plus::Space), Err(PercentError::Escape), "{bad}");
        }
    }

    #[test]
    fn decodes_escapes_and_plus_as_asked() {
        let text = "a%20b+c%2Bd%3a";
        assert_eq!(&*decode(text, Plus::Literal).unwrap(), "a b+c+d:");
        assert_eq!(&*decode(text, Plus::Space).unwrap(), "a b c+d:");
        assert_eq!(&*decode("caf%C3%A9", Plus::Literal).unwrap(), "café");
        assert_eq!(&*decode("a\0b", Plus::Literal).unwrap(), "a\0b");
        assert_eq!(&*decode("", Plus::Space).unwrap(), "");
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(decode("a%FF", Plus::Literal), Err(PercentError::Utf8));
        assert_eq!(decode("%C3", Plus::Space), Err(PercentError::Utf8));
    }

    #[test]
    fn encoding_round_trips_and_is_measured_exactly() {
        for text in [
            "",
            "plain",
            "ACME Co:bob@example.org",
            "a+b&c=d%e/f?g#h",
            "é\n\0~",
        ] {
            let encoded = encode(text);
            assert_eq!(encoded.len(), encoded_len(text), "{text}");
            assert!(
                encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
            );
            assert_eq!(&*decode(&encoded, Plus::Literal).unwrap(), text);
        }
    }
}
