//! Rotating the data key (issue 10, item 4): a passphrase change or a slot removal seals
//! everything under a fresh key, so an old copy of the file and a revoked passphrase or
//! platform key open nothing in the current file.
//!
//! The KDF and the host's wrap calls run before the vault's lock is taken; the rewrite is
//! one immediate transaction that first checks nothing changed in between (the slots and
//! the key epoch), then the WAL is truncated so that the old slot is not left in it.

use zeroize::Zeroizing;

use super::Vault;
use super::codec::{Index, IndexEntry};
use super::crypto::{self, DataKey, VaultKeys};
use super::enrollment::enrollment_aad;
use super::error::{IntegrityError, VaultError};
use super::slots::{KdfParams, KeyWrapper, SlotFailure, SlotKind};
use super::state::{header_bytes, record_aad, seal_index};
use super::store::{self, SlotRow, storage};

/// The slots the rotated vault will have, sealed for the new data key.
struct Resealed {
    data_key: DataKey,
    slots: Vec<(SlotKind, Vec<u8>)>,
}

/// What a rotation starts from, copied out under the lock.
struct Before {
    vault_id: Vec<u8>,
    key_epoch: u64,
    slots: Vec<SlotRow>,
    data_key: DataKey,
}

impl Vault {
    /// Replaces every passphrase slot with one for `new_passphrase` and rotates the data
    /// key; the key-wrapping slots of `keep` are re-wrapped, every other one is removed (it
    /// holds the old key). An old copy of the file with the old passphrase opens nothing here.
    pub fn change_passphrase_keeping(
        &self,
        new_passphrase: &str,
        kdf: KdfParams,
        keep: &[&dyn KeyWrapper],
    ) -> Result<(), VaultError> {
        super::new_passphrase_allowed(new_passphrase)?;
        let before = self.before_rotation()?;
        // The new passphrase slot replaces every passphrase slot: refuse before its KDF runs
        // a cost the vault's budget does not allow.
        super::check_new_passphrase(&before.slots, kdf, true)?;
        let data_key = DataKey::generate().map_err(|_| VaultError::Random)?;
        let mut slots = vec![
            SlotKind::seal_passphrase(new_passphrase, kdf, &data_key, &before.vault_id)
                .map_err(|_| VaultError::Random)?,
        ];
        for row in &before.slots {
            if let Some(SlotKind::KeyWrapper { key_id }) = SlotKind::decode(&row.kind, &row.params)
                && let Some(wrapper) = keep.iter().find(|w| w.key_id() == key_id)
            {
                slots.push(SlotKind::seal_key_wrapper(*wrapper, &data_key)?);
            }
        }
        self.commit_rotation(&before, Resealed { data_key, slots })
    }

    /// Removes a slot and rotates the data key, re-sealing every other slot: each needs one
    /// of `passphrases` (checked against it) or the wrapper of its platform key
    /// ([`VaultError::CredentialNeeded`] otherwise, and nothing changes). An old copy of the
    /// file with the removed slot's passphrase or key opens nothing here.
    pub fn remove_slot_rotating(
        &self,
        slot_id: i64,
        passphrases: &[&str],
        wrappers: &[&dyn KeyWrapper],
    ) -> Result<(), VaultError> {
        let before = self.before_rotation()?;
        if !before.slots.iter().any(|row| row.id == slot_id) {
            return Err(VaultError::UnknownSlot(slot_id));
        }
        if before.slots.len() == 1 {
            return Err(VaultError::LastSlot);
        }
        let data_key = DataKey::generate().map_err(|_| VaultError::Random)?;
        let mut slots = Vec::new();
        for row in before.slots.iter().filter(|row| row.id != slot_id) {
            let kind = SlotKind::decode(&row.kind, &row.params).ok_or(IntegrityError::Header)?;
            let resealed = match &kind {
                SlotKind::Passphrase { params, .. } => {
                    let passphrase = passphrases
                        .iter()
                        .find(|p| opens(&kind, p, row, &before))
                        .ok_or(VaultError::CredentialNeeded(row.id))?;
                    SlotKind::seal_passphrase(passphrase, *params, &data_key, &before.vault_id)
                        .map_err(|_| VaultError::Random)?
                }
                SlotKind::KeyWrapper { key_id } => {
                    let wrapper = wrappers
                        .iter()
                        .find(|w| w.key_id() == *key_id)
                        .ok_or(VaultError::CredentialNeeded(row.id))?;
                    SlotKind::seal_key_wrapper(*wrapper, &data_key)?
                }
            };
            slots.push(resealed);
        }
        self.commit_rotation(&before, Resealed { data_key, slots })
    }

    fn before_rotation(&self) -> Result<Before, VaultError> {
        let guard = self.lock_inner();
        let unlocked = guard.unlocked.as_ref().ok_or(VaultError::Locked)?;
        if unlocked.index_damaged {
            return Err(IntegrityError::Index.into());
        }
        Ok(Before {
            vault_id: guard.vault_id.clone(),
            key_epoch: unlocked.key_epoch,
            slots: store::read_slots(&guard.conn)?,
            data_key: DataKey::from_slice(unlocked.data_key.expose())
                .map_err(|_| VaultError::Random)?,
        })
    }

