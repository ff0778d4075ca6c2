//! The records and enums that cross the FFI: plain copies of the core's types, without
//! secrets except where the caller hands one in ([`NewAccount::secret_base32`]).

use std::fmt;

use cityauth_core::account::display_label;
use cityauth_core::device::{Challenge as WireChallenge, ChallengeKind as WireKind, Decision};
use cityauth_core::otp::{Algorithm, OtpKind as CoreKind};
use cityauth_core::{
    AccountCode as CoreCode, AccountInfo as CoreInfo, KdfParams, SlotInfo as CoreSlot,
};

use crate::error::CityAuthError;
use crate::secret::SecretString;

/// How an account's codes are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OtpKind {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226): codes come from `nextHotp`.
    Hotp,
    /// Steam Guard: five characters from Steam's alphabet.
    Steam,
}

/// The hash under the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HashAlgorithm {
    /// HMAC-SHA-1, nearly every service's.
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl From<CoreKind> for OtpKind {
    fn from(kind: CoreKind) -> Self {
        match kind {
            CoreKind::Totp => Self::Totp,
            CoreKind::Hotp => Self::Hotp,
            CoreKind::Steam => Self::Steam,
        }
    }
}

impl From<Algorithm> for HashAlgorithm {
    fn from(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1,
            Algorithm::Sha256 => Self::Sha256,
            Algorithm::Sha512 => Self::Sha512,
        }
    }
}

impl From<HashAlgorithm> for Algorithm {
    fn from(algorithm: HashAlgorithm) -> Self {
        match algorithm {
            HashAlgorithm::Sha1 => Self::Sha1,
            HashAlgorithm::Sha256 => Self::Sha256,
            HashAlgorithm::Sha512 => Self::Sha512,
        }
    }
}

/// An account as listed: labels and parameters, no secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountInfo {
    /// Stable for the account's life.
    pub id: i64,
    /// The service ("GitHub"); may be empty.
    pub issuer: String,
    /// The account at the service.
    pub name: String,
    /// How to show it: "Issuer (name)", or whichever is present (the core's one rule, also
    /// the CLI's and the importers'; hosts show this rather than re-deriving it).
    pub label: String,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// The hash.
    pub algorithm: HashAlgorithm,
    /// Characters per code.
    pub digits: u8,
    /// TOTP period in seconds.
    pub period: u32,
    /// HOTP: the counter of the next code.
    pub counter: u64,
}

impl From<CoreInfo> for AccountInfo {
    fn from(info: CoreInfo) -> Self {
        Self {
            id: info.id.0,
            label: display_label(&info.issuer, &info.name),
            issuer: info.issuer,
            name: info.name,
            kind: info.params.kind().into(),
            algorithm: info.params.algorithm().into(),
            digits: info.params.digits(),
            period: info.params.period(),
            counter: info.params.counter(),
        }
    }
}

/// The current code of one time-based account. `Debug` never shows the code.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountCode {
    /// The account.
    pub id: i64,
    /// The code, e.g. "287082".
    pub code: String,
    /// Seconds until it changes.
    pub remaining: u64,
    /// The account's period in seconds.
    pub period: u32,
}

impl From<CoreCode> for AccountCode {
    fn from(code: CoreCode) -> Self {
        Self {
            id: code.id.0,
            code: code.code.as_str().to_owned(),
            remaining: code.remaining,
            period: code.period,
        }
    }
}

/// An account typed in by hand. The secret is base32, as services print it; `Debug` never
/// shows it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewAccount {
    /// The service; may be empty.
    pub issuer: String,
    /// The account at the service.
    pub name: String,
    /// The shared secret in base32 (spaces and lower case accepted).
    pub secret_base32: SecretString,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// The hash (Steam accepts only SHA-1: another is refused, field "algorithm").
    pub algorithm: HashAlgorithm,
    /// 6, 7 or 8 (ignored for Steam).
    pub digits: u8,
    /// TOTP and Steam period in seconds, 1 to 3600.
    pub period: u32,
    /// HOTP: the counter of the first code.
    pub counter: u64,
}

