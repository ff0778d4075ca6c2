//! Proton Authenticator's JSON export: `{version, entries: [{id, content: {uri, entry_type,
//! name}, note}, ...]}`, each account an otpauth link (or `steam://SECRET`).

use cityauth_core::{Account, OtpKind, otpauth};
use serde_json::Value;

use super::assemble::{self, Draft};
use super::json::{self, Fields};
use crate::entry::Entry;
use crate::error::ImportError;

/// The export version this reader knows.
const VERSION: u64 = 1;
const STEAM_PREFIX: &str = "steam://";

/// Whether `bytes` are a JSON object with Proton's `version` and `entries` (and not Aegis's
/// `db`).
pub fn looks_like(bytes: &[u8]) -> bool {
    json::top_level_keys(bytes).is_some_and(|keys| {
        keys.contains("version") && keys.contains("entries") && !keys.contains("db")
    })
}

/// Reads an export. Another version is [`ImportError::Unsupported`]; a file that is not such
/// JSON is [`ImportError::Damaged`].
pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, ImportError> {
    let root = json::document(bytes, "Proton Authenticator export")?;
    if root.get("version").and_then(Value::as_u64) != Some(VERSION) {
        return Err(ImportError::Unsupported {
            what: "this Proton Authenticator export version (cityauth reads version 1)".into(),
        });
    }
    let items = json::entry_list(&root, "entries", "Proton Authenticator export")?;
    Ok(items
        .iter()
        .enumerate()
        .map(|(index, item)| assemble::entry("entry", index + 1, label_of(item), account_of(item)))
        .collect())
}

fn label_of(item: &Value) -> String {
    let name = item
        .get("content")
        .and_then(|content| content.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    assemble::label("", name)
}

fn account_of(item: &Value) -> Result<Account, String> {
    let content = Fields::of(item, "")?.object("content", "content.")?;
    let uri = content.str("uri")?.trim();
    let account = match assemble::strip_prefix_ignore_case(uri, STEAM_PREFIX) {
        Some(secret) => {
            let secret = assemble::base32_secret("content.uri", secret)?;
            Draft {
                issuer: "",
                name: "",
                kind: OtpKind::Steam,
                algorithm: None,
                digits: None,
                period: None,
                counter: None,
            }
            .into_account(secret)?
        }
        None => otpauth::parse(uri).map_err(|e| format!("content.uri: {e}"))?,
    };
    // `content.name` is the name shown in the app, which the user may have edited since
    // the link was scanned.
    match content.str_or_empty("name")?.trim() {
        "" => Ok(account),
        name => account
            .renamed(account.issuer(), name)
            .map_err(assemble::account_reason),
    }
}
