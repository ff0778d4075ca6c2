//! The device signer the host implements over a hardware key: Android Keystore or StrongBox,
//! or the Secure Enclave. The host creates a P-256 key that never leaves the key store, hands
//! the core its public key, and signs the protocol's bytes when asked.

use std::sync::Arc;

use cityauth_core::device::{DeviceSigner, SignerError};

use crate::error::KeyWrapError;

/// Implemented in Kotlin or Swift. Calls come from whichever thread called `Approvals`, and
/// may block (a key store that asks for the user's authentication blocks until answered).
#[uniffi::export(foreign)]
pub trait HostDeviceSigner: Send + Sync {
    /// A stable name of the key (e.g. the Keystore alias); stored with the enrollment.
    fn key_id(&self) -> String;
    /// The public key: the 65-byte uncompressed point (iOS `SecKeyCopyExternalRepresentation`)
    /// or the X.509 `SubjectPublicKeyInfo` (Java's `PublicKey.encoded`).
    fn public_key(&self) -> Result<Vec<u8>, KeyWrapError>;
    /// Signs `message` with ECDSA P-256 over SHA-256 (`SHA256withECDSA`,
    /// `ecdsaSignatureMessageX962SHA256`) and returns the DER signature as the key store
    /// gives it; the core converts it and checks it against the enrolled key.
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, KeyWrapError>;
}

/// The core's view of a host signer.
pub struct HostSigner(pub Arc<dyn HostDeviceSigner>);

impl DeviceSigner for HostSigner {
    fn key_id(&self) -> String {
        self.0.key_id()
    }

    fn public_key(&self) -> Result<Vec<u8>, SignerError> {
        self.0.public_key().map_err(signer_error)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.0.sign(message.to_vec()).map_err(signer_error)
    }
}

fn signer_error(error: KeyWrapError) -> SignerError {
    let KeyWrapError::Failed { reason } = error;
    SignerError { reason }
}
