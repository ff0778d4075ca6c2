//! Unlocking and listing, the Argon2id cost on its own, and adding 1,000 accounts at once.

use std::hint::black_box;

use cityauth_core::otp::{Algorithm, OtpParams};
use cityauth_core::{Account, KdfParams, SecretBytes, Vault};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const ACCOUNTS: u32 = 1000;

fn accounts() -> Vec<Account> {
    let params = OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap();
    (0..ACCOUNTS)
        .map(|n| {
            let mut secret = b"cityauth bench secret".to_vec();
            secret.extend_from_slice(&n.to_be_bytes());
            Account::new(
                "Bench Issuer",
                &format!("user{n}@example.org"),
                SecretBytes::new(secret),
                params,
            )
            .unwrap()
        })
        .collect()
}

/// The smallest Argon2id cost Argon2 allows: what remains is the vault's own work.
fn negligible_kdf() -> KdfParams {
    KdfParams::new(8, 1, 1).unwrap()
}

fn unlock_and_list(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite");
    let vault = Vault::create(&path, "bench passphrase", negligible_kdf()).unwrap();
    vault.add_all(accounts()).unwrap();
    drop(vault);

    let mut group = c.benchmark_group("unlock");
    group.bench_function("open_unlock_list_1000_beyond_kdf", |b| {
        b.iter(|| {
            let vault = Vault::open(&path).unwrap();
            vault.unlock_with_passphrase("bench passphrase").unwrap();
            black_box(vault.accounts().unwrap())
        })
    });
    let negligible = dir.path().join("empty-negligible.sqlite");
    drop(Vault::create(&negligible, "bench passphrase", negligible_kdf()).unwrap());
    let negligible_vault = Vault::open(&negligible).unwrap();
    group.bench_function("argon2id_negligible_params_alone", |b| {
        b.iter(|| {
            negligible_vault
                .unlock_with_passphrase("bench passphrase")
                .unwrap()
        })
    });
    let default = dir.path().join("empty-default.sqlite");
    drop(Vault::create(&default, "bench passphrase", KdfParams::default()).unwrap());
    let default_vault = Vault::open(&default).unwrap();
    group.sample_size(10);
    group.bench_function("argon2id_default_params_empty_vault", |b| {
        b.iter(|| {
            default_vault
                .unlock_with_passphrase("bench passphrase")
                .unwrap()
        })
    });
    group.finish();
}

fn add_in_one_transaction(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.bench_function("add_all_1000_accounts", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let vault = Vault::create(
                    &dir.path().join("v.sqlite"),
                    "bench passphrase",
                    negligible_kdf(),
                )
                .unwrap();
                (dir, vault, accounts())
            },
            |(dir, vault, accounts)| {
                black_box(vault.add_all(accounts).unwrap());
                (dir, vault)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, unlock_and_list, add_in_one_transaction);
criterion_main!(benches);
