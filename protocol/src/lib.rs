//! cityauth's protocol between a device and the City account server: the wire types, the
//! enrollment link, and the exact bytes each party signs. No I/O.
//!
//! `docs/protocol.md` is the normative text; `tests/vectors.rs` holds the test vectors.

pub mod canonical;
pub mod ct;
mod der;
pub mod encoding;
pub mod keys;
pub mod link;
pub mod percent;
pub mod wire;

pub use keys::{Fingerprint, KeyError, PublicKey, Signature, SigningKey};
pub use link::{EnrollmentLink, EnrollmentLinkError};
