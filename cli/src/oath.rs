//! oathtool's jobs: several codes at once (`--window`), checking a code (`validate`), hex
//! secrets (`--hex`), and codes at a given time (`--time`, Unix seconds or RFC 3339).
//!
//! As oathtool does, `--window N` prints the current code and the N after it (TOTP: the
//! next N time steps; HOTP: counters c..c+N), and `validate --window N` accepts a TOTP code
//! from N steps before to N steps after the time, or an HOTP code at counters c..c+N.
//! Validation never changes an HOTP counter: it is a check, not a draw (`cityauth code`
//! draws). Codes are compared in constant time, the whole window every time.

use std::path::Path;

use cityauth_core::otp::{Code as OtpCode, PreparedKey};
use cityauth_core::{AccountId, OtpKind, OtpParams, SecretBytes, Vault};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::args::{CodeArgs, ValidateArgs};
use crate::commands::{finish, unlock};
use crate::error::{CliError, Code, print, warn};
use crate::params;
use crate::passphrase::argument_or_stdin;
use crate::select::{candidates, select};

/// A code and where it sits: time steps from the given time, or counters from the next.
type Placed = (i64, OtpCode);

/// Decodes `--hex` (or the line on stdin for `-`): pairs of hex digits, spaces allowed. The
/// message never quotes the secret.
pub fn hex_secret(value: &str) -> Result<SecretBytes, CliError> {
    let text = argument_or_stdin(value)?;
    let digits: Zeroizing<Vec<u8>> = Zeroizing::new(
        text.bytes()
            .filter(|b| !matches!(b, b' ' | b'\t' | b':'))
            .collect(),
    );
    let invalid = |why: &str| CliError::invalid(format!("--hex: {why}"));
    if digits.is_empty() {
        return Err(invalid("the secret is empty"));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(invalid("an odd number of hex digits"));
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut bytes = Vec::with_capacity(digits.len() / 2);
    for pair in digits.chunks(2) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(high), Some(low)) => bytes.push(high << 4 | low),
            _ => {
                // Wiped before the error is returned: a partial secret stays nowhere.
                drop(SecretBytes::new(bytes));
                return Err(invalid("not hex (0-9, a-f)"));
            }
        }
    }
    Ok(SecretBytes::new(bytes))
}

/// The secret of `--secret` (base32) or `--hex`; `None` when neither was given.
pub fn given_secret(
    base32: Option<&str>,
    hex: Option<&str>,
) -> Result<Option<SecretBytes>, CliError> {
    match (base32, hex) {
        (Some(text), None) => params::secret(text).map(Some),
        (None, Some(text)) => hex_secret(text).map(Some),
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(CliError::usage("give --secret or --hex, not both")),
    }
}

/// `code --secret|--hex …`: the code alone, or with `--window N` the N after it, one a line.
pub fn stateless_code(args: &CodeArgs) -> Result<(), CliError> {
    let params = params::from_flags(&args.params)?;
    let Some(secret) = given_secret(args.secret.as_deref(), args.hex.as_deref())? else {
        return Err(CliError::usage("give --secret or --hex"));
    };
    let key = PreparedKey::new(params.algorithm(), &secret);
    let after = args.window.unwrap_or(0);
    let codes = if params.kind() == OtpKind::Hotp {
        refuse_time_for_hotp(args.time)?;
        counter_window(&key, &params, params.counter(), after)
    } else {
        let time = time_or_now(args.time)?;
        time_window(&key, &params, time, 0, after)
    };
    print_codes(&codes)
}

/// `code ACCOUNT --window N` or `--time T`: the account's codes, like the stateless form.
/// An HOTP account's look-ahead leaves its counter where it is.
pub fn account_code(path: &Path, args: &CodeArgs) -> Result<(), CliError> {
    let Some(query) = &args.account else {
        return Err(CliError::usage("give an account, or --secret"));
    };
    if args.params.any() {
        return Err(params_go_with_secret());
    }
    let after = args.window.unwrap_or(0);
    let vault = unlock(path)?;
    let all = candidates(&vault)?;
    let chosen = select(&all, query)?;
    let codes = if chosen.kind == Some(OtpKind::Hotp) {
        refuse_time_for_hotp(args.time)?;
        let codes = hotp_window(&vault, chosen.id, after)?;
        warn("(counter not advanced: these are the next codes; `cityauth code` draws one)");
        codes
    } else {
        account_time_window(&vault, chosen.id, time_or_now(args.time)?, 0, after)?
    };
    print_codes(&codes)?;
    finish(&vault)
}

