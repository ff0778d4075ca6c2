//! The harness of the end-to-end tests: a real City account server on loopback with a
//! temporary database, phones with real vaults, and the browser side of the reset portal
//! spoken over real HTTP.

pub mod axe;
pub mod bench;
pub mod directory;
pub mod faults;
pub mod hostile;
pub mod nginx;
pub mod portal;
pub mod postgres;
pub mod process;
pub mod replicas;
pub mod samba;
pub mod slapd;
pub mod webdriver;

use std::net::{SocketAddr, TcpListener};

use cityauth_core::device::{Decision, Device, HttpRequest, Transport, UreqTransport};
use cityauth_core::{KdfParams, Vault};
use cityauth_protocol::wire::{ResetStartRequest, ResetStartResponse, ResetStatus};
use cityauth_server::store::{Durability, StoreLocation};
use cityauth_server::{AppState, Config, RunningServer, admin};

/// Whether the tests run on PostgreSQL (`CITYAUTH_TEST_STORE=postgres`: one throwaway
/// cluster per test process, [`postgres::Postgres::shared`], a fresh database per City)
/// rather than SQLite.
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

/// A password that passes the server's policy.
pub const GOOD_PASSWORD: &str = "violet-harbour-93-lantern";

/// A City account server running on loopback with its own temporary database.
pub struct City {
    /// The running server.
    pub server: RunningServer,
    /// The database's URL, on PostgreSQL.
    pub database_url: Option<String>,
    /// The browser's HTTP client (one agent: its connections are reused).
    browser: UreqTransport,
    _dir: tempfile::TempDir,
}

