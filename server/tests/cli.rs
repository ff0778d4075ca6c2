//! The `cityauth-server` binary: admin commands and `serve`, as an administrator runs them.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cityauth_protocol::EnrollmentLink;

const BIN: &str = env!("CARGO_BIN_EXE_cityauth-server");

/// Runs this build's binary on `db`: (success, stdout, stderr).
fn run(db: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    common::run_binary(std::path::Path::new(BIN), db, args, stdin)
}

#[test]
fn admin_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let add = ["user", "add", "alice", "--display-name", "Alice Example"];
    let (ok, _, err) = run(&db, &add, "password12345678\n");
    assert!(!ok && err.contains("too common"), "{err}");
    let (ok, out, err) = run(&db, &add, "Tangerine-Orbit-Lantern-42\n");
    assert!(ok, "{err}");
    assert!(out.contains("added alice"));
    let (ok, _, err) = run(&db, &add, "Tangerine-Orbit-Lantern-42\n");
    assert!(!ok && err.contains("already exists"), "{err}");

    let (ok, out, _) = run(
        &db,
        &[
            "--public-url",
            "https://auth.city.example",
            "enroll-link",
            "alice",
        ],
        "",
    );
    assert!(ok);
    let link = EnrollmentLink::parse(out.trim()).unwrap();
    assert_eq!(link.server, "https://auth.city.example");

    let (ok, out, _) = run(&db, &["access-code", "alice"], "");
    assert!(ok && out.trim().len() >= 43);
    assert!(run(&db, &["devices", "alice"], "").0);
    assert!(run(&db, &["unblock", "alice"], "").0);
    let (ok, _, err) = run(&db, &["devices", "bob"], "");
    assert!(!ok && err.contains("no user named bob"));

    let (ok, out, _) = run(&db, &["audit", "--user", "alice"], "");
    assert!(ok);
    for event in [
        "user_created",
        "enrollment_code_issued",
        "access_code_issued",
        "unblocked",
    ] {
        assert!(out.contains(event), "{event} in {out}");
    }
    assert!(!out.contains(&link.code), "no secrets in the audit");
}

#[test]
fn serve_answers_and_remembers_its_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}");
    let mut server = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args([
            "--public-url",
            &url,
            "serve",
            "--listen",
            &listen,
            "--number-digits",
            "6",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let started = Instant::now();
    let reply = loop {
        let attempt = agent
            .post(format!("{url}/api/v1/reset/start"))
            .header("content-type", "application/json")
            .send(r#"{"username": "nobody"}"#);
        match attempt {
            Ok(mut response) => break response.body_mut().read_to_string().unwrap(),
            Err(_) if started.elapsed() < Duration::from_secs(20) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("the server did not start: {e}"),
        }
    };
    let body: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(body["number"].as_str().unwrap().len(), 6);
    let _ = server.kill();
    let _ = server.wait();

    let add = ["user", "add", "alice", "--display-name", "Alice Example"];
    assert!(run(&db, &add, "Tangerine-Orbit-Lantern-42\n").0);
    let (ok, out, _) = run(&db, &["enroll-link", "alice"], "");
    assert!(ok);
    assert_eq!(EnrollmentLink::parse(out.trim()).unwrap().server, url);
}

/// Starts `serve` on a free loopback port; the child and its URL once it answers.
fn start_serving(db: &std::path::Path) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}");
    let server = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(["--public-url", &url, "serve", "--listen", &listen])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, url)
}

/// Stops `serve` as a service manager does (SIGTERM): it finishes and writes its audit queue.
fn terminate(mut server: std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(server.wait().unwrap().success(), "a clean exit on SIGTERM");
}

#[test]
fn audit_lines_cannot_be_forged_by_a_crafted_username() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let forged = "mallory\n1700000000\talice\tsigned_in\t127.0.0.1\thelp-desk access code\u{1b}[2K";
    // Today's server refuses a username with control characters (400) before anything is
    // written, but the previous release took any at the reset start: its audit rows, still
    // in the database, may hold one like this.
    let (server, url) = start_serving(&db);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let reply = agent
        .post(format!("{url}/api/v1/reset/start"))
        .header("content-type", "application/json")
        .send(serde_json::json!({ "username": forged }).to_string())
        .unwrap();
    assert_eq!(reply.status(), 400);
    terminate(server);
    {
        let state = cityauth_server::AppState::open(
            &db,
            cityauth_server::Config::new("http://127.0.0.1:1"),
        )
        .unwrap();
        state.audit(
            Some(forged),
            "reset_start",
            "reset AAAAAAAA…: unknown username",
            Some("127.0.0.1"),
        );
    }

    let (ok, text, err) = run(&db, &["audit"], "");
    assert!(ok, "{err}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one event, one line: {text:?}");
    let columns: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(columns.len(), 5, "{columns:?}");
    assert_eq!(columns[2], "reset_start");
    assert!(columns[1].starts_with("mallory\\n1700000000\\talice\\tsigned_in"));
    assert!(columns[1].ends_with("\\u{1b}[2K"), "{}", columns[1]);
    assert!(!text.contains('\u{1b}'));

    let (ok, json, err) = run(&db, &["audit", "--json"], "");
    assert!(ok, "{err}");
    let events: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{json}");
    assert_eq!(events[0]["username"], forged, "JSON keeps the name exactly");
    assert_eq!(events[0]["event"], "reset_start");
    assert_eq!(events[0]["client_ip"], "127.0.0.1");
    assert!(events[0]["time"].as_u64().is_some());
}
