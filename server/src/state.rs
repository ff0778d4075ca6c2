//! The shared state of a running server: store, signing key, settings, limiters.

use std::path::Path;
use std::sync::Arc;

use cityauth_protocol::SigningKey;

use crate::config::Config;
use crate::limits::Limiter;
use crate::limits::fields::audit_text;
use crate::push::{LogPushSender, PushSender};
use crate::store::{AuditEvent, SqliteStore, Store, StoreError};
use crate::util::now;
use crate::waiters::Waiters;

/// The setting holding the server's PKCS#8 signing key.
const KEY_SETTING: &str = "server_signing_key_pkcs8";

/// The longest username written to the audit table, bytes (names are at most 64
/// characters; this also bounds one typed in other scripts).
const AUDIT_USERNAME_BYTES: usize = 256;
/// The longest event name written, bytes.
const AUDIT_EVENT_BYTES: usize = 64;
/// The longest detail written, bytes.
const AUDIT_DETAIL_BYTES: usize = 512;
/// The longest client address written, bytes (an IPv6 address is at most 45).
const AUDIT_IP_BYTES: usize = 64;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The stored key is unusable, or none could be made.
    #[error("server key: {0}")]
    Key(#[from] cityauth_protocol::KeyError),
}

/// Everything the handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub key: SigningKey,
    pub config: Config,
    pub limiter: Limiter,
    pub waiters: Waiters,
    pub push: Arc<dyn PushSender>,
    pub log_push: Option<Arc<LogPushSender>>,
}

impl AppState {
    /// Opens (creating on first start) the SQLite database at `path`, with the log sender.
    pub fn open(path: &Path, config: Config) -> Result<Self, StartError> {
        let store = Arc::new(SqliteStore::open(path)?);
        Self::with_store(store, config, None)
    }

    /// A state over any store; `push` defaults to the log sender.
    pub fn with_store(
        store: Arc<dyn Store>,
        config: Config,
        push: Option<Arc<dyn PushSender>>,
    ) -> Result<Self, StartError> {
        // The key is generated once, on first start, and kept in the store.
        let (_, fresh) = SigningKey::generate()?;
        let pkcs8 = store.setting_init(KEY_SETTING, &fresh)?;
        let key = SigningKey::from_pkcs8(&pkcs8)?;
        let (push, log_push) = match push {
            Some(push) => (push, None),
            None => {
                let log = Arc::new(LogPushSender::default());
                (log.clone() as Arc<dyn PushSender>, Some(log))
            }
        };
        Ok(Self(Arc::new(Inner {
            store,
            key,
            limiter: Limiter::new(config.limits.limiter_keys),
            config,
            waiters: Waiters::default(),
            push,
            log_push,
        })))
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    /// The server's signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.0.key
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The default log sender's messages, when it is the sender.
    pub fn sent_pushes(&self) -> Vec<crate::push::PushMessage> {
        self.0
            .log_push
            .as_ref()
            .map(|l| l.sent())
            .unwrap_or_default()
    }

    /// The limiter's keys held (rate-limit buckets, failure runs), each table capped at
    /// `Limits::limiter_keys`: for monitoring its memory.
    pub fn limiter_keys(&self) -> (usize, usize) {
        self.0.limiter.keys()
    }

    /// Records an audit event; a failure to record is logged, never fatal to the request.
    /// Each field is cut to a bounded length, so that what a request can make the server
    /// write here is bounded whatever it sent.
    pub fn audit(&self, username: Option<&str>, event: &str, detail: &str, ip: Option<&str>) {
        let record = AuditEvent {
            time: now(),
            username: username.map(|u| audit_text(u, AUDIT_USERNAME_BYTES)),
            event: audit_text(event, AUDIT_EVENT_BYTES),
            detail: audit_text(detail, AUDIT_DETAIL_BYTES),
            client_ip: ip.map(|i| audit_text(i, AUDIT_IP_BYTES)),
        };
        if let Err(error) = self.0.store.audit(&record) {
            crate::log(&format!("audit write failed: {error}"));
        }
    }
}
