//! The real `cityauth-server` binary on SQLite, killed with SIGKILL under load at seeded
//! random points and restarted on the same database and port, several times over. Phones
//! approve resets, employees set new passwords, new phones enroll, all the while. Afterwards:
//! every answer the server acknowledged is recorded (challenge approved, reset verified or
//! done), no challenge is accepted twice (each acknowledged approval is sent again, right
//! away and after the last restart: refused), no enrollment code enrolls twice, and a
//! password set while the server died is in effect either completely or not at all (exactly
//! one of the old and new passwords signs in, and the reset's state agrees).
//!
//! The password checks use the built-in user store (a row in the same SQLite database);
//! on a directory (slapd, AD) the write is the directory's and is not tested here.
//! `CITYAUTH_CRASH_SEED` reproduces a run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cityauth_core::ClientError;
use cityauth_core::device::{Challenge, Decision};
use cityauth_e2e::faults::{Rng, agent};
use cityauth_e2e::process::{free_port, run, server_binary};
use cityauth_e2e::{GOOD_PASSWORD, Phone, replicas};
use serde_json::{Value, json};

/// How many times the server is killed.
const KILLS: usize = 10;
/// Phones approving resets as fast as they can.
const APPROVERS: usize = 4;
/// Employees resetting their password over and over.
const PASSWORD_USERS: usize = 3;
/// Enrollment links used during the load.
const LINKS: usize = 24;

/// Limits high enough that the load is not throttled (the limits are not under test).
const LIMITS: [(&str, &str); 9] = [
    ("CITYAUTH_LIMITS_RESET_START_PER_USER", "100000/600"),
    ("CITYAUTH_LIMITS_RESET_START_PER_USER_IP", "100000/600"),
    ("CITYAUTH_LIMITS_RESET_START_PER_IP", "100000/600"),
    ("CITYAUTH_LIMITS_PUSH_ANONYMOUS", "100000/3600"),
    ("CITYAUTH_LIMITS_PUSH_AFTER_PASSWORD", "100000/3600"),
    ("CITYAUTH_LIMITS_SIGN_IN_PER_USER", "100000/600"),
    ("CITYAUTH_LIMITS_SIGN_IN_PER_USER_IP", "100000/600"),
    ("CITYAUTH_LIMITS_SIGN_IN_PER_IP", "100000/600"),
    ("CITYAUTH_LIMITS_LOCK_AFTER", "100000"),
];

/// The server's folder and address, and the process while it runs.
struct Site {
    dir: tempfile::TempDir,
    port: u16,
    child: Mutex<Option<Child>>,
    starts: AtomicUsize,
}

