//! The key-encryption key (KEK) that seals the server's secrets at rest (its signing key, the
//! devices' OATH seeds) so that a copy of the database alone reveals none of them.
//!
//! [`KeyEncryptionKey`] is the seam for a KMS or an HSM; [`AesGcmKek`] is the built-in one:
//! AES-256-GCM (ring) under a 32-byte key read from a file or an environment variable, never
//! from the database.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Why sealing or opening failed. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KekError {
    /// The sealed value does not open under this key with this associated data: the wrong
    /// key, or a value moved from another row, or tampered with.
    #[error("a sealed value does not open with this key-encryption key (wrong key, or altered)")]
    Open,
    /// Sealing failed (the random source).
    #[error("sealing failed: the system random source failed")]
    Seal,
    /// The key could not be read or is malformed (the message says where and why).
    #[error("key-encryption key: {0}")]
    Load(String),
}

/// Seals and opens small secrets under a key that does not live in the database.
///
/// `aad` names what is sealed and its row (for example the device id of an OATH seed), so a
/// sealed value copied onto another row does not open there.
pub trait KeyEncryptionKey: Send + Sync {
    /// Encrypts and authenticates `plaintext`, bound to `aad`.
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KekError>;
    /// Opens what [`KeyEncryptionKey::seal`] made with the same `aad`.
    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KekError>;
}

/// The first byte of a value sealed by [`AesGcmKek`] (its format version).
const FORMAT: u8 = 1;
/// Bytes of a key-encryption key.
pub const KEK_LEN: usize = 32;

/// AES-256-GCM with a random 96-bit nonce per value: `1 ‖ nonce ‖ ciphertext ‖ tag`. Random
/// nonces are safe for far more than the 2^32 values a server could seal under one key.
pub struct AesGcmKek {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl AesGcmKek {
    /// A KEK from its 32 bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, KekError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| KekError::Load("not a 32-byte key".into()))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// A KEK written as text: 64 hex digits (`openssl rand -hex 32`), surrounding whitespace
    /// ignored.
    pub fn from_text(text: &str) -> Result<Self, KekError> {
        let text = text.trim();
        if text.len() != KEK_LEN * 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KekError::Load("not 64 hex digits".into()));
        }
        let bytes: Zeroizing<Vec<u8>> = Zeroizing::new(
            (0..KEK_LEN)
                .map(|i| u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).unwrap_or(0))
                .collect(),
        );
        Self::new(&bytes)
    }
}

impl KeyEncryptionKey for AesGcmKek {
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| KekError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .map_err(|_| KekError::Seal)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KekError> {
        let (&format, rest) = sealed.split_first().ok_or(KekError::Open)?;
        if format != FORMAT || rest.len() < NONCE_LEN {
            return Err(KekError::Open);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KekError::Open)?;
        let mut body = Zeroizing::new(body.to_vec());
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut body)
            .map_err(|_| KekError::Open)?
            .len();
        body.truncate(plain_len);
        Ok(body)
    }
}

/// Where the server finds its key-encryption key.
#[derive(Clone, Default)]
pub enum KekConfig {
    /// A file `<database>.kek` beside the database, made (0600) on first start: right for
    /// tests and demos. A City puts the key elsewhere ([`KekConfig::File`] on a mounted secret,
    /// or [`KekConfig::Env`]), so that a copy of the database directory is not enough.
    #[default]
    BesideDatabase,
    /// A file holding the key (32 raw bytes, or 64 hex digits); it must exist.
    File(PathBuf),
    /// An environment variable, by name, holding 64 hex digits.
    Env(String),
    /// A key supplied by the embedding program (a KMS or HSM client).
    Custom(Arc<dyn KeyEncryptionKey>),
}

impl std::fmt::Debug for KekConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BesideDatabase => f.write_str("BesideDatabase"),
            Self::File(path) => write!(f, "File({})", path.display()),
            Self::Env(name) => write!(f, "Env({name})"),
            Self::Custom(_) => f.write_str("Custom"),
        }
    }
}

/// The path of the default key file beside `database`.
pub fn beside(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".kek");
    PathBuf::from(name)
}

