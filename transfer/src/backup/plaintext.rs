//! The backup's plaintext: a JSON list of accounts, every field, secrets in base32.
//!
//! `{"type":"totp","issuer":"…","name":"…","secret":"BASE32","algorithm":"SHA1","digits":6,
//! "period":30}`; HOTP entries have `"counter"` (the next code's) instead of `"period"`.

use cityauth_core::account::display_label;
use cityauth_core::{Account, Algorithm, OtpKind, OtpParams, SecretBytes};
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use crate::entry::{Entry, Location};
use crate::error::ImportError;
use crate::formats::limits::MAX_ENTRIES;

/// How an account is written (borrowing, so that the only secret copy is the base32 text).
#[derive(Serialize)]
struct StoredRef<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    issuer: &'a str,
    name: &'a str,
    secret: &'a str,
    algorithm: &'static str,
    digits: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counter: Option<u64>,
}

/// How an account is read: numbers wide and kinds as text, so that an odd value refuses one
/// entry instead of the whole backup.
#[derive(Deserialize)]
struct Stored {
    #[serde(rename = "type")]
    kind: String,
    issuer: String,
    name: String,
    secret: Base32Text,
    algorithm: String,
    digits: u64,
    period: Option<u64>,
    counter: Option<u64>,
}

/// A base32 secret as read, in a buffer wiped on drop.
struct Base32Text(Zeroizing<String>);

impl<'de> Deserialize<'de> for Base32Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| Self(Zeroizing::new(text)))
    }
}

/// Extra room per account for the JSON around its fields.
const FIELDS_OVERHEAD: usize = 160;

/// The accounts as the plaintext JSON, with `spare` bytes of capacity left after it, so that
/// neither this nor the encryption after it reallocates and leaves a copy behind.
pub fn encode(accounts: &[Account], spare: usize) -> Result<Zeroizing<Vec<u8>>, serde_json::Error> {
    let secrets: Vec<Zeroizing<String>> = accounts.iter().map(|a| a.secret().to_base32()).collect();
    // serde_json escapes a control character as six bytes: the worst case of a label.
    let capacity: usize = accounts
        .iter()
        .zip(&secrets)
        .map(|(a, s)| FIELDS_OVERHEAD + s.len() + 6 * (a.issuer().len() + a.name().len()))
        .sum::<usize>()
        + 2
        + spare;
    let stored: Vec<StoredRef<'_>> = accounts
        .iter()
        .zip(&secrets)
        .map(|(account, secret)| stored_ref(account, secret))
        .collect();
    let mut out = Zeroizing::new(Vec::with_capacity(capacity));
    serde_json::to_writer(&mut *out, &stored)?;
    Ok(out)
}

fn stored_ref<'a>(account: &'a Account, secret: &'a str) -> StoredRef<'a> {
    let params = account.params();
    let hotp = params.kind() == OtpKind::Hotp;
    StoredRef {
        kind: params.kind().as_str(),
        issuer: account.issuer(),
        name: account.name(),
        secret,
        algorithm: params.algorithm().as_str(),
        digits: params.digits(),
        period: (!hotp).then(|| params.period()),
        counter: hotp.then(|| params.counter()),
    }
}

/// The entries of a decrypted plaintext; an entry whose fields cityauth cannot use is
/// refused on its own, at `entry n`. A list of more than [`MAX_ENTRIES`] accounts is
/// [`ImportError::TooMany`], refused as the entry past the bound is met (the passphrase
/// proves who wrote the file, not that it is reasonable); anything but the expected list is
/// damage.
pub fn decode(plaintext: &[u8]) -> Result<Vec<Entry>, ImportError> {
    let too_many = std::cell::Cell::new(false);
    let mut reader = serde_json::Deserializer::from_slice(plaintext);
    let stored = (&mut reader)
        .deserialize_seq(StoredList {
            too_many: &too_many,
        })
        .and_then(|stored| reader.end().map(|()| stored))
        .map_err(|_| match too_many.get() {
            true => ImportError::TooMany {
                what: "accounts",
                limit: MAX_ENTRIES,
            },
            false => ImportError::damaged("the decrypted content is not a list of accounts"),
        })?;
    Ok(stored
        .iter()
        .enumerate()
        .map(|(i, stored)| {
            let location = Location::entry(i + 1);
            match account_from(stored) {
                Ok(account) => Entry::account(location, account),
                Err(reason) => Entry::rejected(
                    location,
                    display_label(&stored.issuer, &stored.name),
                    reason,
                ),
            }
        })
        .collect())
}

