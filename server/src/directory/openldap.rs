//! A placeholder for the `openldap` branch's `OpenLdap` (issue 11), only on the `ops` branch so
//! that the configuration builds against the agreed constructor; the lead replaces it with
//! the real implementation at the merge. Every call answers that it is not built here.

use super::ldap::LdapSettings;
use super::{
    Account, DirFuture, Directory, DirectoryError, DirectoryId, DirectoryKind, PasswordCheck,
    PasswordPolicy,
};

/// The placeholder for the real directory.
pub struct OpenLdap {
    _settings: LdapSettings,
}

impl OpenLdap {
    /// Checks the settings and keeps them; connects to nothing.
    pub fn new(settings: LdapSettings) -> Result<Self, DirectoryError> {
        super::ldap::Connector::new(&settings)?;
        Ok(Self {
            _settings: settings,
        })
    }
}

fn missing<'a, T: Send + 'a>() -> DirFuture<'a, T> {
    Box::pin(async {
        Err(DirectoryError::Unavailable(
            "this build has no OpenLdap (the ops branch's placeholder)".into(),
        ))
    })
}

impl Directory for OpenLdap {
    fn kind(&self) -> DirectoryKind {
        DirectoryKind::Ldap
    }
    fn find<'a>(&'a self, _: &'a str) -> DirFuture<'a, Option<Account>> {
        missing()
    }
    fn by_id<'a>(&'a self, _: &'a DirectoryId) -> DirFuture<'a, Option<Account>> {
        missing()
    }
    fn check_password<'a>(&'a self, _: &'a Account, _: &'a str) -> DirFuture<'a, PasswordCheck> {
        missing()
    }
    fn set_password<'a>(&'a self, _: &'a Account, _: &'a str) -> DirFuture<'a, ()> {
        missing()
    }
    fn change_password<'a>(&'a self, _: &'a Account, _: &'a str, _: &'a str) -> DirFuture<'a, ()> {
        missing()
    }
    fn unlock<'a>(&'a self, _: &'a Account) -> DirFuture<'a, ()> {
        missing()
    }
    fn policy(&self) -> DirFuture<'_, PasswordPolicy> {
        missing()
    }
    fn health(&self) -> DirFuture<'_, ()> {
        missing()
    }
}
