//! Running the server on a real directory: `serve`'s directory flags, parsed as an
//! administrator types them, against Samba's AD DC and slapd on loopback; the startup check
//! (the service account binds, or one sentence says what is wrong, never the password);
//! `GET /readyz` while the directory is stopped and after it is back; AD's default protected
//! groups; and a directory checked on one runtime then used by the server on another.
//!
//! One Samba serves the whole binary (provisioning takes seconds), behind a lock, since one
//! test stops it; each LDAP test has a slapd of its own. Times are printed, never asserted.

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use cityauth_e2e::City;
use cityauth_e2e::samba::{self, Samba};
use cityauth_e2e::slapd::{self, Slapd};
use cityauth_server::config::DirectoryChoice;
use cityauth_server::directory::options::{DirectoryOptions, Opened};
use clap::Parser;

/// The global flags of `cityauth-server`, as `main.rs` flattens them.
#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    directory: DirectoryOptions,
}

/// The shared Samba, started on first use.
fn samba() -> MutexGuard<'static, Samba> {
    static SAMBA: OnceLock<Mutex<Samba>> = OnceLock::new();
    SAMBA
        .get_or_init(|| {
            let samba = Samba::start().unwrap_or_else(|e| panic!("cannot start Samba: {e}"));
            eprintln!(
                "samba: provisioned in {:?}, started in {:?}",
                samba.timings.provision, samba.timings.startup
            );
            Mutex::new(samba)
        })
        .lock()
        // A test that failed while holding it leaves Samba as usable as before.
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A file holding `password`, as an administrator would keep it (0600), in `dir`.
fn password_file(dir: &std::path::Path, password: &str) -> String {
    let path = dir.join("directory.password");
    std::fs::write(&path, format!("{password}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path.to_str().unwrap().to_owned()
}

/// The directory the flags `args` choose, opened.
fn open(args: &[&str]) -> Opened {
    Flags::try_parse_from(std::iter::once("cityauth-server").chain(args.iter().copied()))
        .unwrap()
        .directory
        .open()
        .unwrap()
        .expect("an external directory")
}

/// Runs the startup check on a runtime of its own (as `serve` does before it listens),
/// printing how long it took.
fn startup_check(opened: &Opened) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let outcome = runtime.block_on(opened.check());
    eprintln!(
        "startup check: {:?} in {:?}",
        outcome.is_ok(),
        started.elapsed()
    );
    outcome
}

/// `serve`'s AD flags for the shared Samba, the password in `password_file`.
fn ad_flags(samba: &Samba, password_file: &str, ca_file: &str) -> Vec<String> {
    [
        "--directory",
        "ad",
        "--directory-url",
        &samba.url(),
        "--directory-base-dn",
        samba::STAFF_OU,
        "--directory-bind-dn",
        samba::SERVICE_DN,
        "--directory-password-file",
        password_file,
        "--directory-ca-file",
        ca_file,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn ldap_flags(slapd: &Slapd, url: &str, password_file: &str) -> Vec<String> {
    [
        "--directory",
        "ldap",
        "--directory-url",
        url,
        "--directory-base-dn",
        slapd::PEOPLE,
        "--directory-bind-dn",
        slapd::SERVICE_DN,
        "--directory-password-file",
        password_file,
        "--directory-ca-file",
        slapd.ca_file().to_str().unwrap(),
        "--directory-scope-group",
        slapd::SCOPE_GROUP,
        "--directory-protected-group",
        slapd::ADMINS_GROUP,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A PEM file of a CA the directory's certificate does not chain to.
fn other_ca_file(dir: &std::path::Path) -> String {
    let ca = cityauth_e2e::nginx::TestCa::new().unwrap();
    let path = dir.join("other-ca.pem");
    std::fs::write(&path, ca.root_pem()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `GET /readyz`: the status and the body.
fn healthz(city: &City) -> (u16, serde_json::Value) {
    let (status, body) = city.request("GET", "/readyz", Vec::new());
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

/// Asks `/readyz` until its status is `want` (a report is reused for a second), at most 30 s.
fn healthz_until(city: &City, want: u16) -> (u16, serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = healthz(city);
        if reply.0 == want || Instant::now() > deadline {
            return reply;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn server_on(opened: &Opened) -> City {
    let directory = opened.directory.clone();
    City::start_with(move |c| c.directory = DirectoryChoice::External(directory))
}

#[test]
fn ad_flags_pass_the_startup_check_as_the_least_privilege_service_account() {
    let samba = samba();
    let dir = tempfile::tempdir().unwrap();
    let file = password_file(dir.path(), samba::SERVICE_PASSWORD);
    let ca = samba.ca_file();
    let opened = open(&strs(&ad_flags(&samba, &file, ca.to_str().unwrap())));
    assert_eq!(opened.settings.user_attribute, "sAMAccountName");
    startup_check(&opened).unwrap();
}

#[test]
fn ad_startup_check_names_the_service_account_when_its_password_is_wrong() {
    let samba = samba();
    let dir = tempfile::tempdir().unwrap();
    let wrong = "Not-The-Service-Pass-9";
    let file = password_file(dir.path(), wrong);
    let ca = samba.ca_file();
    let opened = open(&strs(&ad_flags(&samba, &file, ca.to_str().unwrap())));
    let message = startup_check(&opened).unwrap_err();
    assert!(
        message.starts_with(&format!(
            "the directory at {} refused the service account {}",
            samba.url(),
            samba::SERVICE_DN
        )),
        "{message}"
    );
    assert!(
        message.contains(&file),
        "names where the password came from: {message}"
    );
    assert!(!message.contains(wrong) && !message.contains(samba::SERVICE_PASSWORD));
    assert!(!message.contains('\n'), "one line: {message}");
}

#[test]
fn ad_startup_check_refuses_a_certificate_from_another_ca() {
    let samba = samba();
    let dir = tempfile::tempdir().unwrap();
    let file = password_file(dir.path(), samba::SERVICE_PASSWORD);
    let other = other_ca_file(dir.path());
    let opened = open(&strs(&ad_flags(&samba, &file, &other)));
    let message = startup_check(&opened).unwrap_err();
    assert!(
        message.contains("cannot be reached, or its certificate does not verify"),
        "{message}"
    );
    assert!(!message.contains(samba::SERVICE_PASSWORD));
}

#[test]
fn ad_default_protected_groups_protect_domain_admins_and_builtin_operators() {
    let samba = samba();
    let admin = samba
        .add_user("ops-admin", &[samba::DOMAIN_ADMINS])
        .unwrap();
    let operator = samba.add_user("ops-operator", &[]).unwrap();
    samba
        .add_member(
            &format!("CN=Account Operators,CN=Builtin,{}", samba::DOMAIN_DN),
            &operator,
        )
        .unwrap();
    samba.add_user("ops-staff", &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = password_file(dir.path(), samba::SERVICE_PASSWORD);
    let ca = samba.ca_file();
    // No --directory-protected-group: the default list applies.
    let opened = open(&strs(&ad_flags(&samba, &file, ca.to_str().unwrap())));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let protected = |name: &str| {
        runtime
            .block_on(opened.directory.find(name))
            .unwrap()
            .unwrap_or_else(|| panic!("{name} is found"))
            .protected
    };
    assert!(protected("ops-admin"), "{admin} is a Domain Admin");
    assert!(
        protected("ops-operator"),
        "{operator} is an Account Operator"
    );
    assert!(!protected("ops-staff"));
}

#[test]
fn readyz_says_the_directory_is_unavailable_while_samba_is_stopped_and_ok_once_it_is_back() {
    let mut samba = samba();
    let dir = tempfile::tempdir().unwrap();
    let file = password_file(dir.path(), samba::SERVICE_PASSWORD);
    let ca = samba.ca_file();
    let opened = open(&strs(&ad_flags(&samba, &file, ca.to_str().unwrap())));
    let city = server_on(&opened);
    let (status, body) = healthz(&city);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["directory"], "ok");

    samba.stop();
    let (status, body) = healthz_until(&city, 503);
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"status": "unavailable", "store": "ok", "directory": "unavailable", "signing_key": "ok"})
    );
    let message = startup_check(&opened).unwrap_err();
    assert!(message.contains("cannot be reached"), "{message}");

    let restarted = Instant::now();
    samba.restart().unwrap();
    eprintln!("samba: restarted in {:?}", restarted.elapsed());
    let (status, body) = healthz_until(&city, 200);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["directory"], "ok");
}

#[test]
fn a_directory_checked_on_its_own_runtime_serves_sign_ins_after_that_runtime_is_gone() {
    let samba = samba();
    samba.add_user("ops-handover", &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = password_file(dir.path(), samba::SERVICE_PASSWORD);
    let ca = samba.ca_file();
    let opened = open(&strs(&ad_flags(&samba, &file, ca.to_str().unwrap())));
    // startup_check builds a runtime, checks, and drops the runtime with whatever it opened.
    startup_check(&opened).unwrap();
    let city = server_on(&opened);
    let sign_in = |password: &str| {
        let body = serde_json::json!({"username": "ops-handover", "password": password});
        city.post("/api/v1/signin", serde_json::to_vec(&body).unwrap())
            .0
    };
    assert_eq!(sign_in(samba::INITIAL_PASSWORD), 200);
    assert_eq!(sign_in("Wrong-Pass-42"), 401);
}

#[test]
fn ldap_flags_pass_the_startup_check_over_ldaps_and_starttls() {
    let slapd = Slapd::start();
    let dir = tempfile::tempdir().unwrap();
    let file = password_file(dir.path(), slapd::SERVICE_PASSWORD);
    for url in [slapd.ldaps_url(), slapd.starttls_url()] {
        let opened = open(&strs(&ldap_flags(&slapd, &url, &file)));
        assert_eq!(opened.settings.user_attribute, "uid");
        startup_check(&opened).unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn ldap_startup_check_names_the_service_account_when_its_password_is_wrong() {
    let slapd = Slapd::start();
    let dir = tempfile::tempdir().unwrap();
    let wrong = "not-the-sspr-service-secret";
    let file = password_file(dir.path(), wrong);
    let opened = open(&strs(&ldap_flags(&slapd, &slapd.ldaps_url(), &file)));
    let message = startup_check(&opened).unwrap_err();
    assert!(
        message.starts_with(&format!(
            "the directory at {} refused the service account {}",
            slapd.ldaps_url(),
            slapd::SERVICE_DN
        )),
        "{message}"
    );
    assert!(!message.contains(wrong) && !message.contains(slapd::SERVICE_PASSWORD));
}

#[test]
fn readyz_says_the_directory_is_unavailable_while_slapd_is_stopped_and_ok_once_it_is_back() {
    let mut slapd = Slapd::start();
    let dir = tempfile::tempdir().unwrap();
    let file = password_file(dir.path(), slapd::SERVICE_PASSWORD);
    let opened = open(&strs(&ldap_flags(&slapd, &slapd.starttls_url(), &file)));
    let city = server_on(&opened);
    assert_eq!(healthz(&city).0, 200);
    slapd.stop();
    let (status, body) = healthz_until(&city, 503);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["directory"], "unavailable");
    assert_eq!(body["store"], "ok");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no hosts in it: {body}"
    );
    slapd.restart();
    let (status, body) = healthz_until(&city, 200);
    assert_eq!(status, 200, "{body}");
}
