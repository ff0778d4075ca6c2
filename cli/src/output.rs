//! What the commands print: aligned tables for people, JSON for scripts.

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use cityauth_core::{AccountCode, AccountInfo, OtpKind};

use crate::error::{CliError, Code};

/// One account in `list --json`. No secret, ever.
#[derive(Debug, Serialize)]
pub struct ListedAccount<'a> {
    /// The account's id.
    pub id: i64,
    /// The service.
    pub issuer: &'a str,
    /// The account at the service.
    pub name: &'a str,
    /// `totp`, `hotp` or `steam`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `SHA1`, `SHA256` or `SHA512`.
    pub algorithm: &'static str,
    /// The code's length.
    pub digits: u8,
    /// Seconds per code; `null` for HOTP, where it means nothing.
    pub period: Option<u32>,
    /// The next HOTP counter; `null` for time-based accounts.
    pub counter: Option<u64>,
}

impl<'a> From<&'a AccountInfo> for ListedAccount<'a> {
    fn from(info: &'a AccountInfo) -> Self {
        let params = &info.params;
        let hotp = params.kind() == OtpKind::Hotp;
        Self {
            id: info.id.0,
            issuer: &info.issuer,
            name: &info.name,
            kind: params.kind().as_str(),
            algorithm: params.algorithm().as_str(),
            digits: params.digits(),
            period: (!hotp).then(|| params.period()),
            counter: hotp.then(|| params.counter()),
        }
    }
}

/// One code in `codes --json`.
#[derive(Debug, Serialize)]
pub struct ShownCode<'a> {
    /// The account's id.
    pub id: i64,
    /// The service.
    pub issuer: &'a str,
    /// The account at the service.
    pub name: &'a str,
    /// The code, as text (it may start with zeros).
    pub code: &'a str,
    /// Seconds until the code changes.
    pub remaining: u64,
    /// The account's period in seconds.
    pub period: u32,
}

/// `list`'s text form: an aligned table.
pub fn account_table(accounts: &[AccountInfo]) -> String {
    let mut rows = vec![row([
        "ID",
        "ISSUER",
        "NAME",
        "TYPE",
        "ALGORITHM",
        "DIGITS",
        "PERIOD",
        "COUNTER",
    ])];
    for info in accounts {
        let listed = ListedAccount::from(info);
        rows.push(vec![
            listed.id.to_string(),
            listed.issuer.to_owned(),
            listed.name.to_owned(),
            listed.kind.to_owned(),
            listed.algorithm.to_owned(),
            listed.digits.to_string(),
            listed.period.map_or("-".to_owned(), |p| format!("{p}s")),
            listed.counter.map_or("-".to_owned(), |c| c.to_string()),
        ]);
    }
    table(&rows)
}

/// `codes`' text form: one row per account; HOTP rows point to `cityauth code`.
pub fn code_table(accounts: &[AccountInfo], codes: &[AccountCode]) -> String {
    table(&code_rows(
        accounts,
        codes,
        |code| format!("{}s", code.remaining),
        |info| format!("HOTP: use `cityauth code {}`", info.id),
    ))
}

/// The rows of a codes table, header first: one per account with a code, and one per HOTP
/// account with `hotp` in place of the time left (no code is drawn). `remaining` shows the
/// time left of a code.
pub fn code_rows(
    accounts: &[AccountInfo],
    codes: &[AccountCode],
    remaining: impl Fn(&AccountCode) -> String,
    hotp: impl Fn(&AccountInfo) -> String,
) -> Vec<Vec<String>> {
    let mut rows = vec![row(["ID", "ISSUER", "NAME", "CODE", "REMAINING"])];
    for info in accounts {
        let (code, left) = match codes.iter().find(|c| c.id == info.id) {
            Some(code) => (code.code.as_str().to_owned(), remaining(code)),
            None if info.params.kind() == OtpKind::Hotp => ("-".to_owned(), hotp(info)),
            None => continue,
        };
        rows.push(vec![
            info.id.to_string(),
            info.issuer.clone(),
            info.name.clone(),
            code,
            left,
        ]);
    }
    rows
}

