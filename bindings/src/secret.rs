//! Secret text the host hands in (passphrases, passwords, base32 secrets, otpauth links):
//! a plain `String` in Kotlin and Swift, a buffer wiped on drop and never printed in Rust;
//! or, for passphrases and passwords, the UTF-8 bytes of a host array the host wipes itself
//! ([`SecretUtf8`]: `ByteArray` in Kotlin, `Data` in Swift).

use std::fmt;
use std::ops::Deref;

use zeroize::Zeroizing;

/// A passphrase, password or secret from the host; Kotlin and Swift see a `String`.
///
/// uniffi lifts the host's string into a Rust `String` that reuses its own buffer; wrapping
/// it here at once means that buffer is wiped when the call ends. The host's own copies (the
/// JVM or Swift string, JNA's transfer buffer) are out of Rust's reach: docs/security.md.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

uniffi::custom_type!(SecretString, String, {
    lower: |secret| secret.0.to_string(),
    try_lift: |text| Ok(SecretString(Zeroizing::new(text))),
});

impl Deref for SecretString {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(text: String) -> Self {
        Self(Zeroizing::new(text))
    }
}

impl From<&str> for SecretString {
    fn from(text: &str) -> Self {
        Self(Zeroizing::new(text.to_owned()))
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// A passphrase or password as the UTF-8 bytes of a host array (`ByteArray`, `Data`), wiped
/// on the Rust side; the host wipes its own array after the call.
///
/// Hand-written rather than `custom_type!` over `Vec<u8>`: uniffi's `Vec<u8>` copies the
/// bytes out of the transfer buffer and frees that buffer unwiped. Here the transfer buffer
/// (allocated by Rust, filled directly by the host) becomes the secret's own storage and is
/// wiped on drop, so no copy is left in freed memory. Only for arguments at the top level: in
/// an `Option` or a `Vec` uniffi would read it out of an outer buffer that it frees unwiped.
/// Not checked as UTF-8 when lifted: [`SecretUtf8::as_str`] does that, as a typed error.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUtf8(Zeroizing<Vec<u8>>);

impl SecretUtf8 {
    /// The text, or `InvalidInput` naming `field` when the bytes are not UTF-8.
    pub fn as_str(&self, field: &str) -> Result<&str, crate::CityAuthError> {
        std::str::from_utf8(&self.0).map_err(|_| crate::CityAuthError::InvalidInput {
            field: field.into(),
            detail: format!("{field}: not valid UTF-8 text"),
        })
    }
}

impl From<&str> for SecretUtf8 {
    fn from(text: &str) -> Self {
        Self(Zeroizing::new(text.as_bytes().to_vec()))
    }
}

impl From<Vec<u8>> for SecretUtf8 {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }
}

impl fmt::Debug for SecretUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretUtf8(<redacted>)")
    }
}

/// The length prefix uniffi writes before the bytes of a `bytes` value.
const LENGTH_PREFIX: usize = 4;

// SAFETY: the FFI type is a `RustBuffer` and the wire form is uniffi's own for `bytes` (an
// i32 length, then the bytes), the same as `Vec<u8>`, whose type metadata this declares; so
// the generated host code (`ByteArray`, `Data`) lowers and lifts it exactly as it does
// `Vec<u8>`. The impl performs no unsafe operation; `unsafe` is the trait's contract.
#[allow(unsafe_code)]
unsafe impl uniffi::FfiConverter<crate::UniFfiTag> for SecretUtf8 {
    type FfiType = uniffi::RustBuffer;

    fn lower(obj: Self) -> uniffi::RustBuffer {
        let mut buf = Vec::with_capacity(LENGTH_PREFIX + obj.0.len());
        <Self as uniffi::FfiConverter<crate::UniFfiTag>>::write(obj, &mut buf);
        uniffi::RustBuffer::from_vec(buf)
    }

    fn try_lift(v: uniffi::RustBuffer) -> uniffi::Result<Self> {
        // The buffer the host filled: wiped when dropped, whatever happens below.
        let mut whole = Zeroizing::new(v.destroy_into_vec());
        let Some(prefix) = whole.first_chunk::<LENGTH_PREFIX>() else {
            uniffi::deps::anyhow::bail!("bytes: no length prefix");
        };
        let len = usize::try_from(i32::from_be_bytes(*prefix))?;
        if whole.len() != LENGTH_PREFIX + len {
            uniffi::deps::anyhow::bail!("bytes: the length prefix does not match the buffer");
        }
        // In place: the tail left past `len` is in the capacity, which Zeroizing wipes too.
        whole.copy_within(LENGTH_PREFIX.., 0);
        whole.truncate(len);
        Ok(Self(whole))
    }

    fn write(obj: Self, buf: &mut Vec<u8>) {
        // Rust never hands a secret to the host; this exists because the trait requires it.
        let len = i32::try_from(obj.0.len()).unwrap_or(i32::MAX);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(&obj.0[..usize::try_from(len).unwrap_or(0)]);
    }

    fn try_read(buf: &mut &[u8]) -> uniffi::Result<Self> {
        uniffi::check_remaining(buf, LENGTH_PREFIX)?;
        let (prefix, rest) = buf.split_at(LENGTH_PREFIX);
        let len = usize::try_from(i32::from_be_bytes(prefix.try_into()?))?;
        uniffi::check_remaining(rest, len)?;
        let (bytes, rest) = rest.split_at(len);
        *buf = rest;
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    const TYPE_ID_META: uniffi::MetadataBuffer =
        <Vec<u8> as uniffi::TypeId<crate::UniFfiTag>>::TYPE_ID_META;
}

uniffi::derive_ffi_traits!(local SecretUtf8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = SecretString::from("correct horse battery staple");
        assert_eq!(format!("{secret:?}"), "SecretString(<redacted>)");
        assert_eq!(&*secret, "correct horse battery staple");
    }

    #[test]
    fn utf8_secrets_lift_from_the_host_form_and_refuse_bad_text_typed() {
        use uniffi::{FfiConverter, RustBuffer};
        let lift = |bytes: &[u8]| {
            let mut wire = i32::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
            wire.extend_from_slice(bytes);
            <SecretUtf8 as FfiConverter<crate::UniFfiTag>>::try_lift(RustBuffer::from_vec(wire))
        };
        let secret = lift("pässphrase".as_bytes()).unwrap();
        assert_eq!(secret.as_str("passphrase").unwrap(), "pässphrase");
        assert_eq!(format!("{secret:?}"), "SecretUtf8(<redacted>)");
        let bad = lift(&[0x66, 0xff])
            .unwrap()
            .as_str("passphrase")
            .unwrap_err();
        assert_eq!(bad.code(), "invalid_input");
        // A prefix that does not match the buffer is refused, not read past.
        let short = RustBuffer::from_vec(vec![0, 0, 0, 9, b'a']);
        assert!(<SecretUtf8 as FfiConverter<crate::UniFfiTag>>::try_lift(short).is_err());
    }
}
