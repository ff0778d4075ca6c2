//! andOTP's JSON backup, and its encrypted `.bin` backup (the "new format").
//!
//! Plain: a JSON array of `{secret, issuer, label, digits, type, algorithm, period?,
//! counter?, ...}`, the secret in base32. Encrypted: a 4-byte big-endian PBKDF2 iteration
//! count, a 12-byte salt, a 12-byte nonce, then the AES-256-GCM ciphertext of that JSON with
//! its 16-byte tag; the key is PBKDF2-HMAC-SHA1 of the password (andOTP's
//! `BackupHelper`/`EncryptionHelper`). There is one tag for everything, so a damaged
//! ciphertext cannot be told from a wrong password: both are [`ImportError::WrongPassword`].

use cityauth_core::{Account, OtpKind};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::Value;

use super::assemble::{self, Draft};
use super::crypto::{self, MAX_PBKDF2_ITERATIONS, Prf};
use super::json::{self, Fields};
use super::limits;
use crate::entry::Entry;
use crate::error::ImportError;

const SALT_LEN: usize = 12;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 4 + SALT_LEN + NONCE_LEN;

/// Whether `bytes` are a JSON array whose first item has andOTP's `secret` and `type`, or an
/// encrypted backup: a plausible iteration count (its first byte is 0, which no text file
/// starts with) and room for salt, nonce and tag.
pub fn looks_like(bytes: &[u8]) -> bool {
    looks_encrypted(bytes) || looks_plain(bytes)
}

fn looks_encrypted(bytes: &[u8]) -> bool {
    let iterations = iteration_count(bytes);
    bytes.first() == Some(&0)
        && bytes.len() >= HEADER_LEN + TAG_LEN
        && iterations.is_some_and(|n| (1..=MAX_PBKDF2_ITERATIONS).contains(&n))
}

/// Looks at the first item's keys only: nothing of the file is copied (a whole
/// `serde_json::Value` of it would hold every secret in buffers freed unwiped), though the
/// rest is still read through, so that only valid JSON is taken for andOTP.
fn looks_plain(bytes: &[u8]) -> bool {
    if !is_json_list(bytes) {
        return false;
    }
    // A list of millions of items is not read through: andOTP's is the only format that is a
    // list, so a list past the entry bound is taken as one, for `read` to refuse as too many
    // rather than as no known format.
    let too_many = std::cell::Cell::new(false);
    let mut reader = serde_json::Deserializer::from_slice(json::strip_bom(bytes));
    let first = match (&mut reader).deserialize_seq(FirstItemVisitor {
        too_many: &too_many,
    }) {
        Ok(first) => first,
        Err(_) => return too_many.get(),
    };
    reader.end().is_ok() && first
}

/// Reads a JSON list: whether its first item has andOTP's `secret` and `type` keys. Stops
/// with an error, `too_many` set, past [`limits::MAX_ENTRIES`] items.
struct FirstItemVisitor<'a> {
    too_many: &'a std::cell::Cell<bool>,
}

impl<'de> Visitor<'de> for FirstItemVisitor<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<bool, A::Error> {
        let first = items.next_element::<Keys>()?;
        let mut count = usize::from(first.is_some());
        // The values are skipped, never copied; only their syntax is checked.
        while items.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
            if count > limits::MAX_ENTRIES {
                self.too_many.set(true);
                return Err(serde::de::Error::custom("too many items"));
            }
        }
        Ok(first.is_some_and(|keys| keys.secret.0 && keys.kind.0))
    }
}

/// The two keys that mark an andOTP entry; their values are skipped unread.
#[derive(Deserialize)]
struct Keys {
    #[serde(default)]
    secret: Present,
    #[serde(default, rename = "type")]
    kind: Present,
}

/// Whether a key is there, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Self(true))
    }
}

/// Whether the text starts as a JSON list does: the plain backup, never the encrypted one
/// (whose first byte is 0).
fn is_json_list(bytes: &[u8]) -> bool {
    json::strip_bom(bytes).trim_ascii_start().starts_with(b"[")
}

fn iteration_count(bytes: &[u8]) -> Option<u32> {
    let head: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(head))
}

/// Reads a backup, decrypting it with `password` when it is the encrypted `.bin`.
///
/// Fails with [`ImportError::PasswordRequired`], [`ImportError::WrongPassword`] (the tag
/// fails: a wrong password or a damaged ciphertext), [`ImportError::Unsupported`] (more
/// PBKDF2 iterations than the bound) and [`ImportError::Damaged`] (too short, zero
/// iterations, not JSON).
pub fn read(bytes: &[u8], password: Option<&str>) -> Result<Vec<Entry>, ImportError> {
    let plain;
    let json_bytes = if is_json_list(bytes) {
        bytes
    } else {
        plain = decrypt(bytes, password)?;
        plain.as_slice()
    };
    match &*json::document(json_bytes, "andOTP backup")? {
        Value::Array(items) => Ok(items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                assemble::entry("entry", index + 1, label_of(item), account_of(item))
            })
            .collect()),
        _ => Err(ImportError::damaged("andOTP backup: not a list of entries")),
    }
}

/// The JSON of an encrypted backup. Its framing is checked before the password is asked
/// for, so that a file that is neither form is [`ImportError::Damaged`], not a prompt.
fn decrypt(
    bytes: &[u8],
    password: Option<&str>,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ImportError> {
    let too_short = || {
        ImportError::damaged(
            "andOTP backup: neither a JSON list nor long enough for an encrypted one",
        )
    };
    let iterations = iteration_count(bytes).ok_or_else(too_short)?;
    let salt = bytes.get(4..4 + SALT_LEN).ok_or_else(too_short)?;
    let nonce = bytes.get(4 + SALT_LEN..HEADER_LEN).ok_or_else(too_short)?;
    let sealed = bytes.get(HEADER_LEN..).ok_or_else(too_short)?;
    if sealed.len() < TAG_LEN {
        return Err(too_short());
    }
    crypto::check_iterations(iterations)?;
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let key = crypto::pbkdf2(Prf::Sha1, password, salt, iterations)?;
    crypto::aes_gcm_open(&key, nonce, sealed).map_err(|_| ImportError::WrongPassword)
}

fn label_of(item: &Value) -> String {
    let text = |key| item.get(key).and_then(Value::as_str).unwrap_or_default();
    assemble::label(text("issuer"), text("label"))
}

fn account_of(item: &Value) -> Result<Account, String> {
    let entry = Fields::of(item, "")?;
    let kind = assemble::kind("type", entry.str("type")?)?;
    let secret = assemble::base32_secret("secret", entry.str("secret")?)?;
    // Backups from andOTP before issuers were a field of their own kept "issuer:name" in
    // the label.
    let (issuer, name) = match (entry.str_or_empty("issuer")?, entry.str_or_empty("label")?) {
        ("", label) => label.split_once(':').unwrap_or(("", label)),
        pair => pair,
    };
    Draft {
        issuer,
        name,
        kind,
        algorithm: entry.opt_str("algorithm")?,
        digits: entry.opt_u64("digits")?,
        period: match kind {
            OtpKind::Hotp => None,
            OtpKind::Totp | OtpKind::Steam => entry.opt_u64("period")?,
        },
        counter: match kind {
            OtpKind::Hotp => Some(entry.u64("counter")?),
            OtpKind::Totp | OtpKind::Steam => None,
        },
    }
    .into_account(secret)
}
