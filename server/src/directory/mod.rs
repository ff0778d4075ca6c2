//! The City directory: where accounts and their passwords live. The server asks it who an
//! employee is, checks a password by binding as them, and writes a new password back.
//!
//! Three implementations: the built-in store (the embedded default: demo, small sites,
//! tests), Active Directory and LDAP (OpenLDAP and compatible), chosen in the configuration.
//! The server's own data (devices, flows, audit) is keyed by the account's stable id
//! ([`DirectoryId`]: `objectGUID`, `entryUUID`), so a rename in the directory keeps the phone.

pub mod ad;
pub mod builtin;
pub mod filter;
pub mod ldap;
pub mod openldap;
pub mod options;

use std::future::Future;
use std::pin::Pin;

/// What a directory call returns: a boxed future, so that the trait stays object-safe
/// (`Arc<dyn Directory>`) without a macro crate.
pub type DirFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DirectoryError>> + Send + 'a>>;

/// An account's stable identifier in its directory: the `objectGUID` (AD) or `entryUUID`
/// (LDAP) as text, or the built-in store's own. Never the username, which can change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirectoryId(pub String);

impl DirectoryId {
    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account as the directory describes it, found by its username or its id. Accounts
/// that are disabled or outside the self-service scope are never returned: they are
/// answered as an unknown username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its stable id.
    pub id: DirectoryId,
    /// Where it is in the directory (its DN; the built-in store's row id as text).
    pub locator: String,
    /// Its current username (the configured attribute's value).
    pub username: String,
    /// The name shown to people (`displayName`, else `cn`, else the username).
    pub display_name: String,
    /// Its email address, if the directory has one.
    pub mail: Option<String>,
    /// A member of a protected (admin) group: never reset or unlocked through self-service.
    pub protected: bool,
    /// Locked out by the directory (too many wrong passwords).
    pub locked: bool,
}

/// What binding as the account with a password found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The password is right.
    Correct,
    /// The password is wrong (or the account cannot sign in with it).
    Wrong,
    /// The directory locked the account out; the password was not checked.
    Locked,
    /// The password is right but expired, or must be changed before use: a reset fixes it.
    MustChange,
}

/// Why the directory refused a new password: the employee is told in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Shorter than the directory's minimum length.
    TooShort {
        /// The directory's minimum, when it says.
        minimum: Option<u32>,
    },
    /// Fails the directory's complexity rule (character classes, the name in it).
    Complexity,
    /// One of the passwords the directory remembers (history).
    History,
    /// The password was changed too recently (minimum age).
    MinimumAge,
    /// Another refusal; the directory's own words, safe to show (they never hold a secret).
    Other(String),
}

impl Refusal {
    /// The sentence the portal shows the employee.
    pub fn sentence(&self) -> String {
        match self {
            Refusal::TooShort { minimum: Some(n) } => {
                format!("The City directory needs a password of at least {n} characters.")
            }
            Refusal::TooShort { minimum: None } => {
                "The City directory refused this password: it is too short.".to_owned()
            }
            Refusal::Complexity => "The City directory refused this password: it needs \
                characters of three kinds (capitals, small letters, digits, symbols) and must \
                not contain your name."
                .to_owned(),
            Refusal::History => "The City directory refused this password: you used it \
                before. Choose one you have not used."
                .to_owned(),
            Refusal::MinimumAge => "The City directory refused this change: your password was \
                changed too recently. Try again later, or call the help desk."
                .to_owned(),
            Refusal::Other(words) => format!("The City directory refused this password: {words}"),
        }
    }
}

/// The directory's password rules, as far as it publishes them (shown by the portal and
/// checked before the write, so that the employee learns what is wrong before the
/// directory refuses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The shortest password, characters (0: no rule).
    pub min_length: u32,
    /// AD's complexity rule: three of four character classes, not the account name.
    pub complexity: bool,
    /// How many earlier passwords are refused (0: none, or not readable).
    pub history: u32,
    /// Seconds before a changed password may change again (0: none).
    pub min_age_seconds: u64,
}

