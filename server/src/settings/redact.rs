//! The effective configuration as `config check` prints it, secrets redacted: the database
//! URL's password, and only the names of the files and variables holding the KEK, the
//! directory's service password and the push keys, never their contents.

use std::fmt::Write;

use crate::config::Config;

/// What replaces a secret.
const REDACTED: &str = "<redacted>";

/// `url` with the password of its user part (`user:password@`) and any `password=` parameter
/// replaced; anything that does not parse as a URL is redacted whole.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return REDACTED.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:{REDACTED}@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}={REDACTED}")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The effective configuration: `extra` lines (the database, where the secrets come from,
/// the directory, push: already redacted by the caller) then every setting of `config`.
pub fn render(config: &Config, extra: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (key, value) in extra {
        let _ = writeln!(out, "{key} = {value}");
    }
    let _ = writeln!(out, "public_url = {}", config.public_url);
    let _ = writeln!(out, "serve.number_digits = {}", config.number_digits);
    let _ = writeln!(
        out,
        "serve.challenge_lifetime = {}",
        config.challenge_lifetime
    );
    let _ = writeln!(out, "serve.first_device = {:?}", config.first_device);
    let _ = writeln!(out, "serve.metrics_allow = {:?}", config.metrics_allow);
    let _ = writeln!(
        out,
        "portal.register_reminders = {}",
        config.register_reminders
    );
    let edge = &config.edge;
    let _ = writeln!(out, "edge.trusted_proxies = {:?}", edge.trusted_proxies);
    let _ = writeln!(out, "edge.proxy_header = {:?}", edge.proxy_header);
    let _ = writeln!(
        out,
        "edge.header_timeout = {}",
        edge.header_timeout.as_secs()
    );
    let _ = writeln!(out, "edge.body_timeout = {}", edge.body_timeout.as_secs());
    let _ = writeln!(out, "edge.send_timeout = {}", edge.send_timeout.as_secs());
    let _ = writeln!(out, "edge.max_connections = {}", edge.max_connections);
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let export = &config.audit_export;
    let _ = writeln!(out, "audit.file = {:?}", path(&export.file));
    let _ = writeln!(out, "audit.syslog = {:?}", path(&export.syslog));
    let h = &config.helpdesk;
    let _ = writeln!(out, "helpdesk.operator_group = {:?}", h.operator_group);
    let _ = writeln!(out, "helpdesk.auditor_group = {:?}", h.auditor_group);
    let _ = writeln!(
        out,
        "helpdesk.code_minutes = {} to {} (default {})",
        h.code_minutes_min, h.code_minutes_max, h.code_minutes_default
    );
    if let Some(mail) = &config.mail {
        let _ = writeln!(
            out,
            "mail.host = {}:{} ({:?})",
            mail.host, mail.port, mail.tls
        );
        let _ = writeln!(out, "mail.from = {}", mail.from);
        let _ = writeln!(out, "mail.security_team = {:?}", mail.security_team);
        let _ = writeln!(out, "mail.password_file = {:?}", path(&mail.password_file));
        let _ = writeln!(out, "mail.max_attempts = {}", mail.max_attempts);
    }
    let l = &config.limits;
    let rates = [
        ("reset_start_per_user", l.reset_start_per_user),
        ("reset_start_per_user_ip", l.reset_start_per_user_ip),
        ("reset_start_per_ip", l.reset_start_per_ip),
        ("code_per_user", l.code_per_user),
        ("code_per_user_ip", l.code_per_user_ip),
        ("code_per_ip", l.code_per_ip),
        ("sign_in_per_user", l.sign_in_per_user),
        ("sign_in_per_user_ip", l.sign_in_per_user_ip),
        ("sign_in_per_ip", l.sign_in_per_ip),
        ("push_anonymous", l.push_anonymous),
        ("push_after_password", l.push_after_password),
    ];
    for (name, limit) in rates {
        let _ = writeln!(
            out,
            "limits.{name} = {{ max = {}, window = {} }}",
            limit.max, limit.window
        );
    }
    let numbers = [
        ("code_tries", u64::from(l.code_tries)),
        ("lock_after", u64::from(l.lock_after)),
        ("lock_seconds", l.lock_seconds),
        ("lock_max_seconds", l.lock_max_seconds),
        ("disable_after", u64::from(l.disable_after)),
        ("trusted_client_seconds", l.trusted_client_seconds),
        ("limiter_keys", l.limiter_keys as u64),
    ];
    for (name, value) in numbers {
        let _ = writeln!(out, "limits.{name} = {value}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_password_never_shows() {
        assert_eq!(
            redact_url("postgres://city:s3cret@db.city.example:5432/auth?sslmode=require"),
            "postgres://city:<redacted>@db.city.example:5432/auth?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://db/auth?user=city&password=s3cret"),
            "postgresql://db/auth?user=city&password=<redacted>"
        );
        assert_eq!(
            redact_url("postgres://city@db/auth"),
            "postgres://city@db/auth"
        );
        assert_eq!(redact_url("not a url s3cret"), "<redacted>");
        let listing = render(&Config::new("https://auth.city.example"), &[]);
        assert!(
            listing.contains("limits.") || listing.contains("code_tries: 5"),
            "{listing}"
        );
    }
}
