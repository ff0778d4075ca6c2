//! The vault object: create, open, unlock, accounts and codes. Every method blocks (SQLite;
//! the Argon2id KDF for `create`, the passphrase calls and slot changes takes about a second
//! at the default cost): call them off the UI thread. Safe to share between threads.

use std::path::Path;
use std::sync::Arc;

use cityauth_core::device::{corrected_now, local_now};
use cityauth_core::otp::{OtpKind as CoreKind, OtpParams, ParamSpec};
use cityauth_core::{Account, AccountId, KeyWrapper, SecretBytes, Vault as CoreVault, otpauth};

use crate::error::CityAuthError;
use crate::key_wrapper::{HostAdapter, HostKeyWrapper};
use crate::secret::{SecretString, SecretUtf8};
use crate::types::{
    AccountCode, AccountInfo, EnrollmentInfo, KdfSettings, NewAccount, OtpKind, SlotInfo,
    kdf_params,
};

/// An open vault file; locked until unlocked (or created). Thread-safe.
#[derive(uniffi::Object)]
pub struct Vault {
    pub(crate) core: Arc<CoreVault>,
}

type Result<T> = std::result::Result<T, CityAuthError>;

#[uniffi::export]
impl Vault {
    /// Creates a vault file at `path` protected by `passphrase` and returns it unlocked.
    /// `kdf` null: the default cost. Blocking (the KDF). Fails with `AlreadyExists` if
    /// anything is at `path`.
    #[uniffi::constructor]
    pub fn create(
        path: String,
        passphrase: SecretString,
        kdf: Option<KdfSettings>,
    ) -> Result<Arc<Self>> {
        let core = CoreVault::create(Path::new(&path), &passphrase, kdf_params(kdf)?)?;
        Ok(Arc::new(Self {
            core: Arc::new(core),
        }))
    }

    /// `create` with the passphrase as UTF-8 bytes (Kotlin `ByteArray`, Swift `Data`) that the
    /// host wipes after the call; wiped here when the call ends. `InvalidInput` (field
    /// "passphrase") when they are not UTF-8.
    #[uniffi::constructor]
    pub fn create_utf8(
        path: String,
        passphrase: SecretUtf8,
        kdf: Option<KdfSettings>,
    ) -> Result<Arc<Self>> {
        let passphrase = passphrase.as_str("passphrase")?;
        let core = CoreVault::create(Path::new(&path), passphrase, kdf_params(kdf)?)?;
        Ok(Arc::new(Self {
            core: Arc::new(core),
        }))
    }

    /// Opens an existing vault, locked. Never creates, repairs or deletes a file.
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Self>> {
        let core = CoreVault::open(Path::new(&path))?;
        Ok(Arc::new(Self {
            core: Arc::new(core),
        }))
    }

    /// Unlocks with a passphrase; `WrongPassphrase` changes nothing. Blocking (the KDF).
    pub fn unlock_with_passphrase(&self, passphrase: SecretString) -> Result<()> {
        Ok(self.core.unlock_with_passphrase(&passphrase)?)
    }

    /// `unlockWithPassphrase` with the passphrase as UTF-8 bytes the host wipes (see
    /// `createUtf8`).
    pub fn unlock_with_passphrase_utf8(&self, passphrase: SecretUtf8) -> Result<()> {
        Ok(self
            .core
            .unlock_with_passphrase(passphrase.as_str("passphrase")?)?)
    }

    /// Unlocks through the host's key (the slot made for its `keyId`). `NoMatchingSlot` when
    /// the vault has none; `KeyStore` when the host fails.
    pub fn unlock_with_key_wrapper(&self, wrapper: Arc<dyn HostKeyWrapper>) -> Result<()> {
        Ok(self.core.unlock_with_key_wrapper(&HostAdapter(wrapper))?)
    }

    /// Forgets the keys and every decrypted account.
    pub fn lock(&self) -> Result<()> {
        self.core.lock();
        Ok(())
    }

    /// True between an unlock (or create) and `lock`.
    pub fn is_unlocked(&self) -> Result<bool> {
        Ok(self.core.is_unlocked())
    }

    /// Adds a slot wrapped by the host's key, so that the vault unlocks without the
    /// passphrase; returns the slot id. Needs the vault unlocked.
    pub fn add_key_wrapper_slot(&self, wrapper: Arc<dyn HostKeyWrapper>) -> Result<i64> {
        Ok(self.core.add_key_wrapper_slot(&HostAdapter(wrapper))?)
    }

