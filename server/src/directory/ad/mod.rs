//! Active Directory (and Samba's AD domain controller) as the City directory.
//!
//! Accounts are users under the base DN, found by the configured attribute
//! (`sAMAccountName` or `userPrincipalName`) through an escaped filter. Disabled accounts
//! (`userAccountControl` bit 2) and, when a scope group is set, accounts that are not in
//! it (nested membership, `LDAP_MATCHING_RULE_IN_CHAIN`) are filtered out by the search
//! itself, so they answer exactly as an unknown name. The stable id is `objectGUID`.
//!
//! Passwords are written as AD requires: `unicodePwd`, the quoted password in UTF-16LE,
//! over TLS. A reset is the service account's `replace` with the policy-hints control, so
//! that on Windows the domain's history and age rules apply to it as to a change (Samba
//! ignores the control); a change is the user's own `delete old` + `add new` in one
//! modify, to which every rule applies.

pub(crate) mod errors;
pub(crate) mod guid;

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use ldap3::controls::RawControl;
use ldap3::{Ldap, LdapError, Mod, Scope, SearchEntry};
use zeroize::Zeroizing;

use super::ldap::LdapSettings;
use super::ldap::entry::entry_of;
use super::ldap::pool::{Pool, diagnostic, unavailable};
use super::{
    Account, DirFuture, Directory, DirectoryError, DirectoryId, DirectoryKind, PasswordCheck,
    PasswordPolicy,
};

/// LDAP_SERVER_POLICY_HINTS: an administrator's reset is held to the password history and
/// minimum age, as a user's change is (Windows Server 2012 R2 and later). Sent as not
/// critical: Samba 4.17 does not know it (a critical one fails every reset with
/// unavailableCriticalExtension) and then applies no history to resets.
const POLICY_HINTS_OID: &str = "1.2.840.113556.1.4.2239";
/// Its value: `SEQUENCE { Flags INTEGER 1 }`.
const POLICY_HINTS_ON: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x01];
/// LDAP_MATCHING_RULE_IN_CHAIN: membership through nested groups.
const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";
/// `msDS-User-Account-Control-Computed`'s UF_LOCKOUT bit.
const UF_LOCKOUT: u32 = 0x10;
/// Samba and AD both bind a user with an empty password anonymously ("unauthenticated
/// bind"): never ask them to.
const EMPTY: &str = "";

/// Active Directory as the City directory.
pub struct ActiveDirectory {
    pool: Pool,
    base_dn: String,
    user_attribute: String,
    scope_group: Option<String>,
    protected_groups: Vec<String>,
    timeout: Duration,
    policy: Mutex<Option<PasswordPolicy>>,
}

impl std::fmt::Debug for ActiveDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveDirectory")
            .field("base_dn", &self.base_dn)
            .field("user_attribute", &self.user_attribute)
            .finish_non_exhaustive()
    }
}

impl ActiveDirectory {
    /// Checks the settings and prepares the TLS configuration; connects to nothing (the
    /// connections are made on the runtime that first uses them).
    pub fn new(settings: LdapSettings) -> Result<Self, DirectoryError> {
        Ok(Self {
            pool: Pool::new(&settings)?,
            base_dn: settings.base_dn,
            user_attribute: settings.user_attribute,
            scope_group: settings.scope_group,
            protected_groups: settings.protected_groups,
            timeout: settings.timeout,
            policy: Mutex::new(None),
        })
    }

