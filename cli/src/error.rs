//! The CLI's errors and the exit status each one maps to.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;

use cityauth_core::{LinkError, VaultError};

/// Exit status for bad input or usage (clap's own status for usage errors).
pub const EXIT_USAGE: u8 = 2;
/// Exit status for everything else that went wrong.
pub const EXIT_FAILURE: u8 = 1;

/// Why a command failed. Messages never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// The user's input was wrong (bad value, unknown account, wrong passphrase…): exit 2.
    Usage(String),
    /// Something else failed (storage, integrity, busy…): exit 1.
    Failure(String),
    /// Already reported on stderr (integrity problems, a closed stdout): exit 1, print nothing.
    Reported,
}

impl CliError {
    /// A usage error from anything displayable.
    pub fn usage(message: impl fmt::Display) -> Self {
        Self::Usage(message.to_string())
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(EXIT_USAGE),
            CliError::Failure(_) | CliError::Reported => ExitCode::from(EXIT_FAILURE),
        }
    }

    /// Prints the error as one line on stderr (nothing for [`CliError::Reported`]).
    pub fn report(&self) {
        match self {
            CliError::Usage(message) | CliError::Failure(message) => {
                warn(&format!("error: {message}"));
            }
            CliError::Reported => {}
        }
    }
}

impl From<VaultError> for CliError {
    fn from(error: VaultError) -> Self {
        // The user can fix these by changing what they typed; the rest are the machine's or
        // the file's problem.
        match error {
            VaultError::NotFound
            | VaultError::AlreadyExists
            | VaultError::NotAVault
            | VaultError::WrongPassphrase
            | VaultError::EmptyPassphrase
            | VaultError::WeakPassphrase(_)
            | VaultError::NoMatchingSlot
            | VaultError::UnknownAccount(_)
            | VaultError::NotHotp(_)
            | VaultError::NotTimeBased(_)
            | VaultError::InvalidAccount(_) => CliError::Usage(error.to_string()),
            _ => CliError::Failure(error.to_string()),
        }
    }
}

impl From<LinkError> for CliError {
    fn from(error: LinkError) -> Self {
        // LinkError's message starts with the field at fault and never quotes the link.
        CliError::Usage(format!("invalid otpauth link: {error}"))
    }
}

/// Writes one line to stderr. A closed stderr is ignored: there is nowhere left to complain.
pub fn warn(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// Writes `text` to stdout as is. A closed pipe (`| head`) ends the command quietly.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::BrokenPipe => CliError::Reported,
            _ => CliError::Failure(format!("cannot write the output: {error}")),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityauth_core::AccountId;

    #[test]
    fn input_mistakes_are_usage_errors_and_the_rest_failures() {
        let usage = [
            VaultError::WrongPassphrase,
            VaultError::NotFound,
            VaultError::AlreadyExists,
            VaultError::UnknownAccount(AccountId(3)),
        ];
        for error in usage {
            assert!(matches!(CliError::from(error), CliError::Usage(_)));
        }
        let failures = [VaultError::Busy, VaultError::Storage("disk full".into())];
        for error in failures {
            assert!(matches!(CliError::from(error), CliError::Failure(_)));
        }
    }
}
