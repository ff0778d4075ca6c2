//! otpauth links as QR codes in the wild carry them, the ones we must refuse (and which
//! field we blame), and properties: parsing never panics, and writing then parsing gives
//! back the same account.

use cityauth_core::account::AccountError;
use cityauth_core::otp::{Algorithm, OtpKind, OtpParams};
use cityauth_core::otpauth::{self, LinkError, MAX_LINK_BYTES};
use cityauth_core::{Account, SecretBytes};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// `JBSWY3DPEHPK3PXP`: 80 bits, the shortest secret RFC 4226 allows and many sites use.
const HELLO: &[u8] = b"Hello!\xde\xad\xbe\xef";
/// `GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ`: the RFC 4226/6238 SHA-1 seed.
const RFC: &[u8] = b"12345678901234567890";
/// `AAAQEAYEAUDAOCAJBIFQYDIOB4======` (16 bytes, so padded base32).
const SEQ16: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/// `AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ====` (32 bytes).
const SEQ32: &[u8] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31,
];

/// What a link must parse to.
struct Expected {
    link: &'static str,
    issuer: &'static str,
    name: &'static str,
    kind: OtpKind,
    algorithm: Algorithm,
    digits: u8,
    period: u32,
    counter: u64,
    secret: &'static [u8],
}

/// A TOTP link with the defaults (SHA1, 6 digits, 30 s); the builders below change them.
fn totp(
    link: &'static str,
    issuer: &'static str,
    name: &'static str,
    secret: &'static [u8],
) -> Expected {
    Expected {
        link,
        issuer,
        name,
        kind: OtpKind::Totp,
        algorithm: Algorithm::Sha1,
        digits: 6,
        period: 30,
        counter: 0,
        secret,
    }
}

impl Expected {
    fn algorithm(self, algorithm: Algorithm) -> Self {
        Self { algorithm, ..self }
    }
    fn digits(self, digits: u8) -> Self {
        Self { digits, ..self }
    }
    fn period(self, period: u32) -> Self {
        Self { period, ..self }
    }
    fn hotp(self, counter: u64) -> Self {
        Self {
            kind: OtpKind::Hotp,
            counter,
            ..self
        }
    }
    fn steam(self) -> Self {
        Self {
            kind: OtpKind::Steam,
            digits: 5,
            ..self
        }
    }
}

