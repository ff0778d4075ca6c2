//! A directory the test drives: accounts that exist only here (none in the server's users
//! table), and the states a test must put an account or the directory in to check the
//! server's side of the contract (protected, locked out, must change, disabled, renamed,
//! unreachable, a write held open, a published policy). Active Directory and OpenLDAP
//! themselves are exercised for real by `tests/tests/directory_*.rs` (Samba, slapd); this
//! crate's tests check what the server does with each answer the trait can give.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use cityauth_server::directory::{
    Account, DirFuture, Directory, DirectoryError, DirectoryId, DirectoryKind, PasswordCheck,
    PasswordPolicy, Refusal,
};

/// One account.
#[derive(Clone)]
struct Entry {
    id: String,
    username: String,
    display_name: String,
    password: String,
    history: Vec<String>,
    protected: bool,
    locked: bool,
    must_change: bool,
    disabled: bool,
}

#[derive(Default)]
struct Accounts {
    by_id: HashMap<String, Entry>,
    down: bool,
    writes_down: bool,
    policy: PasswordPolicy,
}

/// A step the test holds open until it releases it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Finding an account by its stable id.
    ById,
    /// Writing a password (a set or a change).
    Write,
}

#[derive(Default)]
struct Hold {
    holding: Option<Step>,
    entered: usize,
    released: bool,
}

/// The test's directory.
#[derive(Default)]
pub struct TestDirectory {
    accounts: Mutex<Accounts>,
    writes: AtomicUsize,
    finds: AtomicUsize,
    binds: AtomicUsize,
    hold: Arc<(Mutex<Hold>, Condvar)>,
    next: AtomicUsize,
    /// Like ldap3's: a connection's driver task, spawned on the runtime that first uses it
    /// and kept (pooled) for every later call, from any runtime.
    driver: Mutex<Option<Driver>>,
    pooled: std::sync::atomic::AtomicBool,
}

type Driver = tokio::sync::mpsc::UnboundedSender<tokio::sync::oneshot::Sender<()>>;

