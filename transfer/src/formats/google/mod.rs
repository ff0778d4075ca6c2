//! Google Authenticator migration links: `otpauth-migration://offline?data=BASE64`, where
//! the data is a protobuf `MigrationPayload` (its fields are listed in `payload.rs`). An export of many accounts
//! is several links (one QR code each), numbered by `batch_index` within `batch_size` and
//! tied together by a shared `batch_id`.

mod payload;
mod proto;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use cityauth_core::account::display_label;
use cityauth_core::percent::{self, Plus};
use cityauth_core::{Account, Algorithm, OtpKind, OtpParams, SecretBytes};
use zeroize::Zeroizing;

use super::limits;
use crate::cancel::Cancel;
use crate::entry::{Entry, Location};
use crate::error::ImportError;

pub(crate) use payload::BatchInfo;

/// The scheme of migration links.
pub const SCHEME: &str = "otpauth-migration://";

/// The most parts an export may claim to have. Google puts about ten accounts in a part, so
/// this is far above any real export, and it bounds what a forged `batch_size` can cost.
pub const MAX_BATCH_SIZE: u64 = 1000;

/// The longest migration link accepted, in bytes (a QR code holds at most 4,296 characters;
/// this leaves room for links pasted from other tools).
pub const MAX_MIGRATION_LINK_BYTES: usize = 16 * 1024;

/// The most accounts one part may hold. Google puts about ten in a part; with
/// [`MAX_BATCH_SIZE`] this bounds the entries (and memory) a forged export can produce.
pub const MAX_ITEMS_PER_LINK: usize = 200;

/// Standard base64 as real links carry it: with or without `=` padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Whether `line` is a migration link (the scheme, in any case; surrounding space ignored).
pub fn is_migration_link(line: &str) -> bool {
    line.trim()
        .get(..SCHEME.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(SCHEME))
}

/// Reads the `otpauth-migration://` links of one export (in any order), each with where it
/// was found, into entries in part order; each entry's location is the link's, then
/// `item m` (from 1).
///
/// Every part's header is checked before any account is decoded: more links than
/// [`MAX_BATCH_SIZE`] or more accounts than [`limits::MAX_ENTRIES`] in all are
/// [`ImportError::TooMany`]; parts missing are [`ImportError::MissingBatchParts`]; a link
/// that cannot be decoded at all, links from different exports, a part that appears twice or
/// holds more than [`MAX_ITEMS_PER_LINK`] accounts are [`ImportError::Damaged`]. An account
/// the payload describes but cityauth cannot use (MD5, an unknown type) is an entry with a
/// rejection.
pub fn read_links(links: &[(Location, &str)]) -> Result<Vec<Entry>, ImportError> {
    read_links_within(links, limits::MAX_ENTRIES, &Cancel::new())
}