impl Site {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kek"), "cd".repeat(32)).unwrap();
        Self {
            dir,
            port: free_port(),
            child: Mutex::new(None),
            starts: AtomicUsize::new(0),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("city.db")
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn global(&self) -> Vec<String> {
        let path = |p: &Path| p.to_str().unwrap().to_owned();
        vec![
            "--db".into(),
            path(&self.db()),
            "--kek-file".into(),
            path(&self.dir.path().join("kek")),
            "--public-url".into(),
            self.url(),
        ]
    }

    fn admin(&self, args: &[&str], stdin: &str) -> String {
        let mut all = self.global();
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = run(&refs, &[], stdin);
        assert!(out.success, "{args:?}: {}", out.stderr);
        out.stdout
    }

    /// Starts `serve` on the site's port (the same each time) and waits until it listens.
    fn start(&self) {
        let n = self.starts.fetch_add(1, Ordering::Relaxed);
        let log = std::fs::File::create(self.dir.path().join(format!("serve-{n}.log"))).unwrap();
        let child = Command::new(server_binary())
            .args(self.global())
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .envs(LIMITS)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        *self.child.lock().unwrap() = Some(child);
        let started = Instant::now();
        while reset_state(&self.url(), "none").is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown, no flush, whatever it was doing.
    fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.kill();
    }
}

/// POSTs JSON; the status and the answer, or an error if the server did not answer.
fn post(base: &str, path: &str, body: &Value) -> Result<(u16, Value), String> {
    let mut response = agent()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .send(body.to_string())
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn reset_state(base: &str, reset_id: &str) -> Result<String, String> {
    replicas::reset_state(&agent(), base, reset_id)
}

/// Turns down whatever a failed round left waiting on the phone; false if the server did
/// not answer.
fn clear_leftovers(phone: &Phone) -> bool {
    let device = phone.device();
    let Ok(left) = device.pending_challenges(0) else {
        return false;
    };
    left.iter()
        .all(|c| device.answer(c, Decision::Deny, None).is_ok())
}

/// A reset started and approved on `phone`: (reset id, challenge, number), or None if the
/// server failed somewhere on the way (`dirty` then says the phone may hold a leftover).
fn approved_reset(
    base: &str,
    username: &str,
    phone: &Phone,
    dirty: &mut bool,
) -> Option<(String, Challenge, String)> {
    if *dirty {
        if !clear_leftovers(phone) {
            return None;
        }
        *dirty = false;
    }
    *dirty = true;
    let (200, Some(start)) = replicas::reset_start(&agent(), base, username).ok()? else {
        return None;
    };
    let device = phone.device();
    let list = device.pending_challenges(5).ok()?;
    let [challenge] = list.as_slice() else {
        return None;
    };
    let outcome = device
        .answer(challenge, Decision::Approve, Some(&start.number))
        .ok()?;
    assert_eq!(outcome, "approved");
    *dirty = false;
    Some((start.reset_id, challenge.clone(), start.number))
}

/// What the load saw.
#[derive(Default)]
struct Tally {
    /// (reset id, challenge, number) of every approval the server acknowledged.
    approved: Vec<(String, Challenge, String)>,
    /// Acknowledged approvals sent again at once, and refused.
    replays_refused: usize,
    /// Requests that got no answer or a failure (the server was down or died mid-way).
    failures: usize,
    /// Per password user: the password the server last acknowledged, and one it was sent
    /// with no answer since (in flight when the server died).
    passwords: HashMap<String, (String, Option<(String, String)>)>,
    /// Link → phones it enrolled (acknowledged).
    enrolled: HashMap<String, usize>,
    /// Enrollments sent that got no acknowledgement.
    enroll_failures: usize,
}

fn approver(site: &Site, username: &str, phone: &Phone, stop: &AtomicBool, tally: &Mutex<Tally>) {
    let mut dirty = false;
    while !stop.load(Ordering::Relaxed) {
        match approved_reset(&site.url(), username, phone, &mut dirty) {
            Some((reset, challenge, number)) => {
                // The phone sends its approval once more (a retry after a lost answer).
                let again = phone
                    .device()
                    .answer(&challenge, Decision::Approve, Some(&number));
                let mut tally = tally.lock().unwrap();
                match again {
                    Err(ClientError::Refused { .. }) => tally.replays_refused += 1,
                    Err(_) => tally.failures += 1,
                    Ok(outcome) => panic!("a challenge accepted twice: {outcome}"),
                }
                tally.approved.push((reset, challenge, number));
            }
            None => {
                tally.lock().unwrap().failures += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

fn password_changer(
    site: &Site,
    username: &str,
    phone: &Phone,
    stop: &AtomicBool,
    tally: &Mutex<Tally>,
) {
    let mut dirty = false;
    let mut round = 0;
    while !stop.load(Ordering::Relaxed) {
        let Some((reset, challenge, number)) =
            approved_reset(&site.url(), username, phone, &mut dirty)
        else {
            tally.lock().unwrap().failures += 1;
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        round += 1;
        let password = format!(
            "amber-harbour-{round}-lantern-{}",
            username.len() * 7 + round
        );
        let path = format!("/api/v1/reset/{reset}/password");
        let body = json!({ "password": password });
        // A refused connection never reached the server: send it again once it is back.
        let sent = loop {
            match post(&site.url(), &path, &body) {
                Err(e) if e.contains("refused") => std::thread::sleep(Duration::from_millis(20)),
                other => break other,
            }
        };
        let mut tally = tally.lock().unwrap();
        tally.approved.push((reset.clone(), challenge, number));
        let entry = tally.passwords.get_mut(username).unwrap();
        match sent {
            Ok((200, _)) => *entry = (password, None),
            Ok((status, body)) => panic!("setting the password: {status} {body}"),
            // No answer: the server died with the request in flight.
            Err(_) => {
                assert!(entry.1.is_none(), "one password in flight at most");
                entry.1 = Some((password, reset));
                drop(tally);
                // Later rounds would blur which one was in flight: this employee is done.
                return;
            }
        }
    }
}

fn enroller(links: &[String], stop: &AtomicBool, tally: &Mutex<Tally>) {
    for link in links {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let phone = Phone::new();
        let result = phone.device().enroll(link, "Test phone", "android", None);
        let mut tally = tally.lock().unwrap();
        match result {
            Ok(_) => *tally.enrolled.entry(link.clone()).or_default() += 1,
            Err(_) => tally.enroll_failures += 1,
        }
        drop(tally);
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Whether `password` signs `username` in (200), or is refused (401); panics on anything else.
fn signs_in(site: &Site, username: &str, password: &str) -> bool {
    let (status, body) = post(
        &site.url(),
        "/api/v1/signin",
        &json!({ "username": username, "password": password }),
    )
    .unwrap();
    match status {
        200 => true,
        401 => false,
        _ => panic!("sign-in: {status} {body}"),
    }
}

#[test]
fn the_server_killed_under_load_loses_no_acknowledged_answer_and_accepts_nothing_twice() {
    if cityauth_e2e::sqlite_only("the server killed on its SQLite file") {
        return;
    }
    let seed = std::env::var("CITYAUTH_CRASH_SEED").map_or(0x15_5E4, |v| v.parse().unwrap());
    println!("seed {seed}");
    let mut rng = Rng::new(seed);
    let site = Site::new();
    site.start();
    let users = |prefix: &str, n: usize| -> Vec<String> {
        (0..n).map(|k| format!("{prefix}-{k}")).collect()
    };
    let (approvers, changers, newcomers) = (
        users("worker", APPROVERS),
        users("changer", PASSWORD_USERS),
        users("newcomer", LINKS),
    );
    for name in approvers.iter().chain(&changers).chain(&newcomers) {
        site.admin(
            &["user", "add", name, "--display-name", "Test Employee"],
            &format!("{GOOD_PASSWORD}\n"),
        );
    }
    let phone_of = |name: &str| {
        let link = site.admin(&["enroll-link", name], "");
        let phone = Phone::new();
        phone.enroll(link.lines().last().unwrap());
        phone
    };
    let approver_phones: Vec<Phone> = approvers.iter().map(|n| phone_of(n)).collect();
    let changer_phones: Vec<Phone> = changers.iter().map(|n| phone_of(n)).collect();
    let links: Vec<String> = newcomers
        .iter()
        .map(|n| {
            site.admin(&["enroll-link", n], "")
                .lines()
                .last()
                .unwrap()
                .to_owned()
        })
        .collect();

    let tally = Mutex::new(Tally::default());
    for name in &changers {
        tally
            .lock()
            .unwrap()
            .passwords
            .insert(name.clone(), (GOOD_PASSWORD.to_owned(), None));
    }
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let (site, stop, tally) = (&site, &stop, &tally);
        for (name, phone) in approvers.iter().zip(&approver_phones) {
            scope.spawn(move || approver(site, name, phone, stop, tally));
        }
        for (name, phone) in changers.iter().zip(&changer_phones) {
            scope.spawn(move || password_changer(site, name, phone, stop, tally));
        }
        let links = &links;
        scope.spawn(move || enroller(links, stop, tally));
        for _ in 0..KILLS {
            let target = tally.lock().unwrap().approved.len() + 10 + rng.below(30) as usize;
            let waiting = Instant::now();
            while tally.lock().unwrap().approved.len() < target {
                assert!(
                    waiting.elapsed() < Duration::from_secs(60),
                    "the load stalled"
                );
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(Duration::from_millis(rng.below(40)));
            site.kill();
            std::thread::sleep(Duration::from_millis(rng.below(300)));
            site.start();
        }
        let target = tally.lock().unwrap().approved.len() + 10;
        while tally.lock().unwrap().approved.len() < target {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let tally = tally.into_inner().unwrap();
    println!(
        "{KILLS} kills in {:.1} s: {} approvals acknowledged, {} replays refused at once, {} \
         requests failed; {} links enrolled, {} enrollments unacknowledged",
        started.elapsed().as_secs_f64(),
        tally.approved.len(),
        tally.replays_refused,
        tally.failures,
        tally.enrolled.len(),
        tally.enroll_failures
    );

    // Every acknowledged approval is on record, its reset verified (or done: a password set).
    let conn = rusqlite::Connection::open(site.db()).unwrap();
    for (reset, challenge, _) in &tally.approved {
        let state: String = conn
            .query_row(
                "SELECT state FROM challenges WHERE id = ?1",
                [&challenge.id],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("challenge {} lost: {e}", challenge.id));
        assert_eq!(state, "approved", "challenge {}", challenge.id);
        let reset_now = reset_state(&site.url(), reset).unwrap();
        assert!(
            reset_now == "verified" || reset_now == "done",
            "reset {reset}: {reset_now}"
        );
    }
    // None is accepted again by the restarted server.
    let phones: HashMap<&str, &Phone> = approvers
        .iter()
        .zip(&approver_phones)
        .chain(changers.iter().zip(&changer_phones))
        .map(|(n, p)| (n.as_str(), p))
        .collect();
    let mut refusals: HashMap<String, usize> = HashMap::new();
    for (_, challenge, number) in &tally.approved {
        let phone = phones[challenge.account.as_str()];
        match phone
            .device()
            .answer(challenge, Decision::Approve, Some(number))
        {
            Err(ClientError::Refused { code, .. }) => *refusals.entry(code).or_default() += 1,
            other => panic!(
                "challenge {} answered again after restart: {other:?}",
                challenge.id
            ),
        }
    }
    println!("approvals sent again after the last restart, refused as: {refusals:?}");

    // No enrollment code enrolls twice: each link is tried again with a new phone; a link
    // whose use never got an answer may enroll now, once.
    let mut second_uses = 0;
    for link in &links {
        let before = tally.enrolled.get(link).copied().unwrap_or(0);
        assert!(before <= 1, "a link enrolled {before} phones");
        let mut successes = before;
        for _ in 0..2 {
            match Phone::new()
                .device()
                .enroll(link, "Another phone", "android", None)
            {
                Ok(_) => {
                    successes += 1;
                    second_uses += 1;
                }
                Err(ClientError::Refused { code, .. }) => {
                    *refusals.entry(format!("enroll {code}")).or_default() += 1;
                }
                Err(other) => panic!("enrolling again: {other:?}"),
            }
        }
        assert!(
            successes <= 1,
            "an enrollment code enrolled {successes} phones"
        );
    }

    // A password set as the server died took effect completely or not at all: exactly one
    // of the last acknowledged and the in-flight password signs in, and the reset agrees.
    let mut in_flight = 0;
    for (name, (acknowledged, pending)) in &tally.passwords {
        let old_works = signs_in(&site, name, acknowledged);
        match pending {
            None => assert!(old_works, "{name}: the acknowledged password"),
            Some((new, reset)) => {
                in_flight += 1;
                let new_works = signs_in(&site, name, new);
                assert!(
                    old_works != new_works,
                    "{name}: old {old_works}, new {new_works}"
                );
                let state = reset_state(&site.url(), reset).unwrap();
                assert_eq!(state == "done", new_works, "{name}: reset {state}");
            }
        }
    }
    println!("refusals after the last restart: {refusals:?}");
    println!(
        "after the last restart: {} acknowledged approvals all recorded and refused again, \
         {second_uses} links first used now, {in_flight} passwords in flight checked",
        tally.approved.len()
    );
    assert!(tally.approved.len() >= KILLS * 10);
}