    /// Replaces the passphrase and rotates the data key (an old copy of the file with the old
    /// passphrase opens nothing). Key-wrapper slots hold the old key and are removed: use
    /// `change_passphrase_keeping` to keep them. Blocking (the KDF).
    pub fn change_passphrase(
        &self,
        new_passphrase: SecretString,
        kdf: Option<KdfSettings>,
    ) -> Result<()> {
        Ok(self
            .core
            .change_passphrase(&new_passphrase, kdf_params(kdf)?)?)
    }

    /// `change_passphrase`, re-wrapping the slots of the host keys in `keep` for the new
    /// data key (the host's wrap runs once per key). Blocking (the KDF).
    pub fn change_passphrase_keeping(
        &self,
        new_passphrase: SecretString,
        kdf: Option<KdfSettings>,
        keep: Vec<Arc<dyn HostKeyWrapper>>,
    ) -> Result<()> {
        let adapters: Vec<HostAdapter> = keep.into_iter().map(HostAdapter).collect();
        let wrappers: Vec<&dyn KeyWrapper> =
            adapters.iter().map(|a| a as &dyn KeyWrapper).collect();
        Ok(self
            .core
            .change_passphrase_keeping(&new_passphrase, kdf_params(kdf)?, &wrappers)?)
    }

    /// `changePassphrase` with the new passphrase as UTF-8 bytes the host wipes (see
    /// `createUtf8`).
    pub fn change_passphrase_utf8(
        &self,
        new_passphrase: SecretUtf8,
        kdf: Option<KdfSettings>,
    ) -> Result<()> {
        let new_passphrase = new_passphrase.as_str("passphrase")?;
        Ok(self
            .core
            .change_passphrase(new_passphrase, kdf_params(kdf)?)?)
    }

    /// `changePassphraseKeeping` with the new passphrase as UTF-8 bytes the host wipes (see
    /// `createUtf8`).
    pub fn change_passphrase_keeping_utf8(
        &self,
        new_passphrase: SecretUtf8,
        kdf: Option<KdfSettings>,
        keep: Vec<Arc<dyn HostKeyWrapper>>,
    ) -> Result<()> {
        let new_passphrase = new_passphrase.as_str("passphrase")?;
        let adapters: Vec<HostAdapter> = keep.into_iter().map(HostAdapter).collect();
        let wrappers: Vec<&dyn KeyWrapper> =
            adapters.iter().map(|a| a as &dyn KeyWrapper).collect();
        Ok(self
            .core
            .change_passphrase_keeping(new_passphrase, kdf_params(kdf)?, &wrappers)?)
    }

    /// Removes a slot and rotates the data key, so that an old copy of the file opens nothing
    /// with the removed slot's passphrase or key. Every other slot is re-sealed: each needs
    /// one of `passphrases` or its host key in `wrappers` (`InvalidInput`, field "slot",
    /// otherwise, and nothing changes). Blocking (the KDF).
    pub fn remove_slot_rotating(
        &self,
        slot_id: i64,
        passphrases: Vec<SecretString>,
        wrappers: Vec<Arc<dyn HostKeyWrapper>>,
    ) -> Result<()> {
        let adapters: Vec<HostAdapter> = wrappers.into_iter().map(HostAdapter).collect();
        let wrappers: Vec<&dyn KeyWrapper> =
            adapters.iter().map(|a| a as &dyn KeyWrapper).collect();
        let passphrases: Vec<&str> = passphrases.iter().map(|p| &**p).collect();
        Ok(self
            .core
            .remove_slot_rotating(slot_id, &passphrases, &wrappers)?)
    }

    /// Rebuilds a damaged or rolled-back account index (an `Integrity` problem "index") from
    /// the accounts as they are now; their order is lost. Ask the user first. A no-op when the
    /// index is sound; needs the vault unlocked.
    pub fn repair_index(&self) -> Result<()> {
        Ok(self.core.repair_index()?)
    }

    /// The ways to unlock this vault.
    pub fn slots(&self) -> Result<Vec<SlotInfo>> {
        Ok(self.core.slots()?.into_iter().map(Into::into).collect())
    }

    /// Removes a slot; the last one cannot be removed (`InvalidInput`, field "slot"). The data
    /// key stays: prefer `remove_slot_rotating` to revoke the slot for good.
    pub fn remove_slot(&self, slot_id: i64) -> Result<()> {
        Ok(self.core.remove_slot(slot_id)?)
    }

    /// Adds the account of an otpauth link (a scanned QR code); returns its id.
    /// `InvalidLink` names the field at fault.
    pub fn add_from_link(&self, link: SecretString) -> Result<i64> {
        let account = otpauth::parse(&link)?;
        Ok(self.core.add(account)?.0)
    }