/// `validate ACCOUNT CODE`: exit 0 and the code's offset on stdout when it matches within
/// the window, else `code_mismatch` (exit 1).
pub fn validate(path: &Path, args: &ValidateArgs) -> Result<(), CliError> {
    let window = args.window;
    let query = &args.first;
    let Some(typed) = args.code.as_deref() else {
        return Err(CliError::usage("give the account and the code"));
    };
    if args.params.any() {
        return Err(params_go_with_secret());
    }
    let typed = argument_or_stdin(typed)?;
    let vault = unlock(path)?;
    let all = candidates(&vault)?;
    let chosen = select(&all, query)?;
    // A damaged account fails here, named in the error.
    let params = *vault.account(chosen.id)?.params();
    let codes = if params.kind() == OtpKind::Hotp {
        refuse_time_for_hotp(args.time)?;
        hotp_window(&vault, chosen.id, window)?
    } else {
        let time = time_or_now(args.time)?;
        account_time_window(&vault, chosen.id, time, window, window)?
    };
    let outcome = judge(&codes, &typed, params.kind(), params.digits(), window);
    finish(&vault)?;
    outcome
}

/// `validate --secret|--hex CODE`: as [`validate`], without a vault.
pub fn validate_stateless(args: &ValidateArgs) -> Result<(), CliError> {
    if args.code.is_some() {
        return Err(CliError::usage(
            "with --secret or --hex, give only the code (no account)",
        ));
    }
    let params = params::from_flags(&args.params)?;
    let typed = argument_or_stdin(&args.first)?;
    let Some(secret) = given_secret(args.secret.as_deref(), args.hex.as_deref())? else {
        return Err(CliError::usage("give --secret or --hex"));
    };
    let key = PreparedKey::new(params.algorithm(), &secret);
    let codes = if params.kind() == OtpKind::Hotp {
        refuse_time_for_hotp(args.time)?;
        counter_window(&key, &params, params.counter(), args.window)
    } else {
        let time = time_or_now(args.time)?;
        time_window(&key, &params, time, args.window, args.window)
    };
    judge(&codes, &typed, params.kind(), params.digits(), args.window)
}

/// Compares `typed` with every code of the window in constant time and prints the offset
/// of the match (the nearest, when two codes of the window are the same).
fn judge(
    codes: &[Placed],
    typed: &str,
    kind: OtpKind,
    digits: u8,
    window: u32,
) -> Result<(), CliError> {
    let typed = normalized(typed, kind, digits)?;
    match first_match(codes, typed.as_bytes()) {
        Some(offset) => {
            let shown = if kind == OtpKind::Hotp || offset <= 0 {
                offset.to_string()
            } else {
                format!("+{offset}")
            };
            print(&format!("{shown}\n"))
        }
        None => {
            let range = if kind == OtpKind::Hotp {
                format!("the next {} counter(s)", u64::from(window) + 1)
            } else {
                format!("{window} time step(s) of the time")
            };
            Err(CliError::new(
                Code::Mismatch,
                format!("the code does not match within {range}"),
            ))
        }
    }
}

/// The typed code without spaces (Steam's in capitals), checked for its shape: a code of the
/// wrong length or alphabet is a mistake to point out, not a mismatch. Never quoted.
fn normalized(typed: &str, kind: OtpKind, digits: u8) -> Result<Zeroizing<String>, CliError> {
    let mut code = Zeroizing::new(String::with_capacity(typed.len()));
    code.extend(typed.chars().filter(|c| !c.is_whitespace()));
    if kind == OtpKind::Steam {
        code.make_ascii_uppercase();
        if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CliError::invalid(
                "a Steam Guard code is 5 letters and digits",
            ));
        }
    } else if code.len() != usize::from(digits) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CliError::invalid(format!(
            "this code must be {digits} digits"
        )));
    }
    Ok(code)
}

/// The offset of the first code equal to `typed`. Every code is compared, and the choice is
/// made without branching on the comparisons, so the time taken does not tell which matched.
fn first_match(codes: &[Placed], typed: &[u8]) -> Option<i64> {
    let mut found = Choice::from(0);
    let mut at = 0u64;
    for (offset, code) in codes {
        let hit = code.as_str().as_bytes().ct_eq(typed) & !found;
        at = u64::conditional_select(&at, &(*offset as u64), hit);
        found |= hit;
    }
    bool::from(found).then_some(at as i64)
}