/// Loads the KEK `config` names. `database` is the database's path, for
/// [`KekConfig::BesideDatabase`]; `create` allows making that file when it does not exist
/// (only when the database holds nothing sealed yet: a missing key over sealed data is an
/// error, never a new key).
pub fn load(
    config: &KekConfig,
    database: Option<&Path>,
    create: bool,
) -> Result<Arc<dyn KeyEncryptionKey>, KekError> {
    match config {
        KekConfig::Custom(kek) => Ok(Arc::clone(kek)),
        KekConfig::Env(name) => {
            let text = Zeroizing::new(std::env::var(name).map_err(|_| {
                KekError::Load(format!("the environment variable {name} is not set"))
            })?);
            let kek = AesGcmKek::from_text(&text)
                .map_err(|e| KekError::Load(format!("the environment variable {name}: {e}")))?;
            Ok(Arc::new(kek))
        }
        KekConfig::File(path) => Ok(Arc::new(read_file(path)?)),
        KekConfig::BesideDatabase => {
            let database = database.ok_or_else(|| {
                KekError::Load("no database path to keep the key beside: configure one".into())
            })?;
            let path = beside(database);
            if !path.exists() {
                if !create {
                    return Err(KekError::Load(format!(
                        "{} is missing, and the database holds secrets sealed under it: \
                         restore the file (a new key cannot open them)",
                        path.display()
                    )));
                }
                create_file(&path)?;
            }
            Ok(Arc::new(read_file(&path)?))
        }
    }
}

fn read_file(path: &Path) -> Result<AesGcmKek, KekError> {
    let fail = |e: std::io::Error| KekError::Load(format!("{}: {e}", path.display()));
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(fail)?;
    let kek = if bytes.len() == KEK_LEN {
        AesGcmKek::new(&bytes)
    } else {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| KekError::Load(format!("{}: not 32 bytes", path.display())))?;
        AesGcmKek::from_text(text)
    };
    kek.map_err(|e| KekError::Load(format!("{}: {e}", path.display())))
}

/// Writes 32 random bytes to a new file readable by its owner only.
fn create_file(path: &Path) -> Result<(), KekError> {
    let mut key = Zeroizing::new([0u8; KEK_LEN]);
    SystemRandom::new()
        .fill(key.as_mut())
        .map_err(|_| KekError::Seal)?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(key.as_ref()).and_then(|()| f.sync_all()))
        .map_err(|e| KekError::Load(format!("{}: {e}", path.display())))
}

/// The associated data of the sealed server signing key.
pub const SIGNING_KEY_AAD: &[u8] = b"cityauth sealed v1\0server signing key";

/// The associated data of device `device_id`'s sealed OATH seed.
pub fn oath_seed_aad(device_id: &str) -> Vec<u8> {
    let mut aad = b"cityauth sealed v1\0oath seed\0device ".to_vec();
    aad.extend_from_slice(device_id.as_bytes());
    aad
}

/// The associated data of the new password a claim on password reset `flow_id` writes,
/// sealed while the directory writes it (so that a request finding the claim after a crash
/// can ask the directory whether it took): it opens for that flow only.
pub fn reset_password_aad(flow_id: &str) -> Vec<u8> {
    let mut aad = b"cityauth sealed v1\0password reset\0".to_vec();
    aad.extend_from_slice(flow_id.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let kek = AesGcmKek::new(&[7u8; 32]).unwrap();
        let sealed = kek.seal(b"row 1", b"secret").unwrap();
        assert_eq!(kek.open(b"row 1", &sealed).unwrap().as_slice(), b"secret");
        assert_ne!(
            sealed,
            kek.seal(b"row 1", b"secret").unwrap(),
            "fresh nonces"
        );
        assert_eq!(kek.open(b"row 2", &sealed), Err(KekError::Open));
        let other = AesGcmKek::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open(b"row 1", &sealed), Err(KekError::Open));
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(kek.open(b"row 1", &altered), Err(KekError::Open));
        assert_eq!(kek.open(b"row 1", &[]), Err(KekError::Open));
        assert_eq!(kek.open(b"row 1", &sealed[..5]), Err(KekError::Open));
    }

    #[test]
    fn text_keys_are_64_hex_digits() {
        assert!(AesGcmKek::from_text(&"ab".repeat(32)).is_ok());
        assert!(AesGcmKek::from_text(&format!(" {}\n", "0F".repeat(32))).is_ok());
        assert!(AesGcmKek::from_text(&"ab".repeat(31)).is_err());
        assert!(AesGcmKek::from_text(&"zz".repeat(32)).is_err());
    }
}
