//! otpauth links (the Key URI format of QR codes): parse what real QR codes carry, write
//! links that every authenticator reads back.
//!
//! `otpauth://TYPE/LABEL?secret=…&issuer=…&algorithm=…&digits=…&period=…&counter=…`, with
//! TYPE `totp`, `hotp` or `steam` (or `totp` with `encoder=steam`), and LABEL
//! `issuer:name`, `issuer%3Aname` or just `name`.

use crate::account::{Account, AccountError};
use crate::otp::{Algorithm, OtpKind, OtpParams, ParamError, ParamSpec};
use crate::percent::{self, Plus};
use crate::secret::{Base32Error, SecretBytes};

/// The longest link accepted (a QR code holds at most 4,296 characters).
pub const MAX_LINK_BYTES: usize = 8192;

/// What is wrong with a link. Each case names the field at fault and never quotes the link,
/// which holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not `otpauth://…` at all.
    #[error("scheme: not an otpauth:// link")]
    Scheme,
    /// Longer than [`MAX_LINK_BYTES`].
    #[error("link: longer than {MAX_LINK_BYTES} bytes")]
    TooLong,
    /// A type other than totp, hotp or steam.
    #[error("type: must be totp, hotp or steam")]
    Type,
    /// The label is not valid percent-encoded UTF-8.
    #[error("label: not valid percent-encoded UTF-8")]
    Label,
    /// A query parameter is not valid percent-encoded UTF-8.
    #[error("{0}: not valid percent-encoded UTF-8")]
    Encoding(&'static str),
    /// No `secret` parameter.
    #[error("secret: missing")]
    MissingSecret,
    /// `secret=` with nothing in it.
    #[error("secret: empty")]
    EmptySecret,
    /// The secret is not base32.
    #[error("secret: not valid base32")]
    InvalidSecret,
    /// An algorithm other than SHA1, SHA256 or SHA512.
    #[error("algorithm: must be SHA1, SHA256 or SHA512")]
    Algorithm,
    /// A Steam link with a hash other than SHA1.
    #[error("algorithm: Steam codes use SHA1")]
    SteamAlgorithm,
    /// Digits not a number, or outside 6..=8 (5 for Steam).
    #[error("digits: must be 6, 7 or 8 (5 for Steam)")]
    Digits,
    /// Period not a number, 0, or over an hour.
    #[error("period: must be a whole number of seconds from 1 to 3600")]
    Period,
    /// An hotp link without `counter`.
    #[error("counter: missing (hotp links need one)")]
    MissingCounter,
    /// A counter that is not a whole number below 2^64.
    #[error("counter: not a whole number")]
    Counter,
    /// An `encoder` other than `steam`.
    #[error("encoder: only steam is known")]
    Encoder,
    /// The issuer, name or secret is too long.
    #[error("{0}")]
    Account(#[from] AccountError),
}

impl LinkError {
    /// The field at fault, as named in links (`scheme`, `type`, `label`, `secret`, …).
    pub fn field(&self) -> &'static str {
        match self {
            LinkError::Scheme => "scheme",
            LinkError::TooLong => "link",
            LinkError::Type => "type",
            LinkError::Label => "label",
            LinkError::Encoding(field) => field,
            LinkError::MissingSecret | LinkError::EmptySecret | LinkError::InvalidSecret => {
                "secret"
            }
            LinkError::Algorithm | LinkError::SteamAlgorithm => "algorithm",
            LinkError::Digits => "digits",
            LinkError::Period => "period",
            LinkError::MissingCounter | LinkError::Counter => "counter",
            LinkError::Encoder => "encoder",
            LinkError::Account(AccountError::IssuerTooLong) => "issuer",
            LinkError::Account(AccountError::NameTooLong) => "name",
            LinkError::Account(AccountError::EmptySecret | AccountError::SecretTooLong) => "secret",
        }
    }
}