fn good_links() -> Vec<Expected> {
    vec![
        // The plain form: issuer in the label and in the query, defaults left out.
        totp(
            "otpauth://totp/Initech:peter@initech.example?secret=JBSWY3DPEHPK3PXP&issuer=Initech",
            "Initech",
            "peter@initech.example",
            HELLO,
        ),
        // Lower-case and mixed-case base32.
        totp(
            "otpauth://totp/Initech:milton?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&issuer=Initech",
            "Initech",
            "milton",
            RFC,
        ),
        totp(
            "otpauth://totp/Initech:milton?secret=GezdGNBVgy3tqojqGEZDgnbvGY3TQOJQ&issuer=Initech",
            "Initech",
            "milton",
            RFC,
        ),
        // Padded base32, raw and with the padding percent-encoded.
        totp(
            "otpauth://totp/Hooli:gavin?secret=AAAQEAYEAUDAOCAJBIFQYDIOB4======&issuer=Hooli",
            "Hooli",
            "gavin",
            SEQ16,
        ),
        totp(
            "otpauth://totp/Hooli:gavin?secret=aaaqeayeaudaocajbifqydiob4%3D%3D%3D%3D%3D%3D&issuer=Hooli",
            "Hooli",
            "gavin",
            SEQ16,
        ),
        // Secrets split into groups, as sites print them for typing in.
        totp(
            "otpauth://totp/Globex:hank?secret=JBSW%20Y3DP%20EHPK%203PXP&issuer=Globex",
            "Globex",
            "hank",
            HELLO,
        ),
        totp(
            "otpauth://totp/Globex:hank?secret=gezd+gnbv+gy3t+qojq+gezd+gnbv+gy3t+qojq&issuer=Globex",
            "Globex",
            "hank",
            RFC,
        ),
        totp(
            "otpauth://totp/Globex:hank?secret=JBSW-Y3DP-EHPK-3PXP&issuer=Globex",
            "Globex",
            "hank",
            HELLO,
        ),
        // Percent-encoded labels, `%3A` (either case) as the separator.
        totp(
            "otpauth://totp/ACME%20Corp%3Ajane.doe%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "ACME Corp",
            "jane.doe@example.org",
            RFC,
        ),
        totp(
            "otpauth://totp/ACME%20Corp%3ajane?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "ACME Corp",
            "jane",
            RFC,
        ),
        // A space after the colon (the Key URI format allows it) is not part of the name.
        totp(
            "otpauth://totp/Umbrella%20Corp:%20ada%40umbrella.example?secret=JBSWY3DPEHPK3PXP&issuer=Umbrella%20Corp",
            "Umbrella Corp",
            "ada@umbrella.example",
            HELLO,
        ),
        // A literal `+` in a label is a plus (e-mail sub-addresses), not a space.
        totp(
            "otpauth://totp/Mail:grace+otp@mail.example?secret=JBSWY3DPEHPK3PXP&issuer=Mail",
            "Mail",
            "grace+otp@mail.example",
            HELLO,
        ),
        // Issuer only in the label.
        totp(
            "otpauth://totp/GitLab:gl-user?secret=JBSWY3DPEHPK3PXP",
            "GitLab",
            "gl-user",
            HELLO,
        ),
        // Issuer only in the query (form-encoded `+` is a space there), in any position.
        totp(
            "otpauth://totp/carol%40cloud.example?secret=JBSWY3DPEHPK3PXP&issuer=Nextcloud",
            "Nextcloud",
            "carol@cloud.example",
            HELLO,
        ),
        totp(
            "otpauth://totp/erin?issuer=Tyrell+Corp&secret=JBSWY3DPEHPK3PXP",
            "Tyrell Corp",
            "erin",
            HELLO,
        ),
        // Issuer in both, different: the query wins.
        totp(
            "otpauth://totp/Old%20Corp:dave?secret=JBSWY3DPEHPK3PXP&issuer=New%20Corp",
            "New Corp",
            "dave",
            HELLO,
        ),
        // An empty `issuer=` (a template's unset field) does not wipe the label's issuer.
        totp(
            "otpauth://totp/Initech:bob?secret=JBSWY3DPEHPK3PXP&issuer=",
            "Initech",
            "bob",
            HELLO,
        ),
        totp(
            "otpauth://totp/Initech:bob?issuer=%20&secret=JBSWY3DPEHPK3PXP",
            "Initech",
            "bob",
            HELLO,
        ),
        // No issuer at all; no label at all.
        totp("otpauth://totp/frank?secret=JBSWY3DPEHPK3PXP", "", "frank", HELLO),
        totp(
            "otpauth://totp?secret=JBSWY3DPEHPK3PXP&issuer=Initech",
            "Initech",
            "",
            HELLO,
        ),
        // The defaults spelled out.
        totp(
            "otpauth://totp/Initech:bob?secret=JBSWY3DPEHPK3PXP&issuer=Initech&algorithm=SHA1&digits=6&period=30",
            "Initech",
            "bob",
            HELLO,
        ),
        // Other hashes, lengths and periods; algorithm names as exporters spell them.
        totp(
            "otpauth://totp/Vault:ops?secret=AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ&issuer=Vault&algorithm=SHA256&digits=7",
            "Vault",
            "ops",
            SEQ32,
        )
        .algorithm(Algorithm::Sha256)
        .digits(7),
        totp(
            "otpauth://totp/Vault:ops?secret=AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ====&issuer=Vault&algorithm=SHA512&digits=8&period=60",
            "Vault",
            "ops",
            SEQ32,
        )
        .algorithm(Algorithm::Sha512)
        .digits(8)
        .period(60),
        totp(
            "otpauth://totp/Vault:ops?secret=JBSWY3DPEHPK3PXP&algorithm=sha-256&digits=8&period=15",
            "Vault",
            "ops",
            HELLO,
        )
        .algorithm(Algorithm::Sha256)
        .digits(8)
        .period(15),
        // HOTP: counters from 0 to the largest u64.
        totp(
            "otpauth://hotp/Yubico:token1?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Yubico&counter=0",
            "Yubico",
            "token1",
            RFC,
        )
        .hotp(0),
        totp(
            "otpauth://hotp/Yubico:token2?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=42&algorithm=SHA256&digits=8",
            "Yubico",
            "token2",
            RFC,
        )
        .hotp(42)
        .algorithm(Algorithm::Sha256)
        .digits(8),
        totp(
            "otpauth://hotp/token3?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551615",
            "",
            "token3",
            HELLO,
        )
        .hotp(u64::MAX),
        // Steam, as its own type (with or without the parameters exporters add) and as
        // `encoder=steam` on a totp link.
        totp(
            "otpauth://steam/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam",
            "Steam",
            "gaben",
            HELLO,
        )
        .steam(),
        totp(
            "otpauth://steam/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam&algorithm=SHA1&digits=5&period=30",
            "Steam",
            "gaben",
            HELLO,
        )
        .steam(),
        totp(
            "otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam&encoder=steam",
            "Steam",
            "gaben",
            HELLO,
        )
        .steam(),
        totp(
            "otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&digits=5&period=30&encoder=steam",
            "Steam",
            "gaben",
            HELLO,
        )
        .steam(),
        // Upper-case scheme, type and parameter names.
        totp(
            "OTPAUTH://TOTP/INITECH:BOB?SECRET=JBSWY3DPEHPK3PXP&ISSUER=INITECH&DIGITS=8",
            "INITECH",
            "BOB",
            HELLO,
        )
        .digits(8),
        totp(
            "Otpauth://Hotp/fob?secret=JBSWY3DPEHPK3PXP&counter=7",
            "",
            "fob",
            HELLO,
        )
        .hotp(7),
        // Unknown parameters are ignored, whatever their encoding.
        totp(
            "otpauth://totp/Initech:bob?secret=JBSWY3DPEHPK3PXP&issuer=Initech&image=https%3A%2F%2Finitech.example%2Flogo.png&color=%23FF8800",
            "Initech",
            "bob",
            HELLO,
        ),
        totp(
            "otpauth://totp/Initech:bob?image=https://initech.example/logo.png?size=64&color=%ZZ&secret=JBSWY3DPEHPK3PXP",
            "Initech",
            "bob",
            HELLO,
        ),
        // White space around the text a scanner hands over.
        totp(
            "  otpauth://totp/Initech:bob?secret=JBSWY3DPEHPK3PXP&issuer=Initech\r\n",
            "Initech",
            "bob",
            HELLO,
        ),
    ]
}