/// A directory failure.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The directory cannot be reached, timed out, or its certificate did not verify. The
    /// text is for the log; the employee is told to try again later.
    #[error("the directory is unavailable: {0}")]
    Unavailable(String),
    /// The service account's bind failed (a wrong password in the configuration).
    #[error("the directory refused the service account: {0}")]
    ServiceAccount(String),
    /// The directory refused a new password.
    #[error("{}", .0.sentence())]
    Refused(Refusal),
    /// The account is protected: self-service may not reset or unlock it.
    #[error("a protected account")]
    Protected,
    /// The account is no longer in the directory (or no longer in scope).
    #[error("no such account")]
    NotFound,
    /// The configuration is unusable (a malformed URL, an unreadable CA file).
    #[error("directory configuration: {0}")]
    Config(String),
    /// Anything else the directory answered (the text is logged, never shown).
    #[error("directory: {0}")]
    Other(String),
}

/// Which kind of directory it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryKind {
    /// The server's own user table.
    BuiltIn,
    /// Active Directory (or Samba's AD domain controller).
    ActiveDirectory,
    /// An LDAP server (OpenLDAP and compatible).
    Ldap,
}

/// Where the City's accounts live. Every method is one request's worth of work and may be
/// called concurrently; implementations bound each call with a timeout.
pub trait Directory: Send + Sync {
    /// Which kind it is.
    fn kind(&self) -> DirectoryKind;

    /// The account whose username (the configured attribute) is `username`, compared as
    /// the directory compares it; `None` if unknown, disabled or out of scope. The name is
    /// escaped into the filter (RFC 4515): it is never filter syntax.
    fn find<'a>(&'a self, username: &'a str) -> DirFuture<'a, Option<Account>>;

    /// The account with this stable id, as it is now (a rename shows here); `None` if it
    /// is gone, disabled or out of scope.
    fn by_id<'a>(&'a self, id: &'a DirectoryId) -> DirFuture<'a, Option<Account>>;

    /// Checks `password` by binding as the account.
    fn check_password<'a>(
        &'a self,
        account: &'a Account,
        password: &'a str,
    ) -> DirFuture<'a, PasswordCheck>;

    /// Sets a new password after a verified reset, as the service account (an
    /// administrator's reset: the history rule applies where the directory applies it to
    /// resets), and lifts a lockout. [`DirectoryError::Protected`] for a protected account;
    /// [`DirectoryError::Refused`] when the directory refuses the password, nothing changed.
    fn set_password<'a>(&'a self, account: &'a Account, new: &'a str) -> DirFuture<'a, ()>;

    /// Changes the password as the account itself, proving the old one (the directory's
    /// history and age rules apply). [`DirectoryError::Refused`] as for `set_password`;
    /// a wrong old password is `Refused(Other)` only if the directory says so in words,
    /// else `Other`.
    fn change_password<'a>(
        &'a self,
        account: &'a Account,
        old: &'a str,
        new: &'a str,
    ) -> DirFuture<'a, ()>;

    /// Lifts the directory's lockout without changing the password (AD: `lockoutTime` = 0;
    /// ppolicy: `pwdAccountLockedTime` removed). [`DirectoryError::Protected`] for a
    /// protected account.
    fn unlock<'a>(&'a self, account: &'a Account) -> DirFuture<'a, ()>;

    /// The directory's password rules (read once and cached by implementations).
    fn policy(&self) -> DirFuture<'_, PasswordPolicy>;

    /// Whether the directory answers now (the service account binds and the base is
    /// readable): for the health check and the startup check.
    fn health(&self) -> DirFuture<'_, ()>;

    /// Whether `account` is a member of the group `group` (a DN), directly or through
    /// nested groups: the help-desk roles. A directory without groups answers false.
    fn in_group<'a>(&'a self, account: &'a Account, group: &'a str) -> DirFuture<'a, bool> {
        let _ = (account, group);
        Box::pin(async { Ok(false) })
    }
}
