//! The plaintext layouts inside sealed blobs: an account record and the vault's index.
//!
//! Hand-written and length-prefixed so that every buffer is sized once and wiped on drop
//! (a serializer that grows its buffer would leave copies of the secret behind).
//! docs/formats.md describes both layouts byte by byte.

use zeroize::Zeroizing;

use crate::account::Account;
use crate::otp::{Algorithm, OtpKind, OtpParams};
use crate::secret::SecretBytes;

use super::crypto::TAG_LEN;
use super::enrollment::{DeviceKey, Enrollment};
use super::error::AccountId;

const RECORD_VERSION: u8 = 1;
/// The index layout this build writes: v2 adds the generation and the enrollment's tag.
const INDEX_VERSION: u8 = 2;
/// The first release's index (no generation, no enrollment): read only, from vaults not yet
/// upgraded.
const LEGACY_INDEX_VERSION: u8 = 1;
/// An enrollment whose key is in the vault: what every release writes for it, so that a vault
/// moved back to an earlier release still opens with its enrollment.
const ENROLLMENT_VERSION: u8 = 1;
/// An enrollment whose key is in the platform's key store (this release on): the key's name
/// and public key where v1 has the private key.
const HOST_KEY_ENROLLMENT_VERSION: u8 = 2;

/// A plaintext that does not parse: the blob decrypted but is not a record of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// One entry of the index: which row holds the account, the tag of its current write, and
/// its labels (so that a damaged record can still be named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub id: i64,
    pub tag: [u8; TAG_LEN],
    pub issuer: String,
    pub name: String,
}

/// Encodes an account: version, kind, algorithm, digits, period, counter, then issuer,
/// name and secret, each with a u16 length.
pub fn encode_record(account: &Account) -> Zeroizing<Vec<u8>> {
    let params = account.params();
    let (issuer, name, secret) = (
        account.issuer().as_bytes(),
        account.name().as_bytes(),
        account.secret().expose(),
    );
    let mut out = Zeroizing::new(Vec::with_capacity(
        16 + 6 + issuer.len() + name.len() + secret.len(),
    ));
    out.push(RECORD_VERSION);
    out.push(kind_code(params.kind()));
    out.push(algorithm_code(params.algorithm()));
    out.push(params.digits());
    out.extend_from_slice(&params.period().to_be_bytes());
    out.extend_from_slice(&params.counter().to_be_bytes());
    for field in [issuer, name, secret] {
        put_bytes(&mut out, field);
    }
    out
}

/// Decodes what [`encode_record`] wrote; any inconsistency is [`Malformed`].
pub fn decode_record(bytes: &[u8]) -> Result<Account, Malformed> {
    let mut reader = Reader(bytes);
    if reader.u8()? != RECORD_VERSION {
        return Err(Malformed);
    }
    let kind = reader.u8()?;
    let algorithm = match reader.u8()? {
        1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        _ => return Err(Malformed),
    };
    let digits = reader.u8()?;
    let period = u32::from_be_bytes(reader.array()?);
    let counter = u64::from_be_bytes(reader.array()?);
    let issuer = reader.text()?;
    let name = reader.text()?;
    let secret = SecretBytes::new(reader.bytes()?.to_vec());
    reader.end()?;
    let params = match kind {
        1 => OtpParams::totp(algorithm, digits, period),
        2 => OtpParams::hotp(algorithm, digits, counter),
        3 => OtpParams::steam(period),
        _ => return Err(Malformed),
    }
    .map_err(|_| Malformed)?;
    Account::new(issuer, name, secret, params).map_err(|_| Malformed)
}

/// The decrypted index: the accounts in order, and what binds it to the rest of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The layout it was written in ([`Index::is_legacy`] for the first release's).
    pub version: u8,
    /// Counts the writes; equal to the generation under the header MAC unless rolled back.
    pub generation: u64,
    /// The GCM tag of the sealed enrollment row when the index was written, if any.
    pub enrollment: Option<[u8; TAG_LEN]>,
    /// The accounts in the user's order.
    pub entries: Vec<IndexEntry>,
}

