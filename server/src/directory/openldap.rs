//! LDAP directories (OpenLDAP and compatible) with the ppolicy overlay: accounts found by
//! the user attribute (`uid`) under the base DN, identified by `entryUUID`, passwords
//! checked by binding as the user and written with the Password Modify extended operation
//! (RFC 3062), so that ppolicy's history, length and age rules apply and its error codes
//! say why a password was refused.
//!
//! - **Disabled**: `pwdAccountLockedTime` = `000001010000Z` (ppolicy's "locked until an
//!   administrator lifts it"): answered as an unknown user, never unlocked by self-service.
//!   Any other `pwdAccountLockedTime` is a lockout (`Account::locked`), lifted by a reset or
//!   an unlock.
//! - **Scope and protected groups**: group entries whose `member` or `uniqueMember` holds
//!   the account's DN, followed upwards through nested groups (up to [`NESTING`] levels),
//!   searched from the directory's naming context. No overlay is needed (not `memberof`):
//!   the group entries are the truth.
//! - **Connections**: service-bound connections pooled per tokio runtime; a pooled
//!   connection found dead is replaced once; a bind as a user always has its own connection.

pub(crate) mod entry;
mod groups;
pub(crate) mod policy;
pub(crate) mod ppolicy;

use std::collections::HashSet;

use ldap3::exop::PasswordModify;
use ldap3::{Ldap, LdapError, Mod, Scope, SearchEntry, SearchOptions};
use tokio::sync::OnceCell;

use self::entry::{ACCOUNT_ATTRIBUTES, Lock};
use self::ppolicy::PolicyError;
use super::ldap::LdapSettings;
use super::ldap::entry::entry_of;
use super::ldap::pool::{Pool, Pooled};
use super::{
    Account, DirFuture, Directory, DirectoryError, DirectoryId, DirectoryKind, PasswordCheck,
    PasswordPolicy, Refusal,
};

/// How many levels of nested groups are followed for scope and protection.
pub const NESTING: usize = 8;

/// An OpenLDAP (or compatible) directory with ppolicy.
pub struct OpenLdap {
    pool: Pool,
    base_dn: String,
    user_attribute: String,
    scope_group: Option<String>,
    protected_groups: Vec<String>,
    rules: OnceCell<Rules>,
    naming_context: OnceCell<String>,
}

impl std::fmt::Debug for OpenLdap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenLdap")
            .field("base_dn", &self.base_dn)
            .field("user_attribute", &self.user_attribute)
            .finish_non_exhaustive()
    }
}

/// The default ppolicy entry, as read.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    policy: PasswordPolicy,
    /// `pwdLockoutDuration`, seconds (0: a lockout lasts until lifted).
    lockout_duration: u64,
}

/// How an operation on a service connection failed.
enum Failure {
    /// The connection is gone (closed, reset): a pooled one is replaced once.
    Lost(String),
    /// The connection may be stuck (a timeout): dropped, not retried.
    Stuck(String),
    /// The directory answered: the connection is fine.
    Answer(DirectoryError),
}

impl From<LdapError> for Failure {
    fn from(error: LdapError) -> Self {
        match error {
            LdapError::Timeout { .. } => Failure::Stuck(error.to_string()),
            LdapError::FilterParsing => Failure::Answer(DirectoryError::Other(error.to_string())),
            other => Failure::Lost(other.to_string()),
        }
    }
}

/// An ldap3 error as the directory being unavailable (the shared mapping, by value for
/// `map_err`).
fn unavailable(error: LdapError) -> DirectoryError {
    super::ldap::pool::unavailable(&error)
}

/// Runs `$body` (an expression using `$ldap: &mut Ldap`, giving a future of
/// `Result<T, Failure>`) on a pooled service connection, replacing a dead pooled
/// connection once.
macro_rules! as_service {
    ($self:ident, |$ldap:ident| $body:expr) => {{
        let mut pooled: Pooled = $self.pool.get().await?;
        let mut outcome = {
            let $ldap: &mut Ldap = &mut pooled.ldap;
            $body.await
        };
        if pooled.reused && matches!(outcome, Err(Failure::Lost(_))) {
            pooled = $self.pool.fresh().await?;
            outcome = {
                let $ldap: &mut Ldap = &mut pooled.ldap;
                $body.await
            };
        }
        match outcome {
            Ok(value) => {
                $self.pool.put(pooled);
                Ok(value)
            }
            Err(Failure::Answer(error)) => {
                $self.pool.put(pooled);
                Err(error)
            }
            Err(Failure::Lost(text) | Failure::Stuck(text)) => {
                Err(DirectoryError::Unavailable(text))
            }
        }
    }};
}