impl From<ParamError> for LinkError {
    fn from(error: ParamError) -> Self {
        match error {
            ParamError::Digits(_) => LinkError::Digits,
            ParamError::Period(_) => LinkError::Period,
            ParamError::SteamAlgorithm(_) => LinkError::SteamAlgorithm,
            ParamError::MissingCounter => LinkError::MissingCounter,
        }
    }
}

/// Parses an otpauth link into an account.
pub fn parse(link: &str) -> Result<Account, LinkError> {
    let link = link.trim();
    if link.len() > MAX_LINK_BYTES {
        return Err(LinkError::TooLong);
    }
    let rest = strip_prefix_ignore_case(link, "otpauth://").ok_or(LinkError::Scheme)?;
    let rest = rest.split('#').next().unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (kind_text, label) = path.split_once('/').unwrap_or((path, ""));
    let mut kind = match kind_text.to_ascii_lowercase().as_str() {
        "totp" => OtpKind::Totp,
        "hotp" => OtpKind::Hotp,
        "steam" => OtpKind::Steam,
        _ => return Err(LinkError::Type),
    };
    let (label_issuer, name) = split_label(label)?;
    let query = Query::parse(query)?;

    if let Some(encoder) = query.get("encoder") {
        match encoder.to_ascii_lowercase().as_str() {
            "steam" if kind == OtpKind::Totp => kind = OtpKind::Steam,
            "steam" if kind == OtpKind::Steam => {}
            _ => return Err(LinkError::Encoder),
        }
    }
    let secret = match query.get("secret") {
        None => return Err(LinkError::MissingSecret),
        Some(text) => SecretBytes::from_base32(text).map_err(|error| match error {
            Base32Error::Empty => LinkError::EmptySecret,
            Base32Error::Invalid => LinkError::InvalidSecret,
        })?,
    };
    let algorithm = match query.get("algorithm") {
        None => None,
        Some(name) => Some(Algorithm::from_name(name).ok_or(LinkError::Algorithm)?),
    };
    let hotp = kind == OtpKind::Hotp;
    let params = OtpParams::from_spec(ParamSpec {
        kind,
        algorithm,
        digits: query.number("digits", LinkError::Digits)?,
        // HOTP has no period: a stray `period=` on an hotp link is ignored, not an error.
        period: if hotp {
            None
        } else {
            query.number("period", LinkError::Period)?
        },
        // Nor has TOTP a counter.
        counter: if hotp {
            query.number("counter", LinkError::Counter)?
        } else {
            None
        },
    })?;
    // An empty `issuer=` (a generator's unset template field) names no issuer: the label's
    // stands, instead of the account silently losing it.
    let issuer = query
        .get("issuer")
        .filter(|issuer| !issuer.trim().is_empty())
        .unwrap_or(&label_issuer);
    Ok(Account::new(issuer, &name, secret, params)?)
}

