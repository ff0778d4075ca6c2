//! One module per foreign format. Each offers `looks_like(bytes)` (a cheap shape check for
//! detection) and `read(bytes, …) -> Result<Vec<Entry>, ImportError>`.

pub mod aegis;
pub mod andotp;
pub mod bitwarden;
pub mod freeotp;
pub mod google;
pub mod links;
pub mod proton;
pub mod twofas;