    /// Re-seals every row, the enrollment, the index and the slots under the new key in one
    /// transaction, if the file is still as `before` saw it.
    fn commit_rotation(&self, before: &Before, resealed: Resealed) -> Result<(), VaultError> {
        let keys = resealed.data_key.derive().map_err(|_| VaultError::Random)?;
        let mut guard = self.lock_inner();
        let inner = &mut *guard;
        let unlocked = inner.unlocked.as_mut().ok_or(VaultError::Locked)?;
        let tx = inner
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(storage)?;
        let row = store::read_vault_row(&tx)?.ok_or(VaultError::NotAVault)?;
        let slots_now = store::read_slots(&tx)?;
        if row.key_epoch != before.key_epoch
            || !same_slots(&slots_now, &before.slots)
            || unlocked.key_epoch != before.key_epoch
        {
            // Another writer changed the slots or the key while the KDF ran: start over.
            return Err(VaultError::Busy);
        }
        if store::data_version(&tx)? != unlocked.seen_version.unwrap_or(-1) {
            unlocked.reload(&tx, &inner.vault_id)?;
        }
        if unlocked.index_damaged {
            return Err(IntegrityError::Index.into());
        }
        let vault_id = &inner.vault_id;
        unlocked.seen_version = None;
        // Every record and the enrollment, opened with the old key, sealed with the new.
        let mut entries: Vec<IndexEntry> = Vec::with_capacity(unlocked.entries.len());
        for entry in &unlocked.entries {
            let mut index = entry.index.clone();
            let sealed = reseal_row(&tx, &unlocked.keys, &keys, vault_id, index.id)?;
            if let Some(sealed) = sealed {
                index.tag = crypto::tag_of(&sealed);
            }
            entries.push(index);
        }
        let enrollment = match store::read_enrollment(&tx)? {
            None => None,
            Some(sealed) => {
                let aad = enrollment_aad(vault_id);
                let plain = unlocked
                    .keys
                    .record
                    .open(&sealed, &aad)
                    .map_err(|_| IntegrityError::Enrollment)?;
                let sealed = keys
                    .record
                    .seal(&plain, &aad)
                    .map_err(|_| VaultError::Random)?;
                store::write_enrollment(&tx, &sealed)?;
                Some(crypto::tag_of(&sealed))
            }
        };
        for slot in &slots_now {
            store::delete_slot(&tx, slot.id)?;
        }
        for (kind, wrapped) in &resealed.slots {
            store::insert_slot(&tx, kind.kind_name(), &kind.encode_params(), wrapped)?;
        }
        let key_epoch = before.key_epoch + 1;
        let generation = unlocked.next_generation()?;
        let index = Index::new(generation, enrollment, entries);
        let header = header_bytes(vault_id, key_epoch, generation, &store::read_slots(&tx)?);
        store::write_rotated(
            &tx,
            &seal_index(&keys, vault_id, &index)?,
            key_epoch,
            generation,
            &keys.header_mac(&header),
        )?;
        tx.commit().map_err(storage)?;
        // The old slots' pages are wiped by secure_delete; the WAL still holds them.
        store::truncate_wal(&inner.conn);
        for (entry, listed) in unlocked.entries.iter_mut().zip(index.entries) {
            entry.index = listed;
        }
        unlocked.data_key = resealed.data_key;
        unlocked.keys = keys;
        unlocked.key_epoch = key_epoch;
        unlocked.generation = generation;
        unlocked.high_water = generation;
        unlocked.enrollment_tag = enrollment;
        unlocked.seen_version = Some(store::data_version(&inner.conn)?);
        Ok(())
    }
}

/// True if `passphrase` opens `kind` and yields the current data key.
fn opens(kind: &SlotKind, passphrase: &str, row: &SlotRow, before: &Before) -> bool {
    match kind.open_passphrase(passphrase, &row.wrapped_key, &before.vault_id) {
        Ok(key) => crate::secret::constant_time_eq(key.expose(), before.data_key.expose()),
        Err(SlotFailure::WrongPassphrase | SlotFailure::Tampered | SlotFailure::Host(_)) => false,
    }
}

fn same_slots(a: &[SlotRow], b: &[SlotRow]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.id == y.id
                && x.kind == y.kind
                && x.params == y.params
                && x.wrapped_key == y.wrapped_key
        })
}

/// Re-seals account row `id` under `new`; a row that does not open under `old` (already
/// reported as damaged) is left as it is. Returns the new blob.
fn reseal_row(
    tx: &rusqlite::Transaction<'_>,
    old: &VaultKeys,
    new: &VaultKeys,
    vault_id: &[u8],
    id: i64,
) -> Result<Option<Vec<u8>>, VaultError> {
    let Some(sealed) = store::read_account_row(tx, id)? else {
        return Ok(None);
    };
    let aad = record_aad(vault_id, id);
    let Ok(plain) = old.record.open(&sealed, &aad) else {
        return Ok(None);
    };
    let plain: Zeroizing<Vec<u8>> = plain;
    let sealed = new
        .record
        .seal(&plain, &aad)
        .map_err(|_| VaultError::Random)?;
    store::update_account_row(tx, id, &sealed)?;
    Ok(Some(sealed))
}
