//! Real processes on one vault file: a writer killed with SIGKILL mid-write loses no
//! acknowledged account, and two processes drawing HOTP codes never show one twice.
//!
//! The child processes are this test binary run again with `--ignored --exact`, told what
//! to do through environment variables.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use cityauth_core::otp::{self, Algorithm, OtpParams};
use cityauth_core::{AccountId, SecretBytes, Vault};
use common::{PASSPHRASE, RFC_SECRET, account, new_vault, numbered};

const VAULT_ENV: &str = "CITYAUTH_TEST_VAULT";
const HOTP_ID_ENV: &str = "CITYAUTH_TEST_HOTP_ID";
const COUNT_ENV: &str = "CITYAUTH_TEST_COUNT";

fn spawn_child(test_name: &str, vault: &Path, hotp_id: AccountId, count: u32) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            test_name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(VAULT_ENV, vault)
        .env(HOTP_ID_ENV, hotp_id.0.to_string())
        .env(COUNT_ENV, count.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn child_vault() -> Option<(Vault, AccountId, u32)> {
    let path = std::env::var_os(VAULT_ENV)?;
    let vault = Vault::open(Path::new(&path)).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    let hotp_id = AccountId(std::env::var(HOTP_ID_ENV).unwrap().parse().unwrap());
    let count = std::env::var(COUNT_ENV).unwrap().parse().unwrap();
    Some((vault, hotp_id, count))
}

/// Child: adds accounts and draws HOTP codes, printing each only after it is acknowledged.
#[test]
#[ignore = "run by crash_mid_write_loses_no_acknowledged_write as its child process"]
fn child_writer() {
    let Some((vault, hotp_id, count)) = child_vault() else {
        return;
    };
    for n in 0..count {
        let id = vault.add(numbered(n)).unwrap();
        println!("@@added {} {n}", id.0);
        let code = vault.next_hotp(hotp_id).unwrap();
        println!("@@hotp {code}");
    }
}

/// Child: draws HOTP codes as fast as it can.
#[test]
#[ignore = "run by two_processes_never_show_the_same_hotp_code as its child process"]
fn child_hotp() {
    let Some((vault, hotp_id, count)) = child_vault() else {
        return;
    };
    for _ in 0..count {
        let code = vault.next_hotp(hotp_id).unwrap();
        println!("@@hotp {code}");
    }
}

fn hotp_vault(dir: &Path) -> (std::path::PathBuf, AccountId) {
    let (path, vault) = new_vault(dir);
    let id = vault
        .add(account(&format!(
            "otpauth://hotp/Shared:counter?secret={RFC_SECRET}&counter=0"
        )))
        .unwrap();
    (path, id)
}

fn expected_hotp(counter: u64) -> String {
    let secret = SecretBytes::from_base32(RFC_SECRET).unwrap();
    let params = OtpParams::hotp(Algorithm::Sha1, 6, 0).unwrap();
    otp::code_at_counter(&secret, &params, counter).to_string()
}

#[test]
fn crash_mid_write_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let (path, hotp_id) = hotp_vault(dir.path());
    let mut shown_hotp = 0u64;
    let mut acknowledged: BTreeMap<i64, u32> = BTreeMap::new();
    // Kill the writer at a different point each round.
    for (round, kill_after) in [40usize, 97, 151].into_iter().enumerate() {
        let mut child = spawn_child("child_writer", &path, hotp_id, 100_000);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while seen < kill_after {
            let line = lines.next().expect("child ended early").unwrap();
            seen += usize::from(report(&line).is_some());
            record(&line, &mut acknowledged, &mut shown_hotp);
        }
        child.kill().unwrap(); // SIGKILL: no destructor, no flush, mid-transaction
        child.wait().unwrap();
        // Whatever the child printed before it died was acknowledged too.
        for line in lines {
            record(&line.unwrap(), &mut acknowledged, &mut shown_hotp);
        }

        let conn = rusqlite::Connection::open(&path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        drop(conn);

        let vault = Vault::open(&path).unwrap();
        vault.unlock_with_passphrase(PASSPHRASE).unwrap();
        assert!(
            vault.integrity_problems().unwrap().is_empty(),
            "round {round}"
        );
        for (id, n) in &acknowledged {
            let stored = vault.account(AccountId(*id)).unwrap();
            assert_eq!(stored, numbered(*n), "round {round}: account {id}");
        }
        // The counter never falls behind a code that was shown.
        let counter = vault
            .accounts()
            .unwrap()
            .iter()
            .find(|a| a.id == hotp_id)
            .unwrap()
            .params
            .counter();
        assert!(
            counter >= shown_hotp,
            "round {round}: {counter} < {shown_hotp}"
        );
        assert!(
            counter <= shown_hotp + 1,
            "round {round}: at most one code unshown"
        );
        // Keep the parent's view in step with a code the child drew but never printed.
        shown_hotp = counter;
    }
    assert!(acknowledged.len() >= 3 * 20, "{}", acknowledged.len());
}

/// What a child reported on a line: the text after `@@` (the test harness may print its own
/// words in front on the same line).
fn report(line: &str) -> Option<&str> {
    line.split_once("@@").map(|(_, report)| report)
}

fn record(line: &str, acknowledged: &mut BTreeMap<i64, u32>, shown_hotp: &mut u64) {
    let parts: Vec<&str> = report(line)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    match parts.as_slice() {
        ["added", id, n] => {
            acknowledged.insert(id.parse().unwrap(), n.parse().unwrap());
        }
        ["hotp", code] => {
            assert_eq!(
                *code,
                expected_hotp(*shown_hotp),
                "codes come in counter order"
            );
            *shown_hotp += 1;
        }
        _ => {}
    }
}

#[test]
fn two_processes_never_show_the_same_hotp_code() {
    let dir = tempfile::tempdir().unwrap();
    let (path, hotp_id) = hotp_vault(dir.path());
    let per_child = 150u32;
    let children: Vec<Child> = (0..2)
        .map(|_| spawn_child("child_hotp", &path, hotp_id, per_child))
        .collect();
    let mut codes: Vec<String> = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).unwrap();
        codes.extend(
            text.lines()
                .filter_map(|l| report(l)?.strip_prefix("hotp "))
                .map(str::to_owned),
        );
    }
    let total = 2 * u64::from(per_child);
    assert_eq!(codes.len() as u64, total);
    // Together they drew exactly counters 0..total, each once.
    let mut expected: Vec<String> = (0..total).map(expected_hotp).collect();
    expected.sort();
    codes.sort();
    assert_eq!(codes, expected);
    let vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert_eq!(vault.accounts().unwrap()[0].params.counter(), total);
}
