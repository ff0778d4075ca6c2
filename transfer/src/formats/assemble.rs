//! Turning the fields an app wrote into an account, or into the reason it cannot be one; and
//! the entry, located in its file, that either becomes.

use cityauth_core::account::display_label;
use cityauth_core::secret::Base32Error;
use cityauth_core::{
    Account, AccountError, Algorithm, OtpKind, OtpParams, ParamError, ParamSpec, SecretBytes,
};

use crate::entry::{Entry, Location, safe_label};

/// Labels longer than this are cut in locations, which are for finding an entry, not for
/// showing it whole.
const MAX_LOCATION_LABEL_CHARS: usize = 60;

/// An account's fields as a file gave them, before they are checked. `None` means the file
/// left the field out and the usual default applies (SHA1, 6 digits, 30 seconds).
pub(crate) struct Draft<'a> {
    pub issuer: &'a str,
    pub name: &'a str,
    pub kind: OtpKind,
    pub algorithm: Option<&'a str>,
    pub digits: Option<u64>,
    pub period: Option<u64>,
    /// Required for HOTP, ignored otherwise.
    pub counter: Option<u64>,
}

impl Draft<'_> {
    /// The account, or a reason naming the field at fault, by the core's one set of
    /// parameter rules ([`OtpParams::from_spec`]): Steam codes are HMAC-SHA1 with five
    /// characters, so a file that says otherwise is refused rather than silently changed.
    pub(crate) fn into_account(self, secret: SecretBytes) -> Result<Account, String> {
        let algorithm = match self.algorithm {
            None => None,
            Some(name) => Some(
                Algorithm::from_name(name)
                    .ok_or_else(|| "algorithm: must be SHA1, SHA256 or SHA512".to_owned())?,
            ),
        };
        if self.kind == OtpKind::Hotp && self.counter.is_none() {
            return Err("counter: missing (HOTP needs one)".to_owned());
        }
        let params = OtpParams::from_spec(ParamSpec {
            kind: self.kind,
            algorithm,
            digits: self.digits,
            period: self.period,
            counter: self.counter,
        })
        .map_err(param_reason)?;
        Account::new(self.issuer, self.name, secret, params).map_err(account_reason)
    }
}

/// The reason for parameters outside the core's rules (its messages name the field first).
fn param_reason(error: ParamError) -> String {
    error.to_string()
}

/// The reason for an account outside the core's limits (its messages name the field).
pub(crate) fn account_reason(error: AccountError) -> String {
    error.to_string()
}

/// The kind named `text` (`totp`, `hotp`, `steam`, any case); otherwise a reason naming the
/// type, so the user learns which of their accounts cityauth cannot hold.
pub(crate) fn kind(field: &str, text: &str) -> Result<OtpKind, String> {
    match text.to_ascii_lowercase().as_str() {
        "totp" => Ok(OtpKind::Totp),
        "hotp" => Ok(OtpKind::Hotp),
        "steam" => Ok(OtpKind::Steam),
        _ => Err(unsupported(field, text)),
    }
}

/// `"{field}: {value} is not supported"`, quoting the value only when it is a short word (a
/// type name such as `yandex`), never free text: ten characters, where the shortest
/// real secret takes sixteen in base32.
pub(crate) fn unsupported(field: &str, value: &str) -> String {
    let is_word = !value.is_empty()
        && value.len() <= 10
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if is_word {
        format!("{field}: {value} is not supported")
    } else {
        format!("{field}: this type is not supported")
    }
}

/// Decodes a base32 secret, the reason naming `field` when it is not one.
pub(crate) fn base32_secret(field: &str, text: &str) -> Result<SecretBytes, String> {
    SecretBytes::from_base32(text).map_err(|error| match error {
        Base32Error::Empty => format!("{field}: empty"),
        Base32Error::Invalid => format!("{field}: not valid base32"),
    })
}

/// Where the `n`th item of a list sat, with the label it showed: `entry 4 ("Issuu (James)")`.
pub(crate) fn location(unit: &str, n: usize, label: &str) -> Location {
    let label = safe_label(label);
    if label.is_empty() {
        return Location::new(format!("{unit} {n}"));
    }
    let mut shown: String = label.chars().take(MAX_LOCATION_LABEL_CHARS).collect();
    if shown.len() < label.len() {
        shown.push('…');
    }
    Location::new(format!("{unit} {n} (\"{shown}\")"))
}

/// The entry for the `n`th item of a list: the account, or its rejection under `label`.
pub(crate) fn entry(
    unit: &str,
    n: usize,
    label: String,
    outcome: Result<Account, String>,
) -> Entry {
    let location = location(unit, n, &label);
    match outcome {
        Ok(account) => Entry::account(location, account),
        Err(reason) => Entry::rejected(location, label, reason),
    }
}

/// `text` without `prefix`, compared ignoring ASCII case (`otpauth://`, `steam://`).
pub(crate) fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// "Issuer (name)" as the file gave them, for rejections and locations.
pub(crate) fn label(issuer: &str, name: &str) -> String {
    display_label(issuer.trim(), name.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steam(algorithm: Option<&str>) -> Draft<'_> {
        Draft {
            issuer: "Steam",
            name: "gaben",
            kind: OtpKind::Steam,
            algorithm,
            digits: Some(5),
            period: None,
            counter: None,
        }
    }

    #[test]
    fn steam_with_sha256_is_refused_by_the_cores_rule() {
        let secret = || SecretBytes::new(vec![7; 10]);
        let reason = steam(Some("SHA256")).into_account(secret()).unwrap_err();
        assert!(reason.starts_with("algorithm"), "{reason}");
        let account = steam(Some("SHA1")).into_account(secret()).unwrap();
        assert_eq!(account.params(), &OtpParams::steam(30).unwrap());
        assert!(steam(None).into_account(secret()).is_ok());
    }
}
