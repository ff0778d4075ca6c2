//! TODO: andotp.

use crate::entry::Entry;
use crate::error::ImportError;

/// Whether `bytes` look like this format.
pub fn looks_like(_bytes: &[u8]) -> bool {
    false
}

/// Reads the file.
pub fn read(_bytes: &[u8], _password: Option<&str>) -> Result<Vec<Entry>, ImportError> {
    Err(ImportError::Unsupported {
        what: "andotp".into(),
    })
}
