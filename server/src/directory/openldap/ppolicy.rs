//! OpenLDAP's password policy control (draft-behera-ldap-password-policy, OID
//! 1.3.6.1.4.1.42.2.27.8.5.1): sent empty on binds and Password Modify requests, and read
//! back from the response to tell a locked or expired account from a wrong password and to
//! say why a new password was refused.

use ldap3::asn1::{PL, StructureTag, TagClass, parse_tag};
use ldap3::controls::RawControl;

use crate::directory::Refusal;

/// The control's OID, request and response alike.
pub const OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// The request control: no value, not critical (a server without ppolicy ignores it).
pub fn request() -> RawControl {
    RawControl {
        ctype: OID.to_owned(),
        crit: false,
        val: None,
    }
}

/// The `error` field of the response (its ENUMERATED values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyError {
    /// 0: the password is right but expired.
    PasswordExpired,
    /// 1: the account is locked.
    AccountLocked,
    /// 2: an administrator reset the password; it must be changed before anything else.
    ChangeAfterReset,
    /// 3: the account may not change its password.
    PasswordModNotAllowed,
    /// 4: the old password must be given.
    MustSupplyOldPassword,
    /// 5: the quality check failed.
    InsufficientPasswordQuality,
    /// 6: shorter than `pwdMinLength`.
    PasswordTooShort,
    /// 7: changed sooner than `pwdMinAge` allows.
    PasswordTooYoung,
    /// 8: one of the last `pwdInHistory` passwords.
    PasswordInHistory,
    /// A value this code does not know.
    Unknown(u64),
}

impl PolicyError {
    fn from_code(code: u64) -> Self {
        match code {
            0 => Self::PasswordExpired,
            1 => Self::AccountLocked,
            2 => Self::ChangeAfterReset,
            3 => Self::PasswordModNotAllowed,
            4 => Self::MustSupplyOldPassword,
            5 => Self::InsufficientPasswordQuality,
            6 => Self::PasswordTooShort,
            7 => Self::PasswordTooYoung,
            8 => Self::PasswordInHistory,
            other => Self::Unknown(other),
        }
    }

    /// The refusal the employee is told about, for the errors a password write can get;
    /// `min_length` is the policy's minimum, when known. `None` for the bind-only errors.
    pub fn refusal(self, min_length: Option<u32>) -> Option<Refusal> {
        Some(match self {
            Self::PasswordTooShort => Refusal::TooShort {
                minimum: min_length,
            },
            Self::PasswordInHistory => Refusal::History,
            Self::PasswordTooYoung => Refusal::MinimumAge,
            Self::InsufficientPasswordQuality => Refusal::Complexity,
            Self::PasswordModNotAllowed => {
                Refusal::Other("this account may not change its password here.".to_owned())
            }
            Self::MustSupplyOldPassword => {
                Refusal::Other("the current password must be given.".to_owned())
            }
            Self::PasswordExpired
            | Self::AccountLocked
            | Self::ChangeAfterReset
            | Self::Unknown(_) => return None,
        })
    }
}

/// The `error` of the password policy response among `controls`, if the server sent one
/// with an error. A malformed value is treated as absent (the result code still speaks).
pub fn error_in(controls: &[ldap3::controls::Control]) -> Option<PolicyError> {
    controls
        .iter()
        .find(|c| c.1.ctype == OID)
        .and_then(|c| c.1.val.as_deref())
        .and_then(parse_error)
}

/// Reads `PasswordPolicyResponseValue ::= SEQUENCE { warning [0] … OPTIONAL, error [1]
/// ENUMERATED OPTIONAL }` and returns the error, if any.
pub(crate) fn parse_error(value: &[u8]) -> Option<PolicyError> {
    let (rest, tag) = parse_tag(value).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let fields = tag
        .match_class(TagClass::Universal)?
        .match_id(16)?
        .expect_constructed()?;
    fields
        .into_iter()
        .find(|field| field.class == TagClass::Context && field.id == 1)
        .and_then(|field: StructureTag| match field.payload {
            PL::P(bytes) => unsigned(&bytes),
            PL::C(_) => None,
        })
        .map(PolicyError::from_code)
}

/// A BER INTEGER/ENUMERATED's content octets as an unsigned value (at most 8 octets,
/// non-negative).
fn unsigned(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 8 || bytes[0] & 0x80 != 0 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_codes_slapd_sends_are_read() {
        // As slapd 2.5 sent them (ldappasswd -e ppolicy): "MAOBAQg=" and "MAOBAQY=".
        assert_eq!(
            parse_error(&[0x30, 0x03, 0x81, 0x01, 0x08]),
            Some(PolicyError::PasswordInHistory)
        );
        assert_eq!(
            parse_error(&[0x30, 0x03, 0x81, 0x01, 0x06]),
            Some(PolicyError::PasswordTooShort)
        );
        // A warning ([0] { timeBeforeExpiration [0] 300 }) before the error.
        assert_eq!(
            parse_error(&[
                0x30, 0x09, 0xa0, 0x04, 0x80, 0x02, 0x01, 0x2c, 0x81, 0x01, 0x01
            ]),
            Some(PolicyError::AccountLocked)
        );
    }

    #[test]
    fn a_response_without_an_error_or_malformed_gives_none() {
        assert_eq!(parse_error(&[0x30, 0x00]), None);
        assert_eq!(parse_error(&[0x30, 0x04, 0xa0, 0x02, 0x80, 0x00]), None);
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x03, 0x81, 0x01],
            &[0x04, 0x03, 0x81, 0x01, 0x08],
            &[0x30, 0x03, 0x81, 0x01, 0xff],
            &[0x30, 0x03, 0x81, 0x01, 0x08, 0x00],
        ] {
            assert_eq!(parse_error(bad), None, "{bad:02x?}");
        }
    }

    #[test]
    fn write_errors_become_the_refusals_the_portal_explains() {
        assert_eq!(
            PolicyError::PasswordTooShort.refusal(Some(12)),
            Some(Refusal::TooShort { minimum: Some(12) })
        );
        assert_eq!(
            PolicyError::PasswordInHistory.refusal(None),
            Some(Refusal::History)
        );
        assert_eq!(
            PolicyError::PasswordTooYoung.refusal(None),
            Some(Refusal::MinimumAge)
        );
        assert_eq!(PolicyError::AccountLocked.refusal(None), None);
    }
}
