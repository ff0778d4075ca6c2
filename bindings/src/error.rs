//! The errors Kotlin and Swift see: one case per thing a UI must handle, each with a readable
//! `detail` that never holds a secret (the core's messages name fields and labels, not values).

use cityauth_core::device::ClientError;
use cityauth_core::otpauth::LinkError;
use cityauth_core::{AccountError, ParamError, VaultError};
use cityauth_transfer::ImportError;
use cityauth_transfer::backup::BackupError;
use cityauth_transfer::export::ExportError;

/// Everything a vault or approvals call can fail with. Kotlin: `CityAuthException.*`;
/// Swift: `CityAuthError.*`. `detail` is the readable message (also the `toString()`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum CityAuthError {
    /// No vault file at that path.
    #[error("{detail}")]
    NotFound {
        /// The readable message; never a secret.
        detail: String,
    },
    /// `create` found a file there already (left untouched).
    #[error("{detail}")]
    AlreadyExists {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The file is not a cityauth vault, or one from a newer version (left untouched).
    #[error("{detail}")]
    NotAVault {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The passphrase opens no slot. Nothing changed.
    #[error("{detail}")]
    WrongPassphrase {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The vault is locked: unlock it first.
    #[error("{detail}")]
    Locked {
        /// The readable message; never a secret.
        detail: String,
    },
    /// No slot belongs to the host key that was offered.
    #[error("{detail}")]
    NoMatchingSlot {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The host's key store (Keystore, Keychain, Secure Enclave) failed to wrap, unwrap or
    /// sign, or its device key is not the one this device enrolled with.
    #[error("{detail}")]
    KeyStore {
        /// The readable message; never a secret.
        detail: String,
    },
    /// Something in the vault does not authenticate: tampering or corruption.
    #[error("{detail}")]
    Integrity {
        /// The readable message; never a secret.
        detail: String,
    },
    /// An otpauth or enrollment link is malformed; `field` names the part at fault.
    #[error("{detail}")]
    InvalidLink {
        /// The field at fault.
        field: String,
        /// The readable message; never a secret.
        detail: String,
    },
    /// An argument is out of bounds (an account field, a passphrase, a slot); `field` names it.
    #[error("{detail}")]
    InvalidInput {
        /// The field at fault.
        field: String,
        /// The readable message; never a secret.
        detail: String,
    },
    /// No account with that id.
    #[error("{detail}")]
    UnknownAccount {
        /// The account's id.
        id: i64,
        /// The readable message; never a secret.
        detail: String,
    },
    /// The account is of the other kind (a code asked of HOTP, a next HOTP of TOTP).
    #[error("{detail}")]
    WrongAccountKind {
        /// The account's id.
        id: i64,
        /// The readable message; never a secret.
        detail: String,
    },
    /// Another process holds the vault; try again.
    #[error("{detail}")]
    Busy {
        /// The readable message; never a secret.
        detail: String,
    },
    /// Storage, file system or random source failed.
    #[error("{detail}")]
    Storage {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The server did not answer (no network, timeout, TLS).
    #[error("{detail}")]
    Network {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The server refused with a protocol error code (`wrong_number`, `locked`, `blocked`, ...).
    #[error("{detail}")]
    ServerRefused {
        /// The HTTP status.
        status: u16,
        /// The protocol's error code.
        code: String,
        /// The readable message; never a secret.
        detail: String,
    },
    /// The server's answer breaks the protocol, or its key is not the one the link pins.
    #[error("{detail}")]
    ServerUntrusted {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The approval request is no longer pending (answered, expired, or not this device's).
    #[error("{detail}")]
    Expired {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The typed number does not have the length the request asks for.
    #[error("{detail}")]
    WrongNumberFormat {
        /// How many digits the request asks for.
        digits: u8,
        /// The readable message; never a secret.
        detail: String,
    },
    /// This device is not enrolled with a City account.
    #[error("{detail}")]
    NotEnrolled {
        /// The readable message; never a secret.
        detail: String,
    },
    /// This device is already enrolled; unenroll first.
    #[error("{detail}")]
    AlreadyEnrolled {
        /// The City account this device is enrolled as.
        username: String,
        /// The readable message; never a secret.
        detail: String,
    },
    /// The file to import is encrypted and no password was given: ask for it, call again.
    #[error("{detail}")]
    PasswordRequired {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The password does not open the file to import (the vault's own is `WrongPassphrase`).
    #[error("{detail}")]
    WrongPassword {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The file to import is truncated, altered, or not what its format says.
    #[error("{detail}")]
    DamagedFile {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The file to import is in no format cityauth reads.
    #[error("{detail}")]
    UnknownFormat {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The file is in a version or uses a feature of its format that cityauth does not read.
    #[error("{detail}")]
    UnsupportedFile {
        /// The readable message; never a secret.
        detail: String,
    },
    /// A Google Authenticator export spans several QR codes and some were not given:
    /// `missing` are their numbers (from 1) out of `total`. Scan them all, call again.
    #[error("{detail}")]
    MissingBatchParts {
        /// The numbers (from 1) of the parts not given.
        missing: Vec<u32>,
        /// How many parts the export has.
        total: u32,
        /// The readable message; never a secret.
        detail: String,
    },
    /// This import preview was committed already: its accounts are in the vault.
    #[error("{detail}")]
    AlreadyCommitted {
        /// The readable message; never a secret.
        detail: String,
    },
    /// The import was cancelled through its `ImportCancel`; nothing was read or written.
    #[error("{detail}")]
    Cancelled {
        /// The readable message; never a secret.
        detail: String,
    },
}

impl CityAuthError {
    /// The stable machine code of this case (`wrong_passphrase`, `network`, ...): what apps
    /// translate into the user's language. docs/error-codes.md lists them; they never change.
    pub fn code(&self) -> &'static str {
        // Exhaustive on purpose: a new case does not compile until it has its code.
        match self {
            Self::NotFound { .. } => "not_found",
            Self::AlreadyExists { .. } => "already_exists",
            Self::NotAVault { .. } => "not_a_vault",
            Self::WrongPassphrase { .. } => "wrong_passphrase",
            Self::Locked { .. } => "locked",
            Self::NoMatchingSlot { .. } => "no_matching_slot",
            Self::KeyStore { .. } => "key_store",
            Self::Integrity { .. } => "integrity",
            Self::InvalidLink { .. } => "invalid_link",
            Self::InvalidInput { .. } => "invalid_input",
            Self::UnknownAccount { .. } => "unknown_account",
            Self::WrongAccountKind { .. } => "wrong_account_kind",
            Self::Busy { .. } => "busy",
            Self::Storage { .. } => "storage",
            Self::Network { .. } => "network",
            Self::ServerRefused { .. } => "server_refused",
            Self::ServerUntrusted { .. } => "server_untrusted",
            Self::Expired { .. } => "expired",
            Self::WrongNumberFormat { .. } => "wrong_number_format",
            Self::NotEnrolled { .. } => "not_enrolled",
            Self::AlreadyEnrolled { .. } => "already_enrolled",
            Self::PasswordRequired { .. } => "password_required",
            Self::WrongPassword { .. } => "wrong_password",
            Self::DamagedFile { .. } => "damaged_file",
            Self::UnknownFormat { .. } => "unknown_format",
            Self::UnsupportedFile { .. } => "unsupported_file",
            Self::MissingBatchParts { .. } => "missing_batch_parts",
            Self::AlreadyCommitted { .. } => "already_committed",
            Self::Cancelled { .. } => "cancelled",
        }
    }
}

/// The stable machine code of `error` (see [`CityAuthError::code`]). Kotlin:
/// `errorCode(e)`, or the library's `e.code`; Swift: `errorCode(error:)`, or `error.code`.
#[uniffi::export]
pub fn error_code(error: CityAuthError) -> Result<String, CityAuthError> {
    Ok(error.code().to_owned())
}

impl From<VaultError> for CityAuthError {
    fn from(error: VaultError) -> Self {
        let detail = error.to_string();
        match error {
            VaultError::NotFound => Self::NotFound { detail },
            VaultError::AlreadyExists => Self::AlreadyExists { detail },
            VaultError::NotAVault | VaultError::TooNew { .. } => Self::NotAVault { detail },
            VaultError::WrongPassphrase => Self::WrongPassphrase { detail },
            VaultError::EmptyPassphrase | VaultError::WeakPassphrase(_) => {
                invalid("passphrase", detail)
            }
            VaultError::Locked => Self::Locked { detail },
            VaultError::NoMatchingSlot => Self::NoMatchingSlot { detail },
            VaultError::KeyWrap(_) => Self::KeyStore { detail },
            VaultError::LastSlot
            | VaultError::UnknownSlot(_)
            | VaultError::CredentialNeeded(_)
            | VaultError::SlotLimit => invalid("slot", detail),
            VaultError::Integrity(_) => Self::Integrity { detail },
            VaultError::UnknownAccount(id) => Self::UnknownAccount { id: id.0, detail },
            VaultError::NotHotp(id) | VaultError::NotTimeBased(id) => {
                Self::WrongAccountKind { id: id.0, detail }
            }
            VaultError::CounterExhausted(_) => invalid("counter", detail),
            VaultError::InvalidAccount(error) => invalid(account_field(error), detail),
            // Only the server's answer fills an enrollment.
            VaultError::InvalidEnrollment(_) => Self::ServerUntrusted { detail },
            VaultError::Busy => Self::Busy { detail },
            VaultError::Storage(_) | VaultError::Io(_) | VaultError::Random => {
                Self::Storage { detail }
            }
        }
    }
}

impl From<LinkError> for CityAuthError {
    fn from(error: LinkError) -> Self {
        Self::InvalidLink {
            field: error.field().to_owned(),
            detail: error.to_string(),
        }
    }
}

impl From<AccountError> for CityAuthError {
    fn from(error: AccountError) -> Self {
        invalid(account_field(error), error.to_string())
    }
}

impl From<ParamError> for CityAuthError {
    fn from(error: ParamError) -> Self {
        invalid(error.field(), error.to_string())
    }
}

impl From<ClientError> for CityAuthError {
    fn from(error: ClientError) -> Self {
        let detail = error.to_string();
        match error {
            ClientError::Link(link) => Self::InvalidLink {
                // The protocol's messages start with the field: "server: missing, or ...".
                field: link
                    .to_string()
                    .split(':')
                    .next()
                    .unwrap_or("link")
                    .to_owned(),
                detail,
            },
            ClientError::FingerprintMismatch
            | ClientError::EnrollmentNotSigned
            | ClientError::BadResponse
            | ClientError::BadField(_) => Self::ServerUntrusted { detail },
            ClientError::AlreadyEnrolled(username) => Self::AlreadyEnrolled { username, detail },
            ClientError::NotEnrolled => Self::NotEnrolled { detail },
            ClientError::Network(_) => Self::Network { detail },
            ClientError::Refused { code, .. } if code == "expired" => Self::Expired { detail },
            ClientError::Refused { status, code, .. } => Self::ServerRefused {
                status,
                code,
                detail,
            },
            ClientError::UnknownChallenge(_) => Self::Expired { detail },
            ClientError::NumberFormat(digits) => Self::WrongNumberFormat { digits, detail },
            ClientError::Vault(vault) => vault.into(),
            ClientError::Key(_) => Self::Storage { detail },
            ClientError::Signer(_) | ClientError::SignerNeeded | ClientError::SignerMismatch => {
                Self::KeyStore { detail }
            }
        }
    }
}

impl From<ImportError> for CityAuthError {
    fn from(error: ImportError) -> Self {
        let detail = error.to_string();
        match error {
            ImportError::UnknownFormat => Self::UnknownFormat { detail },
            ImportError::TooLarge { .. } | ImportError::TooMany { .. } => invalid("file", detail),
            ImportError::Cancelled => Self::Cancelled { detail },
            ImportError::PasswordRequired => Self::PasswordRequired { detail },
            ImportError::WrongPassword => Self::WrongPassword { detail },
            ImportError::Damaged { .. } => Self::DamagedFile { detail },
            ImportError::Unsupported { .. } => Self::UnsupportedFile { detail },
            ImportError::MissingBatchParts { missing, total } => Self::MissingBatchParts {
                missing,
                total,
                detail,
            },
        }
    }
}

impl From<BackupError> for CityAuthError {
    fn from(error: BackupError) -> Self {
        let detail = error.to_string();
        match error {
            BackupError::EmptyPassphrase => invalid("passphrase", detail),
            BackupError::TooLarge => invalid("accounts", detail),
            BackupError::Random | BackupError::Crypto => Self::Storage { detail },
        }
    }
}

impl From<ExportError> for CityAuthError {
    fn from(error: ExportError) -> Self {
        let detail = error.to_string();
        match error {
            // The export methods leave out what cannot be expressed before asking, so these
            // reach a host only if the vault holds more than one export can carry.
            ExportError::NotExpressible { .. } | ExportError::TooManyAccounts { .. } => {
                invalid("accounts", detail)
            }
            ExportError::Random => Self::Storage { detail },
        }
    }
}

fn invalid(field: &str, detail: String) -> CityAuthError {
    CityAuthError::InvalidInput {
        field: field.to_owned(),
        detail,
    }
}

fn account_field(error: AccountError) -> &'static str {
    LinkError::Account(error).field()
}

/// What a host key implementation (a key wrapper or a device signer) throws. Kotlin:
/// `KeyWrapException.Failed`; Swift: `KeyWrapError.Failed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum KeyWrapError {
    /// The key store refused or failed; `reason` is for a log and holds no key material.
    #[error("the platform key store failed: {reason}")]
    Failed {
        /// Why, for people and logs; never key material.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyWrapError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed {
            reason: format!("the host implementation threw: {}", error.reason),
        }
    }
}
