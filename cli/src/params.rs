//! Code parameters and secrets given as flags, the clock, and the stateless
//! `code --secret` (an oathtool-like calculator that needs no vault).

use std::time::{SystemTime, UNIX_EPOCH};

use cityauth_core::otp::ParamSpec;
use cityauth_core::{OtpKind, OtpParams, SecretBytes};

use crate::args::ParamArgs;
use crate::error::{CliError, Code};
use crate::passphrase::argument_or_stdin;

/// The current Unix time in seconds.
pub fn now() -> Result<u64, CliError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .map_err(|_| CliError::new(Code::Clock, "the system clock is set before 1970"))
}

/// Validated parameters from `--type`, `--algorithm`, `--digits`, `--period`, `--counter`, by
/// the core's rules ([`OtpParams::from_spec`]: Steam only with SHA1 and 5 characters). A flag
/// that means nothing for the chosen type is refused rather than silently ignored.
pub fn from_flags(flags: &ParamArgs) -> Result<OtpParams, CliError> {
    let kind = flags.kind.map_or(OtpKind::Totp, OtpKind::from);
    if kind != OtpKind::Hotp && flags.counter.is_some() {
        return Err(CliError::usage("--counter is only for --type hotp"));
    }
    if kind == OtpKind::Hotp && flags.period.is_some() {
        return Err(CliError::usage("--period is only for --type totp or steam"));
    }
    OtpParams::from_spec(ParamSpec {
        kind,
        algorithm: flags.algorithm,
        digits: flags.digits.map(u64::from),
        period: flags.period.map(u64::from),
        // A new HOTP account starts at counter 0 unless told otherwise.
        counter: (kind == OtpKind::Hotp).then(|| flags.counter.unwrap_or(0)),
    })
    .map_err(|error| CliError::invalid(format!("--{error}")))
}

/// Decodes `--secret` (or the line on stdin for `-`). The message never quotes the secret.
pub fn secret(value: &str) -> Result<SecretBytes, CliError> {
    let text = argument_or_stdin(value)?;
    SecretBytes::from_base32(&text).map_err(|error| CliError::invalid(format!("--secret: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::KindArg;
    use cityauth_core::Algorithm;

    fn flags() -> ParamArgs {
        ParamArgs {
            kind: None,
            algorithm: None,
            digits: None,
            period: None,
            counter: None,
        }
    }

    #[test]
    fn defaults_are_totp_sha1_six_digits_thirty_seconds() {
        let params = from_flags(&flags()).unwrap();
        assert_eq!(params, OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap());
    }

    #[test]
    fn flags_that_mean_nothing_for_the_type_are_refused() {
        let cases = [
            ParamArgs {
                counter: Some(3),
                ..flags()
            },
            ParamArgs {
                kind: Some(KindArg::Hotp),
                period: Some(60),
                ..flags()
            },
            ParamArgs {
                kind: Some(KindArg::Steam),
                digits: Some(6),
                ..flags()
            },
            ParamArgs {
                digits: Some(9),
                ..flags()
            },
            ParamArgs {
                kind: Some(KindArg::Steam),
                algorithm: Some(Algorithm::Sha256),
                ..flags()
            },
        ];
        for case in cases {
            let code = from_flags(&case).map_err(|error| error.code());
            assert!(
                matches!(code, Err(Code::Usage | Code::InvalidInput)),
                "{case:?}"
            );
        }
    }

    #[test]
    fn a_bad_secret_is_not_quoted() {
        let Err(CliError::Message {
            code: Code::InvalidInput,
            message,
        }) = secret("NOTBASE32!!")
        else {
            panic!("expected an invalid_input error");
        };
        assert!(!message.contains("NOTBASE32"), "{message}");
    }
}
