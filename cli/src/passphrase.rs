//! Passphrases and other secret input: from the environment, or typed on the terminal
//! without echo. Everything read is kept in zeroizing buffers.

use std::io::BufRead;

use zeroize::Zeroizing;

use crate::error::{CliError, Code};

/// The environment variable holding the vault's passphrase.
pub const PASSPHRASE_VAR: &str = "CITYAUTH_PASSPHRASE";
/// The environment variable holding the new passphrase for `passwd`.
pub const NEW_PASSPHRASE_VAR: &str = "CITYAUTH_NEW_PASSPHRASE";

/// The passphrase to unlock the vault if one was given: `--passphrase-fd`, else
/// `--passphrase-file`, else `CITYAUTH_PASSPHRASE`. (Then the OS keychain, then [`ask`].)
pub fn given() -> Result<Option<Zeroizing<String>>, CliError> {
    match crate::passphrase_source::given()? {
        Some(passphrase) => Ok(Some(passphrase)),
        None => from_env(PASSPHRASE_VAR),
    }
}

/// The passphrase to unlock the vault, asked on the terminal.
pub fn ask() -> Result<Zeroizing<String>, CliError> {
    prompt("Passphrase: ", PASSPHRASE_VAR, Code::PassphraseRequired)
}

/// A new vault's passphrase (`init`): from `--passphrase-fd` or `--passphrase-file`, else
/// as [`new`] gets it.
pub fn initial() -> Result<Zeroizing<String>, CliError> {
    match crate::passphrase_source::given()? {
        Some(passphrase) => Ok(passphrase),
        None => new(PASSPHRASE_VAR),
    }
}

/// A new passphrase: from `var`, else asked twice on the terminal (the two must match).
pub fn new(var: &str) -> Result<Zeroizing<String>, CliError> {
    if let Some(passphrase) = from_env(var)? {
        return Ok(passphrase);
    }
    let first = prompt("New passphrase: ", var, Code::PassphraseRequired)?;
    if first.is_empty() {
        return Err(CliError::invalid("the passphrase must not be empty"));
    }
    let second = prompt("Repeat the new passphrase: ", var, Code::PassphraseRequired)?;
    if *first != *second {
        return Err(CliError::invalid("the two passphrases do not match"));
    }
    Ok(first)
}

/// A secret given on the command line, or read as one line from stdin when it is `-`
/// (so that it stays out of the shell history and the process list).
pub fn argument_or_stdin(value: &str) -> Result<Zeroizing<String>, CliError> {
    if value != "-" {
        return Ok(Zeroizing::new(value.to_owned()));
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| CliError::new(Code::Io, format!("cannot read standard input: {error}")))?;
    Ok(Zeroizing::new(line.trim().to_owned()))
}

/// A file's password from `var`, else asked once on the terminal with `text`
/// (`password_required` when there is no terminal).
pub fn from_env_or_prompt(var: &str, text: &str) -> Result<Zeroizing<String>, CliError> {
    match from_env(var)? {
        Some(password) => Ok(password),
        None => prompt(text, var, Code::PasswordRequired),
    }
}

fn from_env(var: &str) -> Result<Option<Zeroizing<String>>, CliError> {
    match std::env::var_os(var) {
        None => Ok(None),
        Some(value) => value
            .into_string()
            .map(|text| Some(Zeroizing::new(text)))
            .map_err(|_| CliError::invalid(format!("{var} is not valid UTF-8"))),
    }
}

/// Asks on the controlling terminal, without echo; if there is none, a `missing` error
/// names `var`.
fn prompt(text: &str, var: &str, missing: Code) -> Result<Zeroizing<String>, CliError> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|_| {
            CliError::new(
                missing,
                format!(
                    "no passphrase: give --passphrase-fd or --passphrase-file, set {var}, \
                     or run cityauth on a terminal"
                ),
            )
        })
}
