//! The operations kit on the real `cityauth-server` binary: its JSON log after every
//! end-to-end flow holds none of the secrets the flows used, and every line is JSON with a
//! request id where it belongs to a request; a backup made while serving, restored into a
//! new database, serves the enrolled phone from a new server process.

use std::path::Path;

use cityauth_core::device::{
    Device, HttpRequest, HttpResponse, Transport, TransportError, UreqTransport,
};
use cityauth_e2e::portal::Browser;
use cityauth_e2e::process::{ServerProcess, free_port, run};
use cityauth_e2e::{GOOD_PASSWORD, Phone};
use serde_json::{Value, json};

/// Passwords the flows set, one after another (each passes the policy).
const PASSWORDS: [&str; 4] = [
    GOOD_PASSWORD,
    "copper-meadow-71-quartz",
    "saffron-glacier-28-tundra",
    "indigo-pylon-55-harvest",
];

/// A transport that keeps every answer's body, to learn the secrets the server handed out.
struct Recording {
    inner: UreqTransport,
    bodies: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl Transport for Recording {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let response = self.inner.send(request)?;
        self.bodies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(response.body.clone());
        Ok(response)
    }
}

/// The server's state folder: the database, the KEK file (64 hex digits) and the log.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kek"), "ab".repeat(32)).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    /// The global flags for the database `db`.
    fn global(&self, db: &str, port: u16) -> Vec<String> {
        vec![
            "--db".into(),
            self.path(db),
            "--kek-file".into(),
            self.path("kek"),
            "--public-url".into(),
            format!("http://127.0.0.1:{port}"),
        ]
    }

    fn admin(&self, db: &str, port: u16, args: &[&str], stdin: &str) -> String {
        let mut all: Vec<String> = self.global(db, port);
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = run(&refs, &[], stdin);
        assert!(out.success, "{args:?}: {}", out.stderr);
        out.stdout
    }

    fn serve(&self, db: &str, port: u16, log: &str) -> ServerProcess {
        let global = self.global(db, port);
        let refs: Vec<&str> = global.iter().map(String::as_str).collect();
        ServerProcess::start(
            &refs,
            port,
            &["--log-format", "json"],
            &[("RUST_LOG", "debug")],
            Path::new(&self.path(log)),
        )
    }
}

/// Enrolls `phone` with the link, recording the server's answer: the OATH seed in base32.
fn enroll_recording(phone: &Phone, link: &str, push_token: &str) -> String {
    let recording = Recording {
        inner: UreqTransport::new(),
        bodies: Default::default(),
    };
    Device::new(&phone.vault, &recording)
        .enroll(link, "Test phone", "android", Some(push_token.to_owned()))
        .expect("enrolled");
    let bodies = recording.bodies.lock().unwrap();
    let answer: Value = bodies
        .iter()
        .rev()
        .find_map(|b| {
            serde_json::from_slice::<Value>(b)
                .ok()
                .filter(|v| v.get("oath_link").is_some())
        })
        .expect("the enrollment answer");
    let oath = answer["oath_link"].as_str().unwrap();
    oath.split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned()
}

/// The phone's current code for the City account.
fn app_code(phone: &Phone) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let codes = phone.vault.codes_now(now).unwrap();
    codes[0].code.to_string()
}

fn post(url: &str, path: &str, body: &Value) -> (u16, Value, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("{url}{path}"))
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (response.status().as_u16(), value, id)
}

