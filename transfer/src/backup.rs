//! TODO: cityauth's encrypted backup (versioned JSON, Argon2id + AES-256-GCM).

use crate::entry::Entry;
use crate::error::ImportError;

/// Whether `bytes` look like a cityauth backup.
pub fn looks_like(_bytes: &[u8]) -> bool {
    false
}

/// Reads a backup.
pub fn read(_bytes: &[u8], _password: Option<&str>) -> Result<Vec<Entry>, ImportError> {
    Err(ImportError::Unsupported {
        what: "backup".into(),
    })
}