    /// The attributes read for an account.
    fn attributes(&self) -> Vec<String> {
        [
            "objectGUID",
            "displayName",
            "cn",
            "mail",
            "msDS-User-Account-Control-Computed",
            &self.user_attribute,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Enabled users in scope that also match `condition` (an escaped filter).
    fn account_filter(&self, condition: &str) -> String {
        let scope = match &self.scope_group {
            Some(group) => format!("(memberOf:{IN_CHAIN}:={})", super::filter::escape(group)),
            None => String::new(),
        };
        format!(
            "(&(objectCategory=person)(objectClass=user){condition}\
             (!(userAccountControl:1.2.840.113556.1.4.803:=2)){scope})"
        )
    }

    /// The one account matching `condition`, or `None`.
    async fn lookup(&self, condition: &str) -> Result<Option<Account>, DirectoryError> {
        let filter = self.account_filter(condition);
        let attributes = self.attributes();
        let (base, timeout) = (&self.base_dn, self.timeout);
        let result = self
            .pool
            .run(|mut ldap| {
                let (filter, attributes) = (&filter, &attributes);
                async move {
                    ldap.with_timeout(timeout)
                        .search(base, Scope::Subtree, filter, attributes)
                        .await
                }
            })
            .await?;
        let (entries, outcome) = (result.0, result.1);
        match outcome.rc {
            0 => {}
            // The base is gone: nobody is there.
            32 => return Ok(None),
            _ => return Err(DirectoryError::Other(diagnostic(&outcome))),
        }
        let mut entries = entries.into_iter().map(|e| {
            entry_of(e).ok_or_else(|| {
                DirectoryError::Other("a malformed entry in the directory's answer".into())
            })
        });
        let (Some(entry), None) = (entries.next(), entries.next()) else {
            // None, or a name that more than one account answers to: neither is one account.
            return Ok(None);
        };
        let account = self.account(entry?)?;
        let protected = self.is_protected(&account.locator).await?;
        Ok(Some(Account {
            protected,
            ..account
        }))
    }

    /// An [`Account`] from a search entry (not yet checked for protection).
    fn account(&self, entry: SearchEntry) -> Result<Account, DirectoryError> {
        account_of(entry, &self.user_attribute)
    }

    /// Whether the account at `dn` is in a protected group, directly or through nested groups.
    async fn is_protected(&self, dn: &str) -> Result<bool, DirectoryError> {
        self.in_any(dn, &self.protected_groups).await
    }

    /// Whether the account at `dn` is in one of `groups`, directly or through nested groups
    /// (AD follows the nesting itself: `LDAP_MATCHING_RULE_IN_CHAIN`).
    async fn in_any(&self, dn: &str, groups: &[String]) -> Result<bool, DirectoryError> {
        if groups.is_empty() {
            return Ok(false);
        }
        let any: String = groups
            .iter()
            .map(|g| format!("(memberOf:{IN_CHAIN}:={})", super::filter::escape(g)))
            .collect();
        let filter = format!("(|{any})");
        let timeout = self.timeout;
        let result = self
            .pool
            .run(|mut ldap| {
                let filter = &filter;
                async move {
                    ldap.with_timeout(timeout)
                        .search(dn, Scope::Base, filter, vec!["1.1"])
                        .await
                }
            })
            .await?;
        match result.1.rc {
            0 => Ok(!result.0.is_empty()),
            32 => Err(DirectoryError::NotFound),
            _ => Err(DirectoryError::Other(diagnostic(&result.1))),
        }
    }

    /// Refuses a protected account, looking again (membership may have changed since the
    /// account was found).
    async fn refuse_protected(&self, account: &Account) -> Result<(), DirectoryError> {
        if account.protected || self.is_protected(&account.locator).await? {
            return Err(DirectoryError::Protected);
        }
        Ok(())
    }

    /// Runs one modify of `dn` as the service account, built afresh by `mods` for each
    /// try, with `controls`.
    async fn modify_as_service(
        &self,
        dn: &str,
        mods: impl Fn() -> Vec<Mod<Value>>,
        controls: Vec<RawControl>,
    ) -> Result<(), DirectoryError> {
        let timeout = self.timeout;
        let result = self
            .pool
            .run(|mut ldap| {
                let (mods, controls) = (mods(), controls.clone());
                async move {
                    ldap.with_timeout(timeout)
                        .with_controls(controls)
                        .modify(dn, mods)
                        .await
                }
            })
            .await?;
        self.modify_outcome(result.rc, &result.text).await
    }

    /// A modify's result as this module's answer.
    async fn modify_outcome(&self, rc: u32, text: &str) -> Result<(), DirectoryError> {
        match rc {
            0 => Ok(()),
            19 => {
                let minimum = self.policy_cached().await.map(|p| p.min_length);
                match errors::password_refusal(text, minimum) {
                    Some(refusal) => Err(DirectoryError::Refused(refusal)),
                    None => Err(DirectoryError::Other(format!("result code 19: {text}"))),
                }
            }
            32 => Err(DirectoryError::NotFound),
            50 => Err(DirectoryError::Other(format!(
                "the service account may not do this (check its delegation on the OU): {text}"
            ))),
            53 => Err(DirectoryError::Other(format!(
                "the directory would not write the password (is the connection TLS?): {text}"
            ))),
            _ => Err(DirectoryError::Other(format!("result code {rc}: {text}"))),
        }
    }

    /// The policy, if it can be read; a failure to read it does not hide a refusal.
    async fn policy_cached(&self) -> Option<PasswordPolicy> {
        self.read_policy().await.ok()
    }

    async fn read_policy(&self) -> Result<PasswordPolicy, DirectoryError> {
        if let Some(policy) = self
            .policy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(policy);
        }
        let timeout = self.timeout;
        let attrs = vec![
            "minPwdLength",
            "pwdProperties",
            "pwdHistoryLength",
            "minPwdAge",
        ];
        let domain = self
            .pool
            .run(|mut ldap| {
                let attrs = attrs.clone();
                async move { domain_object(&mut ldap, timeout, attrs).await }
            })
            .await?
            .ok_or_else(|| DirectoryError::Other("the domain object could not be read".into()))?;
        let number = |name| {
            text(&domain, name)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let policy = PasswordPolicy {
            min_length: u32::try_from(number("minPwdLength")).unwrap_or(0),
            // DOMAIN_PASSWORD_COMPLEX is bit 0 of pwdProperties.
            complexity: number("pwdProperties") & 1 != 0,
            history: u32::try_from(number("pwdHistoryLength")).unwrap_or(0),
            // minPwdAge is a negative count of 100 ns intervals.
            min_age_seconds: number("minPwdAge").unsigned_abs() / 10_000_000,
        };
        *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = Some(policy.clone());
        Ok(policy)
    }

    /// A new connection bound as the account with `password`: `Ok(Err(check))` when the
    /// bind is refused.
    async fn bind_as(
        &self,
        account: &Account,
        password: &str,
    ) -> Result<Result<Ldap, PasswordCheck>, DirectoryError> {
        if password == EMPTY {
            return Ok(Err(PasswordCheck::Wrong));
        }
        let mut ldap = self.pool.connector().connect().await?;
        let result = ldap
            .with_timeout(self.timeout)
            .simple_bind(&account.locator, password)
            .await
            .map_err(|e| unavailable(&e))?;
        match result.rc {
            0 => Ok(Ok(ldap)),
            49 => Ok(Err(errors::refused_bind(&result.text))),
            _ => Err(DirectoryError::Other(diagnostic(&result))),
        }
    }
}

/// The domain object (the rootDSE's `defaultNamingContext`) with `attrs`.
async fn domain_object(
    ldap: &mut Ldap,
    timeout: Duration,
    attrs: Vec<&str>,
) -> Result<Option<SearchEntry>, LdapError> {
    let root = ldap
        .with_timeout(timeout)
        .search(
            "",
            Scope::Base,
            "(objectClass=*)",
            vec!["defaultNamingContext"],
        )
        .await?
        .success()?;
    // A malformed entry is read as none (ldap3's `construct` would panic on it).
    let Some(root) = root.0.into_iter().next().and_then(entry_of) else {
        return Ok(None);
    };
    let Some(domain) = text(&root, "defaultNamingContext") else {
        return Ok(None);
    };
    let found = ldap
        .with_timeout(timeout)
        .search(&domain, Scope::Base, "(objectClass=*)", attrs)
        .await?
        .success()?;
    Ok(found.0.into_iter().next().and_then(entry_of))
}

/// An [`Account`] from an AD search entry whose username is `user_attribute` (not yet
/// checked for protection).
pub(crate) fn account_of(
    entry: SearchEntry,
    user_attribute: &str,
) -> Result<Account, DirectoryError> {
    let bytes = binary(&entry, "objectGUID")
        .ok_or_else(|| DirectoryError::Other(format!("{} has no objectGUID", entry.dn)))?;
    let id = guid::to_text(&bytes)
        .ok_or_else(|| DirectoryError::Other(format!("{}: a malformed objectGUID", entry.dn)))?;
    let username = text(&entry, user_attribute)
        .ok_or_else(|| DirectoryError::Other(format!("{} has no {}", entry.dn, user_attribute)))?;
    let display_name = text(&entry, "displayName")
        .or_else(|| text(&entry, "cn"))
        .unwrap_or_else(|| username.clone());
    let computed = text(&entry, "msDS-User-Account-Control-Computed")
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    Ok(Account {
        id: DirectoryId(id),
        locator: entry.dn.clone(),
        username,
        display_name,
        mail: text(&entry, "mail"),
        protected: false,
        locked: computed & UF_LOCKOUT != 0,
    })
}

/// The first value of `name` (compared without case, as LDAP does), as text.
fn text(entry: &SearchEntry, name: &str) -> Option<String> {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first().cloned())
}

/// The first value of `name` as bytes: ldap3 files a value under `attrs` when it happens
/// to be UTF-8 and under `bin_attrs` otherwise, so both are read.
fn binary(entry: &SearchEntry, name: &str) -> Option<Vec<u8>> {
    entry
        .bin_attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first().cloned())
        .or_else(|| text(entry, name).map(String::into_bytes))
}

