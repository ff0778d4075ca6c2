//! Push delivery. The message carries only the challenge id: it wakes the app, which fetches
//! the challenge over the signed channel. The default sender only logs and keeps messages;
//! FCM and APNs senders would implement the same trait.

use std::sync::Mutex;

/// One push: to which device (and its push token), for which challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    /// The device.
    pub device_id: String,
    /// The device's push token, if it gave one.
    pub push_token: Option<String>,
    /// The challenge to fetch: the whole payload.
    pub challenge_id: String,
}

/// Delivers pushes (FCM, APNs, or the log).
pub trait PushSender: Send + Sync {
    /// Sends one message; failures are the sender's to log (the device also long-polls).
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
