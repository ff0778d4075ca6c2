//! End to end on LDAP: the real server on loopback with its accounts in a real slapd
//! (ppolicy, LDAPS, a least-privilege service account), phones with real vaults, and the
//! reset portal's pages over HTTP with a browser's cookie. Each test has a slapd of its own.

use std::sync::Arc;
use std::time::Instant;

use cityauth_core::device::Decision;
use cityauth_e2e::slapd::{self, ADMINS_GROUP, FIRST_PASSWORD, SCOPE_GROUP, Slapd};
use cityauth_e2e::{City, Phone};
use cityauth_server::DirectoryChoice;
use cityauth_server::directory::Directory;
use cityauth_server::directory::openldap::OpenLdap;

const NEW_PASSWORD: &str = "Velvet-Quince-Drum-2025";

/// The server on `server`'s directory, after the startup check made in a runtime of its
/// own (as `cityauth-server serve` does before it listens).
fn city_on(server: &Slapd) -> City {
    let directory = OpenLdap::new(server.settings()).expect("valid settings");
    let check = Instant::now();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(directory.health())
        .expect("the startup check passes");
    eprintln!("startup check took {:?}", check.elapsed());
    let directory: Arc<dyn Directory> = Arc::new(directory);
    City::start_with(move |c| c.directory = DirectoryChoice::External(directory))
}

/// A phone enrolled for `username` with the help desk's link (the account is looked up
/// in the directory; nothing is created on the server but its local row).
fn enrolled(city: &City, username: &str) -> Phone {
    let phone = Phone::new();
    phone.enroll(&city.enrollment_link(username));
    phone
}

/// Approves the one pending reset on `phone` with the number the portal showed.
fn approve(phone: &Phone, number: &str) {
    let challenges = phone.device().pending_challenges(10).expect("challenges");
    assert_eq!(challenges.len(), 1, "one request on the phone");
    let outcome = phone
        .device()
        .answer(&challenges[0], Decision::Approve, Some(number))
        .expect("answered");
    assert_eq!(outcome, "approved");
}

/// A reset started and approved through the API; its id.
fn verified_reset(city: &City, phone: &Phone, username: &str) -> String {
    let (status, started) = city.start_reset(username);
    assert_eq!(status, 200);
    let started = started.expect("a reset");
    approve(phone, &started.number);
    assert_eq!(city.reset_state(&started.reset_id), "verified");
    started.reset_id
}

