//! The CLI's errors: each has a stable code ([`Code`]) beside its English message, is printed
//! on stderr as `error[<code>]: <message>` (or as one JSON object per line, see
//! [`ErrorFormat`]), and ends the process with its code's exit status.
//!
//! The mappings from the core's and the transfer crate's errors follow the FFI's
//! (bindings/src/error.rs) case by case, so that the same failure has the same code on the
//! command line and in the apps.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;
use std::sync::OnceLock;

use cityauth_core::{AccountError, ClientError, LinkError, ParamError, VaultError};
use cityauth_transfer::ImportError;
use cityauth_transfer::backup::BackupError;
use cityauth_transfer::export::ExportError;

pub use crate::codes::Code;

/// Why a command failed. Messages never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// An error still to be printed: its code and its English message.
    Message {
        /// The stable machine code.
        code: Code,
        /// The message for people; never a secret.
        message: String,
    },
    /// Already reported on stderr (integrity problems, each with its code) or nowhere left to
    /// report it (a closed stdout): print nothing more, exit with the code's status.
    Reported(Code),
}

impl CliError {
    /// An error with `code` and `message`.
    pub fn new(code: Code, message: impl fmt::Display) -> Self {
        Self::Message {
            code,
            message: message.to_string(),
        }
    }

    /// A wrong command line ([`Code::Usage`]).
    pub fn usage(message: impl fmt::Display) -> Self {
        Self::new(Code::Usage, message)
    }

    /// A value out of bounds ([`Code::InvalidInput`]).
    pub fn invalid(message: impl fmt::Display) -> Self {
        Self::new(Code::InvalidInput, message)
    }

    /// The stable machine code.
    pub fn code(&self) -> Code {
        match self {
            Self::Message { code, .. } | Self::Reported(code) => *code,
        }
    }

    /// The same error with its message rewritten by `f` (to add a hint); the code stays.
    pub fn map_message(self, f: impl FnOnce(&str) -> String) -> Self {
        match self {
            Self::Message { code, message } => Self::Message {
                code,
                message: f(&message),
            },
            reported @ Self::Reported(_) => reported,
        }
    }

    /// The process exit status for this error: its code's.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code().exit_status())
    }

    /// Prints the error on stderr (nothing for [`CliError::Reported`]).
    pub fn report(&self) {
        if let Self::Message { code, message } = self {
            report(*code, message);
        }
    }
}

/// How errors are printed on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ErrorFormat {
    /// `error[<code>]: <message>`, one line per error.
    #[default]
    Text,
    /// `{"error":{"code":"<code>","message":"<message>"}}`, one line per error.
    Json,
}

static FORMAT: OnceLock<ErrorFormat> = OnceLock::new();

/// Chooses how every error of this process is printed (once, before the command runs).
pub fn set_format(format: ErrorFormat) {
    let _ = FORMAT.set(format);
}

/// One error line as `format` prints it.
pub fn render(format: ErrorFormat, code: Code, message: &str) -> String {
    match format {
        ErrorFormat::Text => format!("error[{code}]: {message}"),
        ErrorFormat::Json => serde_json::json!({
            "error": { "code": code.as_str(), "message": message }
        })
        .to_string(),
    }
}

/// Prints one error on stderr, in the format chosen for this process.
pub fn report(code: Code, message: &str) {
    let format = FORMAT.get().copied().unwrap_or_default();
    warn(&render(format, code, message));
}

impl From<VaultError> for CliError {
    fn from(error: VaultError) -> Self {
        let code = match &error {
            VaultError::NotFound => Code::NotFound,
            VaultError::AlreadyExists => Code::AlreadyExists,
            VaultError::NotAVault | VaultError::TooNew { .. } => Code::NotAVault,
            VaultError::WrongPassphrase => Code::WrongPassphrase,
            VaultError::EmptyPassphrase | VaultError::WeakPassphrase(_) => Code::InvalidInput,
            VaultError::Locked => Code::Locked,
            VaultError::NoMatchingSlot => Code::NoMatchingSlot,
            VaultError::KeyWrap(_) => Code::KeyStore,
            VaultError::LastSlot
            | VaultError::UnknownSlot(_)
            | VaultError::CredentialNeeded(_)
            | VaultError::SlotLimit => Code::InvalidInput,
            VaultError::Integrity(_) => Code::Integrity,
            VaultError::UnknownAccount(_) => Code::UnknownAccount,
            VaultError::NotHotp(_) | VaultError::NotTimeBased(_) => Code::WrongAccountKind,
            VaultError::CounterExhausted(_) | VaultError::InvalidAccount(_) => Code::InvalidInput,
            // Only the server's answer fills an enrollment.
            VaultError::InvalidEnrollment(_) => Code::ServerUntrusted,
            VaultError::Busy => Code::Busy,
            VaultError::Storage(_) | VaultError::Io(_) | VaultError::Random => Code::Storage,
        };
        Self::new(code, error)
    }
}

impl From<LinkError> for CliError {
    fn from(error: LinkError) -> Self {
        // LinkError's message starts with the field at fault and never quotes the link.
        Self::new(Code::InvalidLink, format!("invalid otpauth link: {error}"))
    }
}

impl From<AccountError> for CliError {
    fn from(error: AccountError) -> Self {
        Self::invalid(error)
    }
}

