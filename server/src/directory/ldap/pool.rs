//! A small pool of connections bound as the service account, made lazily on the runtime
//! that first needs them and handed out only on that runtime, and the one-shot user connections that check or change a
//! password.
//!
//! ldap3 runs each connection's driver as a task on the runtime that opened it. When that
//! runtime ends, the driver ends and the pooled handle reports itself closed: such a
//! handle is dropped when taken, and an operation that fails on a pooled connection
//! because the connection died is tried once more on a fresh one.

use std::future::Future;
use std::sync::Mutex;

use ldap3::{Ldap, LdapError, LdapResult};
use tokio::runtime::{Handle, Id};
use zeroize::Zeroizing;

use super::{Connector, LdapSettings};
use crate::directory::DirectoryError;

/// Service-account connections kept open for reuse, each with the runtime that opened it.
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
    /// A pool for `settings`' service account; opens nothing yet.
    pub fn new(settings: &LdapSettings) -> Result<Self, DirectoryError> {
        Ok(Self {
            connector: Connector::new(settings)?,
            bind_dn: settings.bind_dn.clone(),
            bind_password: settings.bind_password.clone(),
            size: settings.pool_size.max(1),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// The connector, for connections that bind as someone else.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// The timeout of each operation.
    pub fn timeout(&self) -> std::time::Duration {
        self.connector.timeout()
    }

    /// How many idle connections the pool holds now (for tests of the pooling).
    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Runs `op` on a service-bound connection: a pooled one if any is open, else a new
    /// one. If a pooled connection turns out dead, `op` runs once more on a new one.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, DirectoryError>
    where
        F: FnMut(Ldap) -> Fut,
        Fut: Future<Output = Result<T, LdapError>>,
    {
        let pooled = self.get().await?;
        let pooled = if pooled.reused {
            match op(pooled.ldap.clone()).await {
                Ok(value) => {
                    self.put(pooled);
                    return Ok(value);
                }
                Err(e) if is_dead_connection(&e) => self.fresh().await?,
                Err(e) => return Err(unavailable(&e)),
            }
        } else {
            pooled
        };
        let value = op(pooled.ldap.clone()).await.map_err(|e| unavailable(&e))?;
        self.put(pooled);
        Ok(value)
    }

    /// An idle connection of this runtime that is still open, else a new one. A connection
    /// of another runtime is not used here (its driver may not run while this one waits),
    /// but kept for its own runtime (the admin commands').
    pub async fn get(&self) -> Result<Pooled, DirectoryError> {
        let runtime = Handle::current().id();
        let found = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.retain_mut(|(_, ldap)| !ldap.is_closed());
            idle.iter()
                .rposition(|(id, _)| *id == runtime)
                .map(|i| idle.remove(i))
        };
        match found {
            Some((_, ldap)) => Ok(Pooled { ldap, reused: true }),
            None => self.fresh().await,
        }
    }

    /// A new connection bound as the service account, not yet pooled.
    pub async fn fresh(&self) -> Result<Pooled, DirectoryError> {
        Ok(Pooled {
            ldap: self.open_service().await?,
            reused: false,
        })
    }

    /// Returns a connection that worked, making room by dropping the longest idle (it may
    /// belong to a runtime that is gone).
    pub fn put(&self, mut pooled: Pooled) {
        if pooled.ldap.is_closed() {
            return;
        }
        let runtime = Handle::current().id();
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.push((runtime, pooled.ldap));
        if idle.len() > self.size {
            idle.remove(0);
        }
    }

    /// A new connection bound as the service account, not pooled (the startup and
    /// health checks use one, so that they leave nothing bound to their runtime).
    pub async fn open_service(&self) -> Result<Ldap, DirectoryError> {
        let mut ldap = self.connector.connect().await?;
        let result = ldap
            .with_timeout(self.connector.timeout())
            .simple_bind(&self.bind_dn, &self.bind_password)
            .await
            .map_err(|e| unavailable(&e))?;
        match result.rc {
            0 => Ok(ldap),
            49 => Err(DirectoryError::ServiceAccount(format!(
                "the bind as {} was refused: the DN or the password in the configuration is wrong, or the account is locked ({})",
                self.bind_dn,
                diagnostic(&result)
            ))),
            _ => Err(DirectoryError::ServiceAccount(format!(
                "the bind as {} failed: {}",
                self.bind_dn,
                diagnostic(&result)
            ))),
        }
    }
}

/// True if `e` says the connection itself is gone (its driver ended, the socket closed),
/// rather than that the operation failed or timed out.
fn is_dead_connection(e: &LdapError) -> bool {
    matches!(
        e,
        LdapError::OpSend { .. }
            | LdapError::ResultRecv { .. }
            | LdapError::IdScrubSend { .. }
            | LdapError::EndOfStream
            | LdapError::Io { .. }
    )
}

/// A transport failure as [`DirectoryError::Unavailable`]. Only the error's display text
/// is used: its `Debug` form could hold the request, and so a password.
pub fn unavailable(e: &LdapError) -> DirectoryError {
    let text = match e {
        // The request is in the error; say only what happened.
        LdapError::OpSend { .. } | LdapError::IdScrubSend { .. } => {
            "the connection closed".to_owned()
        }
        other => other.to_string(),
    };
    DirectoryError::Unavailable(text)
}

/// The result code and the directory's diagnostic text, for logs and errors.
pub fn diagnostic(result: &LdapResult) -> String {
    if result.text.is_empty() {
        format!("result code {}", result.rc)
    } else {
        format!("result code {}: {}", result.rc, result.text)
    }
}
