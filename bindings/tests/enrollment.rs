//! Issue 10, items 2 and 3, through the FFI against the real server on loopback: the
//! enrollment is forgotten locally with the server gone, and a damaged enrollment stops no
//! code (`codes()` once failed for every account).

use std::net::TcpListener;
use std::sync::Arc;

use cityauth_ffi::{Approvals, CityAuthError, KdfSettings, Vault};
use cityauth_server::{AppState, Config, RunningServer, admin};

const CHEAP: KdfSettings = KdfSettings {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};
const PASSPHRASE: &str = "a phone passphrase";

/// A City server on loopback with its own database, and an enrollment link for "alice".
fn city(dir: &std::path::Path) -> (RunningServer, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::open(&dir.join("city.sqlite"), Config::new(&url)).unwrap();
    let server = cityauth_server::spawn_on(listener, state).unwrap();
    admin::create_user(
        server.state(),
        "alice",
        "Alice Example",
        "violet-harbour-93-lantern",
    )
    .unwrap();
    let link = admin::enrollment_link(server.state(), "alice").unwrap();
    (server, link)
}

/// A vault with one ordinary account, enrolled through the FFI.
fn enrolled(dir: &std::path::Path, link: &str) -> (String, Arc<Vault>) {
    let path = dir.join("phone.sqlite").to_string_lossy().into_owned();
    let vault = Vault::create(path.clone(), PASSPHRASE.into(), Some(CHEAP)).unwrap();
    vault
        .add_from_link("otpauth://totp/Other:me?secret=JBSWY3DPEHPK3PXP".into())
        .unwrap();
    let approvals = Approvals::new(Arc::clone(&vault)).unwrap();
    let enrolled = approvals
        .enroll(link.into(), "phone".into(), "android".into(), None)
        .unwrap();
    assert!(enrolled.city_account.is_some());
    (path, vault)
}

#[test]
fn forget_enrollment_works_through_the_ffi_with_the_server_gone() {
    let dir = tempfile::tempdir().unwrap();
    let (server, link) = city(dir.path());
    let (_, vault) = enrolled(dir.path(), &link);
    server.stop().unwrap();
    let approvals = Approvals::new(Arc::clone(&vault)).unwrap();
    assert!(matches!(
        approvals.unenroll(),
        Err(CityAuthError::Network { .. })
    ));
    vault.forget_enrollment().unwrap();
    assert_eq!(vault.enrollment().unwrap(), None);
    assert_eq!(
        vault.codes().unwrap().len(),
        2,
        "the City account's codes stay"
    );
    assert!(matches!(
        approvals.unenroll(),
        Err(CityAuthError::NotEnrolled { .. })
    ));
}

#[test]
fn a_damaged_enrollment_stops_no_code_through_the_ffi() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, link) = city(dir.path());
    let (path, vault) = enrolled(dir.path(), &link);
    drop(vault);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut sealed: Vec<u8> = conn
        .query_row("SELECT sealed FROM enrollment", [], |row| row.get(0))
        .unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    conn.execute("UPDATE enrollment SET sealed = ?1", [&sealed])
        .unwrap();
    drop(conn);
    let vault = Vault::open(path).unwrap();
    vault.unlock_with_passphrase(PASSPHRASE.into()).unwrap();
    assert_eq!(
        vault.codes().unwrap().len(),
        2,
        "every account keeps its codes"
    );
    assert!(vault.server_now().is_ok());
    let problems = vault.integrity_problems().unwrap();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("enrollment"), "{problems:?}");
    assert!(matches!(
        vault.enrollment(),
        Err(CityAuthError::Integrity { .. })
    ));
    vault.forget_enrollment().unwrap();
    assert!(vault.integrity_problems().unwrap().is_empty());
}
