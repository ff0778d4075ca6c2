//! The configuration's layers: a TOML file (`--config`, [`FileSettings`]) under the
//! `CITYAUTH_*` environment variables under the flags. The flags and the variables of the
//! same names are clap's (`cityauth-server --help` lists them); this module reads the file,
//! the limits' variables (`CITYAUTH_LIMITS_<FIELD>`, which have no flags), applies them to a
//! [`Config`], and prints the effective configuration with its secrets redacted
//! (`cityauth-server config check`).

mod file;
mod limits;
mod redact;

pub use file::{
    ApnsSettings, AuditSettings, DatabaseSettings, DirectorySettings, EdgeSettings, FcmSettings,
    FileSettings, HelpdeskSettings, LimitSetting, LimitSettings, MailSettings, PortalSettings,
    PushSettings, ServeSettings,
};
pub use limits::{apply_limits, limits_from_env};
pub use redact::{redact_url, render};

/// A setting that is wrong; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The file cannot be read or parsed, or has a key that does not exist.
    #[error("configuration file: {0}")]
    File(String),
    /// A value out of its range or of the wrong form.
    #[error("{setting}: {why}")]
    Invalid {
        /// The setting, as the file or the environment names it.
        setting: String,
        /// What is wrong with it.
        why: String,
    },
}

impl SettingsError {
    /// A wrong value of `setting`.
    pub fn invalid(setting: impl Into<String>, why: impl Into<String>) -> Self {
        Self::Invalid {
            setting: setting.into(),
            why: why.into(),
        }
    }
}
