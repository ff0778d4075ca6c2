//! A real server on loopback with a temporary database, and a device that speaks the
//! protocol over real HTTP (ureq).

#![allow(dead_code)] // Each test binary uses part of this.

pub mod browser;
pub mod clients;
pub mod old_release;
#[path = "../../../tests/src/postgres.rs"]
pub mod postgres;

use std::time::Duration;

use cityauth_protocol::canonical::{
    answer_message, challenge_message, enroll_message, request_message,
};
use cityauth_protocol::wire::{AnswerRequest, ChallengeKind, Decision, SignedChallenge};
use cityauth_protocol::{EnrollmentLink, PublicKey, Signature, SigningKey};
use cityauth_server::store::{Durability, StoreLocation};
use cityauth_server::{AppState, Config, RunningServer, admin};
use serde_json::{Value, json};

/// The password of the test users (passes the policy).
pub const PASSWORD: &str = "Tangerine-Orbit-Lantern-42";

/// A status, the JSON body and the Retry-After header.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
}

impl Reply {
    /// The protocol's error code, if the body is an error.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

/// Whether the tests run on PostgreSQL (`CITYAUTH_TEST_STORE=postgres`: one throwaway
/// cluster per test binary, a fresh database per harness) rather than SQLite.
pub fn on_postgres() -> bool {
    std::env::var("CITYAUTH_TEST_STORE").is_ok_and(|store| store == "postgres")
}

/// For a test about the SQLite file itself: true (and a printed line saying what is
/// skipped) when the tests run on PostgreSQL.
pub fn sqlite_only(what: &str) -> bool {
    if on_postgres() {
        println!("skipped on PostgreSQL (a test of the SQLite file): {what}");
    }
    on_postgres()
}

/// The connections each harness's PostgreSQL store may open: tests run many harnesses at
/// once against one cluster.
const TEST_POOL_SIZE: usize = 4;

/// A server on 127.0.0.1:0 over a temporary database.
pub struct Harness {
    pub server: RunningServer,
    pub agent: ureq::Agent,
    /// The database file (on PostgreSQL, only its key file `<db>.kek` is there).
    pub db: std::path::PathBuf,
    /// The database's URL, on PostgreSQL.
    pub url: Option<String>,
    dir: tempfile::TempDir,
}

impl Harness {
    /// `username`'s audit rows as an admin reads them: (event, detail), newest first.
    pub fn audit_events(&self, username: &str) -> Vec<(String, String)> {
        cityauth_server::admin::audit(self.state(), Some(username), 200)
            .unwrap()
            .into_iter()
            .map(|e| (e.event, e.detail))
            .collect()
    }

    /// `username`'s session generation (it moves on when every session is ended).
    pub fn session_generation_of(&self, username: &str) -> i64 {
        let user = self
            .state()
            .store()
            .user_by_name(username)
            .unwrap()
            .unwrap();
        user.session_generation
    }

    /// `username`'s stored password hash (the built-in directory's password).
    pub fn password_hash_of(&self, username: &str) -> String {
        let user = self
            .state()
            .store()
            .user_by_name(username)
            .unwrap()
            .unwrap();
        user.password_hash
    }

    pub fn start() -> Self {
        Self::with_config(|_| {})
    }

    pub fn with_config(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::in_dir(tempfile::tempdir().unwrap(), adjust)
    }

