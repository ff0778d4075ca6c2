//! Round trips over generated accounts of every kind and parameter: out as otpauth links,
//! as a backup and as Google migration links, then back in through `read`, `plan` and
//! `commit` into a fresh vault, which must hold the same accounts.

use cityauth_core::{Account, Algorithm, KdfParams, OtpKind, OtpParams, SecretBytes, Vault};
use cityauth_transfer::export::{ExportError, google_migration_links, otpauth_links};
use cityauth_transfer::{Format, backup, commit, plan, read};
use proptest::prelude::*;

const PASSPHRASE: &str = "round trip passphrase";

/// Argon2id's minimum cost: what these tests check is not the KDF.
fn cheap() -> KdfParams {
    KdfParams::new(8, 1, 1).unwrap()
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

fn period() -> impl Strategy<Value = u32> {
    prop_oneof![Just(30u32), Just(60), Just(1), Just(3600), 1u32..=3600]
}

fn params() -> impl Strategy<Value = OtpParams> {
    prop_oneof![
        (algorithm(), 6u8..=8, period()).prop_map(|(a, d, p)| OtpParams::totp(a, d, p).unwrap()),
        (
            algorithm(),
            6u8..=8,
            prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>(), 0u64..1000]
        )
            .prop_map(|(a, d, c)| OtpParams::hotp(a, d, c).unwrap()),
        period().prop_map(|p| OtpParams::steam(p).unwrap()),
    ]
}

/// Labels with what links must escape: `:` spaces `%` `&` `?` `#` `+` `=` `/`, and unicode;
/// often empty or holding a colon, the cases where issuer and name are easily confused.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        1 => "[a-zé ]{0,3}:[a-z :%]{0,5}",
        3 => "[a-zA-Z0-9 :%&?#+=/@.éü日本☃\u{1F600}-]{0,16}",
    ]
}

/// Accounts with distinct secrets (the first byte is the position), so that none is
/// another's duplicate.
fn accounts() -> impl Strategy<Value = Vec<Account>> {
    prop::collection::vec(
        (
            label(),
            label(),
            prop::collection::vec(any::<u8>(), 0..40),
            params(),
        ),
        1..8,
    )
    .prop_map(|generated| {
        generated
            .into_iter()
            .enumerate()
            .map(|(i, (issuer, name, mut secret, params))| {
                secret.insert(0, i as u8);
                Account::new(&issuer, &name, SecretBytes::new(secret), params).unwrap()
            })
            .collect()
    })
}

/// Imports `bytes` into a fresh vault and returns what the vault then holds.
fn import_into_fresh_vault(bytes: &[u8], password: Option<&str>) -> Vec<Account> {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create(&dir.path().join("vault.sqlite"), PASSPHRASE, cheap()).unwrap();
    let parsed = read(bytes, None, password).unwrap();
    let planned = plan(&vault, parsed).unwrap();
    assert!(planned.rejected.is_empty(), "{:?}", planned.rejected);
    assert!(planned.duplicates.is_empty(), "{:?}", planned.duplicates);
    commit(&vault, planned).unwrap();
    vault
        .all_accounts()
        .unwrap()
        .into_iter()
        .map(|(_, a)| a)
        .collect()
}

/// Google Authenticator's limits, restated here rather than taken from the crate.
fn google_can_hold(account: &Account) -> bool {
    let p = account.params();
    match p.kind() {
        OtpKind::Steam => false,
        OtpKind::Totp => p.digits() != 7 && p.period() == 30,
        OtpKind::Hotp => p.digits() != 7 && p.counter() <= i64::MAX as u64,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn otpauth_links_round_trip_through_a_vault(accounts in accounts()) {
        let text = otpauth_links(&accounts);
        prop_assert_eq!(text.lines().count(), accounts.len());
        let parsed = read(text.as_bytes(), None, None).unwrap();
        prop_assert_eq!(parsed.format, Format::OtpauthLinks);
        prop_assert_eq!(import_into_fresh_vault(text.as_bytes(), None), accounts);
    }

    #[test]
    fn a_backup_round_trips_through_a_vault(accounts in accounts()) {
        let file = backup::write(&accounts, "backup pass", &cheap()).unwrap();
        prop_assert_eq!(read(&file, None, Some("backup pass")).unwrap().format, Format::CityauthBackup);
        prop_assert_eq!(import_into_fresh_vault(&file, Some("backup pass")), accounts);
    }

    #[test]
    fn google_links_round_trip_what_google_can_hold_and_refuse_the_rest(accounts in accounts()) {
        let (holdable, others): (Vec<usize>, Vec<usize>) =
            (0..accounts.len()).partition(|&i| google_can_hold(&accounts[i]));
        match google_migration_links(&accounts) {
            Ok(_) => prop_assert!(others.is_empty()),
            Err(ExportError::NotExpressible { refused }) => {
                let indexes: Vec<usize> = refused.iter().map(|r| r.index).collect();
                prop_assert_eq!(indexes, others);
            }
            Err(error) => prop_assert!(false, "{}", error),
        }
        let fine: Vec<Account> = holdable.iter().map(|&i| accounts[i].clone()).collect();
        let links = google_migration_links(&fine).unwrap();
        if fine.is_empty() {
            prop_assert!(links.is_empty());
        } else {
            // As a user pastes them: one link a line, in any order.
            let file: String = links.iter().rev().map(|l| format!("{}\n", l.as_str())).collect();
            prop_assert_eq!(import_into_fresh_vault(file.as_bytes(), None), fine);
        }
    }
}

#[test]
fn restoring_a_backup_adds_only_the_accounts_not_already_there() {
    let all: Vec<Account> = (0..6u8)
        .map(|i| {
            let params = match i % 3 {
                0 => OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(),
                1 => OtpParams::hotp(Algorithm::Sha256, 8, u64::from(i)).unwrap(),
                _ => OtpParams::steam(30).unwrap(),
            };
            Account::new(
                "Svc",
                &format!("user {i}"),
                SecretBytes::new(vec![i + 1; 20]),
                params,
            )
            .unwrap()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create(&dir.path().join("vault.sqlite"), PASSPHRASE, cheap()).unwrap();
    // The vault already holds accounts 1 and 4, one renamed and one with a moved counter:
    // still the same accounts.
    let id1 = vault.add(all[1].renamed("Renamed", "me").unwrap()).unwrap();
    let id4 = vault.add(all[4].clone()).unwrap();
    vault.next_hotp(id4).unwrap();

    let file = backup::write(&all, "pw", &cheap()).unwrap();
    let planned = plan(&vault, read(&file, None, Some("pw")).unwrap()).unwrap();
    let existing: Vec<_> = planned.duplicates.iter().map(|d| d.existing).collect();
    assert_eq!(existing, [Some(id1), Some(id4)]);
    let locations: Vec<&str> = planned
        .duplicates
        .iter()
        .map(|d| d.location.as_str())
        .collect();
    assert_eq!(locations, ["entry 2", "entry 5"]);
    let to_add: Vec<&Account> = planned.to_add.iter().map(|(_, a)| a).collect();
    assert_eq!(to_add, [&all[0], &all[2], &all[3], &all[5]]);
    assert_eq!(commit(&vault, planned).unwrap().len(), 4);
    assert_eq!(vault.all_accounts().unwrap().len(), 6);

    // Restoring the same backup again adds nothing.
    let again = plan(&vault, read(&file, None, Some("pw")).unwrap()).unwrap();
    assert!(again.to_add.is_empty());
    assert_eq!(again.duplicates.len(), 6);
}
