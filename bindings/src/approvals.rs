//! The City account on this device: enrollment, pending approval requests, answers. Every
//! method blocks on the network (the pending list up to its long-poll wait): call them off
//! the UI thread. Safe to share between threads.

use std::sync::Arc;

use cityauth_core::Vault as CoreVault;
use cityauth_core::device::{Device, DeviceSigner, Transport};

use crate::error::CityAuthError;
use crate::http::{HostHttpTransport, HostTransport};
use crate::signer::{HostDeviceSigner, HostSigner};
use crate::types::{Answer, Challenge, Enrolled};
use crate::vault::Vault;

/// Approvals over an unlocked vault, talking HTTPS through the built-in client (rustls) or
/// through the host's transport, signing with the vault's key or the host's hardware key.
#[derive(uniffi::Object)]
pub struct Approvals {
    vault: Arc<CoreVault>,
    transport: Box<dyn Transport>,
    signer: Option<Arc<dyn DeviceSigner>>,
}

type Result<T> = std::result::Result<T, CityAuthError>;

#[uniffi::export]
impl Approvals {
    /// Approvals for `vault` (which must be unlocked when the methods are called) through the
    /// built-in HTTPS client; a library built without it (the mobile build) refuses with
    /// `InvalidInput` on `transport`: use `withTransport`.
    #[uniffi::constructor]
    pub fn new(vault: Arc<Vault>) -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            vault: Arc::clone(&vault.core),
            transport: built_in_transport()?,
            signer: None,
        }))
    }

    /// Approvals for `vault` that send every request through the host's HTTP stack.
    #[uniffi::constructor]
    pub fn with_transport(
        vault: Arc<Vault>,
        transport: Arc<dyn HostHttpTransport>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            vault: Arc::clone(&vault.core),
            transport: Box::new(HostTransport(transport)),
            signer: None,
        }))
    }

    /// Approvals whose device key is the host's hardware key (`signer`), through the host's
    /// HTTP stack (`transport`) or, when it is null, the built-in client. A new enrollment
    /// registers the signer's key; the vault keeps only its name and public key. An enrollment
    /// made earlier with the vault's own key keeps that key until the phone is registered
    /// again. `KeyStore` when the signer fails, or is not the key this device enrolled with.
    #[uniffi::constructor]
    pub fn with_device_signer(
        vault: Arc<Vault>,
        transport: Option<Arc<dyn HostHttpTransport>>,
        signer: Arc<dyn HostDeviceSigner>,
    ) -> Result<Arc<Self>> {
        let transport: Box<dyn Transport> = match transport {
            Some(transport) => Box::new(HostTransport(transport)),
            None => built_in_transport()?,
        };
        Ok(Arc::new(Self {
            vault: Arc::clone(&vault.core),
            transport,
            signer: Some(Arc::new(HostSigner(signer))),
        }))
    }

    /// Enrolls this device from the portal's `cityauth://enroll` link: checks the server's key
    /// against the link's fingerprint before the enrollment code is sent, registers a new device
    /// key, checks that the server signed its answer, and only then stores the enrollment and
    /// the City account's codes. `pushToken`: the FCM or APNs token, if any.
    pub fn enroll(
        &self,
        link: String,
        device_name: String,
        platform: String,
        push_token: Option<String>,
    ) -> Result<Enrolled> {
        let enrolled = self
            .device()
            .enroll(&link, &device_name, &platform, push_token)?;
        Ok(Enrolled {
            username: enrolled.username,
            display_name: enrolled.display_name,
            device_id: enrolled.device_id,
            city_account: enrolled.city_account.map(|id| id.0),
        })
    }

    /// The pending requests, each verified against the pinned server key; waits up to
    /// `waitSeconds` (at most 25) for one to arrive. Call it when a push wakes the app.
    pub fn pending(&self, wait_seconds: u64) -> Result<Vec<Challenge>> {
        Ok(self
            .device()
            .pending_challenges(wait_seconds)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Answers the pending request `challengeId` (fetched and verified again first).
    /// Approving a number-matching request needs the number shown in the browser. Returns the
    /// server's outcome ("approved", "denied", "fraud_reported"). `Expired` when it is no
    /// longer pending; `ServerRefused` with code "wrong_number" for a wrong number.
    pub fn answer(
        &self,
        challenge_id: String,
        answer: Answer,
        number: Option<String>,
    ) -> Result<String> {
        let device = self.device();
        let challenge = device.pending_challenge(&challenge_id)?;
        Ok(device.answer(&challenge, answer.into(), number.as_deref())?)
    }

    /// Removes this device from the server, then forgets the enrollment. The City account's
    /// codes stay in the vault as an ordinary account.
    pub fn unenroll(&self) -> Result<()> {
        Ok(self.device().unenroll()?)
    }
}

impl Approvals {
    /// The core's device over this vault; it parses the device key (or checks the host's)
    /// once per call.
    fn device(&self) -> Device<'_> {
        Device::with_signer(&self.vault, self.transport.as_ref(), self.signer.clone())
    }
}

/// The built-in HTTPS client (ureq over rustls).
#[cfg(feature = "rust-transport")]
fn built_in_transport() -> Result<Box<dyn Transport>> {
    Ok(Box::new(cityauth_core::device::UreqTransport::new()))
}

/// None in this build: the host's transport is required.
#[cfg(not(feature = "rust-transport"))]
fn built_in_transport() -> Result<Box<dyn Transport>> {
    Err(CityAuthError::InvalidInput {
        field: "transport".into(),
        detail: "this library was built without its own HTTPS client: \
                 pass the platform's transport (withTransport)"
            .into(),
    })
}

#[cfg(all(test, not(feature = "rust-transport")))]
mod tests {
    use super::*;

    #[test]
    fn without_the_rust_transport_the_host_transport_is_required() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.sqlite").display().to_string();
        let cheap = crate::types::KdfSettings {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        };
        let vault = Vault::create(path, "a passphrase".into(), Some(cheap)).unwrap();
        let error = Approvals::new(vault).err().expect("no built-in transport");
        assert_eq!(error.code(), "invalid_input");
        assert!(error.to_string().contains("withTransport"), "{error}");
    }
}