impl TestDirectory {
    /// A new, empty directory.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Adds an account; its stable id.
    pub fn add(&self, username: &str, password: &str) -> String {
        let id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.next.fetch_add(1, Ordering::SeqCst)
        );
        let entry = Entry {
            id: id.clone(),
            username: username.into(),
            display_name: format!("{username} Example"),
            password: password.into(),
            history: Vec::new(),
            protected: false,
            locked: false,
            must_change: false,
            disabled: false,
        };
        self.accounts
            .lock()
            .unwrap()
            .by_id
            .insert(id.clone(), entry);
        id
    }

    fn edit(&self, username: &str, change: impl FnOnce(&mut Entry)) {
        let mut accounts = self.accounts.lock().unwrap();
        let entry = accounts
            .by_id
            .values_mut()
            .find(|e| e.username == username)
            .unwrap_or_else(|| panic!("no account {username}"));
        change(entry);
    }

    /// Renames the account (its id stays).
    pub fn rename(&self, from: &str, to: &str) {
        self.edit(from, |e| e.username = to.into());
    }

    /// Makes the account a member of a protected group.
    pub fn protect(&self, username: &str) {
        self.edit(username, |e| e.protected = true);
    }

    /// Locks the account out, or lifts it.
    pub fn set_locked(&self, username: &str, locked: bool) {
        self.edit(username, |e| e.locked = locked);
    }

    /// Whether the account is locked out.
    pub fn locked(&self, username: &str) -> bool {
        let mut locked = false;
        self.edit(username, |e| locked = e.locked);
        locked
    }

    /// Marks the password as expired (it must be changed).
    pub fn expire(&self, username: &str) {
        self.edit(username, |e| e.must_change = true);
    }

    /// Disables the account.
    pub fn disable(&self, username: &str) {
        self.edit(username, |e| e.disabled = true);
    }

    /// The account's password now.
    pub fn password(&self, username: &str) -> String {
        let mut password = String::new();
        self.edit(username, |e| password = e.password.clone());
        password
    }

    /// Makes the directory unreachable, or reachable again.
    pub fn set_down(&self, down: bool) {
        self.accounts.lock().unwrap().down = down;
    }

    /// Sends every look-up through one pooled connection whose driver runs on the runtime
    /// that made it, as ldap3's does.
    pub fn pool_connections(&self) {
        self.pooled.store(true, Ordering::SeqCst);
    }

    /// One round trip through the pooled connection (made on first use).
    async fn round_trip(&self) -> Result<(), DirectoryError> {
        if !self.pooled.load(Ordering::SeqCst) {
            return Ok(());
        }
        let driver = {
            let mut driver = self.driver.lock().unwrap();
            driver
                .get_or_insert_with(|| {
                    let (send, mut receive) =
                        tokio::sync::mpsc::unbounded_channel::<tokio::sync::oneshot::Sender<()>>();
                    tokio::spawn(async move {
                        while let Some(reply) = receive.recv().await {
                            let _ = reply.send(());
                        }
                    });
                    send
                })
                .clone()
        };
        let (reply, answered) = tokio::sync::oneshot::channel();
        let gone = |_| DirectoryError::Unavailable("the connection's driver is gone".into());
        driver.send(reply).map_err(|_| gone(()))?;
        answered.await.map_err(|_| gone(()))
    }

    /// Makes password writes fail as unreachable (the directory stopped between the
    /// look-up and the write), or work again.
    pub fn set_writes_down(&self, down: bool) {
        self.accounts.lock().unwrap().writes_down = down;
    }

    /// Publishes a password policy.
    pub fn set_policy(&self, policy: PasswordPolicy) {
        self.accounts.lock().unwrap().policy = policy;
    }

    /// How many password writes (sets and changes) reached the directory.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// How many look-ups by username reached the directory.
    pub fn finds(&self) -> usize {
        self.finds.load(Ordering::SeqCst)
    }

    /// How many password checks (binds as the user) reached the directory.
    pub fn binds(&self) -> usize {
        self.binds.load(Ordering::SeqCst)
    }

    /// Holds every call of `step` open until [`Self::release`].
    pub fn hold(&self, step: Step) {
        self.hold.0.lock().unwrap().holding = Some(step);
    }

    /// Blocks until `n` calls are held open.
    pub fn wait_for_held(&self, n: usize) {
        let (lock, changed) = &*self.hold;
        let mut hold = lock.lock().unwrap();
        while hold.entered < n {
            hold = changed.wait(hold).unwrap();
        }
    }

    /// Lets the held writes go on.
    pub fn release(&self) {
        let (lock, changed) = &*self.hold;
        lock.lock().unwrap().released = true;
        changed.notify_all();
    }

    /// Waits (off the async workers) while `step` is held.
    async fn held(&self, step: Step) {
        {
            let (lock, changed) = &*self.hold;
            let mut hold = lock.lock().unwrap();
            if hold.holding != Some(step) {
                return;
            }
            hold.entered += 1;
            changed.notify_all();
        }
        let shared = self.hold.clone();
        tokio::task::spawn_blocking(move || {
            let (lock, changed) = &*shared;
            let mut hold = lock.lock().unwrap();
            while !hold.released {
                hold = changed.wait(hold).unwrap();
            }
        })
        .await
        .unwrap();
    }

    fn reachable(&self) -> Result<std::sync::MutexGuard<'_, Accounts>, DirectoryError> {
        let accounts = self.accounts.lock().unwrap();
        if accounts.down {
            return Err(DirectoryError::Unavailable("connection refused".into()));
        }
        Ok(accounts)
    }

    fn account(entry: &Entry) -> Option<Account> {
        (!entry.disabled).then(|| Account {
            id: DirectoryId(entry.id.clone()),
            locator: format!("uid={},ou=people,dc=city,dc=test", entry.username),
            username: entry.username.clone(),
            display_name: entry.display_name.clone(),
            mail: None,
            protected: entry.protected,
            locked: entry.locked,
        })
    }

    fn write(&self, id: &DirectoryId, old: Option<&str>, new: &str) -> Result<(), DirectoryError> {
        let mut accounts = self.reachable()?;
        if accounts.writes_down {
            return Err(DirectoryError::Unavailable("connection reset".into()));
        }
        let entry = accounts
            .by_id
            .get_mut(id.as_str())
            .ok_or(DirectoryError::NotFound)?;
        if entry.protected {
            return Err(DirectoryError::Protected);
        }
        if old.is_some_and(|old| old != entry.password) {
            return Err(DirectoryError::Other("invalid credentials".into()));
        }
        if entry.password == new || entry.history.iter().any(|h| h == new) {
            return Err(DirectoryError::Refused(Refusal::History));
        }
        let previous = std::mem::replace(&mut entry.password, new.into());
        entry.history.push(previous);
        entry.locked = false;
        entry.must_change = false;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Directory for TestDirectory {
    fn kind(&self) -> DirectoryKind {
        DirectoryKind::Ldap
    }

    fn find<'a>(&'a self, username: &'a str) -> DirFuture<'a, Option<Account>> {
        Box::pin(async move {
            self.finds.fetch_add(1, Ordering::SeqCst);
            self.round_trip().await?;
            let accounts = self.reachable()?;
            Ok(accounts
                .by_id
                .values()
                .find(|e| e.username.eq_ignore_ascii_case(username))
                .and_then(Self::account))
        })
    }

    fn by_id<'a>(&'a self, id: &'a DirectoryId) -> DirFuture<'a, Option<Account>> {
        Box::pin(async move {
            self.held(Step::ById).await;
            self.round_trip().await?;
            let accounts = self.reachable()?;
            Ok(accounts.by_id.get(id.as_str()).and_then(Self::account))
        })
    }

    fn check_password<'a>(
        &'a self,
        account: &'a Account,
        password: &'a str,
    ) -> DirFuture<'a, PasswordCheck> {
        Box::pin(async move {
            self.binds.fetch_add(1, Ordering::SeqCst);
            let accounts = self.reachable()?;
            let entry = accounts
                .by_id
                .get(account.id.as_str())
                .ok_or(DirectoryError::NotFound)?;
            Ok(if entry.locked {
                PasswordCheck::Locked
            } else if entry.password != password {
                PasswordCheck::Wrong
            } else if entry.must_change {
                PasswordCheck::MustChange
            } else {
                PasswordCheck::Correct
            })
        })
    }

    fn set_password<'a>(&'a self, account: &'a Account, new: &'a str) -> DirFuture<'a, ()> {
        Box::pin(async move {
            self.held(Step::Write).await;
            self.write(&account.id, None, new)
        })
    }

    fn change_password<'a>(
        &'a self,
        account: &'a Account,
        old: &'a str,
        new: &'a str,
    ) -> DirFuture<'a, ()> {
        Box::pin(async move {
            self.held(Step::Write).await;
            self.write(&account.id, Some(old), new)
        })
    }

    fn unlock<'a>(&'a self, account: &'a Account) -> DirFuture<'a, ()> {
        Box::pin(async move {
            let mut accounts = self.reachable()?;
            let entry = accounts
                .by_id
                .get_mut(account.id.as_str())
                .ok_or(DirectoryError::NotFound)?;
            if entry.protected {
                return Err(DirectoryError::Protected);
            }
            entry.locked = false;
            Ok(())
        })
    }

    fn policy(&self) -> DirFuture<'_, PasswordPolicy> {
        Box::pin(async move { Ok(self.reachable()?.policy.clone()) })
    }

    fn health(&self) -> DirFuture<'_, ()> {
        Box::pin(async move { self.reachable().map(|_| ()) })
    }
}