fn set_password(city: &City, reset: &str, password: &str) -> (u16, serde_json::Value) {
    let body = serde_json::json!({ "password": password })
        .to_string()
        .into_bytes();
    let (status, body) = city.post(&format!("/api/v1/reset/{reset}/password"), body);
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

fn sign_in(city: &City, username: &str, password: &str) -> (u16, serde_json::Value) {
    let body = serde_json::json!({ "username": username, "password": password })
        .to_string()
        .into_bytes();
    let (status, body) = city.post("/api/v1/signin", body);
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

#[test]
fn an_employee_only_in_the_directory_resets_the_directory_password_from_the_portal() {
    let server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = enrolled(&city, "alice");

    let browser = portal::Browser::new(&city.url());
    let started = browser.post("/forgot", &[("username", "alice")]);
    assert_eq!(started.status, 200, "{}", started.html);
    let id = portal::field(&started.html, "id");
    approve(&phone, &portal::shown_number(&started.html));
    let form = browser.post("/forgot/continue", &[("id", &id)]);
    assert_eq!(form.status, 200, "{}", form.html);

    // A password the directory remembers: ppolicy's history refuses it, said in words,
    // and the reset stays verified.
    let refused = browser.post(
        "/forgot/password",
        &[("id", &id), ("password", FIRST_PASSWORD)],
    );
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("you used it before"),
        "{}",
        refused.html
    );
    // The form again, for the same verified reset (the API does not show a portal's reset
    // to another browser).
    assert_eq!(
        portal::field(&refused.html, "id"),
        id,
        "the reset is still open"
    );
    assert!(server.bind("alice", FIRST_PASSWORD), "nothing changed");

    let done = browser.post(
        "/forgot/password",
        &[("id", &id), ("password", NEW_PASSWORD)],
    );
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Password changed"), "{}", done.html);
    assert!(
        server.bind("alice", NEW_PASSWORD),
        "the directory has the new password"
    );
    assert!(!server.bind("alice", FIRST_PASSWORD), "and not the old one");
    assert_eq!(sign_in(&city, "alice", NEW_PASSWORD).0, 200);
    // The reset is done: it sets no second password.
    let again = browser.post(
        "/forgot/password",
        &[("id", &id), ("password", "Copper-Meadow-Lark-2026")],
    );
    assert_ne!(again.status, 200, "{}", again.html);
    assert!(server.bind("alice", NEW_PASSWORD));
}

#[test]
fn disabled_out_of_scope_protected_and_injected_names_answer_as_unknown() {
    let server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    server.add_user("dis", "Disabled Employee", &[SCOPE_GROUP]);
    server.add_user("out", "Former Employee", &[SCOPE_GROUP]);
    server.add_user("root", "Directory Admin", &[SCOPE_GROUP, ADMINS_GROUP]);
    let city = city_on(&server);
    let alice = enrolled(&city, "alice");
    let dis = enrolled(&city, "dis");
    let out = enrolled(&city, "out");
    server.disable("dis");
    server.remove_member(SCOPE_GROUP, &Slapd::user_dn("out"));

    let keys = |answer: &Option<cityauth_protocol::wire::ResetStartResponse>| {
        let value = serde_json::to_value(answer.as_ref().expect("an answer")).unwrap();
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let (unknown_status, unknown) = city.start_reset("nobody");
    for name in [
        "dis",
        "out",
        "root",
        "*",
        "al*",
        "*)(uid=*",
        "alice)(|(uid=*",
    ] {
        let (status, answer) = city.start_reset(name);
        assert_eq!(status, unknown_status, "{name}");
        assert_eq!(keys(&answer), keys(&unknown), "{name}");
    }
    for (who, phone) in [("alice", &alice), ("dis", &dis), ("out", &out)] {
        assert!(
            phone.device().pending_challenges(0).unwrap().is_empty(),
            "no push to {who}"
        );
    }
    // Signing in with the right password: the same refusal as an unknown name.
    let nobody = sign_in(&city, "nobody", FIRST_PASSWORD);
    assert_eq!(nobody.0, 401);
    for name in ["dis", "out", "*", "al*"] {
        let answer = sign_in(&city, name, FIRST_PASSWORD);
        assert_eq!(
            (answer.0, &answer.1["error"]),
            (nobody.0, &nobody.1["error"]),
            "{name}"
        );
    }
    assert!(
        server.bind("root", FIRST_PASSWORD),
        "the admin's password is untouched"
    );
}

#[test]
fn a_protected_admin_cannot_be_reset_even_with_an_enrolled_phone() {
    let server = Slapd::start();
    server.add_user("root", "Directory Admin", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = enrolled(&city, "root");
    server.add_member(slapd::IT_GROUP, &Slapd::user_dn("root"));
    let (status, _) = city.start_reset("root");
    assert_eq!(status, 200);
    assert!(
        phone.device().pending_challenges(0).unwrap().is_empty(),
        "no push to a protected admin"
    );
    assert!(server.bind("root", FIRST_PASSWORD));
}

#[test]
fn an_account_locked_by_wrong_passwords_is_unlocked_by_the_phone_keeping_its_password() {
    let server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = enrolled(&city, "alice");
    // Locked out for real: ppolicy counted the wrong binds (pwdMaxFailure).
    server.lock_out("alice");
    assert!(!server.bind("alice", FIRST_PASSWORD), "slapd locked it");
    assert_eq!(sign_in(&city, "alice", FIRST_PASSWORD).0, 423);

    let reset = verified_reset(&city, &phone, "alice");
    let (status, _) = city.post(&format!("/api/v1/reset/{reset}/unlock"), b"{}".to_vec());
    assert_eq!(status, 200);
    assert!(
        server.bind("alice", FIRST_PASSWORD),
        "unlocked, same password"
    );
    assert_eq!(sign_in(&city, "alice", FIRST_PASSWORD).0, 200);
}

#[test]
fn the_directory_unreachable_mid_reset_loses_nothing_and_the_retry_succeeds() {
    let mut server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = enrolled(&city, "alice");
    let reset = verified_reset(&city, &phone, "alice");
    server.stop();
    let (status, body) = set_password(&city, &reset, NEW_PASSWORD);
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("directory_unavailable"))
    );
    assert!(
        body["message"].as_str().unwrap_or("").contains("try again"),
        "{body}"
    );
    assert_eq!(city.reset_state(&reset), "verified");
    server.restart();
    assert!(server.bind("alice", FIRST_PASSWORD), "nothing half-done");
    let (status, body) = set_password(&city, &reset, NEW_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert!(server.bind("alice", NEW_PASSWORD));
    assert!(!server.bind("alice", FIRST_PASSWORD));
}

#[test]
fn a_rename_in_the_directory_keeps_the_phone() {
    let server = Slapd::start();
    server.add_user("alice", "Alice Example", &[SCOPE_GROUP]);
    let city = city_on(&server);
    let phone = enrolled(&city, "alice");
    server.rename("alice", "alice.wed");
    let (status, _) = city.start_reset("alice");
    assert_eq!(status, 200);
    assert!(
        phone.device().pending_challenges(0).unwrap().is_empty(),
        "the old name is nobody now"
    );
    let reset = verified_reset(&city, &phone, "alice.wed");
    let (status, body) = set_password(&city, &reset, NEW_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert!(server.bind("alice.wed", NEW_PASSWORD));
}

/// The browser side of the portal: form posts with the cookie the server sets.
mod portal {
    use std::time::Duration;

    /// A page: status and body.
    pub struct Page {
        pub status: u16,
        pub html: String,
    }

    /// A browser with one cookie jar.
    pub struct Browser {
        base: String,
        agent: ureq::Agent,
        cookies: std::cell::RefCell<Vec<(String, String)>>,
    }

    impl Browser {
        pub fn new(base: &str) -> Self {
            Self {
                base: base.to_owned(),
                agent: ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .timeout_global(Some(Duration::from_secs(60)))
                    .build()
                    .into(),
                cookies: Default::default(),
            }
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
                if let Some((name, v)) = pair.split_once('=') {
                    let mut jar = self.cookies.borrow_mut();
                    jar.retain(|(n, _)| n != name);
                    jar.push((name.to_owned(), v.to_owned()));
                }
            }
            Page {
                status: response.status().as_u16(),
                html: response.body_mut().read_to_string().unwrap_or_default(),
            }
        }
    }

    /// The value of the hidden field `name`.
    pub fn field(html: &str, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name}: {html}"))
            + marker.len();
        html[start..].split('"').next().unwrap_or("").to_owned()
    }

    /// The number the page asks the employee to type on the phone.
    pub fn shown_number(html: &str) -> String {
        let start = html
            .find("class=\"number\"")
            .unwrap_or_else(|| panic!("no number: {html}"));
        let text = &html[start..];
        let open = text.find('>').map(|i| i + 1).unwrap_or(0);
        text[open..].split('<').next().unwrap_or("").to_owned()
    }
}