impl City {
    /// A server with the default settings.
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// A server whose settings `configure` adjusts (challenge lifetime, limits, …).
    pub fn start_with(configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        // The enrollment link needs the URL before the server starts: bind first.
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr: SocketAddr = listener.local_addr().expect("its address");
        let mut config = Config::new(&format!("http://{addr}"));
        configure(&mut config);
        let file = dir.path().join("city.sqlite");
        let (state, database_url) = if on_postgres() {
            let url = postgres::Postgres::shared()
                .fresh_database()
                .expect("a PostgreSQL database");
            // Few connections: tests run many servers against one cluster.
            let store = StoreLocation::parse(&url)
                .open_with(Durability::Normal, 4)
                .expect("open the PostgreSQL store");
            // The key file where SQLite's would be, as `AppState::open` makes it.
            let kek = AppState::load_kek(store.as_ref(), &config, Some(&file)).expect("the key");
            let state = AppState::with_kek(store, config, None, kek).expect("open state");
            (state, Some(url))
        } else {
            (AppState::open(&file, config).expect("open state"), None)
        };
        let server = cityauth_server::spawn_on(listener, state).expect("start the server");
        Self {
            server,
            database_url,
            browser: UreqTransport::new(),
            _dir: dir,
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The server's database file (for tests that read what it keeps, or leave a row as a
    /// stopped process would); SQLite only (see [`sqlite_only`]).
    pub fn database(&self) -> std::path::PathBuf {
        self._dir.path().join("city.sqlite")
    }

    /// The server's state, for admin helpers.
    pub fn state(&self) -> &AppState {
        self.server.state()
    }

    /// Creates an employee with [`GOOD_PASSWORD`].
    pub fn add_employee(&self, username: &str) {
        admin::create_user(self.state(), username, "Alice Example", GOOD_PASSWORD)
            .expect("create user");
    }

    /// A fresh enrollment link for `username`, as the Security info page shows it.
    pub fn enrollment_link(&self, username: &str) -> String {
        admin::enrollment_link(self.state(), username).expect("enrollment link")
    }

    /// Creates the employee `username` and a phone enrolled for them.
    pub fn enrolled_phone(&self, username: &str) -> Phone {
        self.add_employee(username);
        let phone = Phone::new();
        phone.enroll(&self.enrollment_link(username));
        phone
    }

    /// Starts a password reset the way the portal does; returns the status and the answer,
    /// once the pushes that follow the answer are stored ([`City::settle`]).
    pub fn start_reset(&self, username: &str) -> (u16, Option<ResetStartResponse>) {
        let started = self.start_reset_from(&self.browser, username);
        self.settle();
        started
    }

    /// Returns once the work the server does behind its answers (a reset's pushes and its
    /// audit row) is done, so that a test's next poll, or its check that none went, sees
    /// it: after reset starts made through the portal's pages.
    pub fn settle(&self) {
        assert!(
            self.state().settle(std::time::Duration::from_secs(30)),
            "the work behind the server's answers did not settle"
        );
    }

    /// [`City::start_reset`] from another browser (its own HTTP connections): the load
    /// benchmark gives each simulated employee one, as real browsers each keep their own.
    pub fn start_reset_from(
        &self,
        browser: &UreqTransport,
        username: &str,
    ) -> (u16, Option<ResetStartResponse>) {
        let body = serde_json::to_vec(&ResetStartRequest {
            username: username.into(),
        })
        .expect("json");
        let (status, body) = self.request_from(browser, "POST", "/api/v1/reset/start", body);
        (status, serde_json::from_slice(&body).ok())
    }

    /// A reset's state (`pending`, `verified`, …).
    pub fn reset_state(&self, reset_id: &str) -> String {
        let (_, body) = self.request("GET", &format!("/api/v1/reset/{reset_id}"), Vec::new());
        serde_json::from_slice::<ResetStatus>(&body)
            .map(|s| s.state)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned())
    }

    /// POSTs JSON to the API; returns status and body.
    pub fn post(&self, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        self.request("POST", path, body)
    }

    /// Sends a request to the API; returns status and body.
    pub fn request(&self, method: &str, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        self.request_from(&self.browser, method, path, body)
    }

    fn request_from(
        &self,
        browser: &UreqTransport,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> (u16, Vec<u8>) {
        let response = browser
            .send(&HttpRequest {
                method: method.into(),
                url: format!("{}{path}", self.url()),
                headers: Vec::new(),
                body,
            })
            .expect("the server answers");
        (response.status, response.body)
    }
}

/// A phone: a real vault in a temporary folder and the default HTTP transport.
pub struct Phone {
    /// The phone's vault, unlocked.
    pub vault: Vault,
    /// How it reaches the server.
    pub transport: UreqTransport,
    _dir: tempfile::TempDir,
}

impl Phone {
    /// A phone with an empty vault.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let kdf = KdfParams::new(256, 1, 1).expect("test parameters");
        let vault = Vault::create(&dir.path().join("phone.sqlite"), "phone passphrase", kdf)
            .expect("vault");
        Self {
            vault,
            transport: UreqTransport::new(),
            _dir: dir,
        }
    }

    /// The device side of the protocol over this phone's vault.
    pub fn device(&self) -> Device<'_> {
        Device::new(&self.vault, &self.transport)
    }

    /// Enrolls the phone with `link`.
    pub fn enroll(&self, link: &str) {
        self.device()
            .enroll(link, "Test phone", "android", None)
            .expect("enroll");
    }

    /// Approves the one challenge waiting on the phone, typing the `number` the browser
    /// shows; more than one waiting would mean a push went where it should not.
    pub fn approve(&self, number: &str) {
        let challenges = self.device().pending_challenges(10).expect("challenges");
        assert_eq!(challenges.len(), 1, "one challenge on the phone");
        let outcome = self
            .device()
            .answer(&challenges[0], Decision::Approve, Some(number))
            .expect("answered");
        assert_eq!(outcome, "approved");
    }

    /// The clock offset the phone's enrollment holds.
    pub fn clock_offset(&self) -> i64 {
        self.vault
            .enrollment()
            .expect("enrollment readable")
            .expect("enrolled")
            .clock_offset
    }
}

impl Default for Phone {
    fn default() -> Self {
        Self::new()
    }
}
