//! One module per foreign format. Each offers `looks_like(bytes)` (a cheap shape check for
//! detection) and `read(bytes, …) -> Result<Vec<Entry>, ImportError>`.

pub mod aegis;
pub mod andotp;
pub mod bitwarden;
pub mod freeotp;
pub mod google;
pub mod limits;
pub mod links;
pub mod proton;
pub mod twofas;

mod assemble;
mod crypto;
mod csv;
mod encoding;
mod json;

pub use crypto::{
    MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_LOG_N, MAX_SCRYPT_MEMORY, MAX_SCRYPT_R_TIMES_P,
    MAX_SCRYPT_WORK,
};
