//! The unlocked state: every account decrypted (or marked damaged) in the user's order, the
//! keyed HMAC states of the time-based ones packed for drawing a screen of codes, and the
//! write in progress.

use rusqlite::Connection;

use crate::account::{Account, display_label};
use crate::otp::{OtpParams, PreparedKey};

use super::codec::{self, Index, IndexEntry};
use super::crypto::{self, DataKey, VaultKeys};
use super::error::{AccountId, Damage, DamagedAccount, IntegrityError, VaultError};
use super::store::{self, SlotRow, VaultRow};

pub(super) struct Unlocked {
    pub data_key: DataKey,
    pub keys: VaultKeys,
    pub entries: Vec<Entry>,
    /// The index did not decrypt, or is older than the header says (rolled back): writes are
    /// refused until [`super::Vault::repair_index`].
    pub index_damaged: bool,
    /// The key epoch this state's keys belong to.
    pub key_epoch: u64,
    /// The generation the file's header was signed with when last loaded.
    pub generation: u64,
    /// The highest generation seen in this session: a reload that finds a lower one is a
    /// rollback behind the vault's back.
    pub high_water: u64,
    /// The enrollment row's tag as the trusted index records it.
    pub enrollment_tag: Option<[u8; crypto::TAG_LEN]>,
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

/// What an unlock or a reload read from the file, checked against the header.
pub(super) struct Loaded {
    pub entries: Vec<Entry>,
    pub index_damaged: bool,
    pub key_epoch: u64,
    pub generation: u64,
    pub enrollment_tag: Option<[u8; crypto::TAG_LEN]>,
}

impl Unlocked {
    /// The state right after an unlock.
    pub fn new(data_key: DataKey, keys: VaultKeys, loaded: Loaded, seen_version: i64) -> Self {
        let mut unlocked = Self {
            data_key,
            keys,
            entries: Vec::new(),
            index_damaged: false,
            key_epoch: loaded.key_epoch,
            generation: 0,
            high_water: 0,
            enrollment_tag: None,
            seen_version: Some(seen_version),
            hot: HotCodes::default(),
        };
        unlocked.take(loaded);
        unlocked
    }

    /// Re-reads everything from the file (another process wrote, or a write failed),
    /// verifying the header again. A data key rotated by another process is
    /// [`VaultError::Locked`]: this state's keys are no longer the file's.
    pub fn reload(&mut self, conn: &Connection, vault_id: &[u8]) -> Result<(), VaultError> {
        let row = store::read_vault_row(conn)?.ok_or(VaultError::NotAVault)?;
        if row.key_epoch != self.key_epoch {
            return Err(VaultError::Locked);
        }
        let schema = store::schema_version(conn)?;
        verify_header(
            &self.keys,
            vault_id,
            schema,
            &row,
            &store::read_slots(conn)?,
        )?;
        let loaded = load_entries(conn, &self.keys, vault_id, schema, &row)?;
        self.take(loaded);
        Ok(())
    }

    fn take(&mut self, loaded: Loaded) {
        // A generation below one this session has already seen is an older copy put back.
        let rolled_back = loaded.generation < self.high_water;
        self.entries = loaded.entries;
        self.index_damaged = loaded.index_damaged || rolled_back;
        self.generation = loaded.generation;
        self.high_water = self.high_water.max(loaded.generation);
        self.enrollment_tag = loaded.enrollment_tag;
        self.rebuild_hot();
    }

    /// Checks the enrollment row against the index: one rolled back, swapped in, deleted, or
    /// come back after being forgotten does not carry the tag the index recorded.
    pub fn check_enrollment(&self, sealed: Option<&[u8]>) -> Result<(), IntegrityError> {
        let found = sealed.map(crypto::tag_of);
        let same = match (found, self.enrollment_tag) {
            (None, None) => true,
            (Some(found), Some(recorded)) => crate::secret::constant_time_eq(&found, &recorded),
            _ => false,
        };
        if same {
            Ok(())
        } else {
            Err(IntegrityError::Enrollment)
        }
    }

