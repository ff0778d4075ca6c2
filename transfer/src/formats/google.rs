//! TODO: Google Authenticator migration links (`otpauth-migration://offline?data=…`).

use crate::entry::{Entry, Location};
use crate::error::ImportError;

/// Reads the `otpauth-migration://` links of one export (in any order), each with where it
/// was found. Fails with [`ImportError::MissingBatchParts`] when the export's batch is
/// incomplete; a link that cannot be decoded at all is [`ImportError::Damaged`].
pub fn read_links(_links: &[(Location, &str)]) -> Result<Vec<Entry>, ImportError> {
    Err(ImportError::Unsupported {
        what: "google".into(),
    })
}
