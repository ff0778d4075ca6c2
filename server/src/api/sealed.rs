//! A password change's old and new passwords while they wait for the phone, and a reset's
//! new password while the directory writes it: sealed under the key-encryption key, bound
//! to their flow (a sealed value copied to another flow, or from a change to a reset, does
//! not open), never stored in clear.

use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::kek::KeyEncryptionKey;

/// The associated data binding a sealed pair to its flow.
fn aad(flow_id: &str) -> Vec<u8> {
    let mut aad = b"cityauth sealed v1\0password change\0".to_vec();
    aad.extend_from_slice(flow_id.as_bytes());
    aad
}

/// Seals `old` and `new` for flow `flow_id`: the old password's length (4 bytes, big
/// endian), the old password, then the new one.
pub(crate) fn seal(
    kek: &dyn KeyEncryptionKey,
    flow_id: &str,
    old: &str,
    new: &str,
) -> Result<Vec<u8>, ApiError> {
    let length = u32::try_from(old.len())
        .map_err(|_| ApiError::BadRequest("the password is too long".into()))?;
    let mut clear = Zeroizing::new(Vec::with_capacity(4 + old.len() + new.len()));
    clear.extend_from_slice(&length.to_be_bytes());
    clear.extend_from_slice(old.as_bytes());
    clear.extend_from_slice(new.as_bytes());
    kek.seal(&aad(flow_id), &clear)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Opens what [`seal`] sealed for `flow_id`: the old and the new password.
pub(crate) fn open(
    kek: &dyn KeyEncryptionKey,
    flow_id: &str,
    sealed: &[u8],
) -> Result<(Zeroizing<String>, Zeroizing<String>), ApiError> {
    let clear = kek
        .open(&aad(flow_id), sealed)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let malformed = || ApiError::Internal("a sealed password change that does not parse".into());
    let (length, rest) = clear.split_first_chunk::<4>().ok_or_else(malformed)?;
    let length = u32::from_be_bytes(*length) as usize;
    if length > rest.len() {
        return Err(malformed());
    }
    let (old, new) = rest.split_at(length);
    let text = |bytes: &[u8]| {
        std::str::from_utf8(bytes)
            .map(|t| Zeroizing::new(t.to_owned()))
            .map_err(|_| malformed())
    };
    Ok((text(old)?, text(new)?))
}

/// Seals the new password a claim on reset `flow_id` writes (the password's bytes, bound
/// by [`crate::kek::reset_password_aad`]).
pub(crate) fn seal_reset(
    kek: &dyn KeyEncryptionKey,
    flow_id: &str,
    new: &str,
) -> Result<Vec<u8>, ApiError> {
    kek.seal(&crate::kek::reset_password_aad(flow_id), new.as_bytes())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Opens what [`seal_reset`] sealed for `flow_id`; an internal error (nothing said of the
/// value) if it does not open or is not text.
pub(crate) fn open_reset(
    kek: &dyn KeyEncryptionKey,
    flow_id: &str,
    sealed: &[u8],
) -> Result<Zeroizing<String>, ApiError> {
    let clear = kek
        .open(&crate::kek::reset_password_aad(flow_id), sealed)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    std::str::from_utf8(&clear)
        .map(|t| Zeroizing::new(t.to_owned()))
        .map_err(|_| ApiError::Internal("a sealed reset password that is not text".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kek::AesGcmKek;

    #[test]
    fn a_sealed_change_opens_only_for_its_own_flow_and_holds_no_clear_text() {
        let kek = AesGcmKek::new(&[7u8; crate::kek::KEK_LEN]).unwrap();
        let sealed = seal(&kek, "flow-1", "Old-Password-Ümlaut-1", "New-Password-2").unwrap();
        for secret in ["Old-Password", "New-Password"] {
            assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
        let (old, new) = open(&kek, "flow-1", &sealed).unwrap();
        assert_eq!(
            (old.as_str(), new.as_str()),
            ("Old-Password-Ümlaut-1", "New-Password-2")
        );
        assert!(open(&kek, "flow-2", &sealed).is_err(), "bound to its flow");
    }

    #[test]
    fn a_sealed_reset_password_opens_only_for_its_own_reset() {
        let kek = AesGcmKek::new(&[7u8; crate::kek::KEK_LEN]).unwrap();
        let sealed = seal_reset(&kek, "flow-1", "New-Password-Ümlaut-2").unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"New-Password"));
        assert_eq!(
            open_reset(&kek, "flow-1", &sealed).unwrap().as_str(),
            "New-Password-Ümlaut-2"
        );
        assert!(
            open_reset(&kek, "flow-2", &sealed).is_err(),
            "bound to its flow"
        );
        let change = seal(&kek, "flow-1", "a", "b").unwrap();
        assert!(
            open_reset(&kek, "flow-1", &change).is_err(),
            "not a change's pair"
        );
    }
}
