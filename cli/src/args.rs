//! The command line, as clap parses it. No behaviour lives here.

use std::path::PathBuf;

use cityauth_core::{Algorithm, OtpKind};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::error::ErrorFormat;

/// What `--help` says after the options: where the error codes and exit statuses are.
const ERRORS_HELP: &str = "\
Errors go to stderr as `error[<code>]: <message>`, or, with --json or
--error-format json, as one {\"error\":{\"code\":..,\"message\":..}} object per line.
The code is stable; the exit status tells the class: 2 usage, 3 passphrase,
4 not found, 5 network, 6 refused, 7 untrusted server, 8 busy, 9 damaged,
1 anything else. docs/error-codes.md (\"The CLI\") lists every code.";

/// cityauth: one-time codes (TOTP, HOTP, Steam) from an encrypted vault.
#[derive(Debug, Parser)]
#[command(
    name = "cityauth",
    version,
    about,
    propagate_version = true,
    after_help = ERRORS_HELP
)]
pub struct Cli {
    /// The vault file [default: the platform data directory's cityauth/vault.sqlite].
    #[arg(long, global = true, env = "CITYAUTH_VAULT", value_name = "PATH")]
    pub vault: Option<PathBuf>,

    /// How errors are printed on stderr: text (`error[<code>]: <message>`) or json (one
    /// object per line) [default: json with --json, else text].
    #[arg(
        long,
        global = true,
        env = "CITYAUTH_ERROR_FORMAT",
        value_enum,
        value_name = "FORMAT"
    )]
    pub error_format: Option<ErrorFormat>,

    // Where the vault's passphrase comes from (cli/src/passphrase_source.rs); the first
    // found of: --passphrase-fd, --passphrase-file, CITYAUTH_PASSPHRASE, the OS keychain,
    // the terminal.
    /// Read the vault's passphrase from this open file descriptor (its first line), e.g.
    /// `--passphrase-fd 3 3<<<"$P"`; wins over everything else.
    #[arg(long, global = true, value_name = "FD")]
    pub passphrase_fd: Option<u32>,

    /// Read the vault's passphrase from this file (its first line); the file must be
    /// readable by its owner only (chmod 600). Used unless --passphrase-fd is given; wins over
    /// CITYAUTH_PASSPHRASE, which the user's other processes can read
    /// (/proc/PID/environ), over the OS keychain and over the terminal prompt.
    #[arg(long, global = true, value_name = "PATH")]
    pub passphrase_file: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// `--passphrase-fd` and `--passphrase-file`, for [`crate::passphrase_source::set`].
    pub fn passphrase_sources(&self) -> crate::passphrase_source::Sources {
        crate::passphrase_source::Sources {
            fd: self.passphrase_fd,
            file: self.passphrase_file.clone(),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new vault (passphrase from --passphrase-fd, --passphrase-file or
    /// CITYAUTH_PASSPHRASE, or asked twice).
    Init,
    /// Add accounts from otpauth links, or one account from flags.
    Add(AddArgs),
    /// List the accounts (no secrets, no codes).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show the current code of every time-based account.
    Codes {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Keep the codes on screen with a countdown, redrawn each second, until Ctrl-C
        /// (when stdout is not a terminal: print them once).
        #[arg(long, conflicts_with = "json")]
        watch: bool,
    },
    /// Print one account's code (HOTP: the next one), or a code from --secret without a vault.
    Code(CodeArgs),
    /// Check a code: exit 0 (printing its offset) when it matches within the window, 1 when
    /// not. An HOTP counter is never changed by a check.
    Validate(ValidateArgs),
    /// Change an account's issuer and/or name.
    #[command(group(ArgGroup::new("labels").required(true).multiple(true).args(["issuer", "name"])))]
    Rename {
        /// The account: id, exact Issuer:name, or part of its issuer or name.
        account: String,
        /// The new issuer.
        #[arg(long)]
        issuer: Option<String>,
        /// The new account name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove an account for good.
    Remove {
        /// The account: id, exact Issuer:name, or part of its issuer or name.
        account: String,
        /// Do not ask for confirmation (required when not on a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Move an account to a position in the list (1 is the top).
    Move {
        /// The account: id, exact Issuer:name, or part of its issuer or name.
        account: String,
        /// The new position, from 1.
        #[arg(value_parser = clap::value_parser!(u64).range(1..))]
        position: u64,
    },
    /// Change the vault's passphrase (new one from CITYAUTH_NEW_PASSPHRASE, or asked twice).
    Passwd,
    /// Rebuild a damaged or rolled-back account index from the accounts as they are now
    /// (their order is lost); asks first unless --yes.
    Repair {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// A guided tour on a throwaway vault: codes, HOTP persistence, a refused passphrase.
    Demo,
    /// Register this device with the City account from the portal's enrollment link.
    Enroll {
        /// The cityauth://enroll link shown on the portal's Security info page.
        link: String,
        /// The name the portal lists this device under [default: this computer's name].
        #[arg(long)]
        name: Option<String>,
    },
    /// List the pending approval requests (verified; others are dropped unseen).
    Approvals {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Wait up to this many seconds (at most 25) for a request to arrive.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Approve a request with the number shown in the browser.
    Approve {
        /// The request's id (from `approvals`); base64url, so it may start with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// The number the browser shows.
        #[arg(long)]
        number: Option<String>,
    },
    /// Deny a request; with --fraud, also report it (pushes stop until the help desk clears it).
    Deny {
        /// The request's id (from `approvals`); base64url, so it may start with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// It was not me: report fraud.
        #[arg(long)]
        fraud: bool,
    },
    /// Wait for approval requests and ask about each on the terminal.
    Watch {
        /// Stop after answering one request.
        #[arg(long)]
        once: bool,
    },
    /// Remove this device from the City account.
    Unenroll,
    /// Forget the enrollment on this machine only, without the server (gone, unreachable or
    /// refusing): the City account's codes stay; remove the device on the portal.
    ForgetEnrollment,
    /// Import accounts from another authenticator's export (shows what it will do, then asks).
    #[command(group(ArgGroup::new("input").required(true).args(["file", "qr"])))]
    Import {
        /// The file: otpauth links, Google Authenticator migration links, Aegis, 2FAS, andOTP,
        /// Bitwarden (JSON or CSV), Ente Auth, FreeOTP+, Proton Authenticator, or a cityauth backup.
        file: Option<PathBuf>,
        /// PNG images of QR codes instead of a file: otpauth links, or the parts of a Google
        /// Authenticator export (all parts together).
        #[arg(long, value_name = "IMAGE", num_args = 1.., conflicts_with_all = ["file", "format"])]
        qr: Vec<PathBuf>,
        /// The format, when detecting it from the content is not wanted: links, aegis, 2fas,
        /// andotp, bitwarden-json, bitwarden-csv, freeotp-plus, proton, cityauth.
        #[arg(long)]
        format: Option<String>,
        /// Read an encrypted file's password from standard input [default:
        /// CITYAUTH_IMPORT_PASSWORD, else asked].
        #[arg(long)]
        password_stdin: bool,
        /// Do not ask before importing (required when not on a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Write every account to an encrypted backup file (passphrase from
    /// CITYAUTH_BACKUP_PASSPHRASE, or asked twice).
    Backup {
        /// The new backup file (an existing file is never overwritten).
        file: PathBuf,
    },
    /// Add the accounts of a backup file that the vault does not already hold.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Do not ask before restoring (required when not on a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Write every account as otpauth links (or Google Authenticator migration links).
    /// The file is NOT encrypted.
    Export {
        /// The new file, or - for standard output.
        file: PathBuf,
        /// Google Authenticator migration links (scan them as QR codes), batched.
        #[arg(long)]
        google: bool,
        /// With --google: leave out (and name) the accounts Google cannot hold, instead of
        /// exporting nothing.
        #[arg(long, requires = "google")]
        skip_unsupported: bool,
        /// With --google: also draw each link as a QR code on standard output (the default
        /// when the links go to a terminal).
        #[arg(long, requires = "google")]
        qr: bool,
    },

    // Shell integration (cli/src/docs.rs): neither touches a vault.
    /// Print a shell completion script, e.g. `source <(cityauth completions bash)`, or save
    /// it where the shell looks (bash: ~/.local/share/bash-completion/completions/cityauth).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page as roff: `cityauth man | man -l -`; with a command, its own page.
    Man {
        /// A command whose page to print instead of the main one.
        command: Option<String>,
    },

    // The OS-keychain unlock slot (cli/src/keychain.rs).
    /// Let the OS keychain unlock this vault, so that commands do not ask for the
    /// passphrase (Linux: the kernel keyring, which forgets at reboot).
    Keychain {
        /// enable, disable or status.
        #[command(subcommand)]
        action: KeychainAction,
    },
}

impl Cli {
    /// How this run prints its errors: `--error-format` (or its variable) when given, else
    /// JSON for a command asked for `--json`, else text.
    pub fn errors(&self) -> ErrorFormat {
        self.error_format.unwrap_or(if self.command.json() {
            ErrorFormat::Json
        } else {
            ErrorFormat::Text
        })
    }
}

impl Command {
    /// True for a command asked for JSON output (`list`, `codes` and `approvals` with --json).
    pub fn json(&self) -> bool {
        matches!(
            self,
            Command::List { json: true }
                | Command::Codes { json: true, .. }
                | Command::Approvals { json: true, .. }
        )
    }
}

/// `keychain`'s actions.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum KeychainAction {
    /// Keep a random key for this vault in the OS keychain and add a vault slot for it
    /// (the passphrase is needed once, and is not stored).
    Enable,
    /// Remove the vault's keychain slot and the keychain's key.
    Disable,
    /// Whether the keychain unlocks this vault (checked; asks nothing).
    Status,
}

/// `add`: links, or the fields of one account as flags.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["links", "secret", "hex", "qr"])))]
pub struct AddArgs {
    /// otpauth:// links (`-` reads one from standard input, keeping it out of `ps`).
    #[arg(value_name = "OTPAUTH_LINK")]
    pub links: Vec<String>,
    /// The service, e.g. GitHub.
    #[arg(long, conflicts_with = "links")]
    pub issuer: Option<String>,
    /// The account at the service, e.g. alice@example.org.
    #[arg(long, conflicts_with = "links")]
    pub name: Option<String>,
    /// The base32 secret (`-` reads it from standard input).
    #[arg(long)]
    pub secret: Option<String>,
    /// The fields shared with the stateless `code --secret`.
    #[command(flatten)]
    pub params: ParamArgs,
    // oathtool parity (oath.rs).
    /// The secret in hex, as oathtool takes it (`-` reads it from standard input).
    #[arg(long, conflicts_with_all = ["secret", "links"])]
    pub hex: Option<String>,
    // QR images (qr.rs).
    /// A PNG image (a screenshot) of the account's otpauth QR code.
    #[arg(long, value_name = "IMAGE", conflicts_with_all = ["links", "secret", "hex", "issuer", "name"])]
    pub qr: Option<PathBuf>,
}

/// `code`: an account of the vault, or a secret given directly.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["account", "secret", "hex"])))]
pub struct CodeArgs {
    /// The account: id, exact Issuer:name, or part of its issuer or name.
    pub account: Option<String>,
    /// Compute a code from this base32 secret, without a vault (`-` reads it from standard input).
    #[arg(long)]
    pub secret: Option<String>,
    /// The time for a TOTP or Steam code: Unix seconds or RFC 3339
    /// (2009-02-13T23:31:30Z) [default: now].
    #[arg(long, value_name = "TIME", value_parser = crate::when::parse_time)]
    pub time: Option<u64>,
    /// The code's parameters (only with --secret or --hex).
    #[command(flatten)]
    pub params: ParamArgs,
    // oathtool parity (oath.rs).
    /// Compute a code from this hex secret, without a vault (`-` reads it from standard input).
    #[arg(long, conflicts_with = "secret")]
    pub hex: Option<String>,
    /// Also print the N codes after this one (TOTP: the next N time steps; HOTP: the next N
    /// counters, without advancing an account's counter), one a line, as oathtool -w does
    /// (at most 1000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(..=1000))]
    pub window: Option<u32>,
    // The clipboard (clipboard.rs).
    /// Copy the account's code to the clipboard instead of printing it, and clear it later.
    #[arg(long, conflicts_with_all = ["secret", "hex", "window", "time"])]
    pub copy: bool,
    /// With --copy: clear the clipboard after this many seconds, if it still holds the code
    /// (0: leave it).
    #[arg(long, value_name = "SECS", default_value_t = 20, requires = "copy")]
    pub clear_after: u64,
}

/// `validate`: an account and a code, or a code and --secret / --hex.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The account (id, exact Issuer:name, or part of its issuer or name); with --secret or
    /// --hex, the code itself.
    #[arg(value_name = "ACCOUNT")]
    pub first: String,
    /// The code to check (`-` reads it from standard input).
    #[arg(value_name = "CODE")]
    pub code: Option<String>,
    /// Check against this base32 secret, without a vault (`-` reads it from standard input).
    #[arg(long)]
    pub secret: Option<String>,
    /// Check against this hex secret, without a vault (`-` reads it from standard input).
    #[arg(long, conflicts_with = "secret")]
    pub hex: Option<String>,
    /// Accept a TOTP code up to N time steps before or after the time, or an HOTP code at
    /// the next N+1 counters (at most 1000).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(..=1000))]
    pub window: u32,
    /// The time to check a TOTP or Steam code at: Unix seconds or RFC 3339 [default: now].
    #[arg(long, value_name = "TIME", value_parser = crate::when::parse_time)]
    pub time: Option<u64>,
    /// The code's parameters (only with --secret or --hex).
    #[command(flatten)]
    pub params: ParamArgs,
}

/// The parameters of a code, as flags. They go with `--secret` only; the commands check
/// that, since clap waives a `requires` on an argument that conflicts with one given.
#[derive(Debug, Args)]
pub struct ParamArgs {
    /// The kind of code [default: totp].
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub kind: Option<KindArg>,
    /// The hash: SHA1, SHA256 or SHA512 [default: SHA1].
    #[arg(long, value_parser = parse_algorithm)]
    pub algorithm: Option<Algorithm>,
    /// The code's length: 6, 7 or 8 [default: 6].
    #[arg(long)]
    pub digits: Option<u8>,
    /// The TOTP period in seconds [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub period: Option<u32>,
    /// The HOTP counter [default: 0].
    #[arg(long)]
    pub counter: Option<u64>,
}

/// `--type`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226).
    Hotp,
    /// Steam Guard.
    Steam,
}

impl ParamArgs {
    /// True when any of the flags was given.
    pub fn any(&self) -> bool {
        self.kind.is_some()
            || self.algorithm.is_some()
            || self.digits.is_some()
            || self.period.is_some()
            || self.counter.is_some()
    }
}

impl From<KindArg> for OtpKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Totp => OtpKind::Totp,
            KindArg::Hotp => OtpKind::Hotp,
            KindArg::Steam => OtpKind::Steam,
        }
    }
}

/// Accepts the spellings the core accepts (`SHA256`, `sha-256`, …).
fn parse_algorithm(text: &str) -> Result<Algorithm, String> {
    Algorithm::from_name(text).ok_or_else(|| "must be SHA1, SHA256 or SHA512".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn code_takes_an_account_or_a_secret_but_not_both() {
        assert!(Cli::try_parse_from(["cityauth", "code", "git"]).is_ok());
        assert!(Cli::try_parse_from(["cityauth", "code", "--secret", "AAAA"]).is_ok());
        assert!(Cli::try_parse_from(["cityauth", "code", "git", "--secret", "AAAA"]).is_err());
        assert!(Cli::try_parse_from(["cityauth", "code"]).is_err());
    }

    #[test]
    fn json_output_means_json_errors_unless_told_otherwise() {
        let errors = |argv: &[&str]| Cli::try_parse_from(argv).unwrap().errors();
        assert_eq!(errors(&["cityauth", "list"]), ErrorFormat::Text);
        assert_eq!(errors(&["cityauth", "list", "--json"]), ErrorFormat::Json);
        assert_eq!(
            errors(&["cityauth", "code", "x", "--error-format", "json"]),
            ErrorFormat::Json
        );
        assert_eq!(
            errors(&["cityauth", "--error-format=text", "codes", "--json"]),
            ErrorFormat::Text
        );
    }
}
