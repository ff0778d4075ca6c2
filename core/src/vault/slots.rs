//! Slots: the ways to recover the data key. Each holds the data key wrapped under another key.
//!
//! - A passphrase slot is a password envelope ([`crate::envelope`]) around the data key;
//!   the first slots (params version 1) used one Argon2id key for check and wrap, and still
//!   open.
//! - A key-wrapping slot lets the host wrap the data key with a key it keeps: Android
//!   Keystore, the iOS Keychain or Secure Enclave, or [`AesGcmKeyWrapper`] here.

use std::fmt;

use zeroize::Zeroizing;

pub use crate::envelope::KdfParams;
use crate::envelope::{NONCE_BYTES, PasswordKeys};

use super::crypto::{self, CryptoError, DataKey, KEY_LEN, SealingKey};
use super::error::VaultError;

/// The most passphrase slots a vault may hold: each is tried, KDF and all, on a wrong
/// passphrase, before anything is authenticated.
pub const MAX_PASSPHRASE_SLOTS: usize = 8;
/// The most Argon2id work all of a vault's passphrase slots may ask for together (memory
/// times passes, in KiB: 4 GiB·passes, about twenty default slots' worth).
pub const MAX_PASSPHRASE_WORK_KIB: u64 = 4 * 1024 * 1024;

/// Refuses, before any KDF runs, passphrase slots (given by their costs) that are too many
/// or would together cost more than [`MAX_PASSPHRASE_WORK_KIB`] to try.
pub fn check_passphrase_budget(
    costs: impl IntoIterator<Item = KdfParams>,
) -> Result<(), VaultError> {
    let (mut count, mut work) = (0usize, 0u64);
    for params in costs {
        count += 1;
        work = work.saturating_add(params.work_kib());
    }
    if count > MAX_PASSPHRASE_SLOTS || work > MAX_PASSPHRASE_WORK_KIB {
        return Err(VaultError::SlotLimit);
    }
    Ok(())
}

/// Errors a host's key-wrapping implementation reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the platform key store failed: {reason}")]
pub struct KeyWrapError {
    /// Why, in words for a log (never key material).
    pub reason: String,
}

/// Wraps and unwraps the vault's data key with a key the host keeps.
///
/// Android backs this with a Keystore AES-GCM key, iOS with the Keychain or Secure Enclave.
/// `key_id` names the host key; it is stored in the slot so that unlock finds its slot.
pub trait KeyWrapper: Send + Sync {
    /// A stable name of the host key (e.g. the Keystore alias).
    fn key_id(&self) -> String;
    /// Encrypts `key` (32 bytes) and returns the opaque wrapped form to store.
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError>;
    /// Decrypts what [`KeyWrapper::wrap`] returned.
    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyWrapError>;
}

/// A [`KeyWrapper`] that wraps with AES-256-GCM under a 256-bit key held in memory.
///
/// Real where a desktop keeps its wrapping key in a file or an OS secret store; the model of
/// what the Android and iOS adapters do with hardware-held keys.
pub struct AesGcmKeyWrapper {
    key_id: String,
    key: SealingKey,
}

impl AesGcmKeyWrapper {
    /// A wrapper named `key_id` over the given 32-byte key.
    pub fn new(key_id: &str, key: &[u8]) -> Result<Self, KeyWrapError> {
        let key = SealingKey::new(key).map_err(|_| KeyWrapError {
            reason: "the wrapping key must be 32 bytes".into(),
        })?;
        Ok(Self {
            key_id: key_id.to_owned(),
            key,
        })
    }

    /// A wrapper over a fresh random key (it lives only as long as this value).
    pub fn generate(key_id: &str) -> Result<Self, KeyWrapError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        crypto::fill_random(&mut key[..]).map_err(|_| KeyWrapError {
            reason: "the random number generator failed".into(),
        })?;
        Self::new(key_id, &key[..])
    }
}

impl KeyWrapper for AesGcmKeyWrapper {
    fn key_id(&self) -> String {
        self.key_id.clone()
    }

    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        self.key
            .seal(key, self.key_id.as_bytes())
            .map_err(|_| KeyWrapError {
                reason: "sealing failed".into(),
            })
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyWrapError> {
        self.key
            .open(wrapped, self.key_id.as_bytes())
            .map_err(|_| KeyWrapError {
                reason: "the wrapped key does not open with this key".into(),
            })
    }
}

impl fmt::Debug for AesGcmKeyWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AesGcmKeyWrapper({:?})", self.key_id)
    }
}

/// What a slot is, as stored in the `slots` table's `kind` column and `params` blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotKind {
    /// Argon2id over a passphrase.
    Passphrase {
        /// 2: a password envelope (separate check and wrap subkeys); 1: the first slots,
        /// one key for both.
        version: u8,
        params: KdfParams,
        salt: [u8; 16],
        /// HMAC of a fixed label under the derived key: tells a wrong passphrase apart from
        /// a tampered wrapped key. It offers a guesser nothing the wrapped key does not.
        check: [u8; 16],
    },
    /// The host's key, by name.
    KeyWrapper { key_id: String },
}

