//! The mail queue: notices are taken off the request path into a bounded channel, and a
//! thread of their own finds each recipient (the directory's `mail`, else the address kept
//! here), writes the message in the recipient's language and hands it to the relay, trying
//! again with a doubling wait while the relay or the directory is unavailable.
//!
//! The queue is in memory: a notice still waiting when the process stops is not sent (the
//! audit trail has the event either way).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lettre::message::Mailbox;
use prometheus_client::metrics::counter::Counter;
use tokio::sync::{Semaphore, mpsc};

use super::config::{MailConfig, MailConfigError};
use super::smtp::{Relay, SendError};
use super::{MailText, Notice, to_employee, to_security};
use crate::directory::{Directory, DirectoryId, DirectoryKind};
use crate::i18n::Lang;
use crate::metrics::Metrics;
use crate::store::Store;

/// Conversations with the relay at once.
const CONCURRENT_SENDS: usize = 4;

/// One notice about one account, as the request that caused it saw it.
#[derive(Debug, Clone)]
pub struct Job {
    /// The local user row.
    pub user_id: i64,
    /// The username (the greeting; the logs).
    pub username: String,
    /// The account's stable id in the directory.
    pub directory_id: String,
    /// What happened.
    pub notice: Notice,
    /// The language the browser asked for, when a browser caused it.
    pub lang: Option<Lang>,
}

/// The queue's sending end; the thread stops when it is dropped.
pub struct Mailer {
    queue: mpsc::Sender<Job>,
    failed: Counter,
    /// Notices queued and not yet sent or given up.
    pending: Arc<AtomicUsize>,
}

struct Worker {
    config: MailConfig,
    relay: Relay,
    security_team: Option<Mailbox>,
    store: Arc<dyn Store>,
    directory: Arc<dyn Directory>,
    portal: String,
    sends: Semaphore,
    sent: Counter,
    failed: Counter,
    pending: Arc<AtomicUsize>,
}

impl Mailer {
    /// Starts the queue's thread for the relay `config` names; `portal` is the portal's
    /// home page (the messages' footer), whose host greets the relay.
    pub fn start(
        config: MailConfig,
        store: Arc<dyn Store>,
        directory: Arc<dyn Directory>,
        portal: &str,
        metrics: &Metrics,
    ) -> Result<Self, MailConfigError> {
        let hello = portal
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .filter(|host| !host.is_empty())
            .unwrap_or("localhost");
        let relay = Relay::new(&config, hello)?;
        let security_team = security_team(&config)?;
        let (queue, jobs) = mpsc::channel(config.queue_capacity.max(1));
        let pending = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| MailConfigError {
                setting: "host",
                why: format!("no runtime for the mail thread: {e}"),
            })?;
        let worker = Arc::new(Worker {
            config,
            relay,
            security_team,
            store,
            directory,
            portal: format!("{}/", portal.trim_end_matches('/')),
            sends: Semaphore::new(CONCURRENT_SENDS),
            sent: metrics.mails_sent.clone(),
            failed: metrics.mails_failed.clone(),
            pending: pending.clone(),
        });
        std::thread::Builder::new()
            .name("cityauth-mail".into())
            .spawn(move || runtime.block_on(run(worker, jobs)))
            .map_err(|e| MailConfigError {
                setting: "host",
                why: format!("no mail thread: {e}"),
            })?;
        Ok(Self {
            queue,
            failed: metrics.mails_failed.clone(),
            pending,
        })
    }

    /// Queues `job`; never waits. A full queue drops it (counted as failed, and logged).
    pub fn enqueue(&self, job: Job) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if let Err(error) = self.queue.try_send(job) {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            self.failed.inc();
            let job = match error {
                mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job) => {
                    job
                }
            };
            tracing::warn!(username = %job.username, "mail queue full: notice dropped");
        }
    }
}

impl Mailer {
    /// Waits until every queued notice is sent or given up, or `patience` has passed; true
    /// if none is left. For a process that stops right after queueing (an admin command).
    pub fn drain(&self, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        while self.pending.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }
}

/// Whether `config` can be used: the addresses parse, the password and CA files read. Connects
/// to nothing (`cityauth-server config check`).
pub fn check(config: &MailConfig) -> Result<(), MailConfigError> {
    Relay::new(config, "localhost")?;
    security_team(config)?;
    Ok(())
}

