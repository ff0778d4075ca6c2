//! What the tests of the server on a real slapd (`directory_server.rs`,
//! `directory_portal_ldap.rs`) share beyond the library's directory helpers
//! (`cityauth_e2e::directory`): a City server on a fresh slapd of its own, employees that
//! exist only there with phones enrolled through it, the database an admin opens, and
//! slapd frozen (`SIGSTOP`) to hold a request open.

#![allow(dead_code)] // Each test binary uses part of this.

use std::sync::Arc;
use std::time::Duration;

use cityauth_e2e::slapd::{SCOPE_GROUP, Slapd};
use cityauth_e2e::{City, Phone};
use cityauth_server::Config;
use cityauth_server::directory::ldap::LdapSettings;
use cityauth_server::directory::openldap::OpenLdap;

/// A City server on a fresh slapd. The server goes first on drop.
pub struct OnSlapd {
    /// The server.
    pub city: City,
    /// Its directory.
    pub slapd: Slapd,
}

impl OnSlapd {
    /// A server on a fresh slapd with the harness's settings.
    pub fn start() -> Self {
        Self::start_with(|_| {}, |_| {}, |_| {})
    }

    /// A server on a fresh slapd: `prepare` runs on the directory before the server starts
    /// (users, the policy), `settings` adjusts the directory settings, `configure` the
    /// server's.
    pub fn start_with(
        prepare: impl FnOnce(&Slapd),
        settings: impl FnOnce(&mut LdapSettings),
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let slapd = Slapd::start();
        prepare(&slapd);
        let mut ldap = slapd.settings();
        settings(&mut ldap);
        let directory = Arc::new(OpenLdap::new(ldap).expect("the directory settings"));
        let city = City::on_with(directory, configure);
        Self { city, slapd }
    }

    /// Adds `uid` to the directory, in the self-service scope (with the harness's first
    /// password).
    pub fn employee(&self, uid: &str) {
        self.slapd
            .add_user(uid, &format!("{uid} Example"), &[SCOPE_GROUP]);
    }

    /// Adds `uid` to the directory and enrolls a phone for it with the help desk's link.
    pub fn employee_with_phone(&self, uid: &str) -> Phone {
        self.employee(uid);
        self.city.phone_for(uid)
    }

    /// The server's database, opened as an admin (or a stopped process) would.
    pub fn database(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.city.database()).expect("the database")
    }
}

/// Makes the default ppolicy's `pwdMinLength` 20 (more than our own rules' 15).
pub fn twenty_characters(slapd: &Slapd) {
    slapd.modify(
        "dn: cn=default,ou=policies,dc=city,dc=test\nchangetype: modify\n\
         replace: pwdMinLength\npwdMinLength: 20\n",
    );
}

/// slapd frozen (`SIGSTOP`): connections are still accepted by the kernel and requests
/// wait in their sockets, unanswered; `SIGCONT` on drop, also when the test panics.
pub struct Frozen {
    pid: String,
    port: u16,
}

impl Frozen {
    /// Freezes `slapd`.
    pub fn new(slapd: &Slapd) -> Self {
        // The harness has slapd write its pid file next to the CA it was given.
        let dir = slapd.ca_file().parent().expect("slapd's folder").to_owned();
        let pid = std::fs::read_to_string(dir.join("slapd.pid")).expect("slapd's pid file");
        let pid = pid.trim().to_owned();
        // Only ever signal our own slapd: its command line names its folder.
        let command = std::fs::read(format!("/proc/{pid}/cmdline")).expect("slapd runs");
        let dir = dir.to_string_lossy().into_owned();
        assert!(
            command.windows(dir.len()).any(|w| w == dir.as_bytes()),
            "pid {pid} is not this test's slapd"
        );
        let port = slapd
            .ldaps_url()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the LDAPS port");
        signal(&pid, "-STOP");
        Self { pid, port }
    }

    /// Blocks until `n` connections to the frozen slapd hold a request it has not read: the
    /// server is waiting on the directory in `n` places. Panics once `answered` says one of
    /// the requests meant to wait was answered instead (it never reached the directory).
    pub fn wait_for_requests(&self, n: usize, answered: impl Fn() -> bool) {
        while self.waiting_requests() < n {
            assert!(!answered(), "answered without waiting on the directory");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Connections to slapd's LDAPS port (established, as the kernel accepted them) with
    /// bytes slapd has not read (`/proc/net/tcp`'s `rx_queue`).
    fn waiting_requests(&self) -> usize {
        let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
        let port = format!(":{:04X}", self.port);
        table
            .lines()
            .skip(1)
            .filter(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.len() > 4
                    && fields[1].ends_with(&port)
                    && fields[3] == "01"
                    && fields[4]
                        .split(':')
                        .nth(1)
                        .is_some_and(|rx| u64::from_str_radix(rx, 16).is_ok_and(|rx| rx > 0))
            })
            .count()
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        signal(&self.pid, "-CONT");
    }
}

fn signal(pid: &str, which: &str) {
    let sent = std::process::Command::new("kill")
        .args([which, pid])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill {which} {pid}");
}
