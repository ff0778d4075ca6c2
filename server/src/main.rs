//! `cityauth-server`: run the reference City account server, or administer its database.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use cityauth_server::config::DirectoryChoice;
use cityauth_server::directory::DirectoryKind;
use cityauth_server::directory::options::{DirectoryOptions, Opened};
use cityauth_server::edge::{Cidr, ProxyHeader};
use cityauth_server::kek::KekConfig;
use cityauth_server::password::Blocklist;
use cityauth_server::store::{SqliteStore, Store};
use cityauth_server::{AppState, Config, FirstDevice, admin, auditlog};

/// Where `serve` remembers its public URL for the admin commands.
const PUBLIC_URL_SETTING: &str = "public_url";
/// The public URL when none was ever given.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
use clap::{Parser, Subcommand};

/// The reference City account server.
#[derive(Parser)]
#[command(name = "cityauth-server", version)]
struct Cli {
    /// The SQLite database (created on first start).
    #[arg(long, global = true, default_value = "cityauth-server.db")]
    db: PathBuf,
    /// The base URL devices use to reach this server (goes into enrollment links); `serve`
    /// remembers it in the database for the admin commands.
    #[arg(long, global = true)]
    public_url: Option<String>,
    /// A file of passwords to refuse, one a line (`#` starts a comment), replacing the list
    /// compiled in; read by `serve` and `user add`.
    #[arg(long, global = true)]
    password_blocklist: Option<PathBuf>,
    /// The key-encryption key sealing the server key and the OATH seeds: a file holding 32
    /// bytes or 64 hex digits (default: `<db>.kek`, made on first start; keep it elsewhere).
    #[arg(long, global = true, conflicts_with = "kek_env")]
    kek_file: Option<PathBuf>,
    /// The key-encryption key from this environment variable (64 hex digits) instead.
    #[arg(long, global = true)]
    kek_env: Option<String>,
    /// Where the accounts live (`server/README.md`, "Connect your directory").
    #[command(flatten)]
    directory: DirectoryOptions,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Digits of the number to match: 2 (default) or 6.
        #[arg(long, default_value_t = 2, value_parser = parse_digits)]
        number_digits: u8,
        /// A reverse proxy (address or CIDR block) whose `X-Forwarded-For` (or `Forwarded`)
        /// names the client; repeat for several. None by default: the TCP peer is the client.
        #[arg(long = "trusted-proxy", value_name = "CIDR")]
        trusted_proxies: Vec<Cidr>,
        /// The header the trusted proxies set: x-forwarded-for or forwarded.
        #[arg(long, default_value = "x-forwarded-for")]
        proxy_header: ProxyHeader,
        /// Seconds a client has to send a request's head (also the longest idle keep-alive).
        #[arg(long, default_value_t = 10)]
        header_timeout: u64,
        /// Seconds a client has to send a request's body.
        #[arg(long, default_value_t = 10)]
        body_timeout: u64,
        /// Seconds an answer's write may stall (a client that stopped reading).
        #[arg(long, default_value_t = 10)]
        send_timeout: u64,
        /// Connections served at once (keep it below the open-files limit).
        #[arg(long, default_value_t = 4096)]
        max_connections: usize,
        /// What lets an account with no phone register its first one on the portal:
        /// `help-desk` (an access code; the default) or `password` (the password alone).
        #[arg(long, default_value = "help-desk", value_parser = parse_first_device)]
        first_device: FirstDevice,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print an enrollment link (and its QR code) for a user.
    EnrollLink {
        /// The username.
        username: String,
    },
    /// List a user's devices.
    Devices {
        /// The username.
        username: String,
    },
    /// Remove one of a user's devices (a lost phone); its City account codes stop working.
    RemoveDevice {
        /// The username.
        username: String,
        /// The device id (as `devices` lists it).
        device: String,
    },
    /// Show the audit log, newest first.
    Audit {
        /// Only this user's events.
        #[arg(long)]
        user: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// One JSON object a line (JSON Lines) instead of tab-separated text.
        #[arg(long)]
        json: bool,
    },
    /// Issue a help-desk one-time access code (single use, 1 hour).
    AccessCode {
        /// The username.
        username: String,
    },
    /// Clear a fraud block so pushes to the account resume.
    Unblock {
        /// The username.
        username: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// The username.
        username: String,
        /// The employee's name.
        #[arg(long)]
        display_name: String,
    },
}

fn parse_digits(text: &str) -> Result<u8, String> {
    match text {
        "2" => Ok(2),
        "6" => Ok(6),
        _ => Err("2 or 6".into()),
    }
}