/// [`read_links`] for links that may yield at most `room` entries (the rest of the file took
/// the others), stopping when `cancel` is tripped.
pub(crate) fn read_links_within(
    links: &[(Location, &str)],
    room: usize,
    cancel: &Cancel,
) -> Result<Vec<Entry>, ImportError> {
    if links.len() > MAX_BATCH_SIZE as usize {
        return Err(ImportError::TooMany {
            what: "Google Authenticator migration links",
            limit: MAX_BATCH_SIZE as usize,
        });
    }
    let datas = links
        .iter()
        .map(|(location, link)| {
            payload_bytes(link).map_err(|why| ImportError::damaged(format!("{location}: {why}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut headers = Vec::with_capacity(datas.len());
    let mut accounts = 0usize;
    for ((location, _), data) in links.iter().zip(&datas) {
        let header = payload::header(data).map_err(|_| invalid(location))?;
        if header.otps > MAX_ITEMS_PER_LINK {
            return Err(ImportError::damaged(format!(
                "{location}: more than {MAX_ITEMS_PER_LINK} accounts in one part"
            )));
        }
        accounts = accounts.saturating_add(header.otps);
        if accounts > room {
            return Err(ImportError::TooMany {
                what: "accounts",
                limit: limits::MAX_ENTRIES,
            });
        }
        headers.push((location, header));
    }
    let order = batch_order(&headers)?;
    let mut entries = Vec::with_capacity(accounts);
    for at in order {
        cancel.check()?;
        let (Some((location, _)), Some(data)) = (links.get(at), datas.get(at)) else {
            continue;
        };
        let otps = payload::decode_otps(data).map_err(|_| invalid(location))?;
        for (m, raw) in otps.iter().enumerate() {
            let location = Location::new(format!("{location}, item {}", m + 1));
            entries.push(match account_from(raw) {
                Ok(account) => Entry::account(location, account),
                Err((label, reason)) => Entry::rejected(location, label, reason),
            });
        }
    }
    Ok(entries)
}

fn invalid(location: &Location) -> ImportError {
    ImportError::damaged(format!("{location}: not a valid migration payload"))
}

/// The number of the part at `index` (from 0), counted from 1: in `u128`, so that a forged
/// `batch_index` of `u64::MAX` cannot overflow.
fn part_number(index: u64) -> u128 {
    u128::from(index) + 1
}

/// The positions in `headers` in batch order, after checking that they are all the parts
/// of one export, each once.
fn batch_order(headers: &[(&Location, payload::Header)]) -> Result<Vec<usize>, ImportError> {
    let Some((first_location, first)) = headers.first() else {
        return Ok(Vec::new());
    };
    // Exports from before batching carry no batch fields: one part of one.
    let total = first.batch_size.max(1);
    if total > MAX_BATCH_SIZE {
        return Err(ImportError::damaged(format!(
            "{first_location}: claims {total} parts, more than the {MAX_BATCH_SIZE} accepted"
        )));
    }
    let total_parts = u32::try_from(total).unwrap_or(u32::MAX);
    let mut parts: Vec<Option<usize>> = vec![None; total_parts as usize];
    for (at, (location, header)) in headers.iter().enumerate() {
        if header.batch_id != first.batch_id || header.batch_size.max(1) != total {
            return Err(ImportError::damaged(format!(
                "{location}: belongs to another export than {first_location} (its batch id or \
                 part count differs); import one export at a time"
            )));
        }
        let index = header.batch_index;
        let number = part_number(index);
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| parts.get_mut(i))
            .ok_or_else(|| {
                ImportError::damaged(format!("{location}: part {number} of only {total}"))
            })?;
        if let Some(earlier) = slot {
            let earlier = headers.get(*earlier).map(|(l, _)| l.as_str()).unwrap_or("");
            return Err(ImportError::damaged(format!(
                "{location}: part {number} of {total} appears twice (also at {earlier})"
            )));
        }
        *slot = Some(at);
    }
    let missing: Vec<u32> = (1..=total_parts)
        .zip(&parts)
        .filter(|(_, part)| part.is_none())
        .map(|(n, _)| n)
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingBatchParts {
            missing,
            total: total_parts,
        });
    }
    Ok(parts.into_iter().flatten().collect())
}

/// The decoded `data` parameter of a link; the error says what is wrong, never quoting it.
fn payload_bytes(link: &str) -> Result<Zeroizing<Vec<u8>>, &'static str> {
    let link = link.trim();
    if link.len() > MAX_MIGRATION_LINK_BYTES {
        return Err("the link is too long");
    }
    if !is_migration_link(link) {
        return Err("not an otpauth-migration:// link");
    }
    let query = link.split_once('?').map(|(_, query)| query).unwrap_or("");
    let data = query
        .split('&')
        .find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            key.eq_ignore_ascii_case("data").then_some(value)
        })
        .ok_or("no data parameter")?;
    let text = unescape_base64(data).ok_or("data: not valid base64")?;
    BASE64
        .decode(text.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| "data: not valid base64")
}

/// The base64 text of a data parameter, its percent-escapes decoded. Also takes what links
/// become when mangled on the way: `+` read as a space, or the URL-safe alphabet.
fn unescape_base64(data: &str) -> Option<Zeroizing<String>> {
    let decoded = percent::decode(data, Plus::Literal).ok()?;
    let mut out = Zeroizing::new(String::with_capacity(decoded.len()));
    for byte in decoded.bytes() {
        let c = match byte {
            b' ' | b'-' => '+',
            b'_' => '/',
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=' => byte as char,
            _ => return None,
        };
        out.push(c);
    }
    Some(out)
}

/// The account a payload entry describes, or its label and why it cannot be one.
fn account_from(raw: &payload::RawOtp<'_>) -> Result<Account, (String, String)> {
    let unreadable = |field: &str| {
        (
            "(unreadable)".to_owned(),
            format!("{field}: not valid UTF-8"),
        )
    };
    let issuer = std::str::from_utf8(raw.issuer).map_err(|_| unreadable("issuer"))?;
    let name = std::str::from_utf8(raw.name).map_err(|_| unreadable("name"))?;
    let (issuer, name) = split_name(issuer, name);
    let label = display_label(issuer.trim(), name.trim());
    let refuse = |reason: String| (label.clone(), reason);
    let algorithm = match raw.algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        4 => return Err(refuse("algorithm: MD5 is not supported".into())),
        n => return Err(refuse(format!("algorithm: unknown value {n}"))),
    };
    let digits = match raw.digits {
        0 | 1 => 6,
        2 => 8,
        n => return Err(refuse(format!("digits: unknown value {n}"))),
    };
    let params = match raw.kind {
        1 => {
            // The app's counter is an int64: a negative one is garbage, not a huge count.
            if i64::try_from(raw.counter).is_err() {
                return Err(refuse("counter: negative".into()));
            }
            OtpParams::hotp(algorithm, digits, raw.counter)
        }
        2 => OtpParams::totp(algorithm, digits, cityauth_core::otp::DEFAULT_PERIOD),
        0 => return Err(refuse("type: not specified".into())),
        n => return Err(refuse(format!("type: unknown value {n}"))),
    }
    .map_err(|error| refuse(error.to_string()))?;
    let secret = SecretBytes::new(raw.secret.to_vec());
    Account::new(issuer, name, secret, params).map_err(|error| refuse(error.to_string()))
}

