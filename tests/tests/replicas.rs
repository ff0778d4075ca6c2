//! Stateless replicas as deployed: two `cityauth-server serve` processes (the real binary) on
//! one real PostgreSQL behind a real nginx (round robin, TLS). Whatever one replica decides
//! or counts, the other sees: a reset moves between them, a limit is their sum, a long poll
//! on one is woken from the other, and a replica killed mid-load loses nothing it
//! acknowledged and answers nothing twice.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cityauth_core::device::Decision;
use cityauth_e2e::replicas::{self, AgentTransport, Deployment, PROXY, ProxiedPhone};
use cityauth_server::Limits;

/// A deployment of `count` replicas, or `None` (and a printed reason) where nginx or
/// PostgreSQL is missing.
fn deploy(count: usize) -> Option<Deployment> {
    if let Some(reason) = replicas::missing() {
        eprintln!("SKIPPED: {reason}; scripts/install-test-deps installs it");
        return None;
    }
    Some(Deployment::start(count, &[]).expect("the deployment starts"))
}

fn ip(a: u8, b: u8, c: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, a, b, c))
}

fn proxy_ip() -> IpAddr {
    PROXY.parse().unwrap()
}

/// What nginx and the replicas logged, for a failing assertion's message.
fn diagnosis(d: &Deployment) -> String {
    let mut out = format!(
        "nginx errors:\n{}\nnginx access:\n{}",
        d.nginx.error_log(),
        d.nginx.access_log()
    );
    for (n, replica) in d.replicas.iter().enumerate() {
        out.push_str(&format!("\nreplica {n}:\n{}", replica.log()));
    }
    out
}

