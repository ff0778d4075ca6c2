//! The vault's keys: the random data key, the keys derived from it, and AES-256-GCM sealing.
//!
//! ring's expanded AES and HMAC key schedules cannot be wiped (ring has no zeroize); they
//! live only while the vault is unlocked. The data key's own bytes are wiped on drop.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Length of the data key and of every derived key, in bytes.
pub const KEY_LEN: usize = 32;
/// Length of an AES-GCM tag, in bytes.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed blob adds to its plaintext: the nonce in front, the tag behind.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// Fills `out` from the operating system's CSPRNG (through ring).
pub fn fill_random(out: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| CryptoError::Random)
}

/// Failures of the primitives. None of them says anything about key or plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The system random source failed.
    #[error("the system random number generator failed")]
    Random,
    /// Authentication failed: wrong key, or the ciphertext or its context was altered.
    #[error("authentication failed")]
    Open,
    /// A key of the wrong length.
    #[error("a key has the wrong length")]
    KeyLength,
}

/// The vault's 256-bit data key. Never stored in the clear; wiped on drop.
pub struct DataKey(Zeroizing<[u8; KEY_LEN]>);

impl DataKey {
    /// A fresh random data key.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(&mut bytes[..])?;
        Ok(Self(bytes))
    }

    /// Takes the key from unwrapped bytes, which must be exactly 32.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::KeyLength)?;
        Ok(Self(Zeroizing::new(array)))
    }

    /// A second copy (wiped on drop like the first), to seal a slot outside the vault mutex.
    pub fn duplicate(&self) -> Self {
        Self(Zeroizing::new(*self.0))
    }

    /// Whether `other` is the same key, compared in constant time.
    pub fn same_as(&self, other: &DataKey) -> bool {
        crate::secret::constant_time_eq(self.expose(), other.expose())
    }

    /// The raw key, for wrapping into a slot.
    pub fn expose(&self) -> &[u8] {
        &self.0[..]
    }

    /// Derives the keys the vault works with (HKDF-SHA-256, one label per purpose).
    pub fn derive(&self) -> Result<VaultKeys, CryptoError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"cityauth vault v1").extract(self.expose());
        let mut record = Zeroizing::new([0u8; KEY_LEN]);
        let mut header = Zeroizing::new([0u8; KEY_LEN]);
        expand(&prk, b"record sealing key", &mut record[..])?;
        expand(&prk, b"header mac key", &mut header[..])?;
        Ok(VaultKeys {
            record: SealingKey::new(&record[..])?,
            header_mac: hmac::Key::new(hmac::HMAC_SHA256, &header[..]),
        })
    }
}

fn expand(prk: &hkdf::Prk, label: &[u8], out: &mut [u8]) -> Result<(), CryptoError> {
    let info = [label];
    prk.expand(&info, hkdf::HKDF_SHA256)
        .and_then(|okm| okm.fill(out))
        .map_err(|_| CryptoError::KeyLength)
}

/// The keys of an unlocked vault.
pub struct VaultKeys {
    /// Seals account records and the index.
    pub record: SealingKey,
    header_mac: hmac::Key,
}

impl VaultKeys {
    /// HMAC-SHA-256 of the canonical header bytes.
    pub fn header_mac(&self, header: &[u8]) -> Vec<u8> {
        hmac::sign(&self.header_mac, header).as_ref().to_vec()
    }

    /// Checks a stored header MAC in constant time.
    pub fn verify_header_mac(&self, header: &[u8], mac: &[u8]) -> bool {
        hmac::verify(&self.header_mac, header, mac).is_ok()
    }
}

/// An AES-256-GCM key that seals with a fresh random nonce each time.
pub struct SealingKey(LessSafeKey);

impl SealingKey {
    /// A key from 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::KeyLength)?;
        Ok(Self(LessSafeKey::new(unbound)))
    }

    /// Encrypts `plaintext` bound to `aad`; returns nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let mut out = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .0
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[NONCE_LEN..],
            )
            .map_err(|_| CryptoError::Open)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts and authenticates nonce ‖ ciphertext ‖ tag under `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < SEAL_OVERHEAD {
            return Err(CryptoError::Open);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Open)?;
        let mut buffer = Zeroizing::new(body.to_vec());
        let plaintext_len = self
            .0
            .open_in_place(nonce, Aad::from(aad), &mut buffer[..])
            .map_err(|_| {
                // Whatever was decrypted before the tag check failed is garbage, but wipe it.
                CryptoError::Open
            })?
            .len();
        buffer.truncate(plaintext_len);
        Ok(buffer)
    }
}

/// The GCM tag of a sealed blob: a unique fingerprint of that exact write.
pub fn tag_of(sealed: &[u8]) -> [u8; TAG_LEN] {
    let mut tag = [0u8; TAG_LEN];
    if sealed.len() >= TAG_LEN {
        tag.copy_from_slice(&sealed[sealed.len() - TAG_LEN..]);
    }
    tag
}

/// HMAC-SHA-256 of `message` under `key`, truncated to 16 bytes.
pub fn short_mac(key: &[u8], message: &[u8]) -> [u8; 16] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message);
    let mut out = [0u8; 16];
    out.copy_from_slice(&tag.as_ref()[..16]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_binds_the_context() {
        let key = SealingKey::new(&[7u8; 32]).unwrap();
        let sealed = key.seal(b"hello", b"row 1").unwrap();
        assert_eq!(sealed.len(), 5 + SEAL_OVERHEAD);
        assert_eq!(&key.open(&sealed, b"row 1").unwrap()[..], b"hello");
        assert_eq!(key.open(&sealed, b"row 2"), Err(CryptoError::Open));
        let other = SealingKey::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open(&sealed, b"row 1"), Err(CryptoError::Open));
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(key.open(&bad, b"row 1"), Err(CryptoError::Open), "byte {i}");
        }
        assert_eq!(key.open(&sealed[..10], b"row 1"), Err(CryptoError::Open));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let key = SealingKey::new(&[7u8; 32]).unwrap();
        let a = key.seal(b"same", b"").unwrap();
        let b = key.seal(b"same", b"").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
    }

    #[test]
    fn derived_keys_differ_per_data_key() {
        let one = DataKey::generate().unwrap().derive().unwrap();
        let two = DataKey::generate().unwrap().derive().unwrap();
        let mac = one.header_mac(b"header");
        assert!(one.verify_header_mac(b"header", &mac));
        assert!(!two.verify_header_mac(b"header", &mac));
        assert!(!one.verify_header_mac(b"headex", &mac));
    }

    #[test]
    fn data_key_needs_exactly_32_bytes() {
        assert!(DataKey::from_slice(&[0; 31]).is_err());
        assert!(DataKey::from_slice(&[0; 32]).is_ok());
    }
}
