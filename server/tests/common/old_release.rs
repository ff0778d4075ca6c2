//! Databases written by earlier releases' own binaries, kept as fixtures
//! (`server/tests/fixtures/schema-N/`): the writer that makes one, and its devices' keys.

use std::path::Path;
use std::process::Command;

use cityauth_protocol::SigningKey;

use super::{PASSWORD, enroll_body};

/// A device of a fixture: its id, its PKCS#8 key (a test key, made for the fixture) and,
/// from schema 5 on, its own City account OATH seed (base32, from its enrollment's link).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct FixtureDevice {
    /// The device id the old server gave it.
    pub id: String,
    /// Its P-256 key, PKCS#8, base64url.
    pub pkcs8: String,
    /// Its own OATH seed, base32 (`None` in schema 4, whose seed was the user's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oath_secret: Option<String>,
}

/// Writes `out/server.db` (and `out/server.db.kek` if the old server made one) and
/// `out/devices.json` with the old server binary `old`: the user `alice` (password
/// [`PASSWORD`]) and two phones enrolled through its API.
pub fn write_fixture(old: &Path, out: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let admin = |args: &[&str], stdin: &str| {
        let args = [&["--public-url", url.as_str()][..], args].concat();
        let (ok, out, err) = super::run_binary(old, &db, &args, stdin);
        assert!(ok, "{args:?}: {err}");
        out
    };
    admin(
        &["user", "add", "alice", "--display-name", "Alice Example"],
        &format!("{PASSWORD}\n"),
    );
    let mut server = Command::new(old)
        .arg("--db")
        .arg(&db)
        .args(["--public-url", &url, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut devices = Vec::new();
    for _ in 0..2 {
        let link = admin(&["enroll-link", "alice"], "");
        let link = cityauth_protocol::EnrollmentLink::parse(link.trim()).unwrap();
        let (key, pkcs8) = SigningKey::generate().unwrap();
        let body = serde_json::to_vec(&enroll_body(&key, &link.code)).unwrap();
        let mut reply = (0..50)
            .find_map(|_| {
                let sent = agent
                    .post(format!("{url}/api/v1/enroll"))
                    .header("content-type", "application/json")
                    .send(&body[..]);
                if sent.is_err() {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                sent.ok()
            })
            .unwrap();
        let answer: serde_json::Value =
            serde_json::from_slice(&reply.body_mut().read_to_vec().unwrap()).unwrap();
        let oath_secret = answer["oath_link"].as_str().map(|link| {
            let secret = link.split("secret=").nth(1).unwrap();
            secret.split('&').next().unwrap().to_owned()
        });
        devices.push(FixtureDevice {
            id: answer["device_id"].as_str().unwrap().to_owned(),
            pkcs8: cityauth_protocol::encoding::encode(&pkcs8),
            oath_secret,
        });
    }
    // SIGTERM: the old server writes its queued audit events and stops.
    Command::new("kill")
        .arg(server.id().to_string())
        .status()
        .unwrap();
    server.wait().unwrap();
    let connection = rusqlite::Connection::open(&db).unwrap();
    connection
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
        .unwrap();
    drop(connection);
    std::fs::create_dir_all(out).unwrap();
    std::fs::copy(&db, out.join("server.db")).unwrap();
    let kek = dir.path().join("server.db.kek");
    if kek.exists() {
        std::fs::copy(&kek, out.join("server.db.kek")).unwrap();
    }
    std::fs::write(
        out.join("devices.json"),
        serde_json::to_vec_pretty(&devices).unwrap(),
    )
    .unwrap();
}
