//! The command line. Each setting flag also reads the `CITYAUTH_*` variable clap shows in
//! `--help`; the configuration file (`--config`) fills what neither gives (`layers.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use cityauth_server::FirstDevice;
use cityauth_server::directory::options::DirectoryOptions;
use cityauth_server::edge::{Cidr, ProxyHeader};
use cityauth_server::logging::LogFormat;
use cityauth_server::store::{Durability, StoreLocation};

/// The reference City account server.
#[derive(Parser)]
#[command(name = "cityauth-server", version)]
pub struct Cli {
    /// A TOML configuration file (docs/deploy.md lists its keys); the variables and flags
    /// override it.
    #[arg(long, global = true, env = "CITYAUTH_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The database: a SQLite file (created on first start), or a PostgreSQL URL
    /// (`postgres://user@host/db`; replicas share one).
    #[arg(long, global = true, env = "CITYAUTH_DB", default_value = "cityauth-server.db",
          value_parser = parse_location, hide_env_values = true)]
    pub db: StoreLocation,
    /// How hard each commit presses to disk: `normal` or `full`. Unset: `normal` on SQLite
    /// (a power loss may roll back the last commits), `full` on PostgreSQL (with `normal`, a
    /// crash of the database may lose acknowledged answers).
    #[arg(long, global = true, env = "CITYAUTH_DURABILITY", value_parser = parse_durability)]
    pub durability: Option<Durability>,
    /// PostgreSQL connections this server keeps open (its store's worker threads).
    #[arg(long, global = true, env = "CITYAUTH_DB_POOL_SIZE", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub db_pool_size: u32,
    /// The base URL devices use to reach this server (goes into enrollment links); `serve`
    /// remembers it in the database for the admin commands.
    #[arg(long, global = true, env = "CITYAUTH_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A file of passwords to refuse, one a line (`#` starts a comment), replacing the list
    /// compiled in; read by `serve` and `user add`.
    #[arg(long, global = true, env = "CITYAUTH_PASSWORD_BLOCKLIST")]
    pub password_blocklist: Option<PathBuf>,
    /// The key-encryption key sealing the server key and the OATH seeds: a file holding 32
    /// bytes or 64 hex digits (default: `<db>.kek`, made on first start; keep it elsewhere).
    #[arg(
        long,
        global = true,
        env = "CITYAUTH_KEK_FILE",
        conflicts_with = "kek_env"
    )]
    pub kek_file: Option<PathBuf>,
    /// The key-encryption key from this environment variable (64 hex digits) instead.
    #[arg(long, global = true, env = "CITYAUTH_KEK_ENV")]
    pub kek_env: Option<String>,
    /// The log's lines: `json` (one object a line, for a SIEM) or `text`.
    #[arg(
        long,
        global = true,
        env = "CITYAUTH_LOG_FORMAT",
        default_value = "json"
    )]
    pub log_format: LogFormat,
    /// Where the accounts live (`server/README.md`, "Connect your directory").
    #[command(flatten)]
    pub directory: DirectoryOptions,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The durability configured, else the store's own default.
    pub fn durability(&self) -> Durability {
        self.durability
            .unwrap_or_else(|| self.db.default_durability())
    }
}

