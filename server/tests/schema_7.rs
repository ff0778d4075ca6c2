//! A database of the release before the directory (schema 7, commit b1ab1eb), written by
//! that release's own binary: it opens under today's server (migration 8 gives each user its
//! built-in stable id), its phones keep working, and its employee signs in and resets.

mod common;

use std::path::Path;

use cityauth_protocol::wire::ChallengeKind;
use common::clients::{approve, owner_signs_in};
use common::old_release::FixtureDevice;
use common::*;
use serde_json::json;

/// The fixture (see its README).
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema-7");

/// The new password the reset sets.
const NEW_PASSWORD: &str = "Quartz-Meadow-Falcon-57";

/// A copy of the fixture (database and key file) in a fresh folder, and its two phones.
fn old_database() -> (tempfile::TempDir, Vec<TestDevice>) {
    let dir = tempfile::tempdir().unwrap();
    for file in ["server.db", "server.db.kek"] {
        std::fs::copy(Path::new(FIXTURE).join(file), dir.path().join(file)).unwrap();
    }
    let version: i64 = rusqlite::Connection::open(dir.path().join("server.db"))
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 7, "the fixture is a schema-7 database");
    let listed: Vec<FixtureDevice> =
        serde_json::from_slice(&std::fs::read(Path::new(FIXTURE).join("devices.json")).unwrap())
            .unwrap();
    let devices = listed
        .into_iter()
        .map(|d| TestDevice {
            key: cityauth_protocol::SigningKey::from_pkcs8(
                &cityauth_protocol::encoding::decode(&d.pkcs8).unwrap(),
            )
            .unwrap(),
            id: d.id,
            // Set once the server is up (its key is sealed in the fixture).
            server_key: cityauth_protocol::SigningKey::generate()
                .unwrap()
                .0
                .public_key(),
            oath_secret: base32::decode(
                base32::Alphabet::Rfc4648 { padding: false },
                d.oath_secret
                    .as_deref()
                    .expect("schema 7 gives each phone its seed"),
            )
            .unwrap(),
        })
        .collect();
    (dir, devices)
}

#[test]
fn a_database_of_the_release_before_the_directory_keeps_its_phones_and_passwords() {
    if common::sqlite_only("a frozen SQLite file of an older release") {
        return;
    }
    let (dir, mut devices) = old_database();
    let h = Harness::in_dir(dir, |_| {});
    for device in &mut devices {
        device.server_key = h.state().signing_key().public_key();
    }
    let [phone, tablet] = <[TestDevice; 2]>::try_from(devices).ok().unwrap();

    // Migrated: alice's row has its built-in stable id, and her phones are still hers.
    let alice = h
        .state()
        .store()
        .user_by_name("alice")
        .unwrap()
        .expect("alice");
    let by_id = h
        .state()
        .store()
        .user_by_directory_id(&alice.directory_id)
        .unwrap()
        .expect("found by her stable id");
    assert_eq!(by_id.id, alice.id);
    assert!(
        alice.directory_id.starts_with("builtin:"),
        "{}",
        alice.directory_id
    );
    assert_eq!(h.state().store().devices_of(alice.id).unwrap().len(), 2);

    // The old password signs in, approved on one old phone.
    let signed_in = owner_signs_in(&h, &tablet, "127.0.0.1", PASSWORD);
    assert!(!signed_in.is_empty());

    // A reset verified by the other phone's own code sets a new password.
    let reset = h.verified_reset("alice", &phone);
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/password"),
        &json!({ "password": NEW_PASSWORD }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let old = h.post(
        "/api/v1/signin",
        &json!({"username": "alice", "password": PASSWORD}),
    );
    assert_eq!(
        (old.status, old.error()),
        (401, "invalid_credentials"),
        "{old:?}"
    );
    let new = h.post(
        "/api/v1/signin",
        &json!({"username": "alice", "password": NEW_PASSWORD}),
    );
    assert_eq!(new.status, 200, "{new:?}");
    approve(
        &h,
        &phone,
        ChallengeKind::SignIn,
        new.body["number"].as_str().unwrap(),
    );
}

/// Writes the schema-7 fixture with the binary of commit b1ab1eb (see the fixture's README):
/// `CITYAUTH_OLD_SERVER=<path> cargo test -p cityauth-server --test schema_7 -- --ignored
/// make_the_schema_7_fixture`.
#[test]
#[ignore = "writes the committed fixture; needs the previous release's binary"]
fn make_the_schema_7_fixture() {
    let old = std::env::var("CITYAUTH_OLD_SERVER").expect("CITYAUTH_OLD_SERVER");
    common::old_release::write_fixture(Path::new(&old), Path::new(FIXTURE));
}