impl From<ParamError> for CliError {
    fn from(error: ParamError) -> Self {
        Self::invalid(error)
    }
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> Self {
        let code = match error {
            ClientError::Vault(vault) => return vault.into(),
            ClientError::Link(_) => Code::InvalidLink,
            ClientError::FingerprintMismatch
            | ClientError::EnrollmentNotSigned
            | ClientError::BadResponse
            | ClientError::BadField(_) => Code::ServerUntrusted,
            ClientError::AlreadyEnrolled(_) => Code::AlreadyEnrolled,
            ClientError::NotEnrolled => Code::NotEnrolled,
            ClientError::Network(_) => Code::Network,
            ClientError::Refused { ref code, .. } if code == "expired" => Code::Expired,
            ClientError::Refused { .. } => Code::ServerRefused,
            ClientError::UnknownChallenge(_) => Code::Expired,
            ClientError::NumberFormat(_) => Code::WrongNumberFormat,
            ClientError::Key(_) => Code::Storage,
            // The CLI has no hardware key store; these arise only for a vault enrolled by an app.
            ClientError::Signer(_) | ClientError::SignerNeeded | ClientError::SignerMismatch => {
                Code::KeyStore
            }
        };
        Self::new(code, error)
    }
}

impl From<ImportError> for CliError {
    fn from(error: ImportError) -> Self {
        let code = match &error {
            ImportError::UnknownFormat => Code::UnknownFormat,
            ImportError::TooLarge { .. } | ImportError::TooMany { .. } => Code::InvalidInput,
            ImportError::Cancelled => Code::Cancelled,
            ImportError::PasswordRequired => Code::PasswordRequired,
            ImportError::WrongPassword => Code::WrongPassword,
            ImportError::Damaged { .. } => Code::DamagedFile,
            ImportError::Unsupported { .. } => Code::UnsupportedFile,
            ImportError::MissingBatchParts { .. } => Code::MissingBatchParts,
        };
        Self::new(code, error)
    }
}

impl From<BackupError> for CliError {
    fn from(error: BackupError) -> Self {
        let code = match error {
            BackupError::EmptyPassphrase | BackupError::TooLarge => Code::InvalidInput,
            BackupError::Random | BackupError::Crypto => Code::Storage,
        };
        Self::new(code, error)
    }
}

impl From<ExportError> for CliError {
    fn from(error: ExportError) -> Self {
        let code = match error {
            ExportError::NotExpressible { .. } | ExportError::TooManyAccounts { .. } => {
                Code::InvalidInput
            }
            ExportError::Random => Code::Storage,
        };
        Self::new(code, error)
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
            std::io::ErrorKind::BrokenPipe => CliError::Reported(Code::Io),
            _ => CliError::new(Code::Io, format!("cannot write the output: {error}")),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{EXIT_NOT_FOUND, EXIT_PASSPHRASE, EXIT_USAGE};
    use cityauth_core::AccountId;
    use cityauth_core::device::TransportError;

    #[test]
    fn core_errors_get_the_ffi_code_of_the_same_case() {
        // The same pairs as bindings/src/error.rs's `From` impls.
        let cases: [(CliError, &str); 12] = [
            (VaultError::WrongPassphrase.into(), "wrong_passphrase"),
            (VaultError::NotFound.into(), "not_found"),
            (VaultError::AlreadyExists.into(), "already_exists"),
            (
                VaultError::UnknownAccount(AccountId(3)).into(),
                "unknown_account",
            ),
            (
                VaultError::NotHotp(AccountId(3)).into(),
                "wrong_account_kind",
            ),
            (VaultError::Busy.into(), "busy"),
            (VaultError::Storage("disk full".into()).into(), "storage"),
            (LinkError::Scheme.into(), "invalid_link"),
            (
                ClientError::Network(TransportError {
                    reason: "connection refused".into(),
                })
                .into(),
                "network",
            ),
            (
                ClientError::Refused {
                    status: 410,
                    code: "expired".into(),
                    message: "gone".into(),
                }
                .into(),
                "expired",
            ),
            (
                ClientError::Vault(VaultError::WrongPassphrase).into(),
                "wrong_passphrase",
            ),
            (ImportError::WrongPassword.into(), "wrong_password"),
        ];
        for (error, code) in cases {
            assert_eq!(error.code().as_str(), code, "{error:?}");
        }
    }

    #[test]
    fn each_class_has_its_exit_status() {
        let status = |error: CliError| error.code().exit_status();
        assert_eq!(status(VaultError::WrongPassphrase.into()), EXIT_PASSPHRASE);
        assert_eq!(status(VaultError::NotFound.into()), EXIT_NOT_FOUND);
        assert_eq!(status(CliError::usage("x")), EXIT_USAGE);
        assert_eq!(status(CliError::Reported(Code::Integrity)), 9);
    }

    #[test]
    fn both_formats_carry_the_code_and_the_message() {
        assert_eq!(
            render(ErrorFormat::Text, Code::WrongPassphrase, "wrong passphrase"),
            "error[wrong_passphrase]: wrong passphrase"
        );
        let line = render(ErrorFormat::Json, Code::Usage, "a \"quoted\"\nline");
        assert!(!line.contains('\n'), "one line: {line}");
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"error": {"code": "usage", "message": "a \"quoted\"\nline"}})
        );
    }
}
