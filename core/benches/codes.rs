//! All codes of 1,000 TOTP accounts from an unlocked vault, against the fastest bare
//! HMAC-SHA-1 loops over the same 1,000 keys (keyed state prepared once), in one run.

use std::hint::black_box;

use cityauth_core::otp::{Algorithm, OtpParams};
use cityauth_core::{Account, KdfParams, SecretBytes, Vault};
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};

const ACCOUNTS: u32 = 1000;
const TIME: u64 = 1_700_000_000;

fn secret(n: u32) -> Vec<u8> {
    let mut key = [0u8; 20];
    key[..4].copy_from_slice(&n.to_be_bytes());
    key[4..].copy_from_slice(b"cityauth bench k");
    key.to_vec()
}

fn codes(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create(
        &dir.path().join("bench.sqlite"),
        "bench passphrase",
        KdfParams::new(8, 1, 1).unwrap(),
    )
    .unwrap();
    let params = OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap();
    let accounts = (0..ACCOUNTS)
        .map(|n| {
            Account::new(
                "Bench",
                &format!("user{n}"),
                SecretBytes::new(secret(n)),
                params,
            )
            .unwrap()
        })
        .collect();
    vault.add_all(accounts).unwrap();
    let counter = (TIME / 30).to_be_bytes();

    let rustcrypto: Vec<Hmac<sha1::Sha1>> = (0..ACCOUNTS)
        .map(|n| Hmac::new_from_slice(&secret(n)).unwrap())
        .collect();
    let ring_keys: Vec<ring::hmac::Key> = (0..ACCOUNTS)
        .map(|n| ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &secret(n)))
        .collect();
    let totp_rs: Vec<totp_rs::Totp> = (0..ACCOUNTS)
        .map(|n| {
            totp_rs::Builder::new()
                .with_algorithm(totp_rs::Algorithm::SHA1)
                .with_digits(6)
                .with_step_duration(30)
                .with_secret(secret(n))
                .build_noncompliant()
        })
        .collect();

    let prepared: Vec<cityauth_core::PreparedKey> = (0..ACCOUNTS)
        .map(|n| cityauth_core::PreparedKey::new(Algorithm::Sha1, &SecretBytes::new(secret(n))))
        .collect();
    let mut group = c.benchmark_group("codes_1000_totp_accounts");
    group.bench_function("prepared_keys_only", |b| {
        b.iter(|| {
            for key in &prepared {
                black_box(key.code_at_time(&params, black_box(TIME)));
            }
        })
    });
    group.bench_function("prepared_keys_truncated_only", |b| {
        b.iter(|| {
            for key in &prepared {
                black_box(key.truncated(black_box(TIME / 30)));
            }
        })
    });
    group.bench_function("vault_codes", |b| {
        b.iter(|| black_box(vault.codes(black_box(TIME)).unwrap()))
    });
    group.bench_function("bare_hmac_sha1_rustcrypto", |b| {
        b.iter(|| {
            let mut folded = 0u8;
            for key in &rustcrypto {
                let mut mac = key.clone();
                mac.update(black_box(&counter));
                folded ^= mac.finalize().into_bytes()[19];
            }
            black_box(folded)
        })
    });
    group.bench_function("bare_hmac_sha1_ring", |b| {
        b.iter(|| {
            let mut folded = 0u8;
            for key in &ring_keys {
                folded ^= ring::hmac::sign(key, black_box(&counter)).as_ref()[19];
            }
            black_box(folded)
        })
    });
    group.bench_function("totp_rs_generate", |b| {
        b.iter(|| {
            for totp in &totp_rs {
                black_box(totp.generate(black_box(TIME)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, codes);
criterion_main!(benches);
