//! The encrypted vault: one SQLite file holding every account sealed under a random data key.
//!
//! Layout (docs/formats.md has the bytes):
//! - `slots`: the data key wrapped once per way to unlock (passphrase, platform key);
//! - `accounts`: one row per account, its whole record sealed with AES-256-GCM, the row id
//!   and the vault id bound in as associated data;
//! - `vault`: the vault id, a MAC over the header (vault id and slots), and the sealed
//!   index: the order of the accounts, their labels, and the GCM tag of each one's current
//!   write, so that a deleted, swapped or rolled-back row is detected and named.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction in WAL mode with `synchronous=FULL`.
//! Another process's commits are noticed through `PRAGMA data_version` and reloaded.

mod codec;
mod crypto;
mod enrollment;
mod error;
mod slots;
mod state;
mod store;
pub mod strength;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, TransactionBehavior};

use crate::account::Account;
use crate::otp::{Code, DEFAULT_PERIOD, OtpKind, OtpParams, TimeStep};

use codec::IndexEntry;
use crypto::DataKey;
pub use enrollment::{CityClock, Enrollment};
pub use error::{AccountId, Damage, DamagedAccount, IntegrityError, VaultError};
pub use slots::{AesGcmKeyWrapper, KdfParams, KeyWrapError, KeyWrapper};
use slots::{SlotFailure, SlotKind};
use state::{Draft, Entry, EntryState, Unlocked, header_bytes, load_entries, seal_index};
use store::{SlotRow, VaultRow, storage};
pub use strength::WeakPassphrase;

/// An account as listed: labels and parameters, no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// The row id.
    pub id: AccountId,
    /// The service.
    pub issuer: String,
    /// The account at the service.
    pub name: String,
    /// Kind, algorithm, digits, period, next HOTP counter.
    pub params: OtpParams,
}

/// The current code of a time-based account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCode {
    /// The account.
    pub id: AccountId,
    /// The code.
    pub code: Code,
    /// Seconds until it changes.
    pub remaining: u64,
    /// The account's period in seconds.
    pub period: u32,
}

/// One way to unlock the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    /// The slot's id.
    pub id: i64,
    /// `None` for a passphrase slot, the host key's name for a key-wrapping slot.
    pub key_id: Option<String>,
}

/// An open vault file; locked until unlocked. `Send + Sync`: share it across threads.
pub struct Vault {
    inner: Mutex<Inner>,
}

struct Inner {
    conn: Connection,
    vault_id: Vec<u8>,
    unlocked: Option<Unlocked>,
}

impl Vault {
    /// Creates a vault file at `path` protected by `passphrase`, and returns it unlocked.
    ///
    /// Fails with [`VaultError::AlreadyExists`] if anything is at `path` (it is not touched).
    pub fn create(path: &Path, passphrase: &str, kdf: KdfParams) -> Result<Self, VaultError> {
        new_passphrase_allowed(passphrase)?;
        let mut conn = store::create(path)?;
        match Self::initialise(&mut conn, passphrase, kdf) {
            Ok((vault_id, unlocked)) => Ok(Self::from_parts(conn, vault_id, Some(unlocked))),
            Err(error) => {
                // The file is ours and holds nothing yet; do not leave a broken one behind.
                drop(conn);
                for suffix in ["", "-wal", "-shm"] {
                    let mut name = path.as_os_str().to_owned();
                    name.push(suffix);
                    let _ = std::fs::remove_file(name);
                }
                Err(error)
            }
        }
    }

