//! Issue 14, "keys in hardware", through the FFI against the real server on loopback: a
//! host-held P-256 key (here a ring key outside the vault that signs in DER, as a key store
//! does) enrolls the phone and approves a password reset; the vault keeps only its name and
//! public key; a missing, different or misbehaving signer is a `KeyStore` error and never a
//! request the server sees signed wrongly.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cityauth_core::device::{HttpRequest, Transport, UreqTransport};
use cityauth_ffi::{
    Answer, Approvals, CityAuthError, HostDeviceSigner, KdfSettings, KeyWrapError, Vault,
};
use cityauth_server::{AppState, Config, RunningServer, admin};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

const CHEAP: KdfSettings = KdfSettings {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

/// X.509 `SubjectPublicKeyInfo` for P-256 up to the point (RFC 5480), as Java's
/// `PublicKey.getEncoded()` starts.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A key held by "the host": signs X9.62 DER, exports its public key as X.509 or raw.
struct HostKey {
    id: String,
    pair: EcdsaKeyPair,
    spki: bool,
    /// When set, signs with this other key instead (a key store handing back the wrong key).
    impostor: Mutex<Option<EcdsaKeyPair>>,
    fail: AtomicBool,
    signatures: AtomicUsize,
}

impl HostKey {
    fn new(id: &str, spki: bool) -> Arc<Self> {
        Arc::new(Self {
            id: id.into(),
            pair: pair(),
            spki,
            impostor: Mutex::new(None),
            fail: AtomicBool::new(false),
            signatures: AtomicUsize::new(0),
        })
    }
}

fn pair() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap()
}

impl HostDeviceSigner for HostKey {
    fn key_id(&self) -> String {
        self.id.clone()
    }

    fn public_key(&self) -> Result<Vec<u8>, KeyWrapError> {
        let point = self.pair.public_key().as_ref();
        Ok(if self.spki {
            [&SPKI_PREFIX[..], point].concat()
        } else {
            point.to_vec()
        })
    }

    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, KeyWrapError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(KeyWrapError::Failed {
                reason: "user authentication cancelled".into(),
            });
        }
        self.signatures.fetch_add(1, Ordering::SeqCst);
        let impostor = self.impostor.lock().unwrap();
        let key = impostor.as_ref().unwrap_or(&self.pair);
        Ok(key
            .sign(&SystemRandom::new(), &message)
            .unwrap()
            .as_ref()
            .to_vec())
    }
}

/// A City on loopback with "alice", and a fresh enrollment link for her.
fn city(dir: &std::path::Path) -> (RunningServer, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::open(&dir.join("city.sqlite"), Config::new(&url)).unwrap();
    let server = cityauth_server::spawn_on(listener, state).unwrap();
    admin::create_user(
        server.state(),
        "alice",
        "Alice",
        "violet-harbour-93-lantern",
    )
    .unwrap();
    let link = admin::enrollment_link(server.state(), "alice").unwrap();
    (server, link)
}

fn vault(dir: &std::path::Path) -> Arc<Vault> {
    let path = dir.join("phone.sqlite").to_string_lossy().into_owned();
    Vault::create(path, "a phone passphrase".into(), Some(CHEAP)).unwrap()
}

