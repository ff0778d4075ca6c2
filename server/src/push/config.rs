//! Push settings: which vendors, their credentials (paths and ids only: the keys are read
//! from their files at start, never kept in the settings, so printing the settings shows no
//! secret) and the queue's bounds.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// FCM's production endpoint.
pub const FCM_BASE: &str = "https://fcm.googleapis.com";
/// APNs' production endpoint.
pub const APNS_BASE: &str = "https://api.push.apple.com";
/// APNs' development (sandbox) endpoint, for apps signed for development.
pub const APNS_SANDBOX_BASE: &str = "https://api.sandbox.push.apple.com";

/// Push delivery: a vendor left `None` is not used (its devices still long-poll).
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// Android devices, through Firebase Cloud Messaging (HTTP v1).
    pub fcm: Option<FcmConfig>,
    /// iOS devices, through the Apple Push Notification service (token-based).
    pub apns: Option<ApnsConfig>,
    /// Messages waiting at most; past it a push is dropped and counted (`queue_full`).
    pub queue_capacity: usize,
    /// Deliveries in flight at most (a stalled vendor holds at most this many).
    pub concurrency: usize,
    /// Tries per message at most, the first included.
    pub max_attempts: u32,
    /// The first retry's mean delay; each next one doubles it (with full jitter), capped
    /// at `retry_cap`. A vendor's `Retry-After` is honoured when longer.
    pub retry_base: Duration,
    /// The longest delay between two tries.
    pub retry_cap: Duration,
    /// One request's limit (connect, TLS, answer).
    pub request_timeout: Duration,
}

/// Firebase Cloud Messaging credentials.
#[derive(Debug, Clone)]
pub struct FcmConfig {
    /// The service account's JSON key file (`client_email`, `private_key`, `token_uri`,
    /// `project_id`), as the Firebase console downloads it. Keep it 0600.
    pub service_account: PathBuf,
    /// The API's base URL (default [`FCM_BASE`]; tests point it at a stand-in).
    pub base_url: String,
    /// A PEM file of CAs to trust instead of the public roots (tests; a TLS-inspecting
    /// proxy). It applies to the token endpoint too.
    pub ca_file: Option<PathBuf>,
}

/// APNs token-based credentials (a `.p8` signing key from the Apple developer account).
#[derive(Debug, Clone)]
pub struct ApnsConfig {
    /// The `.p8` file (PKCS#8, P-256). Keep it 0600.
    pub key_file: PathBuf,
    /// The key's id (10 characters, shown beside it in the developer account).
    pub key_id: String,
    /// The team id (10 characters).
    pub team_id: String,
    /// The app's bundle id: the `apns-topic`.
    pub topic: String,
    /// The API's base URL (default [`APNS_BASE`]; [`APNS_SANDBOX_BASE`] for development
    /// builds; tests point it at a stand-in).
    pub base_url: String,
    /// A PEM file of CAs to trust instead of the public roots.
    pub ca_file: Option<PathBuf>,
}

/// A push setting that cannot work; the text names the setting.
#[derive(Debug, thiserror::Error)]
pub enum PushConfigError {
    /// A credentials or CA file could not be read or parsed.
    #[error("push: {setting} ({path}): {why}")]
    File {
        /// Which setting.
        setting: &'static str,
        /// The file.
        path: String,
        /// What is wrong (never the file's content).
        why: String,
    },
    /// A value is malformed.
    #[error("push: {setting}: {why}")]
    Value {
        /// Which setting.
        setting: &'static str,
        /// What is wrong.
        why: String,
    },
}

impl PushConfigError {
    /// A file error for `setting` at `path`.
    pub(crate) fn file(setting: &'static str, path: &Path, why: impl std::fmt::Display) -> Self {
        Self::File {
            setting,
            path: path.display().to_string(),
            why: why.to_string(),
        }
    }
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            fcm: None,
            apns: None,
            queue_capacity: 10_000,
            concurrency: 64,
            max_attempts: 5,
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(30),
            request_timeout: Duration::from_secs(15),
        }
    }
}

impl PushConfig {
    /// The settings from a configuration layer (file, environment, flags): FCM is used when
    /// `fcm_service_account` is given; APNs when `apns_key_file` is, which then needs its key
    /// id, team id and topic. Base URLs default to the vendors' production endpoints.
    #[allow(clippy::too_many_arguments)]
    pub fn from_settings(
        fcm_service_account: Option<PathBuf>,
        fcm_base_url: Option<String>,
        apns_key_file: Option<PathBuf>,
        apns_key_id: Option<String>,
        apns_team_id: Option<String>,
        apns_topic: Option<String>,
        apns_base_url: Option<String>,
        ca_file: Option<PathBuf>,
    ) -> Result<Self, PushConfigError> {
        let fcm = fcm_service_account.map(|service_account| FcmConfig {
            service_account,
            base_url: fcm_base_url.unwrap_or_else(|| FCM_BASE.to_owned()),
            ca_file: ca_file.clone(),
        });
        let apns = match apns_key_file {
            None => None,
            Some(key_file) => {
                let need = |value: Option<String>, setting: &'static str| {
                    value
                        .filter(|v| !v.is_empty())
                        .ok_or(PushConfigError::Value {
                            setting,
                            why: "required with push.apns_key_file".into(),
                        })
                };
                Some(ApnsConfig {
                    key_file,
                    key_id: need(apns_key_id, "push.apns_key_id")?,
                    team_id: need(apns_team_id, "push.apns_team_id")?,
                    topic: need(apns_topic, "push.apns_topic")?,
                    base_url: apns_base_url.unwrap_or_else(|| APNS_BASE.to_owned()),
                    ca_file,
                })
            }
        };
        Ok(Self {
            fcm,
            apns,
            ..Self::default()
        })
    }
}
