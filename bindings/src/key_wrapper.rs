//! The key-wrapping slot the host implements: Android Keystore, iOS Keychain or Secure Enclave.
//! The host wraps the vault's 32-byte data key with a key it never lets out; the vault stores
//! only the wrapped form.

use std::sync::Arc;

use cityauth_core::{KeyWrapError as CoreKeyWrapError, KeyWrapper};
use zeroize::Zeroizing;

use crate::error::KeyWrapError;

/// Implemented in Kotlin or Swift. Calls come from whichever thread called the vault.
#[uniffi::export(foreign)]
pub trait HostKeyWrapper: Send + Sync {
    /// A stable name of the host key (e.g. the Keystore alias); stored with the slot.
    fn key_id(&self) -> String;
    /// Encrypts `key` (32 bytes) and returns the opaque wrapped form the vault stores.
    fn wrap(&self, key: Vec<u8>) -> Result<Vec<u8>, KeyWrapError>;
    /// Decrypts what `wrap` returned; throws when it does not open with the host key.
    fn unwrap(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyWrapError>;
}

/// The core's view of a host implementation.
pub struct HostAdapter(pub Arc<dyn HostKeyWrapper>);

impl KeyWrapper for HostAdapter {
    fn key_id(&self) -> String {
        self.0.key_id()
    }

    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>, CoreKeyWrapError> {
        // The copy crosses into the host, which owns (and should clear) it from there on.
        self.0.wrap(key.to_vec()).map_err(core_error)
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CoreKeyWrapError> {
        self.0
            .unwrap(wrapped.to_vec())
            .map(Zeroizing::new)
            .map_err(core_error)
    }
}

fn core_error(error: KeyWrapError) -> CoreKeyWrapError {
    let KeyWrapError::Failed { reason } = error;
    CoreKeyWrapError { reason }
}
