//! Secret text the host hands in (passphrases, passwords, base32 secrets, otpauth links):
//! a plain `String` in Kotlin and Swift, a buffer wiped on drop and never printed in Rust.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = SecretString::from("correct horse battery staple");
        assert_eq!(format!("{secret:?}"), "SecretString(<redacted>)");
        assert_eq!(&*secret, "correct horse battery staple");
    }
}
