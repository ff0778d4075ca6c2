//! Hex and base64 fields of encrypted exports, decoded with errors that name the field.

use base64::Engine;
use zeroize::Zeroizing;

use crate::error::ImportError;

/// Decodes hex (either case); a bad digit or an odd length is [`ImportError::Damaged`]
/// naming `field`.
pub(crate) fn hex(field: &str, text: &str) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let bad = || ImportError::damaged(format!("{field}: not valid hex"));
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(bad());
    }
    let mut out = Zeroizing::new(Vec::with_capacity(digits.len() / 2));
    for pair in digits.chunks_exact(2) {
        let high = hex_digit(pair[0]).ok_or_else(bad)?;
        let low = hex_digit(pair[1]).ok_or_else(bad)?;
        out.push(high << 4 | low);
    }
    Ok(out)
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes standard base64 (padding optional); otherwise [`ImportError::Damaged`] naming
/// `field`.
pub(crate) fn base64(field: &str, text: &str) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine
        .decode(text.trim())
        .map(Zeroizing::new)
        .map_err(|_| ImportError::damaged(format!("{field}: not valid base64")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decodes_both_cases_and_refuses_the_rest() {
        assert_eq!(hex("k", "00aBfF").unwrap().as_slice(), &[0, 0xab, 0xff]);
        for bad in ["0", "zz", "0g", "é0"] {
            assert!(
                matches!(hex("k", bad), Err(ImportError::Damaged { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn base64_accepts_missing_padding() {
        assert_eq!(base64("d", "AAE=").unwrap().as_slice(), &[0, 1]);
        assert_eq!(base64("d", "AAE").unwrap().as_slice(), &[0, 1]);
        assert!(base64("d", "A*").is_err());
    }
}
