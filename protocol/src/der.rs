//! The two DER shapes a platform key store hands out for a P-256 key, read strictly:
//! the public key as X.509 `SubjectPublicKeyInfo` (Java's `PublicKey.getEncoded()`) and an
//! ECDSA signature as X9.62 `ECDSA-Sig-Value` (JCA's `SHA256withECDSA`, Apple's
//! `SecKeyCreateSignature` with `ecdsaSignatureMessageX962SHA256`, Android Keystore).
//!
//! The protocol itself carries neither: it carries the raw point and the fixed `r ‖ s`.
//! Only the exact encodings DER allows are accepted (no long-form lengths where short form
//! fits, no leading zero that is not needed, no trailing bytes), so each key and signature has
//! one accepted form.

use crate::keys::{PUBLIC_KEY_LEN, SIGNATURE_LEN};

/// `SEQUENCE { SEQUENCE { OID id-ecPublicKey, OID prime256v1 }, BIT STRING (0 unused bits) … }`:
/// everything of a P-256 `SubjectPublicKeyInfo` before the 65-byte point (RFC 5480, section 2).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The point inside a P-256 `SubjectPublicKeyInfo`, or `None` for any other bytes.
pub(crate) fn p256_point_from_spki(der: &[u8]) -> Option<[u8; PUBLIC_KEY_LEN]> {
    let point = der.strip_prefix(&P256_SPKI_PREFIX)?;
    point.try_into().ok()
}

/// The fixed `r ‖ s` of a DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` whose
/// integers are positive and fit in 32 bytes, or `None`.
pub(crate) fn fixed_from_der_signature(der: &[u8]) -> Option<[u8; SIGNATURE_LEN]> {
    let body = read_tlv(der, 0x30)?;
    if !body.rest.is_empty() {
        return None;
    }
    let r = read_tlv(body.value, 0x02)?;
    let s = read_tlv(r.rest, 0x02)?;
    if !s.rest.is_empty() {
        return None;
    }
    let mut fixed = [0u8; SIGNATURE_LEN];
    copy_unsigned(r.value, &mut fixed[..32])?;
    copy_unsigned(s.value, &mut fixed[32..])?;
    Some(fixed)
}

/// One tag-length-value read from the front of `bytes`.
struct Tlv<'a> {
    value: &'a [u8],
    rest: &'a [u8],
}

/// Reads one element with tag `tag` and a short-form length (every element of a P-256
/// signature is under 128 bytes, so DER never uses the long form for it).
fn read_tlv(bytes: &[u8], tag: u8) -> Option<Tlv<'_>> {
    let (&found, bytes) = bytes.split_first()?;
    let (&len, bytes) = bytes.split_first()?;
    if found != tag || len >= 0x80 || bytes.len() < usize::from(len) {
        return None;
    }
    let (value, rest) = bytes.split_at(usize::from(len));
    Some(Tlv { value, rest })
}

/// Copies a DER INTEGER's content, which must be positive and minimally encoded, right-aligned
/// into `out` (32 bytes).
fn copy_unsigned(integer: &[u8], out: &mut [u8]) -> Option<()> {
    let (&first, tail) = integer.split_first()?;
    if first & 0x80 != 0 {
        return None; // negative
    }
    let magnitude = if first == 0 {
        // A leading zero is allowed only to keep a high bit from reading as a sign.
        match tail.first() {
            Some(next) if next & 0x80 != 0 => tail,
            _ => return None,
        }
    } else {
        integer
    };
    if magnitude.len() > out.len() {
        return None;
    }
    let start = out.len() - magnitude.len();
    out[start..].copy_from_slice(magnitude);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_der_signature_becomes_its_fixed_form() {
        // r = 1, s = 0x80 (needs its leading zero).
        let der = [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80];
        let fixed = fixed_from_der_signature(&der).unwrap();
        assert_eq!(fixed[31], 1);
        assert_eq!(fixed[63], 0x80);
        assert!(fixed[..31].iter().chain(&fixed[32..63]).all(|&b| b == 0));
    }

    #[test]
    fn non_canonical_or_truncated_signatures_are_refused() {
        let cases: [&[u8]; 9] = [
            &[],
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00], // trailing byte
            &[0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],       // length too long
            &[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01],       // negative r
            &[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01], // needless leading zero
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0x01],       // s not an INTEGER
            &[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],       // not a SEQUENCE
            &[0x30, 0x05, 0x02, 0x01, 0x01, 0x02, 0x00],             // empty s
            &[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], // long-form length
        ];
        for der in cases {
            assert_eq!(fixed_from_der_signature(der), None, "{der:02x?}");
        }
        // r of 33 significant bytes does not fit P-256.
        let mut long = vec![0x30, 0x26, 0x02, 0x21];
        long.extend([0x7f; 33]);
        long.extend([0x02, 0x01, 0x01]);
        assert_eq!(fixed_from_der_signature(&long), None);
    }

    #[test]
    fn only_a_p256_spki_gives_its_point() {
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend([4; 65]);
        assert_eq!(p256_point_from_spki(&spki), Some([4; 65]));
        assert_eq!(p256_point_from_spki(&spki[..90]), None);
        spki.push(0);
        assert_eq!(p256_point_from_spki(&spki), None);
        // The same shape naming another curve (1.2.840.10045.3.1.6) is refused.
        let mut other = P256_SPKI_PREFIX.to_vec();
        other[22] = 0x06;
        other.extend([4; 65]);
        assert_eq!(p256_point_from_spki(&other), None);
    }
}
