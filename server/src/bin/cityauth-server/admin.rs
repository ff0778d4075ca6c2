//! The administrator's commands: users, devices, the audit log, access codes; backup and
//! restore; and `config check`.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use cityauth_server::settings::{FileSettings, redact_url, render};
use cityauth_server::store::StoreLocation;
use cityauth_server::{AppState, admin, auditlog, helpdesk};

use crate::args::{Cli, Command, HelpdeskCommand, Serve, UserCommand};

/// `config check`: every setting parsed and checked as `serve` would (nothing is opened or
/// created), then printed with the secrets redacted.
pub fn config_check(cli: &Cli, serve: &Serve, file: &FileSettings) -> Result<(), String> {
    let config = crate::settings::config(cli, Some(serve), file, None)?;
    let directory = cli.directory.settings().map_err(|e| e.to_string())?;
    let mut extra: Vec<(&str, String)> = vec![
        (
            "db",
            match &cli.db {
                StoreLocation::Sqlite(path) => path.display().to_string(),
                StoreLocation::Postgres(url) => redact_url(url),
            },
        ),
        ("database.durability", format!("{:?}", cli.durability())),
        ("database.pool_size", cli.db_pool_size.to_string()),
        ("serve.listen", serve.listen.to_string()),
        ("log_format", cli.log_format.to_string()),
        (
            "kek",
            match (&cli.kek_file, &cli.kek_env) {
                (Some(path), _) => format!("the file {} (contents redacted)", path.display()),
                (None, Some(name)) => format!("the environment variable {name} (value redacted)"),
                (None, None) => "a file beside the SQLite database (contents redacted)".to_owned(),
            },
        ),
    ];
    match &directory {
        None => extra.push(("directory", "builtin".to_owned())),
        Some(settings) => {
            extra.push(("directory", format!("{:?}", cli.directory.kind)));
            extra.push(("directory.url", settings.url.clone()));
            extra.push(("directory.base_dn", settings.base_dn.clone()));
            extra.push(("directory.bind_dn", settings.bind_dn.clone()));
            extra.push((
                "directory.password",
                format!("from {} (redacted)", cli.directory.password_source()),
            ));
            extra.push((
                "directory.protected_groups",
                format!("{:?}", settings.protected_groups),
            ));
        }
    }
    if let Some(fcm) = &file.push.fcm {
        extra.push((
            "push.fcm.service_account",
            format!("{} (contents redacted)", fcm.service_account.display()),
        ));
    }
    if let Some(apns) = &file.push.apns {
        extra.push((
            "push.apns",
            format!(
                "key {} (contents redacted), key id {}, team {}, topic {}",
                apns.key_file.display(),
                apns.key_id,
                apns.team_id,
                apns.topic
            ),
        ));
    }
    if let Some(mail) = &config.mail {
        cityauth_server::notify::check(mail).map_err(|e| e.to_string())?;
    }
    print!("{}", render(&config, &extra));
    println!("configuration ok");
    Ok(())
}

/// `backup PATH`: the SQLite copy (0600), made while a server may be running.
pub fn backup(state: &AppState, path: &Path) -> Result<(), String> {
    state
        .store()
        .backup(path)
        .map_err(|e| format!("backup to {}: {e}", path.display()))?;
    println!("backed up to {}", path.display());
    Ok(())
}

/// `restore PATH`: the copy checked and put in place as the new SQLite database `--db`.
pub fn restore(cli: &Cli, copy: &Path) -> Result<(), String> {
    let Some(target) = cli.db.sqlite_path() else {
        return Err("restore is for SQLite; for PostgreSQL use pg_restore (docs/deploy.md)".into());
    };
    cityauth_server::backup::restore_sqlite(copy, target).map_err(|e| e.to_string())?;
    println!("restored {} as {}", copy.display(), target.display());
    Ok(())
}

/// The other commands, on an opened state.
pub fn run(state: &AppState, command: Command) -> Result<(), String> {
    let fail = |e: admin::AdminError| e.to_string();
    match command {
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    display_name,
                    email,
                },
        } => {
            if let Some(email) = &email {
                admin::check_mail(email).map_err(fail)?;
            }
            if std::io::stdin().is_terminal() {
                eprintln!("Password for {username} (one line):");
            }
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .map_err(|e| e.to_string())?;
            let password = zeroize::Zeroizing::new(password);
            let password = password.trim_end_matches(['\r', '\n']);
            admin::create_user(state, &username, &display_name, password).map_err(fail)?;
            if let Some(email) = &email {
                admin::set_mail(state, &username, Some(email)).map_err(fail)?;
            }
            println!("added {username}");
        }
        Command::User {
            command: UserCommand::SetEmail { username, email },
        } => {
            admin::set_mail(state, &username, Some(&email)).map_err(fail)?;
            println!("set the email address of {username}");
        }
        Command::Helpdesk { command } => {
            let (username, role, grant) = match command {
                HelpdeskCommand::Grant { username, role } => (username, role, true),
                HelpdeskCommand::Revoke { username, role } => (username, role, false),
            };
            let role = helpdesk::Role::parse(&role)
                .ok_or_else(|| format!("{role:?} is not a role: operator or auditor"))?;
            if grant {
                helpdesk::grant(state, &username, role).map_err(fail)?;
                println!("{username} is now a help-desk {}", role.as_str());
            } else if helpdesk::revoke(state, &username, role).map_err(fail)? {
                println!("{username} is no longer a help-desk {}", role.as_str());
            } else {
                println!("{username} was not a help-desk {}", role.as_str());
            }
        }
        Command::EnrollLink { username } => {
            let link = admin::enrollment_link(state, &username).map_err(fail)?;
            if std::io::stdout().is_terminal()
                && let Some(qr) = cityauth_server::qr::terminal(&link)
            {
                println!("{qr}");
            }
            println!("{link}");
        }
        Command::Devices { username } => {
            for d in admin::devices(state, &username).map_err(fail)? {
                let d = d.device;
                // The name and platform are the phone's own words: escaped like the audit.
                println!(
                    "{}\t{}\t{}\tenrolled {}",
                    d.id,
                    auditlog::escape(&d.name),
                    auditlog::escape(&d.platform),
                    d.created_at
                );
            }
        }
        Command::RemoveDevice { username, device } => {
            if !admin::remove_device(state, &username, &device).map_err(fail)? {
                return Err(format!("{username} has no device {device}"));
            }
            println!("removed device {device} of {username}");
        }
        Command::Audit { user, limit, json } => {
            for e in admin::audit(state, user.as_deref(), limit).map_err(fail)? {
                if json {
                    println!("{}", auditlog::json_line(&e));
                } else {
                    println!("{}", auditlog::text_line(&e));
                }
            }
        }
        Command::AccessCode { username } => {
            println!("{}", admin::access_code(state, &username).map_err(fail)?);
        }
        Command::Unblock { username } => {
            admin::unblock(state, &username).map_err(fail)?;
            println!("unblocked {username}");
        }
        Command::Serve(_)
        | Command::Config { .. }
        | Command::Backup { .. }
        | Command::Restore { .. } => return Err("not an administration command".into()),
    }
    Ok(())
}