#[test]
fn the_json_log_of_every_flow_holds_no_password_code_seed_or_token_and_each_request_line_has_its_id()
 {
    let site = Site::new();
    let port = free_port();
    let server = site.serve("city.db", port, "serve.log");
    let url = server.url();
    site.admin(
        "city.db",
        port,
        &["user", "add", "alice", "--display-name", "Alice"],
        &format!("{}\n", PASSWORDS[0]),
    );

    // Enrollment: the link's single-use code, the seed the answer carries, a push token.
    let link = site.admin("city.db", port, &["enroll-link", "alice"], "");
    let link = link.lines().last().unwrap().to_owned();
    let enrollment_code = link
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let phone = Phone::new();
    let push_token = "fcm-token-Zq81kLm0pW3rT7vY";
    let seed = enroll_recording(&phone, &link, push_token);
    let seed_hex: String = base32_decode(&seed)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    // A sign-in approved on the phone, then a reset approved on it, with a new password.
    let browser = Browser::new(&url);
    browser.sign_in("alice", PASSWORDS[0], &phone);
    let reset_browser = Browser::new(&url);
    let (reset, _) = reset_browser.verified_reset("alice", &phone);
    let done = reset_browser.new_password(&reset, PASSWORDS[1]);
    assert!(done.status == 200 || done.status == 303, "{}", done.html);

    // A reset verified by a code from the app.
    let (status, started, request_id) =
        post(&url, "/api/v1/reset/start", &json!({"username": "alice"}));
    assert_eq!(status, 200, "{started}");
    let reset_id = started["reset_id"].as_str().unwrap().to_owned();
    let code = app_code(&phone);
    let (status, body, _) = post(
        &url,
        &format!("/api/v1/reset/{reset_id}/code"),
        &json!({"code": code}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = post(
        &url,
        &format!("/api/v1/reset/{reset_id}/password"),
        &json!({"password": PASSWORDS[2]}),
    );
    assert_eq!(status, 200, "{body}");

    // A password change while signed in, approved on the phone.
    let signed = Browser::new(&url);
    signed.sign_in("alice", PASSWORDS[2], &phone);
    let waiting = signed.change_password(PASSWORDS[2], PASSWORDS[3]);
    let changed = signed.continue_change(&phone, &waiting);
    assert_eq!(changed.status, 303, "{}", changed.html);

    // A help-desk access code.
    let access_code = site
        .admin("city.db", port, &["access-code", "alice"], "")
        .trim()
        .to_owned();
    let (status, session, _) = post(
        &url,
        "/api/v1/signin/access-code",
        &json!({"username": "alice", "code": access_code}),
    );
    assert_eq!(status, 200, "{session}");

    let mut secrets: Vec<(String, String)> = PASSWORDS
        .iter()
        .map(|p| ("a password".to_owned(), (*p).to_owned()))
        .collect();
    secrets.push(("the enrollment code".into(), enrollment_code));
    secrets.push(("the seed (base32)".into(), seed.clone()));
    secrets.push(("the seed (hex)".into(), seed_hex));
    secrets.push(("the push token".into(), push_token.into()));
    secrets.push(("the app's code".into(), code));
    secrets.push(("the access code".into(), access_code));
    secrets.push((
        "a session".into(),
        session["session"].as_str().unwrap().to_owned(),
    ));
    for browser in [&browser, &reset_browser, &signed] {
        for value in browser.cookie_values() {
            if value.len() >= 16 {
                secrets.push(("a cookie".into(), value));
            }
        }
    }

    let log = server.stop();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.len() > 20, "the server logged: {log}");
    let mut answered = 0;
    let mut audits = Vec::new();
    for line in &lines {
        for (what, secret) in &secrets {
            assert!(!line.contains(secret.as_str()), "{what} in the log: {line}");
            // The lower-case form too: a token or seed logged after case-folding.
            assert!(
                !line.to_lowercase().contains(&secret.to_lowercase()),
                "{what} in the log: {line}"
            );
        }
        let value: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if value["target"] == "audit" {
            audits.push(value["event"].as_str().unwrap_or("").to_owned());
            assert_request_id(&value, line);
        }
        if value["message"] == "answered" {
            answered += 1;
            assert_request_id(&value, line);
        }
    }
    assert!(answered >= 15, "{answered} answered lines: {log}");
    for event in [
        "device_enrolled",
        "signed_in",
        "reset_start",
        "reset_code_accepted",
        "password_reset",
        "password_changed",
        "challenge_answer",
    ] {
        assert!(
            audits.iter().any(|e| e == event),
            "no audit event {event} in the log: {audits:?}"
        );
    }
    // The id the client got back names the request's lines.
    let request_id = request_id.expect("an X-Request-Id");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&request_id) && l.contains("reset_start")),
        "the reset start's audit line carries its request id {request_id}"
    );
}

fn assert_request_id(value: &Value, line: &str) {
    let id = value["span"]["request_id"].as_str().unwrap_or("");
    assert!(
        id.len() == 16 && id.bytes().all(|c| c.is_ascii_hexdigit()),
        "no request id: {line}"
    );
}

