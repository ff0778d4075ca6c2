//! Small helpers: the clock, randomness, hashing and constant-time comparison.

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::ApiError;

/// The current Unix time in seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Fills `N` bytes from the system's secure random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("the system random source failed".into()))?;
    Ok(bytes)
}

/// A random identifier or code of 256 bits, unpadded base64url.
pub fn random_token() -> Result<String, ApiError> {
    Ok(cityauth_protocol::encoding::encode(&random_bytes::<32>()?))
}

/// A typed help-desk access code as it is stored: its letters and digits, upper case (the
/// caller may type the console's codes without their dashes, or in lower case).
pub fn access_code_key(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A uniformly random number of `digits` decimal digits (leading zeros kept).
pub fn random_number(digits: u8) -> Result<String, ApiError> {
    let digits = u32::from(digits.clamp(1, 9));
    let bound = 10u32.pow(digits);
    // Rejection sampling: values past the last whole multiple of `bound` would bias the result.
    let zone = u32::MAX - (u32::MAX % bound);
    loop {
        let value = u32::from_be_bytes(random_bytes::<4>()?);
        if value < zone {
            return Ok(format!(
                "{:0width$}",
                value % bound,
                width = digits as usize
            ));
        }
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// The first characters of a bearer id (a reset's or sign-in's), enough to tell events
/// apart in the audit log, too few to use.
pub fn redact(id: &str) -> String {
    let prefix: String = id.chars().take(8).collect();
    format!("{prefix}…")
}

/// Compares two byte strings in time that depends only on their lengths.
pub use cityauth_protocol::ct::eq as ct_eq;

/// The value of the cookie `name` in the request's `Cookie` headers, if it has one.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

/// The (year, month 1–12, day 1–31) of the proleptic Gregorian calendar `days` days after
/// 1970-01-01 (Howard Hinnant's `civil_from_days`, for days on or after the epoch): a few
/// lines here rather than a date crate for the pages' dates and the syslog timestamps.
pub fn civil_date(days: u64) -> (u64, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March, so that February's leap day ends the year.
    let march_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * march_month + 2) / 5 + 1) as u32;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    } as u32;
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_their_digits() {
        for digits in [2u8, 6] {
            for _ in 0..50 {
                let number = random_number(digits).unwrap();
                assert_eq!(number.len(), usize::from(digits));
                assert!(number.bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
