//! Password hashes (Argon2id, PHC-style text) and the password policy.

use argon2::{Algorithm, Argon2, Params, Version};

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

/// The shortest password the policy accepts, in characters.
pub const MIN_CHARS: usize = 12;
/// The longest, in characters (longer ones only cost hashing time).
pub const MAX_CHARS: usize = 256;
/// The lowest zxcvbn score accepted (0–4).
pub const MIN_SCORE: u8 = 3;

fn argon(memory: u32, iterations: u32, parallelism: u32) -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(memory, iterations, parallelism, Some(HASH_LEN))
        .map_err(|_| ApiError::Internal("bad Argon2 parameters".into()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password: `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` (base64url).
pub fn hash(password: &str) -> Result<String, ApiError> {
    let salt = random_bytes::<16>()?;
    let mut out = [0u8; HASH_LEN];
    argon(MEMORY_KIB, ITERATIONS, PARALLELISM)?
        .hash_password_into(password.as_bytes(), &salt, &mut out)
        .map_err(|_| ApiError::Internal("Argon2 failed".into()))?;
    let encode = cityauth_protocol::encoding::encode;
    Ok(format!(
        "$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={PARALLELISM}${}${}",
        encode(&salt),
        encode(&out)
    ))
}

/// True if `password` matches `stored` (a hash from [`hash`]); false for a malformed one.
pub fn verify(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [_, "argon2id", "v=19", params, salt, expected] = parts.as_slice() else {
        return false;
    };
    let mut cost = [0u32; 3];
    for (slot, item) in cost.iter_mut().zip(params.split(',')) {
        match item.split_once('=').and_then(|(_, v)| v.parse().ok()) {
            Some(value) => *slot = value,
            None => return false,
        }
    }
    let decode = cityauth_protocol::encoding::decode;
    let (Ok(salt), Ok(expected)) = (decode(salt), decode(expected)) else {
        return false;
    };
    let Ok(argon) = argon(cost[0], cost[1], cost[2]) else {
        return false;
    };
    let mut out = vec![0u8; expected.len().max(1)];
    argon
        .hash_password_into(password.as_bytes(), &salt, &mut out)
        .is_ok()
        && ct_eq(&out, &expected)
}

/// A hash of a random password, to verify against when the user is unknown (same cost).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("not a password of anyone").unwrap_or_default())
}

/// Checks the policy: 12 to 256 characters, zxcvbn score at least 3, not containing the
/// username. The error says which rule failed.
pub fn check_policy(password: &str, username: &str, display_name: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(ApiError::PasswordPolicy(format!(
            "the password must have at least {MIN_CHARS} characters"
        )));
    }
    if chars > MAX_CHARS {
        return Err(ApiError::PasswordPolicy(format!(
            "the password must have at most {MAX_CHARS} characters"
        )));
    }
    let lower = password.to_lowercase();
    let name = username.trim().to_lowercase();
    if !name.is_empty() && lower.contains(&name) {
        return Err(ApiError::PasswordPolicy(
            "the password must not contain the username".into(),
        ));
    }
    let mut words: Vec<&str> = display_name.split_whitespace().collect();
    words.push(username);
    words.push("city");
    let score = zxcvbn::zxcvbn(password, &words).score() as u8;
    if score < MIN_SCORE {
        return Err(ApiError::PasswordPolicy(
            "the password is too common or too easy to guess".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let stored = hash("correct horse battery staple").unwrap();
        assert!(verify("correct horse battery staple", &stored));
        assert!(!verify("correct horse battery stapler", &stored));
        assert!(!verify("x", "$argon2id$v=19$m=1,t=1$AA$AA"));
        assert!(!verify("x", "garbage"));
    }

    #[test]
    fn policy_rules() {
        let policy = |p: &str| check_policy(p, "alice", "Alice Example");
        assert!(policy("short").is_err());
        assert!(policy(&"Zq7!".repeat(70)).is_err());
        assert!(policy("password1234").is_err());
        assert!(policy("my-ALICE-vault-9137-kq").is_err());
        assert!(policy("Tangerine-Orbit-Lantern-42").is_ok());
    }
}

#[cfg(test)]
mod cost {
    #[test]
    fn the_longest_password_is_checked_quickly() {
        let long: String = "Tangerine-Orbit-Lantern-42-Velvet-Harbor!"
            .chars()
            .cycle()
            .take(super::MAX_CHARS)
            .collect();
        let started = std::time::Instant::now();
        let _ = super::check_policy(&long, "alice", "Alice Example");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