/// Writes an account as an otpauth link that [`parse`] reads back to the same account.
///
/// The link contains the secret: treat it as one.
pub fn write(account: &Account) -> zeroize::Zeroizing<String> {
    let params = account.params();
    let secret = account.secret().to_base32();
    let issuer = account.issuer();
    let name = account.name();
    // An empty issuer still gets the separator when the name holds a colon, so that the
    // name is never read back as issuer and name.
    let label_issuer = !issuer.is_empty() || name.contains(':');
    // The numbers are no secret: formatting them apart is harmless.
    let (number_key, number) = match params.kind() {
        OtpKind::Hotp => ("&counter=", params.counter().to_string()),
        OtpKind::Totp | OtpKind::Steam => ("&period=", params.period().to_string()),
    };
    let algorithm = params.algorithm().as_str();
    let digits = params.digits().to_string();
    let steam = params.kind() == OtpKind::Steam;
    // The exact length, reserved up front: the link never reallocates, so no copy of the
    // secret is left behind in a freed buffer.
    let length = "otpauth://".len()
        + params.kind().as_str().len()
        + 1
        + if label_issuer {
            percent::encoded_len(issuer) + 1
        } else {
            0
        }
        + percent::encoded_len(name)
        + "?secret=".len()
        + secret.len()
        + if issuer.is_empty() {
            0
        } else {
            "&issuer=".len() + percent::encoded_len(issuer)
        }
        + if steam {
            0
        } else {
            "&algorithm=".len() + algorithm.len() + "&digits=".len() + digits.len()
        }
        + number_key.len()
        + number.len();
    let mut link = zeroize::Zeroizing::new(String::with_capacity(length));
    link.push_str("otpauth://");
    link.push_str(params.kind().as_str());
    link.push('/');
    if label_issuer {
        percent::encode_into(&mut link, issuer);
        link.push(':');
    }
    percent::encode_into(&mut link, name);
    link.push_str("?secret=");
    link.push_str(&secret);
    if !issuer.is_empty() {
        link.push_str("&issuer=");
        percent::encode_into(&mut link, issuer);
    }
    if !steam {
        link.push_str("&algorithm=");
        link.push_str(algorithm);
        link.push_str("&digits=");
        link.push_str(&digits);
    }
    link.push_str(number_key);
    link.push_str(&number);
    debug_assert_eq!(link.len(), length);
    link
}

/// Splits a raw label at its first `:` (or, failing that, its first `%3A`), then decodes.
fn split_label(raw: &str) -> Result<(String, String), LinkError> {
    let split = raw.split_once(':').or_else(|| {
        let at = raw.to_ascii_lowercase().find("%3a")?;
        Some((&raw[..at], &raw[at + 3..]))
    });
    let decode = |part: &str| {
        percent::decode(part, Plus::Literal)
            .map(|text| text.to_string())
            .map_err(|_| LinkError::Label)
    };
    match split {
        Some((issuer, name)) => Ok((decode(issuer)?, decode(name)?)),
        None => Ok((String::new(), decode(raw)?)),
    }
}

/// The query parameters, decoded; the first occurrence of a name wins.
struct Query {
    pairs: Vec<(String, zeroize::Zeroizing<String>)>,
}

impl Query {
    const KNOWN: [&'static str; 7] = [
        "secret",
        "issuer",
        "algorithm",
        "digits",
        "period",
        "counter",
        "encoder",
    ];

