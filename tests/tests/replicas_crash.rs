//! Two replicas of the real server on one real PostgreSQL behind nginx, under load: one
//! replica killed with SIGKILL and restarted, then the database itself killed (SIGKILL on
//! the postmaster) and restarted. Afterwards every approval the server acknowledged is
//! recorded and its reset verified, and every acknowledged approval sent again is refused,
//! at the server's default durability on PostgreSQL (`full`; `--durability normal`, with
//! `synchronous_commit = off`, was seen to lose acknowledged approvals here).
//! (A replica killed alone is `tests/tests/replicas.rs`; this adds the database restart.)

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cityauth_core::ClientError;
use cityauth_core::device::{Challenge, Decision};
use cityauth_e2e::replicas::{self, Deployment, ProxiedPhone};

const LANES: u8 = 4;
/// Accounts per lane: each account's anonymous push cap (5 an hour) allows 5 resets.
const ACCOUNTS: u8 = 10;

#[derive(Default)]
struct Tally {
    approved: Vec<(String, Challenge, String, usize)>,
    failures: usize,
}

fn ip(a: u8, b: u8, c: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, a, b, c))
}

/// One round trip for `username`: a reset started through nginx, the challenge fetched and
/// approved. `Err(true)` if a push may have been made (the account's cap was spent).
fn round_trip(
    d: &Deployment,
    source: IpAddr,
    username: &str,
    phone: &ProxiedPhone,
    dirty: &mut bool,
) -> Result<(String, Challenge, String), bool> {
    let device = phone.device();
    if *dirty {
        let left = device.pending_challenges(0).map_err(|_| false)?;
        for c in &left {
            device.answer(c, Decision::Deny, None).map_err(|_| false)?;
        }
        *dirty = false;
    }
    let browser = d.browser(source);
    let Ok((200, Some(start))) = replicas::reset_start(&browser, &d.url(), username) else {
        return Err(false);
    };
    *dirty = true;
    let list = device.pending_challenges(5).map_err(|_| true)?;
    let [challenge] = list.as_slice() else {
        return Err(true);
    };
    let outcome = device
        .answer(challenge, Decision::Approve, Some(&start.number))
        .map_err(|_| true)?;
    assert_eq!(outcome, "approved");
    *dirty = false;
    Ok((start.reset_id, challenge.clone(), start.number))
}

/// Round trips over the lane's accounts, each within its push cap (5 an hour), until
/// `stop`; a failed try waits and tries the same account again.
fn lane(
    d: &Deployment,
    lane: u8,
    phones: &[(String, ProxiedPhone)],
    stop: &AtomicBool,
    tally: &Mutex<Tally>,
) {
    let mut dirty = vec![false; phones.len()];
    let mut pushes = vec![0u8; phones.len()];
    let mut source = 0u8;
    while !stop.load(Ordering::Relaxed) {
        let Some(k) = (0..phones.len())
            .min_by_key(|&k| pushes[k])
            .filter(|&k| pushes[k] < 5)
        else {
            return;
        };
        let (username, phone) = &phones[k];
        source = source.wrapping_add(1).max(1);
        match round_trip(d, ip(2, lane, source), username, phone, &mut dirty[k]) {
            Ok((reset, challenge, number)) => {
                pushes[k] += 1;
                let index = usize::from(lane) * phones.len() + k;
                tally
                    .lock()
                    .unwrap()
                    .approved
                    .push((reset, challenge, number, index));
            }
            Err(pushed) => {
                pushes[k] += u8::from(pushed);
                tally.lock().unwrap().failures += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

#[test]
fn a_replica_and_then_the_database_killed_under_load_lose_no_acknowledged_answer() {
    if let Some(reason) = replicas::missing() {
        eprintln!("SKIPPED: {reason}; scripts/install-test-deps installs it");
        return;
    }
    // No `--durability`: PostgreSQL's default is `full` (its own `synchronous_commit = on`).
    // With `normal` (`synchronous_commit = off`, docs/deploy.md "Durability") a database
    // crash may lose the last acknowledged commits, and this test saw it lose approvals.
    let d = Deployment::start(2, &[]).expect("the deployment starts");
    let lanes: Vec<Vec<(String, ProxiedPhone)>> = (0..LANES)
        .map(|lane| {
            (0..ACCOUNTS)
                .map(|k| {
                    let name = format!("crash-{lane}-{k}");
                    let phone = d.enrolled_phone(&name).unwrap();
                    (name, phone)
                })
                .collect()
        })
        .collect();
    let tally = Mutex::new(Tally::default());
    let stop = AtomicBool::new(false);
    let wait_for = |n: usize| {
        let started = Instant::now();
        while tally.lock().unwrap().approved.len() < n {
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "the load stalled"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let started = Instant::now();
    println!("{} phones enrolled", lanes.len() * usize::from(ACCOUNTS));
    std::thread::scope(|scope| {
        let (d, stop, tally) = (&d, &stop, &tally);
        let workers: Vec<_> = lanes
            .iter()
            .enumerate()
            .map(|(n, phones)| scope.spawn(move || lane(d, n as u8, phones, stop, tally)))
            .collect();
        wait_for(15);
        println!(
            "killing replica 0 at {:.1} s",
            started.elapsed().as_secs_f64()
        );
        d.replicas[0].kill();
        wait_for(30);
        d.replicas[0].restart().expect("the replica restarts");
        wait_for(45);
        println!(
            "killing the database at {:.1} s",
            started.elapsed().as_secs_f64()
        );
        d.postgres.kill().expect("the postmaster killed");
        std::thread::sleep(Duration::from_millis(300));
        d.postgres.restart().expect("the database restarts");
        wait_for(60);
        stop.store(true, Ordering::Relaxed);
        for worker in workers {
            worker.join().unwrap();
        }
    });
    let tally = tally.into_inner().unwrap();
    println!(
        "a replica and the database killed in {:.1} s: {} approvals acknowledged, {} failures",
        started.elapsed().as_secs_f64(),
        tally.approved.len(),
        tally.failures
    );
    let browser = d.browser(ip(0, 0, 9));
    let phones: Vec<&ProxiedPhone> = lanes.iter().flatten().map(|(_, p)| p).collect();
    let mut refused = 0;
    for (reset, challenge, number, phone) in &tally.approved {
        let state = d
            .sql(&format!(
                "SELECT state FROM challenges WHERE id = '{}'",
                challenge.id
            ))
            .unwrap();
        assert_eq!(state.trim(), "approved", "challenge {}", challenge.id);
        let reset_now = replicas::reset_state(&browser, &d.url(), reset).unwrap();
        assert_eq!(reset_now, "verified", "reset {reset}");
        match phones[*phone]
            .device()
            .answer(challenge, Decision::Approve, Some(number))
        {
            Err(ClientError::Refused { code, .. }) if code == "already_answered" => refused += 1,
            other => panic!("challenge {} answered again: {other:?}", challenge.id),
        }
    }
    println!(
        "all {} recorded and verified; {refused} sent again, all refused",
        tally.approved.len()
    );
}
