//! cityauth's core for Kotlin and Swift through uniffi: a thin layer of conversions and
//! error mapping over `cityauth-core`, no behaviour of its own.
//!
//! - [`Vault`]: create, open, unlock (passphrase or a host key-wrapping slot), accounts, codes.
//! - [`Approvals`]: enrollment with a City account server, pending requests, answers.
//! - [`HostKeyWrapper`]: implemented by the host over Android Keystore or the iOS Keychain.
//! - [`HostHttpTransport`]: optionally implemented by the host over its own HTTP stack.
//! - [`HostDeviceSigner`]: optionally implemented by the host over a hardware key (Android
//!   Keystore, the Secure Enclave), which then signs for this device instead of a vault key.
//! - [`ImportPreview`]: an import read and set against the vault, shown, then committed; the
//!   vault also writes backups and unencrypted exports (`cityauth-transfer`).
//!
//! Every call blocks (SQLite, the KDF, the network); the Kotlin and Swift wrappers run them
//! off the main thread. A panic inside Rust is caught at the boundary and thrown to the host
//! as an exception (`panic = "unwind"` in every profile), never a crash. For that reason every
//! exported function and method returns `Result`, even those that cannot fail otherwise:
//! uniffi's Swift calls a non-throwing function with `try!`, which would turn a caught panic
//! into a crash of the app.

mod approvals;
mod error;
mod http;
mod key_wrapper;
mod secret;
mod signer;
mod transfer;
mod types;
mod vault;

pub use approvals::Approvals;
pub use error::{CityAuthError, KeyWrapError, error_code};
pub use http::{
    HostHttpError, HostHttpHeader, HostHttpRequest, HostHttpResponse, HostHttpTransport,
};
pub use key_wrapper::HostKeyWrapper;
pub use secret::{SecretString, SecretUtf8};
pub use signer::HostDeviceSigner;
pub use transfer::{
    ExportRefusal, GoogleExport, ImportAddition, ImportCancel, ImportDuplicate, ImportPreview,
    ImportRejection, ImportReport,
};
pub use types::{
    AccountCode, AccountInfo, Answer, Challenge, ChallengeKind, Enrolled, EnrollmentInfo,
    HashAlgorithm, KdfSettings, NewAccount, OtpKind, SlotInfo,
};
pub use vault::Vault;

uniffi::setup_scaffolding!("cityauth");

/// Panics on purpose, so that hosts can test that a Rust panic reaches them as an exception
/// (Kotlin `InternalException`, Swift a thrown error) and the process goes on. Does nothing else.
#[uniffi::export]
pub fn panic_for_testing(message: String) -> Result<(), CityAuthError> {
    panic!("panic_for_testing: {message}");
}

/// The version of the cityauth core in this library.
#[uniffi::export]
pub fn core_version() -> Result<String, CityAuthError> {
    Ok(env!("CARGO_PKG_VERSION").to_owned())
}

/// Draws the codes of `vault` at `unix_seconds` `iterations` times inside Rust and returns the
/// nanoseconds taken: the same work as `codesAt` without crossing the FFI, so that a host
/// benchmark can measure both in one run. Blocking.
#[uniffi::export]
pub fn measure_codes_in_rust(
    vault: std::sync::Arc<Vault>,
    unix_seconds: u64,
    iterations: u32,
) -> Result<u64, CityAuthError> {
    let started = std::time::Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(vault.codes_at(std::hint::black_box(unix_seconds))?);
    }
    Ok(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX))
}
