//! The built-in store as a [`Directory`]: the server's own users table with Argon2id
//! hashes (the embedded default: `cityauth demo`, small sites, tests). Its stable ids are
//! `builtin:<row id>`, so that the server finds its local row the same way for every
//! directory.

use crate::auditlog::AuditTrail;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::{
    Account, DirFuture, Directory, DirectoryError, DirectoryId, DirectoryKind, PasswordCheck,
    PasswordPolicy, Refusal,
};
use crate::password;
use crate::store::{AuditEvent, Factor, Store, User};
use crate::util::now;

/// The prefix of the built-in store's stable ids.
const PREFIX: &str = "builtin:";

/// The server's own users table, as a directory.
pub struct BuiltIn {
    store: Arc<dyn Store>,
    audit: Arc<AuditTrail>,
}

impl BuiltIn {
    /// The built-in directory over `store`, recording its events in `audit`.
    pub fn new(store: Arc<dyn Store>, audit: Arc<AuditTrail>) -> Self {
        Self { store, audit }
    }

    /// The stable id of the user row `id`.
    pub fn id_of(id: i64) -> DirectoryId {
        DirectoryId(format!("{PREFIX}{id}"))
    }

    fn row(&self, id: &DirectoryId) -> Result<Option<User>, DirectoryError> {
        let Some(row) = id
            .as_str()
            .strip_prefix(PREFIX)
            .and_then(|n| n.parse::<i64>().ok())
        else {
            return Ok(None);
        };
        self.store.user_by_id(row).map_err(store_error)
    }

    /// The row of `account` (its locator is the row id).
    fn row_of(&self, account: &Account) -> Result<User, DirectoryError> {
        self.row(&account.id)?.ok_or(DirectoryError::NotFound)
    }
}

fn store_error(error: crate::store::StoreError) -> DirectoryError {
    DirectoryError::Unavailable(error.to_string())
}

fn account(user: User) -> Option<Account> {
    // A row made for a directory account (no hash) is not a built-in account.
    if user.password_hash.is_empty() {
        return None;
    }
    Some(Account {
        id: BuiltIn::id_of(user.id),
        locator: user.id.to_string(),
        username: user.username,
        display_name: user.display_name,
        mail: None,
        protected: false,
        locked: false,
    })
}

/// Runs Argon2 off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DirectoryError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| DirectoryError::Other(e.to_string()))
}

fn hash(new: &str) -> Result<String, DirectoryError> {
    password::hash(new).map_err(|e| DirectoryError::Other(e.to_string()))
}

impl Directory for BuiltIn {
    fn kind(&self) -> DirectoryKind {
        DirectoryKind::BuiltIn
    }

    fn find<'a>(&'a self, username: &'a str) -> DirFuture<'a, Option<Account>> {
        Box::pin(async move {
            let user = self.store.user_by_name(username).map_err(store_error)?;
            Ok(user.and_then(account))
        })
    }

    fn by_id<'a>(&'a self, id: &'a DirectoryId) -> DirFuture<'a, Option<Account>> {
        Box::pin(async move { Ok(self.row(id)?.and_then(account)) })
    }

    fn check_password<'a>(
        &'a self,
        account: &'a Account,
        typed: &'a str,
    ) -> DirFuture<'a, PasswordCheck> {
        Box::pin(async move {
            let user = self.row_of(account)?;
            let stored = user.password_hash.clone();
            let typed = Zeroizing::new(typed.to_owned());
            let (check, rehashed) = blocking(move || {
                let check = password::check(&typed, &stored);
                // A hash in an older form is replaced while the password is at hand.
                let rehashed = (check == password::Check::MatchesRehash)
                    .then(|| password::hash(&typed).ok())
                    .flatten();
                (check, rehashed.map(|new| (stored, new)))
            })
            .await?;
            if let Some((old, new)) = rehashed
                && self
                    .store
                    .user_rehash_password(user.id, &old, &new)
                    .map_err(store_error)?
            {
                let event = AuditEvent {
                    time: now(),
                    username: Some(user.username.clone()),
                    event: "password_rehashed".into(),
                    detail: "stored in the current form".into(),
                    client_ip: None,
                };
                self.audit.record(&event);
            }
            Ok(match check {
                password::Check::Wrong => PasswordCheck::Wrong,
                _ => PasswordCheck::Correct,
            })
        })
    }

    fn set_password<'a>(&'a self, account: &'a Account, new: &'a str) -> DirFuture<'a, ()> {
        Box::pin(async move {
            let user = self.row_of(account)?;
            let (stored, new) = (user.password_hash.clone(), Zeroizing::new(new.to_owned()));
            // The built-in store remembers one password: the current one is refused as a
            // new one, as a directory's history rule would.
            let hashed = blocking(move || {
                if password::verify(&new, &stored) {
                    return Err(DirectoryError::Refused(Refusal::History));
                }
                hash(&new)
            })
            .await??;
            self.store
                .user_set_password(user.id, &hashed)
                .map_err(store_error)?;
            // A reset lifts the server's own lockout of the account, as a directory's does.
            self.store
                .failures_clear(
                    &crate::limits::fields::username_key(&user.username),
                    Factor::Password,
                )
                .map_err(store_error)
        })
    }

    fn change_password<'a>(
        &'a self,
        account: &'a Account,
        old: &'a str,
        new: &'a str,
    ) -> DirFuture<'a, ()> {
        Box::pin(async move {
            let user = self.row_of(account)?;
            let stored = user.password_hash.clone();
            let (old, new) = (
                Zeroizing::new(old.to_owned()),
                Zeroizing::new(new.to_owned()),
            );
            let hashed = blocking(move || {
                if !password::verify(&old, &stored) {
                    return Err(DirectoryError::Other(
                        "the current password is wrong".into(),
                    ));
                }
                if password::verify(&new, &stored) {
                    return Err(DirectoryError::Refused(Refusal::History));
                }
                hash(&new)
            })
            .await??;
            // Only if the hash is still the one the old password was checked against.
            if !self
                .store
                .user_rehash_password(user.id, &user.password_hash, &hashed)
                .map_err(store_error)?
            {
                return Err(DirectoryError::Other(
                    "the password changed meanwhile".into(),
                ));
            }
            Ok(())
        })
    }

    fn unlock<'a>(&'a self, account: &'a Account) -> DirFuture<'a, ()> {
        Box::pin(async move {
            let user = self.row_of(account)?;
            self.store
                .failures_clear(
                    &crate::limits::fields::username_key(&user.username),
                    Factor::Password,
                )
                .map_err(store_error)
        })
    }

    fn policy(&self) -> DirFuture<'_, PasswordPolicy> {
        // The server's own rules (`crate::password::check_policy`) are the whole policy.
        Box::pin(async { Ok(PasswordPolicy::default()) })
    }

    fn health(&self) -> DirFuture<'_, ()> {
        Box::pin(async move {
            // Any read proves the database answers; the setting need not exist.
            self.store.setting("health").map_err(store_error)?;
            Ok(())
        })
    }
}