/// `serve`'s own settings.
#[derive(clap::Args)]
pub struct Serve {
    /// Address to listen on.
    #[arg(long, env = "CITYAUTH_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Digits of the number to match: 2 (default) or 6.
    #[arg(long, env = "CITYAUTH_NUMBER_DIGITS", default_value_t = 2, value_parser = parse_digits)]
    pub number_digits: u8,
    /// Seconds a challenge (a push to approve) lives: 10 to 120.
    #[arg(long, env = "CITYAUTH_CHALLENGE_LIFETIME", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(10..=120))]
    pub challenge_lifetime: u64,
    /// A reverse proxy (address or CIDR block) whose `X-Forwarded-For` (or `Forwarded`)
    /// names the client; repeat for several. None by default: the TCP peer is the client.
    #[arg(
        long = "trusted-proxy",
        env = "CITYAUTH_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<Cidr>,
    /// The header the trusted proxies set: x-forwarded-for or forwarded.
    #[arg(long, env = "CITYAUTH_PROXY_HEADER", default_value = "x-forwarded-for")]
    pub proxy_header: ProxyHeader,
    /// Seconds a client has to send a request's head (also the longest idle keep-alive).
    #[arg(long, env = "CITYAUTH_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, env = "CITYAUTH_BODY_TIMEOUT", default_value_t = 10)]
    pub body_timeout: u64,
    /// Seconds an answer's write may stall (a client that stopped reading).
    #[arg(long, env = "CITYAUTH_SEND_TIMEOUT", default_value_t = 10)]
    pub send_timeout: u64,
    /// Connections served at once (keep it below the open-files limit).
    #[arg(long, env = "CITYAUTH_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// What lets an account with no phone register its first one on the portal:
    /// `help-desk` (an access code; the default) or `password` (the password alone).
    #[arg(long, env = "CITYAUTH_FIRST_DEVICE", default_value = "help-desk",
          value_parser = parse_first_device)]
    pub first_device: FirstDevice,
    /// An address block (besides the loopback) allowed to read `/metrics`; repeat for several.
    #[arg(
        long = "metrics-allow",
        env = "CITYAUTH_METRICS_ALLOW",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub metrics_allow: Vec<Cidr>,
}

/// What to do.
#[derive(Subcommand)]
pub enum Command {
    /// Serve the API.
    Serve(Serve),
    /// Check the configuration (file, variables, flags) and print it, secrets redacted.
    Config {
        /// What to do with it.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Write a consistent copy of the SQLite database to the new file PATH (0600), while
    /// the server runs. PostgreSQL: pg_dump (docs/deploy.md).
    Backup {
        /// The new file.
        path: PathBuf,
    },
    /// Put the backup PATH in place as the database --db, which must not exist (the copy's
    /// integrity and schema version are checked first).
    Restore {
        /// The backup.
        path: PathBuf,
    },
    /// Grant or revoke a help-desk console role (operator, auditor).
    Helpdesk {
        /// What to do.
        #[command(subcommand)]
        command: HelpdeskCommand,
    },
    /// Manage users.
    User {
        /// What to do.
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

/// `config …`.
#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration `serve` would run with (it takes `serve`'s flags),
    /// secrets redacted; fail naming a wrong setting.
    Check(Serve),
}

/// `user …`.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// The username.
        username: String,
        /// The employee's name.
        #[arg(long)]
        display_name: String,
        /// Where the account's notices go (password reset, phone added, …).
        #[arg(long)]
        email: Option<String>,
    },
    /// Set the email address a built-in account's notices go to (`""` clears it).
    SetEmail {
        /// The username.
        username: String,
        /// The address.
        email: String,
    },
}

/// `helpdesk` subcommands.
#[derive(Subcommand)]
pub enum HelpdeskCommand {
    /// Let USER sign in to the console with ROLE (`operator` or `auditor`).
    Grant {
        /// The username.
        username: String,
        /// `operator` or `auditor`.
        role: String,
    },
    /// Take ROLE from USER; their console sessions stop working at once.
    Revoke {
        /// The username.
        username: String,
        /// `operator` or `auditor`.
        role: String,
    },
}

/// `2` or `6`.
pub fn parse_digits(text: &str) -> Result<u8, String> {
    match text.trim() {
        "2" => Ok(2),
        "6" => Ok(6),
        _ => Err("2 or 6".into()),
    }
}

/// A path or a `postgres://` URL.
pub fn parse_location(text: &str) -> Result<StoreLocation, String> {
    Ok(StoreLocation::parse(text))
}

/// `normal` or `full`.
pub fn parse_durability(text: &str) -> Result<Durability, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "normal" => Ok(Durability::Normal),
        "full" => Ok(Durability::Full),
        _ => Err("normal or full".into()),
    }
}

/// `help-desk` or `password`.
pub fn parse_first_device(text: &str) -> Result<FirstDevice, String> {
    match text.trim() {
        "help-desk" => Ok(FirstDevice::HelpDesk),
        "password" => Ok(FirstDevice::Password),
        _ => Err("help-desk or password".into()),
    }
}
