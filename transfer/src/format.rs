//! The formats cityauth imports, telling them apart by content, and reading a file as one.

use crate::cancel::Cancel;
use crate::entry::Parsed;
use crate::error::ImportError;
use crate::{MAX_IMPORT_BYTES, backup, formats};

/// A file format cityauth can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A text file of otpauth links, one a line; `otpauth-migration://` lines among them are
    /// read as one Google Authenticator export.
    OtpauthLinks,
    /// Aegis vault JSON, plain or encrypted.
    Aegis,
    /// 2FAS `.2fas`, plain or encrypted.
    TwoFas,
    /// andOTP JSON, or its encrypted `.bin` backup.
    AndOtp,
    /// Bitwarden's JSON export (the TOTP field of each login).
    BitwardenJson,
    /// Bitwarden's CSV export (the `login_totp` column).
    BitwardenCsv,
    /// FreeOTP+ JSON.
    FreeOtpPlus,
    /// Proton Authenticator JSON.
    Proton,
    /// cityauth's encrypted backup.
    CityauthBackup,
}

impl Format {
    /// Every format, in the order [`detect`] tries them.
    pub const ALL: [Format; 9] = [
        Format::CityauthBackup,
        Format::Aegis,
        Format::TwoFas,
        Format::AndOtp,
        Format::BitwardenJson,
        Format::FreeOtpPlus,
        Format::Proton,
        Format::BitwardenCsv,
        Format::OtpauthLinks,
    ];

    /// The name used on the command line (`--format`).
    pub fn name(self) -> &'static str {
        match self {
            Format::OtpauthLinks => "links",
            Format::Aegis => "aegis",
            Format::TwoFas => "2fas",
            Format::AndOtp => "andotp",
            Format::BitwardenJson => "bitwarden-json",
            Format::BitwardenCsv => "bitwarden-csv",
            Format::FreeOtpPlus => "freeotp-plus",
            Format::Proton => "proton",
            Format::CityauthBackup => "cityauth",
        }
    }

    /// The format named `name` (as [`Format::name`] gives it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether `bytes` look like this format (a cheap check of the file's shape, not a parse).
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Format::OtpauthLinks => formats::links::looks_like(bytes),
            Format::Aegis => formats::aegis::looks_like(bytes),
            Format::TwoFas => formats::twofas::looks_like(bytes),
            Format::AndOtp => formats::andotp::looks_like(bytes),
            Format::BitwardenJson => formats::bitwarden::looks_like_json(bytes),
            Format::BitwardenCsv => formats::bitwarden::looks_like_csv(bytes),
            Format::FreeOtpPlus => formats::freeotp::looks_like(bytes),
            Format::Proton => formats::proton::looks_like(bytes),
            Format::CityauthBackup => backup::looks_like(bytes),
        }
    }
}

/// The format of `bytes`, told from their content; `None` when no format matches.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    Format::ALL.into_iter().find(|f| f.matches(bytes))
}

/// Reads `bytes` as `format` (detected from the content when `None`), decrypting with
/// `password` when the file is encrypted.
///
/// Fails with [`ImportError::PasswordRequired`] for an encrypted file without a password
/// (ask, then call again), [`ImportError::WrongPassword`], [`ImportError::Damaged`] for a
/// truncated or tampered file, and [`ImportError::UnknownFormat`]. A bad entry in a good
/// file is not an error: it is an entry with a [`crate::Rejection`].
pub fn read(
    bytes: &[u8],
    format: Option<Format>,
    password: Option<&str>,
) -> Result<Parsed, ImportError> {
    read_cancellable(bytes, format, password, &Cancel::new())
}

/// [`read`], stopped with [`ImportError::Cancelled`] when `cancel` is tripped (from another
/// thread) before the read is done; a cancelled read returns nothing.
pub fn read_cancellable(
    bytes: &[u8],
    format: Option<Format>,
    password: Option<&str>,
    cancel: &Cancel,
) -> Result<Parsed, ImportError> {
    cancel.check()?;
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge {
            limit: MAX_IMPORT_BYTES,
        });
    }
    let format = match format {
        Some(format) => format,
        None => detect(bytes).ok_or(ImportError::UnknownFormat)?,
    };
    cancel.check()?;
    let entries = match format {
        Format::OtpauthLinks => formats::links::read(bytes, cancel)?,
        Format::Aegis => formats::aegis::read(bytes, password, cancel)?,
        Format::TwoFas => formats::twofas::read(bytes, password)?,
        Format::AndOtp => formats::andotp::read(bytes, password)?,
        Format::BitwardenJson => formats::bitwarden::read_json(bytes)?,
        Format::BitwardenCsv => formats::bitwarden::read_csv(bytes)?,
        Format::FreeOtpPlus => formats::freeotp::read(bytes)?,
        Format::Proton => formats::proton::read(bytes)?,
        Format::CityauthBackup => backup::read(bytes, password)?,
    };
    cancel.check()?;
    Ok(Parsed { format, entries })
}