impl OpenLdap {
    /// Checks the settings and builds the TLS configuration; opens nothing (connections are
    /// made by the runtime that uses them).
    pub fn new(settings: LdapSettings) -> Result<Self, DirectoryError> {
        Ok(Self {
            pool: Pool::new(&settings)?,
            base_dn: settings.base_dn,
            user_attribute: settings.user_attribute,
            scope_group: settings.scope_group.as_deref().map(entry::normalize_dn),
            protected_groups: settings
                .protected_groups
                .iter()
                .map(|dn| entry::normalize_dn(dn))
                .collect(),
            rules: OnceCell::new(),
            naming_context: OnceCell::new(),
        })
    }

    /// How many service connections are idle in the pool now (for tests of the pooling).
    pub fn idle_connections(&self) -> usize {
        self.pool.idle()
    }

    /// Searches on a service connection.
    async fn search(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attributes: &[&str],
        limit: i32,
    ) -> Result<Vec<SearchEntry>, DirectoryError> {
        let timeout = self.pool.timeout();
        as_service!(self, |ldap| search_on(
            ldap, timeout, base, scope, filter, attributes, limit
        ))
    }

    /// The one account under the base whose `filter` matches (`None` if none, several,
    /// disabled or out of scope); `username` picks its name among several values.
    async fn account_where(
        &self,
        filter: &str,
        username: Option<&str>,
    ) -> Result<Option<(Account, Lock)>, DirectoryError> {
        let mut attributes: Vec<&str> = ACCOUNT_ATTRIBUTES.to_vec();
        attributes.push(&self.user_attribute);
        let mut found = self
            .search(&self.base_dn, Scope::Subtree, filter, &attributes, 2)
            .await?;
        if found.len() != 1 {
            return Ok(None);
        }
        let entry = found.remove(0);
        let duration = match self.rules().await {
            Ok(rules) => rules.lockout_duration,
            Err(_) => 0,
        };
        let lock = entry::lock_of(&entry, duration, entry::now());
        if lock == Lock::Disabled {
            return Ok(None);
        }
        let groups = self.groups_of(&entry.dn).await?;
        if let Some(scope) = &self.scope_group
            && !groups.contains(scope)
        {
            return Ok(None);
        }
        let protected = self.protected_groups.iter().any(|g| groups.contains(g));
        Ok(
            entry::account_of(&entry, &self.user_attribute, username, lock, protected)
                .map(|account| (account, lock)),
        )
    }

    /// The account as it is now, for a write: `NotFound` if gone, disabled or out of scope;
    /// `Protected` if protected.
    async fn current(&self, account: &Account) -> Result<Account, DirectoryError> {
        let current = self
            .by_id_now(&account.id)
            .await?
            .ok_or(DirectoryError::NotFound)?;
        if current.protected {
            return Err(DirectoryError::Protected);
        }
        Ok(current)
    }

    async fn by_id_now(&self, id: &DirectoryId) -> Result<Option<Account>, DirectoryError> {
        if !entry::is_uuid(id.as_str()) {
            return Ok(None);
        }
        let filter = super::filter::equals("entryUUID", id.as_str());
        Ok(self.account_where(&filter, None).await?.map(|(a, _)| a))
    }

    /// Removes `pwdAccountLockedTime` from `dn` (ppolicy then drops `pwdFailureTime`); an
    /// entry without one is fine.
    async fn lift_lock(&self, dn: &str) -> Result<(), DirectoryError> {
        let timeout = self.pool.timeout();
        as_service!(self, |ldap| async {
            let result = ldap
                .with_timeout(timeout)
                .modify(
                    dn,
                    vec![Mod::Delete("pwdAccountLockedTime", HashSet::new())],
                )
                .await?;
            match result.rc {
                0 | 16 => Ok(()),
                32 => Err(Failure::Answer(DirectoryError::NotFound)),
                50 => Err(Failure::Answer(DirectoryError::Other(
                    "the service account may not write pwdAccountLockedTime here".into(),
                ))),
                rc => Err(Failure::Answer(other(rc, &result.text))),
            }
        })
    }

