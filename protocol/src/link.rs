//! The enrollment link the portal shows as a QR code:
//! `cityauth://enroll?v=1&server=<url>&code=<code>&fp=<fingerprint>`.

use crate::keys::Fingerprint;
use crate::percent::{self, Plus};

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
    /// No server, or not https (http only on loopback), or with userinfo, a query or a
    /// fragment.
    #[error("server: missing, or not an https URL without userinfo")]
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
                *slot = Some(percent::decode(value, Plus::Literal).ok());
            }
        }
        if version.flatten().as_deref().map(String::as_str) != Some("1") {
            return Err(EnrollmentLinkError::Version);
        }
        let server = server
            .flatten()
            .and_then(|s| acceptable_server(&s))
            .ok_or(EnrollmentLinkError::Server)?;
        let code = code
            .flatten()
            .filter(|c| c.len() >= MIN_CODE_CHARS && crate::encoding::decode(c).is_ok())
            .map(|c| c.to_string())
            .ok_or(EnrollmentLinkError::Code)?;
        let fingerprint = fingerprint
            .flatten()
            .and_then(|f| Fingerprint::from_base64(&f).ok())
            .ok_or(EnrollmentLinkError::Fingerprint)?;
        Ok(Self {
            server,
            code,
            fingerprint,
        })
    }

    /// Writes the link.
    pub fn to_link(&self) -> String {
        format!(
            "cityauth://enroll?v=1&server={}&code={}&fp={}",
            percent::encode(&self.server),
            self.code,
            self.fingerprint
        )
    }
}

/// The server's base URL in normal form (`scheme://authority[/path]`, no trailing slash), if
/// it is acceptable: https anywhere, plain http only to a loopback host (the reference server
/// and tests). Parsed with `http::Uri`, the parser the HTTP stacks use, so that the host
/// checked here is the host connected to. Refused: userinfo (`http://127.0.0.1:1@evil.example`
/// connects to evil.example), a query or fragment, an empty or malformed host or port.
fn acceptable_server(url: &str) -> Option<String> {
    // `http::Uri` ignores nothing after `#`, but a fragment has no place in a base URL.
    if url.contains(['#', '\\']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let uri: http::Uri = url.parse().ok()?;
    let authority = uri.authority()?;
    // No userinfo; no percent-escapes in the host, which stacks decode differently.
    if authority.as_str().contains(['@', '%']) || uri.query().is_some() {
        return None;
    }
    let host = authority.host();
    // The authority must be exactly the host and an optional valid port: `http::Uri` reads
    // the host of `[::1].evil.example` as `[::1]`, and a stack could read it otherwise.
    let exact = match authority.port_u16() {
        Some(port) => authority.as_str() == format!("{host}:{port}"),
        None => authority.as_str() == host,
    };
    if host.is_empty() || !exact {
        return None;
    }
    let secure = match uri.scheme_str()? {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    if !secure && !is_loopback(host) {
        return None;
    }
    let path = uri.path().trim_end_matches('/');
    Some(format!(
        "{}://{}{}",
        uri.scheme_str()?,
        authority.as_str(),
        path
    ))
}

/// `localhost` or a loopback address (IPv6 in brackets, as `http::Uri` gives it).
fn is_loopback(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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
    fn a_sign_inside_an_escape_is_refused() {
        let good = sample().to_link();
        let bad = good.replace("https%3A%2F%2F", "https%3A%+2F%2F");
        assert_ne!(bad, good);
        assert_eq!(
            EnrollmentLink::parse(&bad),
            Err(EnrollmentLinkError::Server)
        );
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
            ("http://localhost.evil.example", false),
            ("http://127.0.0.1.evil.example", false),
            ("http://[::1].evil.example", false),
            ("http://0x7f.1", false),
            ("https://", false),
            ("https:///path", false),
            ("https://auth.city.example/sso/", true),
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

    #[test]
    fn userinfo_in_the_server_url_is_refused() {
        let mut link = sample();
        for server in [
            "http://127.0.0.1:1@evil.example",
            "http://127.0.0.1@evil.example",
            "http://localhost:8080@evil.example/",
            "http://[::1]:1@evil.example",
            "https://user@auth.city.example",
            "https://user:pass@auth.city.example",
            "https://auth.city.example@evil.example",
            "http://evil.example#@127.0.0.1",
            "http://evil.example\\@127.0.0.1",
            "https://auth.city.example/?next=x",
            "https://auth.city.example/#frag",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:",
            "http://127.0.0.1 .evil.example",
            "http://%31%32%37.0.0.1",
            "https://%65vil.example",
        ] {
            link.server = server.into();
            assert_eq!(
                EnrollmentLink::parse(&link.to_link()),
                Err(EnrollmentLinkError::Server),
                "{server}"
            );
        }
    }

    #[test]
    fn the_server_url_is_kept_in_normal_form() {
        let mut link = sample();
        link.server = "https://auth.city.example/sso/".into();
        let parsed = EnrollmentLink::parse(&link.to_link()).unwrap();
        assert_eq!(parsed.server, "https://auth.city.example/sso");
    }
}
