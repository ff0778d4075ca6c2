//! `cityauth`, the desktop authenticator: argument parsing and exit statuses.
//!
//! Exit 0 on success, 2 for bad input or usage (one line on stderr), 1 for anything else,
//! including integrity problems reported after the readable results.

mod approvals;
mod args;
mod commands;
mod demo;
mod demo_city;
mod error;
mod output;
mod params;
mod passphrase;
mod select;
mod transfer;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;
use crate::error::{EXIT_USAGE, print, warn};

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(error) => return clap_error(&error, &argv),
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            error.report();
            error.exit_code()
        }
    }
}

/// `--help` and `--version` print in full (exit 0); a usage error prints one line (exit 2).
fn clap_error(error: &clap::Error, argv: &[OsString]) -> ExitCode {
    let rendered = error.render().to_string();
    if !error.use_stderr() {
        return match print(&rendered) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    let line = match error.kind() {
        // clap would print the whole help here; one line is what a usage error gets.
        clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "error: no command given; try 'cityauth --help'".to_owned()
        }
        _ => redact(&first_line(&rendered), argv),
    };
    warn(&line);
    ExitCode::from(EXIT_USAGE)
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
