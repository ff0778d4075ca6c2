//! The password envelope: a secret sealed under a passphrase, shared by the vault's
//! passphrase slots and the encrypted backup.
//!
//! Argon2id turns the passphrase and a salt into 64 bytes, split into two subkeys: the
//! first 32 key AES-256-GCM (the wrap), the last 32 key HMAC-SHA-256 (the key check, whose
//! first 16 bytes over a caller's label tell a wrong passphrase from a damaged wrap). The
//! cost parameters are capped here, once, so that no stored slot or backup can demand more
//! of the device than [`KdfParams`] allows, and callers check them before deriving.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use zeroize::Zeroizing;

/// Length of a key check, in bytes.
pub const CHECK_LEN: usize = 16;
/// Length of an AES-GCM tag, in bytes.
pub const TAG_LEN: usize = 16;
/// Length of an AES-GCM nonce, in bytes.
pub const NONCE_BYTES: usize = NONCE_LEN;

/// Argon2id cost parameters, within the caps every envelope obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

/// Why cost parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KdfRefusal {
    /// Below Argon2id's minimums (a pass, a lane, 8 KiB per lane).
    #[error("Argon2id parameters below its minimums")]
    BelowMinimum,
    /// Above the caps: more than 1 GiB, 10 passes, 16 lanes, or 2 GiB·passes of work.
    #[error("Argon2id parameters above 1 GiB, 10 passes, 16 lanes or 2 GiB times passes in total")]
    TooCostly,
}

/// Why an envelope could not be made or opened. Says nothing about keys or contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Argon2id refused the parameters or the output length.
    #[error("the key derivation failed")]
    Kdf,
    /// AES-GCM sealing failed.
    #[error("sealing failed")]
    Seal,
    /// The sealed secret or its associated data was altered, or the keys are wrong.
    #[error("authentication failed")]
    Open,
}

impl KdfParams {
    /// The most memory an envelope may ask for (1 GiB).
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// The most passes an envelope may ask for.
    pub const MAX_ITERATIONS: u32 = 10;
    /// The most lanes an envelope may ask for.
    pub const MAX_PARALLELISM: u32 = 16;
    /// The most work an envelope may ask for, memory times passes, in KiB (2 GiB·passes:
    /// 1 GiB twice, or ten times today's default of 64 MiB × 3): what bounds the time one
    /// hostile slot or backup can cost before anything is authenticated.
    pub const MAX_WORK_KIB: u64 = 2 * 1024 * 1024;

