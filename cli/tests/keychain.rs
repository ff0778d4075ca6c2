//! Issue 14, item 3: the OS-keychain unlock slot against the real kernel keyring (keyutils:
//! the keyctl syscall works here), inspected from outside with the real `keyctl` tool
//! (apt-get install keyutils): it holds a random key, not the passphrase; losing it costs a
//! prompt; `passwd` keeps it; `disable` removes slot and key.
//!
//! The test first gives itself a session keyring, which its children inherit, as a login
//! session has from pam_keyinit: the kernel refuses the keyring crate's searches by keyring
//! id from a process that has none (this container's default).

#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::process::Command;

use cityauth_core::Vault;
use common::{PASSPHRASE, Run, vault_dir};

/// Joins a new anonymous session keyring; the processes this thread starts inherit it.
fn join_new_session_keyring() {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) takes no memory from us (a null
    // name means an anonymous keyring) and changes only this thread's keyrings.
    #[allow(unsafe_code)]
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    assert!(id > 0, "keyctl join: {}", std::io::Error::last_os_error());
}

/// Runs cityauth with `args`, with `passphrase` (if any) in the environment.
fn cityauth(vault: &Path, passphrase: Option<&str>, args: &[&str]) -> Run {
    let mut command = common::command(args);
    command.env("CITYAUTH_VAULT", vault);
    if let Some(passphrase) = passphrase {
        command.env("CITYAUTH_PASSPHRASE", passphrase);
    }
    common::output(command)
}

/// The description the keyring crate gives `vault`'s key: its user and service.
fn description_of(vault: &Path) -> String {
    let path = std::fs::canonicalize(vault).unwrap();
    format!("keyring-rs:{}@cityauth", path.display())
}

/// The real `keyctl`: its stdout, or `None` when it fails.
fn keyctl(args: &[&str], input: Option<&[u8]>) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut child = Command::new("keyctl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("keyctl is installed (apt-get install keyutils)");
    let mut stdin = child.stdin.take().unwrap();
    if let Some(input) = input {
        stdin.write_all(input).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    out.status.success().then_some(out.stdout)
}

/// The kernel key the keyring crate made for `vault`, found by its description.
fn key_id(vault: &Path) -> Option<String> {
    let description = description_of(vault);
    keyctl(&["search", "@s", "user", &description], None)
        .map(|out| String::from_utf8(out).unwrap().trim().to_owned())
}

fn slot_count(vault: &Path) -> usize {
    Vault::open(vault).unwrap().slots().unwrap().len()
}

#[test]
fn the_keychain_unlocks_until_disabled_and_losing_its_key_costs_only_a_prompt() {
    join_new_session_keyring();
    let (_dir, vault) = vault_dir();
    let with = |passphrase: &str, args: &[&str]| cityauth(&vault, Some(passphrase), args);
    let bare = |args: &[&str]| cityauth(&vault, None, args);
    with(PASSPHRASE, &["init"]).assert_ok();
    with(
        PASSPHRASE,
        &[
            "add",
            "--issuer",
            "Ex",
            "--name",
            "me",
            "--secret",
            "JBSWY3DPEHPK3PXP",
        ],
    )
    .assert_ok();
    bare(&["list"]).assert_error("passphrase_required", 3, "no passphrase");
    let status = bare(&["keychain", "status"]);
    assert!(
        status.assert_ok().stdout.contains("not enabled"),
        "{}",
        status.stdout
    );
    // Enabling proves the passphrase; the keychain cannot vouch for itself.
    bare(&["keychain", "enable"]).assert_error("passphrase_required", 3, "");
    with("not it at all", &["keychain", "enable"]).assert_error("wrong_passphrase", 3, "");
    assert_eq!(key_id(&vault), None, "nothing stored on a wrong passphrase");
    assert_eq!(slot_count(&vault), 1);
    let enabled = with(PASSPHRASE, &["keychain", "enable"]);
    assert!(
        enabled.assert_ok().stdout.contains("now unlocks"),
        "{}",
        enabled.stdout
    );
    assert_eq!(slot_count(&vault), 2);

    // From outside: a 32-byte random key, not the passphrase.
    let id = key_id(&vault).expect("the key is in the kernel keyring");
    let stored = keyctl(&["pipe", &id], None).unwrap();
    assert_eq!(stored.len(), 32);
    assert!(
        !stored
            .windows(6)
            .any(|w| PASSPHRASE.as_bytes().windows(6).any(|p| p == w))
    );

    let listed = bare(&["list", "--json"]);
    assert_eq!(listed.assert_ok().json().len(), 1);
    assert!(listed.stderr.is_empty(), "{}", listed.stderr);
    let status = bare(&["keychain", "status"]);
    assert!(
        status
            .assert_ok()
            .stdout
            .contains("enabled: the OS keychain"),
        "{}",
        status.stdout
    );
    // A passphrase given still comes first: a wrong one is not rescued by the keychain.
    with("not it at all", &["list"]).assert_error("wrong_passphrase", 3, "");

    // passwd needs the current passphrase, rotates the data key, and keeps the keychain.
    bare(&["passwd"]).assert_error("passphrase_required", 3, "");
    let new = "another correct horse battery";
    let mut passwd = common::command(&["passwd"]);
    passwd
        .env("CITYAUTH_VAULT", &vault)
        .env("CITYAUTH_PASSPHRASE", PASSPHRASE)
        .env("CITYAUTH_NEW_PASSPHRASE", new);
    common::output(passwd).assert_ok();
    bare(&["list"]).assert_ok();
    with(PASSPHRASE, &["list"]).assert_error("wrong_passphrase", 3, "");
    assert_eq!(slot_count(&vault), 2);

    // Another key under the vault's name: refused, and the passphrase used instead.
    keyctl(
        &["padd", "user", &description_of(&vault), "@s"],
        Some(&[7u8; 32]),
    )
    .expect("keyctl padd");
    let wrong = bare(&["list"]);
    assert_eq!(wrong.code, 3, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("does not open this vault"),
        "{}",
        wrong.stderr
    );
    with(new, &["list"]).assert_ok();

    // The key gone (as after a reboot): a prompt, never a lost vault; enable renews it.
    let id = key_id(&vault).unwrap();
    keyctl(&["invalidate", &id], None).expect("keyctl invalidate");
    let gone = bare(&["list"]);
    assert_eq!(gone.code, 3, "{}", gone.stderr);
    assert!(gone.stderr.contains("no longer holds"), "{}", gone.stderr);
    let status = bare(&["keychain", "status"]);
    assert!(
        status.assert_ok().stdout.contains("no longer holds"),
        "{}",
        status.stdout
    );
    with(new, &["keychain", "enable"]).assert_ok();
    assert_eq!(slot_count(&vault), 2, "the stale slot is replaced");
    bare(&["list"]).assert_ok();

    // disable: slot and key gone; the passphrase is asked again.
    let disabled = bare(&["keychain", "disable"]);
    assert!(
        disabled.assert_ok().stdout.contains("no longer unlocks"),
        "{}",
        disabled.stdout
    );
    assert_eq!(slot_count(&vault), 1);
    assert_eq!(key_id(&vault), None);
    bare(&["list"]).assert_error("passphrase_required", 3, "no passphrase");
    let again = bare(&["keychain", "disable"]);
    assert!(
        again.assert_ok().stdout.contains("was not set"),
        "{}",
        again.stdout
    );
}