/// Waits (at most 5 s) for `ready` to hold of nginx's access log: nginx writes a request's
/// line after sending its answer, so a client can read the answer before the line exists.
fn access_log_when(d: &Deployment, ready: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let log = d.nginx.access_log();
        if ready(&log) || started.elapsed() > Duration::from_secs(5) {
            return log;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The upstream that answered the last request whose access-log line contains `needle`.
fn upstream_of(d: &Deployment, needle: &str) -> Option<SocketAddr> {
    let log = access_log_when(d, |log| log.contains(needle));
    let line = log.lines().rev().find(|l| l.contains(needle))?;
    line.rsplit([' ', ',']).next()?.parse().ok()
}

/// The upstream of the access log's last line, once it has `lines` lines.
fn last_upstream(d: &Deployment, lines: usize) -> Option<SocketAddr> {
    let log = access_log_when(d, |log| log.lines().count() >= lines);
    log.lines().last()?.rsplit([' ', ',']).next()?.parse().ok()
}

#[test]
fn a_reset_started_through_one_replica_is_approved_through_another() {
    let Some(d) = deploy(2) else { return };
    let phone = d.enrolled_phone("alice").unwrap();
    let browser = d.browser(ip(0, 0, 2));

    let (status, start) = replicas::reset_start(&browser, &d.url(), "alice").unwrap();
    assert_eq!(status, 200, "{}", diagnosis(&d));
    let start = start.unwrap();
    let started_on = upstream_of(&d, "POST /api/v1/reset/start").unwrap();

    let challenges = phone.device().pending_challenges(10).unwrap();
    assert_eq!(challenges.len(), 1);
    upstream_of(&d, "/device/challenges?").unwrap();
    // nginx alternates: once the last request went to the replica that started the reset,
    // the next one (the answer) goes to the other.
    for _ in 0..4 {
        let lines = d.nginx.access_log().lines().count();
        if last_upstream(&d, lines) == Some(started_on) {
            break;
        }
        browser.get(format!("{}/healthz", d.url())).call().unwrap();
        last_upstream(&d, lines + 1);
    }
    let outcome = phone
        .device()
        .answer(&challenges[0], Decision::Approve, Some(&start.number))
        .unwrap();
    assert_eq!(outcome, "approved");
    let answered_on = upstream_of(&d, "/answer").unwrap();
    assert_ne!(answered_on, started_on, "{}", d.nginx.access_log());

    // Either replica now tells the browser the reset is verified.
    for replica in &d.replicas {
        let state = replicas::reset_state(&browser, &replica.url(), &start.reset_id).unwrap();
        assert_eq!(state, "verified", "on {}", replica.addr());
    }
    assert!(d.served().iter().all(|&n| n > 0), "{:?}", d.served());
}

#[test]
fn a_per_user_limit_is_the_sum_over_the_replicas_not_each_ones() {
    let Some(d) = deploy(2) else { return };
    cityauth_server::admin::create_user(d.state(), "carol", "Carol", cityauth_e2e::GOOD_PASSWORD)
        .unwrap();
    let per_user = Limits::default().reset_start_per_user.max as usize;
    let mut statuses = Vec::new();
    // Each start from an address of its own, so that only the per-username limit binds.
    for n in 0..per_user + 10 {
        let browser = d.browser(ip(0, 3, n as u8 + 1));
        let (status, _) = replicas::reset_start(&browser, &d.url(), "carol").unwrap();
        statuses.push(status);
    }
    let accepted = statuses.iter().filter(|&&s| s == 200).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!((accepted, refused), (per_user, 10), "{statuses:?}");
    let served = d.served();
    assert!(
        served.iter().all(|&n| n >= per_user / 3),
        "both replicas counted: {served:?}"
    );
}

#[test]
fn a_long_poll_on_one_replica_is_woken_by_a_challenge_made_on_another() {
    let Some(d) = deploy(2) else { return };
    let phone = d.enrolled_phone("dave").unwrap();
    let (a, b) = (&d.replicas[0], &d.replicas[1]);
    let to_b = AgentTransport::pinned(d.browser(proxy_ip()), &d.url(), &b.url());
    let poll_seconds = 20;

    std::thread::scope(|scope| {
        let poll = scope.spawn(|| {
            let started = Instant::now();
            let found = phone
                .device_with(&to_b)
                .pending_challenges(poll_seconds)
                .unwrap();
            (found, started.elapsed())
        });
        // Give the poll time to reach B and wait there.
        std::thread::sleep(Duration::from_secs(1));
        let browser = d.browser(ip(0, 0, 3));
        let (status, _) = replicas::reset_start(&browser, &a.url(), "dave").unwrap();
        assert_eq!(status, 200);
        let (found, took) = poll.join().unwrap();
        assert_eq!(found.len(), 1, "the challenge made on A");
        // Not a speed measurement: a poll nobody wakes answers at its timeout, 20 s.
        assert!(
            took < Duration::from_secs(poll_seconds / 2),
            "woken by A's publication, not by its timeout: {took:?}"
        );
    });
}

/// What the device loops saw.
#[derive(Default)]
struct Tally {
    /// (reset id, challenge id) of every answer the server acknowledged as approved.
    acknowledged: Vec<(String, String)>,
    /// How many times the server said "approved" for each challenge.
    approvals: HashMap<String, usize>,
    /// Requests that got no usable answer (the killed replica's).
    errors: usize,
    /// Approvals sent again after their acknowledgement, and refused.
    replays_refused: usize,
}

/// One device's round trips for each of its accounts: a reset started through nginx from
/// an address of its own, the challenge fetched, the number typed, approved. An answer
/// that got no reply is sent once more (the retry a phone makes).
fn device_loop(
    d: &Deployment,
    lane: u8,
    phones: &[(String, ProxiedPhone)],
    rounds: u8,
    tally: &Mutex<Tally>,
    done: &AtomicUsize,
) {
    let mut dirty = vec![false; phones.len()];
    for round in 0..rounds {
        for (k, (username, phone)) in phones.iter().enumerate() {
            let device = phone.device();
            if dirty[k] {
                // A challenge of an earlier, failed round may still wait: turn it down.
                if let Ok(left) = device.pending_challenges(0) {
                    for challenge in &left {
                        let _ = device.answer(challenge, Decision::Deny, None);
                    }
                    dirty[k] = false;
                }
            }
            let browser = d.browser(ip(1, lane, round * phones.len() as u8 + k as u8 + 1));
            let start = match replicas::reset_start(&browser, &d.url(), username) {
                Ok((200, Some(start))) => start,
                _ => {
                    tally.lock().unwrap().errors += 1;
                    dirty[k] = true;
                    continue;
                }
            };
            let challenge = match device.pending_challenges(10) {
                Ok(list) if list.len() == 1 => list.into_iter().next().unwrap(),
                _ => {
                    tally.lock().unwrap().errors += 1;
                    dirty[k] = true;
                    continue;
                }
            };
            for _attempt in 0..2 {
                match device.answer(&challenge, Decision::Approve, Some(&start.number)) {
                    Ok(outcome) => {
                        let tally_ref = tally;
                        let mut tally = tally.lock().unwrap();
                        *tally.approvals.entry(challenge.id.clone()).or_default() += 1;
                        assert_eq!(outcome, "approved");
                        tally
                            .acknowledged
                            .push((start.reset_id.clone(), challenge.id.clone()));
                        done.fetch_add(1, Ordering::Relaxed);
                        drop(tally);
                        if k == 0 {
                            replay(&device, &challenge, &start.number, tally_ref);
                        }
                        break;
                    }
                    Err(_) => tally.lock().unwrap().errors += 1,
                }
            }
        }
    }
}

/// Sends an acknowledged approval once more, as a phone that missed the answer would (a
/// new signed request; nginx sends it on to the next replica): it must be refused.
fn replay(
    device: &cityauth_core::device::Device<'_>,
    challenge: &cityauth_core::device::Challenge,
    number: &str,
    tally: &Mutex<Tally>,
) {
    let again = device.answer(challenge, Decision::Approve, Some(number));
    let mut tally = tally.lock().unwrap();
    match again {
        Ok(_) => *tally.approvals.entry(challenge.id.clone()).or_default() += 1,
        Err(_) => tally.replays_refused += 1,
    }
}

#[test]
fn a_replica_killed_under_load_loses_no_acknowledged_answer_and_rejoins_when_restarted() {
    let Some(d) = deploy(2) else { return };
    const LANES: u8 = 6;
    const ACCOUNTS: u8 = 5;
    // Each account's anonymous push cap (5 an hour) allows this many resets.
    const ROUNDS: u8 = 5;
    let lanes: Vec<Vec<(String, ProxiedPhone)>> = (0..LANES)
        .map(|lane| {
            (0..ACCOUNTS)
                .map(|k| {
                    let name = format!("worker-{lane}-{k}");
                    let phone = d.enrolled_phone(&name).unwrap();
                    (name, phone)
                })
                .collect()
        })
        .collect();
    let total = usize::from(LANES) * usize::from(ACCOUNTS) * usize::from(ROUNDS);
    let tally = Mutex::new(Tally::default());
    let done = AtomicUsize::new(0);
    let wait_for = |n: usize| {
        let started = Instant::now();
        while done.load(Ordering::Relaxed) < n && started.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(5));
        }
    };

    let served_after_restart = std::thread::scope(|scope| {
        let d = &d;
        let workers: Vec<_> = lanes
            .iter()
            .enumerate()
            .map(|(lane, phones)| {
                let (tally, done) = (&tally, &done);
                scope.spawn(move || device_loop(d, lane as u8, phones, ROUNDS, tally, done))
            })
            .collect();
        wait_for(total / 5);
        let served_before = d.served()[0];
        d.replicas[0].kill();
        wait_for(total / 2);
        d.replicas[0].restart().expect("the replica restarts");
        let at_restart = d.served()[0];
        for worker in workers {
            worker.join().unwrap();
        }
        (served_before, at_restart)
    });
    let (served_before_kill, served_at_restart) = served_after_restart;
    let tally = tally.into_inner().unwrap();
    eprintln!(
        "{} of {total} round trips acknowledged, {} requests without an answer, {} replayed \
         approvals refused",
        tally.acknowledged.len(),
        tally.errors,
        tally.replays_refused
    );
    assert!(served_before_kill > 0);
    assert!(
        tally.acknowledged.len() >= total / 2,
        "the other replica carried the load"
    );

    // Nothing acknowledged is lost: each approved challenge is stored approved and its reset
    // verified, whichever replica the browser asks.
    let stored: HashMap<String, String> = d
        .sql("SELECT id || ' ' || state FROM challenges")
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(id, state)| (id.to_owned(), state.to_owned()))
        .collect();
    let browser = d.browser(ip(0, 0, 4));
    for (reset_id, challenge_id) in &tally.acknowledged {
        assert_eq!(
            stored.get(challenge_id).map(String::as_str),
            Some("approved")
        );
        let state = replicas::reset_state(&browser, &d.url(), reset_id).unwrap();
        assert_eq!(state, "verified", "reset {reset_id}");
    }
    // Nothing is answered twice: the server said "approved" at most once per challenge, and
    // recorded at most one answer for each.
    assert!(
        tally.approvals.values().all(|&n| n == 1),
        "{:?}",
        tally.approvals
    );
    let answers = d
        .sql("SELECT detail FROM audit WHERE event = 'challenge_answer'")
        .unwrap();
    let mut seen = HashSet::new();
    for line in answers.lines() {
        let id = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        assert!(seen.insert(id), "answered twice: {line}");
    }

    // The restarted replica is back in nginx's rotation and answers: nginx tries a replica
    // that failed again after `fail_timeout` (1 s), so it rejoins within seconds.
    let started = Instant::now();
    while d.served()[0] <= served_at_restart && started.elapsed() < Duration::from_secs(15) {
        let response = browser.get(format!("{}/healthz", d.url())).call().unwrap();
        assert_eq!(response.status(), 200);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        d.served()[0] > served_at_restart,
        "the restarted replica serves again: {:?}",
        d.served()
    );
    // And it answers from the shared database what the other replica decided meanwhile.
    let (last_reset, _) = tally.acknowledged.last().unwrap();
    let state = replicas::reset_state(&browser, &d.replicas[0].url(), last_reset).unwrap();
    assert_eq!(state, "verified");
}
