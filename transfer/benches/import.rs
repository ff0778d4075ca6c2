//! Importing 10,000 accounts: reading a links file and a backup (at Argon2id's minimum cost,
//! the KDF also timed alone), then planning and committing them into a fresh vault.
//!
//! `cargo bench -p cityauth-transfer -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;

use cityauth_core::{Account, Algorithm, KdfParams, OtpParams, SecretBytes, Vault};
use cityauth_transfer::export::otpauth_links;
use cityauth_transfer::{Parsed, backup, commit, plan, read};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const COUNT: u32 = 10_000;
const PASSPHRASE: &str = "bench passphrase";

/// Argon2id's minimum cost (8 KiB, 1 pass, 1 lane), the smallest a backup may use.
fn smallest_kdf() -> KdfParams {
    KdfParams::new(8, 1, 1).expect("Argon2id's minimum parameters")
}

/// Distinct TOTP accounts with 20-byte secrets and realistic labels.
fn accounts() -> Vec<Account> {
    (0..COUNT)
        .map(|n| {
            let mut secret = vec![0u8; 20];
            secret[..4].copy_from_slice(&n.to_be_bytes());
            secret[4] = 0xa5;
            Account::new(
                &format!("Service {n}"),
                &format!("user{n}@example.org"),
                SecretBytes::new(secret),
                OtpParams::totp(Algorithm::Sha1, 6, 30).expect("valid parameters"),
            )
            .expect("valid account")
        })
        .collect()
}

/// A fresh vault in its own directory (returned so that it outlives the vault).
fn fresh_vault() -> (tempfile::TempDir, Vault) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let vault = Vault::create(&dir.path().join("vault.sqlite"), PASSPHRASE, smallest_kdf())
        .expect("create vault");
    (dir, vault)
}

fn plan_and_commit(vault: &Vault, parsed: Parsed) -> usize {
    let planned = plan(vault, parsed).expect("plan");
    commit(vault, planned).expect("commit").len()
}

fn import(c: &mut Criterion) {
    let accounts = accounts();
    let links = otpauth_links(&accounts);
    let backup = backup::write(&accounts, PASSPHRASE, &smallest_kdf()).expect("backup");
    let parsed = read(links.as_bytes(), None, None).expect("read links");
    assert_eq!(parsed.accounts().count(), COUNT as usize);

    let mut group = c.benchmark_group("import_10k");
    group.sample_size(10);
    group.bench_function("read_links_file", |b| {
        b.iter(|| read(black_box(links.as_bytes()), None, None).expect("read"))
    });
    group.bench_function("read_backup_min_kdf", |b| {
        b.iter(|| read(black_box(&backup), None, Some(PASSPHRASE)).expect("read"))
    });
    group.bench_function("argon2id_min_kdf_alone", |b| {
        let params = argon2::Params::new(8, 1, 1, Some(64)).expect("parameters");
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = [0u8; 64];
        b.iter(|| {
            argon
                .hash_password_into(PASSPHRASE.as_bytes(), &[7; 16], &mut out)
                .expect("derive");
            black_box(out[0])
        })
    });
    group.bench_function("plan_and_commit_into_fresh_vault", |b| {
        b.iter_batched(
            || (fresh_vault(), parsed.clone()),
            |((dir, vault), parsed)| {
                let added = plan_and_commit(&vault, parsed);
                assert_eq!(added, COUNT as usize);
                (dir, vault)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("links_file_end_to_end", |b| {
        b.iter_batched(
            fresh_vault,
            |(dir, vault)| {
                let parsed = read(links.as_bytes(), None, None).expect("read");
                plan_and_commit(&vault, parsed);
                (dir, vault)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
