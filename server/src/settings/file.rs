//! The configuration file's shape (`--config PATH`, TOML). Every key is optional (a missing
//! one keeps the environment's, the flag's or the built-in default), and an unknown key is
//! an error naming it, so a misspelt setting never silently does nothing.

use std::path::PathBuf;

use serde::Deserialize;

use super::SettingsError;

/// The whole file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// The database: a SQLite path or a `postgres://` URL (as `--db`).
    pub db: Option<String>,
    /// The base URL devices reach (as `--public-url`).
    pub public_url: Option<String>,
    /// A file of refused passwords (as `--password-blocklist`).
    pub password_blocklist: Option<PathBuf>,
    /// The key-encryption key's file (as `--kek-file`).
    pub kek_file: Option<PathBuf>,
    /// The environment variable holding the key-encryption key (as `--kek-env`).
    pub kek_env: Option<String>,
    /// `json` or `text` (as `--log-format`).
    pub log_format: Option<String>,
    /// The database's own settings.
    #[serde(default)]
    pub database: DatabaseSettings,
    /// `serve`'s settings.
    #[serde(default)]
    pub serve: ServeSettings,
    /// The employee portal.
    #[serde(default)]
    pub portal: PortalSettings,
    /// The network edge (as the `serve` flags of the same names).
    #[serde(default)]
    pub edge: EdgeSettings,
    /// Rate limits, caps and lockouts (`crate::Limits`, by field name).
    #[serde(default)]
    pub limits: LimitSettings,
    /// The directory (as the `--directory-*` flags, without the prefix).
    #[serde(default)]
    pub directory: DirectorySettings,
    /// Push delivery credentials.
    #[serde(default)]
    pub push: PushSettings,
    /// The mail relay the notices go through (absent: no email is sent).
    pub mail: Option<MailSettings>,
    /// Where audit events are exported for the City's SIEM.
    #[serde(default)]
    pub audit: AuditSettings,
    /// The help-desk console.
    #[serde(default)]
    pub helpdesk: HelpdeskSettings,
}

/// `[helpdesk]`: the groups whose members hold the console's roles, and the bounds of an
/// access code's lifetime (minutes).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskSettings {
    /// The directory group (DN) of the operators.
    pub operator_group: Option<String>,
    /// The directory group (DN) of the auditors.
    pub auditor_group: Option<String>,
    /// The shortest lifetime an operator may give an access code.
    pub code_minutes_min: Option<u64>,
    /// The longest.
    pub code_minutes_max: Option<u64>,
    /// The one the console offers first.
    pub code_minutes_default: Option<u64>,
}

/// `[audit]`: the export of the audit trail (both keys may be given).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// A file the events are appended to as JSON Lines.
    pub file: Option<PathBuf>,
    /// A local syslog socket (`/dev/log`) the events are sent to as RFC 5424 messages.
    pub syslog: Option<PathBuf>,
}

/// `[mail]`: the City's relay, the sender and the security team's address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The relay's host name.
    pub host: String,
    /// The relay's port (default 587; 465 with `tls = "tls"`).
    pub port: Option<u16>,
    /// `starttls` (the default) or `tls` (TLS from the first byte).
    pub tls: Option<String>,
    /// The sender, `Name <address>` or an address.
    pub from: String,
    /// The security team's address, told of fraud reports and push floods.
    pub security_team: Option<String>,
    /// The relay account's name.
    pub username: Option<String>,
    /// The file holding the relay account's password.
    pub password_file: Option<PathBuf>,
    /// A CA file the relay's certificate must chain to (default: the web's roots).
    pub ca_file: Option<PathBuf>,
    /// Seconds one SMTP conversation may take.
    pub timeout: Option<u64>,
    /// Tries of one message before it is given up.
    pub max_attempts: Option<u32>,
    /// Seconds before the second try (each further wait doubles, up to 15 minutes).
    pub first_retry: Option<u64>,
    /// Notices waiting to be sent at most.
    pub queue_capacity: Option<usize>,
}

/// `[database]`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// SQLite's durability: `normal` or `full`.
    pub durability: Option<String>,
    /// PostgreSQL connections each server keeps (worker threads of the store's pool).
    pub pool_size: Option<u32>,
}

/// `[serve]`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeSettings {
    /// The address to listen on.
    pub listen: Option<String>,
    /// Digits of the number to match: 2 or 6.
    pub number_digits: Option<u8>,
    /// Seconds a challenge lives (at most the protocol's 120).
    pub challenge_lifetime: Option<u64>,
    /// `help-desk` or `password`.
    pub first_device: Option<String>,
    /// Blocks (besides the loopback) allowed to read `/metrics`.
    pub metrics_allow: Option<Vec<String>>,
}

/// `[portal]`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSettings {
    /// How many times an account with no phone may answer "remind me later" to the prompt
    /// to register one (`Config::register_reminders`; 0: it must register first).
    pub register_reminders: Option<u32>,
}

