//! Turning the fields an app wrote into an account, or into the reason it cannot be one; and
//! the entry, located in its file, that either becomes.

use cityauth_core::account::display_label;
use cityauth_core::secret::Base32Error;
use cityauth_core::{
    Account, AccountError, Algorithm, OtpKind, OtpParams, ParamError, SecretBytes,
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
    /// The account, or a reason naming the field at fault. Steam accounts take only the
    /// period: Steam codes are always HMAC-SHA1 with five characters, whatever the file says.
    pub(crate) fn into_account(self, secret: SecretBytes) -> Result<Account, String> {
        let period = match self.period {
            None => cityauth_core::otp::DEFAULT_PERIOD,
            Some(p) => u32::try_from(p).map_err(|_| PERIOD_REASON.to_owned())?,
        };
        let params = match self.kind {
            OtpKind::Steam => OtpParams::steam(period),
            OtpKind::Totp => OtpParams::totp(self.algorithm()?, self.digits()?, period),
            OtpKind::Hotp => {
                let counter = self.counter.ok_or("counter: missing (HOTP needs one)")?;
                OtpParams::hotp(self.algorithm()?, self.digits()?, counter)
            }
        }
        .map_err(param_reason)?;
        Account::new(self.issuer, self.name, secret, params).map_err(account_reason)
    }

    fn algorithm(&self) -> Result<Algorithm, String> {
        match self.algorithm {
            None => Ok(Algorithm::Sha1),
            Some(name) => Algorithm::from_name(name)
                .ok_or_else(|| "algorithm: must be SHA1, SHA256 or SHA512".to_owned()),
        }
    }

    fn digits(&self) -> Result<u8, String> {
        match self.digits {
            None => Ok(cityauth_core::otp::DEFAULT_DIGITS),
            Some(d) => u8::try_from(d).map_err(|_| DIGITS_REASON.to_owned()),
        }
    }
}

const DIGITS_REASON: &str = "digits: must be 6, 7 or 8";
const PERIOD_REASON: &str = "period: must be a whole number of seconds from 1 to 3600";

fn param_reason(error: ParamError) -> String {
    match error {
        ParamError::Digits(_) => DIGITS_REASON.to_owned(),
        ParamError::Period(_) => PERIOD_REASON.to_owned(),
    }
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
