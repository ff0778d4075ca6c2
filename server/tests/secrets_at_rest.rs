//! Issue 9, item 17: the database is the server user's alone (0600), holds the signing key
//! and the OATH seeds only sealed under a key-encryption key kept outside it, refuses to start
//! under a wrong key, and an older database's clear secrets are sealed on first start (item 1:
//! its shared seed keeps working until any of the devices is removed).

mod common;

use std::path::{Path, PathBuf};

use cityauth_server::kek::{self, KekConfig, KekError, SIGNING_KEY_AAD};
use cityauth_server::{AppState, Config, StartError};
use common::*;
use serde_json::json;

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The bytes of the database and its WAL, as a thief copying the directory would get them.
fn database_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    if let Ok(wal) = std::fs::read(with_suffix(db, "-wal")) {
        bytes.extend(wal);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The sealed signing key as stored.
fn sealed_key(db: &Path) -> Vec<u8> {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT value FROM settings WHERE name = 'server_signing_key_sealed'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

/// The server's PKCS#8 key, opened with the key file beside the database.
fn signing_key_pkcs8(db: &Path) -> Vec<u8> {
    let kek = kek::load(&KekConfig::File(kek::beside(db)), None, false).unwrap();
    kek.open(SIGNING_KEY_AAD, &sealed_key(db)).unwrap().to_vec()
}

/// The private scalar inside a P-256 PKCS#8 key as ring writes it (after a 36-byte header).
fn private_scalar(pkcs8: &[u8]) -> &[u8] {
    &pkcs8[36..68]
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn database_and_key_files_are_readable_by_the_owner_only() {
    if common::sqlite_only("the modes of the database files") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::start();
    h.add_user("alice");
    h.enroll("alice");
    let db = h.db.clone();
    for file in [
        db.clone(),
        with_suffix(&db, "-wal"),
        with_suffix(&db, "-shm"),
        kek::beside(&db),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    // A database an older server left world-readable is tightened on the next start.
    let dir = h.stop();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let h = Harness::in_dir(dir, |_| {});
    assert_eq!(mode(&h.db), 0o600);
    assert_eq!(mode(&with_suffix(&h.db, "-wal")), 0o600);
}

#[test]
fn the_database_files_hold_neither_the_signing_key_nor_any_seed() {
    if common::sqlite_only("the bytes of the database files") {
        return;
    }
    let h = Harness::start();
    h.add_user("alice");
    let first = h.enroll("alice");
    let second = h.enroll("alice");
    let pkcs8 = signing_key_pkcs8(&h.db);
    let db = h.db.clone();
    let dir = h.stop();
    let bytes = database_bytes(&db);
    // The search finds what is stored in clear (the public device keys)...
    assert!(contains(&bytes, first.key.public_key().as_bytes()));
    // ...and not the secrets.
    assert!(!contains(&bytes, private_scalar(&pkcs8)));
    for seed in [&first.oath_secret, &second.oath_secret] {
        assert!(!contains(&bytes, seed));
    }
    drop(dir);
}

#[test]
fn a_wrong_or_missing_kek_refuses_to_start_and_changes_nothing() {
    if common::sqlite_only("reads the sealed key from the SQLite file") {
        return;
    }
    let h = Harness::start();
    h.add_user("alice");
    let fingerprint = h.state().signing_key().public_key().fingerprint();
    let db = h.db.clone();
    let dir = h.stop();
    let before = sealed_key(&db);

    let wrong = dir.path().join("wrong.kek");
    std::fs::write(&wrong, [9u8; 32]).unwrap();
    let mut config = Config::new("http://127.0.0.1:1");
    config.kek = KekConfig::File(wrong);
    let error = AppState::open(&db, config)
        .err()
        .expect("a wrong key is refused");
    assert!(matches!(error, StartError::Kek(KekError::Open)), "{error}");

    let mut config = Config::new("http://127.0.0.1:1");
    config.kek = KekConfig::Env("CITYAUTH_TEST_KEK_NOT_SET".into());
    let error = AppState::open(&db, config)
        .err()
        .expect("a missing key is refused");
    assert!(
        matches!(error, StartError::Kek(KekError::Load(_))),
        "{error}"
    );

    // The default key file gone: refused, and no new key made over the sealed data.
    let key_file = kek::beside(&db);
    let kept = std::fs::read(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let error = AppState::open(&db, Config::new("http://127.0.0.1:1"))
        .err()
        .expect("a missing key file is refused");
    assert!(
        matches!(error, StartError::Kek(KekError::Load(_))),
        "{error}"
    );
    assert!(!key_file.exists(), "no new key file");
    assert_eq!(
        sealed_key(&db),
        before,
        "the refused starts changed nothing"
    );

    // The right key again: the same server key, and the server works.
    std::fs::write(&key_file, kept).unwrap();
    let h = Harness::in_dir(dir, |_| {});
    assert_eq!(
        h.state().signing_key().public_key().fingerprint(),
        fingerprint
    );
    h.enroll("alice");
}

#[test]
#[allow(unsafe_code)] // set_var is unsafe in edition 2024; see the SAFETY comment below.
fn a_kek_from_an_environment_variable_or_a_file_seals_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let hex = "5a".repeat(32);
    // SAFETY: this test binary sets no other variable and reads this one only here.
    unsafe { std::env::set_var("CITYAUTH_TEST_KEK", &hex) };
    let mut config = Config::new("http://127.0.0.1:1");
    config.kek = KekConfig::Env("CITYAUTH_TEST_KEK".into());
    let fingerprint = AppState::open(&db, config)
        .unwrap()
        .signing_key()
        .public_key()
        .fingerprint();
    assert!(
        !kek::beside(&db).exists(),
        "no key file beside the database"
    );
    let file = dir.path().join("mounted-secret");
    std::fs::write(&file, format!("{hex}\n")).unwrap();
    let mut config = Config::new("http://127.0.0.1:1");
    config.kek = KekConfig::File(file);
    let state = AppState::open(&db, config).unwrap();
    assert_eq!(state.signing_key().public_key().fingerprint(), fingerprint);
}

/// Turns a current database back into the form of an older server (schema 4): the signing
/// key and one per-user seed shared by every device, in clear, no key file.
/// A database the previous release (schema 4, commit 17b518e) wrote: two phones of `alice`
/// enrolled, the signing key and the shared per-user seed in clear. See the fixture's README.
const OLD_FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema-4");

/// A copy of the schema-4 fixture in a fresh folder, with its clear signing key and seed.
fn old_database() -> (tempfile::TempDir, Vec<u8>, Vec<u8>, Vec<TestDevice>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    std::fs::copy(Path::new(OLD_FIXTURE).join("server.db"), &db).unwrap();
    let connection = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 4, "the fixture is a schema-4 database");
    let pkcs8: Vec<u8> = connection
        .query_row(
            "SELECT value FROM settings WHERE name = 'server_signing_key_pkcs8'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let shared: Vec<u8> = connection
        .query_row(
            "SELECT oath_secret FROM users WHERE username = 'alice'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(connection);
    let server_key = cityauth_protocol::SigningKey::from_pkcs8(&pkcs8)
        .unwrap()
        .public_key();
    let listed: Vec<common::old_release::FixtureDevice> = serde_json::from_slice(
        &std::fs::read(Path::new(OLD_FIXTURE).join("devices.json")).unwrap(),
    )
    .unwrap();
    let devices = listed
        .into_iter()
        .map(|d| TestDevice {
            key: cityauth_protocol::SigningKey::from_pkcs8(
                &cityauth_protocol::encoding::decode(&d.pkcs8).unwrap(),
            )
            .unwrap(),
            id: d.id,
            server_key,
            oath_secret: shared.clone(),
        })
        .collect();
    (dir, pkcs8, shared, devices)
}

#[test]
fn an_old_clear_database_is_sealed_on_first_start_and_its_shared_seed_dies_with_any_device() {
    if common::sqlite_only("a frozen SQLite file of an older release") {
        return;
    }
    let (dir, pkcs8, shared, devices) = old_database();
    let db = dir.path().join("server.db");
    let [phone, tablet] = <[TestDevice; 2]>::try_from(devices).ok().unwrap();
    assert!(contains(&database_bytes(&db), private_scalar(&pkcs8)));
    let fingerprint = phone.server_key.fingerprint();

    let h = Harness::in_dir(dir, |_| {});
    // The same server key, now sealed; nothing left in clear in the files.
    assert_eq!(
        h.state().signing_key().public_key().fingerprint(),
        fingerprint
    );
    let bytes = database_bytes(&db);
    assert!(!contains(&bytes, private_scalar(&pkcs8)));
    assert!(!contains(&bytes, &shared));
    assert!(kek::beside(&db).exists());

    // The shared seed keeps working for the devices that had it.
    let (reset_id, _) = h.start_reset("alice");
    let code = cityauth_server::totp::code_at(&shared, now() / 30);
    let reply = h.post(
        &format!("/api/v1/reset/{reset_id}/code"),
        &json!({ "code": code }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");

    // One of the devices removed: the seed it knows verifies on no device any more.
    let removed = phone.request(&h, "DELETE", "/api/v1/device", None);
    assert_eq!(removed.status, 204, "{removed:?}");
    let (reset_id, _) = h.start_reset("alice");
    let reply = h.post(
        &format!("/api/v1/reset/{reset_id}/code"),
        &json!({ "code": code }),
    );
    assert_eq!(
        (reply.status, reply.error()),
        (422, "wrong_code"),
        "{reply:?}"
    );
    // The next step's code: never accepted before on any copy, so only revocation refuses it.
    let next = cityauth_server::totp::code_at(&shared, now() / 30 + 1);
    let reply = h.post(
        &format!("/api/v1/reset/{reset_id}/code"),
        &json!({ "code": next }),
    );
    assert_eq!(
        (reply.status, reply.error()),
        (422, "wrong_code"),
        "{reply:?}"
    );
    // The remaining device still signs requests, and a newly enrolled one has its own seed.
    let poll = tablet.request(&h, "GET", "/api/v1/device/challenges?wait=0", None);
    assert_eq!(poll.status, 200, "{poll:?}");
    let fresh = h.enroll("alice");
    let reply = h.post(
        &format!("/api/v1/reset/{reset_id}/code"),
        &json!({ "code": fresh.code() }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// Writes the schema-4 fixture with the previous release's server binary (see the fixture's
/// README): `CITYAUTH_OLD_SERVER=<path> cargo test -p cityauth-server --test secrets_at_rest
/// -- --ignored make_the_schema_4_fixture`.
#[test]
#[ignore = "writes the committed fixture; needs the previous release's binary"]
fn make_the_schema_4_fixture() {
    let old = std::env::var("CITYAUTH_OLD_SERVER").expect("CITYAUTH_OLD_SERVER");
    common::old_release::write_fixture(Path::new(&old), Path::new(OLD_FIXTURE));
}
