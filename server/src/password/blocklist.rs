//! The blocklist of common and compromised passwords: a default compiled in, replaceable by
//! a City's own file.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use unicode_normalization::UnicodeNormalization;

/// The default list (`server/data/make-common-passwords.py` writes it).
const DEFAULT_LIST: &str = include_str!("../../data/common-passwords.txt");

/// A set of passwords not to accept, compared in lower case after NFKC; cheap to clone.
#[derive(Clone)]
pub struct Blocklist(Arc<HashSet<String>>);

impl Blocklist {
    /// The list compiled into the server.
    pub fn builtin() -> Self {
        static BUILTIN: OnceLock<Blocklist> = OnceLock::new();
        BUILTIN.get_or_init(|| Self::parse(DEFAULT_LIST)).clone()
    }

    /// A list from text: one password a line; blank lines and lines starting with `#` skipped.
    pub fn parse(text: &str) -> Self {
        // Each entry also without its separators, as passwords are compared (`policy.rs`).
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(fold)
            .flat_map(|entry| {
                let compact: String = entry.chars().filter(|c| c.is_alphanumeric()).collect();
                [entry, compact]
            })
            .filter(|entry| !entry.is_empty())
            .collect();
        Self(Arc::new(entries))
    }

    /// A list from a file (the City's replacement for the default).
    pub fn from_file(path: &std::path::Path) -> std::io::Result<Self> {
        Ok(Self::parse(&std::fs::read_to_string(path)?))
    }

    /// How many entries the list has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True if `candidate` (already folded by [`fold`]) is on the list.
    pub(super) fn contains(&self, candidate: &str) -> bool {
        self.0.contains(candidate)
    }
}

impl Default for Blocklist {
    fn default() -> Self {
        Self::builtin()
    }
}

impl std::fmt::Debug for Blocklist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blocklist({} entries)", self.0.len())
    }
}

/// The form entries and candidates are compared in: NFKC, lower case.
pub(super) fn fold(text: &str) -> String {
    text.nfkc().collect::<String>().to_lowercase()
}
