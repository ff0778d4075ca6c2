//! What the fault tests share with their helper processes: a seeded random source (runs are
//! reproducible from the printed seed), the accounts the vault writer adds, and the HTTP
//! client the crash tests talk to a server with.

use std::time::Duration;

use cityauth_core::otp::{Algorithm, OtpParams};
use cityauth_core::{Account, SecretBytes};

/// The passphrase of the vaults the crash tests write.
pub const VAULT_PASSPHRASE: &str = "crash test passphrase, not a real one";

/// The environment variable that hands the writer its passphrase (never on the command line).
pub const PASSPHRASE_ENV: &str = "CITYAUTH_WRITER_PASSPHRASE";

/// SplitMix64: small, seeded, good enough to choose kill points and operations.
pub struct Rng(u64);

impl Rng {
    /// A generator that repeats for the same seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// The TOTP account the writer adds as its `n`th: a secret and labels of its own.
pub fn numbered_account(n: u64) -> Account {
    let secret = SecretBytes::new(format!("crash account secret {n:010}").into_bytes());
    let params = OtpParams::totp(Algorithm::Sha1, 6, 30).expect("valid parameters");
    Account::new(&format!("Issuer{n}"), &format!("user{n}"), secret, params).expect("valid account")
}

/// The HOTP account whose counter the writer advances.
pub fn hotp_account() -> Account {
    let secret = SecretBytes::new(b"12345678901234567890".to_vec());
    let params = OtpParams::hotp(Algorithm::Sha1, 6, 0).expect("valid parameters");
    Account::new("Shared", "counter", secret, params).expect("valid account")
}

/// An HTTP client for a server that may be killed mid-request: statuses are answers, not
/// errors, and a request gives up after 20 s rather than hang on a dead peer.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}