/// `[edge]`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSettings {
    /// Reverse proxies (addresses or CIDR blocks) whose proxy header names the client.
    pub trusted_proxies: Option<Vec<String>>,
    /// `x-forwarded-for` or `forwarded`.
    pub proxy_header: Option<String>,
    /// Seconds for a request's head.
    pub header_timeout: Option<u64>,
    /// Seconds for a request's body.
    pub body_timeout: Option<u64>,
    /// Seconds an answer's write may stall.
    pub send_timeout: Option<u64>,
    /// Connections served at once.
    pub max_connections: Option<usize>,
}

/// A rate limit in the file: `{ max = 30, window = 600 }`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSetting {
    /// Events allowed at once, and per window.
    pub max: u32,
    /// The window, seconds.
    pub window: u64,
}

/// `[limits]`: the fields of `crate::Limits`, each optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // Each field is the `crate::Limits` field of the same name.
pub struct LimitSettings {
    pub reset_start_per_user: Option<LimitSetting>,
    pub reset_start_per_user_ip: Option<LimitSetting>,
    pub reset_start_per_ip: Option<LimitSetting>,
    pub code_per_user: Option<LimitSetting>,
    pub code_per_user_ip: Option<LimitSetting>,
    pub code_per_ip: Option<LimitSetting>,
    pub sign_in_per_user: Option<LimitSetting>,
    pub sign_in_per_user_ip: Option<LimitSetting>,
    pub sign_in_per_ip: Option<LimitSetting>,
    pub code_tries: Option<u32>,
    pub push_anonymous: Option<LimitSetting>,
    pub push_after_password: Option<LimitSetting>,
    pub lock_after: Option<u32>,
    pub lock_seconds: Option<u64>,
    pub lock_max_seconds: Option<u64>,
    pub disable_after: Option<u32>,
    pub trusted_client_seconds: Option<u64>,
    pub limiter_keys: Option<usize>,
}

/// `[directory]`: the `--directory-*` flags by their names without the prefix.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySettings {
    /// `builtin`, `ad` or `ldap` (`--directory`).
    pub kind: Option<String>,
    /// `--directory-url`.
    pub url: Option<String>,
    /// `--directory-base-dn`.
    pub base_dn: Option<String>,
    /// `--directory-bind-dn`.
    pub bind_dn: Option<String>,
    /// `--directory-password-file` (the password itself is never a setting).
    pub password_file: Option<PathBuf>,
    /// `--directory-password-env`.
    pub password_env: Option<String>,
    /// `--directory-user-attribute`.
    pub user_attribute: Option<String>,
    /// `--directory-ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `--directory-scope-group`.
    pub scope_group: Option<String>,
    /// `--directory-protected-group`, several.
    pub protected_groups: Option<Vec<String>>,
    /// `--directory-timeout`, seconds.
    pub timeout: Option<u64>,
    /// `--directory-pool-size`.
    pub pool_size: Option<u64>,
}

/// `[push]`: which vendors wake the phones, and their credentials (files, never the keys
/// themselves in this file). The push module's `PushConfig` is built from these.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSettings {
    /// Firebase Cloud Messaging (Android).
    pub fcm: Option<FcmSettings>,
    /// Apple Push Notification service (iOS).
    pub apns: Option<ApnsSettings>,
    /// Pushes waiting to be sent at most; more are dropped (counted; the long poll remains).
    pub queue_capacity: Option<usize>,
    /// Tries of one push before it is given up.
    pub max_attempts: Option<u32>,
}

/// `[push.fcm]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcmSettings {
    /// The service account's JSON key file (holds its private key: keep it 0600).
    pub service_account: PathBuf,
    /// The API's base URL (default: Google's).
    pub base_url: Option<String>,
    /// A CA file the API's certificate must chain to (default: the web's roots).
    pub ca_file: Option<PathBuf>,
}

/// `[push.apns]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApnsSettings {
    /// The `.p8` token-signing key file (keep it 0600).
    pub key_file: PathBuf,
    /// The key's id (the JWT's `kid`).
    pub key_id: String,
    /// The Apple team id (the JWT's `iss`).
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// The API's base URL (default: Apple's production host).
    pub base_url: Option<String>,
    /// A CA file the API's certificate must chain to (default: the web's roots).
    pub ca_file: Option<PathBuf>,
}

impl FileSettings {
    /// Parses a file's text; the error names the key or the line that is wrong.
    pub fn parse(text: &str) -> Result<Self, SettingsError> {
        // The message and the line only: toml's full text quotes the line, and the `db`
        // line may hold a database password.
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            SettingsError::File(match line {
                Some(line) => format!("line {line}: {}", e.message()),
                None => e.message().to_owned(),
            })
        })
    }

    /// Reads and parses the file at `path`.
    pub fn read(path: &std::path::Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SettingsError::File(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| match e {
            SettingsError::File(why) => SettingsError::File(format!("{}: {why}", path.display())),
            other => other,
        })
    }
}
