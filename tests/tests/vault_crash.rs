//! Vault crash safety: a real writer process (`vault_writer`) adds, renames and draws HOTP
//! codes on a real vault file and is killed with SIGKILL at a random point, run after run.
//! After each kill the file must pass `PRAGMA integrity_check`, open with the passphrase,
//! hold every acknowledged write, and hold nothing else but the one write in flight (if it
//! committed before the kill); the HOTP counter never falls behind a code that was shown.
//!
//! `CITYAUTH_CRASH_SEED` and `CITYAUTH_CRASH_RUNS` reproduce or lengthen a run (defaults: a
//! fixed seed, 200 runs).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cityauth_core::otp::{self, Algorithm, OtpParams};
use cityauth_core::{Account, AccountId, KdfParams, SecretBytes, Vault};
use cityauth_e2e::faults::{PASSPHRASE_ENV, Rng, VAULT_PASSPHRASE, hotp_account, numbered_account};

/// What the test knows the vault holds: every acknowledged write.
#[derive(Default)]
struct Model {
    /// Account id → (its number, its current name).
    accounts: BTreeMap<i64, (u64, String)>,
    /// The HOTP counter: codes 0..counter were shown (or drawn in flight and then adopted).
    counter: u64,
    next_n: u64,
}

/// The one write the writer announced and had not acknowledged when it died.
enum InFlight {
    None,
    Add(u64),
    Rename(i64, String),
    Hotp,
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect("a number"))
}

fn expected_code(counter: u64) -> String {
    let secret = SecretBytes::new(b"12345678901234567890".to_vec());
    let params = OtpParams::hotp(Algorithm::Sha1, 6, 0).unwrap();
    otp::code_at_counter(&secret, &params, counter).to_string()
}

fn account_named(n: u64, name: &str) -> Account {
    numbered_account(n)
        .renamed(&format!("Issuer{n}"), name)
        .unwrap()
}

/// Applies one line of the writer's output to the model; returns whether it acknowledged a
/// write, and keeps `in_flight` at the last write announced and not yet acknowledged.
fn apply(line: &str, model: &mut Model, in_flight: &mut InFlight) -> bool {
    let Some((_, report)) = line.split_once("@@") else {
        return false;
    };
    let words: Vec<&str> = report.split(' ').collect();
    match words.as_slice() {
        ["intent", "add", n] => *in_flight = InFlight::Add(n.parse().unwrap()),
        ["intent", "rename", id, name] => {
            *in_flight = InFlight::Rename(id.parse().unwrap(), (*name).to_owned());
        }
        ["intent", "hotp"] => *in_flight = InFlight::Hotp,
        ["ack", "add", n, id] => {
            let n: u64 = n.parse().unwrap();
            model
                .accounts
                .insert(id.parse().unwrap(), (n, format!("user{n}")));
            model.next_n = model.next_n.max(n + 1);
            *in_flight = InFlight::None;
            return true;
        }
        ["ack", "rename", id, name] => {
            let entry = model
                .accounts
                .get_mut(&id.parse().unwrap())
                .expect("known id");
            entry.1 = (*name).to_owned();
            *in_flight = InFlight::None;
            return true;
        }
        ["ack", "hotp", code] => {
            assert_eq!(
                *code,
                expected_code(model.counter),
                "codes come in counter order"
            );
            model.counter += 1;
            *in_flight = InFlight::None;
            return true;
        }
        _ => {}
    }
    false
}