fn security_team(config: &MailConfig) -> Result<Option<Mailbox>, MailConfigError> {
    config
        .security_team
        .as_deref()
        .map(|address| {
            address.parse::<Mailbox>().map_err(|e| MailConfigError {
                setting: "security_team",
                why: format!("not an address: {e}"),
            })
        })
        .transpose()
}

/// Takes each job as it comes and delivers it on a task of its own, so that a message
/// waiting to be tried again holds up no other.
async fn run(worker: Arc<Worker>, mut jobs: mpsc::Receiver<Job>) {
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(job) = jobs.recv().await {
        let worker = worker.clone();
        tasks.spawn(async move { worker.deliver(job).await });
        while tasks.try_join_next().is_some() {}
    }
    // The state is gone (the server stops): what is still being tried ends with it.
}

impl Worker {
    async fn deliver(&self, job: Job) {
        self.deliver_once(job).await;
        self.pending.fetch_sub(1, Ordering::SeqCst);
    }

    async fn deliver_once(&self, job: Job) {
        if let Some(lang) = job.lang
            && let Err(error) = self.store.set_lang(job.user_id, lang.code())
        {
            tracing::warn!(%error, "the language could not be remembered");
        }
        let Some((address, lang)) = self.recipient(&job).await else {
            return;
        };
        if let Some(address) = address {
            let text = to_employee(&job.notice, lang, &job.username, &self.portal);
            self.send_with_retries(&job.username, "employee", &address, &text)
                .await;
        } else {
            tracing::info!(username = %job.username, "no email address: the employee is not told");
        }
        if let (Some(team), Some(text)) =
            (&self.security_team, to_security(&job.notice, &job.username))
        {
            self.send_with_retries(&job.username, "security team", team, &text)
                .await;
        }
    }

    /// The employee's address (if any) and language, asking the directory again while it
    /// is unavailable; `None` when it stayed unavailable through every try.
    async fn recipient(&self, job: &Job) -> Option<(Option<Mailbox>, Lang)> {
        for attempt in 1..=self.config.max_attempts {
            match self.address_and_lang(job).await {
                Ok(found) => return Some(found),
                Err(why) => {
                    tracing::warn!(username = %job.username, attempt, %why, "mail recipient not found yet");
                    if attempt < self.config.max_attempts {
                        tokio::time::sleep(self.config.retry_wait(attempt)).await;
                    }
                }
            }
        }
        self.failed.inc();
        None
    }

    async fn address_and_lang(&self, job: &Job) -> Result<(Option<Mailbox>, Lang), String> {
        let contact = self
            .store
            .contact(job.user_id)
            .map_err(|e| format!("store: {e}"))?;
        let directory_mail = if self.directory.kind() == DirectoryKind::BuiltIn {
            None
        } else {
            let id = DirectoryId(job.directory_id.clone());
            self.directory
                .by_id(&id)
                .await
                .map_err(|e| format!("directory: {e}"))?
                .and_then(|account| account.mail)
        };
        let address = directory_mail.or(contact.mail).and_then(|text| {
            text.parse::<Mailbox>()
                .map_err(|_| {
                    tracing::warn!(username = %job.username, "the account's email address is malformed");
                })
                .ok()
        });
        let lang = job
            .lang
            .or_else(|| contact.lang.as_deref().and_then(Lang::from_tag))
            .unwrap_or_default();
        Ok((address, lang))
    }

    /// Sends `text` to `to`, trying again after each transient failure with the doubling
    /// wait, up to the configured tries.
    async fn send_with_retries(&self, username: &str, whom: &str, to: &Mailbox, text: &MailText) {
        for attempt in 1..=self.config.max_attempts {
            let result = {
                let _permit = self.sends.acquire().await;
                self.relay.send(to, text).await
            };
            match result {
                Ok(()) => {
                    self.sent.inc();
                    tracing::info!(username, whom, attempt, "mail sent");
                    return;
                }
                Err(SendError::Permanent(why)) => {
                    tracing::warn!(username, whom, %why, "mail refused: given up");
                    break;
                }
                Err(SendError::Transient(why)) => {
                    tracing::warn!(username, whom, attempt, %why, "mail not sent yet");
                    if attempt < self.config.max_attempts {
                        tokio::time::sleep(self.config.retry_wait(attempt)).await;
                    }
                }
            }
        }
        self.failed.inc();
    }
}