/// `unicodePwd`'s value: the password in double quotes, UTF-16LE, in a buffer erased on drop.
fn unicode_pwd(password: &str) -> Zeroizing<Vec<u8>> {
    let mut value = Zeroizing::new(Vec::with_capacity(2 * password.len() + 4));
    // Unit by unit, with no intermediate buffer that would outlive this one unerased.
    for unit in "\""
        .encode_utf16()
        .chain(password.encode_utf16())
        .chain("\"".encode_utf16())
    {
        value.extend_from_slice(&unit.to_le_bytes());
    }
    value
}

/// A modify's attribute name or value, erased on drop (ldap3 needs `Hash`, which
/// `Zeroizing` lacks).
#[derive(PartialEq, Eq)]
struct Value(Zeroizing<Vec<u8>>);

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.as_slice().hash(state);
    }
}

impl AsRef<[u8]> for Value {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// An attribute name or plain value.
fn bytes(value: &str) -> Value {
    Value(Zeroizing::new(value.as_bytes().to_vec()))
}

/// One value as a set.
fn one(value: Value) -> HashSet<Value> {
    HashSet::from([value])
}

impl Directory for ActiveDirectory {
    fn kind(&self) -> DirectoryKind {
        DirectoryKind::ActiveDirectory
    }

    fn find<'a>(&'a self, username: &'a str) -> DirFuture<'a, Option<Account>> {
        Box::pin(async move {
            // No name has a control character; Samba would read a NUL as the value's end
            // (`alice\0x` finding alice).
            if username.is_empty() || username.chars().any(char::is_control) {
                return Ok(None);
            }
            self.lookup(&super::filter::equals(&self.user_attribute, username))
                .await
        })
    }