impl Index {
    /// An index in the current layout.
    pub fn new(
        generation: u64,
        enrollment: Option<[u8; TAG_LEN]>,
        entries: Vec<IndexEntry>,
    ) -> Self {
        Self {
            version: INDEX_VERSION,
            generation,
            enrollment,
            entries,
        }
    }

    /// True for the first release's layout, which binds neither a generation nor the
    /// enrollment.
    pub fn is_legacy(&self) -> bool {
        self.version == LEGACY_INDEX_VERSION
    }
}

/// Encodes the index: version, generation, enrollment (flag and tag), entry count, then per
/// entry id, tag, issuer and name.
pub fn encode_index(index: &Index) -> Zeroizing<Vec<u8>> {
    let entries = &index.entries;
    let size: usize = entries
        .iter()
        .map(|e| 8 + TAG_LEN + 4 + e.issuer.len() + e.name.len())
        .sum();
    let mut out = Zeroizing::new(Vec::with_capacity(1 + 8 + 1 + TAG_LEN + 4 + size));
    out.push(INDEX_VERSION);
    out.extend_from_slice(&index.generation.to_be_bytes());
    match &index.enrollment {
        None => out.extend_from_slice(&[0; 1 + TAG_LEN]),
        Some(tag) => {
            out.push(1);
            out.extend_from_slice(tag);
        }
    }
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for entry in entries {
        out.extend_from_slice(&entry.id.to_be_bytes());
        out.extend_from_slice(&entry.tag);
        put_bytes(&mut out, entry.issuer.as_bytes());
        put_bytes(&mut out, entry.name.as_bytes());
    }
    out
}

/// Decodes what [`encode_index`] wrote, or the first release's layout (version 1).
pub fn decode_index(bytes: &[u8]) -> Result<Index, Malformed> {
    let mut reader = Reader(bytes);
    let version = reader.u8()?;
    let (generation, enrollment) = match version {
        LEGACY_INDEX_VERSION => (0, None),
        INDEX_VERSION => {
            let generation = u64::from_be_bytes(reader.array()?);
            let flag = reader.u8()?;
            let tag: [u8; TAG_LEN] = reader.array()?;
            match flag {
                0 if tag == [0; TAG_LEN] => (generation, None),
                1 => (generation, Some(tag)),
                _ => return Err(Malformed),
            }
        }
        _ => return Err(Malformed),
    };
    let count = u32::from_be_bytes(reader.array()?) as usize;
    // Each entry takes at least 28 bytes: refuse a count the input cannot hold.
    if count > bytes.len() / 28 {
        return Err(Malformed);
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        entries.push(IndexEntry {
            id: i64::from_be_bytes(reader.array()?),
            tag: reader.array()?,
            issuer: reader.text()?.to_owned(),
            name: reader.text()?.to_owned(),
        });
    }
    reader.end()?;
    Ok(Index {
        version,
        generation,
        enrollment,
        entries,
    })
}

