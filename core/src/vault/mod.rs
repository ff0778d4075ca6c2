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
mod rotate;
mod slots;
mod state;
mod store;
pub mod strength;
mod upgrade;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, TransactionBehavior};

use crate::account::Account;
use crate::otp::{Code, DEFAULT_PERIOD, OtpKind, OtpParams, TimeStep};

use codec::{Index, IndexEntry};
use crypto::DataKey;
pub use enrollment::{CityClock, DeviceKey, Enrollment};
pub use error::{AccountId, Damage, DamagedAccount, IntegrityError, VaultError};
pub use slots::{AesGcmKeyWrapper, KdfParams, KeyWrapError, KeyWrapper};
use slots::{SlotFailure, SlotKind};
use state::{
    Draft, Entry, EntryState, Unlocked, header_bytes, load_entries, seal_index, verify_header,
};
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
    /// Bumped by every [`Vault::lock`], so that an unlock running outside the mutex knows
    /// it was overtaken.
    lock_epoch: u64,
}

/// How often an unlock starts over when the slots change under it before it reports busy.
const UNLOCK_ATTEMPTS: usize = 3;

fn decode_slots(slot_rows: &[SlotRow]) -> Result<Vec<SlotKind>, VaultError> {
    slot_rows
        .iter()
        .map(|row| SlotKind::decode(&row.kind, &row.params).ok_or(IntegrityError::Header.into()))
        .collect()
}

/// Refuses, before its KDF runs, a new passphrase slot of cost `new` that would take the
/// vault's passphrase slots over their budget; `replacing` drops the existing ones first.
fn check_new_passphrase(
    slot_rows: &[SlotRow],
    new: KdfParams,
    replacing: bool,
) -> Result<(), VaultError> {
    let slots = decode_slots(slot_rows)?;
    let kept = slots
        .iter()
        .filter(|_| !replacing)
        .filter_map(SlotKind::passphrase_cost);
    slots::check_passphrase_budget(kept.chain([new]))
}

/// A new passphrase slot for `data_key`, as the `(slot, wrapped key)` to store.
fn seal_passphrase_slot(
    passphrase: &str,
    kdf: KdfParams,
    data_key: &DataKey,
    vault_id: &[u8],
) -> Result<(SlotKind, Vec<u8>), VaultError> {
    SlotKind::seal_passphrase(passphrase, kdf, data_key, vault_id).map_err(|_| VaultError::Random)
}

