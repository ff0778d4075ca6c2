//! Bounds on what a request may carry: every field of every JSON body and form, and the
//! ids in paths, each with a clear `400 bad_request` (the body itself is capped at
//! [`MAX_BODY_BYTES`]). Without them a username could be megabytes long, and each distinct
//! one became a limiter key and an audit row of its size.

use crate::error::ApiError;

/// The largest request body, bytes (the largest legitimate one, an enrollment with a push
/// token, is under 5 KiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The longest username, characters (what `user add` accepts).
pub const MAX_USERNAME: usize = 64;
/// The longest password a request may carry, bytes. The policy's own maximum is lower;
/// this only keeps a request from buying an Argon2 pass over megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The longest code from the app or the help desk, characters (TOTP codes are 6 digits;
/// access codes are 43 characters of base64url).
pub const MAX_CODE: usize = 64;
/// The longest id in a path or body (reset, sign-in, challenge and device ids are 43
/// characters).
pub const MAX_ID: usize = 64;

/// A typed username, trimmed: 1 to [`MAX_USERNAME`] characters, no control characters.
pub fn username(typed: &str) -> Result<&str, ApiError> {
    let name = typed.trim();
    if name.is_empty() || name.chars().count() > MAX_USERNAME || name.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(format!(
            "username: 1 to {MAX_USERNAME} characters"
        )));
    }
    Ok(name)
}

/// The longest device name, characters.
pub const MAX_DEVICE_NAME: usize = 100;

/// A device's name as the phone sends it, trimmed: 1 to [`MAX_DEVICE_NAME`] characters, no
/// control characters (it is shown on Security info and written to the audit log).
pub fn device_name(sent: &str) -> Result<&str, ApiError> {
    let name = sent.trim();
    if name.is_empty()
        || name.chars().count() > MAX_DEVICE_NAME
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(format!(
            "device_name: 1 to {MAX_DEVICE_NAME} characters, none of them control characters"
        )));
    }
    Ok(name)
}

/// The limits' key of a username: case folded, as the store compares names.
pub fn username_key(name: &str) -> String {
    name.to_lowercase()
}

/// A password as sent (not trimmed): at most [`MAX_PASSWORD_BYTES`].
pub fn password(typed: &str) -> Result<&str, ApiError> {
    if typed.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::BadRequest(format!(
            "password: at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(typed)
}

/// A code, trimmed: at most [`MAX_CODE`] characters.
pub fn code(typed: &str) -> Result<&str, ApiError> {
    let code = typed.trim();
    if code.chars().count() > MAX_CODE {
        return Err(ApiError::BadRequest(format!(
            "code: at most {MAX_CODE} characters"
        )));
    }
    Ok(code)
}

/// An id from a path or a body: at most [`MAX_ID`] characters.
pub fn id(what: &str, value: &str) -> Result<(), ApiError> {
    if value.len() > MAX_ID {
        return Err(ApiError::BadRequest(format!(
            "{what}: at most {MAX_ID} characters"
        )));
    }
    Ok(())
}

/// Bounds for the audit table: what one request writes there is at most one row of
/// bounded size per event (the text is cut at a character boundary, marked with `…`).
pub fn audit_text(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_bounded() {
        assert_eq!(username("  alice ").unwrap(), "alice");
        assert!(username(&"a".repeat(65)).is_err());
        assert!(username("al\nice").is_err());
        assert!(username(" ").is_err());
        assert_eq!(
            device_name(" Alice\u{2019}s phone ").unwrap(),
            "Alice\u{2019}s phone"
        );
        assert!(device_name("phone\n1700000000\talice").is_err());
        assert!(device_name(&"p".repeat(101)).is_err());
        assert!(password(&"p".repeat(1025)).is_err());
        assert!(code(&"1".repeat(65)).is_err());
        assert!(id("reset", &"x".repeat(65)).is_err());
        let cut = audit_text(&"é".repeat(100), 11);
        assert!(cut.len() <= 11 && cut.ends_with('…'), "{cut}");
    }
}
