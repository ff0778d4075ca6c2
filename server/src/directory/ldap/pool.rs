//! A small pool of connections bound as the service account, made lazily on the runtime
//! that first needs them, and the one-shot user connections that check or change a
//! password.
//!
//! ldap3 runs each connection's driver as a task on the runtime that opened it. When that
//! runtime ends, the driver ends and the pooled handle reports itself closed: such a
//! handle is dropped when taken, and an operation that fails on a pooled connection
//! because the connection died is tried once more on a fresh one.

use std::future::Future;
use std::sync::Mutex;

use ldap3::{Ldap, LdapError, LdapResult};
use zeroize::Zeroizing;

use super::{Connector, LdapSettings};
use crate::directory::DirectoryError;

/// Service-account connections kept open for reuse.
pub struct Pool {
    connector: Connector,
    bind_dn: String,
    bind_password: Zeroizing<String>,
    size: usize,
    idle: Mutex<Vec<Ldap>>,
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

    /// Runs `op` on a service-bound connection: a pooled one if any is open, else a new
    /// one. If a pooled connection turns out dead, `op` runs once more on a new one.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, DirectoryError>
    where
        F: FnMut(Ldap) -> Fut,
        Fut: Future<Output = Result<T, LdapError>>,
    {
        if let Some(pooled) = self.take() {
            match op(pooled.clone()).await {
                Ok(value) => {
                    self.give_back(pooled);
                    return Ok(value);
                }
                Err(e) if is_dead_connection(&e) => {}
                Err(e) => return Err(unavailable(&e)),
            }
        }
        let fresh = self.open_service().await?;
        let value = op(fresh.clone()).await.map_err(|e| unavailable(&e))?;
        self.give_back(fresh);
        Ok(value)
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
                "the bind as {} was refused: wrong DN or password ({})",
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

    /// An idle connection whose driver still runs.
    fn take(&self) -> Option<Ldap> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(mut ldap) = idle.pop() {
            if !ldap.is_closed() {
                return Some(ldap);
            }
        }
        None
    }

    fn give_back(&self, mut ldap: Ldap) {
        if ldap.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.size {
            idle.push(ldap);
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
