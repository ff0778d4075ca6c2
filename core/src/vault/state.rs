//! The unlocked state: every account decrypted (or marked damaged) in the user's order, the
//! keyed HMAC states of the time-based ones packed for drawing a screen of codes, and the
//! write in progress.

use rusqlite::Connection;

use crate::account::{Account, display_label};
use crate::otp::{OtpParams, PreparedKey};

use super::codec::{self, IndexEntry};
use super::crypto::{self, DataKey, VaultKeys};
use super::error::{AccountId, Damage, DamagedAccount, IntegrityError, VaultError};
use super::store::{self, SlotRow, VaultRow};

pub(super) struct Unlocked {
    pub data_key: DataKey,
    pub keys: VaultKeys,
    pub entries: Vec<Entry>,
    pub index_damaged: bool,
    /// `PRAGMA data_version` when `entries` were last in step with the file; `None` forces
    /// a reload (after a failed write).
    pub seen_version: Option<i64>,
    /// The time-based accounts, in order, with their keyed HMAC states: a screen of codes
    /// walks this short dense list and nothing else.
    pub hot: HotCodes,
}

/// The time-based accounts ready to draw codes, as parallel lists: the loop over the keys
/// then streams through memory that holds nothing but HMAC states.
#[derive(Default)]
pub(super) struct HotCodes {
    pub ids: Vec<AccountId>,
    pub params: Vec<OtpParams>,
    pub keys: Vec<PreparedKey>,
}

pub(super) struct Entry {
    pub index: IndexEntry,
    pub state: EntryState,
}

pub(super) enum EntryState {
    Ready(Account),
    Damaged(Damage),
}

/// A write in progress: the transaction and the entries it is changing.
pub(super) struct Draft<'a> {
    pub tx: &'a rusqlite::Transaction<'a>,
    pub keys: &'a VaultKeys,
    pub data_key: &'a DataKey,
    pub vault_id: &'a [u8],
    pub entries: &'a mut Vec<Entry>,
}

impl Draft<'_> {
    pub fn position(&self, id: AccountId) -> Result<usize, VaultError> {
        self.entries
            .iter()
            .position(|entry| entry.index.id == id.0)
            .ok_or(VaultError::UnknownAccount(id))
    }

    pub fn ready_at(&self, position: usize) -> Result<&Account, VaultError> {
        self.entries[position].ready()
    }

    /// Seals and stores `account` in row `id`; returns the new write's tag.
    pub fn store_record(
        &self,
        id: i64,
        account: &Account,
    ) -> Result<[u8; crypto::TAG_LEN], VaultError> {
        let plain = codec::encode_record(account);
        let sealed = self
            .keys
            .record
            .seal(&plain, &record_aad(self.vault_id, id))
            .map_err(|_| VaultError::Random)?;
        store::update_account_row(self.tx, id, &sealed)?;
        Ok(crypto::tag_of(&sealed))
    }

    pub fn replace(&mut self, position: usize, account: Account) -> Result<(), VaultError> {
        let id = self.entries[position].index.id;
        let tag = self.store_record(id, &account)?;
        self.entries[position] = Entry::new_ready(id, tag, account);
        Ok(())
    }
}

impl Unlocked {
    /// The state right after an unlock.
    pub fn new(
        data_key: DataKey,
        keys: VaultKeys,
        (entries, index_damaged): (Vec<Entry>, bool),
        seen_version: i64,
    ) -> Self {
        let mut unlocked = Self {
            data_key,
            keys,
            entries,
            index_damaged,
            seen_version: Some(seen_version),
            hot: HotCodes::default(),
        };
        unlocked.rebuild_hot();
        unlocked
    }

    /// Re-reads everything from the file (another process wrote, or a write failed).
    pub fn reload(&mut self, conn: &Connection, vault_id: &[u8]) -> Result<(), VaultError> {
        let row = store::read_vault_row(conn)?.ok_or(VaultError::NotAVault)?;
        let (entries, index_damaged) = load_entries(conn, &self.keys, vault_id, &row)?;
        self.entries = entries;
        self.index_damaged = index_damaged;
        self.rebuild_hot();
        Ok(())
    }

    /// Recomputes the list of time-based accounts after the entries changed.
    pub fn rebuild_hot(&mut self) {
        let mut hot = HotCodes::default();
        for entry in &self.entries {
            if let EntryState::Ready(account) = &entry.state
                && account.params().kind().is_time_based()
            {
                hot.ids.push(AccountId(entry.index.id));
                hot.params.push(*account.params());
                hot.keys.push(account.prepared_key());
            }
        }
        self.hot = hot;
    }

