//! The push queue: the request path only hands a message over (never waits for a vendor);
//! a thread of its own runs a small tokio runtime that delivers with retries. A full queue
//! drops the push and counts it: the phone's long poll still brings the challenge.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::{Semaphore, mpsc};

use super::apns::Apns;
use super::config::{PushConfig, PushConfigError};
use super::fcm::Fcm;
use super::{Outcome, PushMessage, PushSender};
use crate::metrics::{Metrics, PushFailureLabels, VendorLabel};
use crate::store::Store;

/// Which vendor carries a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vendor {
    Fcm,
    Apns,
}

impl Vendor {
    fn label(self) -> &'static str {
        match self {
            Vendor::Fcm => "fcm",
            Vendor::Apns => "apns",
        }
    }
}

/// A message on its way.
struct Job {
    vendor: Vendor,
    device_id: String,
    token: String,
    challenge_id: String,
    /// Past this, the challenge is dead: no more tries.
    deadline: Instant,
}

/// What the worker shares between its deliveries.
struct Worker {
    config: PushConfig,
    fcm: Option<Fcm>,
    apns: Option<Apns>,
    store: Arc<dyn Store>,
    sent: Family<VendorLabel, Counter>,
    failed: Family<PushFailureLabels, Counter>,
}

/// The real sender: a bounded queue in front of FCM and APNs.
pub struct PushQueue {
    queue: mpsc::Sender<Job>,
    fcm: bool,
    apns: bool,
    lifetime: Duration,
    failed: Family<PushFailureLabels, Counter>,
}

impl PushQueue {
    /// Reads the credentials in `config` and starts the delivery thread. Stale tokens are
    /// cleared in `store`; deliveries and failures are counted in `metrics`. A push lives
    /// `lifetime` seconds (the challenge's).
    pub fn start(
        config: PushConfig,
        store: Arc<dyn Store>,
        metrics: &Metrics,
        lifetime: u64,
    ) -> Result<Self, PushConfigError> {
        let fcm = config
            .fcm
            .as_ref()
            .map(|c| Fcm::new(c, config.request_timeout))
            .transpose()?;
        let apns = config
            .apns
            .as_ref()
            .map(|c| Apns::new(c, config.request_timeout, lifetime))
            .transpose()?;
        let (queue, jobs) = mpsc::channel(config.queue_capacity.max(1));
        let this = Self {
            queue,
            fcm: fcm.is_some(),
            apns: apns.is_some(),
            lifetime: Duration::from_secs(lifetime),
            failed: metrics.pushes_failed.clone(),
        };
        let worker = Arc::new(Worker {
            config,
            fcm,
            apns,
            store,
            sent: metrics.pushes_sent.clone(),
            failed: metrics.pushes_failed.clone(),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PushConfigError::Value {
                setting: "push",
                why: format!("no runtime for the push thread: {e}"),
            })?;
        std::thread::Builder::new()
            .name("cityauth-push".into())
            .spawn(move || runtime.block_on(worker.run(jobs)))
            .map_err(|e| PushConfigError::Value {
                setting: "push",
                why: format!("no push thread: {e}"),
            })?;
        Ok(this)
    }
}

impl PushSender for PushQueue {
    fn send(&self, message: PushMessage) {
        let vendor = match message.platform.as_str() {
            "android" if self.fcm => Vendor::Fcm,
            "ios" if self.apns => Vendor::Apns,
            // No vendor for it (a desktop, or credentials not configured): the poll serves.
            _ => return,
        };
        let Some(token) = message.push_token.filter(|t| !t.is_empty()) else {
            return;
        };
        let job = Job {
            vendor,
            device_id: message.device_id,
            token,
            challenge_id: message.challenge_id,
            deadline: Instant::now() + self.lifetime,
        };
        // Never waits: a full queue (or a stopped worker) drops the push.
        if self.queue.try_send(job).is_err() {
            count_failure(&self.failed, vendor, "queue_full");
        }
    }
}

fn count_failure(
    failed: &Family<PushFailureLabels, Counter>,
    vendor: Vendor,
    reason: &'static str,
) {
    failed
        .get_or_create(&PushFailureLabels {
            vendor: vendor.label(),
            reason,
        })
        .inc();
}

impl Worker {
    /// Takes jobs until the queue's sender (the server) is gone.
    async fn run(self: Arc<Self>, mut jobs: mpsc::Receiver<Job>) {
        let slots = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        while let Some(job) = jobs.recv().await {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let worker = self.clone();
            tokio::spawn(async move {
                worker.deliver(job).await;
                drop(slot);
            });
        }
    }

    /// Tries `job` until delivered, refused, or out of tries or time.
    async fn deliver(&self, job: Job) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = match job.vendor {
                Vendor::Fcm => match &self.fcm {
                    Some(fcm) => fcm.send(&job.token, &job.challenge_id).await,
                    None => return,
                },
                Vendor::Apns => match &self.apns {
                    Some(apns) => apns.send(&job.token, &job.challenge_id).await,
                    None => return,
                },
            };
            match outcome {
                Outcome::Delivered => {
                    self.sent
                        .get_or_create(&VendorLabel {
                            vendor: job.vendor.label(),
                        })
                        .inc();
                    return;
                }
                Outcome::Stale => {
                    count_failure(&self.failed, job.vendor, "unregistered");
                    self.mark_stale(&job).await;
                    return;
                }
                Outcome::Rejected => {
                    count_failure(&self.failed, job.vendor, "rejected");
                    crate::log(&format!(
                        "push to device {}: refused by {}",
                        job.device_id,
                        job.vendor.label()
                    ));
                    return;
                }
                Outcome::Retry { after } => {
                    count_failure(&self.failed, job.vendor, "unavailable");
                    let wait = self.backoff(attempt, after);
                    if attempt >= self.config.max_attempts || Instant::now() + wait > job.deadline {
                        count_failure(&self.failed, job.vendor, "gave_up");
                        return;
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// The wait before try `attempt + 1`: exponential, half of it random (so that many
    /// pushes failing together do not come back together), never shorter than the
    /// vendor's `Retry-After`.
    fn backoff(&self, attempt: u32, retry_after: Option<u64>) -> Duration {
        let doubled = self
            .config
            .retry_base
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let ceiling = doubled.min(self.config.retry_cap);
        let mut random = [0u8; 4];
        let fraction = match SystemRandom::new().fill(&mut random) {
            Ok(()) => f64::from(u32::from_le_bytes(random)) / f64::from(u32::MAX),
            Err(_) => 1.0,
        };
        let jittered = ceiling / 2 + ceiling.mul_f64(fraction / 2.0);
        jittered.max(Duration::from_secs(retry_after.unwrap_or(0)))
    }

    /// Clears the device's token, if it is still this one (the phone may have sent a new
    /// one since).
    async fn mark_stale(&self, job: &Job) {
        let store = self.store.clone();
        let (device, token) = (job.device_id.clone(), job.token.clone());
        let done =
            tokio::task::spawn_blocking(move || store.device_push_token_stale(&device, &token))
                .await;
        if !matches!(done, Ok(Ok(_))) {
            crate::log(&format!(
                "push: could not mark device {}'s token stale",
                job.device_id
            ));
        }
    }
}