impl fmt::Debug for AccountCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountCode")
            .field("id", &self.id)
            .field("code", &"<redacted>")
            .field("remaining", &self.remaining)
            .field("period", &self.period)
            .finish()
    }
}

impl fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAccount")
            .field("issuer", &self.issuer)
            .field("name", &self.name)
            .field("secret_base32", &self.secret_base32)
            .field("kind", &self.kind)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .field("counter", &self.counter)
            .finish()
    }
}

/// Argon2id cost of a passphrase slot. `null`/`nil` means the default (64 MiB, 3 passes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct KdfSettings {
    /// Memory in KiB (at least 8 per lane, at most 1 GiB).
    pub memory_kib: u32,
    /// Passes, 1 to 64.
    pub iterations: u32,
    /// Lanes, 1 to 16.
    pub parallelism: u32,
}

/// The core's parameters for `settings`, or the default; out-of-bounds ones are refused.
pub fn kdf_params(settings: Option<KdfSettings>) -> Result<KdfParams, CityAuthError> {
    match settings {
        None => Ok(KdfParams::default()),
        Some(s) => KdfParams::new(s.memory_kib, s.iterations, s.parallelism).ok_or_else(|| {
            CityAuthError::InvalidInput {
                field: "kdf".into(),
                detail: "the key derivation settings are out of bounds".into(),
            }
        }),
    }
}

/// One way to unlock the vault.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SlotInfo {
    /// The slot's id (for `removeSlot`).
    pub id: i64,
    /// `null` for a passphrase slot; the host key's name for a key-wrapping slot.
    pub key_id: Option<String>,
}

impl From<CoreSlot> for SlotInfo {
    fn from(slot: CoreSlot) -> Self {
        Self {
            id: slot.id,
            key_id: slot.key_id,
        }
    }
}

/// What is being approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChallengeKind {
    /// A sign-in to a City application.
    SignIn,
    /// A self-service password reset.
    PasswordReset,
    /// A password change while signed in.
    PasswordChange,
    /// Adding another phone to the account.
    AddDevice,
    /// The help desk verifying that the caller is the employee.
    CallerVerification,
}

/// A pending approval request, verified against the pinned server key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Challenge {
    /// Its id (for `answer`).
    pub id: String,
    /// What is being approved.
    pub kind: ChallengeKind,
    /// The City account.
    pub account: String,
    /// The application asking ("City portal").
    pub application: String,
    /// The IP address of the browser that asked.
    pub client_ip: String,
    /// Its approximate location.
    pub location: String,
    /// Created, Unix seconds (server time).
    pub created_at: u64,
    /// Expires, Unix seconds (server time).
    pub expires_at: u64,
    /// Digits of the number to type from the browser (0: none asked).
    pub number_digits: u8,
}

impl From<WireChallenge> for Challenge {
    fn from(c: WireChallenge) -> Self {
        Self {
            id: c.id,
            kind: match c.kind {
                WireKind::SignIn => ChallengeKind::SignIn,
                WireKind::PasswordReset => ChallengeKind::PasswordReset,
                WireKind::PasswordChange => ChallengeKind::PasswordChange,
                WireKind::AddDevice => ChallengeKind::AddDevice,
                WireKind::CallerVerification => ChallengeKind::CallerVerification,
            },
            account: c.account,
            application: c.application,
            client_ip: c.client_ip,
            location: c.location,
            created_at: c.created_at,
            expires_at: c.expires_at,
            number_digits: c.number_digits,
        }
    }
}

/// The employee's answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Answer {
    /// It was me: approve (with the number from the browser when one is asked).
    Approve,
    /// Deny: not now, or I changed my mind.
    Deny,
    /// It was not me: deny and report fraud (pushes stop until the help desk clears it).
    Fraud,
}

