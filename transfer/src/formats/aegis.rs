//! Aegis vault JSON, plain or encrypted.
//!
//! Layout (Aegis's `docs/vault.md`): `{version, header: {slots, params}, db}`. Plain, `db` is
//! the object `{version, entries}`. Encrypted, `db` is base64 of that object under AES-256-GCM
//! with the master key, nonce and tag in `header.params`; the master key is wrapped in
//! `header.slots`, each slot a copy of it under AES-256-GCM (nonce and tag in `key_params`).
//! Password slots (type 1) derive their key with scrypt from `n`, `r`, `p`, `salt`; biometric
//! slots (type 2) need the phone's keystore and are skipped.

use cityauth_core::{Account, OtpKind};
use serde_json::Value;
use zeroize::Zeroizing;

use super::assemble::{self, Draft};
use super::crypto::{self, KdfBudget, Key, OpenError, ScryptCost};
use super::encoding;
use super::json::{self, Fields};
use crate::cancel::Cancel;
use crate::entry::Entry;
use crate::error::ImportError;

/// Decoded bytes that may be key material.
type Secret = Zeroizing<Vec<u8>>;

/// The vault version this reader knows.
const VAULT_VERSION: u64 = 1;
/// The slot type of a password slot.
const PASSWORD_SLOT: u64 = 1;
/// Each password slot costs one scrypt: a file may not ask for more than this many.
const MAX_PASSWORD_SLOTS: usize = 4;
const GCM_TAG_LEN: usize = 16;

/// Whether `bytes` are a JSON object with Aegis's `version`, `header` and `db`.
pub fn looks_like(bytes: &[u8]) -> bool {
    json::has_keys(bytes, &["version", "header", "db"])
}

/// Reads a vault, decrypting it with `password` when it is encrypted; stops between slots
/// when `cancel` is tripped.
///
/// Every password slot's scrypt is checked and charged against the file's
/// [`crypto::MAX_SCRYPT_WORK`] before any runs ([`ImportError::TooMany`] past it). Fails with [`ImportError::PasswordRequired`], [`ImportError::WrongPassword`] (no password
/// slot opens), [`ImportError::Unsupported`] (no password slot, another vault version, KDF
/// parameters beyond the bounds) and [`ImportError::Damaged`] (not Aegis JSON, or the
/// database does not decrypt under a key a slot gave).
pub fn read(
    bytes: &[u8],
    password: Option<&str>,
    cancel: &Cancel,
) -> Result<Vec<Entry>, ImportError> {
    let root = json::document(bytes, "Aegis vault")?;
    let version = root.get("version").and_then(Value::as_u64);
    if version != Some(VAULT_VERSION) {
        return Err(ImportError::Unsupported {
            what: "this Aegis vault version (cityauth reads version 1)".into(),
        });
    }
    let header = root
        .get("header")
        .ok_or_else(|| ImportError::damaged("Aegis vault: no header"))?;
    match root.get("db") {
        Some(db @ Value::Object(_)) => read_db(db),
        Some(Value::String(sealed)) => {
            // The framing is checked before the password is asked for: a damaged file is
            // reported as such, not with a prompt.
            let vault = SealedVault::parse(header, sealed)?;
            let password = password.ok_or(ImportError::PasswordRequired)?;
            let plain = vault.open(password, cancel)?;
            let db = json::document(&plain, "Aegis database")?;
            read_db(&db)
        }
        _ => Err(ImportError::damaged(
            "Aegis vault: db is neither an object nor base64",
        )),
    }
}

/// The database's entries, each an account or a rejection.
fn read_db(db: &Value) -> Result<Vec<Entry>, ImportError> {
    let items = json::entry_list(db, "entries", "Aegis database")?;
    Ok(items
        .iter()
        .enumerate()
        .map(|(index, item)| assemble::entry("entry", index + 1, label_of(item), account_of(item)))
        .collect())
}

fn label_of(item: &Value) -> String {
    let text = |key| item.get(key).and_then(Value::as_str).unwrap_or_default();
    assemble::label(text("issuer"), text("name"))
}

fn account_of(item: &Value) -> Result<Account, String> {
    let entry = Fields::of(item, "")?;
    // Aegis also has motp and yandex entries (a PIN mixed into the code): cityauth cannot
    // make their codes, so they are refused by name.
    let kind = assemble::kind("type", entry.str("type")?)?;
    let info = entry.object("info", "info.")?;
    let secret = assemble::base32_secret("info.secret", info.str("secret")?)?;
    Draft {
        issuer: entry.str_or_empty("issuer")?,
        name: entry.str_or_empty("name")?,
        kind,
        algorithm: info.opt_str("algo")?,
        digits: info.opt_u64("digits")?,
        period: match kind {
            OtpKind::Hotp => None,
            OtpKind::Totp | OtpKind::Steam => info.opt_u64("period")?,
        },
        counter: match kind {
            OtpKind::Hotp => Some(info.u64("counter")?),
            OtpKind::Totp | OtpKind::Steam => None,
        },
    }
    .into_account(secret)
}

/// An encrypted vault's slots and database, decoded but not yet opened.
struct SealedVault {
    slots: Vec<PasswordSlot>,
    nonce: Zeroizing<Vec<u8>>,
    ciphertext_and_tag: Zeroizing<Vec<u8>>,
}

