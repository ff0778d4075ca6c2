//! What a parser yields: each entry of the file, read as an account or refused with a reason.

use std::fmt;

use cityauth_core::Account;

use crate::format::Format;

/// Where an entry sat in its file, in words a user can find it by: `line 3`,
/// `entry 4 ("GitHub")`, `batch 2 of 3, item 1`. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location(String);

impl Location {
    /// A location described by `text` (which must not contain a secret).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The `n`th line of a text file, counted from 1.
    pub fn line(n: usize) -> Self {
        Self(format!("line {n}"))
    }

    /// The `n`th entry of a list, counted from 1.
    pub fn entry(n: usize) -> Self {
        Self(format!("entry {n}"))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why one entry of a file cannot become an account. The reason names the field at fault
/// and never quotes a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The entry's issuer and name as the file gave them, when they could be read.
    pub label: String,
    /// What is wrong, e.g. `type: yandex is not supported` or `secret: not valid base32`.
    pub reason: String,
}

/// One entry of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where it was in the file.
    pub location: Location,
    /// The account, or why it was refused.
    pub outcome: Result<Account, Rejection>,
}

impl Entry {
    /// An entry read as an account.
    pub fn account(location: Location, account: Account) -> Self {
        Self {
            location,
            outcome: Ok(account),
        }
    }

    /// An entry refused for `reason`.
    pub fn rejected(
        location: Location,
        label: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            location,
            outcome: Err(Rejection {
                label: label.into(),
                reason: reason.into(),
            }),
        }
    }
}

/// A whole file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The format it was read as.
    pub format: Format,
    /// Every entry, in file order: none is left out, refused ones included.
    pub entries: Vec<Entry>,
}

impl Parsed {
    /// The accounts read, in file order.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.entries.iter().filter_map(|e| e.outcome.as_ref().ok())
    }
}
