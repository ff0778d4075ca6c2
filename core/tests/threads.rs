//! One vault shared by many threads, and two vault handles on one file in one process.

mod common;

use std::sync::Arc;
use std::thread;

use cityauth_core::otp::{self, Algorithm, OtpParams};
use cityauth_core::{AccountId, SecretBytes, Vault};
use common::{PASSPHRASE, RFC_SECRET, account, new_vault, numbered};

const TIME: u64 = 2_000_000_000;

fn expected_hotp_codes(count: u64) -> Vec<String> {
    let secret = SecretBytes::from_base32(RFC_SECRET).unwrap();
    let params = OtpParams::hotp(Algorithm::Sha1, 6, 0).unwrap();
    let mut codes: Vec<String> = (0..count)
        .map(|c| otp::code_at_counter(&secret, &params, c).to_string())
        .collect();
    codes.sort();
    codes
}

fn add_hotp(vault: &Vault) -> AccountId {
    vault
        .add(account(&format!(
            "otpauth://hotp/Shared:counter?secret={RFC_SECRET}&counter=0"
        )))
        .unwrap()
}

#[test]
fn many_threads_read_add_and_draw_codes_on_one_vault() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, vault) = new_vault(dir.path());
    let vault = Arc::new(vault);
    let hotp = add_hotp(&vault);
    for n in 0..20 {
        vault.add(numbered(n)).unwrap();
    }
    let baseline = vault.codes(TIME).unwrap();

    let mut handles = Vec::new();
    for reader in 0..4 {
        let vault = Arc::clone(&vault);
        let baseline = baseline.clone();
        handles.push(thread::spawn(move || {
            for _ in 0..300 {
                let codes = vault.codes(TIME).unwrap();
                // Accounts added meanwhile come after the first twenty, which never change.
                assert_eq!(codes[..baseline.len()], baseline[..], "reader {reader}");
            }
            Vec::new()
        }));
    }
    for writer in 0..2u32 {
        let vault = Arc::clone(&vault);
        handles.push(thread::spawn(move || {
            for n in 0..50 {
                vault.add(numbered(1000 + writer * 100 + n)).unwrap();
            }
            Vec::new()
        }));
    }
    for _ in 0..2 {
        let vault = Arc::clone(&vault);
        handles.push(thread::spawn(move || {
            (0..100)
                .map(|_| vault.next_hotp(hotp).unwrap().to_string())
                .collect::<Vec<_>>()
        }));
    }
    let mut drawn: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    drawn.sort();
    assert_eq!(drawn, expected_hotp_codes(200));
    let accounts = vault.accounts().unwrap();
    assert_eq!(accounts.len(), 1 + 20 + 100);
    assert_eq!(accounts[0].params.counter(), 200);
    assert!(vault.integrity_problems().unwrap().is_empty());
}

#[test]
fn two_handles_on_one_file_see_each_others_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, first) = new_vault(dir.path());
    let hotp = add_hotp(&first);
    let second = Vault::open(&path).unwrap();
    second.unlock_with_passphrase(PASSPHRASE).unwrap();
    let (first, second) = (Arc::new(first), Arc::new(second));

    let handles: Vec<_> = [Arc::clone(&first), Arc::clone(&second)]
        .into_iter()
        .enumerate()
        .map(|(which, vault)| {
            thread::spawn(move || {
                let mut codes = Vec::new();
                for n in 0..40u32 {
                    codes.push(vault.next_hotp(hotp).unwrap().to_string());
                    vault.add(numbered(which as u32 * 100 + n)).unwrap();
                }
                codes
            })
        })
        .collect();
    let mut drawn: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    drawn.sort();
    assert_eq!(drawn, expected_hotp_codes(80));
    // Each handle lists every account, whichever handle added it, in the same order.
    let listed_first = first.accounts().unwrap();
    assert_eq!(listed_first.len(), 81);
    assert_eq!(listed_first, second.accounts().unwrap());
    // A rename through one handle shows through the other.
    let id = listed_first[5].id;
    first.rename(id, "Renamed", "elsewhere").unwrap();
    let seen = second.account(id).unwrap();
    assert_eq!((seen.issuer(), seen.name()), ("Renamed", "elsewhere"));
}