/// The `codes --json` array, in the vault's order.
pub fn codes_json(accounts: &[AccountInfo], codes: &[AccountCode]) -> Result<String, CliError> {
    let shown: Vec<ShownCode<'_>> = codes
        .iter()
        .filter_map(|code| {
            let info = accounts.iter().find(|info| info.id == code.id)?;
            Some(ShownCode {
                id: code.id.0,
                issuer: &info.issuer,
                name: &info.name,
                code: code.code.as_str(),
                remaining: code.remaining,
                period: code.period,
            })
        })
        .collect();
    json(&shown)
}

/// The `list --json` array.
pub fn accounts_json(accounts: &[AccountInfo]) -> Result<String, CliError> {
    let listed: Vec<ListedAccount<'_>> = accounts.iter().map(ListedAccount::from).collect();
    json(&listed)
}

fn json(value: &impl Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|text| {
            // serde_json escapes C0 controls only; DEL, C1 and the bidi overrides too, so the
            // JSON is as safe on a terminal as the tables (same values, JSON escapes).
            let mut out = String::with_capacity(text.len() + 1);
            for c in text.chars() {
                // Raw newlines are the pretty printer's own: inside strings they are escaped.
                if c == '\n' || !drives_the_terminal(c) {
                    out.push(c);
                } else {
                    out.push_str(&format!("\\u{:04x}", u32::from(c)));
                }
            }
            out.push('\n');
            out
        })
        .map_err(|error| CliError::new(Code::Io, format!("cannot write JSON: {error}")))
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|cell| (*cell).to_owned()).collect()
}

/// `text` safe to show on a terminal: control characters (escape sequences, newlines, tabs,
/// C1 controls) and the bidirectional overrides written as `\u{..}`, everything else kept.
///
/// Names, issuers and the server's challenge fields come from links, import files and the
/// network: raw, an `ESC [` sequence could recolour or rewrite the screen, a newline could
/// forge a line of the report, and a right-to-left override could show another name.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(drives_the_terminal) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if drives_the_terminal(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A control character, or a mark that reorders the text around it.
fn drives_the_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Left-aligns every column to its widest cell, two spaces apart, no trailing spaces.
/// Widths are terminal cells, not characters: a CJK character or an emoji takes two, a
/// combining mark none, so names in any script line up. Cells are shown [`printable`].
pub fn table(rows: &[Vec<String>]) -> String {
    let printable_rows: Vec<Vec<std::borrow::Cow<'_, str>>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| printable(cell)).collect())
        .collect();
    let rows = &printable_rows;
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&widths) {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', width - cell.width() + 2));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_drive_the_terminal() {
        let hostile = "evil\x1b[2J\x1b]0;title\x07\nforged line\t\u{9b}\u{202e}gnp.exe";
        let shown = printable(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(
            shown,
            "evil\\u{1b}[2J\\u{1b}]0;title\\u{7}\\u{a}forged line\\u{9}\\u{9b}\\u{202e}gnp.exe"
        );
        assert_eq!(printable("東京 e\u{301} ok"), "東京 e\u{301} ok");
        let json = json(&serde_json::json!({ "name": hostile })).unwrap();
        assert!(!json.chars().any(|c| c.is_control() && c != '\n'), "{json}");
        assert!(!json.contains('\u{202e}'), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["name"], hostile, "the JSON holds the same value");
        let rows = vec![row(["1", hostile]), row(["2", "plain"])];
        assert_eq!(
            table(&rows).lines().count(),
            2,
            "a newline in a name adds no line"
        );
    }

    #[test]
    fn tables_are_aligned_without_trailing_spaces() {
        let rows = vec![
            row(["ID", "ISSUER", "NAME"]),
            row(["10", "Über", ""]),
            row(["2", "B", "bob"]),
        ];
        assert_eq!(
            table(&rows),
            "ID  ISSUER  NAME\n10  Über\n2   B       bob\n"
        );
        let wide = vec![row(["東京", "x"]), row(["e\u{301}", "y"])];
        assert_eq!(table(&wide), "東京  x\ne\u{301}     y\n");
    }
}
