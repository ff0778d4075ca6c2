//! The vault mutex is never held across the host's key-wrapper callbacks (nor Argon2, which
//! runs in the same place): `lock()` and `is_unlocked()` answer while a callback is blocked.

mod common;

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use cityauth_core::{AesGcmKeyWrapper, KeyWrapError, KeyWrapper, Vault, VaultError};
use common::new_vault;
use zeroize::Zeroizing;

/// Only breaks a deadlock so that a regression fails instead of hanging; nothing is timed.
const DEADLOCK_BREAKER: Duration = Duration::from_secs(60);

/// A real AES-GCM wrapper whose callbacks stop until the test releases them.
struct BlockingWrapper {
    inner: AesGcmKeyWrapper,
    entered: Mutex<Sender<()>>,
    release: Mutex<Receiver<()>>,
    /// Set when the release came from the deadlock breaker rather than the test.
    broken_out: Mutex<bool>,
}

impl BlockingWrapper {
    fn new() -> (Arc<Self>, Receiver<()>, Sender<()>) {
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel();
        let wrapper = Arc::new(Self {
            inner: AesGcmKeyWrapper::generate("blocking").unwrap(),
            entered: Mutex::new(entered_tx),
            release: Mutex::new(release_rx),
            broken_out: Mutex::new(false),
        });
        (wrapper, entered_rx, release_tx)
    }

    fn block(&self) {
        self.entered.lock().unwrap().send(()).unwrap();
        match self.release.lock().unwrap().recv_timeout(DEADLOCK_BREAKER) {
            Ok(()) => {}
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                *self.broken_out.lock().unwrap() = true;
            }
        }
    }
}

impl KeyWrapper for BlockingWrapper {
    fn key_id(&self) -> String {
        self.inner.key_id()
    }
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        self.block();
        self.inner.wrap(key)
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyWrapError> {
        self.block();
        self.inner.unwrap(wrapped)
    }
}

/// A vault with a slot for `wrapper`, added while its wrap callback was blocked: the vault
/// answered `is_unlocked()` meanwhile.
fn vault_with_slot_of(
    wrapper: &Arc<BlockingWrapper>,
    entered: &Receiver<()>,
    release: &Sender<()>,
) -> (tempfile::TempDir, Arc<Vault>) {
    let dir = tempfile::tempdir().unwrap();
    let (_, vault) = new_vault(dir.path());
    let vault = Arc::new(vault);
    let adder = {
        let (vault, wrapper) = (Arc::clone(&vault), Arc::clone(wrapper));
        thread::spawn(move || vault.add_key_wrapper_slot(&*wrapper))
    };
    entered.recv().unwrap();
    assert!(vault.is_unlocked(), "is_unlocked() during the host's wrap");
    release.send(()).unwrap();
    adder.join().unwrap().unwrap();
    assert!(
        !*wrapper.broken_out.lock().unwrap(),
        "the vault mutex was held across wrap()"
    );
    (dir, vault)
}

#[test]
fn lock_and_is_unlocked_answer_while_the_key_wrapper_blocks_an_unlock() {
    let (wrapper, entered, release) = BlockingWrapper::new();
    let (_dir, vault) = vault_with_slot_of(&wrapper, &entered, &release);
    vault.lock();

    let unlocker = {
        let (vault, wrapper) = (Arc::clone(&vault), Arc::clone(&wrapper));
        thread::spawn(move || vault.unlock_with_key_wrapper(&*wrapper))
    };
    entered.recv().unwrap();
    // The host's unwrap is running on the other thread: both calls must return now.
    assert!(!vault.is_unlocked());
    release.send(()).unwrap();
    unlocker.join().unwrap().unwrap();
    assert!(
        !*wrapper.broken_out.lock().unwrap(),
        "the vault mutex was held across unwrap()"
    );
    assert!(vault.is_unlocked());
}

#[test]
fn a_lock_during_an_unlock_wins() {
    let (wrapper, entered, release) = BlockingWrapper::new();
    let (_dir, vault) = vault_with_slot_of(&wrapper, &entered, &release);
    vault.lock();

    let unlocker = {
        let (vault, wrapper) = (Arc::clone(&vault), Arc::clone(&wrapper));
        thread::spawn(move || vault.unlock_with_key_wrapper(&*wrapper))
    };
    entered.recv().unwrap();
    vault.lock();
    release.send(()).unwrap();
    assert_eq!(unlocker.join().unwrap(), Err(VaultError::Locked));
    assert!(
        !*wrapper.broken_out.lock().unwrap(),
        "the vault mutex was held across unwrap()"
    );
    assert!(
        !vault.is_unlocked(),
        "the user locked it; the unlock must not undo that"
    );
}
