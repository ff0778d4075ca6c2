//! Where audit events go ([`AuditTrail`]: the store's table, the log stream, and the
//! export for the City's SIEM, [`export`]), and how they are printed: by the `audit` admin
//! command, as tab-separated text in which no field can forge a line or a column, or JSON
//! Lines for tools.

mod export;
mod syslog;

pub use export::{AuditExport, AuditExportConfig, AuditExportError};

use std::fmt::Write;
use std::sync::Arc;

use crate::store::{AuditEvent, Store};

/// The one way an audit event is recorded: to the store, on the log stream, and to the
/// export when one is configured.
pub struct AuditTrail {
    store: Arc<dyn Store>,
    export: Option<AuditExport>,
}

impl AuditTrail {
    /// A trail into `store`, exported to `export` too.
    pub fn new(store: Arc<dyn Store>, export: Option<AuditExport>) -> Self {
        Self { store, export }
    }

    /// Records `event`; a failure to write it anywhere is logged, never returned: an audit
    /// write never fails the request it describes.
    pub fn record(&self, event: &AuditEvent) {
        to_log(event);
        if let Some(export) = &self.export {
            export.write(event);
        }
        if let Err(error) = self.store.audit(event) {
            tracing::error!(%error, "audit write failed");
        }
    }
}

/// One event as a text line: time, username, event, client IP, detail, separated by tabs;
/// every field escaped by [`escape`], so the line has exactly those five columns.
pub fn text_line(event: &AuditEvent) -> String {
    let or_dash = |field: &Option<String>| field.as_deref().map_or("-".into(), escape);
    format!(
        "{}\t{}\t{}\t{}\t{}",
        event.time,
        or_dash(&event.username),
        escape(&event.event),
        or_dash(&event.client_ip),
        escape(&event.detail)
    )
}

/// One event as a JSON object on one line (JSON Lines: one object a line, newest first);
/// `username` and `client_ip` are `null` when absent.
pub fn json_line(event: &AuditEvent) -> String {
    serde_json::json!({
        "time": event.time,
        "username": event.username,
        "event": event.event,
        "client_ip": event.client_ip,
        "detail": event.detail,
    })
    .to_string()
}

/// `text` with what a terminal or a line-based tool would act on written out instead:
/// `\t`, `\n`, `\r` and `\\` as such; other control characters, and the Unicode line
/// separators and bidirectional controls that can reorder what a terminal shows, as
/// `\u{…}`. A username typed by a stranger thus cannot add a line or a column.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || is_invisible_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Format characters that change how a line is displayed (line and paragraph separators,
/// bidirectional embeddings, overrides and isolates, the byte-order mark).
fn is_invisible_control(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}' | '\u{feff}')
}

/// The audit event on the log stream too (target `audit`), with the row's fields.
fn to_log(record: &AuditEvent) {
    tracing::info!(
        target: "audit",
        event = %record.event,
        username = record.username.as_deref(),
        client_ip = record.client_ip.as_deref(),
        detail = %record.detail,
        time = record.time,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_written_out() {
        assert_eq!(escape("alice"), "alice");
        assert_eq!(escape("a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e");
        assert_eq!(escape("\u{1b}[2J\u{7f}\u{85}"), "\\u{1b}[2J\\u{7f}\\u{85}");
        assert_eq!(escape("x\u{202e}y\u{2028}"), "x\\u{202e}y\\u{2028}");
        assert_eq!(escape("Zoë"), "Zoë");
    }
}
