//! Issue 14, item 4: `watch` against the real server on loopback rides out the server going
//! away and coming back on the same port and data (one line on stderr for the outage, not one
//! per retry), then shows the next request; and the default device name is the host's.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use cityauth_server::{AppState, Config, RunningServer, admin};
use common::{PASSPHRASE, command, run, vault_dir};

/// The server on `addr` (a fresh port when `None`), its data in `dir`.
fn serve(dir: &Path, addr: Option<SocketAddr>) -> RunningServer {
    let listener = TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap()))
        .expect("bind (the same port again after a restart)");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::open(&dir.join("city.sqlite"), Config::new(&url)).unwrap();
    cityauth_server::spawn_on(listener, state).unwrap()
}

/// Starts a password reset for `username` as a browser would (a plain HTTP POST).
fn start_reset(addr: SocketAddr, username: &str) -> String {
    let body = format!("{{\"username\":\"{username}\"}}");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /api/v1/reset/start HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// Waits up to `limit` for a line containing `needle`; every line read goes into `seen`.
fn wait_for(lines: &Receiver<String>, seen: &mut Vec<String>, needle: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                panic!(
                    "no {needle:?} within {limit:?}; stderr so far:\n{}",
                    seen.join("\n")
                )
            }
        }
    }
}

#[test]
fn watch_survives_a_server_restart_and_shows_the_next_request() {
    let (dir, vault) = vault_dir();
    let server = serve(dir.path(), None);
    let addr = server.addr();
    admin::create_user(
        server.state(),
        "alice",
        "Alice Example",
        "violet-harbour-93-lantern",
    )
    .unwrap();
    let link = admin::enrollment_link(server.state(), "alice").unwrap();
    run(&vault, &["init"]).assert_ok();
    // A decoy $HOSTNAME: the name must come from the system, not from a shell variable.
    let mut enroll = command(&["enroll", &link]);
    enroll
        .env("CITYAUTH_VAULT", &vault)
        .env("CITYAUTH_PASSPHRASE", PASSPHRASE)
        .env("HOSTNAME", "decoy-from-the-environment");
    common::output(enroll).assert_ok();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let names: Vec<String> = admin::devices(server.state(), "alice")
        .unwrap()
        .into_iter()
        .map(|d| d.device.name)
        .collect();
    assert_eq!(names, [format!("cityauth on {}", host.trim())]);

    let mut watch = command(&["watch", "--once"]);
    watch
        .env("CITYAUTH_VAULT", &vault)
        .env("CITYAUTH_PASSPHRASE", PASSPHRASE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = watch.spawn().unwrap();
    let (sender, lines) = channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let long = Duration::from_secs(15);
    wait_for(&lines, &mut seen, "Waiting for approval requests", long);
    // Into its long poll, then the server goes away under it.
    std::thread::sleep(Duration::from_millis(500));
    server.stop().unwrap();
    wait_for(&lines, &mut seen, "The server does not answer", long);
    // Long enough for several retries (1 s, then 2 s, then 4 s apart).
    std::thread::sleep(Duration::from_secs(5));
    let server = serve(dir.path(), Some(addr));
    wait_for(
        &lines,
        &mut seen,
        "The server answers again",
        Duration::from_secs(20),
    );
    std::thread::sleep(Duration::from_millis(300));
    start_reset(addr, "alice");
    wait_for(&lines, &mut seen, "Password reset for alice", long);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"d\n").unwrap();
    drop(stdin);
    wait_for(&lines, &mut seen, "denied", long);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}; stderr:\n{}", seen.join("\n"));
    let outages = seen
        .iter()
        .filter(|line| line.contains("does not answer"))
        .count();
    assert_eq!(outages, 1, "one line per outage:\n{}", seen.join("\n"));
    drop(server);
}

#[test]
fn watch_still_ends_on_an_error_that_will_not_pass() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    run(&vault, &["watch", "--once"]).assert_error("not_enrolled", 4, "not enrolled");
}
