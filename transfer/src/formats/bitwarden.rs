//! TODO: Bitwarden JSON and CSV.

use crate::entry::Entry;
use crate::error::ImportError;

/// Whether `bytes` look like Bitwarden's JSON export.
pub fn looks_like_json(_bytes: &[u8]) -> bool {
    false
}

/// Whether `bytes` look like Bitwarden's CSV export.
pub fn looks_like_csv(_bytes: &[u8]) -> bool {
    false
}

/// Reads a JSON export.
pub fn read_json(_bytes: &[u8]) -> Result<Vec<Entry>, ImportError> {
    Err(ImportError::Unsupported {
        what: "bitwarden".into(),
    })
}

/// Reads a CSV export.
pub fn read_csv(_bytes: &[u8]) -> Result<Vec<Entry>, ImportError> {
    Err(ImportError::Unsupported {
        what: "bitwarden".into(),
    })
}
