//! The OS-keychain unlock slot: `cityauth keychain enable|disable|status`, and the unlock
//! that tries it before asking for the passphrase.
//!
//! The keychain never holds the passphrase. `enable` draws a random 256-bit key, keeps it
//! in the OS keychain (service `cityauth`, the vault's absolute path as the user), and adds
//! to the vault a key-wrapping slot (the core's AES-256-GCM [`AesGcmKeyWrapper`], named
//! [`KEY_ID`]) that wraps the data key under it. The passphrase slot stays, so losing the
//! keychain's key (Linux's kernel keyring forgets it at reboot) costs a prompt, never the
//! vault; `disable` removes the slot and the key.

use std::path::{Path, PathBuf};

use cityauth_core::{AesGcmKeyWrapper, KeyWrapper, Vault, VaultError};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{CliError, Code, print, warn};

/// The service name under which the OS keychain keeps the vaults' keys.
pub const SERVICE: &str = "cityauth";
/// The vault slot's key name: the one key-wrapping slot the CLI owns.
pub const KEY_ID: &str = "cityauth-os-keychain";
/// The keychain key's length: an AES-256 key.
const KEY_LEN: usize = 32;

/// `keychain enable`: a fresh random key in the keychain and a slot for it in the vault;
/// `unlock` proves the passphrase first (the keychain cannot vouch for itself here).
pub fn enable(
    path: &Path,
    unlock_with_passphrase: impl FnOnce(&Vault) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let (vault, user) = open(path)?;
    let store = OsKeychain::new()?;
    let old = keychain_slots(&vault)?;
    unlock_with_passphrase(&vault)?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    SystemRandom::new()
        .fill(&mut key[..])
        .map_err(|_| CliError::new(Code::Storage, "the random number generator failed"))?;
    let wrapper = AesGcmKeyWrapper::new(KEY_ID, &key[..]).map_err(VaultError::KeyWrap)?;
    // The keychain first, and read back: if it refuses, the vault is unchanged.
    store.set(&user, &key[..])?;
    if store.get(&user)?.as_deref().map(Vec::as_slice) != Some(&key[..]) {
        let _ = store.delete(&user);
        return Err(CliError::new(
            Code::KeyStore,
            "the OS keychain took the key but does not give it back; nothing changed",
        ));
    }
    if let Err(error) = vault.add_key_wrapper_slot(&wrapper) {
        let _ = store.delete(&user);
        return Err(error.into());
    }
    // Slots for a key the keychain no longer holds (a renewal) open nothing: drop them.
    for slot in old {
        vault.remove_slot(slot)?;
    }
    print(&format!(
        "The OS keychain ({}) now unlocks {}: commands no longer ask for the passphrase.\n\
         It holds a random key for this vault, not the passphrase{}. \
         `cityauth keychain disable` undoes it.\n",
        store.name(),
        path.display(),
        store.lifetime_note()
    ))
}

/// `keychain disable`: removes the vault's keychain slot (unlocking as any command does,
/// the keychain included) and the keychain's key, whichever of the two is there.
pub fn disable(
    path: &Path,
    unlock: impl FnOnce(&Vault) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let (vault, user) = open(path)?;
    let store = OsKeychain::new()?;
    let slots = keychain_slots(&vault)?;
    if !slots.is_empty() {
        unlock(&vault)?;
        for slot in slots.iter().copied() {
            vault.remove_slot(slot)?;
        }
    }
    let deleted = store.delete(&user)?;
    if slots.is_empty() && !deleted {
        return print("The OS keychain was not set to unlock this vault; nothing changed.\n");
    }
    print(&format!(
        "The OS keychain no longer unlocks {}; its key is deleted. The passphrase is asked again.\n",
        path.display()
    ))
}

/// `keychain status`: whether the vault has the slot, the keychain the key, and whether
/// the key opens the vault (checked; AES only, no Argon2id). Never asks anything.
pub fn status(path: &Path) -> Result<(), CliError> {
    let (vault, user) = open(path)?;
    let store = OsKeychain::new()?;
    let has_slot = !keychain_slots(&vault)?.is_empty();
    let key = store.get(&user)?;
    let text = match (has_slot, key) {
        (false, None) => {
            "not enabled: the passphrase is asked (`cityauth keychain enable`)".to_owned()
        }
        (false, Some(_)) => "not enabled, but the keychain still holds a key for this path: \
             `cityauth keychain disable` deletes it"
            .to_owned(),
        (true, None) => format!(
            "enabled, but the OS keychain no longer holds this vault's key{}: the passphrase \
             is asked; `cityauth keychain enable` renews it",
            store.lifetime_note()
        ),
        (true, Some(key)) => match unlock_with_key(&vault, &key) {
            Ok(()) => format!(
                "enabled: the OS keychain ({}) unlocks this vault",
                store.name()
            ),
            Err(_) => "enabled, but the keychain's key does not open this vault: \
                       `cityauth keychain enable` renews it"
                .to_owned(),
        },
    };
    print(&format!("{}: {text}\n", path.display()))
}

