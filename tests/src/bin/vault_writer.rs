//! The crash tests' vault writer: opens a real vault and, chosen by a seeded random source,
//! adds accounts, renames them and draws HOTP codes until it is killed. Before each write it
//! prints `@@intent …`; after the write returned (committed) it prints `@@ack …`, so the test
//! knows every acknowledged write and the one at most that was in flight when it died.
//!
//! `vault_writer VAULT SEED HOTP_ID FIRST_N` with the passphrase in `CITYAUTH_WRITER_PASSPHRASE`.
//! Accounts are numbered from FIRST_N (`cityauth_e2e::faults::numbered_account`); a rename
//! gives account n the name `user{n}-r{SEED}-{k}`.
//!
//! `vault_writer --fill VAULT FIRST_N` adds accounts until a write fails (the disk-full tests
//! run it under a file size limit), printing `@@ack add N ID` for each, then `@@error DEBUG`,
//! `@@message TEXT` for the failure, whether the vault still reads (`@@reads COUNT`), and
//! exits 0: the failure must be an error, never a panic.

use std::path::Path;
use std::process::ExitCode;

use cityauth_core::{AccountId, OtpKind, Vault};
use cityauth_e2e::faults::{PASSPHRASE_ENV, Rng, numbered_account};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vault_writer: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    if let ["--fill", path, first_n] = words.as_slice() {
        let first_n = first_n
            .parse::<u64>()
            .map_err(|e| format!("{first_n}: {e}"))?;
        return fill(Path::new(path), first_n);
    }
    let [path, seed, hotp_id, first_n] = args.as_slice() else {
        return Err("usage: vault_writer VAULT SEED HOTP_ID FIRST_N".into());
    };
    let number = |text: &str| text.parse::<u64>().map_err(|e| format!("{text}: {e}"));
    let seed = number(seed)?;
    let hotp_id = AccountId(number(hotp_id)? as i64);
    let mut next_n = number(first_n)?;
    let passphrase =
        std::env::var(PASSPHRASE_ENV).map_err(|_| format!("{PASSPHRASE_ENV} unset"))?;

    let vault = Vault::open(Path::new(path)).map_err(|e| e.to_string())?;
    vault
        .unlock_with_passphrase(&passphrase)
        .map_err(|e| e.to_string())?;
    // The TOTP accounts already there, by id, with their number (from the issuer "Issuer{n}").
    let mut renamable: Vec<(AccountId, u64)> = vault
        .accounts()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|info| info.params.kind() != OtpKind::Hotp)
        .filter_map(|info| Some((info.id, info.issuer.strip_prefix("Issuer")?.parse().ok()?)))
        .collect();
    println!("@@ready");

    let mut rng = Rng::new(seed);
    for k in 0u64.. {
        match rng.below(10) {
            0..4 => {
                let n = next_n;
                next_n += 1;
                println!("@@intent add {n}");
                let id = vault.add(numbered_account(n)).map_err(|e| e.to_string())?;
                println!("@@ack add {n} {}", id.0);
                renamable.push((id, n));
            }
            4..7 if !renamable.is_empty() => {
                let (id, n) = renamable[rng.below(renamable.len() as u64) as usize];
                let name = format!("user{n}-r{seed}-{k}");
                println!("@@intent rename {} {name}", id.0);
                vault
                    .rename(id, &format!("Issuer{n}"), &name)
                    .map_err(|e| e.to_string())?;
                println!("@@ack rename {} {name}", id.0);
            }
            _ => {
                println!("@@intent hotp");
                let code = vault.next_hotp(hotp_id).map_err(|e| e.to_string())?;
                println!("@@ack hotp {code}");
            }
        }
    }
    Ok(())
}

fn unlocked(path: &Path) -> Result<Vault, String> {
    let passphrase =
        std::env::var(PASSPHRASE_ENV).map_err(|_| format!("{PASSPHRASE_ENV} unset"))?;
    let vault = Vault::open(path).map_err(|e| e.to_string())?;
    vault
        .unlock_with_passphrase(&passphrase)
        .map_err(|e| e.to_string())?;
    Ok(vault)
}

/// Adds accounts until a write fails; reports the failure and whether the vault still reads.
fn fill(path: &Path, first_n: u64) -> Result<(), String> {
    let vault = unlocked(path)?;
    for n in first_n.. {
        match vault.add(numbered_account(n)) {
            Ok(id) => println!("@@ack add {n} {}", id.0),
            Err(error) => {
                println!("@@error {error:?}");
                println!("@@message {error}");
                match vault.accounts() {
                    Ok(accounts) => println!("@@reads {}", accounts.len()),
                    Err(error) => println!("@@reads failed: {error}"),
                }
                return Ok(());
            }
        }
    }
    Ok(())
}