#[test]
fn real_world_links_parse_to_the_right_account() {
    for row in good_links() {
        let link = row.link;
        let account = match otpauth::parse(link) {
            Ok(account) => account,
            Err(error) => panic!("{link}: {error}"),
        };
        let params = account.params();
        assert_eq!(account.issuer(), row.issuer, "issuer of {link}");
        assert_eq!(account.name(), row.name, "name of {link}");
        assert_eq!(params.kind(), row.kind, "kind of {link}");
        assert_eq!(params.algorithm(), row.algorithm, "algorithm of {link}");
        assert_eq!(params.digits(), row.digits, "digits of {link}");
        assert_eq!(params.period(), row.period, "period of {link}");
        assert_eq!(params.counter(), row.counter, "counter of {link}");
        assert_eq!(account.secret().expose(), row.secret, "secret of {link}");
        // And what we write for it reads back the same.
        assert_eq!(
            otpauth::parse(&otpauth::write(&account)),
            Ok(account),
            "{link}"
        );
    }
}

fn bad_links() -> Vec<(String, LinkError)> {
    let s = "secret=JBSWY3DPEHPK3PXP";
    let mut rows: Vec<(String, LinkError)> = [
        // Not otpauth at all.
        (
            "https://initech.example/totp?secret=JBSWY3DPEHPK3PXP",
            LinkError::Scheme,
        ),
        (
            "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8",
            LinkError::Scheme,
        ),
        (
            "otpauth:/totp/bob?secret=JBSWY3DPEHPK3PXP",
            LinkError::Scheme,
        ),
        ("", LinkError::Scheme),
        // Types we do not know.
        (
            "otpauth://motp/bob?secret=JBSWY3DPEHPK3PXP",
            LinkError::Type,
        ),
        (
            "otpauth://ocra/bob?secret=JBSWY3DPEHPK3PXP",
            LinkError::Type,
        ),
        (
            "otpauth://totpx/bob?secret=JBSWY3DPEHPK3PXP",
            LinkError::Type,
        ),
        ("otpauth:///bob?secret=JBSWY3DPEHPK3PXP", LinkError::Type),
        // No secret, an empty one, one that is not base32.
        ("otpauth://totp/bob", LinkError::MissingSecret),
        (
            "otpauth://totp/bob?issuer=Initech",
            LinkError::MissingSecret,
        ),
        (
            "otpauth://totp/bob?secrets=JBSWY3DPEHPK3PXP",
            LinkError::MissingSecret,
        ),
        (
            "otpauth://totp/bob#?secret=JBSWY3DPEHPK3PXP",
            LinkError::MissingSecret,
        ),
        ("otpauth://totp/bob?secret", LinkError::EmptySecret),
        (
            "otpauth://totp/bob?secret=&issuer=Initech",
            LinkError::EmptySecret,
        ),
        ("otpauth://totp/bob?secret=%20%20", LinkError::EmptySecret),
        ("otpauth://totp/bob?secret=====", LinkError::EmptySecret),
        (
            "otpauth://totp/bob?secret=JBSWY3DPEHPK3PX1",
            LinkError::InvalidSecret,
        ),
        (
            "otpauth://totp/bob?secret=JBSWY3DPEHPK3PX8",
            LinkError::InvalidSecret,
        ),
        ("otpauth://totp/bob?secret=JBS", LinkError::InvalidSecret),
        (
            "otpauth://totp/bob?secret=JBSW%3DY3DP",
            LinkError::InvalidSecret,
        ),
        // Base64 and hex, which some sites show instead of base32.
        (
            "otpauth://totp/bob?secret=SGVsbG8h3q2%2B7w%3D%3D",
            LinkError::InvalidSecret,
        ),
        (
            "otpauth://totp/bob?secret=48656c6c6f21deadbeef",
            LinkError::InvalidSecret,
        ),
        (
            "otpauth://totp/bob?secret=J%C3%84SWY3DP",
            LinkError::InvalidSecret,
        ),
        // Bad percent-encoding, in the label or in a parameter we read.
        (
            "otpauth://totp/Caf%E9:bob?secret=JBSWY3DPEHPK3PXP",
            LinkError::Label,
        ),
        (
            "otpauth://totp/bob%ZZ?secret=JBSWY3DPEHPK3PXP",
            LinkError::Label,
        ),
        (
            "otpauth://totp/bob%?secret=JBSWY3DPEHPK3PXP",
            LinkError::Label,
        ),
        (
            "otpauth://totp/Initech:bob%4?secret=JBSWY3DPEHPK3PXP",
            LinkError::Label,
        ),
        (
            "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&issuer=Caf%E9",
            LinkError::Encoding("issuer"),
        ),
        (
            "otpauth://totp/bob?secret=JBSW%G0Y3DP",
            LinkError::Encoding("secret"),
        ),
        (
            "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&digits=%3",
            LinkError::Encoding("digits"),
        ),
        // Unknown hashes and encoders.
        (
            "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
            LinkError::Algorithm,
        ),
        (
            "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=SHA384",
            LinkError::Algorithm,
        ),
        (
            "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=",
            LinkError::Algorithm,
        ),
        // Steam codes are HMAC-SHA1: another hash is refused, not silently replaced.
        (
            "otpauth://steam/bob?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256",
            LinkError::SteamAlgorithm,
        ),
        (
            "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&encoder=steam&algorithm=SHA512",
            LinkError::SteamAlgorithm,
        ),
        (
            "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&encoder=yandex",
            LinkError::Encoder,
        ),
        (
            "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP&counter=1&encoder=steam",
            LinkError::Encoder,
        ),
        // HOTP without a usable counter.
        (
            "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP",
            LinkError::MissingCounter,
        ),
        (
            "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP&period=30",
            LinkError::MissingCounter,
        ),
        (
            "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP&counter=-1",
            LinkError::Counter,
        ),
        (
            "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP&counter=1e3",
            LinkError::Counter,
        ),
        (
            "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP&counter=",
            LinkError::Counter,
        ),
        (
            "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551616",
            LinkError::Counter,
        ),
    ]
    .into_iter()
    .map(|(link, error)| (link.to_owned(), error))
    .collect();
    // Digits outside 6..=8, and anything but 5 for Steam (5 only for Steam).
    for (kind, digits) in [
        ("totp", "5"),
        ("totp", "9"),
        ("totp", "0"),
        ("totp", "10"),
        ("totp", "256"),
        ("totp", "six"),
        ("totp", "-6"),
        ("totp", ""),
        ("hotp", "4"),
        ("hotp", "9"),
        ("steam", "6"),
        ("steam", "8"),
    ] {
        let counter = if kind == "hotp" { "&counter=1" } else { "" };
        rows.push((
            format!("otpauth://{kind}/bob?{s}&digits={digits}{counter}"),
            LinkError::Digits,
        ));
    }
    rows.push((
        format!("otpauth://totp/bob?{s}&digits=6&encoder=steam"),
        LinkError::Digits,
    ));
    // Periods: zero, over an hour, negative, not a number, past u32.
    for period in ["0", "3601", "-30", "30s", "", "4294967326"] {
        rows.push((
            format!("otpauth://totp/bob?{s}&period={period}"),
            LinkError::Period,
        ));
        rows.push((
            format!("otpauth://steam/bob?{s}&period={period}"),
            LinkError::Period,
        ));
    }
    // Too long for any QR code; labels too long to keep.
    rows.push((
        format!("otpauth://totp/{}?{s}", "b".repeat(MAX_LINK_BYTES)),
        LinkError::TooLong,
    ));
    rows.push((
        format!("otpauth://totp/{}:bob?{s}", "I".repeat(513)),
        LinkError::Account(AccountError::IssuerTooLong),
    ));
    rows.push((
        format!("otpauth://totp/bob?{s}&issuer={}", "I".repeat(513)),
        LinkError::Account(AccountError::IssuerTooLong),
    ));
    rows.push((
        format!("otpauth://totp/Initech:{}?{s}", "%C3%A9".repeat(257)),
        LinkError::Account(AccountError::NameTooLong),
    ));
    rows
}

