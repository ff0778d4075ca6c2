//! `cityauth-server serve --directory …` as an administrator runs it: a directory that cannot
//! be reached, or flags that cannot work, stop the start with one sentence and a failing exit
//! code, before anything listens, and never show the service account's password. (Against
//! real Samba and slapd, with a wrong service password: tests/tests/directory_startup.rs.)

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cityauth-server");
/// The service account's password the tests hand over (in the child's environment only).
const SERVICE_PASSWORD: &str = "Service-Pass-Never-Shown-7";

/// A CA certificate (PEM) in `dir`, as a City's would be.
fn ca_file(dir: &Path) -> std::path::PathBuf {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let path = dir.join("city-ca.pem");
    std::fs::write(&path, cert.pem()).unwrap();
    path
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `serve` with `args`, the password in the environment: (success, stderr). A server
/// that starts listening instead of stopping is killed after 30 s and fails the test.
fn serve(dir: &Path, args: &[&str]) -> (bool, String) {
    let listen = format!("127.0.0.1:{}", closed_port());
    let stderr_path = dir.join("stderr");
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(dir.join("city.db"))
        .args(args)
        .args(["serve", "--listen", &listen])
        .env("CITYAUTH_TEST_SERVICE_PASSWORD", SERVICE_PASSWORD)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    let status = status.unwrap_or_else(|| panic!("serve did not stop: {stderr}"));
    assert!(
        !stderr.contains("listening on"),
        "nothing listens before the check: {stderr}"
    );
    assert!(!stderr.contains(SERVICE_PASSWORD), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (status.success(), stderr)
}

fn ldap_flags<'a>(url: &'a str, ca: &'a str) -> Vec<&'a str> {
    vec![
        "--directory",
        "ldap",
        "--directory-url",
        url,
        "--directory-base-dn",
        "ou=people,dc=city,dc=test",
        "--directory-bind-dn",
        "cn=sspr,ou=services,dc=city,dc=test",
        "--directory-password-env",
        "CITYAUTH_TEST_SERVICE_PASSWORD",
        "--directory-ca-file",
        ca,
        "--directory-timeout",
        "2",
    ]
}

#[test]
fn serve_stops_with_one_sentence_when_the_directory_cannot_be_reached() {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca_file(dir.path());
    let url = format!("ldaps://127.0.0.1:{}", closed_port());
    let (ok, stderr) = serve(dir.path(), &ldap_flags(&url, ca.to_str().unwrap()));
    assert!(!ok, "the start fails: {stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "cityauth-server: the directory at {url} cannot be reached"
        )),
        "{stderr}"
    );
}

#[test]
fn serve_stops_when_the_ca_file_holds_no_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("empty.pem");
    std::fs::write(&ca, "not a certificate\n").unwrap();
    let (ok, stderr) = serve(
        dir.path(),
        &ldap_flags("ldaps://127.0.0.1:636", ca.to_str().unwrap()),
    );
    assert!(!ok);
    assert!(
        stderr.contains("the CA file") && stderr.contains("no certificate"),
        "{stderr}"
    );
}

#[test]
fn serve_stops_when_a_directory_flag_comes_without_the_directory_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stderr) = serve(dir.path(), &["--directory-url", "ldaps://dc1:636"]);
    assert!(!ok);
    assert!(
        stderr.contains("--directory-url needs --directory ad or --directory ldap"),
        "{stderr}"
    );
}

#[test]
fn serve_stops_when_the_password_variable_is_unset_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca_file(dir.path());
    let mut flags = ldap_flags("ldaps://127.0.0.1:636", ca.to_str().unwrap());
    flags[9] = "CITYAUTH_TEST_UNSET_VARIABLE";
    let (ok, stderr) = serve(dir.path(), &flags);
    assert!(!ok);
    assert!(
        stderr.contains("the environment variable CITYAUTH_TEST_UNSET_VARIABLE")
            && stderr.contains("is not set"),
        "{stderr}"
    );
}

#[test]
fn a_url_other_than_ldaps_or_ldap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca_file(dir.path());
    let (ok, stderr) = serve(
        dir.path(),
        &ldap_flags("http://127.0.0.1:389", ca.to_str().unwrap()),
    );
    assert!(!ok);
    assert!(
        stderr.contains("must start with ldaps:// or ldap://"),
        "{stderr}"
    );
}
