//! Password hashes: Argon2id as a standard PHC string, read alongside the form stored before
//! it; passwords are NFKC-normalised before hashing and verifying.

mod blocklist;
mod policy;

pub use blocklist::Blocklist;
pub use policy::{MAX_CHARS, MIN_CHARS, check_policy, requirement};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::util::{ct_eq, random_bytes};

/// Memory cost in KiB (OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane).
const MEMORY_KIB: u32 = 19 * 1024;
/// Passes.
const ITERATIONS: u32 = 2;
/// Lanes.
const PARALLELISM: u32 = 1;
/// Hash length in bytes.
const HASH_LEN: usize = 32;
/// Salt length in bytes (the PHC format's recommendation).
const SALT_LEN: usize = 16;

/// What checking a password against a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The password does not match (or the stored hash is malformed).
    Wrong,
    /// It matches and the stored hash is current.
    Matches,
    /// It matches, but the hash is in an older form or cost: store [`hash`] of it instead.
    MatchesRehash,
}

/// The password as hashed: NFKC, so that the composed and decomposed forms of the same
/// text (an "é" typed on two keyboards) are one password.
fn normalise(password: &str) -> Zeroizing<String> {
    Zeroizing::new(password.nfkc().collect())
}

fn argon(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn current_params() -> Result<Params, ApiError> {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(HASH_LEN))
        .map_err(|_| ApiError::Internal("bad Argon2 parameters".into()))
}

/// Hashes a password: the PHC string `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`
/// (standard base64 without padding), over the NFKC form, with a salt from `ring`.
pub fn hash(password: &str) -> Result<String, ApiError> {
    let salt = Zeroizing::new(random_bytes::<SALT_LEN>()?);
    let normal = normalise(password);
    let hashed = argon(current_params()?)
        .hash_password_with_salt(normal.as_bytes(), salt.as_ref())
        .map_err(|_| ApiError::Internal("Argon2 failed".into()))?;
    Ok(hashed.to_string())
}

/// True if `password` matches `stored` (a hash from [`hash`], or the earlier form); false
/// for a malformed one.
pub fn verify(password: &str, stored: &str) -> bool {
    check(password, stored) != Check::Wrong
}

/// Checks `password` against `stored` and says whether the hash should be replaced.
pub fn check(password: &str, stored: &str) -> Check {
    let normal = normalise(password);
    if matches_stored(normal.as_bytes(), stored) {
        return if needs_rehash(stored) {
            Check::MatchesRehash
        } else {
            Check::Matches
        };
    }
    // Hashes made before normalisation are over the bytes as typed; a password that NFKC
    // changes may match one of those only as typed. Its hash is then replaced.
    if normal.as_str() != password && matches_stored(password.as_bytes(), stored) {
        return Check::MatchesRehash;
    }
    Check::Wrong
}

fn matches_stored(password: &[u8], stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) if parsed.algorithm.as_str() == "argon2id" => argon(Params::default())
            .verify_password(password, &parsed)
            .is_ok(),
        Ok(_) => false,
        // The earlier form is PHC-like but base64url; its `-` and `_` fail the PHC parser.
        Err(_) => legacy::verify(password, stored),
    }
}

/// True unless `stored` is a PHC string of Argon2id at today's cost, salt and length.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    let salt_len = parsed.salt.as_ref().map(|s| s.as_ref().len());
    let hash_len = parsed.hash.as_ref().map(|h| h.as_ref().len());
    !(parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(Version::V0x13.into())
        && params.m_cost() == MEMORY_KIB
        && params.t_cost() == ITERATIONS
        && params.p_cost() == PARALLELISM
        && salt_len == Some(SALT_LEN)
        && hash_len == Some(HASH_LEN))
}

/// A hash of a random password, to verify against when the user is unknown (same cost).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("not a password of anyone").unwrap_or_default())
}

/// The form stored before PHC strings: `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` with
/// base64url fields. Read only, so that existing users can sign in and be rehashed.
mod legacy {
    use super::*;

    pub(super) fn verify(password: &[u8], stored: &str) -> bool {
        let parts: Vec<&str> = stored.split('$').collect();
        let [_, "argon2id", "v=19", params, salt, expected] = parts.as_slice() else {
            return false;
        };
        let mut cost = [0u32; 3];
        let mut items = params.split(',');
        for slot in cost.iter_mut() {
            match items
                .next()
                .and_then(|item| item.split_once('='))
                .and_then(|(_, v)| v.parse().ok())
            {
                Some(value) => *slot = value,
                None => return false,
            }
        }
        let decode = cityauth_protocol::encoding::decode;
        let (Ok(salt), Ok(expected)) = (decode(salt), decode(expected)) else {
            return false;
        };
        if expected.is_empty() {
            return false;
        }
        let Ok(params) = Params::new(cost[0], cost[1], cost[2], Some(expected.len())) else {
            return false;
        };
        let mut out = Zeroizing::new(vec![0u8; expected.len()]);
        argon(params)
            .hash_password_into(password, &salt, &mut out)
            .is_ok()
            && ct_eq(&out, &expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hash in the form stored before PHC strings, over `password` as given.
    pub(crate) fn legacy_hash(password: &str, salt: &[u8; 16]) -> String {
        let mut out = [0u8; HASH_LEN];
        argon(current_params().unwrap())
            .hash_password_into(password.as_bytes(), salt, &mut out)
            .unwrap();
        let encode = cityauth_protocol::encoding::encode;
        format!(
            "$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={PARALLELISM}${}${}",
            encode(salt),
            encode(&out)
        )
    }

    #[test]
    fn hashes_are_phc_strings_that_verify_only_their_password() {
        let stored = hash("correct horse battery staple").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(PasswordHash::new(&stored).is_ok());
        assert_eq!(
            check("correct horse battery staple", &stored),
            Check::Matches
        );
        assert!(!verify("correct horse battery stapler", &stored));
        assert!(!verify("x", "$argon2id$v=19$m=1,t=1$AA$AA"));
        assert!(!verify("x", "garbage"));
        assert!(!verify("x", ""));
    }

    #[test]
    fn the_earlier_form_verifies_and_asks_for_a_rehash() {
        // 0xff bytes encode as `_` in base64url: not a valid PHC string.
        let stored = legacy_hash("correct horse battery staple", &[0xff; 16]);
        assert!(PasswordHash::new(&stored).is_err());
        assert_eq!(
            check("correct horse battery staple", &stored),
            Check::MatchesRehash
        );
        assert_eq!(check("correct horse battery stapl", &stored), Check::Wrong);
        assert!(needs_rehash(&stored));
    }

    #[test]
    fn composed_and_decomposed_forms_are_one_password() {
        let composed = "caf\u{e9}-Orbit-Lantern-42";
        let decomposed = "cafe\u{301}-Orbit-Lantern-42";
        let stored = hash(composed).unwrap();
        assert!(verify(decomposed, &stored));
        let stored = hash(decomposed).unwrap();
        assert!(verify(composed, &stored));
        // An earlier hash over the decomposed bytes still verifies them, and is rehashed.
        let old = legacy_hash(decomposed, &[0xfe; 16]);
        assert_eq!(check(decomposed, &old), Check::MatchesRehash);
    }
}