    fn parse(query: &str) -> Result<Self, LinkError> {
        let mut pairs: Vec<(String, zeroize::Zeroizing<String>)> = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let key = key.to_ascii_lowercase();
            // Unknown parameters (image, color, …) are ignored without being decoded.
            let Some(field) = Self::KNOWN.iter().find(|k| **k == key) else {
                continue;
            };
            if pairs.iter().any(|(k, _)| k == field) {
                continue;
            }
            let value =
                percent::decode(value, Plus::Space).map_err(|_| LinkError::Encoding(field))?;
            pairs.push((key, value));
        }
        Ok(Self { pairs })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, key: &str, error: LinkError) -> Result<Option<u64>, LinkError> {
        match self.get(key) {
            None => Ok(None),
            Some(text) => text.trim().parse().map(Some).map_err(|_| error),
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sha1_six_digits_thirty_seconds() {
        let account = parse("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP").unwrap();
        let params = account.params();
        assert_eq!(params.kind(), OtpKind::Totp);
        assert_eq!(params.algorithm(), Algorithm::Sha1);
        assert_eq!((params.digits(), params.period()), (6, 30));
        assert_eq!((account.issuer(), account.name()), ("", "alice"));
    }

    #[test]
    fn query_issuer_wins_over_the_label() {
        let account =
            parse("otpauth://totp/Old%20Name:alice?secret=JBSWY3DPEHPK3PXP&issuer=New").unwrap();
        assert_eq!((account.issuer(), account.name()), ("New", "alice"));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("http://totp/a?secret=JBSWY3DP", "scheme"),
            ("otpauth://motp/a?secret=JBSWY3DP", "type"),
            ("otpauth://totp/a", "secret"),
            ("otpauth://totp/a?secret=", "secret"),
            ("otpauth://totp/a?secret=JBSW1!", "secret"),
            (
                "otpauth://totp/a?secret=JBSWY3DP&algorithm=MD5",
                "algorithm",
            ),
            ("otpauth://totp/a?secret=JBSWY3DP&digits=9", "digits"),
            ("otpauth://totp/a?secret=JBSWY3DP&digits=5", "digits"),
            ("otpauth://totp/a?secret=JBSWY3DP&digits=six", "digits"),
            ("otpauth://totp/a?secret=JBSWY3DP&period=0", "period"),
            ("otpauth://totp/a?secret=JBSWY3DP&period=-30", "period"),
            ("otpauth://hotp/a?secret=JBSWY3DP", "counter"),
            ("otpauth://hotp/a?secret=JBSWY3DP&counter=x", "counter"),
            ("otpauth://totp/a%FF?secret=JBSWY3DP", "label"),
            ("otpauth://totp/a%2?secret=JBSWY3DP", "label"),
            ("otpauth://steam/a?secret=JBSWY3DP&digits=6", "digits"),
            (
                "otpauth://steam/a?secret=JBSWY3DP&algorithm=SHA256",
                "algorithm",
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&encoder=steam&algorithm=SHA512",
                "algorithm",
            ),
        ];
        for (link, field) in cases {
            let error = parse(link).expect_err(link);
            assert_eq!(error.field(), field, "{link}: {error}");
            assert!(error.to_string().starts_with(field), "{error}");
        }
    }

    #[test]
    fn hotp_links_ignore_a_period() {
        let account = parse("otpauth://hotp/a?secret=JBSWY3DP&counter=1&period=0").unwrap();
        assert_eq!(account.params().counter(), 1);
    }

    #[test]
    fn errors_never_quote_the_secret() {
        let error = parse("otpauth://totp/a?secret=SECRETSECRET1").unwrap_err();
        assert!(!error.to_string().contains("SECRET"), "{error}");
    }

    #[test]
    fn writes_what_it_reads() {
        let link = "otpauth://hotp/ACME%20Co:bob%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA256&digits=8&counter=42";
        let account = parse(link).unwrap();
        assert_eq!(account.params().counter(), 42);
        assert_eq!(parse(&write(&account)).unwrap(), account);
    }

    #[test]
    fn a_long_link_is_written_without_reallocating() {
        let long = "ACME & Sons: é/?#%".repeat(20);
        for kind in [
            OtpParams::totp(Algorithm::Sha512, 8, 3600).unwrap(),
            OtpParams::hotp(Algorithm::Sha256, 7, u64::MAX).unwrap(),
            OtpParams::steam(30).unwrap(),
        ] {
            let account =
                Account::new(&long, &long, SecretBytes::new(vec![0x5A; 200]), kind).unwrap();
            let link = write(&account);
            assert_eq!(link.capacity(), link.len(), "{kind:?}");
            assert_eq!(parse(&link).unwrap(), account);
        }
    }

    #[test]
    fn a_sign_inside_an_escape_is_refused() {
        let cases = [
            ("otpauth://totp/a%+A?secret=JBSWY3DP", "label"),
            ("otpauth://totp/a%+A:b?secret=JBSWY3DP", "label"),
            ("otpauth://totp/a?secret=JBSWY3DP&issuer=%+A", "issuer"),
            ("otpauth://totp/a?secret=JBSWY3DP%-A", "secret"),
        ];
        for (link, field) in cases {
            assert_eq!(parse(link).expect_err(link).field(), field, "{link}");
        }
    }

    #[test]
    fn a_name_with_a_colon_and_no_issuer_survives() {
        let account = Account::new(
            "",
            "a:b",
            SecretBytes::new(vec![7; 10]),
            OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(),
        )
        .unwrap();
        assert_eq!(parse(&write(&account)).unwrap(), account);
    }
}
