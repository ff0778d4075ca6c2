//! Where an employee's email goes, and in which language: the address the built-in store
//! keeps for an account (a directory account's own comes from its `mail` attribute), and the
//! language the employee's browser last spoke to the portal.

use super::StoreResult;

/// How to write to an employee.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// The address kept here (set by the administrator for built-in accounts).
    pub mail: Option<String>,
    /// The language code (`en`, `es`) the employee last used on the portal.
    pub lang: Option<String>,
}

/// The contact details kept beside each user row.
pub trait Contacts {
    /// The user's contact details; empty ones for a user with none (or no such user).
    fn contact(&self, user_id: i64) -> StoreResult<Contact>;
    /// Sets (or with `None` clears) the address kept for the user.
    fn set_mail(&self, user_id: i64, mail: Option<&str>) -> StoreResult<()>;
    /// Remembers the language the user last used.
    fn set_lang(&self, user_id: i64, lang: &str) -> StoreResult<()>;
}