/// Starts a reset as the browser does; its id and the number it shows.
fn start_reset(server: &RunningServer) -> (String, String) {
    let url = format!("http://{}/api/v1/reset/start", server.addr());
    let response = UreqTransport::new()
        .send(&HttpRequest {
            method: "POST".into(),
            url,
            headers: Vec::new(),
            body: br#"{"username":"alice"}"#.to_vec(),
        })
        .unwrap();
    assert_eq!(response.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    (
        body["reset_id"].as_str().unwrap().to_owned(),
        body["number"].as_str().unwrap().to_owned(),
    )
}

fn reset_state(server: &RunningServer, id: &str) -> String {
    let url = format!("http://{}/api/v1/reset/{id}", server.addr());
    let response = UreqTransport::new()
        .send(&HttpRequest {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: Vec::new(),
        })
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    body["state"].as_str().unwrap().to_owned()
}

#[test]
fn a_host_key_enrolls_and_approves_a_reset_and_the_vault_keeps_no_private_key() {
    for spki in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let (server, link) = city(dir.path());
        let vault = vault(dir.path());
        let key = HostKey::new("cityauth-device", spki);
        let approvals =
            Approvals::with_device_signer(Arc::clone(&vault), None, key.clone()).unwrap();
        approvals
            .enroll(link, "phone".into(), "android".into(), None)
            .unwrap();
        assert!(vault.enrollment().unwrap().unwrap().platform_key);
        assert!(key.signatures.load(Ordering::SeqCst) >= 1, "the proof");
        // The file, opened by the core: the host key's name and public point, nothing else.
        let core = cityauth_core::Vault::open(&dir.path().join("phone.sqlite")).unwrap();
        core.unlock_with_passphrase("a phone passphrase").unwrap();
        let stored = core.enrollment().unwrap().unwrap().device_key;
        assert_eq!(
            stored,
            cityauth_core::DeviceKey::Host {
                key_id: "cityauth-device".into(),
                public_key: key.pair.public_key().as_ref().to_vec(),
            }
        );
        drop(core);

        let (reset, number) = start_reset(&server);
        let pending = approvals.pending(5).unwrap();
        let challenge = pending.iter().find(|c| c.number_digits > 0).unwrap();
        let outcome = approvals
            .answer(challenge.id.clone(), Answer::Approve, Some(number))
            .unwrap();
        assert_eq!(outcome, "approved");
        assert_eq!(reset_state(&server, &reset), "verified");

        // The server registered the host's key: its devices list names this phone.
        assert_eq!(admin::devices(server.state(), "alice").unwrap().len(), 1);
    }
}

#[test]
fn without_its_signer_or_with_another_key_a_host_key_enrollment_is_a_key_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let (server, link) = city(dir.path());
    let vault = vault(dir.path());
    let key = HostKey::new("cityauth-device", true);
    Approvals::with_device_signer(Arc::clone(&vault), None, key.clone())
        .unwrap()
        .enroll(link, "phone".into(), "android".into(), None)
        .unwrap();
    start_reset(&server);

    let no_signer = Approvals::new(Arc::clone(&vault)).unwrap();
    let error = no_signer.pending(0).unwrap_err();
    assert!(matches!(error, CityAuthError::KeyStore { .. }), "{error:?}");
    assert!(error.to_string().contains("its signer"), "{error}");

    // Same name, another key (the Keystore entry was replaced): refused before any request.
    let replaced = HostKey::new("cityauth-device", true);
    let error = Approvals::with_device_signer(Arc::clone(&vault), None, replaced.clone())
        .unwrap()
        .pending(0)
        .unwrap_err();
    assert!(matches!(error, CityAuthError::KeyStore { .. }), "{error:?}");
    assert_eq!(replaced.signatures.load(Ordering::SeqCst), 0);

    // The right public key, but signatures by another key: caught before it is sent.
    *key.impostor.lock().unwrap() = Some(pair());
    let error = Approvals::with_device_signer(Arc::clone(&vault), None, key.clone())
        .unwrap()
        .pending(0)
        .unwrap_err();
    assert!(matches!(error, CityAuthError::KeyStore { .. }), "{error:?}");
    assert!(error.to_string().contains("not the one"), "{error}");
    *key.impostor.lock().unwrap() = None;

    // A signer that fails says why, and the right signer still works afterwards.
    key.fail.store(true, Ordering::SeqCst);
    let approvals = Approvals::with_device_signer(Arc::clone(&vault), None, key.clone()).unwrap();
    let error = approvals.pending(0).unwrap_err();
    assert!(
        error.to_string().contains("user authentication cancelled"),
        "{error}"
    );
    key.fail.store(false, Ordering::SeqCst);
    assert_eq!(approvals.pending(5).unwrap().len(), 1);
}

#[test]
fn a_signer_that_fails_during_enrollment_leaves_the_phone_unenrolled() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, link) = city(dir.path());
    let vault = vault(dir.path());
    let key = HostKey::new("cityauth-device", false);
    key.fail.store(true, Ordering::SeqCst);
    let approvals = Approvals::with_device_signer(Arc::clone(&vault), None, key.clone()).unwrap();
    let error = approvals
        .enroll(link.clone(), "phone".into(), "android".into(), None)
        .unwrap_err();
    assert!(matches!(error, CityAuthError::KeyStore { .. }), "{error:?}");
    assert_eq!(vault.enrollment().unwrap(), None);
    // The code was not spent: the same link enrolls once the key store answers.
    key.fail.store(false, Ordering::SeqCst);
    approvals
        .enroll(link, "phone".into(), "android".into(), None)
        .unwrap();
    assert!(vault.enrollment().unwrap().unwrap().platform_key);
}
