//! The server's log: `tracing` events on standard error, one JSON object a line by default
//! (what a SIEM ingests) or plain text for a person at a terminal, filtered by `RUST_LOG`.
//!
//! Every request runs in a `request` span carrying its random id (also sent back as
//! `X-Request-Id`, so a user's report can be matched to the lines), and every audit event is
//! also emitted here under the target `audit`. Nothing secret is ever a field: the callers
//! log ids, usernames and outcomes, never passwords, codes, seeds or tokens.

use std::str::FromStr;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object a line, with the current span's fields (the default for `serve`).
    #[default]
    Json,
    /// Human-readable text lines.
    Text,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "text" => Ok(Self::Text),
            _ => Err("json or text".into()),
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Json => "json",
            Self::Text => "text",
        })
    }
}

/// The filter when `RUST_LOG` is unset: the server's own events and the audit stream.
const DEFAULT_FILTER: &str = "info";

/// Installs the process's log subscriber (once; a second call is ignored, so tests that start
/// several servers in one process may call it freely).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// A fresh request id: 64 random bits from the system's generator, as 16 hex digits.
pub fn request_id() -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 8];
    // The id only correlates lines; should the generator ever fail, zeros still answer.
    let _ = SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_sixteen_hex_digits_and_differ() {
        let (a, b) = (request_id(), request_id());
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn the_format_parses_from_its_names() {
        assert_eq!("JSON".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("text".parse::<LogFormat>(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().is_err());
    }
}