/// The issuer and name of an entry whose name may be `issuer:name`, as the app shows it:
/// a name starting with the issuer and a colon loses that prefix; with no issuer, the text
/// before the first colon is the issuer. Any other colon is part of the name.
fn split_name<'a>(issuer: &'a str, name: &'a str) -> (&'a str, &'a str) {
    if issuer.is_empty() {
        return match name.split_once(':') {
            Some((issuer, name)) => (issuer, name),
            None => ("", name),
        };
    }
    let prefixed = name
        .get(..issuer.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(issuer))
        && name.as_bytes().get(issuer.len()) == Some(&b':');
    match name.get(issuer.len() + 1..) {
        Some(rest) if prefixed => (issuer, rest),
        _ => (issuer, name),
    }
}

/// Why Google Authenticator cannot hold `account`; `None` when it can. Its payload has no
/// period (always 30 s), only 6 or 8 digits, no Steam codes, and a signed 64-bit counter.
pub(crate) fn inexpressible(account: &Account) -> Option<&'static str> {
    let params = account.params();
    match params.kind() {
        OtpKind::Steam => Some("type: Google Authenticator has no Steam codes"),
        _ if !matches!(params.digits(), 6 | 8) => {
            Some("digits: Google Authenticator has only 6 or 8 digits")
        }
        OtpKind::Totp if params.period() != cityauth_core::otp::DEFAULT_PERIOD => {
            Some("period: Google Authenticator has only 30-second codes")
        }
        OtpKind::Hotp if i64::try_from(params.counter()).is_err() => {
            Some("counter: above Google Authenticator's largest counter")
        }
        _ => None,
    }
}

/// The migration link holding `accounts` as part `batch` of an export. The accounts must
/// pass [`inexpressible`]; the link holds their secrets.
pub(crate) fn link(accounts: &[&Account], batch: BatchInfo) -> Zeroizing<String> {
    let names: Vec<String> = accounts.iter().map(|a| google_name(a)).collect();
    let fields: Vec<payload::OtpFields<'_>> = accounts
        .iter()
        .zip(&names)
        .map(|(account, name)| otp_fields(account, name))
        .collect();
    let data = payload::encode(&fields, batch);
    let text = Zeroizing::new(BASE64.encode(&data[..]));
    let mut link = Zeroizing::new(String::with_capacity(64 + 3 * text.len()));
    link.push_str(SCHEME);
    link.push_str("offline?data=");
    percent::encode_into(&mut link, &text);
    link
}

/// The name field: `issuer:name` as the app writes it, so that [`split_name`] gives back
/// both (`:name` when there is no issuer but the name holds a colon).
fn google_name(account: &Account) -> String {
    if account.issuer().is_empty() && !account.name().contains(':') {
        account.name().to_owned()
    } else {
        format!("{}:{}", account.issuer(), account.name())
    }
}

fn otp_fields<'a>(account: &'a Account, name: &'a str) -> payload::OtpFields<'a> {
    let params = account.params();
    payload::OtpFields {
        secret: account.secret().expose(),
        name,
        issuer: account.issuer(),
        algorithm: match params.algorithm() {
            Algorithm::Sha1 => 1,
            Algorithm::Sha256 => 2,
            Algorithm::Sha512 => 3,
        },
        digits: if params.digits() == 8 { 2 } else { 1 },
        kind: if params.kind() == OtpKind::Hotp { 1 } else { 2 },
        counter: params.counter(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_as_the_app_shows_them() {
        assert_eq!(split_name("", "GitHub:alice"), ("GitHub", "alice"));
        assert_eq!(split_name("GitHub", "GitHub:alice"), ("GitHub", "alice"));
        assert_eq!(split_name("GitHub", "github:alice"), ("GitHub", "alice"));
        assert_eq!(split_name("GitHub", "alice"), ("GitHub", "alice"));
        assert_eq!(split_name("GitHub", "Work:alice"), ("GitHub", "Work:alice"));
        assert_eq!(split_name("a:b", "a:b:c"), ("a:b", "c"));
        assert_eq!(split_name("", ":a:b"), ("", "a:b"));
        assert_eq!(split_name("Ü", "Ü"), ("Ü", "Ü"));
    }

    #[test]
    fn base64_escapes_and_mangled_forms_decode_alike() {
        for data in ["ab%2B%2F%3D", "ab+/=", "ab%2b%2f%3d", "ab _=", "ab-_="] {
            assert_eq!(
                unescape_base64(data).as_deref().map(|s| s.as_str()),
                Some("ab+/=")
            );
        }
        assert!(unescape_base64("ab%2").is_none());
        assert!(unescape_base64("ab%+2B").is_none());
        assert!(unescape_base64("ab%ZZ").is_none());
        assert!(unescape_base64("ab\u{e9}").is_none());
    }
}