fn expected_field(error: &LinkError) -> &'static str {
    match error {
        LinkError::Scheme => "scheme",
        LinkError::TooLong => "link",
        LinkError::Type => "type",
        LinkError::Label => "label",
        LinkError::Encoding(field) => field,
        LinkError::MissingSecret | LinkError::EmptySecret | LinkError::InvalidSecret => "secret",
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

#[test]
fn bad_links_are_refused_naming_the_field() {
    for (link, expected) in bad_links() {
        let shown: String = link.chars().take(120).collect();
        let error = match otpauth::parse(&link) {
            Ok(account) => panic!("{shown}: accepted as {account:?}"),
            Err(error) => error,
        };
        assert_eq!(error, expected, "{shown}");
        assert_eq!(error.field(), expected_field(&expected), "{shown}");
        // The message a user sees starts with the field it blames.
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{}: ", error.field())),
            "{shown}: {message}"
        );
    }
}

#[test]
fn the_length_limit_is_inclusive() {
    let head = "otpauth://totp/";
    let tail = "?secret=JBSWY3DPEHPK3PXP";
    // A label of 512 bytes is the longest name kept; pad past it with an ignored parameter.
    let name = "n".repeat(512);
    let base = format!("{head}{name}{tail}&x=");
    let exact = format!("{base}{}", "y".repeat(MAX_LINK_BYTES - base.len()));
    assert_eq!(exact.len(), MAX_LINK_BYTES);
    assert_eq!(otpauth::parse(&exact).map(|a| a.name().len()), Ok(512));
    assert_eq!(
        otpauth::parse(&format!("{exact}y")),
        Err(LinkError::TooLong)
    );
}