/// Encodes an enrollment: version, then server URL, device id, username, display name and
/// server public key (u16 lengths); the device key (v1: the PKCS#8 private key; v2: the host
/// key's name and its public key, u16 lengths); the clock offset (i64) and the City account's
/// id (i64, 0 for none). A field too long for its u16 length is refused (the error names it),
/// never truncated.
pub fn encode_enrollment(enrollment: &Enrollment) -> Result<Zeroizing<Vec<u8>>, &'static str> {
    let (version, key_fields): (u8, Vec<(&'static str, &[u8])>) = match &enrollment.device_key {
        DeviceKey::Vault(pkcs8) => (ENROLLMENT_VERSION, vec![("device_key", pkcs8)]),
        DeviceKey::Host { key_id, public_key } => (
            HOST_KEY_ENROLLMENT_VERSION,
            vec![
                ("device_key_id", key_id.as_bytes()),
                ("device_public_key", public_key),
            ],
        ),
    };
    let fields: [(&'static str, &[u8]); 5] = [
        ("server_url", enrollment.server_url.as_bytes()),
        ("device_id", enrollment.device_id.as_bytes()),
        ("username", enrollment.username.as_bytes()),
        ("display_name", enrollment.display_name.as_bytes()),
        ("server_public_key", &enrollment.server_public_key),
    ];
    let all = fields.iter().chain(&key_fields);
    let size: usize = all.clone().map(|(_, f)| 2 + f.len()).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(1 + size + 16));
    out.push(version);
    for (name, field) in all {
        let len = u16::try_from(field.len()).map_err(|_| *name)?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(field);
    }
    out.extend_from_slice(&enrollment.clock_offset.to_be_bytes());
    let account = enrollment.city_account.map_or(0, |id| id.0);
    out.extend_from_slice(&account.to_be_bytes());
    Ok(out)
}

/// Decodes what [`encode_enrollment`] wrote, in either version.
pub fn decode_enrollment(bytes: &[u8]) -> Result<Enrollment, Malformed> {
    let mut reader = Reader(bytes);
    let version = reader.u8()?;
    if version != ENROLLMENT_VERSION && version != HOST_KEY_ENROLLMENT_VERSION {
        return Err(Malformed);
    }
    let server_url = reader.text()?.to_owned();
    let device_id = reader.text()?.to_owned();
    let username = reader.text()?.to_owned();
    let display_name = reader.text()?.to_owned();
    let server_public_key = reader.bytes()?.to_vec();
    let device_key = if version == ENROLLMENT_VERSION {
        DeviceKey::Vault(Zeroizing::new(reader.bytes()?.to_vec()))
    } else {
        DeviceKey::Host {
            key_id: reader.text()?.to_owned(),
            public_key: reader.bytes()?.to_vec(),
        }
    };
    let clock_offset = i64::from_be_bytes(reader.array()?);
    let account = i64::from_be_bytes(reader.array()?);
    reader.end()?;
    Ok(Enrollment {
        server_url,
        device_id,
        username,
        display_name,
        server_public_key,
        device_key,
        clock_offset,
        city_account: (account != 0).then_some(AccountId(account)),
    })
}

fn kind_code(kind: OtpKind) -> u8 {
    match kind {
        OtpKind::Totp => 1,
        OtpKind::Hotp => 2,
        OtpKind::Steam => 3,
    }
}

fn algorithm_code(algorithm: Algorithm) -> u8 {
    match algorithm {
        Algorithm::Sha1 => 1,
        Algorithm::Sha256 => 2,
        Algorithm::Sha512 => 3,
    }
}

