//! The key derivations and the cipher of encrypted exports, with bounds on what a file may ask
//! for: the KDF parameters come from the file, and a hostile one must not make an import take
//! minutes or gigabytes.

use std::num::NonZeroU32;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::error::ImportError;

/// A 256-bit key.
pub(crate) type Key = Zeroizing<[u8; 32]>;

/// The most PBKDF2 iterations a file may ask for (andOTP uses about 150,000, 2FAS 10,000).
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// The largest scrypt N a file may ask for (Aegis uses 2^15).
pub const MAX_SCRYPT_LOG_N: u8 = 20;
/// The most memory one scrypt may take, 128·N·r bytes: twice Aegis's (N = 2^15, r = 8 take
/// 32 MiB). Slots are derived one after the other, so this is also the file's peak.
pub const MAX_SCRYPT_MEMORY: u64 = 64 * 1024 * 1024;
/// The largest scrypt r·p (Aegis uses 8·1).
pub const MAX_SCRYPT_R_TIMES_P: u64 = 64;
/// The most scrypt work one file may ask for, N·r·p summed over every derivation it needs
/// (all of an Aegis vault's password slots): sixteen times one derivation at Aegis's
/// parameters (2^15·8·1 = 2^18). Before this bound, four slots each at N = 2^20, r = 2,
/// p = 32 passed (256 times Aegis each, 1,024 times in all: 93 s here).
pub const MAX_SCRYPT_WORK: u64 = 16 << 18;

/// The hash under PBKDF2.
#[derive(Clone, Copy)]
pub(crate) enum Prf {
    Sha1,
    Sha256,
}

/// `iterations` if a file may ask for that many: zero is [`ImportError::Damaged`], more than
/// [`MAX_PBKDF2_ITERATIONS`] is [`ImportError::Unsupported`].
pub(crate) fn check_iterations(iterations: u32) -> Result<NonZeroU32, ImportError> {
    if iterations > MAX_PBKDF2_ITERATIONS {
        return Err(ImportError::Unsupported {
            what: format!(
                "{iterations} PBKDF2 iterations (cityauth allows at most {MAX_PBKDF2_ITERATIONS})"
            ),
        });
    }
    NonZeroU32::new(iterations)
        .ok_or_else(|| ImportError::damaged("key derivation: zero PBKDF2 iterations"))
}

/// PBKDF2 of `password` into a 256-bit key; fails as [`check_iterations`] does.
pub(crate) fn pbkdf2(
    prf: Prf,
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Result<Key, ImportError> {
    let iterations = check_iterations(iterations)?;
    let algorithm = match prf {
        Prf::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
        Prf::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
    };
    let mut key = Zeroizing::new([0u8; 32]);
    ring::pbkdf2::derive(algorithm, iterations, salt, password.as_bytes(), &mut *key);
    Ok(key)
}

/// scrypt parameters a file asked for, checked against the bounds above; their derivation
/// not yet run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScryptCost {
    params: scrypt::Params,
    /// N·r·p, what [`KdfBudget`] charges.
    work: u64,
}

impl ScryptCost {
    /// Checks `n`, `r`, `p`: an N that is not a power of two above 1, or an r or p of zero,
    /// is [`ImportError::Damaged`]; parameters beyond the bounds above are
    /// [`ImportError::Unsupported`]. Runs nothing.
    pub(crate) fn check(n: u64, r: u64, p: u64) -> Result<Self, ImportError> {
        if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
            return Err(ImportError::damaged(
                "key derivation: scrypt N must be a power of two above 1, r and p above 0",
            ));
        }
        let log_n = u8::try_from(n.trailing_zeros()).unwrap_or(u8::MAX);
        let memory = 128u64.saturating_mul(n).saturating_mul(r);
        let r_times_p = r.saturating_mul(p);
        if log_n > MAX_SCRYPT_LOG_N
            || memory > MAX_SCRYPT_MEMORY
            || r_times_p > MAX_SCRYPT_R_TIMES_P
        {
            return Err(ImportError::Unsupported {
                what: format!(
                    "scrypt parameters N={n}, r={r}, p={p} (cityauth allows N up to \
                     2^{MAX_SCRYPT_LOG_N}, 128·N·r up to {MAX_SCRYPT_MEMORY} bytes, r·p up to \
                     {MAX_SCRYPT_R_TIMES_P})"
                ),
            });
        }
        let unsupported = || ImportError::Unsupported {
            what: "scrypt parameters".into(),
        };
        let r = u32::try_from(r).map_err(|_| unsupported())?;
        let p = u32::try_from(p).map_err(|_| unsupported())?;
        let params = scrypt::Params::new(log_n, r, p).map_err(|_| unsupported())?;
        Ok(Self {
            params,
            work: n.saturating_mul(r_times_p),
        })
    }
}

/// What is left of a file's [`MAX_SCRYPT_WORK`]: every derivation is charged before any runs.
pub(crate) struct KdfBudget {
    left: u64,
}

impl KdfBudget {
    /// The budget of one file.
    pub(crate) fn per_file() -> Self {
        Self {
            left: MAX_SCRYPT_WORK,
        }
    }

    /// Takes `cost` from the budget; [`ImportError::TooMany`] when it is not there.
    pub(crate) fn charge(&mut self, cost: &ScryptCost) -> Result<(), ImportError> {
        self.left = self
            .left
            .checked_sub(cost.work)
            .ok_or(ImportError::TooMany {
                what: "scrypt work (N·r·p summed over the key derivations)",
                limit: usize::try_from(MAX_SCRYPT_WORK).unwrap_or(usize::MAX),
            })?;
        Ok(())
    }
}