/// A secret in base32 that is long enough not to appear in any message by chance.
fn distinctive_secret() -> impl Strategy<Value = String> {
    "[A-Z2-7]{16,40}".prop_filter("whole bytes", |s| !matches!(s.len() % 8, 1 | 3 | 6))
}

/// Ways to break a link that still carries its secret.
const FAULTS: [&str; 12] = [
    "otpauth://motp/bob?secret={S}",
    "https://example.org/totp/bob?secret={S}",
    "otpauth://totp/bob?secret={S}1",
    "otpauth://totp/bob?secret={S}%",
    "otpauth://totp/bob?secret=={S}",
    "otpauth://totp/bob%FF?secret={S}",
    "otpauth://totp/bob?secret={S}&issuer=%FF",
    "otpauth://totp/bob?secret={S}&algorithm=MD5",
    "otpauth://totp/bob?secret={S}&digits=9",
    "otpauth://totp/bob?secret={S}&period=0",
    "otpauth://hotp/bob?secret={S}",
    "otpauth://totp/bob?secret={S}&encoder=yandex",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn error_messages_never_contain_the_secret(
        secret in distinctive_secret(),
        fault in prop::sample::select(FAULTS.to_vec()),
        lower in any::<bool>(),
    ) {
        let secret = if lower { secret.to_ascii_lowercase() } else { secret };
        let link = fault.replace("{S}", &secret);
        let error = otpauth::parse(&link);
        prop_assert!(error.is_err(), "{} was accepted", link);
        let Err(error) = error else { unreachable!() };
        let upper = secret.to_ascii_uppercase();
        for shown in [error.to_string(), format!("{error:?}")] {
            prop_assert!(!shown.to_ascii_uppercase().contains(&upper), "{}", shown);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

/// Issuers and names: any Unicode, weighted towards what links must escape.
fn label() -> impl Strategy<Value = String> {
    let awkward = vec![
        ':', '%', '+', '&', '?', '#', '/', ' ', '=', '@', '\t', '\n', '\\', '"', '<', '\u{a0}',
        'é', '€', '😀',
    ];
    prop::collection::vec(
        prop_oneof![
            3 => any::<char>(),
            3 => prop::sample::select(awkward),
            2 => prop::char::range('a', 'z'),
        ],
        0..=40,
    )
    .prop_map(String::from_iter)
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(vec![Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512])
}

fn params() -> impl Strategy<Value = OtpParams> {
    let counter = prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>(), 0u64..1000];
    prop_oneof![
        (algorithm(), 6u8..=8, 1u32..=3600)
            .prop_map(|(a, digits, period)| OtpParams::totp(a, digits, period).unwrap()),
        (algorithm(), 6u8..=8, counter)
            .prop_map(|(a, digits, counter)| OtpParams::hotp(a, digits, counter).unwrap()),
        (1u32..=3600).prop_map(|period| OtpParams::steam(period).unwrap()),
    ]
}

fn account() -> impl Strategy<Value = Account> {
    (
        label(),
        label(),
        prop::collection::vec(any::<u8>(), 1..=64),
        params(),
    )
        .prop_map(|(issuer, name, secret, params)| {
            Account::new(&issuer, &name, SecretBytes::new(secret), params).unwrap()
        })
}

/// Pieces of links, put together in random order; about half of them parse.
fn linkish() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        16 => Just("otpauth://"),
        3 => Just("OTPAUTH://"),
        1 => Just("otpauth:/"),
    ];
    let kind = prop_oneof![
        6 => Just("totp"),
        2 => Just("hotp"),
        2 => Just("steam"),
        1 => Just("TOTP"),
        1 => Just("Steam"),
        1 => Just("TOTP"),
        1 => Just("hotp"),
        1 => Just("motp"),
    ];
    let label = prop_oneof![
        9 => "([a-zA-Z0-9 @._+:/-]|%3A|%3a|%20|%40|%25|%2B|%C3%A9|é|€){0,12}",
        1 => "([a-z:]|%|%E9|%4){0,6}",
    ];
    let secret = prop_oneof![
        // Whole groups of eight, then one of the four possible tails.
        5 => "secret=([a-zA-Z2-7]{8}){1,4}([a-zA-Z2-7]{2}|[a-zA-Z2-7]{4,5}|[a-zA-Z2-7]{7})?(=|%3D){0,6}",
        // Groups of four, split as sites print them.
        3 => "secret=([a-zA-Z2-7]{4}(%20|-|\\+)?){2,8}",
        1 => "(secret=([a-zA-Z0-9=-]|%20|%3D|%){0,20})?",
    ];
    let parameter = prop_oneof![
        3 => "issuer=([a-zA-Z0-9 +:]|%20|%3A|%26|%C3%A9|%2B){0,12}",
        // Rarely wrong: every wrong parameter sinks the whole link.
        1 => "issuer=[a-z]{0,3}%(FF|F)",
        2 => "algorithm=(SHA1|sha256|SHA-512|sha512|md5)",
        1 => "digits=[6-8]",
        1 => "digits=[59]",
        2 => "period=([1-9][0-9]{0,2}|0|9999)",
        3 => "counter=[0-9]{1,20}",
        1 => "encoder=(steam|STEAM)",
        1 => "(encoder=other|counter=-1|digits=x)",
        2 => "(image|color)=[a-zA-Z0-9:/.%]{0,20}",
        1 => "(Secret|ISSUER)=[A-Z2-7]{8}",
    ];
    (
        scheme,
        kind,
        label,
        secret,
        prop::collection::vec(parameter, 0..6),
        any::<prop::sample::Index>(),
        "(#[a-z]{0,4})?",
    )
        .prop_map(
            |(scheme, kind, label, secret, mut parameters, at, fragment)| {
                parameters.insert(at.index(parameters.len() + 1), secret);
                format!("{scheme}{kind}/{label}?{}{fragment}", parameters.join("&"))
            },
        )
}