/// Checks the file after a kill against the model and the write in flight, then adopts the
/// in-flight write if it committed. Returns whether it had.
fn check_after_kill(
    path: &Path,
    hotp_id: AccountId,
    model: &mut Model,
    in_flight: &InFlight,
    run: u64,
) -> bool {
    let conn = rusqlite::Connection::open(path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok", "run {run}: integrity_check");
    drop(conn);

    let vault = Vault::open(path).unwrap_or_else(|e| panic!("run {run}: open: {e}"));
    vault
        .unlock_with_passphrase(VAULT_PASSPHRASE)
        .unwrap_or_else(|e| panic!("run {run}: unlock: {e}"));
    assert_eq!(vault.integrity_problems().unwrap(), vec![], "run {run}");
    let mut stored: BTreeMap<i64, Account> = vault
        .all_accounts()
        .unwrap_or_else(|e| panic!("run {run}: read: {e}"))
        .into_iter()
        .map(|(id, account)| (id.0, account))
        .collect();

    let hotp = stored.remove(&hotp_id.0).expect("the HOTP account");
    let counter = hotp.params().counter();
    let mut committed = false;
    if counter == model.counter + 1 && matches!(in_flight, InFlight::Hotp) {
        committed = true;
        model.counter = counter;
    }
    assert_eq!(
        counter, model.counter,
        "run {run}: HOTP counter (shown: {})",
        model.counter
    );

    if let InFlight::Add(n) = in_flight {
        let extra: Vec<i64> = stored
            .keys()
            .filter(|id| !model.accounts.contains_key(id))
            .copied()
            .collect();
        if let [id] = extra.as_slice() {
            assert_eq!(
                stored[id],
                numbered_account(*n),
                "run {run}: the add in flight"
            );
            model.accounts.insert(*id, (*n, format!("user{n}")));
            model.next_n = model.next_n.max(n + 1);
            committed = true;
        }
    }
    if let InFlight::Rename(id, name) = in_flight {
        let entry = model.accounts.get_mut(id).expect("known id");
        if stored
            .get(id)
            .is_some_and(|a| a.name() == name && entry.1 != *name)
        {
            entry.1 = name.clone();
            committed = true;
        }
    }
    let ids: Vec<&i64> = stored.keys().collect();
    let known: Vec<&i64> = model.accounts.keys().collect();
    assert_eq!(
        ids, known,
        "run {run}: the accounts are exactly the acknowledged ones"
    );
    for (id, (n, name)) in &model.accounts {
        assert_eq!(
            stored[id],
            account_named(*n, name),
            "run {run}: account {id}"
        );
    }
    committed
}

#[test]
fn a_writer_killed_at_random_points_loses_no_acknowledged_write() {
    let seed = env_number("CITYAUTH_CRASH_SEED", 0x15_C4A5);
    let runs = env_number("CITYAUTH_CRASH_RUNS", 200);
    println!("seed {seed}, {runs} runs");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.sqlite");
    let kdf = KdfParams::new(256, 1, 1).unwrap();
    let hotp_id = {
        let vault = Vault::create(&path, VAULT_PASSPHRASE, kdf).unwrap();
        vault.add(hotp_account()).unwrap()
    };

    let mut rng = Rng::new(seed);
    let mut model = Model::default();
    let (mut acknowledged, mut in_flight_committed, mut in_flight_lost) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    for run in 0..runs {
        let acks_before_kill = rng.below(12);
        let delay = Duration::from_micros(rng.below(3000));
        let mut child = Command::new(env!("CARGO_BIN_EXE_vault_writer"))
            .arg(&path)
            .arg(rng.next_u64().to_string())
            .arg(hotp_id.0.to_string())
            .arg(model.next_n.to_string())
            .env(PASSPHRASE_ENV, VAULT_PASSPHRASE)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut in_flight = InFlight::None;
        let mut acks = 0;
        while acks < acks_before_kill {
            let Some(line) = lines.next() else { break };
            acks += u64::from(apply(&line.unwrap(), &mut model, &mut in_flight));
        }
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL: no destructor, no flush, anywhere in a write
        let status = child.wait().unwrap();
        // What the writer printed before it died was acknowledged too.
        for line in lines {
            acks += u64::from(apply(&line.unwrap(), &mut model, &mut in_flight));
        }
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "run {run}: the writer failed on its own: {stderr}"
        );
        acknowledged += acks;
        let had_in_flight = !matches!(in_flight, InFlight::None);
        if check_after_kill(&path, hotp_id, &mut model, &in_flight, run) {
            in_flight_committed += 1;
        } else if had_in_flight {
            in_flight_lost += 1;
        }
    }
    println!(
        "{runs} kills survived in {:.1} s: {acknowledged} acknowledged writes all present; \
         {} accounts, HOTP counter {}; the write in flight at the kill had committed in \
         {in_flight_committed} runs and not in {in_flight_lost}",
        started.elapsed().as_secs_f64(),
        model.accounts.len(),
        model.counter,
    );
    assert!(
        acknowledged >= runs * 3,
        "the writer wrote too little to test: {acknowledged}"
    );
    assert!(
        in_flight_lost + in_flight_committed >= runs / 2,
        "kills rarely landed in a write"
    );
}