fn base32_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u32, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let index = alphabet
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .expect("base32") as u32;
        value = (value << 5) | index;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn a_backup_made_while_serving_restored_into_a_new_database_serves_the_enrolled_phone() {
    let site = Site::new();
    let port = free_port();
    let server = site.serve("city.db", port, "first.log");
    site.admin(
        "city.db",
        port,
        &["user", "add", "alice", "--display-name", "Alice"],
        &format!("{GOOD_PASSWORD}\n"),
    );
    let link = site.admin("city.db", port, &["enroll-link", "alice"], "");
    let phone = Phone::new();
    phone.enroll(link.lines().last().unwrap());

    // The copy, while the server runs: a private file.
    let copy = site.path("copy.db");
    let out = site.admin("city.db", port, &["backup", &copy], "");
    assert!(out.contains("backed up"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the backup is readable by its owner only");
    }
    // A second backup never writes over the first.
    let mut again = site.global("city.db", port);
    again.extend(["backup".to_owned(), copy.clone()]);
    let refs: Vec<&str> = again.iter().map(String::as_str).collect();
    assert!(
        !run(&refs, &[], "").success,
        "a backup over an existing file is refused"
    );
    drop(server.stop());

    // Restored into a new database (never over one), served on the same address.
    let out = site.admin("restored.db", port, &["restore", &copy], "");
    assert!(out.contains("restored"), "{out}");
    let mut over = site.global("restored.db", port);
    over.extend(["restore".to_owned(), copy.clone()]);
    let refs: Vec<&str> = over.iter().map(String::as_str).collect();
    let refused = run(&refs, &[], "");
    assert!(
        !refused.success && refused.stderr.contains("exists"),
        "{}",
        refused.stderr
    );

    let server = site.serve("restored.db", port, "second.log");
    let browser = Browser::new(&server.url());
    let (reset, _) = browser.verified_reset("alice", &phone);
    let done = browser.new_password(&reset, "copper-meadow-71-quartz");
    assert!(done.status == 200 || done.status == 303, "{}", done.html);
}

/// PostgreSQL's client tools (Debian's postgresql-15).
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

fn pg_tool(tool: &str, args: &[&str]) {
    let out = std::process::Command::new(format!("{PG_BIN}/{tool}"))
        .args(args)
        .output()
        .expect("the PostgreSQL client tools");
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_documented_pg_dump_and_pg_restore_procedure_gives_a_database_that_serves_the_enrolled_phone()
{
    let postgres = cityauth_e2e::postgres::Postgres::start().expect("a PostgreSQL cluster");
    let first = postgres.create_database("city_live").unwrap();
    let site = Site::new();
    let port = free_port();
    let global = |url: &str| -> Vec<String> {
        vec![
            "--db".into(),
            url.into(),
            "--kek-file".into(),
            site.path("kek"),
            "--public-url".into(),
            format!("http://127.0.0.1:{port}"),
        ]
    };
    let admin = |url: &str, args: &[&str], stdin: &str| {
        let mut all = global(url);
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = run(&refs, &[], stdin);
        assert!(out.success, "{args:?}: {}", out.stderr);
        out.stdout
    };
    let serve = |url: &str, log: &str| {
        let all = global(url);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        ServerProcess::start(&refs, port, &[], &[], Path::new(&site.path(log)))
    };
    let server = serve(&first, "live.log");
    admin(
        &first,
        &["user", "add", "alice", "--display-name", "Alice"],
        &format!("{GOOD_PASSWORD}\n"),
    );
    let link = admin(&first, &["enroll-link", "alice"], "");
    let phone = Phone::new();
    phone.enroll(link.lines().last().unwrap());

    // `backup` says to use pg_dump, and writes nothing.
    let mut refused = global(&first);
    refused.extend(["backup".to_owned(), site.path("nope.db")]);
    let refs: Vec<&str> = refused.iter().map(String::as_str).collect();
    let out = run(&refs, &[], "");
    assert!(
        !out.success && out.stderr.contains("pg_dump"),
        "{}",
        out.stderr
    );
    assert!(!Path::new(&site.path("nope.db")).exists());

    // docs/deploy.md, "Backups" (PostgreSQL): a custom-format dump while serving, restored
    // into a new, empty database.
    let dump = site.path("city.dump");
    pg_tool(
        "pg_dump",
        &["--format=custom", "--file", &dump, "--dbname", &first],
    );
    drop(server.stop());
    let second = postgres.create_database("city_restored").unwrap();
    pg_tool(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            &second,
            &dump,
        ],
    );

    let server = serve(&second, "restored.log");
    let browser = Browser::new(&server.url());
    let (reset, _) = browser.verified_reset("alice", &phone);
    let done = browser.new_password(&reset, "copper-meadow-71-quartz");
    assert!(done.status == 200 || done.status == 303, "{}", done.html);
}
