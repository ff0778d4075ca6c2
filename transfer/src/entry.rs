//! What a parser yields: each entry of the file, read as an account or refused with a reason.

use std::fmt;

use cityauth_core::Account;
use zeroize::Zeroizing;

use crate::format::Format;

/// Where an entry sat in its file, in words a user can find it by: `line 3`,
/// `entry 4 ("GitHub")`, `batch 2 of 3, item 1`. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location(String);

impl Location {
    /// A location described by `text` (which must not contain a secret).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The `n`th line of a text file, counted from 1.
    pub fn line(n: usize) -> Self {
        Self(format!("line {n}"))
    }

    /// The `n`th entry of a list, counted from 1.
    pub fn entry(n: usize) -> Self {
        Self(format!("entry {n}"))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The shortest run of base32 characters that may be a secret (the shortest real secret,
/// 80 bits, is 16 characters).
const SECRET_RUN: usize = 16;

/// `text` cut before the first `secret` (any case), `&` or `=`, and before any run of
/// [`SECRET_RUN`] base32 characters: what a label may show of a broken link or a hostile
/// field, since what follows those may be the secret itself
/// (`otpauth://totp/Example:alice&secret=JBSW…` has no `?`, so its whole tail looks like a
/// label; a link cut in the middle can leave the bare secret there).
pub fn safe_label(text: &str) -> &str {
    let lower = text.to_ascii_lowercase();
    let cut = [
        lower.find("secret"),
        text.find('&'),
        text.find('='),
        base32_run(text),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(text.len());
    // Every candidate is the offset of an ASCII character, so a char boundary of `text`.
    text.get(..cut).unwrap_or_default().trim_end()
}

/// Where the first run of [`SECRET_RUN`] base32 characters (either case) starts.
fn base32_run(text: &str) -> Option<usize> {
    let mut run = 0;
    for (at, byte) in text.bytes().enumerate() {
        if byte.is_ascii_alphabetic() || (b'2'..=b'7').contains(&byte) {
            run += 1;
            if run == SECRET_RUN {
                return Some(at + 1 - SECRET_RUN);
            }
        } else {
            run = 0;
        }
    }
    None
}

/// Why one entry of a file cannot become an account. The reason names the field at fault
/// and never quotes a secret; the label is cut by [`safe_label`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The entry's issuer and name as the file gave them, when they could be read.
    pub label: String,
    /// What is wrong, e.g. `type: yandex is not supported` or `secret: not valid base32`.
    pub reason: String,
}

/// One entry of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where it was in the file.
    pub location: Location,
    /// The account, or why it was refused.
    pub outcome: Result<Account, Rejection>,
}

impl Entry {
    /// An entry read as an account.
    pub fn account(location: Location, account: Account) -> Self {
        Self {
            location,
            outcome: Ok(account),
        }
    }

    /// An entry refused for `reason`, under `label` cut by [`safe_label`].
    pub fn rejected(
        location: Location,
        label: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        let label: Zeroizing<String> = Zeroizing::new(label.into());
        Self {
            location,
            outcome: Err(Rejection {
                label: safe_label(&label).to_owned(),
                reason: reason.into(),
            }),
        }
    }
}

/// A whole file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The format it was read as.
    pub format: Format,
    /// Every entry, in file order: none is left out, refused ones included.
    pub entries: Vec<Entry>,
}

impl Parsed {
    /// The accounts read, in file order.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.entries.iter().filter_map(|e| e.outcome.as_ref().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::safe_label;

    #[test]
    fn labels_are_cut_before_what_may_be_a_secret() {
        assert_eq!(safe_label("Example:alice&secret=JBSW"), "Example:alice");
        assert_eq!(safe_label("Example:alice SECRET JBSW"), "Example:alice");
        assert_eq!(safe_label("Example:alice=JBSW"), "Example:alice");
        assert_eq!(safe_label("GitHub:aliceJBSWY3DPEHPK3PXP"), "GitHub:");
        assert_eq!(safe_label("Ünïcode: ÿ&x"), "Ünïcode: ÿ");
        assert_eq!(
            safe_label("GitHub (alice@example.com)"),
            "GitHub (alice@example.com)"
        );
    }
}
