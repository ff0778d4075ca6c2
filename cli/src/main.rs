//! `cityauth`, the desktop authenticator: argument parsing and exit statuses.
//!
//! Exit 0 on success; otherwise every error is one line on stderr with its stable code, and
//! the exit status tells its class (2 usage, 3 passphrase, 4 not found, 5 network, ...; see
//! [`codes`] and docs/error-codes.md), integrity problems included, reported after the
//! readable results.

mod approvals;
mod args;
mod backoff;
mod clipboard;
mod codes;
mod commands;
mod demo;
mod demo_city;
mod docs;
mod error;
mod hostname;
mod keychain;
mod oath;
mod output;
mod params;
mod passphrase;
mod passphrase_source;
mod qr;
mod qrterm;
mod scan;
mod select;
mod transfer;
mod watch;
mod when;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;
use crate::error::{CliError, Code, ErrorFormat, print, set_format};

/// The variable that chooses the error format, as `--error-format` does.
const ERROR_FORMAT_VAR: &str = "CITYAUTH_ERROR_FORMAT";

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(error) => return clap_error(&error, &argv),
    };
    set_format(cli.errors());
    passphrase_source::set(cli.passphrase_sources());
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            error.report();
            error.exit_code()
        }
    }
}

/// `--help` and `--version` print in full (exit 0); a usage error prints one line (exit 2),
/// in the error format the command line asks for as far as it can be read.
fn clap_error(error: &clap::Error, argv: &[OsString]) -> ExitCode {
    let rendered = error.render().to_string();
    if !error.use_stderr() {
        return match print(&rendered) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    let message = match error.kind() {
        // clap would print the whole help here; one line is what a usage error gets.
        clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "no command given; try 'cityauth --help'".to_owned()
        }
        _ => {
            let line = redact(&with_tip(first_line(&rendered), &rendered), argv);
            line.strip_prefix("error: ").unwrap_or(&line).to_owned()
        }
    };
    set_format(format_from_argv(
        argv,
        std::env::var_os(ERROR_FORMAT_VAR).as_deref(),
    ));
    let error = CliError::new(Code::Usage, message);
    error.report();
    error.exit_code()
}

/// The error format of a command line clap could not parse, read as clap would have:
/// `--error-format json|text` (last one wins), else `env` (CITYAUTH_ERROR_FORMAT), else JSON
/// if `--json` is there. Nothing after `--` counts.
fn format_from_argv(argv: &[OsString], env: Option<&std::ffi::OsStr>) -> ErrorFormat {
    let named = |value: &str| match value {
        "json" => Some(ErrorFormat::Json),
        "text" => Some(ErrorFormat::Text),
        _ => None,
    };
    let mut explicit = None;
    let mut json = false;
    let mut args = argv
        .iter()
        .skip(1)
        .map(|arg| arg.to_string_lossy())
        .take_while(|arg| arg != "--");
    while let Some(arg) = args.next() {
        if arg == "--json" {
            json = true;
        } else if arg == "--error-format" {
            explicit = args.next().and_then(|value| named(&value)).or(explicit);
        } else if let Some(value) = arg.strip_prefix("--error-format=") {
            explicit = named(value).or(explicit);
        }
    }
    explicit
        .or_else(|| env.and_then(|value| named(&value.to_string_lossy())))
        .unwrap_or(if json {
            ErrorFormat::Json
        } else {
            ErrorFormat::Text
        })
}

/// The first line of clap's message, with the list that follows a trailing colon (as in
/// "the following required arguments were not provided:") folded onto it.
fn first_line(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let mut line = lines
        .next()
        .unwrap_or("error: invalid usage")
        .trim_end()
        .to_owned();
    if line.ends_with(':') {
        let items: Vec<&str> = lines
            .take_while(|next| next.starts_with(' ') && !next.trim().is_empty())
            .map(str::trim)
            .collect();
        line.push(' ');
        line.push_str(&items.join(", "));
    }
    line
}

/// `line` with clap's tip, if it gave one ("a similar subcommand exists: 'codes'"), kept on
/// the same line: a usage error stays one line, and the tip is what makes it useful.
fn with_tip(line: String, rendered: &str) -> String {
    match rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("tip: "))
    {
        Some(tip) => format!("{line}; tip: {tip}"),
        None => line,
    }
}

/// Replaces, in a message, every quoted argument that may hold a secret: an otpauth link,
/// anything with `secret=`, and the value of `--secret`. Clap quotes what it rejects, and
/// a link put in the wrong place must not end up on the screen or in a log.
fn redact(message: &str, argv: &[OsString]) -> String {
    let mut out = message.to_owned();
    let mut after_secret_flag = false;
    for arg in argv.iter().skip(1) {
        let text = arg.to_string_lossy();
        let lower = text.to_lowercase();
        let sensitive = after_secret_flag
            || lower.starts_with("otpauth:")
            || lower.contains("secret=")
            || lower.starts_with("--secret=");
        after_secret_flag = text == "--secret";
        if sensitive && !text.is_empty() {
            out = out.replace(&format!("'{text}'"), "'<redacted>'");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_line_is_kept_and_lists_are_folded() {
        let rendered = "error: the following required arguments were not provided:\n  <ACCOUNT|--secret <SECRET>>\n\nUsage: cityauth code <ACCOUNT|--secret <SECRET>>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            first_line(rendered),
            "error: the following required arguments were not provided: <ACCOUNT|--secret <SECRET>>"
        );
        assert_eq!(
            first_line("error: unexpected argument '--foo' found\n\nUsage: x\n"),
            "error: unexpected argument '--foo' found"
        );
    }

    #[test]
    fn a_command_line_clap_refuses_still_says_its_error_format() {
        let format = |args: &[&str], env: Option<&str>| {
            let argv: Vec<OsString> = std::iter::once("cityauth")
                .chain(args.iter().copied())
                .map(OsString::from)
                .collect();
            format_from_argv(&argv, env.map(std::ffi::OsStr::new))
        };
        assert_eq!(format(&["list", "--foo"], None), ErrorFormat::Text);
        assert_eq!(
            format(&["list", "--json", "--foo"], None),
            ErrorFormat::Json
        );
        assert_eq!(
            format(&["--error-format", "json", "x"], None),
            ErrorFormat::Json
        );
        assert_eq!(
            format(&["x", "--error-format=json"], None),
            ErrorFormat::Json
        );
        assert_eq!(format(&["x"], Some("json")), ErrorFormat::Json);
        assert_eq!(
            format(&["list", "--json", "--error-format", "text", "--foo"], None),
            ErrorFormat::Text
        );
        assert_eq!(format(&["add", "--", "--json"], None), ErrorFormat::Text);
    }

    #[test]
    fn secrets_in_rejected_arguments_are_redacted() {
        let argv: Vec<OsString> = ["cityauth", "list", "otpauth://totp/a?secret=ABCDEFGH"]
            .iter()
            .map(OsString::from)
            .collect();
        let message = "error: unexpected argument 'otpauth://totp/a?secret=ABCDEFGH' found";
        assert_eq!(
            redact(message, &argv),
            "error: unexpected argument '<redacted>' found"
        );
    }
}