    /// A server over the database `server.db` in `dir` (kept, or made on first start); on
    /// PostgreSQL, the database whose URL `dir/postgres.url` keeps (made on first start).
    pub fn in_dir(dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> Self {
        // The public URL is only known once bound; links built by `enroll_link` use the
        // bound address instead.
        let mut config = Config::new("http://127.0.0.1:1");
        adjust(&mut config);
        let db = dir.path().join("server.db");
        let (state, url) = if on_postgres() {
            let url = database_url(dir.path());
            let store = StoreLocation::parse(&url)
                .open_with(Durability::Normal, TEST_POOL_SIZE)
                .unwrap();
            // The key file beside where a SQLite file would be, as `AppState::open` does.
            let kek = AppState::load_kek(store.as_ref(), &config, Some(&db)).unwrap();
            (
                AppState::with_kek(store, config, None, kek).unwrap(),
                Some(url),
            )
        } else {
            (AppState::open(&db, config).unwrap(), None)
        };
        let server = cityauth_server::spawn("127.0.0.1:0".parse().unwrap(), state).unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Self {
            server,
            agent,
            db,
            url,
            dir,
        }
    }

    /// Stops the server (its store closes) and hands back its directory, to reopen.
    pub fn stop(self) -> tempfile::TempDir {
        self.server.stop().unwrap();
        self.dir
    }

    /// Runs SQL on the harness's PostgreSQL database (`psql -At` output); `None` on SQLite.
    pub fn psql(&self, sql: &str) -> Option<String> {
        let url = self.url.as_ref()?;
        let name = url.rsplit('/').next().unwrap_or_default();
        Some(postgres::Postgres::shared().psql(name, sql).unwrap())
    }

    /// The database file (its WAL is beside it).
    pub fn db_path(&self) -> std::path::PathBuf {
        self.db.clone()
    }

    /// Waits until the work the server does behind its answers (a reset's pushes and audit
    /// row) is done, so that a test reads what it stored; every request helper does.
    pub fn settle(&self) {
        assert!(
            self.state().settle(Duration::from_secs(30)),
            "the work behind an answer did not end"
        );
    }

    /// Sends a request from the client address `from` (another loopback address such as
    /// 127.0.0.2, so that the server sees a second client), over a socket bound to it; then
    /// [`Harness::settle`].
    pub fn send_from(
        &self,
        from: &str,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Reply {
        let reply = self.send_from_unsettled(from, method, path, headers, body);
        self.settle();
        reply
    }

    /// [`Harness::send_from`] without waiting for the work behind the answer: to time the
    /// answer alone.
    pub fn send_from_unsettled(
        &self,
        from: &str,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Reply {
        use std::io::{Read, Write};
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let local: std::net::SocketAddr = format!("{from}:0").parse().unwrap();
        socket.bind(&local.into()).unwrap();
        socket.connect(&self.server.addr().into()).unwrap();
        let mut stream: std::net::TcpStream = socket.into();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let body = body.unwrap_or(b"");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n",
            self.server.addr(),
            body.len()
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        // A server that refuses a large body may answer and close before reading it all:
        // the answer is still there to read.
        let _ = stream
            .write_all(request.as_bytes())
            .and_then(|()| stream.write_all(body));
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let retry_after = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("retry-after")
                .then(|| value.trim().to_owned())
        });
        Reply {
            status,
            body: serde_json::from_str(body).unwrap_or(Value::Null),
            retry_after,
        }
    }

    /// A JSON POST from the client address `from`.
    pub fn post_from(&self, from: &str, path: &str, body: &Value) -> Reply {
        self.send_from(from, "POST", path, &[], Some(body.to_string().as_bytes()))
    }

    pub fn state(&self) -> &AppState {
        self.server.state()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub fn add_user(&self, username: &str) {
        admin::create_user(self.state(), username, "Test Employee", PASSWORD).unwrap();
    }

    /// A fresh enrollment link, its server rewritten to the bound address.
    pub fn enroll_link(&self, username: &str) -> EnrollmentLink {
        let link = admin::enrollment_link(self.state(), username).unwrap();
        let mut link = EnrollmentLink::parse(&link).unwrap();
        link.server = self.server.url();
        link
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Reply {
        let url = self.url(path);
        let response = match method {
            "GET" => {
                let mut request = self.agent.get(&url);
                for (k, v) in headers {
                    request = request.header(k, v);
                }
                request.call()
            }
            "DELETE" => {
                let mut request = self.agent.delete(&url);
                for (k, v) in headers {
                    request = request.header(k, v);
                }
                request.call()
            }
            _ => {
                let mut request = self
                    .agent
                    .post(&url)
                    .header("content-type", "application/json");
                for (k, v) in headers {
                    request = request.header(k, v);
                }
                request.send(body.unwrap_or(b""))
            }
        };
        let mut response = response.unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.settle();
        Reply {
            status,
            body,
            retry_after,
        }
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, &[], Some(body.to_string().as_bytes()))
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], None)
    }

    /// Enrolls a new device for `username` (must succeed).
    pub fn enroll(&self, username: &str) -> TestDevice {
        let link = self.enroll_link(username);
        let (key, _) = SigningKey::generate().unwrap();
        let reply = self.post("/api/v1/enroll", &enroll_body(&key, &link.code));
        assert_eq!(reply.status, 200, "{reply:?}");
        let server_key =
            PublicKey::from_base64(reply.body["server_public_key"].as_str().unwrap()).unwrap();
        assert!(link.fingerprint.matches(&server_key));
        let answer: cityauth_protocol::wire::EnrollResponse =
            serde_json::from_value(reply.body.clone()).unwrap();
        let signature = Signature::from_base64(answer.signature.as_deref().unwrap()).unwrap();
        let signed =
            cityauth_protocol::canonical::enrolled_message(&answer, &key.public_key(), &link.code);
        assert!(server_key.verify(&signed, &signature), "a signed answer");
        let oath_link = reply.body["oath_link"].as_str().unwrap();
        let secret = oath_link
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        TestDevice {
            key,
            id: reply.body["device_id"].as_str().unwrap().to_owned(),
            server_key,
            oath_secret: base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret)
                .unwrap(),
        }
    }

    /// Starts a reset (must succeed): (reset id, number).
    pub fn start_reset(&self, username: &str) -> (String, String) {
        let reply = self.post("/api/v1/reset/start", &json!({ "username": username }));
        assert_eq!(reply.status, 200, "{reply:?}");
        (
            reply.body["reset_id"].as_str().unwrap().to_owned(),
            reply.body["number"].as_str().unwrap().to_owned(),
        )
    }

    /// A reset of `username` verified by `device`'s current code from the app; its id.
    pub fn verified_reset(&self, username: &str, device: &TestDevice) -> String {
        let (reset, _) = self.start_reset(username);
        let code = self.post(
            &format!("/api/v1/reset/{reset}/code"),
            &json!({"code": device.code()}),
        );
        assert_eq!(code.status, 200, "{code:?}");
        reset
    }