/// Unlocks through the keychain if the vault has its slot; false (after saying why on
/// stderr when there was a slot) when the passphrase must be used instead.
pub fn try_unlock(vault: &Vault, path: &Path) -> Result<bool, CliError> {
    if keychain_slots(vault)?.is_empty() {
        return Ok(false);
    }
    let attempt = OsKeychain::new()
        .and_then(|store| Ok((store.get(&user_of(path)?)?, store)))
        .and_then(|(key, store)| match key {
            None => Err(CliError::new(
                Code::KeyStore,
                format!(
                    "the OS keychain no longer holds this vault's key{}; \
                     `cityauth keychain enable` renews it",
                    store.lifetime_note()
                ),
            )),
            Some(key) => unlock_with_key(vault, &key).map_err(|error| match error {
                // A tampered vault is not a keychain problem: it must not pass as one.
                VaultError::Integrity(_) | VaultError::Busy | VaultError::Storage(_) => {
                    error.into()
                }
                _ => CliError::new(
                    Code::KeyStore,
                    "the OS keychain's key does not open this vault; `cityauth keychain \
                     enable` renews it",
                ),
            }),
        });
    match attempt {
        Ok(()) => Ok(true),
        Err(error) if error.code() == Code::KeyStore => {
            if let CliError::Message { message, .. } = &error {
                warn(&format!("{message}; using the passphrase instead"));
            }
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

/// The wrapper of the vault's keychain slot, when the keychain holds its key: what
/// `passwd` re-wraps so that the keychain keeps working after the data key rotates.
pub fn wrapper_to_keep(vault: &Vault, path: &Path) -> Result<Option<AesGcmKeyWrapper>, CliError> {
    if keychain_slots(vault)?.is_empty() {
        return Ok(None);
    }
    let Some(key) = OsKeychain::new()?.get(&user_of(path)?)? else {
        return Ok(None);
    };
    Ok(Some(
        AesGcmKeyWrapper::new(KEY_ID, &key[..]).map_err(VaultError::KeyWrap)?,
    ))
}

/// True when the vault has a keychain slot.
pub fn enabled(vault: &Vault) -> Result<bool, CliError> {
    Ok(!keychain_slots(vault)?.is_empty())
}

fn unlock_with_key(vault: &Vault, key: &[u8]) -> Result<(), VaultError> {
    let wrapper = AesGcmKeyWrapper::new(KEY_ID, key).map_err(VaultError::KeyWrap)?;
    vault.unlock_with_key_wrapper(&wrapper as &dyn KeyWrapper)
}

/// The ids of the vault's keychain slots (normally none or one).
fn keychain_slots(vault: &Vault) -> Result<Vec<i64>, CliError> {
    Ok(vault
        .slots()?
        .into_iter()
        .filter(|slot| slot.key_id.as_deref() == Some(KEY_ID))
        .map(|slot| slot.id)
        .collect())
}

/// Opens the vault (a missing one is reported as every command reports it) and names its
/// keychain entry.
fn open(path: &Path) -> Result<(Vault, String), CliError> {
    let vault = crate::commands::open(path)?;
    Ok((vault, user_of(path)?))
}

/// The keychain's user for a vault: its absolute path, so that one entry belongs to one file
/// however the path was spelled (a moved vault asks for its passphrase again).
fn user_of(path: &Path) -> Result<String, CliError> {
    let absolute: PathBuf = std::fs::canonicalize(path).map_err(|error| {
        CliError::new(
            Code::Io,
            format!("cannot resolve {}: {error}", path.display()),
        )
    })?;
    absolute
        .into_os_string()
        .into_string()
        .map_err(|_| CliError::usage("the vault's path is not valid UTF-8; the keychain needs one"))
}

/// The platform's keychain, through the `keyring` crate.
struct OsKeychain;

#[cfg(target_os = "linux")]
impl OsKeychain {
    fn new() -> Result<Self, CliError> {
        Ok(Self)
    }

    fn name(&self) -> &'static str {
        "the kernel keyring, keyutils"
    }

    fn lifetime_note(&self) -> &'static str {
        " (the kernel keyring forgets it at reboot)"
    }

    fn entry(user: &str) -> Result<keyring::Entry, CliError> {
        keyring::Entry::new(SERVICE, user).map_err(store_error)
    }

    fn get(&self, user: &str) -> Result<Option<Zeroizing<Vec<u8>>>, CliError> {
        match Self::entry(user)?.get_secret() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(store_error(error)),
        }
    }

    fn set(&self, user: &str, secret: &[u8]) -> Result<(), CliError> {
        Self::entry(user)?.set_secret(secret).map_err(store_error)
    }

    /// True if there was a key to delete.
    fn delete(&self, user: &str) -> Result<bool, CliError> {
        match Self::entry(user)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(error) => Err(store_error(error)),
        }
    }
}

/// The keychain's failures, as `key_store` errors. Its messages name no secret.
#[cfg(target_os = "linux")]
fn store_error(error: keyring::Error) -> CliError {
    CliError::new(
        Code::KeyStore,
        format!(
            "the OS keychain failed: {error} (the kernel keyring needs the login session's \
             keyring, which pam_keyinit or `keyctl session` provides)"
        ),
    )
}

#[cfg(not(target_os = "linux"))]
impl OsKeychain {
    fn new() -> Result<Self, CliError> {
        Err(CliError::new(
            Code::KeyStore,
            "the OS keychain is supported on Linux only so far; the passphrase is used",
        ))
    }

    fn name(&self) -> &'static str {
        "none"
    }

    fn lifetime_note(&self) -> &'static str {
        ""
    }

    fn get(&self, _user: &str) -> Result<Option<Zeroizing<Vec<u8>>>, CliError> {
        Ok(None)
    }

    fn set(&self, _user: &str, _secret: &[u8]) -> Result<(), CliError> {
        Self::new().map(|_| ())
    }

    fn delete(&self, _user: &str) -> Result<bool, CliError> {
        Ok(false)
    }
}
