//! LDAP search filters with values escaped (RFC 4515, section 3): a username is always a
//! value, never filter syntax, whatever it holds.

/// `value` escaped for use inside a filter's assertion value: `*`, `(`, `)`, `\` and NUL
/// become `\2a`, `\28`, `\29`, `\5c` and `\00` (RFC 4515's required escapes); other bytes
/// pass, since the filter is sent as UTF-8.
pub fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => escaped.push_str("\\2a"),
            '(' => escaped.push_str("\\28"),
            ')' => escaped.push_str("\\29"),
            '\\' => escaped.push_str("\\5c"),
            '\0' => escaped.push_str("\\00"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// `(attribute=value)` with `value` escaped. `attribute` comes from the configuration and
/// is checked there (letters, digits, `-`; or an OID).
pub fn equals(attribute: &str, value: &str) -> String {
    format!("({attribute}={})", escape(value))
}

/// True if `attribute` is a plain attribute description (RFC 4512: a letter then letters,
/// digits and hyphens, or a numeric OID): what the configuration accepts as the user
/// attribute, so that it cannot carry filter syntax either.
pub fn is_attribute_name(attribute: &str) -> bool {
    let mut chars = attribute.chars();
    match chars.next() {
        Some(first) if first.is_ascii_alphabetic() => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
        }
        Some(first) if first.is_ascii_digit() => attribute
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_special_characters_are_escaped_as_rfc_4515_requires() {
        // RFC 4515, section 4's examples of escaped values.
        assert_eq!(
            escape("Parens R Us (for all your parenthetical needs)"),
            "Parens R Us \\28for all your parenthetical needs\\29"
        );
        assert_eq!(escape("*"), "\\2a");
        assert_eq!(escape("C:\\MyFile"), "C:\\5cMyFile");
        assert_eq!(escape("a\0b"), "a\\00b");
        assert_eq!(escape("Lučić"), "Lučić");
    }

    #[test]
    fn an_injection_attempt_stays_one_value() {
        let filter = equals("uid", "*)(uid=*))(|(uid=*");
        assert_eq!(
            filter,
            "(uid=\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a)"
        );
        assert_eq!(filter.matches('(').count(), 1);
        assert_eq!(filter.matches(')').count(), 1);
    }

    #[test]
    fn only_plain_attribute_names_are_accepted() {
        for good in [
            "uid",
            "sAMAccountName",
            "userPrincipalName",
            "x-custom-1",
            "0.9.2342.19200300.100.1.1",
        ] {
            assert!(is_attribute_name(good), "{good}");
        }
        for bad in ["", "uid)", "uid=*", "(uid", "1.", "-uid", "u id", "1..2"] {
            assert!(!is_attribute_name(bad), "{bad}");
        }
    }
}