    /// The generation the next write signs: above every one seen, so a repaired index is
    /// never mistaken for an older one.
    pub fn next_generation(&self) -> Result<u64, VaultError> {
        self.high_water
            .max(self.generation)
            .checked_add(1)
            .ok_or(VaultError::Storage(
                "the index generation is exhausted".into(),
            ))
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
///
/// The header must have been verified: the index is trusted only if it carries the
/// generation the header was signed with (a vault not yet upgraded has the first release's
/// index, which carries none). An untrusted index is reported as damaged and the rows are
/// listed by id, so every readable account stays usable.
pub(super) fn load_entries(
    conn: &Connection,
    keys: &VaultKeys,
    vault_id: &[u8],
    schema: u32,
    row: &VaultRow,
) -> Result<Loaded, VaultError> {
    let mut rows: std::collections::BTreeMap<i64, Vec<u8>> =
        store::read_account_rows(conn)?.into_iter().collect();
    let legacy = schema < store::HEADER_V2_SCHEMA;
    let index = keys
        .record
        .open(&row.sealed_index, &index_aad(vault_id))
        .ok()
        .and_then(|plain| codec::decode_index(&plain).ok())
        .filter(|index| index.is_legacy() == legacy && index.generation == row.generation);
    let enrollment_row = if schema >= 2 {
        store::read_enrollment(conn)?.map(|sealed| crypto::tag_of(&sealed))
    } else {
        None
    };
    let index_damaged = index.is_none();
    let enrollment_tag = match &index {
        // The first release bound nothing to the enrollment: take the row as it is, once,
        // when the upgrade binds it.
        Some(index) if index.is_legacy() => enrollment_row,
        Some(index) => index.enrollment,
        None => None,
    };
    // Without an index, fall back to the rows themselves: every readable account stays
    // usable, and the damaged index is reported.
    let listed = index.map(|index| index.entries).unwrap_or_else(|| {
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
    Ok(Loaded {
        entries,
        index_damaged,
        key_epoch: row.key_epoch,
        generation: row.generation,
        enrollment_tag,
    })
}

/// Every row as an entry, by id, for a repaired index: readable ones with their labels,
/// the others marked tampered.
pub(super) fn entries_from_rows(
    conn: &Connection,
    keys: &VaultKeys,
    vault_id: &[u8],
) -> Result<Vec<Entry>, VaultError> {
    Ok(store::read_account_rows(conn)?
        .into_iter()
        .map(|(id, sealed)| {
            let tag = crypto::tag_of(&sealed);
            match open_record(keys, vault_id, id, &sealed) {
                EntryState::Ready(account) => Entry::new_ready(id, tag, account),
                damaged => Entry {
                    index: IndexEntry {
                        id,
                        tag,
                        issuer: String::new(),
                        name: String::new(),
                    },
                    state: damaged,
                },
            }
        })
        .collect())
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
    index: &Index,
) -> Result<Vec<u8>, VaultError> {
    keys.record
        .seal(&codec::encode_index(index), &index_aad(vault_id))
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

/// The header layout's own version, bound into the MAC. Fixed: a schema migration never
/// changes it (binding the schema version is what bricked upgraded vaults).
pub(super) const FORMAT_VERSION: u32 = 2;

/// The bytes header v2's MAC covers: label, [`FORMAT_VERSION`], vault id, key epoch, index
/// generation, and every slot in full.
pub(super) fn header_bytes(
    vault_id: &[u8],
    key_epoch: u64,
    generation: u64,
    slots: &[SlotRow],
) -> Vec<u8> {
    let mut out = b"cityauth vault header v2".to_vec();
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    push_fields(
        &mut out,
        vault_id,
        &[&key_epoch.to_be_bytes(), &generation.to_be_bytes()],
        slots,
    );
    out
}

/// The bytes the first releases' header MAC covered: the label, the schema version the
/// writing build had, the vault id and the slots.
fn legacy_header_bytes(schema: u32, vault_id: &[u8], slots: &[SlotRow]) -> Vec<u8> {
    let mut out = b"cityauth vault header v1".to_vec();
    out.extend_from_slice(&schema.to_be_bytes());
    push_fields(&mut out, vault_id, &[], slots);
    out
}

/// Schema versions a v1 header may have been signed with: schema 1 by the first release,
/// 2 by the release that added the enrollment. A schema-1 file that release opened was
/// already moved to `user_version = 2` with its header still signed for 1, so both are
/// accepted for any file not yet upgraded. Either proves the same key signed these slots.
const LEGACY_HEADER_SCHEMAS: [u32; 2] = [1, 2];

/// Checks the file's header MAC in the layout its schema was written with.
pub(super) fn verify_header(
    keys: &VaultKeys,
    vault_id: &[u8],
    schema: u32,
    row: &VaultRow,
    slots: &[SlotRow],
) -> Result<(), IntegrityError> {
    let valid = if schema >= store::HEADER_V2_SCHEMA {
        let header = header_bytes(vault_id, row.key_epoch, row.generation, slots);
        keys.verify_header_mac(&header, &row.header_mac)
    } else {
        LEGACY_HEADER_SCHEMAS.iter().any(|&signed_for| {
            let header = legacy_header_bytes(signed_for, vault_id, slots);
            keys.verify_header_mac(&header, &row.header_mac)
        })
    };
    if valid {
        Ok(())
    } else {
        Err(IntegrityError::Header)
    }
}

fn push_fields(out: &mut Vec<u8>, vault_id: &[u8], numbers: &[&[u8]], slots: &[SlotRow]) {
    let mut field = |bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    };
    field(vault_id);
    for number in numbers {
        field(number);
    }
    for slot in slots {
        field(&slot.id.to_be_bytes());
        field(slot.kind.as_bytes());
        field(&slot.params);
        field(&slot.wrapped_key);
    }
}
