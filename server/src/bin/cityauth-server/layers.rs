//! The configuration file under the variables and flags: a file value is taken only where
//! neither the command line nor a `CITYAUTH_*` variable gave that setting (clap tells which,
//! by each value's source), so the precedence is file < environment < flags throughout.

use clap::ArgMatches;
use clap::parser::ValueSource;

use cityauth_server::directory::options::parse_kind;
use cityauth_server::settings::{FileSettings, SettingsError};
use cityauth_server::store::StoreLocation;

use crate::args::{
    Cli, Command, ConfigCommand, Serve, parse_digits, parse_durability, parse_first_device,
};

/// True when `id` came from neither the command line nor the environment.
fn unset(matches: &ArgMatches, id: &str) -> bool {
    !matches!(
        matches.try_get_raw(id).ok().and(matches.value_source(id)),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// Parses a file value with the flag's parser, naming the file's key on failure.
fn parsed<T>(
    key: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, SettingsError> {
    parse(value).map_err(|why| SettingsError::invalid(key, why))
}

fn from_str<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, SettingsError>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|e: T::Err| SettingsError::invalid(key, e.to_string()))
}

/// Fills `cli` from `file` where the flags and variables left a setting unset.
pub fn apply(
    cli: &mut Cli,
    matches: &ArgMatches,
    file: &FileSettings,
) -> Result<(), SettingsError> {
    let m = matches;
    if unset(m, "db")
        && let Some(db) = &file.db
    {
        cli.db = StoreLocation::parse(db);
    }
    if unset(m, "durability")
        && let Some(v) = &file.database.durability
    {
        cli.durability = Some(parsed("database.durability", v, parse_durability)?);
    }
    if unset(m, "db_pool_size")
        && let Some(v) = file.database.pool_size
    {
        if !(1..=256).contains(&v) {
            return Err(SettingsError::invalid("database.pool_size", "1 to 256"));
        }
        cli.db_pool_size = v;
    }
    if unset(m, "public_url") && file.public_url.is_some() {
        cli.public_url.clone_from(&file.public_url);
    }
    if unset(m, "password_blocklist") && file.password_blocklist.is_some() {
        cli.password_blocklist.clone_from(&file.password_blocklist);
    }
    // The key's two sources exclude each other: either given here wins over both in the file.
    if unset(m, "kek_file") && unset(m, "kek_env") {
        if file.kek_file.is_some() && file.kek_env.is_some() {
            return Err(SettingsError::invalid(
                "kek_file",
                "give kek_file or kek_env, not both",
            ));
        }
        cli.kek_file.clone_from(&file.kek_file);
        cli.kek_env.clone_from(&file.kek_env);
    }
    if unset(m, "log_format")
        && let Some(v) = &file.log_format
    {
        cli.log_format = from_str("log_format", v)?;
    }
    directory(cli, m, file)?;
    match &mut cli.command {
        Command::Serve(serve) => {
            let sub = m.subcommand_matches("serve").unwrap_or(m);
            apply_serve(serve, sub, file)
        }
        Command::Config {
            command: ConfigCommand::Check(serve),
        } => {
            let sub = m
                .subcommand_matches("config")
                .and_then(|c| c.subcommand_matches("check"))
                .unwrap_or(m);
            apply_serve(serve, sub, file)
        }
        _ => Ok(()),
    }
}

fn directory(cli: &mut Cli, m: &ArgMatches, file: &FileSettings) -> Result<(), SettingsError> {
    let f = &file.directory;
    let d = &mut cli.directory;
    if unset(m, "kind")
        && let Some(v) = &f.kind
    {
        d.kind = parsed("directory.kind", v, parse_kind)?;
    }
    let text = |id: &str, target: &mut Option<String>, value: &Option<String>| {
        if unset(m, id) && value.is_some() {
            target.clone_from(value);
        }
    };
    text("url", &mut d.url, &f.url);
    text("base_dn", &mut d.base_dn, &f.base_dn);
    text("bind_dn", &mut d.bind_dn, &f.bind_dn);
    text("user_attribute", &mut d.user_attribute, &f.user_attribute);
    text("scope_group", &mut d.scope_group, &f.scope_group);
    if unset(m, "password_file") && unset(m, "password_env") {
        if f.password_file.is_some() && f.password_env.is_some() {
            return Err(SettingsError::invalid(
                "directory.password_file",
                "give password_file or password_env, not both",
            ));
        }
        d.password_file.clone_from(&f.password_file);
        d.password_env.clone_from(&f.password_env);
    }
    if unset(m, "ca_file") && f.ca_file.is_some() {
        d.ca_file.clone_from(&f.ca_file);
    }
    if unset(m, "protected_groups")
        && let Some(groups) = &f.protected_groups
    {
        d.protected_groups.clone_from(groups);
    }
    if unset(m, "timeout")
        && let Some(v) = f.timeout
    {
        if !(1..=120).contains(&v) {
            return Err(SettingsError::invalid(
                "directory.timeout",
                "1 to 120 seconds",
            ));
        }
        d.timeout = v;
    }
    if unset(m, "pool_size")
        && let Some(v) = f.pool_size
    {
        if !(1..=64).contains(&v) {
            return Err(SettingsError::invalid("directory.pool_size", "1 to 64"));
        }
        d.pool_size = v;
    }
    Ok(())
}

fn apply_serve(
    serve: &mut Serve,
    m: &ArgMatches,
    file: &FileSettings,
) -> Result<(), SettingsError> {
    let (s, e) = (&file.serve, &file.edge);
    if unset(m, "listen")
        && let Some(v) = &s.listen
    {
        serve.listen = from_str("serve.listen", v)?;
    }
    if unset(m, "number_digits")
        && let Some(v) = s.number_digits
    {
        serve.number_digits = parsed("serve.number_digits", &v.to_string(), parse_digits)?;
    }
    if unset(m, "challenge_lifetime")
        && let Some(v) = s.challenge_lifetime
    {
        if !(10..=120).contains(&v) {
            return Err(SettingsError::invalid(
                "serve.challenge_lifetime",
                "10 to 120 seconds",
            ));
        }
        serve.challenge_lifetime = v;
    }
    if unset(m, "first_device")
        && let Some(v) = &s.first_device
    {
        serve.first_device = parsed("serve.first_device", v, parse_first_device)?;
    }
    if unset(m, "metrics_allow")
        && let Some(list) = &s.metrics_allow
    {
        serve.metrics_allow = list
            .iter()
            .map(|c| from_str("serve.metrics_allow", c))
            .collect::<Result<_, _>>()?;
    }
    if unset(m, "trusted_proxies")
        && let Some(list) = &e.trusted_proxies
    {
        serve.trusted_proxies = list
            .iter()
            .map(|c| from_str("edge.trusted_proxies", c))
            .collect::<Result<_, _>>()?;
    }
    if unset(m, "proxy_header")
        && let Some(v) = &e.proxy_header
    {
        serve.proxy_header = from_str("edge.proxy_header", v)?;
    }
    let seconds = |id: &str, target: &mut u64, value: Option<u64>| {
        if unset(m, id)
            && let Some(v) = value
        {
            if v == 0 {
                return Err(SettingsError::invalid(
                    format!("edge.{id}"),
                    "at least 1 second",
                ));
            }
            *target = v;
        }
        Ok(())
    };
    seconds(
        "header_timeout",
        &mut serve.header_timeout,
        e.header_timeout,
    )?;
    seconds("body_timeout", &mut serve.body_timeout, e.body_timeout)?;
    seconds("send_timeout", &mut serve.send_timeout, e.send_timeout)?;
    if unset(m, "max_connections")
        && let Some(v) = e.max_connections
    {
        if v == 0 {
            return Err(SettingsError::invalid("edge.max_connections", "at least 1"));
        }
        serve.max_connections = v;
    }
    Ok(())
}