fn parse_first_device(text: &str) -> Result<FirstDevice, String> {
    match text {
        "help-desk" => Ok(FirstDevice::HelpDesk),
        "password" => Ok(FirstDevice::Password),
        _ => Err("help-desk or password".into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cityauth-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let store = Arc::new(SqliteStore::open(&cli.db).map_err(|e| e.to_string())?);
    let stored = store
        .setting(PUBLIC_URL_SETTING)
        .map_err(|e| e.to_string())?
        .and_then(|v| String::from_utf8(v).ok());
    let public_url = cli
        .public_url
        .clone()
        .or(stored)
        .unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned());
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
    if let Command::Serve {
        number_digits,
        trusted_proxies,
        proxy_header,
        header_timeout,
        body_timeout,
        send_timeout,
        max_connections,
        first_device,
        ..
    } = &cli.command
    {
        config.number_digits = *number_digits;
        config.edge.trusted_proxies = trusted_proxies.clone();
        config.edge.proxy_header = *proxy_header;
        config.edge.header_timeout = std::time::Duration::from_secs(*header_timeout);
        config.edge.body_timeout = std::time::Duration::from_secs(*body_timeout);
        config.edge.send_timeout = std::time::Duration::from_secs(*send_timeout);
        config.edge.max_connections = *max_connections;
        config.first_device = *first_device;
        store
            .setting_set(PUBLIC_URL_SETTING, config.public_url.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    // Opening connects to nothing: the first connection is made on the runtime that serves.
    let directory = cli.directory.open().map_err(|e| e.to_string())?;
    if let Some(opened) = &directory {
        config.directory = DirectoryChoice::External(opened.directory.clone());
    }
    let kek =
        AppState::load_kek(store.as_ref(), &config, Some(&cli.db)).map_err(|e| e.to_string())?;
    let state = AppState::with_kek(store, config, None, kek).map_err(|e| e.to_string())?;
    let fail = |e: admin::AdminError| e.to_string();
    match cli.command {
        Command::Serve { listen, .. } => serve(state, listen, directory),
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    display_name,
                },
        } => {
            if std::io::stdin().is_terminal() {
                eprintln!("Password for {username} (one line):");
            }
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .map_err(|e| e.to_string())?;
            let password = password.trim_end_matches(['\r', '\n']);
            admin::create_user(&state, &username, &display_name, password).map_err(fail)?;
            println!("added {username}");
            Ok(())
        }
        Command::EnrollLink { username } => {
            let link = admin::enrollment_link(&state, &username).map_err(fail)?;
            if std::io::stdout().is_terminal()
                && let Some(qr) = cityauth_server::qr::terminal(&link)
            {
                println!("{qr}");
            }
            println!("{link}");
            Ok(())
        }
        Command::Devices { username } => {
            for d in admin::devices(&state, &username).map_err(fail)? {
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
            Ok(())
        }
        Command::RemoveDevice { username, device } => {
            if !admin::remove_device(&state, &username, &device).map_err(fail)? {
                return Err(format!("{username} has no device {device}"));
            }
            println!("removed device {device} of {username}");
            Ok(())
        }
        Command::Audit { user, limit, json } => {
            for e in admin::audit(&state, user.as_deref(), limit).map_err(fail)? {
                if json {
                    println!("{}", auditlog::json_line(&e));
                } else {
                    println!("{}", auditlog::text_line(&e));
                }
            }
            Ok(())
        }
        Command::AccessCode { username } => {
            println!("{}", admin::access_code(&state, &username).map_err(fail)?);
            Ok(())
        }
        Command::Unblock { username } => {
            admin::unblock(&state, &username).map_err(fail)?;
            println!("unblocked {username}");
            Ok(())
        }
    }
}

fn serve(state: AppState, listen: SocketAddr, directory: Option<Opened>) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        // The directory answers with the service account before anything listens: a wrong
        // password or an unreachable directory stops the start with one sentence.
        if let Some(directory) = &directory {
            directory.check().await?;
            let settings = &directory.settings;
            cityauth_server::log(&format!(
                "directory: {} at {}, accounts under {} found by {}, as {}; {} protected group(s)",
                match directory.directory.kind() {
                    DirectoryKind::ActiveDirectory => "Active Directory",
                    _ => "LDAP",
                },
                settings.url,
                settings.base_dn,
                settings.user_attribute,
                settings.bind_dn,
                settings.protected_groups.len(),
            ));
            if settings.protected_groups.is_empty() {
                cityauth_server::log(
                    "warning: no --directory-protected-group: every account in scope, \
                     administrators too, can be reset through self-service",
                );
            }
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("listen on {listen}: {e}"))?;
        let fingerprint = state.signing_key().public_key().fingerprint();
        eprintln!("cityauth-server: listening on {listen}; server key fingerprint {fingerprint}");
        // Ctrl-C or SIGTERM end the server gracefully: in-flight requests finish and the
        // store writes its queued audit events.
        let shutdown = async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                match signal(SignalKind::terminate()) {
                    Ok(mut terminate) => {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = terminate.recv() => {}
                        }
                    }
                    Err(_) => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
        };
        cityauth_server::serve(listener, state, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}
