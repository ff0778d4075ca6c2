//! What can go wrong talking to the City account server.

use cityauth_protocol::{EnrollmentLinkError, KeyError};

use super::signer::SignerError;
use super::transport::TransportError;
use crate::vault::VaultError;

/// A device-side failure: each case one thing a UI must handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The enrollment link is malformed (the message names the field).
    #[error("enrollment link: {0}")]
    Link(#[from] EnrollmentLinkError),
    /// The server's key is not the one the link pins: nothing was stored.
    #[error(
        "the server's key does not match the enrollment link's fingerprint; nothing was stored"
    )]
    FingerprintMismatch,
    /// The enrollment answer is not signed by the server key the link pins (missing, bad, or
    /// over another registration): nothing was stored.
    #[error(
        "the server's enrollment answer is not signed by the key the link pins; nothing was stored"
    )]
    EnrollmentNotSigned,
    /// Already enrolled; unenroll first.
    #[error("this device is already enrolled as {0}; unenroll first")]
    AlreadyEnrolled(String),
    /// Not enrolled with any server.
    #[error("this device is not enrolled with a City account")]
    NotEnrolled,
    /// No response from the server.
    #[error(transparent)]
    Network(#[from] TransportError),
    /// The server answered with a protocol error.
    #[error("the server refused: {message} ({code})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The protocol's error code (`wrong_number`, `expired`, …).
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server's answer is not what the protocol says.
    #[error("the server's answer is malformed")]
    BadResponse,
    /// A field of the server's answer is out of bounds (too long, empty, or with control
    /// characters): nothing was stored. Names the field, never its value.
    #[error("the server's answer has an out-of-bounds {0}; nothing was stored")]
    BadField(&'static str),
    /// No such pending challenge for this device.
    #[error("no pending request {0} for this device (answered, expired, or not ours)")]
    UnknownChallenge(String),
    /// The typed number does not have the length the challenge asks for.
    #[error("type the {0}-digit number shown in the browser")]
    NumberFormat(u8),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The device key is unusable.
    #[error("device key: {0}")]
    Key(#[from] KeyError),
    /// The platform key store could not sign (or gave a key or signature that is not P-256).
    #[error("the platform key store failed: {0}")]
    Signer(SignerError),
    /// This device enrolled with a key in the platform key store, and no signer was given.
    #[error("this device's key is in the platform key store: open approvals with its signer")]
    SignerNeeded,
    /// The signer given is not the key this device enrolled with (another name, another
    /// public key, or signatures that do not verify with the enrolled key).
    #[error("the platform key is not the one this device enrolled with; re-register the phone")]
    SignerMismatch,
}

impl ClientError {
    /// The protocol error code, when the server refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}