    /// What a Password Modify answer means.
    async fn password_written(&self, result: &ldap3::LdapResult) -> Result<(), DirectoryError> {
        match result.rc {
            0 => Ok(()),
            19 => {
                let refusal = match ppolicy::error_in(&result.ctrls) {
                    Some(error) => error.refusal(self.min_length().await),
                    None => None,
                };
                Err(DirectoryError::Refused(refusal.unwrap_or_else(|| {
                    Refusal::Other(format!("{}.", result.text.trim_end_matches('.')))
                })))
            }
            32 => Err(DirectoryError::NotFound),
            50 => Err(DirectoryError::Other(
                "the directory refused the password write: insufficient access rights".into(),
            )),
            rc => Err(other(rc, &result.text)),
        }
    }

    /// Opens a connection of its own and binds as `dn` with the ppolicy control.
    async fn bind_as(
        &self,
        dn: &str,
        password: &str,
    ) -> Result<(Ldap, ldap3::LdapResult), DirectoryError> {
        let connector = self.pool.connector();
        let mut ldap = connector.connect().await?;
        let result = ldap
            .with_controls(ppolicy::request())
            .with_timeout(connector.timeout())
            .simple_bind(dn, password)
            .await
            .map_err(unavailable)?;
        Ok((ldap, result))
    }
}

/// Any other result code, for the log.
fn other(rc: u32, text: &str) -> DirectoryError {
    match rc {
        51 | 52 => DirectoryError::Unavailable(format!("result code {rc} {text}")),
        _ => DirectoryError::Other(format!("result code {rc} {text}")),
    }
}

/// One search; `limit` entries at most (0: no limit). Too many is answered as what was
/// found (the caller counts).
async fn search_on(
    ldap: &mut Ldap,
    timeout: std::time::Duration,
    base: &str,
    scope: Scope,
    filter: &str,
    attributes: &[&str],
    limit: i32,
) -> Result<Vec<SearchEntry>, Failure> {
    let result = ldap
        .with_search_options(SearchOptions::new().sizelimit(limit))
        .with_timeout(timeout)
        .search(base, scope, filter, attributes.to_vec())
        .await?;
    match result.1.rc {
        0 | 4 => result
            .0
            .into_iter()
            .map(entry_of)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Failure::Answer(DirectoryError::Other(
                    "a malformed entry in the directory's answer".into(),
                ))
            }),
        32 => Ok(Vec::new()),
        rc => Err(Failure::Answer(other(rc, &result.1.text))),
    }
}

impl Directory for OpenLdap {
    fn kind(&self) -> DirectoryKind {
        DirectoryKind::Ldap
    }

    fn find<'a>(&'a self, username: &'a str) -> DirFuture<'a, Option<Account>> {
        Box::pin(async move {
            if username.is_empty() || username.len() > 256 {
                return Ok(None);
            }
            let filter = super::filter::equals(&self.user_attribute, username);
            Ok(self
                .account_where(&filter, Some(username))
                .await?
                .map(|(a, _)| a))
        })
    }

    fn by_id<'a>(&'a self, id: &'a DirectoryId) -> DirFuture<'a, Option<Account>> {
        Box::pin(self.by_id_now(id))
    }

