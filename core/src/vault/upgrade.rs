//! Upgrading an older vault at its first unlock: the old header has been verified with the
//! data key before this runs; the schema is migrated and the header re-signed in the same
//! transaction, so an interrupted upgrade leaves the old file as it was.

use super::codec::{Index, IndexEntry};
use super::crypto::VaultKeys;
use super::error::VaultError;
use super::state::{Loaded, header_bytes, seal_index};
use super::store::{self, VaultRow};

/// The generation an upgraded index starts at.
const FIRST_GENERATION: u64 = 1;

/// Migrates the schema and re-signs the header v2 over the verified state; returns that
/// state as the upgraded file now holds it.
pub(super) fn run(
    tx: &rusqlite::Transaction<'_>,
    keys: &VaultKeys,
    vault_id: &[u8],
    row: &VaultRow,
    mut loaded: Loaded,
) -> Result<Loaded, VaultError> {
    store::migrate_in(tx)?;
    let slots = store::read_slots(tx)?;
    if loaded.index_damaged {
        // Never seal an index from rows the old one could not vouch for: the old sealed
        // index stays, reported as damaged, until the user repairs it.
        let header = header_bytes(vault_id, row.key_epoch, 0, &slots);
        store::write_index(tx, &row.sealed_index, 0, &keys.header_mac(&header))?;
        loaded.generation = 0;
        return Ok(loaded);
    }
    let entries: Vec<IndexEntry> = loaded.entries.iter().map(|e| e.index.clone()).collect();
    let index = Index::new(FIRST_GENERATION, loaded.enrollment_tag, entries);
    let header = header_bytes(vault_id, row.key_epoch, FIRST_GENERATION, &slots);
    store::write_index(
        tx,
        &seal_index(keys, vault_id, &index)?,
        FIRST_GENERATION,
        &keys.header_mac(&header),
    )?;
    loaded.generation = FIRST_GENERATION;
    Ok(loaded)
}
