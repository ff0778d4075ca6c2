//! The server on a real directory, whichever it is (Samba's AD DC, slapd): a [`City`] whose
//! accounts are the directory's, phones enrolled for directory accounts, a reset verified
//! on the phone through the JSON API, the API's sign-in and new password, and the audit an
//! admin reads. Setting a directory up stays with it, in `samba.rs` and `slapd.rs`.

use std::sync::Arc;
use std::time::Instant;

use cityauth_server::directory::Directory;
use cityauth_server::{Config, DirectoryChoice, admin};
use serde_json::{Value, json};

use crate::{City, Phone};

impl City {
    /// A server whose accounts are in `directory`, started without the startup check: the
    /// first use of the directory is the test's own (a test of what opens the first
    /// connection needs that).
    pub fn on(directory: Arc<dyn Directory>) -> Self {
        Self::on_with(directory, |_| {})
    }

    /// [`City::on`] with settings that `configure` adjusts.
    pub fn on_with(directory: Arc<dyn Directory>, configure: impl FnOnce(&mut Config)) -> Self {
        Self::start_with(move |c| {
            c.directory = DirectoryChoice::External(directory);
            configure(c);
        })
    }

    /// A server on `directory` as `cityauth-server serve` starts one: the directory checked
    /// first on a runtime of its own (the startup check, its time printed), then handed to
    /// the server.
    pub fn checked_on(directory: Arc<dyn Directory>) -> Self {
        let check = Instant::now();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(directory.health())
            .expect("the directory answers the startup check");
        eprintln!("startup check took {:?}", check.elapsed());
        Self::on(directory)
    }

    /// A phone enrolled for the directory account `username` with the help desk's link
    /// (the account is looked up in the directory; the server keeps only its local row).
    pub fn phone_for(&self, username: &str) -> Phone {
        let phone = Phone::new();
        phone.enroll(&self.enrollment_link(username));
        phone
    }

    /// A reset of `username` started through the JSON API and approved on `phone` with the
    /// number it answered; its id, once the server says it is verified.
    pub fn verified_reset(&self, username: &str, phone: &Phone) -> String {
        let (status, reset) = self.start_reset(username);
        assert_eq!(status, 200);
        let reset = reset.expect("a reset");
        phone.approve(&reset.number);
        assert_eq!(self.reset_state(&reset.reset_id), "verified");
        reset.reset_id
    }

    /// POSTs `body` as JSON to `path` (see [`api`]); the status and the JSON answer.
    pub fn api(&self, path: &str, body: Value) -> (u16, Value) {
        api(&self.url(), path, &body)
    }

    /// `POST /api/v1/signin`.
    pub fn sign_in(&self, username: &str, password: &str) -> (u16, Value) {
        self.api(
            "/api/v1/signin",
            json!({"username": username, "password": password}),
        )
    }

    /// `POST /api/v1/reset/{id}/password`.
    pub fn set_password(&self, reset: &str, password: &str) -> (u16, Value) {
        self.api(
            &format!("/api/v1/reset/{reset}/password"),
            json!({ "password": password }),
        )
    }

    /// The audit rows about `username` an admin reads: (event, detail), newest first.
    pub fn audit(&self, username: &str) -> Vec<(String, String)> {
        // A reset start's audit row is written behind its answer.
        self.settle();
        admin::audit(self.state(), Some(username), 100)
            .expect("the audit")
            .into_iter()
            .map(|e| (e.event, e.detail))
            .collect()
    }

    /// How many audit rows about `username` are `event`.
    pub fn audited(&self, username: &str, event: &str) -> usize {
        self.audit(username)
            .iter()
            .filter(|(e, _)| e == event)
            .count()
    }
}

/// POSTs `body` as JSON to `base` + `path` on a connection of its own (so that threads
/// can submit at once); the status and the JSON answer (`Null` if none).
pub fn api(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut response = agent
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
