//! cityauth's encrypted backup: a versioned JSON file holding the accounts, encrypted with
//! AES-256-GCM under a key derived from a passphrase with Argon2id.
//!
//! ```text
//! {"format":"cityauth-backup","version":1,
//!  "kdf":{"alg":"argon2id","m_kib":65536,"t":3,"p":1,"salt":B64,"check":B64},
//!  "cipher":{"alg":"aes-256-gcm","nonce":B64},"ciphertext":B64}
//! ```
//!
//! The key is core's password envelope ([`cityauth_core::envelope`], shared with the vault's
//! passphrase slots): Argon2id gives 64 bytes, the first 32 are the AES key, the last 32 key
//! an HMAC-SHA-256 whose first 16 bytes over `"cityauth backup check v1"` are `check`, which
//! tells a wrong passphrase from a damaged file. The envelope's cost caps bound what a
//! backup may demand, checked before the KDF runs. The header is bound to the ciphertext as associated data,
//! so an edited header does not decrypt. Only accounts are backed up: never push-approval
//! keys nor the City enrollment. docs/formats.md ("Encrypted backup") has the details and a
//! test vector.

mod plaintext;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cityauth_core::Account;
use cityauth_core::envelope::{
    CHECK_LEN, EnvelopeError, KdfParams, KdfRefusal, NONCE_BYTES, PasswordKeys, TAG_LEN,
};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::MAX_IMPORT_BYTES;
use crate::entry::Entry;
use crate::error::ImportError;
use crate::formats::limits::MAX_ENTRIES;

/// The `format` field of every backup.
pub const FORMAT: &str = "cityauth-backup";
/// The version this build writes and reads.
pub const VERSION: u64 = 1;
/// The most Argon2id memory a backup may demand, in KiB (the envelope's cap, 1 GiB).
pub const MAX_MEMORY_KIB: u32 = KdfParams::MAX_MEMORY_KIB;
/// The most Argon2id passes a backup may demand (the envelope's cap).
pub const MAX_ITERATIONS: u32 = KdfParams::MAX_ITERATIONS;
/// The most Argon2id lanes a backup may demand (the envelope's cap).
pub const MAX_PARALLELISM: u32 = KdfParams::MAX_PARALLELISM;

const KDF_ALG: &str = "argon2id";
const CIPHER_ALG: &str = "aes-256-gcm";
const CHECK_LABEL: &[u8] = b"cityauth backup check v1";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = NONCE_BYTES;

/// Why a backup could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// The passphrase is empty.
    #[error("the backup passphrase is empty")]
    EmptyPassphrase,
    /// The backup would be larger than an import accepts ([`crate::MAX_IMPORT_BYTES`], or
    /// more accounts than [`crate::formats::limits::MAX_ENTRIES`]).
    #[error("too many accounts for one backup file")]
    TooLarge,
    /// The system's random number generator failed.
    #[error("the random number generator failed")]
    Random,
    /// Key derivation or encryption failed.
    #[error("encryption failed")]
    Crypto,
}

#[derive(Serialize, Deserialize)]
struct BackupFile {
    format: String,
    version: u64,
    kdf: KdfHeader,
    cipher: CipherHeader,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct KdfHeader {
    alg: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
    check: String,
}

#[derive(Serialize, Deserialize)]
struct CipherHeader {
    alg: String,
    nonce: String,
}

/// The first look at a file: what it says it is, whatever else it holds.
#[derive(Deserialize)]
struct Probe {
    format: Option<String>,
    version: Option<u64>,
}

/// The header's values, decoded.
struct Header {
    kdf: KdfParams,
    salt: [u8; SALT_LEN],
    check: [u8; CHECK_LEN],
    nonce: [u8; NONCE_LEN],
}

/// The associated data the ciphertext is bound to: every header field, so that changing
/// any of them makes decryption fail. Integers are big-endian u32, strings end in a zero.
fn associated_data(header: &Header) -> Vec<u8> {
    let mut aad = Vec::with_capacity(128);
    aad.extend_from_slice(FORMAT.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&(VERSION as u32).to_be_bytes());
    aad.extend_from_slice(KDF_ALG.as_bytes());
    aad.push(0);
    for n in [
        header.kdf.memory_kib(),
        header.kdf.iterations(),
        header.kdf.parallelism(),
    ] {
        aad.extend_from_slice(&n.to_be_bytes());
    }
    aad.extend_from_slice(&header.salt);
    aad.extend_from_slice(&header.check);
    aad.extend_from_slice(CIPHER_ALG.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&header.nonce);
    aad
}

/// Whether `bytes` look like a cityauth backup: a JSON object naming this format near its
/// start (a shape check, not a parse).
pub fn looks_like(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(256)];
    let text = String::from_utf8_lossy(head);
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
        && text.contains("\"cityauth-backup\"")
}

