//! The device key in use: the vault's own (software) key, or a key the host keeps in the
//! platform's key store (Android Keystore or StrongBox, the Secure Enclave) and signs with when
//! asked. The core never sees a host key's private half.

use std::sync::Arc;

use cityauth_protocol::{PublicKey, Signature, SigningKey};

use super::error::ClientError;
use crate::vault::DeviceKey;

/// A P-256 key the host keeps. Calls come from whichever thread called the device.
pub trait DeviceSigner: Send + Sync {
    /// The host's stable name for the key (e.g. the Keystore alias); stored with the enrollment.
    fn key_id(&self) -> String;
    /// The public key: the raw uncompressed point (65 bytes, `0x04 ‖ x ‖ y`) or an X.509
    /// `SubjectPublicKeyInfo` (what Java's `PublicKey.getEncoded()` returns).
    fn public_key(&self) -> Result<Vec<u8>, SignerError>;
    /// Signs `message` with ECDSA P-256 and SHA-256 (the host hashes) and returns the X9.62 DER
    /// signature: what JCA's `SHA256withECDSA` and `SecKeyCreateSignature` give. The core
    /// converts it to the protocol's fixed form and checks it against the enrolled key.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;
}

/// What a host signer reports when it cannot sign (key deleted, user authentication
/// cancelled, key store unavailable). `reason` is for people and logs, never key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SignerError {
    /// Why.
    pub reason: String,
}

/// The key that signs this device's requests, parsed or checked once per device handle.
pub(super) enum ActiveKey {
    /// The vault's own key.
    Vault(SigningKey),
    /// A host key whose public half matched the enrollment's.
    Host {
        signer: Arc<dyn DeviceSigner>,
        public: PublicKey,
    },
}

impl ActiveKey {
    /// A new enrollment's key: the host's when there is a signer, else a fresh vault key.
    /// Returns the key and what the vault stores for it.
    pub(super) fn for_enrollment(
        signer: Option<&Arc<dyn DeviceSigner>>,
    ) -> Result<(Self, DeviceKey), ClientError> {
        match signer {
            Some(signer) => {
                let public = host_public_key(signer.as_ref())?;
                let stored = DeviceKey::Host {
                    key_id: signer.key_id(),
                    public_key: public.as_bytes().to_vec(),
                };
                let key = ActiveKey::Host {
                    signer: Arc::clone(signer),
                    public,
                };
                Ok((key, stored))
            }
            None => {
                let (key, pkcs8) = SigningKey::generate()?;
                let stored = DeviceKey::Vault(zeroize::Zeroizing::new(pkcs8));
                Ok((ActiveKey::Vault(key), stored))
            }
        }
    }

    /// The key an enrollment was made with. A vault key is used as stored, whatever the
    /// signer; a host key needs the signer of that very key (same name, same public key).
    pub(super) fn for_enrolled(
        stored: &DeviceKey,
        signer: Option<&Arc<dyn DeviceSigner>>,
    ) -> Result<Self, ClientError> {
        match stored {
            DeviceKey::Vault(pkcs8) => Ok(ActiveKey::Vault(SigningKey::from_pkcs8(pkcs8)?)),
            DeviceKey::Host { key_id, public_key } => {
                let signer = signer.ok_or(ClientError::SignerNeeded)?;
                if signer.key_id() != *key_id {
                    return Err(ClientError::SignerMismatch);
                }
                let public = host_public_key(signer.as_ref())?;
                if public.as_bytes() != public_key.as_slice() {
                    return Err(ClientError::SignerMismatch);
                }
                Ok(ActiveKey::Host {
                    signer: Arc::clone(signer),
                    public,
                })
            }
        }
    }

    /// Its public key.
    pub(super) fn public_key(&self) -> PublicKey {
        match self {
            ActiveKey::Vault(key) => key.public_key(),
            ActiveKey::Host { public, .. } => *public,
        }
    }

    /// Signs `message` in the protocol's form. A host signature is converted from DER and
    /// verified before it is used: a signer that signs with another key, or returns garbage,
    /// is caught here with a clear error rather than refused by the server as a bad request.
    pub(super) fn sign(&self, message: &[u8]) -> Result<Signature, ClientError> {
        match self {
            ActiveKey::Vault(key) => Ok(key.sign(message)?),
            ActiveKey::Host { signer, public } => {
                let der = signer.sign(message).map_err(ClientError::Signer)?;
                let signature = Signature::from_der(&der).map_err(|_| {
                    ClientError::Signer(SignerError {
                        reason: "the key store's signature is not an X9.62 DER ECDSA signature"
                            .into(),
                    })
                })?;
                if !public.verify(message, &signature) {
                    return Err(ClientError::SignerMismatch);
                }
                Ok(signature)
            }
        }
    }
}

/// The host key's public half, parsed.
fn host_public_key(signer: &dyn DeviceSigner) -> Result<PublicKey, ClientError> {
    let bytes = signer.public_key().map_err(ClientError::Signer)?;
    PublicKey::from_platform(&bytes).map_err(|_| {
        ClientError::Signer(SignerError {
            reason: "the key store's public key is not a P-256 key".into(),
        })
    })
}
