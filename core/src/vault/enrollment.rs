//! This device's registration with a City account server, sealed in the vault like an
//! account: the server it trusts (by key), its own signing key, and the clock offset.

use std::fmt;

use zeroize::Zeroizing;

use crate::account::Account;
use crate::device::{bounded, corrected};

use super::error::{AccountId, IntegrityError, VaultError};
use super::state::{Draft, Entry};
use super::{AccountCode, Vault, codec, store};

/// The longest server URL stored, in bytes.
pub const MAX_SERVER_URL: usize = 2048;
/// The longest device id, username or display name stored, in bytes (the server's own limits
/// are lower: 64 characters for a username).
pub const MAX_ENROLLMENT_TEXT: usize = 512;
/// The largest device key stored (a P-256 PKCS#8 document is 138 bytes).
pub const MAX_DEVICE_KEY: usize = 1024;
/// The server key's length: an uncompressed P-256 point.
pub const SERVER_KEY_LEN: usize = 65;

/// Where this device's signing key lives. `Debug` never shows the private key.
#[derive(Clone, PartialEq, Eq)]
pub enum DeviceKey {
    /// In the vault, sealed with the enrollment: the P-256 key as PKCS#8. The fallback where
    /// the platform has no key store (and the desktop CLI's only kind).
    Vault(Zeroizing<Vec<u8>>),
    /// In the platform's key store (Android Keystore, the Secure Enclave): the vault keeps
    /// only the key's name and its public key, and the host signs.
    Host {
        /// The host's name for the key (e.g. the Keystore alias).
        key_id: String,
        /// Its uncompressed P-256 public key (65 bytes).
        public_key: Vec<u8>,
    },
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceKey::Vault(_) => f.write_str("DeviceKey::Vault(<redacted>)"),
            DeviceKey::Host { key_id, .. } => f
                .debug_struct("DeviceKey::Host")
                .field("key_id", key_id)
                .finish_non_exhaustive(),
        }
    }
}

/// An enrollment as the vault keeps it. `Debug` never shows the device key.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrollment {
    /// The server's base URL.
    pub server_url: String,
    /// The id the server gave this device.
    pub device_id: String,
    /// The City account.
    pub username: String,
    /// The employee's name as the City knows it.
    pub display_name: String,
    /// The server's signing key (65-byte uncompressed P-256), pinned at enrollment.
    pub server_public_key: Vec<u8>,
    /// This device's P-256 signing key: in the vault, or in the platform's key store.
    pub device_key: DeviceKey,
    /// Server time minus this device's time, in seconds, as last learned.
    pub clock_offset: i64,
    /// The vault account holding the City account's codes, if the server issued one.
    pub city_account: Option<AccountId>,
}

impl fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enrollment")
            .field("server_url", &self.server_url)
            .field("device_id", &self.device_id)
            .field("username", &self.username)
            .field("device_key", &self.device_key)
            .field("clock_offset", &self.clock_offset)
            .field("city_account", &self.city_account)
            .finish_non_exhaustive()
    }
}

impl Enrollment {
    /// Checks every field against its bound before anything is stored; the error names the
    /// first field at fault. Texts must be non-empty (the display name may be) and free of
    /// control characters.
    pub fn check(&self) -> Result<(), &'static str> {
        let texts = [
            ("server_url", &self.server_url, MAX_SERVER_URL, false),
            ("device_id", &self.device_id, MAX_ENROLLMENT_TEXT, false),
            ("username", &self.username, MAX_ENROLLMENT_TEXT, false),
            (
                "display_name",
                &self.display_name,
                MAX_ENROLLMENT_TEXT,
                true,
            ),
        ];
        for (field, text, max, may_be_empty) in texts {
            if text.len() > max
                || (text.is_empty() && !may_be_empty)
                || text.chars().any(char::is_control)
            {
                return Err(field);
            }
        }
        if self.server_public_key.len() != SERVER_KEY_LEN {
            return Err("server_public_key");
        }
        match &self.device_key {
            DeviceKey::Vault(pkcs8) if pkcs8.is_empty() || pkcs8.len() > MAX_DEVICE_KEY => {
                Err("device_key")
            }
            DeviceKey::Host { key_id, .. }
                if key_id.is_empty()
                    || key_id.len() > MAX_ENROLLMENT_TEXT
                    || key_id.chars().any(char::is_control) =>
            {
                Err("device_key_id")
            }
            DeviceKey::Host { public_key, .. } if public_key.len() != SERVER_KEY_LEN => {
                Err("device_public_key")
            }
            _ => Ok(()),
        }
    }
}

/// The clock the City account's codes are drawn at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CityClock {
    /// The vault account holding the City account's codes, if any.
    pub account: Option<AccountId>,
    /// The offset learned from the server (bounded), 0 when none applies.
    pub offset: i64,
}

pub(super) fn enrollment_aad(vault_id: &[u8]) -> Vec<u8> {
    let mut aad = b"cityauth vault enrollment v1".to_vec();
    aad.extend_from_slice(vault_id);
    aad
}

