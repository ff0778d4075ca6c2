//! The Rust side of the bindings benchmark: all codes of 100 accounts in one call, through
//! the FFI crate's `Vault::codes_at` (everything but the FFI crossing). The JVM side is
//! android/lib's `CodesBenchmark` (`-Dgroups=benchmark`), which also times this same loop
//! inside its own run through `measure_codes_in_rust`.

use std::hint::black_box;

use cityauth_ffi::{KdfSettings, Vault};
use criterion::{Criterion, criterion_group, criterion_main};

fn codes_of_100_accounts(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir
        .path()
        .join("bench.sqlite")
        .to_string_lossy()
        .into_owned();
    let cheap = KdfSettings {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };
    let vault = Vault::create(path, "bench passphrase".into(), Some(cheap)).expect("vault");
    for i in 0..100 {
        vault
            .add_from_link(
                format!(
                    "otpauth://totp/Service{i}:user{i}?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                )
                .into(),
            )
            .expect("account");
    }
    c.bench_function("ffi Vault::codes_at, 100 accounts", |b| {
        b.iter(|| vault.codes_at(black_box(1_234_567_890)).expect("codes"))
    });
}

criterion_group!(benches, codes_of_100_accounts);
criterion_main!(benches);