/// Reads the JSON list of accounts, stopping with an error, `too_many` set, at the entry past
/// [`MAX_ENTRIES`].
struct StoredList<'a> {
    too_many: &'a std::cell::Cell<bool>,
}

impl<'de> Visitor<'de> for StoredList<'_> {
    type Value = Vec<Stored>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON list of accounts")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Vec<Stored>, A::Error> {
        let mut stored = Vec::new();
        while let Some(item) = items.next_element::<Stored>()? {
            if stored.len() == MAX_ENTRIES {
                self.too_many.set(true);
                return Err(serde::de::Error::custom("too many accounts"));
            }
            stored.push(item);
        }
        Ok(stored)
    }
}

fn account_from(stored: &Stored) -> Result<Account, String> {
    let algorithm = Algorithm::from_name(&stored.algorithm)
        .ok_or("algorithm: must be SHA1, SHA256 or SHA512")?;
    let narrow =
        |n: u64, field: &str| u32::try_from(n).map_err(|_| format!("{field}: out of range"));
    let digits = u8::try_from(stored.digits).map_err(|_| "digits: out of range".to_owned())?;
    let params = match stored.kind.as_str() {
        "totp" => {
            let period = stored.period.ok_or("period: missing")?;
            OtpParams::totp(algorithm, digits, narrow(period, "period")?)
        }
        "hotp" => OtpParams::hotp(algorithm, digits, stored.counter.ok_or("counter: missing")?),
        "steam" => {
            if digits != cityauth_core::otp::STEAM_DIGITS {
                return Err("digits: Steam codes have 5 characters".into());
            }
            let period = stored.period.ok_or("period: missing")?;
            OtpParams::steam(narrow(period, "period")?)
        }
        _ => return Err("type: must be totp, hotp or steam".into()),
    }
    .map_err(|error| error.to_string())?;
    let secret = SecretBytes::from_base32(&stored.secret.0)
        .map_err(|_| "secret: not valid base32".to_owned())?;
    Account::new(&stored.issuer, &stored.name, secret, params).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_of(n: usize) -> Vec<u8> {
        let entry = r#"{"type":"totp","issuer":"I","name":"n","secret":"JBSWY3DPEHPK3PXP","algorithm":"SHA1","digits":6,"period":30}"#;
        let mut json = String::from("[");
        for i in 0..n {
            if i > 0 {
                json.push(',');
            }
            json.push_str(entry);
        }
        json.push(']');
        json.into_bytes()
    }

    #[test]
    fn a_decrypted_list_past_the_entry_bound_is_too_many_not_read() {
        assert_eq!(decode(&list_of(MAX_ENTRIES)).unwrap().len(), MAX_ENTRIES);
        assert_eq!(
            decode(&list_of(MAX_ENTRIES + 1)).unwrap_err(),
            ImportError::TooMany {
                what: "accounts",
                limit: MAX_ENTRIES
            }
        );
    }

    #[test]
    fn anything_but_a_list_of_accounts_is_damage() {
        for text in [&b"{}"[..], b"[1]", b"[] []", b"not json"] {
            assert!(
                matches!(decode(text), Err(ImportError::Damaged { .. })),
                "{text:?}"
            );
        }
    }
}