    fn by_id<'a>(&'a self, id: &'a DirectoryId) -> DirFuture<'a, Option<Account>> {
        Box::pin(async move {
            let Some(bytes) = guid::from_text(id.as_str()) else {
                return Ok(None);
            };
            self.lookup(&format!("(objectGUID={})", guid::filter_value(&bytes)))
                .await
        })
    }

    fn check_password<'a>(
        &'a self,
        account: &'a Account,
        password: &'a str,
    ) -> DirFuture<'a, PasswordCheck> {
        Box::pin(async move {
            match self.bind_as(account, password).await? {
                Ok(mut ldap) => {
                    let _ = ldap.unbind().await;
                    Ok(PasswordCheck::Correct)
                }
                Err(check) => Ok(check),
            }
        })
    }

    fn set_password<'a>(&'a self, account: &'a Account, new: &'a str) -> DirFuture<'a, ()> {
        Box::pin(async move {
            self.refuse_protected(account).await?;
            let hints = RawControl {
                ctype: POLICY_HINTS_OID.to_owned(),
                crit: false,
                val: Some(POLICY_HINTS_ON.to_vec()),
            };
            // One modify: the password and the lockout change together or not at all.
            let mods = || {
                vec![
                    Mod::Replace(bytes("unicodePwd"), one(Value(unicode_pwd(new)))),
                    Mod::Replace(bytes("lockoutTime"), one(bytes("0"))),
                ]
            };
            self.modify_as_service(&account.locator, mods, vec![hints])
                .await
        })
    }

    fn change_password<'a>(
        &'a self,
        account: &'a Account,
        old: &'a str,
        new: &'a str,
    ) -> DirFuture<'a, ()> {
        Box::pin(async move {
            let mut ldap = match self.bind_as(account, old).await? {
                Ok(ldap) => ldap,
                Err(PasswordCheck::Locked) => {
                    return Err(DirectoryError::Other("the account is locked out".into()));
                }
                Err(_) => {
                    return Err(DirectoryError::Other(
                        "the current password did not bind".into(),
                    ));
                }
            };
            let mods = vec![
                Mod::Delete(bytes("unicodePwd"), one(Value(unicode_pwd(old)))),
                Mod::Add(bytes("unicodePwd"), one(Value(unicode_pwd(new)))),
            ];
            let result = ldap
                .with_timeout(self.timeout)
                .modify(&account.locator, mods)
                .await
                .map_err(|e| unavailable(&e))?;
            let _ = ldap.unbind().await;
            if result.rc == 19 && errors::wrong_old_password(&result.text) {
                return Err(DirectoryError::Other(
                    "the directory says the current password is wrong".into(),
                ));
            }
            self.modify_outcome(result.rc, &result.text).await
        })
    }

    fn unlock<'a>(&'a self, account: &'a Account) -> DirFuture<'a, ()> {
        Box::pin(async move {
            self.refuse_protected(account).await?;
            let mods = || vec![Mod::Replace(bytes("lockoutTime"), one(bytes("0")))];
            self.modify_as_service(&account.locator, mods, Vec::new())
                .await
        })
    }

    fn policy(&self) -> DirFuture<'_, PasswordPolicy> {
        Box::pin(self.read_policy())
    }

    fn in_group<'a>(&'a self, account: &'a Account, group: &'a str) -> DirFuture<'a, bool> {
        Box::pin(async move { self.in_any(&account.locator, &[group.to_owned()]).await })
    }

    fn health(&self) -> DirFuture<'_, ()> {
        Box::pin(async move {
            // Its own connection, closed after: nothing stays bound to the caller's runtime.
            let mut ldap = self.pool.open_service().await?;
            let found = ldap
                .with_timeout(self.timeout)
                .search(&self.base_dn, Scope::Base, "(objectClass=*)", vec!["1.1"])
                .await
                .map_err(|e| unavailable(&e))?;
            let _ = ldap.unbind().await;
            match found.1.rc {
                0 => Ok(()),
                32 => Err(DirectoryError::Config(format!(
                    "the base DN {} does not exist in the directory",
                    self.base_dn
                ))),
                _ => Err(DirectoryError::Other(diagnostic(&found.1))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_pwd_is_the_quoted_password_in_utf16le() {
        assert_eq!(
            unicode_pwd("Ab1é").as_slice(),
            &[0x22, 0, 0x41, 0, 0x62, 0, 0x31, 0, 0xe9, 0, 0x22, 0]
        );
        // A character outside the BMP is a surrogate pair.
        assert_eq!(
            unicode_pwd("😀").as_slice(),
            &[0x22, 0, 0x3d, 0xd8, 0x00, 0xde, 0x22, 0]
        );
    }
}