    pub fn reset_state(&self, reset_id: &str) -> String {
        let reply = self.get(&format!("/api/v1/reset/{reset_id}"));
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.body["state"].as_str().unwrap().to_owned()
    }
}

/// An enrollment body with a valid proof for `code`.
pub fn enroll_body(key: &SigningKey, code: &str) -> Value {
    let proof = key.sign(&enroll_message(code, &key.public_key())).unwrap();
    json!({
        "code": code,
        "device_public_key": key.public_key().to_string(),
        "proof": proof.to_string(),
        "device_name": "Test phone",
        "platform": "android",
        "push_token": null,
    })
}

pub fn now() -> u64 {
    cityauth_server::util::now()
}

pub fn nonce() -> String {
    cityauth_server::util::random_token().unwrap()
}

/// An enrolled device.
pub struct TestDevice {
    pub key: SigningKey,
    pub id: String,
    pub server_key: PublicKey,
    pub oath_secret: Vec<u8>,
}

impl TestDevice {
    /// The four headers of a signed request.
    pub fn headers(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        time: u64,
        nonce: &str,
    ) -> Vec<(String, String)> {
        let signature = self
            .key
            .sign(&request_message(method, path, &self.id, time, nonce, body))
            .unwrap();
        vec![
            ("x-cityauth-device".into(), self.id.clone()),
            ("x-cityauth-time".into(), time.to_string()),
            ("x-cityauth-nonce".into(), nonce.to_owned()),
            ("x-cityauth-signature".into(), signature.to_string()),
        ]
    }

    /// A signed request at the current time with a fresh nonce.
    pub fn request(&self, h: &Harness, method: &str, path: &str, body: Option<&[u8]>) -> Reply {
        let headers = self.headers(method, path, body.unwrap_or(b""), now(), &nonce());
        h.send(method, path, &headers, body)
    }

    /// Answers the newest pending challenge of `kind` with an approval and `number`; panics
    /// unless there is one and the server accepts the answer.
    pub fn approve_newest_of(&self, h: &Harness, kind: ChallengeKind, number: &str) {
        let challenge = self
            .poll(h, 5)
            .into_iter()
            .rev()
            .find(|c| c.challenge.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} prompt"));
        let reply = self.answer(h, &challenge, Decision::Approve, Some(number));
        assert_eq!(reply.status, 200, "{reply:?}");
    }

    /// Polls for challenges; checks each one's server signature and device.
    pub fn poll(&self, h: &Harness, wait: u64) -> Vec<SignedChallenge> {
        let reply = self.request(
            h,
            "GET",
            &format!("/api/v1/device/challenges?wait={wait}"),
            None,
        );
        assert_eq!(reply.status, 200, "{reply:?}");
        let list: Vec<SignedChallenge> =
            serde_json::from_value(reply.body["challenges"].clone()).unwrap();
        for signed in &list {
            let signature = Signature::from_base64(&signed.signature).unwrap();
            assert!(
                self.server_key
                    .verify(&challenge_message(&signed.challenge), &signature)
            );
            assert_eq!(signed.challenge.device_id, self.id);
        }
        list
    }

    /// The body of a signed answer.
    pub fn answer_body(
        &self,
        challenge: &SignedChallenge,
        decision: Decision,
        number: Option<&str>,
    ) -> Vec<u8> {
        let mut answer = AnswerRequest {
            challenge_id: challenge.challenge.id.clone(),
            nonce: challenge.challenge.nonce.clone(),
            decision,
            number: number.map(str::to_owned),
            signature: String::new(),
        };
        answer.signature = self
            .key
            .sign(&answer_message(&self.id, &answer))
            .unwrap()
            .to_string();
        serde_json::to_vec(&answer).unwrap()
    }

    /// Answers a challenge.
    pub fn answer(
        &self,
        h: &Harness,
        challenge: &SignedChallenge,
        decision: Decision,
        number: Option<&str>,
    ) -> Reply {
        let body = self.answer_body(challenge, decision, number);
        let path = format!(
            "/api/v1/device/challenges/{}/answer",
            challenge.challenge.id
        );
        self.request(h, "POST", &path, Some(&body))
    }

    /// The City account's current code.
    pub fn code(&self) -> String {
        cityauth_server::totp::code_at(&self.oath_secret, now() / 30)
    }
}

/// The PostgreSQL database of the harness folder `dir`: the one its `postgres.url` names,
/// or a fresh one (named there for the next start).
pub fn database_url(dir: &std::path::Path) -> String {
    let file = dir.join("postgres.url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return url;
    }
    let url = postgres::Postgres::shared().fresh_database().unwrap();
    std::fs::write(&file, &url).unwrap();
    url
}

/// Runs a `cityauth-server` binary (`bin`: this build's, or an older release's) on the
/// database `db` with `args`, `stdin` typed in: (success, stdout, stderr).
pub fn run_binary(
    bin: &std::path::Path,
    db: &std::path::Path,
    args: &[&str],
    stdin: &str,
) -> (bool, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(bin)
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
