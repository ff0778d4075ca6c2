//! Why a whole file cannot be imported. (One bad entry is a [`crate::Rejection`], not this.)

/// A file that cannot be read at all. Nothing is imported from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The content matches no known format.
    #[error("the file is not in any format cityauth can import")]
    UnknownFormat,
    /// The file is larger than [`crate::MAX_IMPORT_BYTES`].
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The file holds more of something than cityauth reads from one file (entries, fields of
    /// a record, parts of an export, key-derivation work): refused before it costs memory or
    /// minutes.
    #[error("the file has more {what} than the {limit} cityauth reads from one file")]
    TooMany {
        /// What there is too much of, e.g. `entries`.
        what: &'static str,
        /// The bound.
        limit: usize,
    },
    /// The import was cancelled (by [`crate::Cancel::cancel`]); nothing was read.
    #[error("the import was cancelled")]
    Cancelled,
    /// The file is encrypted and no password was given.
    #[error("the file is encrypted: a password is needed")]
    PasswordRequired,
    /// The password does not open the file.
    #[error("wrong password for this file")]
    WrongPassword,
    /// The file is truncated, tampered with or not what its format says; `reason` says which
    /// part (never quoting a secret).
    #[error("the file is damaged: {reason}")]
    Damaged {
        /// What is wrong.
        reason: String,
    },
    /// A version or feature of the format that cityauth does not read.
    #[error("not supported: {what}")]
    Unsupported {
        /// What.
        what: String,
    },
    /// A Google Authenticator export came in several parts and some are missing.
    #[error("Google Authenticator export: {} of {total} parts missing (part {}); scan every QR code of the export", missing.len(), list(missing))]
    MissingBatchParts {
        /// The missing part numbers, counted from 1.
        missing: Vec<u32>,
        /// How many parts the export has.
        total: u32,
    },
}

impl ImportError {
    /// A damaged-file error.
    pub fn damaged(reason: impl Into<String>) -> Self {
        Self::Damaged {
            reason: reason.into(),
        }
    }
}

fn list(parts: &[u32]) -> String {
    parts
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