impl SealedVault {
    /// Decodes the password slots and the database's framing, and checks what their KDFs
    /// would cost; runs none.
    fn parse(header: &Value, sealed: &str) -> Result<Self, ImportError> {
        let damaged = |what: String| ImportError::damaged(format!("Aegis header: {what}"));
        let header = Fields::of(header, "header.").map_err(damaged)?;
        let slots = header.array("slots").map_err(damaged)?;
        let password_slots: Vec<&Value> = slots
            .iter()
            .filter(|slot| slot.get("type").and_then(Value::as_u64) == Some(PASSWORD_SLOT))
            .collect();
        if password_slots.is_empty() {
            return Err(ImportError::Unsupported {
                what: "an Aegis vault without a password slot (biometric only)".into(),
            });
        }
        if password_slots.len() > MAX_PASSWORD_SLOTS {
            return Err(ImportError::Unsupported {
                what: format!("an Aegis vault with more than {MAX_PASSWORD_SLOTS} password slots"),
            });
        }
        let slots = password_slots
            .iter()
            .enumerate()
            .map(|(index, slot)| PasswordSlot::read(slot, index + 1))
            .collect::<Result<Vec<_>, _>>()?;
        let mut budget = KdfBudget::per_file();
        for slot in &slots {
            budget.charge(&slot.cost)?;
        }
        let params = header.object("params", "header.params.").map_err(damaged)?;
        let (nonce, tag) = nonce_and_tag(params, "header.params")?;
        let mut ciphertext_and_tag = encoding::base64("db", sealed)?;
        ciphertext_and_tag.extend_from_slice(&tag);
        Ok(Self {
            slots,
            nonce,
            ciphertext_and_tag,
        })
    }

    /// The database's JSON: the master key from the first password slot that `password`
    /// opens ([`ImportError::WrongPassword`] when none does), then the database under it
    /// ([`ImportError::Damaged`] when that fails: the password was right).
    fn open(&self, password: &str, cancel: &Cancel) -> Result<Zeroizing<Vec<u8>>, ImportError> {
        let mut master_key = None;
        for slot in &self.slots {
            cancel.check()?;
            master_key = slot.open(password)?;
            if master_key.is_some() {
                break;
            }
        }
        let master_key = master_key.ok_or(ImportError::WrongPassword)?;
        crypto::aes_gcm_open(&master_key, &self.nonce, &self.ciphertext_and_tag).map_err(|_| {
            ImportError::damaged("Aegis db: it does not decrypt under the key the password opened")
        })
    }
}

/// A password slot's fields, decoded.
struct PasswordSlot {
    cost: ScryptCost,
    salt: Zeroizing<Vec<u8>>,
    nonce: Zeroizing<Vec<u8>>,
    wrapped_key_and_tag: Zeroizing<Vec<u8>>,
}

impl PasswordSlot {
    fn read(slot: &Value, number: usize) -> Result<Self, ImportError> {
        let damaged = |what: String| ImportError::damaged(format!("Aegis slot {number}: {what}"));
        let fields = Fields::of(slot, "").map_err(damaged)?;
        let number_field = |key: &str| fields.u64(key).map_err(damaged);
        let text_field = |key: &str| fields.str(key).map_err(damaged);
        let key_params = fields
            .object("key_params", "key_params.")
            .map_err(damaged)?;
        let (nonce, tag) = nonce_and_tag(key_params, "slot key_params")?;
        let mut wrapped_key_and_tag = encoding::hex("slot key", text_field("key")?)?;
        if wrapped_key_and_tag.len() != 32 {
            return Err(damaged("key: not a wrapped 256-bit key".into()));
        }
        wrapped_key_and_tag.extend_from_slice(&tag);
        Ok(Self {
            cost: ScryptCost::check(number_field("n")?, number_field("r")?, number_field("p")?)?,
            salt: encoding::hex("slot salt", text_field("salt")?)?,
            nonce,
            wrapped_key_and_tag,
        })
    }

    /// The master key, or `None` when the password is not this slot's.
    fn open(&self, password: &str) -> Result<Option<Key>, ImportError> {
        let slot_key = crypto::scrypt_checked(password, &self.salt, &self.cost)?;
        match crypto::aes_gcm_open(&slot_key, &self.nonce, &self.wrapped_key_and_tag) {
            Ok(master) => crypto::key_from("slot key", &master).map(Some),
            Err(OpenError::Tag) => Ok(None),
            Err(OpenError::Nonce) => Err(ImportError::damaged("Aegis slot: nonce is not 96 bits")),
        }
    }
}

/// The hex `nonce` (96 bits) and `tag` (128 bits) of a `key_params` or `params` object.
fn nonce_and_tag(params: Fields<'_>, what: &str) -> Result<(Secret, Secret), ImportError> {
    let damaged = |e: String| ImportError::damaged(format!("Aegis {what}: {e}"));
    let nonce = encoding::hex(what, params.str("nonce").map_err(damaged)?)?;
    let tag = encoding::hex(what, params.str("tag").map_err(damaged)?)?;
    if nonce.len() != 12 || tag.len() != GCM_TAG_LEN {
        return Err(damaged("nonce must be 96 bits and tag 128 bits".into()));
    }
    Ok((nonce, tag))
}
