//! Bitwarden's password-manager exports, JSON and CSV: the TOTP field of each login.
//!
//! The field holds an otpauth link, a bare base32 secret (TOTP, SHA1, 6 digits, 30 seconds:
//! what Bitwarden assumes) or `steam://SECRET`. A login without one is not an account and not
//! a rejection: it is left out. Accounts whose field gives no issuer take the item's name, and
//! no account name the login's username.

use cityauth_core::{Account, OtpKind, otpauth};
use serde_json::Value;

use super::assemble::{self, Draft};
use super::csv;
use super::json;
use crate::entry::Entry;
use crate::error::ImportError;

const STEAM_PREFIX: &str = "steam://";
/// Bitwarden's item type for logins.
const LOGIN_ITEM: u64 = 1;

/// Whether `bytes` are a JSON object with Bitwarden's `items` and `encrypted` (or `folders`).
pub fn looks_like_json(bytes: &[u8]) -> bool {
    json::top_level_keys(bytes).is_some_and(|keys| {
        keys.contains("items") && (keys.contains("encrypted") || keys.contains("folders"))
    })
}

/// Whether the first line of `bytes` is a CSV header with `login_totp` and `name` columns.
pub fn looks_like_csv(bytes: &[u8]) -> bool {
    let text = json::strip_bom(bytes);
    let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
    std::str::from_utf8(first).is_ok_and(|line| {
        let columns: Vec<&str> = line.trim_end().split(',').map(str::trim).collect();
        columns.contains(&"login_totp") && columns.contains(&"name")
    })
}

/// Reads a JSON export: one entry per login item with a TOTP field, located by its item number
/// among all items. An encrypted export is [`ImportError::Unsupported`]; a file that is not
/// such JSON is [`ImportError::Damaged`].
pub fn read_json(bytes: &[u8]) -> Result<Vec<Entry>, ImportError> {
    let root = json::document(bytes, "Bitwarden export")?;
    if root.get("encrypted").and_then(Value::as_bool) == Some(true) {
        return Err(ImportError::Unsupported {
            what: "an encrypted Bitwarden export (export it unencrypted, import, then delete it)"
                .into(),
        });
    }
    let items = json::entry_list(&root, "items", "Bitwarden export")?;
    Ok(items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| json_item(item).map(|read| (index, read)))
        .map(|(index, (label, outcome))| assemble::entry("item", index + 1, label, outcome))
        .collect())
}

/// The label and outcome of a login with a TOTP field; `None` for any other item.
fn json_item(item: &Value) -> Option<(String, Result<Account, String>)> {
    if item
        .get("type")
        .and_then(Value::as_u64)
        .is_some_and(|t| t != LOGIN_ITEM)
    {
        return None;
    }
    let login = item.get("login")?;
    let totp = login.get("totp").filter(|totp| !totp.is_null())?;
    let (item_name, username) = (text_at(item, "name"), text_at(login, "username"));
    let outcome = match totp.as_str() {
        Some(field) if field.trim().is_empty() => return None,
        Some(field) => account_of(field, item_name, username),
        None => Err("login.totp: not a string".to_owned()),
    };
    Some((assemble::label(item_name, username), outcome))
}

/// The string at `key`, or `""` when it is missing or not a string (labels are optional).
fn text_at<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Reads a CSV export: one entry per `login` row with a `login_totp`, located by the line its
/// row starts on. A file without a `login_totp` column, or with broken quoting, is
/// [`ImportError::Damaged`].
pub fn read_csv(bytes: &[u8]) -> Result<Vec<Entry>, ImportError> {
    let text = std::str::from_utf8(json::strip_bom(bytes))
        .map_err(|_| ImportError::damaged("Bitwarden CSV: not UTF-8 text"))?;
    let records = csv::records(text)?;
    let (header, rows) = records
        .split_first()
        .ok_or_else(|| ImportError::damaged("Bitwarden CSV: empty"))?;
    let column = |name: &str| header.fields.iter().position(|f| f.trim() == name);
    let totp_column = column("login_totp")
        .ok_or_else(|| ImportError::damaged("Bitwarden CSV: no login_totp column"))?;
    let (name_column, user_column, type_column) =
        (column("name"), column("login_username"), column("type"));
    let mut entries = Vec::new();
    for row in rows {
        let cell = |index: Option<usize>| {
            index
                .and_then(|i| row.fields.get(i))
                .map(|f| f.as_str())
                .unwrap_or_default()
        };
        let totp = cell(Some(totp_column));
        let is_login = type_column.is_none() || cell(type_column) == "login";
        if !is_login || totp.trim().is_empty() {
            continue;
        }
        let (item_name, username) = (cell(name_column), cell(user_column));
        entries.push(assemble::entry(
            "line",
            row.line,
            assemble::label(item_name, username),
            account_of(totp, item_name, username),
        ));
    }
    Ok(entries)
}

/// The account a TOTP field describes, labelled from the item where the field says nothing.
fn account_of(field: &str, item_name: &str, username: &str) -> Result<Account, String> {
    let field = field.trim();
    let account = if assemble::strip_prefix_ignore_case(field, "otpauth://").is_some() {
        otpauth::parse(field).map_err(|e| format!("login.totp: {e}"))?
    } else {
        let (kind, secret_text) = match assemble::strip_prefix_ignore_case(field, STEAM_PREFIX) {
            Some(secret) => (OtpKind::Steam, secret),
            None => (OtpKind::Totp, field),
        };
        let secret = assemble::base32_secret("login.totp", secret_text)?;
        Draft {
            issuer: item_name,
            name: username,
            kind,
            algorithm: None,
            digits: None,
            period: None,
            counter: None,
        }
        .into_account(secret)?
    };
    let issuer = match account.issuer() {
        "" => item_name,
        issuer => issuer,
    };
    let name = match account.name() {
        "" => username,
        name => name,
    };
    account
        .renamed(issuer, name)
        .map_err(assemble::account_reason)
}
