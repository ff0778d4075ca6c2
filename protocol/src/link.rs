//! The enrollment link the portal shows as a QR code:
//! `cityauth://enroll?v=1&server=<url>&code=<code>&fp=<fingerprint>`.

use crate::keys::Fingerprint;

/// An enrollment link, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentLink {
    /// The server's base URL (`https://…`, or `http://` on a loopback address).
    pub server: String,
    /// The single-use enrollment code (at least 128 bits, base64url).
    pub code: String,
    /// The SHA-256 fingerprint of the server's signing key.
    pub fingerprint: Fingerprint,
}

/// What is wrong with an enrollment link; each case names its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnrollmentLinkError {
    /// Not `cityauth://enroll?…`.
    #[error("scheme: not a cityauth://enroll link")]
    Scheme,
    /// A version other than 1.
    #[error("v: unsupported link version")]
    Version,
    /// No server, or not https (http only on loopback).
    #[error("server: missing, or not an https URL")]
    Server,
    /// No code, or one shorter than 128 bits.
    #[error("code: missing or too short")]
    Code,
    /// No fingerprint, or not 32 bytes of base64url.
    #[error("fp: missing or not a SHA-256 fingerprint")]
    Fingerprint,
}

/// The fewest characters of base64url that carry 128 bits.
const MIN_CODE_CHARS: usize = 22;

impl EnrollmentLink {
    /// Parses a link, checking every field.
    pub fn parse(text: &str) -> Result<Self, EnrollmentLinkError> {
        let query = text
            .trim()
            .strip_prefix("cityauth://enroll?")
            .ok_or(EnrollmentLinkError::Scheme)?;
        let mut version = None;
        let mut server = None;
        let mut code = None;
        let mut fingerprint = None;
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "v" => &mut version,
                "server" => &mut server,
                "code" => &mut code,
                "fp" => &mut fingerprint,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(percent_decode(value));
            }
        }
        if version.flatten().as_deref() != Some("1") {
            return Err(EnrollmentLinkError::Version);
        }
        let server = server
            .flatten()
            .filter(|s| is_acceptable_server(s))
            .ok_or(EnrollmentLinkError::Server)?;
        let code = code
            .flatten()
            .filter(|c| c.len() >= MIN_CODE_CHARS && crate::encoding::decode(c).is_ok())
            .ok_or(EnrollmentLinkError::Code)?;
        let fingerprint = fingerprint
            .flatten()
            .and_then(|f| Fingerprint::from_base64(&f).ok())
            .ok_or(EnrollmentLinkError::Fingerprint)?;
        Ok(Self {
            server: server.trim_end_matches('/').to_owned(),
            code,
            fingerprint,
        })
    }

    /// Writes the link.
    pub fn to_link(&self) -> String {
        format!(
            "cityauth://enroll?v=1&server={}&code={}&fp={}",
            percent_encode(&self.server),
            self.code,
            self.fingerprint
        )
    }
}

/// https anywhere; plain http only to a loopback address (the reference server and tests).
fn is_acceptable_server(url: &str) -> bool {
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty();
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX`; `None` for a bad escape or invalid UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;

    fn sample() -> EnrollmentLink {
        let (key, _) = SigningKey::generate().unwrap();
        EnrollmentLink {
            server: "https://auth.city.example/sso".into(),
            code: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            fingerprint: key.public_key().fingerprint(),
        }
    }

    #[test]
    fn links_round_trip() {
        let link = sample();
        assert_eq!(EnrollmentLink::parse(&link.to_link()), Ok(link));
    }

    #[test]
    fn loopback_http_is_allowed_and_other_http_is_not() {
        let mut link = sample();
        for (server, ok) in [
            ("http://127.0.0.1:8080", true),
            ("http://[::1]:8080", true),
            ("http://localhost:3000/x", true),
            ("http://city.example", false),
            ("http://10.0.0.1", false),
            ("ftp://127.0.0.1", false),
        ] {
            link.server = server.into();
            assert_eq!(
                EnrollmentLink::parse(&link.to_link()).is_ok(),
                ok,
                "{server}"
            );
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let good = sample().to_link();
        let cases = [
            (
                "https://enroll?v=1".to_string(),
                EnrollmentLinkError::Scheme,
            ),
            (good.replace("v=1", "v=2"), EnrollmentLinkError::Version),
            (good.replace("https", "http"), EnrollmentLinkError::Server),
            (
                good.replace(
                    "code=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                    "code=AAAA",
                ),
                EnrollmentLinkError::Code,
            ),
            (
                good.replace("&fp=", "&fp=x"),
                EnrollmentLinkError::Fingerprint,
            ),
        ];
        for (text, error) in cases {
            assert_eq!(EnrollmentLink::parse(&text), Err(error), "{text}");
        }
    }
}
