//! A text file of otpauth links, one a line, as Ente Auth and many scripts write them.
//!
//! Blank lines and `#` comments are skipped; CRLF line ends and a leading BOM are fine.
//! `otpauth-migration://` lines (Google Authenticator exports) are read together by
//! [`super::google::read_links`], their entries placed where the first of them sat.

use cityauth_core::otpauth;
use cityauth_core::percent::{self, Plus};

use super::assemble::strip_prefix_ignore_case;
use super::google;
use super::json::strip_bom;
use super::limits;

use crate::cancel::Cancel;
use crate::entry::{Entry, Location, safe_label};
use crate::error::ImportError;

const OTPAUTH: &str = "otpauth://";
const MIGRATION: &str = "otpauth-migration://";

/// Whether the first line that is not blank or a comment starts an otpauth or
/// otpauth-migration link.
pub fn looks_like(bytes: &[u8]) -> bool {
    lines(bytes)
        .next()
        .is_some_and(|(_, line)| starts_with_ignore_case(line, OTPAUTH) || is_migration(line))
}

/// Reads every link: each becomes an account or a rejection at its line number naming the
/// field at fault; stops when `cancel` is tripped. Fails as [`super::google::read_links`] does for migration lines, and with
/// [`ImportError::TooMany`] past [`limits::MAX_ENTRIES`] lines or entries.
pub fn read(bytes: &[u8], cancel: &Cancel) -> Result<Vec<Entry>, ImportError> {
    let mut entries = Vec::new();
    let mut migration = Vec::new();
    let mut migration_at = None;
    for (number, line) in lines(bytes) {
        if entries.len() + migration.len() == limits::MAX_ENTRIES {
            return Err(ImportError::TooMany {
                what: "lines of links",
                limit: limits::MAX_ENTRIES,
            });
        }
        let location = Location::line(number);
        if is_migration(line) {
            migration_at.get_or_insert(entries.len());
            migration.push((location, line));
            continue;
        }
        entries.push(match otpauth::parse(line) {
            Ok(account) => Entry::account(location, account),
            Err(error) => Entry::rejected(location, label_of(line), error.to_string()),
        });
    }
    if let Some(at) = migration_at {
        let room = limits::MAX_ENTRIES - entries.len();
        let from_google = google::read_links_within(&migration, room, cancel)?;
        entries.splice(at..at, from_google);
    }
    Ok(entries)
}

/// The lines that hold something, numbered from 1, without BOM, line ends or surrounding
/// white space. A line that is not UTF-8 is given as it decodes lossily: it then fails to
/// parse as a link, and is reported at its number.
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &str)> {
    strip_bom(bytes)
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(index, raw)| (index + 1, std::str::from_utf8(raw).unwrap_or("\u{FFFD}")))
        .map(|(number, line)| (number, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

fn is_migration(line: &str) -> bool {
    starts_with_ignore_case(line, MIGRATION)
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    strip_prefix_ignore_case(text, prefix).is_some()
}

/// The label of a link that failed to parse, for the rejection: the text between the type and
/// the query, decoded, then cut by [`safe_label`] (a link without its `?` carries its
/// `secret=` in what looks like the label); empty when the line is not an otpauth link at
/// all (it might be a bare secret).
fn label_of(line: &str) -> String {
    let Some(rest) = strip_prefix_ignore_case(line, OTPAUTH) else {
        return String::new();
    };
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    let raw = path
        .split_once('/')
        .map(|(_, label)| label)
        .unwrap_or_default();
    // A label that is not strictly percent-encoded is shown as it was written; either way
    // it is cut before anything that may be a secret.
    match percent::decode(raw, Plus::Literal) {
        Ok(decoded) => safe_label(&decoded).chars().take(120).collect(),
        Err(_) => safe_label(raw).chars().take(120).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_blanks_and_comments_and_numbers_lines() {
        let text = b"\xEF\xBB\xBF# my codes\r\n\r\notpauth://totp/A:b?secret=JBSWY3DP\r\n  \n\
                     otpauth://totp/Bad%20One:x?secret=JBSW1\nnot a link\n";
        let entries = read(text, &Cancel::new()).unwrap();
        let lines: Vec<&str> = entries.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(lines, ["line 3", "line 5", "line 6"]);
        assert!(entries[0].outcome.is_ok());
        let bad = entries[1].outcome.as_ref().unwrap_err();
        assert_eq!(bad.label, "Bad One:x");
        assert!(bad.reason.starts_with("secret"), "{}", bad.reason);
        let not_link = entries[2].outcome.as_ref().unwrap_err();
        assert_eq!(not_link.label, "");
        assert!(not_link.reason.starts_with("scheme"), "{}", not_link.reason);
    }

    #[test]
    fn a_sign_inside_an_escape_is_not_decoded_in_a_label() {
        let entries = read(
            b"otpauth://totp/Evil%+ALine:x?secret=JBSW1\n",
            &Cancel::new(),
        )
        .unwrap();
        let bad = entries[0].outcome.as_ref().unwrap_err();
        assert_eq!(bad.label, "Evil%+ALine:x");
    }

    #[test]
    fn detection_looks_at_the_first_real_line() {
        assert!(looks_like(b"\n# x\nOTPAUTH://totp/a?secret=AA"));
        assert!(looks_like(b"otpauth-migration://offline?data=x"));
        assert!(!looks_like(b"name,otpauth://totp/a"));
        assert!(!looks_like(b""));
    }

    #[test]
    fn a_line_that_is_not_utf8_is_a_rejection() {
        let entries = read(
            b"otpauth://totp/a?secret=JBSWY3DP\n\xFF\xFE\n",
            &Cancel::new(),
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].location.as_str(), "line 2");
        assert!(entries[1].outcome.is_err());
    }
}