/// Writes `accounts` as a backup encrypted under `passphrase` with Argon2id cost `kdf`
/// (a fresh random salt and nonce). Holds accounts only: never push-approval keys nor the
/// City enrollment.
///
/// Fails with [`BackupError::EmptyPassphrase`], [`BackupError::TooLarge`],
/// [`BackupError::Random`] and [`BackupError::Crypto`]. Every [`KdfParams`] is within the
/// envelope's caps, so whatever is written can be read back.
pub fn write(
    accounts: &[Account],
    passphrase: &str,
    kdf: &KdfParams,
) -> Result<Vec<u8>, BackupError> {
    let rng = SystemRandom::new();
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut salt).map_err(|_| BackupError::Random)?;
    rng.fill(&mut nonce).map_err(|_| BackupError::Random)?;
    write_with_salt_and_nonce(accounts, passphrase, kdf, salt, nonce)
}

/// [`write`] with a given salt and nonce, for test vectors only: a nonce must never be
/// reused under one key, so real backups take [`write`]'s random ones.
#[doc(hidden)]
pub fn write_with_salt_and_nonce(
    accounts: &[Account],
    passphrase: &str,
    kdf: &KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>, BackupError> {
    if passphrase.is_empty() {
        return Err(BackupError::EmptyPassphrase);
    }
    // A backup holds no more accounts than an import reads back from one file.
    if accounts.len() > MAX_ENTRIES {
        return Err(BackupError::TooLarge);
    }
    let keys =
        PasswordKeys::derive(passphrase.as_bytes(), &salt, kdf).map_err(|_| BackupError::Crypto)?;
    let header = Header {
        kdf: *kdf,
        salt,
        check: keys.check(CHECK_LABEL),
        nonce,
    };
    let mut sealed = plaintext::encode(accounts, TAG_LEN).map_err(|_| BackupError::Crypto)?;
    seal(&keys, &header, &mut sealed).map_err(|_| BackupError::Crypto)?;
    let file = BackupFile {
        format: FORMAT.into(),
        version: VERSION,
        kdf: KdfHeader {
            alg: KDF_ALG.into(),
            m_kib: kdf.memory_kib(),
            t: kdf.iterations(),
            p: kdf.parallelism(),
            salt: BASE64.encode(header.salt),
            check: BASE64.encode(header.check),
        },
        cipher: CipherHeader {
            alg: CIPHER_ALG.into(),
            nonce: BASE64.encode(header.nonce),
        },
        ciphertext: BASE64.encode(&sealed[..]),
    };
    let mut bytes = serde_json::to_vec(&file).map_err(|_| BackupError::Crypto)?;
    bytes.push(b'\n');
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(BackupError::TooLarge);
    }
    Ok(bytes)
}

/// Reads a backup with `password`, into its accounts at `entry 1`, `entry 2`, ….
///
/// Fails with [`ImportError::PasswordRequired`] without a password,
/// [`ImportError::WrongPassword`], [`ImportError::Unsupported`] for another version or
/// algorithm or a cost above the envelope's caps (1 GiB, 10 passes, 16 lanes, 2 GiB·passes;
/// refused before the KDF runs), and [`ImportError::Damaged`]
/// for a truncated or altered file.
pub fn read(bytes: &[u8], password: Option<&str>) -> Result<Vec<Entry>, ImportError> {
    let probe: Probe = serde_json::from_slice(bytes)
        .map_err(|_| ImportError::damaged("not valid JSON (the backup is truncated or altered)"))?;
    if probe.format.as_deref() != Some(FORMAT) {
        return Err(ImportError::damaged("not a cityauth backup (format field)"));
    }
    match probe.version {
        Some(VERSION) => {}
        Some(version) => {
            return Err(ImportError::Unsupported {
                what: format!("cityauth backup version {version} (this build reads {VERSION})"),
            });
        }
        None => return Err(ImportError::damaged("version field missing")),
    }
    let file: BackupFile = serde_json::from_slice(bytes)
        .map_err(|_| ImportError::damaged("a header field is missing or malformed"))?;
    let header = read_header(&file)?;
    let mut sealed = decode_field::<0>(&file.ciphertext, "ciphertext")?;
    if sealed.len() < TAG_LEN {
        return Err(ImportError::damaged("ciphertext: truncated"));
    }
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let keys = PasswordKeys::derive(password.as_bytes(), &header.salt, &header.kdf)
        .map_err(|_| ImportError::damaged("kdf: parameters Argon2id refuses"))?;
    if !keys.check_matches(CHECK_LABEL, &header.check) {
        return Err(ImportError::WrongPassword);
    }
    let plain = open(&keys, &header, &mut sealed)
        .map_err(|_| ImportError::damaged("the ciphertext or header was altered"))?;
    plaintext::decode(plain)
}

