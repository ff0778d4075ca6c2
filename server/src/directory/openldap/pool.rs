//! The service account's connections to the LDAP server, kept for reuse. Each connection's
//! driver runs on the tokio runtime that opened it, so a connection is only handed out on
//! that runtime: one opened by a startup check in another runtime is dropped, not reused.

use std::sync::Mutex;

use ldap3::Ldap;
use tokio::runtime::{Handle, Id};
use zeroize::Zeroizing;

use crate::directory::DirectoryError;
use crate::directory::ldap::Connector;

/// Up to `size` idle connections, each bound as the service account.
pub struct Pool {
    connector: Connector,
    bind_dn: String,
    bind_password: Zeroizing<String>,
    size: usize,
    idle: Mutex<Vec<(Id, Ldap)>>,
}

/// A connection taken from the pool; it goes back only through [`Pool::put`].
pub struct Pooled {
    /// The connection, bound as the service account.
    pub ldap: Ldap,
    /// True if it was open before this request (so it may have died meanwhile).
    pub reused: bool,
}

impl Pool {
    /// An empty pool; nothing is opened until a request needs it.
    pub fn new(
        connector: Connector,
        bind_dn: String,
        bind_password: Zeroizing<String>,
        size: usize,
    ) -> Self {
        Self {
            connector,
            bind_dn,
            bind_password,
            size,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection of this runtime that is still open, else a new one.
    pub async fn get(&self) -> Result<Pooled, DirectoryError> {
        let runtime = Handle::current().id();
        let found = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.retain_mut(|(_, ldap)| !ldap.is_closed());
            // A connection of another runtime is not used here (its driver may not run
            // while this one waits), but kept for its own runtime (the admin commands').
            idle.iter()
                .rposition(|(id, _)| *id == runtime)
                .map(|i| idle.remove(i))
        };
        match found {
            Some((_, ldap)) => Ok(Pooled { ldap, reused: true }),
            None => self.fresh().await,
        }
    }

    /// A new connection, bound as the service account.
    pub async fn fresh(&self) -> Result<Pooled, DirectoryError> {
        let mut ldap = self.connector.connect().await?;
        let result = ldap
            .with_timeout(self.connector.timeout())
            .simple_bind(&self.bind_dn, &self.bind_password)
            .await
            .map_err(super::unavailable)?;
        match result.rc {
            0 => Ok(Pooled {
                ldap,
                reused: false,
            }),
            49 => Err(DirectoryError::ServiceAccount(format!(
                "{} could not bind: the password in the configuration is wrong, or the \
                 account is locked",
                self.bind_dn
            ))),
            rc => Err(DirectoryError::ServiceAccount(format!(
                "{} could not bind: result code {rc} {}",
                self.bind_dn, result.text
            ))),
        }
    }

    /// Returns a connection that worked, making room by dropping the longest idle.
    pub fn put(&self, pooled: Pooled) {
        let runtime = Handle::current().id();
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.push((runtime, pooled.ldap));
        if idle.len() > self.size {
            // The longest idle goes (it may belong to a runtime that is gone).
            idle.remove(0);
        }
    }

    /// The timeout of each operation.
    pub fn timeout(&self) -> std::time::Duration {
        self.connector.timeout()
    }

    /// The connector, for binds as a user.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// How many idle connections the pool holds now (for tests).
    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
