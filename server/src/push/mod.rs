//! Push delivery. The message carries only the challenge id: it wakes the app, which fetches
//! the challenge over the signed channel, so a push seen by the vendor reveals nothing but
//! that a challenge exists. The long poll is the fallback that always works: a push lost,
//! refused or dropped only means the phone learns of the challenge at its next poll.
//!
//! [`PushQueue`] is the real sender: the request path only puts a message in a bounded
//! queue; a worker thread of its own delivers to FCM ([`fcm`]) or APNs ([`apns`]) with
//! retries ([`queue`]). [`LogPushSender`] (the default without push credentials) logs.

pub mod apns;
pub mod config;
pub mod fcm;
mod http;
pub mod jwt;
pub mod queue;

use std::sync::Mutex;

pub use config::{ApnsConfig, FcmConfig, PushConfig, PushConfigError};
pub use queue::PushQueue;

/// One push: to which device (and its push token), for which challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    /// The device.
    pub device_id: String,
    /// The device's platform (`android`, `ios`, `desktop`): which vendor carries it.
    pub platform: String,
    /// The device's push token, if it gave one.
    pub push_token: Option<String>,
    /// The challenge to fetch: the whole payload.
    pub challenge_id: String,
}

/// Delivers pushes (FCM, APNs, or the log).
pub trait PushSender: Send + Sync {
    /// Sends one message without waiting for the vendor; failures are the sender's to count
    /// (the device also long-polls).
    fn send(&self, message: PushMessage);
}

/// The default sender: logs each message and keeps it.
#[derive(Debug, Default)]
pub struct LogPushSender {
    sent: Mutex<Vec<PushMessage>>,
}

/// Messages kept, newest last; older ones are dropped.
const KEPT: usize = 1000;

impl LogPushSender {
    /// The messages sent so far (newest last).
    pub fn sent(&self) -> Vec<PushMessage> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl PushSender for LogPushSender {
    fn send(&self, message: PushMessage) {
        crate::log(&format!(
            "push to device {}: challenge {}",
            message.device_id, message.challenge_id
        ));
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        if sent.len() >= KEPT {
            sent.remove(0);
        }
        sent.push(message);
    }
}

/// What one try at a vendor came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The vendor accepted it.
    Delivered,
    /// The vendor says the token is no longer valid: mark it stale, never retry.
    Stale,
    /// A permanent refusal that is not the token's (counted; not retried).
    Rejected,
    /// Worth another try, after at least `after` seconds if the vendor said.
    Retry {
        /// The vendor's `Retry-After`.
        after: Option<u64>,
    },
}