impl From<Answer> for Decision {
    fn from(answer: Answer) -> Self {
        match answer {
            Answer::Approve => Decision::Approve,
            Answer::Deny => Decision::Deny,
            Answer::Fraud => Decision::Fraud,
        }
    }
}

/// What enrollment registered.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Enrolled {
    /// The City account.
    pub username: String,
    /// The employee's name.
    pub display_name: String,
    /// The id the server gave this device.
    pub device_id: String,
    /// The vault account holding the City account's codes, if the server issued one.
    pub city_account: Option<i64>,
}

/// This device's enrollment, without its key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollmentInfo {
    /// The server's base URL.
    pub server_url: String,
    /// The City account.
    pub username: String,
    /// The employee's name.
    pub display_name: String,
    /// The id the server gave this device.
    pub device_id: String,
    /// Server time minus this device's time, seconds, as last learned.
    pub clock_offset: i64,
    /// True when the device key is in the platform's key store (a `HostDeviceSigner`), false
    /// when it is the vault's own software key.
    pub platform_key: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HostHttpHeader, HostHttpRequest};
    use crate::transfer::GoogleExport;

    #[test]
    fn the_label_is_the_cores() {
        let params = cityauth_core::OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap();
        for (issuer, name, label) in [
            ("Example", "alice", "Example (alice)"),
            ("Example", "", "Example"),
            ("", "alice", "alice"),
            ("", "", "(unnamed)"),
        ] {
            let info = AccountInfo::from(CoreInfo {
                id: cityauth_core::AccountId(1),
                issuer: issuer.into(),
                name: name.into(),
                params,
            });
            assert_eq!(info.label, label);
            assert_eq!(info.label, display_label(issuer, name));
        }
    }

    #[test]
    fn steam_with_sha256_is_refused_through_the_ffi_form() {
        let form = |algorithm, digits| NewAccount {
            issuer: "Steam".into(),
            name: "gaben".into(),
            secret_base32: "JBSWY3DPEHPK3PXP".into(),
            kind: OtpKind::Steam,
            algorithm,
            digits,
            period: 30,
            counter: 0,
        };
        let error = crate::vault::build_account(form(HashAlgorithm::Sha256, 6)).unwrap_err();
        assert!(
            matches!(&error, CityAuthError::InvalidInput { field, .. } if field == "algorithm"),
            "{error:?}"
        );
        // The form's digits mean nothing for Steam, as documented.
        assert!(crate::vault::build_account(form(HashAlgorithm::Sha1, 6)).is_ok());
    }

    #[test]
    fn debug_never_shows_a_secret_a_code_or_a_signature() {
        let new = NewAccount {
            issuer: "Bank".into(),
            name: "me".into(),
            secret_base32: "JBSWY3DPEHPK3PXP".into(),
            kind: OtpKind::Totp,
            algorithm: HashAlgorithm::Sha1,
            digits: 6,
            period: 30,
            counter: 0,
        };
        let code = AccountCode {
            id: 1,
            code: "287082".into(),
            remaining: 3,
            period: 30,
        };
        let request = HostHttpRequest {
            method: "POST".into(),
            url: "https://auth.city.example/v1/answer".into(),
            headers: vec![HostHttpHeader {
                name: "x-cityauth-signature".into(),
                value: "SIGNATUREVALUE".into(),
            }],
            body: br#"{"number":"42"}"#.to_vec(),
        };
        let export = GoogleExport {
            links: vec!["otpauth-migration://offline?data=CjEKFEhlbGxv".into()],
            refused: vec![],
        };
        let shown = [
            format!("{new:?}"),
            format!("{code:?}"),
            format!("{request:?}"),
            format!("{export:?}"),
        ];
        for (shown, secret) in
            shown
                .iter()
                .zip(["JBSWY3DP", "287082", "SIGNATUREVALUE", "CjEKFEhlbGxv"])
        {
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
        assert!(
            !shown[2].contains("number") && !shown[2].contains("123, 34"),
            "{}",
            shown[2]
        );
        assert!(shown[2].contains("x-cityauth-signature"), "{}", shown[2]);
    }
}
