//! Issue 10, items 3 and 11: the sealed enrollment on real vault files. A damaged enrollment
//! stops no code, an out-of-bounds field is refused before anything is stored, and the
//! clock offset is updated in one transaction that cannot bring a forgotten enrollment back.

mod common;

use std::path::Path;

use cityauth_core::device::MAX_CLOCK_OFFSET;
use cityauth_core::{AccountId, Enrollment, IntegrityError, Vault, VaultError};
use common::{PASSPHRASE, RFC_SECRET, account, enrollment, new_vault};
use rusqlite::Connection;

/// A vault with one ordinary account and an enrollment whose City account has its codes.
fn enrolled_vault(dir: &Path) -> (std::path::PathBuf, Vault, AccountId, AccountId) {
    let (path, vault) = new_vault(dir);
    let other = vault
        .add(account(&format!(
            "otpauth://totp/Other:me?secret={RFC_SECRET}"
        )))
        .unwrap();
    let city = account("otpauth://totp/City:alice?secret=JBSWY3DPEHPK3PXP&issuer=City");
    let city = vault
        .save_enrollment(enrollment(0), Some(city))
        .unwrap()
        .unwrap();
    (path, vault, other, city)
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

#[test]
fn a_damaged_enrollment_stops_no_code() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault, other, city) = enrolled_vault(dir.path());
    vault.set_clock_offset(120).unwrap();
    drop(vault);
    // One bit of the sealed enrollment flipped behind the vault's back.
    let conn = raw(&path);
    let mut sealed: Vec<u8> = conn
        .query_row("SELECT sealed FROM enrollment", [], |row| row.get(0))
        .unwrap();
    sealed[20] ^= 1;
    conn.execute("UPDATE enrollment SET sealed = ?1", [&sealed])
        .unwrap();
    drop(conn);
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    let t = 1_800_000_000;
    let codes = vault.codes_now(t).unwrap();
    let ids: Vec<AccountId> = codes.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![other, city], "every account still has its code");
    // The offset of a damaged enrollment is not applied: the City account at the device time.
    assert_eq!(codes, vault.codes(t).unwrap());
    assert_eq!(
        vault.code_now(city, t).unwrap(),
        vault.code(city, t).unwrap()
    );
    assert_eq!(vault.city_clock().unwrap(), Default::default());
    // The damage is reported, not hidden...
    assert_eq!(
        vault.integrity_problems().unwrap(),
        vec![IntegrityError::Enrollment]
    );
    // ...and forgetting it, locally, clears it.
    vault.forget_enrollment().unwrap();
    assert!(vault.integrity_problems().unwrap().is_empty());
    assert_eq!(vault.enrollment().unwrap(), None);
    assert_eq!(vault.codes_now(t).unwrap().len(), 2);
}

#[test]
fn an_out_of_bounds_enrollment_field_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (_, vault) = new_vault(dir.path());
    let city = account("otpauth://totp/City:alice?secret=JBSWY3DPEHPK3PXP&issuer=City");
    type Damage = fn(&mut Enrollment);
    let cases: [(&str, Damage); 6] = [
        ("display_name", |e| e.display_name = "x".repeat(70_000)),
        ("username", |e| e.username = "u".repeat(513)),
        ("username", |e| e.username = "alice\nbob".into()),
        ("device_id", |e| e.device_id = String::new()),
        ("server_url", |e| e.server_url = "h".repeat(2049)),
        ("server_public_key", |e| e.server_public_key = vec![4; 66]),
    ];
    for (field, damage) in cases {
        let mut bad = enrollment(0);
        damage(&mut bad);
        assert_eq!(
            vault.save_enrollment(bad, Some(city.clone())),
            Err(VaultError::InvalidEnrollment(field))
        );
        assert_eq!(vault.enrollment().unwrap(), None, "{field}: nothing stored");
        assert!(vault.accounts().unwrap().is_empty(), "{field}: no account");
    }
    // The limits themselves are accepted.
    let mut longest = enrollment(0);
    longest.display_name = "x".repeat(512);
    vault.save_enrollment(longest.clone(), None).unwrap();
    assert_eq!(vault.enrollment().unwrap(), Some(longest));
    assert_eq!(vault.codes_now(1_800_000_000).unwrap(), vec![]);
}

#[test]
fn set_clock_offset_cannot_resurrect_a_forgotten_enrollment() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault, _, _) = enrolled_vault(dir.path());
    // Another process forgets the enrollment in a transaction that is still open while
    // this handle updates the offset.
    let mut other = raw(&path);
    let tx = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    tx.execute("DELETE FROM enrollment", []).unwrap();
    std::thread::scope(|scope| {
        let update = scope.spawn(|| vault.set_clock_offset(MAX_CLOCK_OFFSET));
        // Long enough for the update to have read the old row, if it reads outside its
        // write (it then waits on the lock held here); the outcome is asserted, not a time.
        std::thread::sleep(std::time::Duration::from_millis(300));
        tx.commit().unwrap();
        update.join().unwrap().unwrap();
    });
    assert_eq!(
        vault.enrollment().unwrap(),
        None,
        "forgotten stays forgotten"
    );
    let reopened = Vault::open(&path).unwrap();
    reopened.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert_eq!(reopened.enrollment().unwrap(), None);
}

#[test]
fn only_the_city_account_takes_the_offset_and_only_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let (_, vault, other, city) = enrolled_vault(dir.path());
    let t = 1_800_000_000;
    vault.set_clock_offset(200).unwrap();
    let codes = vault.codes_now(t).unwrap();
    let shifted = vault.code(city, t + 200).unwrap();
    let unshifted = vault.code(other, t).unwrap();
    assert_eq!(codes, vec![unshifted.clone(), shifted.clone()]);
    assert_ne!(vault.code(city, t).unwrap().code, shifted.code);
    assert_eq!(vault.code_now(city, t).unwrap(), shifted);
    assert_eq!(vault.code_now(other, t).unwrap(), unshifted);
    // A stored offset beyond the bound (an older build's, or written by hand) is not applied.
    vault.set_clock_offset(MAX_CLOCK_OFFSET + 1).unwrap();
    assert_eq!(vault.codes_now(t).unwrap(), vault.codes(t).unwrap());
    assert_eq!(vault.city_clock().unwrap().offset, 0);
}