    /// Adds an account typed in by hand; returns its id. `InvalidInput` names the field.
    pub fn add_account(&self, account: NewAccount) -> Result<i64> {
        Ok(self.core.add(build_account(account)?)?.0)
    }

    /// The readable accounts in the user's order.
    pub fn accounts(&self) -> Result<Vec<AccountInfo>> {
        Ok(self.core.accounts()?.into_iter().map(Into::into).collect())
    }

    /// Changes an account's issuer and name.
    pub fn rename(&self, id: i64, issuer: String, name: String) -> Result<()> {
        Ok(self.core.rename(AccountId(id), &issuer, &name)?)
    }

    /// Moves an account to `position` (0 is the top; past the end means last).
    pub fn move_account(&self, id: i64, position: u32) -> Result<()> {
        let position = usize::try_from(position).unwrap_or(usize::MAX);
        Ok(self.core.move_account(AccountId(id), position)?)
    }

    /// Removes an account for good.
    pub fn remove(&self, id: i64) -> Result<()> {
        Ok(self.core.remove(AccountId(id))?)
    }

    /// Every time-based account's current code with its remaining seconds, in the user's
    /// order, at this device's clock; only the City account's own codes are corrected by the
    /// offset learned from its server. A damaged enrollment stops no code (it is listed by
    /// `integrityProblems`). One call for the whole screen: call it once a second, not once
    /// per row.
    pub fn codes(&self) -> Result<Vec<AccountCode>> {
        Ok(self
            .core
            .codes_now(local_now())?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The same at a given Unix time (seconds), e.g. to check a code against a test vector.
    pub fn codes_at(&self, unix_seconds: u64) -> Result<Vec<AccountCode>> {
        Ok(self
            .core
            .codes(unix_seconds)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The next code of an HOTP account. The advanced counter is on disk before the code
    /// is returned, so no code is ever shown twice.
    pub fn next_hotp(&self, id: i64) -> Result<String> {
        Ok(self.core.next_hotp(AccountId(id))?.as_str().to_owned())
    }

    /// Damaged accounts and index, as readable lines; empty when all is well.
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        Ok(self
            .core
            .integrity_problems()?
            .iter()
            .map(ToString::to_string)
            .collect())
    }

    /// This device's City account enrollment, if any.
    pub fn enrollment(&self) -> Result<Option<EnrollmentInfo>> {
        Ok(self.core.enrollment()?.map(|e| EnrollmentInfo {
            server_url: e.server_url.clone(),
            username: e.username.clone(),
            display_name: e.display_name.clone(),
            device_id: e.device_id.clone(),
            clock_offset: cityauth_core::device::bounded(e.clock_offset),
            platform_key: matches!(e.device_key, cityauth_core::DeviceKey::Host { .. }),
        }))
    }

    /// The City server's Unix time as this device reckons it: its clock corrected by the
    /// offset learned from the server (none when not enrolled or the enrollment is damaged).
    /// For approval countdowns and the City account's codes; other accounts use the device
    /// clock.
    pub fn server_now(&self) -> Result<u64> {
        Ok(corrected_now(self.core.city_clock()?.offset))
    }

    /// Forgets this device's enrollment here only, without asking the server: works with
    /// the server gone, unreachable, or refusing (the portal can still remove the device).
    /// The City account's codes stay in the vault as an ordinary account.
    pub fn forget_enrollment(&self) -> Result<()> {
        Ok(self.core.forget_enrollment()?)
    }
}

/// Checks and builds an account from fields typed by hand.
pub(crate) fn build_account(new: NewAccount) -> Result<Account> {
    let secret =
        SecretBytes::from_base32(&new.secret_base32).map_err(|_| CityAuthError::InvalidInput {
            field: "secret".into(),
            detail: "secret: not valid base32".into(),
        })?;
    let kind = match new.kind {
        OtpKind::Totp => CoreKind::Totp,
        OtpKind::Hotp => CoreKind::Hotp,
        OtpKind::Steam => CoreKind::Steam,
    };
    let steam = kind == CoreKind::Steam;
    // The core's one set of rules; the form's digits and counter mean nothing for Steam and
    // TOTP respectively (documented on `NewAccount`), so they are left out there.
    let params = OtpParams::from_spec(ParamSpec {
        kind,
        algorithm: Some(new.algorithm.into()),
        digits: (!steam).then_some(u64::from(new.digits)),
        period: Some(u64::from(new.period)),
        counter: (kind == CoreKind::Hotp).then_some(new.counter),
    })?;
    Ok(Account::new(&new.issuer, &new.name, secret, params)?)
}
