//! This device's registration with a City account server, sealed in the vault like an
//! account: the server it trusts (by key), its own signing key, and the clock offset.

use std::fmt;

use zeroize::Zeroizing;

use crate::account::Account;

use super::error::{AccountId, IntegrityError, VaultError};
use super::state::Entry;
use super::{Vault, codec, store};

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
    /// This device's P-256 signing key, PKCS#8.
    pub device_key_pkcs8: Zeroizing<Vec<u8>>,
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
            .field("clock_offset", &self.clock_offset)
            .field("city_account", &self.city_account)
            .finish_non_exhaustive()
    }
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
            let plain = unlocked
                .keys
                .record
                .open(&sealed, &enrollment_aad(vault_id))
                .map_err(|_| IntegrityError::Enrollment)?;
            codec::decode_enrollment(&plain)
                .map(Some)
                .map_err(|_| IntegrityError::Enrollment.into())
        })?
    }

    /// Stores an enrollment and, in the same transaction, the City account's OATH account.
    /// Returns the new account's id.
    pub fn save_enrollment(
        &self,
        mut enrollment: Enrollment,
        city_account: Option<Account>,
    ) -> Result<Option<AccountId>, VaultError> {
        self.write(|draft| {
            if let Some(account) = city_account {
                let id = store::reserve_account_id(draft.tx)?;
                let tag = draft.store_record(id, &account)?;
                draft.entries.push(Entry::new_ready(id, tag, account));
                enrollment.city_account = Some(AccountId(id));
            }
            let sealed = draft
                .keys
                .record
                .seal(
                    &codec::encode_enrollment(&enrollment),
                    &enrollment_aad(draft.vault_id),
                )
                .map_err(|_| VaultError::Random)?;
            store::write_enrollment(draft.tx, &sealed)?;
            Ok(enrollment.city_account)
        })
    }

    /// Updates the learned clock offset (server time minus device time, seconds).
    pub fn set_clock_offset(&self, offset: i64) -> Result<(), VaultError> {
        let Some(mut enrollment) = self.enrollment()? else {
            return Ok(());
        };
        enrollment.clock_offset = offset;
        self.save_enrollment(enrollment, None).map(drop)
    }

    /// Forgets the enrollment (the City account's codes stay as a normal account).
    pub fn forget_enrollment(&self) -> Result<(), VaultError> {
        self.write(|draft| store::delete_enrollment(draft.tx))
    }
}