/// scrypt of `password` into a 256-bit key, at parameters [`ScryptCost::check`] accepted.
pub(crate) fn scrypt_checked(
    password: &str,
    salt: &[u8],
    cost: &ScryptCost,
) -> Result<Key, ImportError> {
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.as_bytes(), salt, &cost.params, &mut *key).map_err(|_| {
        ImportError::Unsupported {
            what: "scrypt parameters".into(),
        }
    })?;
    Ok(key)
}

/// scrypt of `password` into a 256-bit key; fails as [`ScryptCost::check`] does.
#[cfg(test)]
fn scrypt(password: &str, salt: &[u8], n: u64, r: u64, p: u64) -> Result<Key, ImportError> {
    scrypt_checked(password, salt, &ScryptCost::check(n, r, p)?)
}

/// Why AES-GCM refused to open a ciphertext: the key is wrong or the bytes were changed (the
/// tag cannot tell which), or the nonce is not 96 bits.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// The tag does not match.
    Tag,
    /// The nonce is not 12 bytes.
    Nonce,
}

/// Opens AES-256-GCM `ciphertext_and_tag` (no associated data) under `key` and `nonce`.
pub(crate) fn aes_gcm_open(
    key: &[u8; 32],
    nonce: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError::Nonce)?;
    let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| OpenError::Tag)?;
    let key = LessSafeKey::new(key);
    let mut buffer = Zeroizing::new(ciphertext_and_tag.to_vec());
    let plain_len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut buffer,
        )
        .map_err(|_| OpenError::Tag)?
        .len();
    buffer.truncate(plain_len);
    Ok(buffer)
}

/// A 32-byte key from `bytes`; another length is [`ImportError::Damaged`] naming `field`.
pub(crate) fn key_from(field: &str, bytes: &[u8]) -> Result<Key, ImportError> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ImportError::damaged(format!("{field}: not a 256-bit key")))?;
    Ok(Zeroizing::new(array))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_matches_rfc_6070() {
        // RFC 6070, test case 2 (PBKDF2-HMAC-SHA1, "password"/"salt", 2 iterations), first
        // 20 bytes.
        let key = pbkdf2(Prf::Sha1, "password", b"salt", 2).unwrap();
        assert_eq!(
            &key[..20],
            &[
                0xea, 0x6c, 0x01, 0x4d, 0xc7, 0x2d, 0x6f, 0x8c, 0xcd, 0x1e, 0xd9, 0x2a, 0xce, 0x1d,
                0x41, 0xf0, 0xd8, 0xde, 0x89, 0x57
            ]
        );
    }

    #[test]
    fn scrypt_matches_rfc_7914() {
        // RFC 7914 section 12, first vector (empty password and salt, N=16, r=1, p=1): first
        // 8 bytes.
        let key = scrypt("", b"", 16, 1, 1).unwrap();
        assert_eq!(&key[..8], &[0x77, 0xd6, 0x57, 0x62, 0x38, 0x65, 0x7b, 0x20]);
    }

    #[test]
    fn kdf_bounds_refuse_hostile_parameters_at_once() {
        let unsupported =
            |r: Result<Key, ImportError>| matches!(r, Err(ImportError::Unsupported { .. }));
        assert!(unsupported(pbkdf2(Prf::Sha256, "p", b"s", u32::MAX)));
        assert!(unsupported(scrypt("p", b"s", 1 << 21, 1, 1)));
        assert!(unsupported(scrypt("p", b"s", 1 << 20, 8, 1)));
        assert!(unsupported(scrypt("p", b"s", 2, 1, 65)));
        assert!(unsupported(scrypt("p", b"s", 1 << 62, u64::MAX, u64::MAX)));
        // The slot: 256 MiB, past the memory bound.
        assert!(unsupported(scrypt("p", b"s", 1 << 20, 2, 32)));
        let damaged = |r: Result<Key, ImportError>| matches!(r, Err(ImportError::Damaged { .. }));
        assert!(damaged(pbkdf2(Prf::Sha1, "p", b"s", 0)));
        assert!(damaged(scrypt("p", b"s", 3, 8, 1)));
        assert!(damaged(scrypt("p", b"s", 0, 8, 1)));
        assert!(damaged(scrypt("p", b"s", 2, 0, 1)));
    }

    #[test]
    fn the_scrypt_budget_is_spent_across_derivations() {
        let heavy = ScryptCost::check(1 << 16, 8, 8).unwrap();
        let mut budget = KdfBudget::per_file();
        assert!(budget.charge(&heavy).is_ok());
        assert!(matches!(
            budget.charge(&heavy),
            Err(ImportError::TooMany { .. })
        ));
        let aegis = ScryptCost::check(1 << 15, 8, 1).unwrap();
        let mut budget = KdfBudget::per_file();
        for _ in 0..16 {
            assert!(budget.charge(&aegis).is_ok());
        }
        assert!(budget.charge(&aegis).is_err());
    }

    #[test]
    fn gcm_tells_a_bad_tag_and_a_bad_nonce() {
        let key = [7u8; 32];
        assert_eq!(aes_gcm_open(&key, &[0; 12], &[0; 20]), Err(OpenError::Tag));
        assert_eq!(
            aes_gcm_open(&key, &[0; 11], &[0; 20]),
            Err(OpenError::Nonce)
        );
        assert_eq!(aes_gcm_open(&key, &[0; 12], &[0; 3]), Err(OpenError::Tag));
    }
}