/// Why a slot did not yield the data key.
#[derive(Debug)]
pub enum SlotFailure {
    /// The passphrase does not derive this slot's key.
    WrongPassphrase,
    /// The passphrase is right but the wrapped key does not open: the slot was altered.
    Tampered,
    /// The host's unwrap failed.
    Host(KeyWrapError),
}

/// The `kind` of a passphrase slot.
pub const KIND_PASSPHRASE: &str = "passphrase";
const KIND_KEY_WRAPPER: &str = "key-wrapper";
const CHECK_LABEL: &[u8] = b"cityauth passphrase check v1";
/// The params version of passphrase slots written now (envelope subkeys).
const ENVELOPE_VERSION: u8 = 2;
const LEGACY_VERSION: u8 = 1;

impl SlotKind {
    /// A new passphrase slot for `data_key`; returns the slot and its wrapped key
    /// (nonce ‖ ciphertext ‖ tag, under the envelope's wrap subkey).
    pub fn seal_passphrase(
        passphrase: &str,
        params: KdfParams,
        data_key: &DataKey,
        vault_id: &[u8],
    ) -> Result<(Self, Vec<u8>), CryptoError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; NONCE_BYTES];
        crypto::fill_random(&mut salt)?;
        crypto::fill_random(&mut nonce)?;
        let keys = PasswordKeys::derive(passphrase.as_bytes(), &salt, &params)
            .map_err(|_| CryptoError::KeyLength)?;
        let slot = SlotKind::Passphrase {
            version: ENVELOPE_VERSION,
            params,
            salt,
            check: keys.check(CHECK_LABEL),
        };
        let mut sealed = data_key.expose().to_vec();
        keys.seal_in_place(nonce, &slot.aad(vault_id), &mut sealed)
            .map_err(|_| CryptoError::Open)?;
        let mut wrapped = Vec::with_capacity(NONCE_BYTES + sealed.len());
        wrapped.extend_from_slice(&nonce);
        wrapped.extend_from_slice(&sealed);
        Ok((slot, wrapped))
    }

    /// A new key-wrapping slot for `data_key`, wrapped by the host.
    pub fn seal_key_wrapper(
        wrapper: &dyn KeyWrapper,
        data_key: &DataKey,
    ) -> Result<(Self, Vec<u8>), KeyWrapError> {
        let wrapped = wrapper.wrap(data_key.expose())?;
        Ok((
            SlotKind::KeyWrapper {
                key_id: wrapper.key_id(),
            },
            wrapped,
        ))
    }

    /// Recovers the data key from a passphrase slot.
    pub fn open_passphrase(
        &self,
        passphrase: &str,
        wrapped: &[u8],
        vault_id: &[u8],
    ) -> Result<DataKey, SlotFailure> {
        let SlotKind::Passphrase {
            version,
            params,
            salt,
            check,
        } = self
        else {
            return Err(SlotFailure::WrongPassphrase);
        };
        let aad = self.aad(vault_id);
        let plain = if *version == LEGACY_VERSION {
            let kek = params
                .legacy_single_key(passphrase.as_bytes(), salt)
                .map_err(|_| SlotFailure::Tampered)?;
            if !crate::secret::constant_time_eq(&crypto::short_mac(&kek[..], CHECK_LABEL), check) {
                return Err(SlotFailure::WrongPassphrase);
            }
            let key = SealingKey::new(&kek[..]).map_err(|_| SlotFailure::Tampered)?;
            key.open(wrapped, &aad).map_err(|_| SlotFailure::Tampered)?
        } else {
            let keys = PasswordKeys::derive(passphrase.as_bytes(), salt, params)
                .map_err(|_| SlotFailure::Tampered)?;
            if !keys.check_matches(CHECK_LABEL, check) {
                return Err(SlotFailure::WrongPassphrase);
            }
            if wrapped.len() < NONCE_BYTES {
                return Err(SlotFailure::Tampered);
            }
            let (nonce, sealed) = wrapped.split_at(NONCE_BYTES);
            let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SlotFailure::Tampered)?;
            let mut buffer = zeroize::Zeroizing::new(sealed.to_vec());
            let plain = keys
                .open_in_place(nonce, &aad, &mut buffer[..])
                .map_err(|_| SlotFailure::Tampered)?;
            zeroize::Zeroizing::new(plain.to_vec())
        };
        DataKey::from_slice(&plain).map_err(|_| SlotFailure::Tampered)
    }

    /// Recovers the data key from a key-wrapping slot through the host.
    pub fn open_key_wrapper(
        wrapper: &dyn KeyWrapper,
        wrapped: &[u8],
    ) -> Result<DataKey, SlotFailure> {
        let plain = wrapper.unwrap(wrapped).map_err(SlotFailure::Host)?;
        DataKey::from_slice(&plain).map_err(|_| SlotFailure::Tampered)
    }

    /// The Argon2id cost of trying this slot, if it is a passphrase slot.
    pub fn passphrase_cost(&self) -> Option<KdfParams> {
        match self {
            SlotKind::Passphrase { params, .. } => Some(*params),
            SlotKind::KeyWrapper { .. } => None,
        }
    }

    /// The `kind` column.
    pub fn kind_name(&self) -> &'static str {
        match self {
            SlotKind::Passphrase { .. } => KIND_PASSPHRASE,
            SlotKind::KeyWrapper { .. } => KIND_KEY_WRAPPER,
        }
    }

    /// The `params` blob.
    pub fn encode_params(&self) -> Vec<u8> {
        let version = match self {
            SlotKind::Passphrase { version, .. } => *version,
            SlotKind::KeyWrapper { .. } => 1,
        };
        let mut out = vec![version];
        match self {
            SlotKind::Passphrase {
                params,
                salt,
                check,
                ..
            } => {
                let params = [
                    params.memory_kib(),
                    params.iterations(),
                    params.parallelism(),
                ];
                for n in params {
                    out.extend_from_slice(&n.to_be_bytes());
                }
                out.extend_from_slice(salt);
                out.extend_from_slice(check);
            }
            SlotKind::KeyWrapper { key_id } => out.extend_from_slice(key_id.as_bytes()),
        }
        out
    }

    /// Reads back `kind` and `params`; `None` when they are not ours or out of bounds
    /// (every cost is checked here, before any KDF can run).
    pub fn decode(kind: &str, params: &[u8]) -> Option<Self> {
        let (&version, rest) = params.split_first()?;
        match kind {
            KIND_PASSPHRASE => {
                if version != LEGACY_VERSION && version != ENVELOPE_VERSION {
                    return None;
                }
                if rest.len() != 12 + 16 + 16 {
                    return None;
                }
                let number =
                    |at: usize| u32::from_be_bytes(rest[at..at + 4].try_into().unwrap_or_default());
                let kdf = KdfParams::new(number(0), number(4), number(8))?;
                Some(SlotKind::Passphrase {
                    version,
                    params: kdf,
                    salt: rest[12..28].try_into().ok()?,
                    check: rest[28..44].try_into().ok()?,
                })
            }
            KIND_KEY_WRAPPER if version == 1 => Some(SlotKind::KeyWrapper {
                key_id: String::from_utf8(rest.to_vec()).ok()?,
            }),
            _ => None,
        }
    }

    fn aad(&self, vault_id: &[u8]) -> Vec<u8> {
        let mut aad = b"cityauth vault slot v1".to_vec();
        aad.extend_from_slice(vault_id);
        aad.extend_from_slice(self.kind_name().as_bytes());
        aad.extend_from_slice(&self.encode_params());
        aad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> KdfParams {
        KdfParams::new(64, 1, 1).unwrap()
    }

    #[test]
    fn passphrase_slot_opens_only_with_its_passphrase() {
        let data_key = DataKey::generate().unwrap();
        let (slot, wrapped) =
            SlotKind::seal_passphrase("correct horse", cheap(), &data_key, b"vault").unwrap();
        let opened = slot
            .open_passphrase("correct horse", &wrapped, b"vault")
            .unwrap();
        assert_eq!(opened.expose(), data_key.expose());
        assert!(matches!(
            slot.open_passphrase("wrong horse", &wrapped, b"vault"),
            Err(SlotFailure::WrongPassphrase)
        ));
        let mut bad = wrapped.clone();
        bad[20] ^= 1;
        assert!(matches!(
            slot.open_passphrase("correct horse", &bad, b"vault"),
            Err(SlotFailure::Tampered)
        ));
        assert!(matches!(
            slot.open_passphrase("correct horse", &wrapped, b"other vault"),
            Err(SlotFailure::Tampered)
        ));
    }

    #[test]
    fn slot_params_round_trip_and_bounds_hold() {
        let data_key = DataKey::generate().unwrap();
        let (slot, _) = SlotKind::seal_passphrase("p", cheap(), &data_key, b"v").unwrap();
        let params = slot.encode_params();
        assert_eq!(SlotKind::decode("passphrase", &params), Some(slot));
        let mut huge = params.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(SlotKind::decode("passphrase", &huge), None);
        assert_eq!(SlotKind::decode("passphrase", &params[..10]), None);
        assert_eq!(SlotKind::decode("unknown", &params), None);
    }

    #[test]
    fn aes_gcm_key_wrapper_round_trips() {
        let wrapper = AesGcmKeyWrapper::generate("test-key").unwrap();
        let data_key = DataKey::generate().unwrap();
        let (slot, wrapped) = SlotKind::seal_key_wrapper(&wrapper, &data_key).unwrap();
        assert_eq!(
            slot,
            SlotKind::KeyWrapper {
                key_id: "test-key".into()
            }
        );
        let opened = SlotKind::open_key_wrapper(&wrapper, &wrapped).unwrap();
        assert_eq!(opened.expose(), data_key.expose());
        let stranger = AesGcmKeyWrapper::generate("test-key").unwrap();
        assert!(matches!(
            SlotKind::open_key_wrapper(&stranger, &wrapped),
            Err(SlotFailure::Host(_))
        ));
    }
}
