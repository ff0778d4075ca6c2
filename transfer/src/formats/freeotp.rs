//! FreeOTP+'s JSON export: `{tokenOrder: [...], tokens: [{algo, counter, digits, issuerExt,
//! issuerInt, label, period, secret, type}, ...]}`, each secret an array of signed bytes (Java's
//! `byte[]`).

use cityauth_core::{Account, OtpKind, SecretBytes};
use serde_json::Value;

use super::assemble::{self, Draft};
use super::json::{self, Fields};
use crate::entry::Entry;
use crate::error::ImportError;

/// Whether `bytes` are a JSON object with FreeOTP+'s `tokens`.
pub fn looks_like(bytes: &[u8]) -> bool {
    json::has_keys(bytes, &["tokens"])
}

/// Reads an export; a file that is not such JSON is [`ImportError::Damaged`].
pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, ImportError> {
    let root = json::document(bytes, "FreeOTP+ export")?;
    let tokens = json::entry_list(&root, "tokens", "FreeOTP+ export")?;
    Ok(tokens
        .iter()
        .enumerate()
        .map(|(index, token)| {
            assemble::entry("token", index + 1, label_of(token), account_of(token))
        })
        .collect())
}

fn label_of(token: &Value) -> String {
    let text = |key| token.get(key).and_then(Value::as_str).unwrap_or_default();
    assemble::label(issuer(text("issuerExt"), text("issuerInt")), text("label"))
}

/// The issuer the user sees: the link's `issuer=` (issuerExt), else the label's prefix
/// (issuerInt).
fn issuer<'a>(external: &'a str, internal: &'a str) -> &'a str {
    if external.trim().is_empty() {
        internal
    } else {
        external
    }
}

fn account_of(token: &Value) -> Result<Account, String> {
    let fields = Fields::of(token, "")?;
    let kind = match assemble::kind("type", fields.str("type")?)? {
        OtpKind::Steam => return Err(assemble::unsupported("type", "steam")),
        kind => kind,
    };
    let secret = signed_bytes(fields.get("secret"))?;
    let counter = match kind {
        // FreeOTP+ advances the stored counter before it makes a code, so the stored value
        // is the counter of the code last shown, one lower than the link's `counter` (the
        // next code). cityauth stores the next code's counter: add one.
        OtpKind::Hotp => Some(
            fields
                .u64("counter")?
                .checked_add(1)
                .ok_or("counter: too large")?,
        ),
        OtpKind::Totp | OtpKind::Steam => None,
    };
    Draft {
        issuer: issuer(
            fields.str_or_empty("issuerExt")?,
            fields.str_or_empty("issuerInt")?,
        ),
        name: fields.str_or_empty("label")?,
        kind,
        algorithm: fields.opt_str("algo")?,
        digits: fields.opt_u64("digits")?,
        period: match kind {
            OtpKind::Hotp => None,
            OtpKind::Totp | OtpKind::Steam => fields.opt_u64("period")?,
        },
        counter,
    }
    .into_account(secret)
}

/// A secret written as a JSON array of Java bytes (-128 to 127).
fn signed_bytes(value: Option<&Value>) -> Result<SecretBytes, String> {
    let items = match value {
        None => return Err("secret: missing".into()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("secret: not a list of bytes".into()),
    };
    if items.len() > cityauth_core::account::MAX_SECRET_BYTES {
        return Err(assemble::account_reason(
            cityauth_core::AccountError::SecretTooLong,
        ));
    }
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(items.len()));
    for item in items {
        let byte = item
            .as_i64()
            .and_then(|n| i8::try_from(n).ok())
            .ok_or("secret: not a list of bytes from -128 to 127")?;
        bytes.push(byte.cast_unsigned());
    }
    Ok(SecretBytes::new(std::mem::take(&mut *bytes)))
}