/// Encrypts `buffer` in place under the keys, bound to `header`, appending the tag.
fn seal(keys: &PasswordKeys, header: &Header, buffer: &mut Vec<u8>) -> Result<(), EnvelopeError> {
    keys.seal_in_place(header.nonce, &associated_data(header), buffer)
}

/// Decrypts `sealed` in place; the plaintext, or an error if it or `header` was altered.
fn open<'a>(
    keys: &PasswordKeys,
    header: &Header,
    sealed: &'a mut [u8],
) -> Result<&'a [u8], EnvelopeError> {
    keys.open_in_place(header.nonce, &associated_data(header), sealed)
}

fn read_header(file: &BackupFile) -> Result<Header, ImportError> {
    if file.kdf.alg != KDF_ALG {
        return Err(ImportError::Unsupported {
            what: "backup key derivation other than argon2id".into(),
        });
    }
    if file.cipher.alg != CIPHER_ALG {
        return Err(ImportError::Unsupported {
            what: "backup cipher other than aes-256-gcm".into(),
        });
    }
    let (m, t, p) = (file.kdf.m_kib, file.kdf.t, file.kdf.p);
    let kdf = KdfParams::checked(m, t, p).map_err(|refusal| match refusal {
        KdfRefusal::TooCostly => ImportError::Unsupported {
            what: format!(
                "Argon2id cost of {m} KiB, {t} passes, {p} lanes (at most {MAX_MEMORY_KIB} KiB, \
                 {MAX_ITERATIONS} passes, {MAX_PARALLELISM} lanes, {} KiB times passes)",
                KdfParams::MAX_WORK_KIB
            ),
        },
        KdfRefusal::BelowMinimum => {
            ImportError::damaged("kdf: parameters below Argon2id's minimums")
        }
    })?;
    Ok(Header {
        kdf,
        salt: fixed(&file.kdf.salt, "kdf.salt")?,
        check: fixed(&file.kdf.check, "kdf.check")?,
        nonce: fixed(&file.cipher.nonce, "cipher.nonce")?,
    })
}

/// A base64 field of exactly `N` bytes.
fn fixed<const N: usize>(text: &str, field: &str) -> Result<[u8; N], ImportError> {
    let bytes = decode_field::<N>(text, field)?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| ImportError::damaged(format!("{field}: must be {N} bytes")))
}

/// A base64 field, refused before decoding when longer than `N` bytes would need (when
/// `N` is not 0).
fn decode_field<const N: usize>(
    text: &str,
    field: &str,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    if N != 0 && text.len() > 4 * N.div_ceil(3) {
        return Err(ImportError::damaged(format!("{field}: must be {N} bytes")));
    }
    BASE64
        .decode(text)
        .map(Zeroizing::new)
        .map_err(|_| ImportError::damaged(format!("{field}: not valid base64")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every header field the reader does not already check by other means is still bound:
    /// a ciphertext sealed under one header does not open under another, same key.
    #[test]
    fn a_ciphertext_opens_only_under_its_own_header() {
        let kdf = KdfParams::new(8, 1, 1).unwrap();
        let keys = PasswordKeys::derive(b"pw", &[1; SALT_LEN], &kdf).unwrap();
        let header = || Header {
            kdf,
            salt: [1; SALT_LEN],
            check: keys.check(CHECK_LABEL),
            nonce: [2; NONCE_LEN],
        };
        let mut sealed = b"[]".to_vec();
        seal(&keys, &header(), &mut sealed).unwrap();
        assert_eq!(open(&keys, &header(), &mut sealed.clone()), Ok(&b"[]"[..]));
        let altered = [
            Header {
                check: [0; CHECK_LEN],
                ..header()
            },
            Header {
                salt: [3; SALT_LEN],
                ..header()
            },
            Header {
                kdf: KdfParams::new(16, 1, 1).unwrap(),
                ..header()
            },
        ];
        for other in altered {
            assert!(open(&keys, &other, &mut sealed.clone()).is_err());
        }
    }
}
