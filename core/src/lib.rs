//! cityauth's core: one-time codes, otpauth links and the encrypted vault.
//!
//! No UI and no FFI live here; the CLI and the uniffi bindings are thin layers over this crate.

pub mod account;
pub mod device;
pub mod envelope;
pub mod otp;
pub mod otpauth;
pub mod secret;
pub mod vault;

/// The one strict percent codec of every link (otpauth, enrollment, Google migration).
pub use cityauth_protocol::percent;

pub use account::{Account, AccountError};
#[cfg(feature = "rust-transport")]
pub use device::UreqTransport;
pub use device::{ClientError, Device, Transport};
pub use otp::{
    Algorithm, Code, OtpKind, OtpParams, ParamError, ParamSpec, PreparedKey, TimeStep, TimedCode,
};
pub use otpauth::LinkError;
pub use secret::SecretBytes;
pub use vault::{
    AccountCode, AccountId, AccountInfo, AesGcmKeyWrapper, CityClock, Damage, DamagedAccount,
    DeviceKey, Enrollment, IntegrityError, KdfParams, KeyWrapError, KeyWrapper, SlotInfo, Vault,
    VaultError, WeakPassphrase,
};