/// A valid link with one random edit: cut short, a character put in, or one taken out.
fn edited_link() -> impl Strategy<Value = String> {
    (
        account(),
        any::<prop::sample::Index>(),
        any::<char>(),
        0..3u8,
    )
        .prop_map(|(account, at, c, edit)| {
            let mut link = otpauth::write(&account).to_string();
            let at = at.index(link.len() + 1);
            match edit {
                0 => link.truncate(at),
                1 => link.insert(at, c),
                _ if at < link.len() => {
                    link.remove(at);
                }
                _ => {}
            }
            link
        })
}

/// `parse(write(parse(x))) == parse(x)` for every `x` that parses.
fn check_reparse(link: &str) -> Result<(), TestCaseError> {
    if let Ok(account) = otpauth::parse(link) {
        let written = otpauth::write(&account);
        prop_assert_eq!(
            otpauth::parse(&written),
            Ok(account),
            "{} -> {}",
            link,
            &*written
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn parse_never_panics_on_any_string(text in any::<String>()) {
        let _ = otpauth::parse(&text);
        let _ = otpauth::parse(&format!("otpauth://totp/{text}"));
        let _ = otpauth::parse(&format!("otpauth://totp/a?secret={text}"));
    }

    #[test]
    fn parse_never_panics_on_link_like_strings(
        text in "otpauth://[a-z]{0,6}/[^?]{0,20}\\?[a-z=&%0-9A-Z]{0,60}",
    ) {
        let _ = otpauth::parse(&text);
    }

    #[test]
    fn write_then_parse_gives_the_account_back(account in account()) {
        let link = otpauth::write(&account);
        // One line of plain ASCII, one query, no fragment: what every QR scanner passes on.
        prop_assert!(link.bytes().all(|b| b.is_ascii_graphic()), "{}", &*link);
        prop_assert_eq!(link.matches('?').count(), 1, "{}", &*link);
        prop_assert!(!link.contains('#'), "{}", &*link);
        prop_assert_eq!(otpauth::parse(&link), Ok(account));
    }

    #[test]
    fn what_parses_is_written_back_the_same(link in linkish()) {
        check_reparse(&link)?;
    }

    #[test]
    fn edited_links_never_panic_and_what_parses_round_trips(link in edited_link()) {
        check_reparse(&link)?;
    }

    #[test]
    fn arbitrary_text_that_parses_round_trips(text in any::<String>()) {
        check_reparse(&format!("otpauth://totp/{text}?secret=JBSWY3DPEHPK3PXP"))?;
        check_reparse(&format!("otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=1&issuer={text}"))?;
    }
}

/// The round-trip properties above are only worth something if their inputs often parse.
#[test]
fn the_link_generators_mostly_make_links_that_parse() {
    let mut runner = TestRunner::deterministic();
    for (what, strategy) in [
        ("generated", linkish().boxed()),
        ("edited", edited_link().boxed()),
    ] {
        let mut refused = std::collections::BTreeMap::new();
        let mut parsed = 0;
        for _ in 0..1000 {
            let link = strategy.new_tree(&mut runner).unwrap().current();
            match otpauth::parse(&link) {
                Ok(_) => parsed += 1,
                Err(error) => *refused.entry(error.field()).or_insert(0) += 1,
            }
        }
        assert!(
            parsed >= 200,
            "only {parsed} of 1000 {what} links parse; refused: {refused:?}"
        );
    }
}
