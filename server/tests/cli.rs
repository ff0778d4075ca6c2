//! The `cityauth-server` binary: admin commands and `serve`, as an administrator runs them.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cityauth_protocol::EnrollmentLink;

const BIN: &str = env!("CARGO_BIN_EXE_cityauth-server");

fn run(db: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn admin_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let add = ["user", "add", "alice", "--display-name", "Alice Example"];
    let (ok, _, err) = run(&db, &add, "password1234\n");
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
