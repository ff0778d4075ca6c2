//! The vault's errors. Messages name accounts by their labels, never by their secrets.

use std::fmt;

use crate::account::AccountError;

use super::slots::KeyWrapError;
use super::strength::WeakPassphrase;

/// An account's row id, stable for the account's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub i64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Everything that can go wrong with a vault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// No file at the path.
    #[error("no vault at that path")]
    NotFound,
    /// `create` found a file already there (it is left untouched).
    #[error("a file already exists at that path; it was left untouched")]
    AlreadyExists,
    /// The file is not a cityauth vault (left untouched).
    #[error("the file is not a cityauth vault; it was left untouched")]
    NotAVault,
    /// A vault written by a newer cityauth (left untouched).
    #[error(
        "the vault has schema version {found}, newer than this build's {supported}: update cityauth; the file was left untouched"
    )]
    TooNew {
        /// The file's schema version.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// No passphrase slot opens with that passphrase. Nothing was changed.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The passphrase is not acceptable for a new slot.
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    /// A new passphrase is below the minimum strength (the message states the rule).
    #[error("{0}")]
    WeakPassphrase(#[from] WeakPassphrase),
    /// The vault is locked: unlock it first.
    #[error("the vault is locked")]
    Locked,
    /// No slot belongs to that key-wrapping key.
    #[error("no slot of this vault belongs to that platform key")]
    NoMatchingSlot,
    /// The host's key store failed.
    #[error(transparent)]
    KeyWrap(#[from] KeyWrapError),
    /// Removing that slot would leave no way to unlock the vault.
    #[error("that is the vault's last slot; add another before removing it")]
    LastSlot,
    /// The passphrase slots would be too many or cost too much to try: refused before any
    /// KDF ran (a stored set like that was not made by cityauth).
    #[error(
        "a vault holds at most 8 passphrase slots, whose Argon2id work together is at most 4 GiB times passes; nothing was tried or changed"
    )]
    SlotLimit,
    /// No slot with that id.
    #[error("no slot {0}")]
    UnknownSlot(i64),
    /// Rotating the data key re-seals every slot kept: this one needs its passphrase or its
    /// platform key, and none given opens it. Nothing was changed.
    #[error("slot {0} cannot be re-sealed without its passphrase or platform key")]
    CredentialNeeded(i64),
    /// Something in the file does not authenticate: tampering or corruption.
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    /// No account with that id.
    #[error("no account {0}")]
    UnknownAccount(AccountId),
    /// The operation needs an HOTP account.
    #[error("account {0} is not an HOTP account")]
    NotHotp(AccountId),
    /// The operation needs a time-based (TOTP or Steam) account.
    #[error("account {0} is an HOTP account: ask for its next code instead")]
    NotTimeBased(AccountId),
    /// The HOTP counter is at its maximum.
    #[error("account {0}'s HOTP counter is exhausted")]
    CounterExhausted(AccountId),
    /// An account field is out of bounds.
    #[error("{0}")]
    InvalidAccount(#[from] AccountError),
    /// An enrollment field is out of bounds (too long, empty, or with control characters):
    /// nothing was stored. Names the field, never its value.
    #[error("the enrollment's {0} is out of bounds; nothing was stored")]
    InvalidEnrollment(&'static str),
    /// Another process held the vault for longer than the busy timeout.
    #[error("the vault is busy in another process; try again")]
    Busy,
    /// SQLite failed (disk full, I/O error, …). The message is SQLite's.
    #[error("storage error: {0}")]
    Storage(String),
    /// The file system failed.
    #[error("file error: {0}")]
    Io(String),
    /// The system random source failed.
    #[error("the system random number generator failed")]
    Random,
}

/// What failed to authenticate. Accounts are named by their labels where the index knows them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    /// The header (slots and vault id) does not match its MAC, or a slot is unreadable.
    #[error("the vault header fails its integrity check (tampered or corrupted)")]
    Header,
    /// The index of accounts does not decrypt.
    #[error("the vault's account index fails its integrity check (tampered or corrupted)")]
    Index,
    /// This device's enrollment record does not decrypt or parse.
    #[error("the device enrollment fails its integrity check (tampered or corrupted)")]
    Enrollment,
    /// The file's tables, columns or indexes are not the ones this version makes, or it
    /// holds a trigger or a view: a crafted or altered file, left untouched.
    #[error(
        "the vault file's schema is not cityauth's (an altered table, a trigger or a view); it was left untouched"
    )]
    Schema,
    /// A write changed no row or more than one: something in the file swallowed or widened
    /// it. Nothing that depended on it was handed out.
    #[error("a write to the vault file did not take effect as written; nothing was changed")]
    LostWrite,
    /// One account is damaged.
    #[error("account {0}")]
    Account(DamagedAccount),
}

/// An account that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedAccount {
    /// The row id.
    pub id: AccountId,
    /// "Issuer (name)" from the index, when the index names it.
    pub label: Option<String>,
    /// What is wrong.
    pub damage: Damage,
}

/// How an account is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// Its record does not decrypt or parse: altered or corrupted.
    Tampered,
    /// Its record is an older or another write than the index records: rolled back or swapped.
    Replaced,
    /// The index lists it but its row is gone.
    Missing,
    /// A row that the index does not list: added behind the vault's back.
    Unlisted,
}

impl fmt::Display for DamagedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.damage {
            Damage::Tampered => "fails its integrity check (tampered or corrupted)",
            Damage::Replaced => "was replaced by another or an older record (rolled back)",
            Damage::Missing => "is missing from the vault file",
            Damage::Unlisted => "is not listed in the vault's index (added behind its back)",
        };
        match &self.label {
            Some(label) => write!(f, "{} \"{}\" {}", self.id, label, what),
            None => write!(f, "{} {}", self.id, what),
        }
    }
}