    fn initialise(
        conn: &mut Connection,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<(Vec<u8>, Unlocked), VaultError> {
        let mut vault_id = vec![0u8; 16];
        crypto::fill_random(&mut vault_id).map_err(|_| VaultError::Random)?;
        let data_key = DataKey::generate().map_err(|_| VaultError::Random)?;
        let keys = data_key.derive().map_err(|_| VaultError::Random)?;
        let (slot, wrapped) = SlotKind::seal_passphrase(passphrase, kdf, &data_key, &vault_id)
            .map_err(|_| VaultError::Random)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        store::migrate_in(&tx)?;
        store::insert_slot(&tx, slot.kind_name(), &slot.encode_params(), &wrapped)?;
        let header = header_bytes(&vault_id, &store::read_slots(&tx)?);
        let row = VaultRow {
            vault_id: vault_id.clone(),
            header_mac: keys.header_mac(&header),
            sealed_index: seal_index(&keys, &vault_id, &[])?,
        };
        store::write_vault_row(&tx, &row)?;
        tx.commit().map_err(storage)?;
        let seen_version = store::data_version(conn)?;
        let unlocked = Unlocked::new(data_key, keys, (Vec::new(), false), seen_version);
        Ok((vault_id, unlocked))
    }

    /// Opens an existing vault, locked. Never creates, repairs or deletes anything: a file
    /// that is not a vault, or is from a newer version, is reported and left as it is.
    pub fn open(path: &Path) -> Result<Self, VaultError> {
        let mut conn = store::open(path)?;
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(storage)?;
        if version < store::SCHEMA_VERSION {
            store::migrate(&mut conn)?;
        }
        let row = store::read_vault_row(&conn)?.ok_or(VaultError::NotAVault)?;
        Ok(Self::from_parts(conn, row.vault_id, None))
    }

    fn from_parts(conn: Connection, vault_id: Vec<u8>, unlocked: Option<Unlocked>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                conn,
                vault_id,
                unlocked,
            }),
        }
    }

    /// Unlocks with a passphrase. A wrong one is [`VaultError::WrongPassphrase`] and
    /// changes nothing.
    pub fn unlock_with_passphrase(&self, passphrase: &str) -> Result<(), VaultError> {
        self.unlock_with(|slot, wrapped, vault_id| match slot {
            SlotKind::Passphrase { .. } => {
                Some(slot.open_passphrase(passphrase, wrapped, vault_id))
            }
            SlotKind::KeyWrapper { .. } => None,
        })
    }

    /// Unlocks through the host's key-wrapping key, using the slot made for its `key_id`.
    pub fn unlock_with_key_wrapper(&self, wrapper: &dyn KeyWrapper) -> Result<(), VaultError> {
        let key_id = wrapper.key_id();
        self.unlock_with(|slot, wrapped, _| match slot {
            SlotKind::KeyWrapper { key_id: id } if *id == key_id => {
                Some(SlotKind::open_key_wrapper(wrapper, wrapped))
            }
            _ => None,
        })
    }

    /// Tries each slot that `try_slot` accepts until one yields the data key, then checks
    /// the header and loads the accounts.
    fn unlock_with(
        &self,
        try_slot: impl Fn(&SlotKind, &[u8], &[u8]) -> Option<Result<DataKey, SlotFailure>>,
    ) -> Result<(), VaultError> {
        let mut guard = self.lock_inner();
        let inner = &mut *guard;
        let tx = inner.conn.transaction().map_err(storage)?;
        let slot_rows = store::read_slots(&tx)?;
        let mut outcome = Err(VaultError::NoMatchingSlot);
        for row in &slot_rows {
            let slot = SlotKind::decode(&row.kind, &row.params).ok_or(IntegrityError::Header)?;
            match try_slot(&slot, &row.wrapped_key, &inner.vault_id) {
                None => {}
                Some(Ok(key)) => {
                    outcome = Ok(key);
                    break;
                }
                Some(Err(SlotFailure::WrongPassphrase)) => {
                    if matches!(outcome, Err(VaultError::NoMatchingSlot)) {
                        outcome = Err(VaultError::WrongPassphrase);
                    }
                }
                Some(Err(SlotFailure::Tampered)) => {
                    outcome = Err(IntegrityError::Header.into());
                }
                Some(Err(SlotFailure::Host(error))) => outcome = Err(error.into()),
            }
        }
        let data_key = outcome?;
        let keys = data_key.derive().map_err(|_| VaultError::Random)?;
        let row = store::read_vault_row(&tx)?.ok_or(VaultError::NotAVault)?;
        if !keys.verify_header_mac(&header_bytes(&inner.vault_id, &slot_rows), &row.header_mac) {
            return Err(IntegrityError::Header.into());
        }
        let loaded = load_entries(&tx, &keys, &inner.vault_id, &row)?;
        let seen_version = store::data_version(&tx)?;
        tx.commit().map_err(storage)?;
        inner.unlocked = Some(Unlocked::new(data_key, keys, loaded, seen_version));
        Ok(())
    }

    /// Forgets the keys and every decrypted account (wiping them).
    pub fn lock(&self) {
        self.lock_inner().unlocked = None;
    }

    /// True between a successful unlock (or create) and [`Vault::lock`].
    pub fn is_unlocked(&self) -> bool {
        self.lock_inner().unlocked.is_some()
    }

    /// Adds an account; returns its id.
    pub fn add(&self, account: Account) -> Result<AccountId, VaultError> {
        let mut ids = self.add_all(vec![account])?;
        ids.pop()
            .ok_or(VaultError::Storage("no id returned".into()))
    }

    /// Adds accounts in one transaction: all of them or, on error, none.
    pub fn add_all(&self, accounts: Vec<Account>) -> Result<Vec<AccountId>, VaultError> {
        self.write(|draft| {
            let mut ids = Vec::with_capacity(accounts.len());
            for account in accounts {
                let id = store::reserve_account_id(draft.tx)?;
                let tag = draft.store_record(id, &account)?;
                draft.entries.push(Entry::new_ready(id, tag, account));
                ids.push(AccountId(id));
            }
            Ok(ids)
        })
    }

    /// The readable accounts in the user's order. Damaged ones are in
    /// [`Vault::integrity_problems`], never silently left out of both.
    pub fn accounts(&self) -> Result<Vec<AccountInfo>, VaultError> {
        self.read(|unlocked| {
            unlocked
                .entries
                .iter()
                .filter_map(|entry| match &entry.state {
                    EntryState::Ready(account) => Some(AccountInfo {
                        id: AccountId(entry.index.id),
                        issuer: account.issuer().to_owned(),
                        name: account.name().to_owned(),
                        params: *account.params(),
                    }),
                    EntryState::Damaged(_) => None,
                })
                .collect()
        })
    }

    /// One account, secret included (for showing its QR code or exporting it).
    pub fn account(&self, id: AccountId) -> Result<Account, VaultError> {
        self.read(|unlocked| unlocked.ready(id).cloned())?
    }

    /// Every readable account, secrets included, in the user's order (for export, backup and
    /// finding duplicates on import). Damaged ones are in [`Vault::integrity_problems`].
    pub fn all_accounts(&self) -> Result<Vec<(AccountId, Account)>, VaultError> {
        self.read(|unlocked| {
            unlocked
                .entries
                .iter()
                .filter_map(|entry| match &entry.state {
                    EntryState::Ready(account) => {
                        Some((AccountId(entry.index.id), account.clone()))
                    }
                    EntryState::Damaged(_) => None,
                })
                .collect()
        })
    }

    /// Every account that cannot be read, a damaged index and a damaged enrollment; empty
    /// when all is well.
    pub fn integrity_problems(&self) -> Result<Vec<IntegrityError>, VaultError> {
        let enrollment = self
            .enrollment_damaged()?
            .then_some(IntegrityError::Enrollment);
        let mut problems = self.read(|unlocked| {
            let index = unlocked.index_damaged.then_some(IntegrityError::Index);
            let accounts = unlocked
                .entries
                .iter()
                .filter_map(|entry| match entry.state {
                    EntryState::Damaged(damage) => {
                        Some(IntegrityError::Account(entry.damaged(damage)))
                    }
                    EntryState::Ready(_) => None,
                });
            index.into_iter().chain(accounts).collect::<Vec<_>>()
        })?;
        problems.extend(enrollment);
        Ok(problems)
    }

    /// The current code of every time-based (TOTP and Steam) account, in the user's order.
    ///
    /// `unix_seconds` is the (clock-corrected) time; HOTP accounts are not included, since
    /// their codes come only from [`Vault::next_hotp`].
    pub fn codes(&self, unix_seconds: u64) -> Result<Vec<AccountCode>, VaultError> {
        self.read(|unlocked| {
            let mut step = TimeStep::at(unix_seconds, DEFAULT_PERIOD);
            let hot = &unlocked.hot;
            hot.ids
                .iter()
                .zip(&hot.params)
                .zip(&hot.keys)
                .map(|((id, params), key)| {
                    if step.period != params.period() {
                        step = TimeStep::at(unix_seconds, params.period());
                    }
                    AccountCode {
                        id: *id,
                        code: key.code_at_counter(params, step.counter),
                        remaining: step.remaining,
                        period: step.period,
                    }
                })
                .collect()
        })
    }

    /// The current code of one time-based account.
    pub fn code(&self, id: AccountId, unix_seconds: u64) -> Result<AccountCode, VaultError> {
        self.read(|unlocked| {
            let account = unlocked.ready(id)?;
            let params = account.params();
            if !params.kind().is_time_based() {
                return Err(VaultError::NotTimeBased(id));
            }
            let timed = account.prepared_key().code_at_time(params, unix_seconds);
            Ok(AccountCode {
                id,
                code: timed.code,
                remaining: timed.remaining,
                period: params.period(),
            })
        })?
    }

    /// The next HOTP code. The advanced counter is committed to disk before the code is
    /// returned, so a crash can neither show a code twice nor move the counter back.
    pub fn next_hotp(&self, id: AccountId) -> Result<Code, VaultError> {
        self.write(|draft| {
            let position = draft.position(id)?;
            let account = draft.ready_at(position)?;
            if account.params().kind() != OtpKind::Hotp {
                return Err(VaultError::NotHotp(id));
            }
            let counter = account.params().counter();
            let next = counter
                .checked_add(1)
                .ok_or(VaultError::CounterExhausted(id))?;
            let code = account
                .prepared_key()
                .code_at_counter(account.params(), counter);
            let advanced = account.with_counter(next);
            draft.replace(position, advanced)?;
            Ok(code)
        })
    }

    /// Changes an account's issuer and name.
    pub fn rename(&self, id: AccountId, issuer: &str, name: &str) -> Result<(), VaultError> {
        self.write(|draft| {
            let position = draft.position(id)?;
            let renamed = draft.ready_at(position)?.renamed(issuer, name)?;
            draft.replace(position, renamed)
        })
    }

    /// Moves an account to `position` in the user's order (clamped to the end).
    pub fn move_account(&self, id: AccountId, position: usize) -> Result<(), VaultError> {
        self.write(|draft| {
            let from = draft.position(id)?;
            let entry = draft.entries.remove(from);
            let to = position.min(draft.entries.len());
            draft.entries.insert(to, entry);
            Ok(())
        })
    }

    /// Removes an account for good (damaged ones too).
    pub fn remove(&self, id: AccountId) -> Result<(), VaultError> {
        self.write(|draft| {
            let position = draft.position(id)?;
            store::delete_account_row(draft.tx, id.0)?;
            draft.entries.remove(position);
            Ok(())
        })
    }

    /// The vault's slots.
    pub fn slots(&self) -> Result<Vec<SlotInfo>, VaultError> {
        let guard = self.lock_inner();
        let rows = store::read_slots(&guard.conn)?;
        rows.iter()
            .map(|row| match SlotKind::decode(&row.kind, &row.params) {
                Some(SlotKind::Passphrase { .. }) => Ok(SlotInfo {
                    id: row.id,
                    key_id: None,
                }),
                Some(SlotKind::KeyWrapper { key_id }) => Ok(SlotInfo {
                    id: row.id,
                    key_id: Some(key_id),
                }),
                None => Err(IntegrityError::Header.into()),
            })
            .collect()
    }

    /// Replaces every passphrase slot with one for `new_passphrase`. Only the data key is
    /// re-wrapped; no account is rewritten.
    pub fn change_passphrase(
        &self,
        new_passphrase: &str,
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        new_passphrase_allowed(new_passphrase)?;
        self.change_slots(|draft, slots| {
            for row in slots {
                if row.kind == slots::KIND_PASSPHRASE {
                    store::delete_slot(draft.tx, row.id)?;
                }
            }
            draft.insert_passphrase_slot(new_passphrase, kdf)
        })
        .map(drop)
    }

    /// Adds a passphrase slot (a second passphrase, e.g. a recovery one).
    pub fn add_passphrase_slot(&self, passphrase: &str, kdf: KdfParams) -> Result<i64, VaultError> {
        new_passphrase_allowed(passphrase)?;
        self.change_slots(|draft, _| draft.insert_passphrase_slot(passphrase, kdf))
    }

    /// Adds a slot wrapped by the host's key; returns its id.
    pub fn add_key_wrapper_slot(&self, wrapper: &dyn KeyWrapper) -> Result<i64, VaultError> {
        self.change_slots(|draft, _| {
            let (slot, wrapped) = SlotKind::seal_key_wrapper(wrapper, draft.data_key)?;
            store::insert_slot(draft.tx, slot.kind_name(), &slot.encode_params(), &wrapped)
        })
    }

    /// Removes a slot. The last one cannot be removed: the vault would never open again.
    pub fn remove_slot(&self, slot_id: i64) -> Result<(), VaultError> {
        self.change_slots(|draft, slots| {
            if !slots.iter().any(|row| row.id == slot_id) {
                return Err(VaultError::UnknownSlot(slot_id));
            }
            if slots.len() == 1 {
                return Err(VaultError::LastSlot);
            }
            store::delete_slot(draft.tx, slot_id).map(drop)
        })
    }

    /// Runs a change to the slots inside a write: checks the current header first (never
    /// re-sign a tampered one), then signs the new one.
    fn change_slots<T>(
        &self,
        change: impl FnOnce(&mut Draft<'_>, &[SlotRow]) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        self.write(|draft| {
            let slots = store::read_slots(draft.tx)?;
            let row = store::read_vault_row(draft.tx)?.ok_or(VaultError::NotAVault)?;
            if !draft
                .keys
                .verify_header_mac(&header_bytes(draft.vault_id, &slots), &row.header_mac)
            {
                return Err(IntegrityError::Header.into());
            }
            let result = change(draft, &slots)?;
            let header = header_bytes(draft.vault_id, &store::read_slots(draft.tx)?);
            store::write_header_mac(draft.tx, &draft.keys.header_mac(&header))?;
            Ok(result)
        })
    }

    fn lock_inner(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held leaves the database consistent (its transaction
        // rolled back) and the cache marked for reload, so the poison can be ignored.
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Runs `f` on the unlocked state after catching up with other writers.
    fn read<T>(&self, f: impl FnOnce(&Unlocked) -> T) -> Result<T, VaultError> {
        let mut guard = self.lock_inner();
        let inner = &mut *guard;
        let unlocked = inner.unlocked.as_mut().ok_or(VaultError::Locked)?;
        let version = store::data_version(&inner.conn)?;
        if unlocked.seen_version != Some(version) {
            let tx = inner.conn.transaction().map_err(storage)?;
            unlocked.reload(&tx, &inner.vault_id)?;
            unlocked.seen_version = Some(store::data_version(&tx)?);
            tx.commit().map_err(storage)?;
        }
        Ok(f(unlocked))
    }

    /// Runs `f` inside one immediate transaction on up-to-date state, writes the index if the
    /// accounts changed, and commits. What `f` returns is handed out only after the commit.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Draft<'_>) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let mut guard = self.lock_inner();
        let inner = &mut *guard;
        let unlocked = inner.unlocked.as_mut().ok_or(VaultError::Locked)?;
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let version = store::data_version(&tx)?;
        if unlocked.seen_version != Some(version) {
            unlocked.reload(&tx, &inner.vault_id)?;
            unlocked.seen_version = Some(version);
        }
        if unlocked.index_damaged {
            return Err(IntegrityError::Index.into());
        }
        // Until the commit succeeds the cache may be ahead of the file.
        unlocked.seen_version = None;
        let mut draft = Draft {
            tx: &tx,
            keys: &unlocked.keys,
            data_key: &unlocked.data_key,
            vault_id: &inner.vault_id,
            entries: &mut unlocked.entries,
        };
        let result = f(&mut draft)?;
        let index: Vec<IndexEntry> = draft.entries.iter().map(|e| e.index.clone()).collect();
        store::write_index(&tx, &seal_index(&unlocked.keys, &inner.vault_id, &index)?)?;
        tx.commit().map_err(storage)?;
        unlocked.seen_version = Some(version);
        unlocked.rebuild_hot();
        Ok(result)
    }
}

/// A new passphrase (a new vault, a changed one, a new slot) must be non-empty and meet the
/// minimum strength ([`strength::check`]); checked before any file or KDF is touched.
fn new_passphrase_allowed(passphrase: &str) -> Result<(), VaultError> {
    if passphrase.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    strength::check(passphrase).map_err(VaultError::WeakPassphrase)
}
