//! 2FAS Authenticator's `.2fas` backup, plain or encrypted.
//!
//! `{services: [...], schemaVersion, servicesEncrypted?, reference?, ...}`. Encrypted,
//! `services` is empty and `servicesEncrypted` is three base64 parts joined by `:`: the
//! AES-256-GCM ciphertext with its tag appended, the PBKDF2 salt, and the 96-bit nonce. The
//! key is PBKDF2-HMAC-SHA256 of the password, 10,000 iterations (fixed by the app, not in the
//! file). `reference` is a known text sealed the same way under the same key: it tells a
//! wrong password (the reference does not open) from a damaged file (it opens and the
//! services do not).

use cityauth_core::{Account, OtpKind};
use serde_json::Value;
use zeroize::Zeroizing;

use super::assemble::{self, Draft};
use super::crypto::{self, Key, Prf};
use super::encoding;
use super::json::{self, Fields};
use crate::entry::Entry;
use crate::error::ImportError;

/// The newest schema this reader knows.
const SCHEMA_VERSION: u64 = 4;
/// 2FAS's fixed PBKDF2 iteration count.
const ITERATIONS: u32 = 10_000;

/// Whether `bytes` are a JSON object with 2FAS's `services` and `schemaVersion`.
pub fn looks_like(bytes: &[u8]) -> bool {
    json::has_keys(bytes, &["services", "schemaVersion"])
}

/// Reads a backup, decrypting it with `password` when it is encrypted.
///
/// Fails with [`ImportError::PasswordRequired`], [`ImportError::WrongPassword`],
/// [`ImportError::Unsupported`] (a schema newer than 4) and [`ImportError::Damaged`].
pub fn read(bytes: &[u8], password: Option<&str>) -> Result<Vec<Entry>, ImportError> {
    let root = json::document(bytes, "2FAS backup")?;
    match root.get("schemaVersion").and_then(Value::as_u64) {
        Some(version) if version <= SCHEMA_VERSION => {}
        Some(_) => {
            return Err(ImportError::Unsupported {
                what: "this 2FAS schema version (cityauth reads up to 4)".into(),
            });
        }
        None => return Err(ImportError::damaged("2FAS backup: no schemaVersion")),
    }
    match root.get("servicesEncrypted").filter(|v| !v.is_null()) {
        None => read_services(json::entry_list(&root, "services", "2FAS backup")?),
        Some(Value::String(sealed)) => {
            // The framing is checked before the password is asked for: a damaged file is
            // reported as such, not with a prompt.
            let reference = root.get("reference").and_then(Value::as_str);
            let sealed = SealedServices::parse(sealed, reference)?;
            let password = password.ok_or(ImportError::PasswordRequired)?;
            let plain = sealed.open(password)?;
            match &*json::document(&plain, "2FAS services")? {
                Value::Array(services) => read_services(services),
                _ => Err(ImportError::damaged("2FAS services: not a list")),
            }
        }
        Some(_) => Err(ImportError::damaged(
            "2FAS backup: servicesEncrypted is not a string",
        )),
    }
}

fn read_services(services: &[Value]) -> Result<Vec<Entry>, ImportError> {
    Ok(services
        .iter()
        .enumerate()
        .map(|(index, item)| {
            assemble::entry("service", index + 1, label_of(item), account_of(item))
        })
        .collect())
}

fn label_of(item: &Value) -> String {
    let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
    let account = item
        .get("otp")
        .and_then(|otp| otp.get("account").or_else(|| otp.get("label")))
        .and_then(Value::as_str)
        .unwrap_or_default();
    assemble::label(name, account)
}

fn account_of(item: &Value) -> Result<Account, String> {
    let service = Fields::of(item, "")?;
    let otp = service.object("otp", "otp.")?;
    // Older schemas had no tokenType: those backups held only TOTP.
    let kind = match otp.opt_str("tokenType")? {
        None => OtpKind::Totp,
        Some(text) => assemble::kind("otp.tokenType", text)?,
    };
    let secret = assemble::base32_secret("secret", service.str("secret")?)?;
    // The service name is what 2FAS shows as the issuer (the user may have edited it);
    // otp.issuer is what the QR code said.
    let issuer = match service.str_or_empty("name")? {
        "" => otp.str_or_empty("issuer")?,
        name => name,
    };
    let name = match otp.opt_str("account")? {
        Some(account) => account,
        None => otp.str_or_empty("label")?,
    };
    Draft {
        issuer,
        name,
        kind,
        algorithm: otp.opt_str("algorithm")?,
        digits: otp.opt_u64("digits")?,
        period: match kind {
            OtpKind::Hotp => None,
            OtpKind::Totp | OtpKind::Steam => otp.opt_u64("period")?,
        },
        counter: match kind {
            OtpKind::Hotp => Some(otp.u64("counter")?),
            OtpKind::Totp | OtpKind::Steam => None,
        },
    }
    .into_account(secret)
}

/// A `ciphertext+tag:salt:nonce` field, decoded.
struct Sealed {
    ciphertext_and_tag: Zeroizing<Vec<u8>>,
    salt: Zeroizing<Vec<u8>>,
    nonce: Zeroizing<Vec<u8>>,
}

impl Sealed {
    fn parse(field: &str, text: &str) -> Result<Self, ImportError> {
        let mut parts = text.split(':');
        let (Some(data), Some(salt), Some(nonce), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ImportError::damaged(format!(
                "2FAS {field}: not three base64 parts joined by ':'"
            )));
        };
        Ok(Self {
            ciphertext_and_tag: encoding::base64(field, data)?,
            salt: encoding::base64(field, salt)?,
            nonce: encoding::base64(field, nonce)?,
        })
    }

    fn open(&self, key: &Key) -> Option<Zeroizing<Vec<u8>>> {
        crypto::aes_gcm_open(key, &self.nonce, &self.ciphertext_and_tag).ok()
    }
}

/// The encrypted services and, when it shares their salt, the reference.
struct SealedServices {
    services: Sealed,
    reference: Option<Sealed>,
}

impl SealedServices {
    /// Decodes both fields; runs no KDF.
    fn parse(services: &str, reference: Option<&str>) -> Result<Self, ImportError> {
        let services = Sealed::parse("servicesEncrypted", services)?;
        if services.nonce.len() != 12 {
            return Err(ImportError::damaged(
                "2FAS servicesEncrypted: nonce is not 96 bits",
            ));
        }
        let reference = reference
            .map(|text| Sealed::parse("reference", text))
            .transpose()?
            .filter(|reference| reference.salt == services.salt);
        Ok(Self {
            services,
            reference,
        })
    }

    /// The services' JSON, decrypted.
    fn open(&self, password: &str) -> Result<Zeroizing<Vec<u8>>, ImportError> {
        let key = crypto::pbkdf2(Prf::Sha256, password, &self.services.salt, ITERATIONS)?;
        match &self.reference {
            Some(reference) if reference.open(&key).is_none() => Err(ImportError::WrongPassword),
            Some(_) => self.services.open(&key).ok_or_else(|| {
                ImportError::damaged(
                    "2FAS servicesEncrypted: does not decrypt, though the password is right",
                )
            }),
            // Without a reference a failed tag may be either: it is reported as the likelier.
            None => self.services.open(&key).ok_or(ImportError::WrongPassword),
        }
    }
}