/// Runs `try_slot` over the slots, without the vault mutex, until one yields the data key.
/// Every slot is decoded (its cost bounds checked) and, for a passphrase unlock, the
/// passphrase slots' count and total cost checked, before the first KDF runs.
fn find_data_key(
    slot_rows: &[SlotRow],
    vault_id: &[u8],
    passphrase: bool,
    try_slot: &impl Fn(&SlotKind, &[u8], &[u8]) -> Option<Result<DataKey, SlotFailure>>,
) -> Result<DataKey, VaultError> {
    let slots = decode_slots(slot_rows)?;
    if passphrase {
        slots::check_passphrase_budget(slots.iter().filter_map(SlotKind::passphrase_cost))?;
    }
    let mut outcome = Err(VaultError::NoMatchingSlot);
    for (slot, row) in slots.iter().zip(slot_rows) {
        match try_slot(slot, &row.wrapped_key, vault_id) {
            None => {}
            Some(Ok(key)) => return Ok(key),
            Some(Err(SlotFailure::WrongPassphrase)) => {
                if matches!(outcome, Err(VaultError::NoMatchingSlot)) {
                    outcome = Err(VaultError::WrongPassphrase);
                }
            }
            Some(Err(SlotFailure::Tampered)) => outcome = Err(IntegrityError::Header.into()),
            Some(Err(SlotFailure::Host(error))) => outcome = Err(error.into()),
        }
    }
    outcome
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
        let header = header_bytes(&vault_id, 0, 0, &store::read_slots(&tx)?);
        let row = VaultRow {
            vault_id: vault_id.clone(),
            header_mac: keys.header_mac(&header),
            sealed_index: seal_index(&keys, &vault_id, &Index::new(0, None, Vec::new()))?,
            key_epoch: 0,
            generation: 0,
        };
        store::write_vault_row(&tx, &row)?;
        let loaded = load_entries(&tx, &keys, &vault_id, store::SCHEMA_VERSION, &row)?;
        tx.commit().map_err(storage)?;
        let seen_version = store::data_version(conn)?;
        let unlocked = Unlocked::new(data_key, keys, loaded, seen_version);
        Ok((vault_id, unlocked))
    }

    /// Opens an existing vault, locked. Writes nothing, and never creates, repairs or deletes
    /// anything: a file that is not a vault, or is from a newer version, is reported and left
    /// as it is. A file from an older version is upgraded at its first unlock, once its header
    /// has been verified.
    pub fn open(path: &Path) -> Result<Self, VaultError> {
        let conn = store::open(path)?;
        let row = store::read_vault_row(&conn)?.ok_or(VaultError::NotAVault)?;
        Ok(Self::from_parts(conn, row.vault_id, None))
    }

    fn from_parts(conn: Connection, vault_id: Vec<u8>, unlocked: Option<Unlocked>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                conn,
                vault_id,
                unlocked,
                lock_epoch: 0,
            }),
        }
    }

    /// Unlocks with a passphrase. A wrong one is [`VaultError::WrongPassphrase`] and
    /// changes nothing.
    pub fn unlock_with_passphrase(&self, passphrase: &str) -> Result<(), VaultError> {
        self.unlock_with(true, |slot, wrapped, vault_id| match slot {
            SlotKind::Passphrase { .. } => {
                Some(slot.open_passphrase(passphrase, wrapped, vault_id))
            }
            SlotKind::KeyWrapper { .. } => None,
        })
    }

    /// Unlocks through the host's key-wrapping key, using the slot made for its `key_id`.
    pub fn unlock_with_key_wrapper(&self, wrapper: &dyn KeyWrapper) -> Result<(), VaultError> {
        let key_id = wrapper.key_id();
        self.unlock_with(false, |slot, wrapped, _| match slot {
            SlotKind::KeyWrapper { key_id: id } if *id == key_id => {
                Some(SlotKind::open_key_wrapper(wrapper, wrapped))
            }
            _ => None,
        })
    }

    /// Tries each slot that `try_slot` accepts until one yields the data key, then checks
    /// the header and loads the accounts.
    ///
    /// The KDF and the host's callbacks run with the vault mutex released, so `lock()` and
    /// `is_unlocked()` answer at once during an unlock: the mutex is taken only to read the
    /// slots, then again to check that they did not change meanwhile and install the keys.
    /// A `lock()` that comes in between wins: the unlock then reports [`VaultError::Locked`].
    fn unlock_with(
        &self,
        passphrase: bool,
        try_slot: impl Fn(&SlotKind, &[u8], &[u8]) -> Option<Result<DataKey, SlotFailure>>,
    ) -> Result<(), VaultError> {
        for _ in 0..UNLOCK_ATTEMPTS {
            let (slot_rows, vault_id, lock_epoch) = {
                let guard = self.lock_inner();
                let rows = store::read_slots(&guard.conn)?;
                (rows, guard.vault_id.clone(), guard.lock_epoch)
            };
            let data_key = find_data_key(&slot_rows, &vault_id, passphrase, &try_slot)?;
            let keys = data_key.derive().map_err(|_| VaultError::Random)?;

            let mut guard = self.lock_inner();
            let inner = &mut *guard;
            if inner.lock_epoch != lock_epoch {
                return Err(VaultError::Locked);
            }
            // An older file is upgraded in this transaction: take the write lock up front.
            let behavior = if store::schema_version(&inner.conn)? < store::SCHEMA_VERSION {
                TransactionBehavior::Immediate
            } else {
                TransactionBehavior::Deferred
            };
            let tx = inner
                .conn
                .transaction_with_behavior(behavior)
                .map_err(storage)?;
            if store::read_slots(&tx)? != slot_rows {
                // Another writer changed the slots while the KDF ran: start over on them.
                continue;
            }
            let row = store::read_vault_row(&tx)?.ok_or(VaultError::NotAVault)?;
            // Re-read inside the transaction: another process may have upgraded the file.
            let schema = store::schema_version(&tx)?;
            verify_header(&keys, &inner.vault_id, schema, &row, &slot_rows)?;
            let mut loaded = load_entries(&tx, &keys, &inner.vault_id, schema, &row)?;
            if schema < store::SCHEMA_VERSION {
                loaded = upgrade::run(&tx, &keys, &inner.vault_id, &row, loaded)?;
            }
            let seen_version = store::data_version(&tx)?;
            tx.commit().map_err(storage)?;
            inner.unlocked = Some(Unlocked::new(data_key, keys, loaded, seen_version));
            return Ok(());
        }
        Err(VaultError::Busy)
    }

    /// Forgets the keys and every decrypted account (wiping them). Also cancels an unlock
    /// in progress on another thread.
    pub fn lock(&self) {
        let mut guard = self.lock_inner();
        guard.unlocked = None;
        guard.lock_epoch = guard.lock_epoch.wrapping_add(1);
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
            let present = !matches!(
                draft.entries[position].state,
                EntryState::Damaged(Damage::Missing)
            );
            store::delete_account_row(draft.tx, id.0, present)?;
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

    /// Replaces every passphrase slot with one for `new_passphrase` and rotates the data key
    /// (every account is re-sealed): an old copy of the file with the old passphrase opens
    /// nothing here. Key-wrapping slots hold the old key and are removed: use
    /// [`Vault::change_passphrase_keeping`] to re-wrap them.
    pub fn change_passphrase(
        &self,
        new_passphrase: &str,
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        self.change_passphrase_keeping(new_passphrase, kdf, &[])
    }

    /// Adds a passphrase slot (a second passphrase, e.g. a recovery one).
    pub fn add_passphrase_slot(&self, passphrase: &str, kdf: KdfParams) -> Result<i64, VaultError> {
        new_passphrase_allowed(passphrase)?;
        self.change_slots_sealed(
            |slots| check_new_passphrase(slots, kdf, false),
            |data_key, vault_id| seal_passphrase_slot(passphrase, kdf, data_key, vault_id),
            |draft, slots, (slot, wrapped)| {
                check_new_passphrase(slots, kdf, false)?;
                store::insert_slot(draft.tx, slot.kind_name(), &slot.encode_params(), &wrapped)
            },
        )
    }

    /// Adds a slot wrapped by the host's key; returns its id.
    pub fn add_key_wrapper_slot(&self, wrapper: &dyn KeyWrapper) -> Result<i64, VaultError> {
        self.change_slots_sealed(
            |_| Ok(()),
            |data_key, _| Ok(SlotKind::seal_key_wrapper(wrapper, data_key)?),
            |draft, _, (slot, wrapped)| {
                store::insert_slot(draft.tx, slot.kind_name(), &slot.encode_params(), &wrapped)
            },
        )
    }

    /// Checks the current slots with `precheck`, seals something for a new slot with `seal`
    /// (Argon2id, the host's wrap) with the vault mutex released, then applies `change` in
    /// one write, provided the data key is still the one that was sealed (a rotation
    /// meanwhile makes it [`VaultError::Busy`]).
    fn change_slots_sealed<S, T>(
        &self,
        precheck: impl FnOnce(&[SlotRow]) -> Result<(), VaultError>,
        seal: impl FnOnce(&DataKey, &[u8]) -> Result<S, VaultError>,
        change: impl FnOnce(&mut Draft<'_>, &[SlotRow], S) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let (data_key, vault_id) = {
            let guard = self.lock_inner();
            let unlocked = guard.unlocked.as_ref().ok_or(VaultError::Locked)?;
            precheck(&store::read_slots(&guard.conn)?)?;
            (unlocked.data_key.duplicate(), guard.vault_id.clone())
        };
        let sealed = seal(&data_key, &vault_id)?;
        self.change_slots(|draft, slots| {
            if !draft.data_key.same_as(&data_key) {
                return Err(VaultError::Busy);
            }
            change(draft, slots, sealed)
        })
    }

    /// Removes a slot. The last one cannot be removed: the vault would never open again.
    ///
    /// The data key stays: an old copy of the file still opens with the removed slot's
    /// passphrase or key. [`Vault::remove_slot_rotating`] revokes it for good.
    pub fn remove_slot(&self, slot_id: i64) -> Result<(), VaultError> {
        self.change_slots(|draft, slots| {
            if !slots.iter().any(|row| row.id == slot_id) {
                return Err(VaultError::UnknownSlot(slot_id));
            }
            if slots.len() == 1 {
                return Err(VaultError::LastSlot);
            }
            store::delete_slot(draft.tx, slot_id)
        })
    }

    /// Rebuilds a damaged or rolled-back index from the rows as they are now, and signs it at
    /// a generation above every one seen. The user's order is lost (accounts come back by
    /// id); unreadable rows stay listed as damaged, to be removed. A no-op on a sound index.
    pub fn repair_index(&self) -> Result<(), VaultError> {
        if !self.read(|unlocked| unlocked.index_damaged)? {
            return Ok(());
        }
        self.write_with(true, |draft| {
            *draft.entries = state::entries_from_rows(draft.tx, draft.keys, draft.vault_id)?;
            Ok(())
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
            verify_header(
                draft.keys,
                draft.vault_id,
                store::SCHEMA_VERSION,
                &row,
                &slots,
            )?;
            // The write re-signs the header over the changed slots when it commits.
            change(draft, &slots)
        })
        .inspect(|_| store::truncate_wal(&self.lock_inner().conn))
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
        self.read_with(|_, unlocked, _| f(unlocked))
    }

    /// [`Vault::read`] with the connection and the vault id, for rows kept outside the state.
    fn read_with<T>(
        &self,
        f: impl FnOnce(&Connection, &Unlocked, &[u8]) -> T,
    ) -> Result<T, VaultError> {
        let mut guard = self.lock_inner();
        let inner = &mut *guard;
        let unlocked = inner.unlocked.as_mut().ok_or(VaultError::Locked)?;
        let version = store::data_version(&inner.conn)?;
        if unlocked.seen_version != Some(version) {
            let tx = inner.conn.transaction().map_err(storage)?;
            if let Err(error) = unlocked.reload(&tx, &inner.vault_id) {
                drop(tx);
                if error == VaultError::Locked {
                    inner.unlocked = None;
                }
                return Err(error);
            }
            unlocked.seen_version = Some(store::data_version(&tx)?);
            tx.commit().map_err(storage)?;
        }
        Ok(f(&inner.conn, unlocked, &inner.vault_id))
    }

    /// Runs `f` inside one immediate transaction on up-to-date state, writes the index if the
    /// accounts changed, and commits. What `f` returns is handed out only after the commit.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Draft<'_>) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        self.write_with(false, f)
    }

    /// [`Vault::write`]; `repairing` lets it run on a damaged index (which `f` replaces).
    fn write_with<T>(
        &self,
        repairing: bool,
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
            if let Err(error) = unlocked.reload(&tx, &inner.vault_id) {
                drop(tx);
                if error == VaultError::Locked {
                    inner.unlocked = None;
                }
                return Err(error);
            }
            unlocked.seen_version = Some(version);
        }
        if unlocked.index_damaged && !repairing {
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
        let entries: Vec<IndexEntry> = draft.entries.iter().map(|e| e.index.clone()).collect();
        let (generation, enrollment_tag) = sign_index(&tx, unlocked, &inner.vault_id, entries)?;
        tx.commit().map_err(storage)?;
        unlocked.seen_version = Some(version);
        unlocked.generation = generation;
        unlocked.high_water = generation;
        unlocked.enrollment_tag = enrollment_tag;
        unlocked.index_damaged = false;
        unlocked.rebuild_hot();
        Ok(result)
    }
}

