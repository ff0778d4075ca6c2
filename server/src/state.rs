//! The shared state of a running server: store, signing key, settings, limiters.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cityauth_protocol::SigningKey;
use zeroize::Zeroizing;

use crate::auditlog::{AuditExport, AuditTrail};
use crate::config::{Config, DirectoryChoice};
use crate::directory::Directory;
use crate::directory::builtin::BuiltIn;
use crate::kek::{KekError, KeyEncryptionKey, SIGNING_KEY_AAD, oath_seed_aad};
use crate::limits::Limiter;
use crate::limits::fields::audit_text;
use crate::notify::Mailer;
use crate::push::{LogPushSender, PushQueue, PushSender};
use crate::store::{AuditEvent, SqliteStore, Store, StoreError};
use crate::util::now;
use crate::waiters::Waiters;

/// The setting in which older servers kept the PKCS#8 signing key in clear.
const CLEAR_KEY_SETTING: &str = "server_signing_key_pkcs8";
/// The setting holding the PKCS#8 signing key sealed under the key-encryption key.
const KEY_SETTING: &str = "server_signing_key_sealed";

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
    /// The key-encryption key is missing, malformed, or not the one the database was sealed
    /// under.
    #[error("{0}")]
    Kek(#[from] KekError),
    /// The limiter's shared counters could not be set up.
    #[error("limiter: {0}")]
    Limiter(#[from] crate::limits::LimiterError),
    /// The push credentials are unusable.
    #[error("{0}")]
    Push(#[from] crate::push::PushConfigError),
    /// The audit export cannot be opened.
    #[error("{0}")]
    AuditExport(#[from] crate::auditlog::AuditExportError),
    /// The mail settings are unusable.
    #[error("{0}")]
    Mail(#[from] crate::notify::MailConfigError),
}

/// Everything the handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub directory: Arc<dyn Directory>,
    pub key: SigningKey,
    pub kek: Arc<dyn KeyEncryptionKey>,
    pub config: Config,
    pub limiter: Limiter,
    pub waiters: Waiters,
    pub push: Arc<dyn PushSender>,
    pub log_push: Option<Arc<LogPushSender>>,
    pub metrics: crate::metrics::Metrics,
    pub mailer: Option<crate::notify::Mailer>,
    pub audit: Arc<AuditTrail>,
    /// How many pieces of work run behind an answer ([`AppState::behind_answer`]).
    pub behind: AtomicUsize,
}

/// The most pieces of work queued behind answers at once ([`AppState::behind_answer`]).
const MAX_BEHIND: usize = 1024;

impl AppState {
    /// Opens (creating on first start) the SQLite database at `path`, with the log sender.
    /// The key-encryption key is the one `config.kek` names; by default a `<path>.kek` file,
    /// made on first start.
    pub fn open(path: &Path, config: Config) -> Result<Self, StartError> {
        let store = Arc::new(SqliteStore::open(path)?);
        let kek = Self::load_kek(store.as_ref(), &config, Some(path))?;
        Self::with_kek(store, config, None, kek)
    }

    /// A state over any store; `push` defaults to the log sender. `config.kek` must name the
    /// key itself (a file, a variable or a custom key): there is no database path to keep
    /// one beside.
    pub fn with_store(
        store: Arc<dyn Store>,
        config: Config,
        push: Option<Arc<dyn PushSender>>,
    ) -> Result<Self, StartError> {
        let kek = Self::load_kek(store.as_ref(), &config, None)?;
        Self::with_kek(store, config, push, kek)
    }

    /// The key-encryption key `config.kek` names for `store` (at `database`, if a file): a
    /// key file beside the database is made only while the store holds nothing sealed.
    pub fn load_kek(
        store: &dyn Store,
        config: &Config,
        database: Option<&Path>,
    ) -> Result<Arc<dyn KeyEncryptionKey>, StartError> {
        let sealed = store.setting(KEY_SETTING)?.is_some();
        Ok(crate::kek::load(&config.kek, database, !sealed)?)
    }

    /// A state over any store with the key-encryption key `kek`. On first start the signing
    /// key is made and stored sealed; secrets an older server kept in clear (its key, the
    /// per-user OATH seeds) are sealed, and the clear copies erased from the files.
    pub fn with_kek(
        store: Arc<dyn Store>,
        config: Config,
        push: Option<Arc<dyn PushSender>>,
        kek: Arc<dyn KeyEncryptionKey>,
    ) -> Result<Self, StartError> {
        let (key, mut sealed_clear) = signing_key(store.as_ref(), kek.as_ref())?;
        sealed_clear |= seal_legacy_seeds(store.as_ref(), kek.as_ref())?;
        if sealed_clear {
            store.purge()?;
            tracing::info!("sealed the secrets an older version kept in clear");
        }
        let metrics = crate::metrics::Metrics::default();
        let (push, log_push) = match (push, &config.push) {
            (Some(push), _) => (push, None),
            (None, Some(settings)) => {
                let lifetime = config
                    .challenge_lifetime
                    .min(cityauth_protocol::wire::MAX_CHALLENGE_LIFETIME);
                let queue = PushQueue::start(settings.clone(), store.clone(), &metrics, lifetime)?;
                (Arc::new(queue) as Arc<dyn PushSender>, None)
            }
            (None, None) => {
                let log = Arc::new(LogPushSender::default());
                (log.clone() as Arc<dyn PushSender>, Some(log))
            }
        };
        let export = AuditExport::open(&config.audit_export)?;
        let audit = Arc::new(AuditTrail::new(store.clone(), export));
        let directory: Arc<dyn Directory> = match &config.directory {
            DirectoryChoice::BuiltIn => Arc::new(BuiltIn::new(store.clone(), audit.clone())),
            DirectoryChoice::External(directory) => directory.clone(),
        };
        let mailer = config
            .mail
            .clone()
            .map(|mail| {
                Mailer::start(
                    mail,
                    store.clone(),
                    directory.clone(),
                    &config.public_url,
                    &metrics,
                )
            })
            .transpose()?;
        let limiter = Limiter::open(store.as_ref(), kek.as_ref(), config.limits.limiter_keys)?;
        let waiters = Waiters::new(store.as_ref())?;
        Ok(Self(Arc::new(Inner {
            store,
            directory,
            key,
            kek,
            limiter,
            config,
            waiters,
            push,
            log_push,
            metrics,
            mailer,
            audit,
            behind: AtomicUsize::new(0),
        })))
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    /// Where the accounts and their passwords live (`Config::directory`).
    pub fn directory(&self) -> &dyn Directory {
        self.0.directory.as_ref()
    }

    /// The server's signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.0.key
    }

    /// The key-encryption key sealing the secrets at rest.
    pub fn kek(&self) -> &dyn KeyEncryptionKey {
        self.0.kek.as_ref()
    }

    /// The server's counters (`GET /metrics`).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.0.metrics
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

    /// Runs `work` on a blocking thread once the caller has gone on (to answer): work whose
    /// cost must not show in the answer's time, such as a reset's pushes, which only a real
    /// account with a phone has. `work` reports its own failures (log and audit); a panic
    /// ends only that work. With [`MAX_BEHIND`] pieces already waiting or running, `work`
    /// runs here, before the answer: a flood of starts then slows its own answers instead
    /// of queueing work without bound.
    pub(crate) fn behind_answer(&self, work: impl FnOnce(&AppState) + Send + 'static) {
        if self.0.behind.load(Ordering::SeqCst) >= MAX_BEHIND {
            work(self);
            return;
        }
        /// Counts the work done however it ends: run, panicked, or dropped unrun by a
        /// runtime shutting down.
        struct Running(AppState);
        impl Drop for Running {
            fn drop(&mut self) {
                self.0.0.behind.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.0.behind.fetch_add(1, Ordering::SeqCst);
        let running = Running(self.clone());
        // In the request's span: its log and audit lines carry the request's id.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| work(&running.0)));
    }

    /// Waits (blocking the calling thread) until no work runs behind an answer, at most
    /// `timeout`; false if some still runs then. For tests and tools that read what that
    /// work stores (a reset's challenges, its audit row) right after the answer.
    pub fn settle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.0.behind.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
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
        self.0.audit.record(&record);
    }
}

/// The server's signing key, sealed in the store: opened, or made on first start, or sealed
/// from an older server's clear copy (then `true`: a clear copy was erased).
fn signing_key(
    store: &dyn Store,
    kek: &dyn KeyEncryptionKey,
) -> Result<(SigningKey, bool), StartError> {
    if let Some(sealed) = store.setting(KEY_SETTING)? {
        // A wrong key fails here, before anything is written: never a new key over old data.
        let pkcs8 = kek.open(SIGNING_KEY_AAD, &sealed)?;
        return Ok((SigningKey::from_pkcs8(&pkcs8)?, false));
    }
    if let Some(clear) = store.setting(CLEAR_KEY_SETTING)? {
        let clear = Zeroizing::new(clear);
        let key = SigningKey::from_pkcs8(&clear)?;
        store.setting_replace(
            CLEAR_KEY_SETTING,
            KEY_SETTING,
            &kek.seal(SIGNING_KEY_AAD, &clear)?,
        )?;
        return Ok((key, true));
    }
    let (_, fresh) = SigningKey::generate()?;
    let fresh = Zeroizing::new(fresh);
    // Another process starting at the same moment may have stored its key first: use that.
    let stored = store.setting_init(KEY_SETTING, &kek.seal(SIGNING_KEY_AAD, &fresh)?)?;
    let pkcs8 = kek.open(SIGNING_KEY_AAD, &stored)?;
    Ok((SigningKey::from_pkcs8(&pkcs8)?, false))
}

/// Seals an older database's per-user OATH seed onto each of the user's devices (marked as
/// shared copies, all revoked when any of the devices is removed); `true` if there were any.
fn seal_legacy_seeds(store: &dyn Store, kek: &dyn KeyEncryptionKey) -> Result<bool, StartError> {
    let seeds = store.legacy_oath_seeds()?;
    for seed in &seeds {
        let sealed = store
            .devices_of(seed.user_id)?
            .into_iter()
            .map(|d| {
                let aad = oath_seed_aad(&d.device.id);
                Ok((d.device.id, kek.seal(&aad, &seed.secret)?))
            })
            .collect::<Result<Vec<_>, KekError>>()?;
        store.legacy_oath_move(seed, &sealed)?;
    }
    Ok(!seeds.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn state(dir: &tempfile::TempDir) -> AppState {
        AppState::open(&dir.path().join("db"), Config::new("http://127.0.0.1:1")).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn work_goes_behind_the_answer_until_the_queue_is_full_then_runs_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&dir);
        let here = std::thread::current().id();
        let ran_on = Arc::new(Mutex::new(Vec::new()));
        let record = |ran_on: &Arc<Mutex<Vec<_>>>| {
            let ran_on = Arc::clone(ran_on);
            move |_: &AppState| ran_on.lock().unwrap().push(std::thread::current().id())
        };
        state.behind_answer(record(&ran_on));
        assert!(state.settle(Duration::from_secs(10)));
        assert_ne!(
            ran_on.lock().unwrap()[0],
            here,
            "behind the answer: another thread"
        );

        // A full queue (as under a flood of starts): the work runs here, before returning.
        state.0.behind.fetch_add(MAX_BEHIND, Ordering::SeqCst);
        state.behind_answer(record(&ran_on));
        assert_eq!(
            ran_on.lock().unwrap().get(1),
            Some(&here),
            "run before the answer"
        );
        state.0.behind.fetch_sub(MAX_BEHIND, Ordering::SeqCst);
        assert!(state.settle(Duration::from_secs(1)));
    }
}
