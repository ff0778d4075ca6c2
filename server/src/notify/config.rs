//! How the server reaches the City's mail relay (`[mail]` in the configuration file), and
//! how hard it tries before giving a message up.

use std::path::PathBuf;
use std::time::Duration;

/// How the connection to the relay is secured. There is no clear-text mode: the messages
/// name employees and what happened to their accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MailTls {
    /// Plain SMTP upgraded by `STARTTLS`, which the relay must offer (port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Wrapper,
}

/// The relay and the queue's settings.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The relay's host name (its certificate must name it).
    pub host: String,
    /// The relay's port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: MailTls,
    /// The sender, `Name <address>` or an address.
    pub from: String,
    /// The security team's address: told of fraud reports and push floods (none: not told).
    pub security_team: Option<String>,
    /// The relay account's name, if the relay wants one.
    pub username: Option<String>,
    /// The file holding the relay account's password (never the password in a setting).
    pub password_file: Option<PathBuf>,
    /// A CA file the relay's certificate must chain to (default: the web's roots).
    pub ca_file: Option<PathBuf>,
    /// The longest one SMTP conversation may take.
    pub timeout: Duration,
    /// Tries of one message before it is given up.
    pub max_attempts: u32,
    /// The wait before the second try; each further one doubles, up to [`MAX_RETRY_WAIT`].
    pub first_retry: Duration,
    /// Notices waiting to be sent at most; more are dropped (counted and logged).
    pub queue_capacity: usize,
}

/// The longest wait between two tries of a message.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(15 * 60);

impl MailConfig {
    /// The defaults for the relay `host` sending as `from`: STARTTLS on 587, eight tries
    /// over about an hour.
    pub fn new(host: &str, from: &str) -> Self {
        Self {
            host: host.to_owned(),
            port: 587,
            tls: MailTls::StartTls,
            from: from.to_owned(),
            security_team: None,
            username: None,
            password_file: None,
            ca_file: None,
            timeout: Duration::from_secs(30),
            max_attempts: 8,
            first_retry: Duration::from_secs(30),
            queue_capacity: 10_000,
        }
    }

    /// The wait after the `failures`-th failed try (1 for the first).
    pub fn retry_wait(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(20);
        self.first_retry
            .saturating_mul(1 << doublings)
            .min(MAX_RETRY_WAIT)
    }
}

/// A mail setting that cannot be used; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("mail.{setting}: {why}")]
pub struct MailConfigError {
    /// The setting, as the file names it.
    pub setting: &'static str,
    /// What is wrong.
    pub why: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_up_to_the_cap() {
        let mut config = MailConfig::new("relay.city.test", "noreply@city.test");
        config.first_retry = Duration::from_secs(30);
        assert_eq!(config.retry_wait(1), Duration::from_secs(30));
        assert_eq!(config.retry_wait(2), Duration::from_secs(60));
        assert_eq!(config.retry_wait(5), Duration::from_secs(480));
        assert_eq!(config.retry_wait(6), MAX_RETRY_WAIT);
        assert_eq!(config.retry_wait(u32::MAX), MAX_RETRY_WAIT);
    }
}
