//! The parsed command line (with the file under it) turned into the server's `Config` and
//! state: the one place where a setting becomes what the server runs with.

use std::time::Duration;

use cityauth_server::auditlog::AuditExportConfig;
use cityauth_server::config::{DirectoryChoice, HelpdeskConfig};
use cityauth_server::directory::options::Opened;
use cityauth_server::kek::KekConfig;
use cityauth_server::notify::{MailConfig, MailTls};
use cityauth_server::password::Blocklist;
use cityauth_server::push::config::{APNS_BASE, FCM_BASE};
use cityauth_server::push::{ApnsConfig, FcmConfig, PushConfig};
use cityauth_server::settings::{
    FileSettings, HelpdeskSettings, MailSettings, apply_limits, limits_from_env,
};
use cityauth_server::{AppState, Config};

use crate::args::{Cli, Command, Serve};

/// Where `serve` remembers its public URL for the admin commands.
pub const PUBLIC_URL_SETTING: &str = "public_url";
/// The public URL when none was ever given.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The configuration `cli` (and `file`, for the limits) gives, with `serve`'s settings when
/// serving; `stored_url` is the public URL a previous `serve` remembered.
pub fn config(
    cli: &Cli,
    serve: Option<&Serve>,
    file: &FileSettings,
    stored_url: Option<String>,
) -> Result<Config, String> {
    let public_url = cli
        .public_url
        .clone()
        .or(stored_url)
        .unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned());
    if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
        return Err(format!("public_url: {public_url} is not an http(s) URL"));
    }
    let mut config = Config::new(&public_url);
    config.kek = match (&cli.kek_file, &cli.kek_env) {
        (Some(path), _) => KekConfig::File(path.clone()),
        (None, Some(name)) => KekConfig::Env(name.clone()),
        (None, None) => KekConfig::BesideDatabase,
    };
    if let Some(path) = &cli.password_blocklist {
        config.password_blocklist = Blocklist::from_file(path)
            .map_err(|e| format!("password blocklist {}: {e}", path.display()))?;
    }
    let limits =
        limits_from_env(std::env::vars(), file.limits.clone()).map_err(|e| e.to_string())?;
    apply_limits(&mut config.limits, &limits).map_err(|e| e.to_string())?;
    if let Some(reminders) = file.portal.register_reminders {
        config.register_reminders = reminders;
    }
    config.push = push(file)?;
    config.mail = file.mail.as_ref().map(mail).transpose()?;
    config.helpdesk = helpdesk(&file.helpdesk)?;
    config.audit_export = AuditExportConfig {
        file: file.audit.file.clone(),
        syslog: file.audit.syslog.clone(),
    };
    if let Some(serve) = serve {
        config.number_digits = serve.number_digits;
        config.challenge_lifetime = serve.challenge_lifetime;
        config
            .edge
            .trusted_proxies
            .clone_from(&serve.trusted_proxies);
        config.edge.proxy_header = serve.proxy_header;
        config.edge.header_timeout = Duration::from_secs(serve.header_timeout);
        config.edge.body_timeout = Duration::from_secs(serve.body_timeout);
        config.edge.send_timeout = Duration::from_secs(serve.send_timeout);
        config.edge.max_connections = serve.max_connections;
        config.first_device = serve.first_device;
        config.metrics_allow.clone_from(&serve.metrics_allow);
    }
    Ok(config)
}

/// `[push]` as the push module's settings; `None` (pushes only logged, phones long-poll)
/// when neither vendor is configured. The keys are read when the server starts.
fn push(file: &FileSettings) -> Result<Option<PushConfig>, String> {
    let p = &file.push;
    if p.fcm.is_none() && p.apns.is_none() {
        return Ok(None);
    }
    let mut config = PushConfig {
        fcm: p.fcm.as_ref().map(|f| FcmConfig {
            service_account: f.service_account.clone(),
            base_url: f.base_url.clone().unwrap_or_else(|| FCM_BASE.to_owned()),
            ca_file: f.ca_file.clone(),
        }),
        apns: p.apns.as_ref().map(|a| ApnsConfig {
            key_file: a.key_file.clone(),
            key_id: a.key_id.clone(),
            team_id: a.team_id.clone(),
            topic: a.topic.clone(),
            base_url: a.base_url.clone().unwrap_or_else(|| APNS_BASE.to_owned()),
            ca_file: a.ca_file.clone(),
        }),
        ..PushConfig::default()
    };
    if let Some(capacity) = p.queue_capacity {
        if capacity == 0 {
            return Err("push.queue_capacity: at least 1".into());
        }
        config.queue_capacity = capacity;
    }
    if let Some(attempts) = p.max_attempts {
        if attempts == 0 {
            return Err("push.max_attempts: at least 1".into());
        }
        config.max_attempts = attempts;
    }
    Ok(Some(config))
}