impl Vault {
    /// This device's enrollment, if any.
    pub fn enrollment(&self) -> Result<Option<Enrollment>, VaultError> {
        self.read_with(|conn, unlocked, vault_id| {
            let sealed = store::read_enrollment(conn)?;
            // The index records which enrollment row is current (issue 10, item 9).
            unlocked.check_enrollment(sealed.as_deref())?;
            let Some(sealed) = sealed else {
                return Ok(None);
            };
            open_enrollment(&unlocked.keys, vault_id, &sealed).map(Some)
        })?
    }

    /// The City account and the clock offset for its codes. A damaged enrollment counts as
    /// none here (it is reported by [`Vault::integrity_problems`]): enrollment damage never
    /// stops a code, the City account's included. The one rule the CLI and the FFI use.
    pub fn city_clock(&self) -> Result<CityClock, VaultError> {
        match self.enrollment() {
            Ok(Some(enrollment)) => Ok(CityClock {
                account: enrollment.city_account,
                offset: bounded(enrollment.clock_offset),
            }),
            Ok(None) | Err(VaultError::Integrity(IntegrityError::Enrollment)) => {
                Ok(CityClock::default())
            }
            Err(error) => Err(error),
        }
    }

    /// The current code of every time-based account at this device's clock
    /// `local_seconds`; the City account's own code at that clock corrected by the offset
    /// learned from its server. No other account is shifted.
    pub fn codes_now(&self, local_seconds: u64) -> Result<Vec<AccountCode>, VaultError> {
        let clock = self.city_clock()?;
        let mut codes = self.codes(local_seconds)?;
        if let Some(city) = clock.account.filter(|_| clock.offset != 0)
            && let Some(code) = codes.iter_mut().find(|code| code.id == city)
        {
            *code = self.code(city, corrected(local_seconds, clock.offset))?;
        }
        Ok(codes)
    }

    /// The current code of one time-based account at this device's clock, corrected as in
    /// [`Vault::codes_now`] if it is the City account.
    pub fn code_now(&self, id: AccountId, local_seconds: u64) -> Result<AccountCode, VaultError> {
        let clock = self.city_clock()?;
        let time = if clock.account == Some(id) {
            corrected(local_seconds, clock.offset)
        } else {
            local_seconds
        };
        self.code(id, time)
    }

    /// True when an enrollment is stored but does not open or parse (for
    /// [`Vault::integrity_problems`]).
    pub(super) fn enrollment_damaged(&self) -> Result<bool, VaultError> {
        match self.enrollment() {
            Err(VaultError::Integrity(IntegrityError::Enrollment)) => Ok(true),
            Ok(_) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Stores an enrollment and, in the same transaction, the City account's OATH account.
    /// Returns the new account's id.
    pub fn save_enrollment(
        &self,
        mut enrollment: Enrollment,
        city_account: Option<Account>,
    ) -> Result<Option<AccountId>, VaultError> {
        enrollment.check().map_err(VaultError::InvalidEnrollment)?;
        self.write(|draft| {
            if let Some(account) = city_account {
                let id = store::reserve_account_id(draft.tx)?;
                let tag = draft.store_record(id, &account)?;
                draft.entries.push(Entry::new_ready(id, tag, account));
                enrollment.city_account = Some(AccountId(id));
            }
            seal_into(draft, &enrollment)?;
            Ok(enrollment.city_account)
        })
    }

    /// Updates the learned clock offset (server time minus device time, seconds). Reads and
    /// writes in one transaction: an enrollment forgotten meanwhile (by another handle or
    /// process) stays forgotten, and none is written when there is none.
    pub fn set_clock_offset(&self, offset: i64) -> Result<(), VaultError> {
        self.write(|draft| {
            let Some(sealed) = store::read_enrollment(draft.tx)? else {
                return Ok(());
            };
            let mut enrollment = open_enrollment(draft.keys, draft.vault_id, &sealed)?;
            enrollment.clock_offset = offset;
            seal_into(draft, &enrollment)
        })
    }

    /// Forgets the enrollment (the City account's codes stay as a normal account).
    pub fn forget_enrollment(&self) -> Result<(), VaultError> {
        self.write(|draft| store::delete_enrollment(draft.tx))
    }
}

/// Decrypts and parses a sealed enrollment.
fn open_enrollment(
    keys: &super::crypto::VaultKeys,
    vault_id: &[u8],
    sealed: &[u8],
) -> Result<Enrollment, VaultError> {
    let plain = keys
        .record
        .open(sealed, &enrollment_aad(vault_id))
        .map_err(|_| IntegrityError::Enrollment)?;
    codec::decode_enrollment(&plain).map_err(|_| IntegrityError::Enrollment.into())
}

/// Encodes, seals and stores `enrollment` in the draft's transaction.
fn seal_into(draft: &Draft<'_>, enrollment: &Enrollment) -> Result<(), VaultError> {
    let plain = codec::encode_enrollment(enrollment).map_err(VaultError::InvalidEnrollment)?;
    let sealed = draft
        .keys
        .record
        .seal(&plain, &enrollment_aad(draft.vault_id))
        .map_err(|_| VaultError::Random)?;
    store::write_enrollment(draft.tx, &sealed)
}
