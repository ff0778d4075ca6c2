//! An OTP account: who issued it, whose it is, its secret and its parameters.

use crate::otp::{OtpParams, PreparedKey};
use crate::secret::SecretBytes;

/// The longest issuer or account name accepted, in bytes of UTF-8.
pub const MAX_LABEL_BYTES: usize = 512;
/// The longest secret accepted, in bytes (SHA-512 keys are 64; real ones are far shorter).
pub const MAX_SECRET_BYTES: usize = 1024;

/// An account as the user adds it. `Debug` shows the labels but never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    issuer: String,
    name: String,
    secret: SecretBytes,
    params: OtpParams,
}

/// A field of an account outside its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The secret has no bytes.
    #[error("secret: it is empty")]
    EmptySecret,
    /// The secret is longer than [`MAX_SECRET_BYTES`].
    #[error("secret: longer than {MAX_SECRET_BYTES} bytes")]
    SecretTooLong,
    /// The issuer is longer than [`MAX_LABEL_BYTES`].
    #[error("issuer: longer than {MAX_LABEL_BYTES} bytes")]
    IssuerTooLong,
    /// The account name is longer than [`MAX_LABEL_BYTES`].
    #[error("name: longer than {MAX_LABEL_BYTES} bytes")]
    NameTooLong,
}

impl Account {
    /// Builds an account; issuer and name are trimmed of surrounding white space.
    pub fn new(
        issuer: &str,
        name: &str,
        secret: SecretBytes,
        params: OtpParams,
    ) -> Result<Self, AccountError> {
        let issuer = issuer.trim();
        let name = name.trim();
        if secret.is_empty() {
            return Err(AccountError::EmptySecret);
        }
        if secret.len() > MAX_SECRET_BYTES {
            return Err(AccountError::SecretTooLong);
        }
        if issuer.len() > MAX_LABEL_BYTES {
            return Err(AccountError::IssuerTooLong);
        }
        if name.len() > MAX_LABEL_BYTES {
            return Err(AccountError::NameTooLong);
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            name: name.to_owned(),
            secret,
            params,
        })
    }

    /// The service, e.g. `GitHub`; empty when the link named none.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The account at that service, e.g. `alice@example.org`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shared secret.
    pub fn secret(&self) -> &SecretBytes {
        &self.secret
    }

    /// Kind, algorithm, digits, period and counter.
    pub fn params(&self) -> &OtpParams {
        &self.params
    }

    /// The keyed HMAC state for this account's codes.
    pub fn prepared_key(&self) -> PreparedKey {
        PreparedKey::new(self.params.algorithm(), &self.secret)
    }

    /// The same account under new labels (trimmed and checked as in [`Account::new`]).
    pub fn renamed(&self, issuer: &str, name: &str) -> Result<Self, AccountError> {
        Self::new(issuer, name, self.secret.clone(), self.params)
    }

    /// The same account with the HOTP counter set to `counter`.
    pub(crate) fn with_counter(&self, counter: u64) -> Self {
        Self {
            params: self.params.with_counter(counter),
            ..self.clone()
        }
    }

    /// "Issuer (name)", or the one that is present, for messages and lists.
    pub fn display_label(&self) -> String {
        display_label(&self.issuer, &self.name)
    }
}

/// "Issuer (name)", or whichever of the two is present.
pub fn display_label(issuer: &str, name: &str) -> String {
    match (issuer.is_empty(), name.is_empty()) {
        (false, false) => format!("{issuer} ({name})"),
        (false, true) => issuer.to_owned(),
        (true, false) => name.to_owned(),
        (true, true) => "(unnamed)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::Algorithm;

    fn params() -> OtpParams {
        OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap()
    }

    #[test]
    fn labels_are_trimmed_and_bounded() {
        let secret = SecretBytes::new(vec![1; 10]);
        let account = Account::new("  GitHub ", " alice ", secret.clone(), params()).unwrap();
        assert_eq!((account.issuer(), account.name()), ("GitHub", "alice"));
        let long = "x".repeat(MAX_LABEL_BYTES + 1);
        assert_eq!(
            Account::new(&long, "a", secret.clone(), params()),
            Err(AccountError::IssuerTooLong)
        );
        assert_eq!(
            Account::new("a", &long, secret, params()),
            Err(AccountError::NameTooLong)
        );
        assert_eq!(
            Account::new("a", "b", SecretBytes::new(vec![]), params()),
            Err(AccountError::EmptySecret)
        );
        assert_eq!(
            Account::new("a", "b", SecretBytes::new(vec![0; 1025]), params()),
            Err(AccountError::SecretTooLong)
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let secret = SecretBytes::new(b"very secret bytes".to_vec());
        let account = Account::new("Bank", "me", secret, params()).unwrap();
        let shown = format!("{account:?}");
        assert!(
            shown.contains("Bank") && !shown.contains("118, 101"),
            "{shown}"
        );
    }
}