/// Seals the index at the next generation, binding the enrollment row as it now is, and
/// signs the header over it; returns the generation and the enrollment's tag.
fn sign_index(
    tx: &rusqlite::Transaction<'_>,
    unlocked: &Unlocked,
    vault_id: &[u8],
    entries: Vec<IndexEntry>,
) -> Result<(u64, Option<[u8; crypto::TAG_LEN]>), VaultError> {
    let generation = unlocked.next_generation()?;
    let enrollment_tag = store::read_enrollment(tx)?.map(|sealed| crypto::tag_of(&sealed));
    let index = Index::new(generation, enrollment_tag, entries);
    let sealed = seal_index(&unlocked.keys, vault_id, &index)?;
    let header = header_bytes(
        vault_id,
        unlocked.key_epoch,
        generation,
        &store::read_slots(tx)?,
    );
    store::write_index(tx, &sealed, generation, &unlocked.keys.header_mac(&header))?;
    Ok((generation, enrollment_tag))
}

/// A new passphrase (a new vault, a changed one, a new slot) must be non-empty and meet the
/// minimum strength ([`strength::check`]); checked before any file or KDF is touched.
fn new_passphrase_allowed(passphrase: &str) -> Result<(), VaultError> {
    if passphrase.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    strength::check(passphrase).map_err(VaultError::WeakPassphrase)
}
