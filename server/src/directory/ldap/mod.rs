//! What Active Directory and OpenLDAP share: the settings, TLS verified against the
//! configured CA, connections with timeouts, the service account's bind, and binds as a user.
//!
//! Plain `ldap://` is used only with StartTLS: a password never crosses the network in
//! clear, and there is no switch to trust any certificate.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use rustls::ClientConfig;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use zeroize::Zeroizing;

use super::DirectoryError;

pub mod entry;
pub mod pool;

/// How to reach and search an LDAP directory (Active Directory or OpenLDAP).
#[derive(Clone)]
pub struct LdapSettings {
    /// `ldaps://host:636`, or `ldap://host:389` (then StartTLS, always).
    pub url: String,
    /// Where accounts are searched (subtree), e.g. `OU=Staff,DC=city,DC=test`.
    pub base_dn: String,
    /// The least-privilege service account that searches and resets.
    pub bind_dn: String,
    /// Its password (from a file or the environment, never a command-line argument).
    pub bind_password: Zeroizing<String>,
    /// The attribute a username is matched against (`sAMAccountName`, `userPrincipalName`,
    /// `uid`); checked to be a plain attribute name.
    pub user_attribute: String,
    /// The PEM file of the CA the directory's certificate must chain to.
    pub ca_file: PathBuf,
    /// The group whose members may use self-service (DN); `None`: everyone under the base.
    pub scope_group: Option<String>,
    /// Groups whose members are never reset or unlocked through self-service (DNs).
    pub protected_groups: Vec<String>,
    /// The longest any one directory operation (connect, bind, search, modify) may take.
    pub timeout: Duration,
    /// Service-account connections kept open for reuse.
    pub pool_size: usize,
}

impl std::fmt::Debug for LdapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapSettings")
            .field("url", &self.url)
            .field("base_dn", &self.base_dn)
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &"<redacted>")
            .field("user_attribute", &self.user_attribute)
            .field("ca_file", &self.ca_file)
            .field("scope_group", &self.scope_group)
            .field("protected_groups", &self.protected_groups)
            .field("timeout", &self.timeout)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// A way to open verified TLS connections to one directory.
#[derive(Clone)]
pub struct Connector {
    url: String,
    starttls: bool,
    tls: Arc<ClientConfig>,
    timeout: Duration,
}

impl Connector {
    /// Checks the settings (the URL's scheme, the CA file) and builds the TLS configuration.
    pub fn new(settings: &LdapSettings) -> Result<Self, DirectoryError> {
        let starttls = if settings.url.starts_with("ldaps://") {
            false
        } else if settings.url.starts_with("ldap://") {
            true
        } else {
            return Err(DirectoryError::Config(format!(
                "the directory URL must start with ldaps:// or ldap:// (then StartTLS): {}",
                settings.url
            )));
        };
        if !super::filter::is_attribute_name(&settings.user_attribute) {
            return Err(DirectoryError::Config(format!(
                "the user attribute is not an attribute name: {}",
                settings.user_attribute
            )));
        }
        Ok(Self {
            url: settings.url.clone(),
            starttls,
            tls: Arc::new(tls_config(&settings.ca_file)?),
            timeout: settings.timeout,
        })
    }

    /// Opens a connection (TLS verified, StartTLS when the URL is `ldap://`), its driver
    /// spawned on the current tokio runtime, the connection attempt and the first operation
    /// bounded by the timeout. ldap3's `with_timeout` covers only the next operation:
    /// callers set it on each one.
    pub async fn connect(&self) -> Result<Ldap, DirectoryError> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout)
            .set_starttls(self.starttls)
            .set_config(self.tls.clone());
        let (connection, mut ldap) = LdapConnAsync::with_settings(settings, &self.url)
            .await
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
        ldap3::drive!(connection);
        ldap.with_timeout(self.timeout);
        Ok(ldap)
    }

    /// The timeout of each operation.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// A rustls client configuration that trusts only the CAs in `ca_file`.
fn tls_config(ca_file: &std::path::Path) -> Result<ClientConfig, DirectoryError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        DirectoryError::Config(format!("the CA file {}: {e}", ca_file.display()))
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| unreadable(&e))? {
        let cert = cert.map_err(|e| unreadable(&e))?;
        roots.add(cert).map_err(|e| unreadable(&e))?;
    }
    if roots.is_empty() {
        return Err(unreadable(&"no certificate in it"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| DirectoryError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