    /// Explicit parameters, within Argon2's minimums and the caps above.
    ///
    /// Use [`KdfParams::default`] for vaults people use; cheaper ones are for tests.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Option<Self> {
        Self::checked(memory_kib, iterations, parallelism).ok()
    }

    /// Like [`KdfParams::new`], saying which bound was crossed.
    pub fn checked(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, KdfRefusal> {
        let params = Self {
            memory_kib,
            iterations,
            parallelism,
        };
        // The caps first: an over-cost request is told as such, whatever else is wrong.
        if memory_kib > Self::MAX_MEMORY_KIB
            || iterations > Self::MAX_ITERATIONS
            || parallelism > Self::MAX_PARALLELISM
            || params.work_kib() > Self::MAX_WORK_KIB
        {
            return Err(KdfRefusal::TooCostly);
        }
        if iterations == 0 || parallelism == 0 || memory_kib < 8 * parallelism {
            return Err(KdfRefusal::BelowMinimum);
        }
        Ok(params)
    }

    /// Memory in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Passes over memory.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Lanes.
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    /// Memory times passes, in KiB: the measure of cost the caps bound.
    pub fn work_kib(&self) -> u64 {
        u64::from(self.memory_kib) * u64::from(self.iterations)
    }

    /// Argon2id over `passphrase` and `salt` into `out` (any length Argon2 accepts).
    fn hash_into(
        &self,
        passphrase: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), EnvelopeError> {
        let params = argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(out.len()),
        )
        .map_err(|_| EnvelopeError::Kdf)?;
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(passphrase, salt, out)
            .map_err(|_| EnvelopeError::Kdf)
    }

    /// The 32-byte single key of the first vault passphrase slots (check and wrap under one
    /// key); kept only so that those slots still open. New slots use [`PasswordKeys`].
    #[doc(hidden)]
    pub fn legacy_single_key(
        &self,
        passphrase: &[u8],
        salt: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, EnvelopeError> {
        let mut key = Zeroizing::new([0u8; 32]);
        self.hash_into(passphrase, salt, &mut key[..])?;
        Ok(key)
    }
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: above OWASP's Argon2id floor (19 MiB, 2 passes), at a
    /// cost measured in docs/security.md.
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

/// The two subkeys Argon2id derives from a passphrase; wiped on drop.
pub struct PasswordKeys(Zeroizing<[u8; 64]>);

impl PasswordKeys {
    /// Derives the wrap and check subkeys. Runs the KDF: the caller has already checked
    /// `kdf` against its own budget (every [`KdfParams`] is within the envelope's caps).
    pub fn derive(passphrase: &[u8], salt: &[u8], kdf: &KdfParams) -> Result<Self, EnvelopeError> {
        let mut out = Zeroizing::new([0u8; 64]);
        kdf.hash_into(passphrase, salt, &mut out[..])?;
        Ok(Self(out))
    }

    /// The key check over `label`: HMAC-SHA-256 under the check subkey, first 16 bytes.
    pub fn check(&self, label: &[u8]) -> [u8; CHECK_LEN] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0[32..]);
        let tag = hmac::sign(&key, label);
        let mut check = [0u8; CHECK_LEN];
        check.copy_from_slice(&tag.as_ref()[..CHECK_LEN]);
        check
    }

    /// Whether `check` is this passphrase's check over `label`, in constant time.
    pub fn check_matches(&self, label: &[u8], check: &[u8]) -> bool {
        crate::secret::constant_time_eq(&self.check(label), check)
    }

    fn wrap_key(&self) -> Result<LessSafeKey, EnvelopeError> {
        let key = UnboundKey::new(&AES_256_GCM, &self.0[..32]).map_err(|_| EnvelopeError::Seal)?;
        Ok(LessSafeKey::new(key))
    }

    /// Encrypts `buffer` in place under the wrap subkey, bound to `aad`, appending the tag.
    /// `nonce` must be fresh for these keys (a fresh salt makes fresh keys).
    pub fn seal_in_place(
        &self,
        nonce: [u8; NONCE_BYTES],
        aad: &[u8],
        buffer: &mut Vec<u8>,
    ) -> Result<(), EnvelopeError> {
        self.wrap_key()?
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buffer)
            .map_err(|_| EnvelopeError::Seal)
    }

    /// Decrypts `sealed` (ciphertext ‖ tag) in place; the plaintext, or an error if it or
    /// `aad` was altered.
    pub fn open_in_place<'a>(
        &self,
        nonce: [u8; NONCE_BYTES],
        aad: &[u8],
        sealed: &'a mut [u8],
    ) -> Result<&'a [u8], EnvelopeError> {
        let plain = self
            .wrap_key()?
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), sealed)
            .map_err(|_| EnvelopeError::Open)?;
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_caps_refuse_a_costly_kdf() {
        let gib = KdfParams::MAX_MEMORY_KIB;
        assert_eq!(
            KdfParams::checked(gib, 2, 1).map(|k| k.work_kib()),
            Ok(2 * 1024 * 1024)
        );
        assert_eq!(KdfParams::checked(gib, 10, 1), Err(KdfRefusal::TooCostly));
        assert_eq!(KdfParams::checked(gib, 3, 1), Err(KdfRefusal::TooCostly));
        assert_eq!(KdfParams::checked(gib, 64, 1), Err(KdfRefusal::TooCostly));
        assert_eq!(
            KdfParams::checked(64 * 1024, 11, 1),
            Err(KdfRefusal::TooCostly)
        );
        assert_eq!(
            KdfParams::checked(2 * gib, 1, 1),
            Err(KdfRefusal::TooCostly)
        );
        assert_eq!(KdfParams::checked(1024, 1, 17), Err(KdfRefusal::TooCostly));
        assert_eq!(
            KdfParams::checked(u32::MAX, u32::MAX, 1),
            Err(KdfRefusal::TooCostly)
        );
        assert_eq!(KdfParams::checked(7, 1, 1), Err(KdfRefusal::BelowMinimum));
        assert_eq!(KdfParams::checked(64, 0, 1), Err(KdfRefusal::BelowMinimum));
        assert!(KdfParams::checked(64 * 1024, 3, 1).is_ok());
    }

    #[test]
    fn the_subkeys_are_separate_and_the_wrap_binds_its_context() {
        let kdf = KdfParams::new(8, 1, 1).unwrap();
        let keys = PasswordKeys::derive(b"pw", b"salt-salt-salt-1", &kdf).unwrap();
        assert_ne!(keys.0[..32], keys.0[32..]);
        assert!(keys.check_matches(b"label", &keys.check(b"label")));
        assert!(!keys.check_matches(b"other", &keys.check(b"label")));
        let mut sealed = b"secret".to_vec();
        keys.seal_in_place([1; NONCE_BYTES], b"aad", &mut sealed)
            .unwrap();
        assert_eq!(
            keys.open_in_place([1; NONCE_BYTES], b"aad", &mut sealed.clone()),
            Ok(&b"secret"[..])
        );
        assert!(
            keys.open_in_place([1; NONCE_BYTES], b"aaD", &mut sealed.clone())
                .is_err()
        );
        let wrong = PasswordKeys::derive(b"pW", b"salt-salt-salt-1", &kdf).unwrap();
        assert!(!wrong.check_matches(b"label", &keys.check(b"label")));
    }
}
