//! Audit events as RFC 5424 syslog messages: facility authpriv, severity informational,
//! the event's name as MSGID, its username and client address as structured data, and the
//! whole event as a JSON object for the message.

use std::fmt::Write;

use super::json_line;
use crate::store::AuditEvent;

/// `authpriv` (10) × 8 + `informational` (6).
const PRIORITY: u8 = 86;
/// The structured data's id: the private enterprise number RFC 5612 reserves for
/// documentation, until the City registers its own.
const SD_ID: &str = "cityauth@32473";
/// The longest a header field may be (RFC 5424 §6: HOSTNAME 255, APP-NAME 48, MSGID 32).
const MSGID_MAX: usize = 32;

/// The header fields that name the sender.
#[derive(Debug, Clone)]
pub struct Origin {
    hostname: String,
    procid: String,
}

impl Origin {
    /// This machine's host name and this process's id.
    pub fn of_this_process() -> Self {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .map(|h| header_field(h.trim(), 255))
            .unwrap_or_else(|_| "-".into());
        Self {
            hostname,
            procid: std::process::id().to_string(),
        }
    }
}

/// The RFC 5424 message for `event` from `origin`.
pub fn message(origin: &Origin, event: &AuditEvent) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    let _ = write!(
        out,
        "<{PRIORITY}>1 {} {} cityauth-server {} {} [{SD_ID}",
        timestamp(event.time),
        origin.hostname,
        origin.procid,
        header_field(&event.event, MSGID_MAX),
    );
    for (name, value) in [
        ("username", event.username.as_deref()),
        ("client_ip", event.client_ip.as_deref()),
    ] {
        if let Some(value) = value {
            let _ = write!(out, " {name}=\"{}\"", param_value(value));
        }
    }
    // The message is UTF-8, which RFC 5424 §6.4 marks with a byte-order mark.
    out.push_str("] \u{feff}");
    out.push_str(&json_line(event));
    out.into_bytes()
}

/// A header field: printable US-ASCII without spaces, at most `max` characters; `-` (the
/// nil value) if nothing is left.
fn header_field(text: &str, max: usize) -> String {
    let field: String = text
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(max)
        .collect();
    if field.is_empty() { "-".into() } else { field }
}

/// A structured-data parameter value: `"`, `\` and `]` escaped with a backslash (§6.3.3).
fn param_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `unix` seconds as an RFC 3339 UTC time (`2026-12-02T18:04:05Z`).
fn timestamp(unix: u64) -> String {
    let (days, seconds) = (unix / 86_400, unix % 86_400);
    let (year, month, day) = crate::util::civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            hostname: "auth1".into(),
            procid: "4242".into(),
        }
    }

    #[test]
    fn times_are_rfc_3339_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        // 2000-02-29, a leap day of a century leap year; 2026-12-02 18:04:05.
        assert_eq!(timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(timestamp(1_796_234_645), "2026-12-02T18:04:05Z");
        assert_eq!(timestamp(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn a_message_has_the_rfc_5424_header_and_the_event_as_json() {
        let event = AuditEvent {
            time: 1_796_234_645,
            username: Some("alice".into()),
            event: "password_reset".into(),
            detail: "reset ab…: new password set".into(),
            client_ip: Some("192.0.2.7".into()),
        };
        let text = String::from_utf8(message(&origin(), &event)).unwrap();
        let (header, json) = text.split_once('\u{feff}').unwrap();
        assert_eq!(
            header,
            "<86>1 2026-12-02T18:04:05Z auth1 cityauth-server 4242 password_reset \
             [cityauth@32473 username=\"alice\" client_ip=\"192.0.2.7\"] "
        );
        let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(parsed["detail"], "reset ab…: new password set");
    }

    #[test]
    fn a_hostile_username_cannot_end_the_structured_data_or_forge_a_field() {
        let event = AuditEvent {
            time: 0,
            username: Some("x\"] [evil@1 a=\"b\\".into()),
            event: "sign in\nfailed".into(),
            detail: String::new(),
            client_ip: None,
        };
        let text = String::from_utf8(message(&origin(), &event)).unwrap();
        let (header, _) = text.split_once('\u{feff}').unwrap();
        assert_eq!(
            header,
            "<86>1 1970-01-01T00:00:00Z auth1 cityauth-server 4242 sign_in_failed \
             [cityauth@32473 username=\"x\\\"\\] [evil@1 a=\\\"b\\\\\"] "
        );
    }
}