/// Codes for the time steps from `before` before to `after` after `time`'s, nearest first
/// (0, -1, +1, -2, +2, …) so that the first match is the nearest. Steps before 1970 are left out.
fn time_window(
    key: &PreparedKey,
    params: &OtpParams,
    time: u64,
    before: u32,
    after: u32,
) -> Vec<Placed> {
    let step = time / u64::from(params.period().max(1));
    order(before, after)
        .filter_map(|offset| {
            let counter = step.checked_add_signed(offset)?;
            Some((offset, key.code_at_counter(params, counter)))
        })
        .collect()
}

/// The account's codes around `time` (the City account's at the server's time, the core's
/// rule in [`Vault::code_now`]).
fn account_time_window(
    vault: &Vault,
    id: AccountId,
    time: u64,
    before: u32,
    after: u32,
) -> Result<Vec<Placed>, CliError> {
    let period = i64::from(vault.account(id)?.params().period().max(1));
    let mut codes = Vec::new();
    for offset in order(before, after) {
        let Some(at) = time.checked_add_signed(offset * period) else {
            continue;
        };
        codes.push((offset, vault.code_now(id, at)?.code));
    }
    Ok(codes)
}

/// Codes at counters `counter`..=`counter + after` (offsets 0..=after).
fn counter_window(key: &PreparedKey, params: &OtpParams, counter: u64, after: u32) -> Vec<Placed> {
    (0..=i64::from(after))
        .filter_map(|offset| {
            let at = counter.checked_add(offset as u64)?;
            Some((offset, key.code_at_counter(params, at)))
        })
        .collect()
}

/// An HOTP account's next codes, read without drawing (the counter stays).
fn hotp_window(vault: &Vault, id: AccountId, after: u32) -> Result<Vec<Placed>, CliError> {
    let account = vault.account(id)?;
    let params = *account.params();
    Ok(counter_window(
        &account.prepared_key(),
        &params,
        params.counter(),
        after,
    ))
}

/// 0, -1, +1, -2, +2, … within `before` and `after`.
fn order(before: u32, after: u32) -> impl Iterator<Item = i64> {
    let reach = i64::from(before.max(after));
    std::iter::once(0).chain((1..=reach).flat_map(move |n| {
        let back = (n <= i64::from(before)).then_some(-n);
        let ahead = (n <= i64::from(after)).then_some(n);
        back.into_iter().chain(ahead)
    }))
}

/// Prints the codes in time (or counter) order, one a line, as oathtool does.
fn print_codes(codes: &[Placed]) -> Result<(), CliError> {
    let mut sorted: Vec<&Placed> = codes.iter().collect();
    sorted.sort_by_key(|(offset, _)| *offset);
    let mut text = Zeroizing::new(String::new());
    for (_, code) in sorted {
        text.push_str(code.as_str());
        text.push('\n');
    }
    print(&text)
}

fn time_or_now(time: Option<u64>) -> Result<u64, CliError> {
    time.map_or_else(params::now, Ok)
}

fn refuse_time_for_hotp(time: Option<u64>) -> Result<(), CliError> {
    match time {
        Some(_) => Err(CliError::usage("--time is only for TOTP and Steam codes")),
        None => Ok(()),
    }
}

fn params_go_with_secret() -> CliError {
    CliError::usage(
        "--type, --algorithm, --digits, --period and --counter go with --secret or --hex; \
         an account carries its own parameters",
    )
}

/// The flags a vault account's `code` takes beyond the account, for the dispatcher.
pub fn wants_oath_path(args: &CodeArgs) -> bool {
    args.window.is_some() || args.time.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_walked_nearest_first() {
        assert_eq!(order(0, 0).collect::<Vec<_>>(), [0]);
        assert_eq!(order(2, 2).collect::<Vec<_>>(), [0, -1, 1, -2, 2]);
        assert_eq!(order(0, 3).collect::<Vec<_>>(), [0, 1, 2, 3]);
    }

    #[test]
    fn hex_secrets_decode_and_bad_ones_are_not_quoted() {
        let secret = hex_secret("3132 3334").unwrap();
        assert_eq!(secret.expose(), b"1234");
        for bad in ["", "313", "31zz", "ééé"] {
            let error = hex_secret(bad).unwrap_err();
            assert_eq!(error.code(), Code::InvalidInput, "{bad:?}");
            if let CliError::Message { message, .. } = error {
                assert!(bad.is_empty() || !message.contains(bad), "{message}");
            }
        }
    }
}
