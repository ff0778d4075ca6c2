//! Shared by the tests of the server on a real slapd (`directory_server.rs`,
//! `directory_portal_ldap.rs`): a City server whose directory is OpenLDAP, employees that
//! exist only there with phones enrolled through it, resets approved on the phone with the
//! number, the JSON API and the portal over HTTP (a cookie jar), the audit an admin reads,
//! and slapd frozen (`SIGSTOP`) to hold a request open.

#![allow(dead_code)] // Each test binary uses part of this.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use cityauth_core::device::Decision;
use cityauth_e2e::slapd::{SCOPE_GROUP, Slapd};
use cityauth_e2e::{City, Phone};
use cityauth_server::directory::ldap::LdapSettings;
use cityauth_server::directory::openldap::OpenLdap;
use cityauth_server::{Config, DirectoryChoice, admin};
use serde_json::Value;

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
        let city = City::start_with(|c| {
            c.directory = DirectoryChoice::External(directory);
            configure(c);
        });
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
        let phone = Phone::new();
        phone.enroll(&self.city.enrollment_link(uid));
        phone
    }

    /// A reset of `uid` started and approved on `phone` with the number shown; its id.
    pub fn verified_reset(&self, uid: &str, phone: &Phone) -> String {
        let (status, reset) = self.city.start_reset(uid);
        assert_eq!(status, 200);
        let reset = reset.expect("a reset");
        approve(phone, &reset.number);
        assert_eq!(self.city.reset_state(&reset.reset_id), "verified");
        reset.reset_id
    }

    /// POSTs `body` as JSON; the status and the JSON answer.
    pub fn api(&self, path: &str, body: Value) -> (u16, Value) {
        api(&self.city.url(), path, &body)
    }

    /// `POST /api/v1/signin`.
    pub fn sign_in(&self, uid: &str, password: &str) -> (u16, Value) {
        self.api(
            "/api/v1/signin",
            serde_json::json!({"username": uid, "password": password}),
        )
    }

    /// `POST /api/v1/reset/{id}/password`.
    pub fn set_password(&self, reset: &str, password: &str) -> (u16, Value) {
        self.api(
            &format!("/api/v1/reset/{reset}/password"),
            serde_json::json!({ "password": password }),
        )
    }

    /// The audit rows of `uid` an admin reads: (event, detail), newest first.
    pub fn audit(&self, uid: &str) -> Vec<(String, String)> {
        admin::audit(self.city.state(), Some(uid), 100)
            .expect("the audit")
            .into_iter()
            .map(|e| (e.event, e.detail))
            .collect()
    }

    /// How many audit rows of `uid` are `event`.
    pub fn audited(&self, uid: &str, event: &str) -> usize {
        self.audit(uid).iter().filter(|(e, _)| e == event).count()
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

/// Approves the one pending challenge on `phone` with `number`.
pub fn approve(phone: &Phone, number: &str) {
    let challenge = phone
        .device()
        .pending_challenges(10)
        .expect("the phone polls")
        .remove(0);
    let outcome = phone
        .device()
        .answer(&challenge, Decision::Approve, Some(number))
        .expect("the phone answers");
    assert_eq!(outcome, "approved");
}

/// POSTs `body` as JSON to `base` + `path` on a connection of its own (so that threads
/// can submit at once); the status and the JSON answer (`Null` if none).
pub fn api(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let mut response = agent()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .send(body.to_string())
        .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The protocol's error code in an answer ("" if none).
pub fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// A page of the portal.
#[derive(Debug)]
pub struct Page {
    /// Its status.
    pub status: u16,
    /// Its body.
    pub html: String,
}

/// A browser on the portal: keeps the cookies the server sets and sends them back; forms
/// posted, redirects not followed.
pub struct Browser {
    base: String,
    agent: ureq::Agent,
    cookies: RefCell<Vec<(String, String)>>,
}

impl Browser {
    /// A browser with no cookies on `city`.
    pub fn new(city: &City) -> Self {
        Self {
            base: city.url(),
            agent: agent(),
            cookies: RefCell::new(Vec::new()),
        }
    }

    /// Sets (or replaces) a cookie.
    pub fn set_cookie(&self, name: &str, value: &str) {
        let mut jar = self.cookies.borrow_mut();
        jar.retain(|(n, _)| n != name);
        jar.push((name.into(), value.into()));
    }

    /// `POST path` with a form.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        let jar = self
            .cookies
            .borrow()
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !jar.is_empty() {
            request = request.header("cookie", jar);
        }
        let mut response = request
            .send_form(fields.iter().copied())
            .expect("the portal answers");
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap_or("");
            let pair = value.split(';').next().unwrap_or("");
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            let mut jar = self.cookies.borrow_mut();
            jar.retain(|(k, _)| k != n);
            if !value.contains("Max-Age=0") {
                jar.push((n.to_owned(), v.to_owned()));
            }
        }
        Page {
            status: response.status().as_u16(),
            html: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    /// A reset of `uid` started here and approved on `phone` with the number the page
    /// shows: its id and the page shown next.
    pub fn verified_reset(&self, uid: &str, phone: &Phone) -> (String, Page) {
        let waiting = self.post("/forgot", &[("username", uid)]);
        assert_eq!(waiting.status, 200, "{}", waiting.html);
        let id = field(&waiting.html, "id");
        approve(phone, &shown_number(&waiting.html));
        let next = self.post("/forgot/continue", &[("id", &id)]);
        assert_eq!(next.status, 200, "{}", next.html);
        (id, next)
    }

    /// Signs in as `uid` with `password`, approved on `phone`.
    pub fn sign_in(&self, uid: &str, password: &str, phone: &Phone) {
        let waiting = self.post("/signin", &[("username", uid), ("password", password)]);
        assert_eq!(waiting.status, 200, "{}", waiting.html);
        let id = field(&waiting.html, "id");
        approve(phone, &shown_number(&waiting.html));
        let signed = self.post("/signin/continue", &[("id", &id)]);
        assert_eq!(signed.status, 303, "{}", signed.html);
    }
}

/// The value of hidden field `name`.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}: {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap_or("").to_owned()
}

/// The number the page asks to type on the phone.
pub fn shown_number(html: &str) -> String {
    let start = html
        .find("class=\"number\"")
        .unwrap_or_else(|| panic!("no number: {html}"));
    let text = &html[start..];
    let open = text.find('>').map_or(0, |i| i + 1);
    text[open..].split('<').next().unwrap_or("").to_owned()
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