/// Appends a u16 length and the bytes (fields are bounded well below 64 KiB by `Account`).
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A cursor over a plaintext that fails instead of reading past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.0.len() < n {
            return Err(Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        self.take(N)?.try_into().map_err(|_| Malformed)
    }

    fn bytes(&mut self) -> Result<&'a [u8], Malformed> {
        let len = u16::from_be_bytes(self.array()?) as usize;
        self.take(len)
    }

    fn text(&mut self) -> Result<&'a str, Malformed> {
        std::str::from_utf8(self.bytes()?).map_err(|_| Malformed)
    }

    fn end(&self) -> Result<(), Malformed> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Malformed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_for_every_kind() {
        let secret = SecretBytes::new(vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        for params in [
            OtpParams::totp(Algorithm::Sha512, 8, 60).unwrap(),
            OtpParams::hotp(Algorithm::Sha256, 7, u64::MAX - 1).unwrap(),
            OtpParams::steam(30).unwrap(),
        ] {
            let account = Account::new("Ïssuer", "näme", secret.clone(), params).unwrap();
            let bytes = encode_record(&account);
            assert_eq!(decode_record(&bytes), Ok(account));
            for cut in 0..bytes.len() {
                assert_eq!(decode_record(&bytes[..cut]), Err(Malformed));
            }
        }
    }

    #[test]
    fn index_round_trips_and_rejects_truncation() {
        let entries = vec![
            IndexEntry {
                id: 1,
                tag: [9; TAG_LEN],
                issuer: "A".into(),
                name: "b".into(),
            },
            IndexEntry {
                id: 7,
                tag: [3; TAG_LEN],
                issuer: String::new(),
                name: "c".into(),
            },
        ];
        for enrollment in [None, Some([5; TAG_LEN])] {
            let index = Index::new(41, enrollment, entries.clone());
            let bytes = encode_index(&index);
            assert_eq!(decode_index(&bytes), Ok(index));
            for cut in 0..bytes.len() {
                assert_eq!(decode_index(&bytes[..cut]), Err(Malformed));
            }
        }
        assert_eq!(decode_index(&[1, 255, 255, 255, 255]), Err(Malformed));
    }

    #[test]
    fn the_enrollment_encoder_refuses_an_over_long_field_instead_of_truncating_it() {
        let mut enrollment = Enrollment {
            server_url: "https://city.example".into(),
            device_id: "dev".into(),
            username: "alice".into(),
            display_name: "x".repeat(usize::from(u16::MAX)),
            server_public_key: vec![4; 65],
            device_key: DeviceKey::Vault(Zeroizing::new(vec![7; 138])),
            clock_offset: -3600,
            city_account: Some(AccountId(9)),
        };
        let bytes = encode_enrollment(&enrollment).unwrap();
        assert_eq!(decode_enrollment(&bytes), Ok(enrollment.clone()));
        enrollment.display_name.push('x');
        assert_eq!(encode_enrollment(&enrollment), Err("display_name"));
        enrollment.display_name.clear();
        enrollment.device_key = DeviceKey::Vault(Zeroizing::new(vec![7; 70_000]));
        assert_eq!(encode_enrollment(&enrollment), Err("device_key"));
        enrollment.device_key = DeviceKey::Host {
            key_id: "k".repeat(70_000),
            public_key: vec![4; 65],
        };
        assert_eq!(encode_enrollment(&enrollment), Err("device_key_id"));
    }

    #[test]
    fn a_host_key_enrollment_round_trips_as_v2_and_a_vault_key_one_stays_v1() {
        let mut enrollment = Enrollment {
            server_url: "https://city.example".into(),
            device_id: "dev".into(),
            username: "alice".into(),
            display_name: "Alice".into(),
            server_public_key: vec![4; 65],
            device_key: DeviceKey::Host {
                key_id: "cityauth-device".into(),
                public_key: vec![4; 65],
            },
            clock_offset: 12,
            city_account: None,
        };
        let bytes = encode_enrollment(&enrollment).unwrap();
        assert_eq!(bytes[0], HOST_KEY_ENROLLMENT_VERSION);
        assert_eq!(decode_enrollment(&bytes), Ok(enrollment.clone()));
        for cut in 0..bytes.len() {
            assert_eq!(decode_enrollment(&bytes[..cut]), Err(Malformed));
        }
        // The same bytes read as v1 would take the key's name for a private key: refused
        // because the fields then do not add up.
        let mut as_v1 = bytes.to_vec();
        as_v1[0] = ENROLLMENT_VERSION;
        assert_eq!(decode_enrollment(&as_v1), Err(Malformed));
        enrollment.device_key = DeviceKey::Vault(Zeroizing::new(vec![7; 138]));
        assert_eq!(
            encode_enrollment(&enrollment).unwrap()[0],
            ENROLLMENT_VERSION
        );
        let mut unknown = encode_enrollment(&enrollment).unwrap().to_vec();
        unknown[0] = 3;
        assert_eq!(decode_enrollment(&unknown), Err(Malformed));
    }
}