    /// The readable account `id`.
    pub fn ready(&self, id: AccountId) -> Result<&Account, VaultError> {
        self.entries
            .iter()
            .find(|entry| entry.index.id == id.0)
            .ok_or(VaultError::UnknownAccount(id))?
            .ready()
    }
}

impl Entry {
    pub fn new_ready(id: i64, tag: [u8; crypto::TAG_LEN], account: Account) -> Self {
        Self {
            index: IndexEntry {
                id,
                tag,
                issuer: account.issuer().to_owned(),
                name: account.name().to_owned(),
            },
            state: EntryState::Ready(account),
        }
    }

    fn ready(&self) -> Result<&Account, VaultError> {
        match &self.state {
            EntryState::Ready(account) => Ok(account),
            EntryState::Damaged(damage) => {
                Err(IntegrityError::Account(self.damaged(*damage)).into())
            }
        }
    }

    pub fn damaged(&self, damage: Damage) -> DamagedAccount {
        let label = (damage != Damage::Unlisted)
            .then(|| display_label(&self.index.issuer, &self.index.name));
        DamagedAccount {
            id: AccountId(self.index.id),
            label,
            damage,
        }
    }
}

/// Reads the index and every row, and sorts each account into ready or damaged.
/// Returns whether the index itself was unreadable (then rows are listed by id).
pub(super) fn load_entries(
    conn: &Connection,
    keys: &VaultKeys,
    vault_id: &[u8],
    row: &VaultRow,
) -> Result<(Vec<Entry>, bool), VaultError> {
    let mut rows: std::collections::BTreeMap<i64, Vec<u8>> =
        store::read_account_rows(conn)?.into_iter().collect();
    let index = keys
        .record
        .open(&row.sealed_index, &index_aad(vault_id))
        .ok()
        .and_then(|plain| codec::decode_index(&plain).ok());
    let index_damaged = index.is_none();
    // Without an index, fall back to the rows themselves: every readable account stays
    // usable, and the damaged index is reported.
    let listed = index.unwrap_or_else(|| {
        rows.iter()
            .map(|(id, sealed)| IndexEntry {
                id: *id,
                tag: crypto::tag_of(sealed),
                issuer: String::new(),
                name: String::new(),
            })
            .collect()
    });
    let mut entries = Vec::with_capacity(listed.len());
    for index in listed {
        let state = match rows.remove(&index.id) {
            None => EntryState::Damaged(Damage::Missing),
            Some(sealed) if crypto::tag_of(&sealed) != index.tag => {
                EntryState::Damaged(Damage::Replaced)
            }
            Some(sealed) => open_record(keys, vault_id, index.id, &sealed),
        };
        entries.push(Entry { index, state });
    }
    for (id, sealed) in rows {
        entries.push(Entry {
            index: IndexEntry {
                id,
                tag: crypto::tag_of(&sealed),
                issuer: String::new(),
                name: String::new(),
            },
            state: EntryState::Damaged(Damage::Unlisted),
        });
    }
    Ok((entries, index_damaged))
}

fn open_record(keys: &VaultKeys, vault_id: &[u8], id: i64, sealed: &[u8]) -> EntryState {
    let account = keys
        .record
        .open(sealed, &record_aad(vault_id, id))
        .ok()
        .and_then(|plain| codec::decode_record(&plain).ok());
    match account {
        Some(account) => EntryState::Ready(account),
        None => EntryState::Damaged(Damage::Tampered),
    }
}

pub(super) fn seal_index(
    keys: &VaultKeys,
    vault_id: &[u8],
    entries: &[IndexEntry],
) -> Result<Vec<u8>, VaultError> {
    keys.record
        .seal(&codec::encode_index(entries), &index_aad(vault_id))
        .map_err(|_| VaultError::Random)
}

pub(super) fn record_aad(vault_id: &[u8], id: i64) -> Vec<u8> {
    let mut aad = b"cityauth vault account v1".to_vec();
    aad.extend_from_slice(vault_id);
    aad.extend_from_slice(&id.to_be_bytes());
    aad
}

pub(super) fn index_aad(vault_id: &[u8]) -> Vec<u8> {
    let mut aad = b"cityauth vault index v1".to_vec();
    aad.extend_from_slice(vault_id);
    aad
}

/// The bytes the header MAC covers: schema version, vault id, and every slot in full.
pub(super) fn header_bytes(vault_id: &[u8], slots: &[SlotRow]) -> Vec<u8> {
    let mut out = b"cityauth vault header v1".to_vec();
    out.extend_from_slice(&store::SCHEMA_VERSION.to_be_bytes());
    let mut field = |bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    };
    field(vault_id);
    for slot in slots {
        field(&slot.id.to_be_bytes());
        field(slot.kind.as_bytes());
        field(&slot.params);
        field(&slot.wrapped_key);
    }
    out
}
