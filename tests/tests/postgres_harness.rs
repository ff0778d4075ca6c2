//! The PostgreSQL test harness cleans up after itself: dropped, its cluster stops and its
//! folder goes; and when the test process is killed (SIGKILL: no destructor runs), the
//! watchdog child does the same.

use std::io::BufRead;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cityauth_e2e::postgres::Postgres;

/// Whether the cluster at `port` and `dir` is gone (nothing listens, the folder removed),
/// waiting up to 30 s for it.
fn gone(dir: &std::path::Path, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if !dir.exists() && TcpStream::connect(("127.0.0.1", port)).is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_dropped_cluster_stops_and_its_folder_goes() {
    let cluster = Postgres::start().unwrap();
    let (dir, port) = (cluster.dir().to_owned(), cluster.port());
    let url = cluster.create_database("app").unwrap();
    assert!(
        url.starts_with("postgres://postgres:"),
        "a password on loopback"
    );
    assert_eq!(cluster.psql("app", "SELECT 1 + 1").unwrap().trim(), "2");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(cluster);
    assert!(gone(&dir, port));
}

#[test]
fn a_cluster_dies_with_its_test_process_killed() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "holds_a_cluster_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env("CITYAUTH_PG_HOLDER", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.starts_with("CLUSTER "))
        .expect("the child started a cluster");
    let mut words = line.split(' ').skip(1);
    let dir = std::path::PathBuf::from(words.next().unwrap());
    let port: u16 = words.next().unwrap().parse().unwrap();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok(), "it runs");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        gone(&dir, port),
        "the watchdog stopped it and removed {}",
        dir.display()
    );
}

/// The child of the test above: starts a cluster, says where, and waits to be killed.
#[test]
#[ignore = "run by a_cluster_dies_with_its_test_process_killed"]
fn holds_a_cluster_until_killed() {
    if std::env::var_os("CITYAUTH_PG_HOLDER").is_none() {
        return;
    }
    let cluster = Postgres::start().unwrap();
    println!("CLUSTER {} {}", cluster.dir().display(), cluster.port());
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}