    fn check_password<'a>(
        &'a self,
        account: &'a Account,
        password: &'a str,
    ) -> DirFuture<'a, PasswordCheck> {
        Box::pin(async move {
            // An empty password would be an unauthenticated bind, which succeeds.
            if password.is_empty() {
                return Ok(PasswordCheck::Wrong);
            }
            let (mut ldap, result) = self.bind_as(&account.locator, password).await?;
            let _ = ldap.unbind().await;
            let error = ppolicy::error_in(&result.ctrls);
            match (result.rc, error) {
                (0, Some(PolicyError::ChangeAfterReset)) => Ok(PasswordCheck::MustChange),
                (0, _) => Ok(PasswordCheck::Correct),
                (49, Some(PolicyError::AccountLocked)) => Ok(PasswordCheck::Locked),
                (49, Some(PolicyError::PasswordExpired)) => Ok(PasswordCheck::MustChange),
                (49, _) => {
                    // Without ppolicy_use_lockout the server does not say "locked": the
                    // entry does.
                    let locked = self.by_id_now(&account.id).await?.is_some_and(|a| a.locked);
                    Ok(if locked {
                        PasswordCheck::Locked
                    } else {
                        PasswordCheck::Wrong
                    })
                }
                (48 | 53, _) => Ok(PasswordCheck::Wrong),
                (rc, _) => Err(other(rc, &result.text)),
            }
        })
    }

    fn set_password<'a>(&'a self, account: &'a Account, new: &'a str) -> DirFuture<'a, ()> {
        Box::pin(async move {
            let current = self.current(account).await?;
            // An empty new password asks the server to generate one.
            if new.is_empty() {
                return Err(DirectoryError::Refused(Refusal::TooShort {
                    minimum: self.min_length().await,
                }));
            }
            let timeout = self.pool.timeout();
            let dn = current.locator.as_str();
            let result = as_service!(self, |ldap| async {
                let modify = PasswordModify {
                    user_id: Some(dn),
                    old_pass: None,
                    new_pass: Some(new),
                };
                Ok::<_, Failure>(
                    ldap.with_controls(ppolicy::request())
                        .with_timeout(timeout)
                        .extended(modify)
                        .await?
                        .1,
                )
            })?;
            self.password_written(&result).await?;
            self.lift_lock(dn).await
        })
    }

    fn change_password<'a>(
        &'a self,
        account: &'a Account,
        old: &'a str,
        new: &'a str,
    ) -> DirFuture<'a, ()> {
        Box::pin(async move {
            if old.is_empty() {
                return Err(DirectoryError::Other("no current password given".into()));
            }
            if new.is_empty() {
                return Err(DirectoryError::Refused(Refusal::TooShort {
                    minimum: self.min_length().await,
                }));
            }
            let (mut ldap, bound) = self.bind_as(&account.locator, old).await?;
            if bound.rc != 0 {
                let _ = ldap.unbind().await;
                return Err(match (bound.rc, ppolicy::error_in(&bound.ctrls)) {
                    (49, Some(PolicyError::AccountLocked)) => {
                        DirectoryError::Other("the account is locked".into())
                    }
                    (49, _) => {
                        DirectoryError::Other("the current password was not accepted".into())
                    }
                    (rc, _) => other(rc, &bound.text),
                });
            }
            let modify = PasswordModify {
                user_id: None,
                old_pass: Some(old),
                new_pass: Some(new),
            };
            let written = ldap
                .with_controls(ppolicy::request())
                .with_timeout(self.pool.timeout())
                .extended(modify)
                .await
                .map_err(unavailable);
            let _ = ldap.unbind().await;
            self.password_written(&written?.1).await
        })
    }

    fn unlock<'a>(&'a self, account: &'a Account) -> DirFuture<'a, ()> {
        Box::pin(async move {
            let current = self.current(account).await?;
            self.lift_lock(&current.locator).await
        })
    }

    fn policy(&self) -> DirFuture<'_, PasswordPolicy> {
        Box::pin(async move { Ok(self.rules().await?.policy.clone()) })
    }

    fn in_group<'a>(&'a self, account: &'a Account, group: &'a str) -> DirFuture<'a, bool> {
        Box::pin(self.member_of(&account.locator, group))
    }

    fn health(&self) -> DirFuture<'_, ()> {
        Box::pin(async move {
            let timeout = self.pool.timeout();
            let base = self.base_dn.as_str();
            let found = as_service!(self, |ldap| search_on(
                ldap,
                timeout,
                base,
                Scope::Base,
                "(objectClass=*)",
                &["1.1"],
                1
            ))?;
            if found.is_empty() {
                return Err(DirectoryError::Config(format!(
                    "the base DN {base} is not in the directory (or the service account \
                     may not read it)"
                )));
            }
            Ok(())
        })
    }
}