/// `[helpdesk]` as the console's settings: the bounds must hold the default.
fn helpdesk(h: &HelpdeskSettings) -> Result<HelpdeskConfig, String> {
    let defaults = HelpdeskConfig::default();
    let config = HelpdeskConfig {
        operator_group: h.operator_group.clone(),
        auditor_group: h.auditor_group.clone(),
        code_minutes_min: h.code_minutes_min.unwrap_or(defaults.code_minutes_min),
        code_minutes_max: h.code_minutes_max.unwrap_or(defaults.code_minutes_max),
        code_minutes_default: h
            .code_minutes_default
            .unwrap_or(defaults.code_minutes_default),
        verification_seconds: defaults.verification_seconds,
    };
    let ordered = 1 <= config.code_minutes_min
        && config.code_minutes_min <= config.code_minutes_default
        && config.code_minutes_default <= config.code_minutes_max;
    if !ordered {
        return Err(format!(
            "helpdesk.code_minutes_*: need 1 <= min ({}) <= default ({}) <= max ({})",
            config.code_minutes_min, config.code_minutes_default, config.code_minutes_max
        ));
    }
    Ok(config)
}

/// `[mail]` as the mail queue's settings (the files it names are read when the server starts).
fn mail(m: &MailSettings) -> Result<MailConfig, String> {
    let mut config = MailConfig::new(&m.host, &m.from);
    config.tls = match m.tls.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("starttls") => MailTls::StartTls,
        Some("tls") => MailTls::Wrapper,
        Some(other) => return Err(format!("mail.tls: {other:?} is not starttls or tls")),
    };
    config.port = m.port.unwrap_or(match config.tls {
        MailTls::StartTls => 587,
        MailTls::Wrapper => 465,
    });
    config.security_team.clone_from(&m.security_team);
    config.username.clone_from(&m.username);
    config.password_file.clone_from(&m.password_file);
    config.ca_file.clone_from(&m.ca_file);
    let at_least_one = |setting: &str, value: u64| {
        if value == 0 {
            Err(format!("mail.{setting}: at least 1"))
        } else {
            Ok(value)
        }
    };
    if let Some(seconds) = m.timeout {
        config.timeout = Duration::from_secs(at_least_one("timeout", seconds)?);
    }
    if let Some(tries) = m.max_attempts {
        config.max_attempts = at_least_one("max_attempts", tries.into())? as u32;
    }
    if let Some(seconds) = m.first_retry {
        config.first_retry = Duration::from_secs(at_least_one("first_retry", seconds)?);
    }
    if let Some(capacity) = m.queue_capacity {
        config.queue_capacity = at_least_one("queue_capacity", capacity as u64)? as usize;
    }
    Ok(config)
}

/// Opens the store and the directory and makes the state the command runs with.
pub fn state(cli: &Cli, file: &FileSettings) -> Result<(AppState, Option<Opened>), String> {
    let store = cli
        .db
        .open_with(cli.durability(), cli.db_pool_size as usize)
        .map_err(|e| e.to_string())?;
    let stored = store
        .setting(PUBLIC_URL_SETTING)
        .map_err(|e| e.to_string())?
        .and_then(|v| String::from_utf8(v).ok());
    let serve = match &cli.command {
        Command::Serve(serve) => Some(serve),
        _ => None,
    };
    let mut config = config(cli, serve, file, stored)?;
    if serve.is_some() {
        store
            .setting_set(PUBLIC_URL_SETTING, config.public_url.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    // Opening connects to nothing: the first connection is made on the runtime that serves.
    let directory = cli.directory.open().map_err(|e| e.to_string())?;
    if let Some(opened) = &directory {
        config.directory = DirectoryChoice::External(opened.directory.clone());
    }
    let kek = AppState::load_kek(store.as_ref(), &config, cli.db.sqlite_path())
        .map_err(|e| e.to_string())?;
    let state = AppState::with_kek(store, config, None, kek).map_err(|e| e.to_string())?;
    Ok((state, directory))
}
