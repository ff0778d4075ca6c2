//! The notices by email, through a real SMTP relay on loopback (Python's aiosmtpd, STARTTLS
//! required, its certificate from a CA made here): who gets which message, in which
//! language, that nothing secret is in them, and that a relay that is down or busy delays
//! the message without failing the request.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cityauth_protocol::wire::{ChallengeKind, Decision};
use cityauth_server::admin;
use cityauth_server::helpdesk::{self, Role};
use cityauth_server::i18n::Lang;
use cityauth_server::notify::MailConfig;
use common::browser::{Browser, field, shown_number};
use common::{Harness, PASSWORD};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "Quiet-Harbour-Lantern-93";
const SECURITY_TEAM: &str = "security@city.test";

/// The relay's certificate and key, and the CA file the server is told to trust.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn pki(dir: &Path) -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let files = Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("relay.pem"),
        key: dir.join("relay.key"),
    };
    std::fs::write(&files.ca, ca_cert.pem()).unwrap();
    std::fs::write(&files.cert, leaf.pem()).unwrap();
    std::fs::write(&files.key, leaf_key.serialize_pem()).unwrap();
    files
}

/// aiosmtpd serving `relay.py` on `port`; killed when dropped.
struct Relay {
    child: Child,
    out: PathBuf,
}

impl Relay {
    fn start(port: u16, pki: &Pki, out: &Path, fail_first: u32) -> Self {
        std::fs::create_dir_all(out).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/relay.py");
        // Debian's python3: the one python3-aiosmtpd is installed for.
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--cert")
            .arg(&pki.cert)
            .arg("--key")
            .arg(&pki.key)
            .arg("--out")
            .arg(out)
            .arg("--fail-first")
            .arg(fail_first.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start aiosmtpd (scripts/install-test-deps installs python3-aiosmtpd)");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert!(
            line.starts_with("listening"),
            "the relay did not start: {line:?}"
        );
        Self {
            child,
            out: out.to_owned(),
        }
    }

    /// The messages taken so far, in order.
    fn messages(&self) -> Vec<Value> {
        let mut files: Vec<_> = std::fs::read_dir(&self.out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits (up to a minute) until `count` messages have arrived; they, in order.
    fn wait_for(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() > deadline {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server whose notices go to the relay on `port`, trusting `pki`'s CA only.
fn server_mailing(port: u16, pki: &Pki) -> Harness {
    let mut mail = MailConfig::new("localhost", "City of Chicago <accounts@city.test>");
    mail.port = port;
    mail.ca_file = Some(pki.ca.clone());
    mail.security_team = Some(SECURITY_TEAM.to_owned());
    mail.first_retry = Duration::from_millis(500);
    let h = Harness::with_config(|c| c.mail = Some(mail));
    h.add_user("alice");
    admin::set_mail(h.state(), "alice", Some("alice@city.test")).unwrap();
    h
}

/// Sets the new password of a verified reset, from a browser that speaks `lang`.
fn finish_reset(h: &Harness, reset: &str, accept_language: &str) {
    let reply = h.send(
        "POST",
        &format!("/api/v1/reset/{reset}/password"),
        &[("accept-language".into(), accept_language.into())],
        Some(json!({ "password": NEW_PASSWORD }).to_string().as_bytes()),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
}

fn subject(message: &Value) -> &str {
    message["subject"].as_str().unwrap()
}

#[test]
fn a_phone_a_reset_and_a_fraud_report_reach_the_employee_in_their_language_and_the_team() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let port = free_port();
    let relay = Relay::start(port, &pki, &dir.path().join("out"), 0);
    let h = server_mailing(port, &pki);

    // A phone registered by the app: no browser, no language known yet: English.
    let device = h.enroll("alice");
    let first = relay.wait_for(1);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(
        subject(&first[0]),
        Lang::En.text("mail-phone-added-subject")
    );

    // The reset finished from a Spanish browser: in Spanish, and Spanish is remembered.
    let reset = h.verified_reset("alice", &device);
    finish_reset(&h, &reset, "es-US,es;q=0.9,en;q=0.5");
    let second = relay.wait_for(2);
    assert_eq!(second.len(), 2, "{second:?}");
    assert_eq!(
        subject(&second[1]),
        Lang::Es.text("mail-password-reset-subject")
    );

    // A fraud report from the phone (no language on its request): Spanish, remembered;
    // the security team is told too, in English.
    assert!(
        device.poll(&h, 0).is_empty(),
        "a prompt left after the reset"
    );
    let (fraud_reset, _) = h.start_reset("alice");
    let challenge = device.poll(&h, 5).remove(0);
    let reply = device.answer(&h, &challenge, Decision::Fraud, None);
    assert_eq!(reply.status, 200, "{reply:?}");
    let all = relay.wait_for(4);
    assert_eq!(all.len(), 4, "{all:?}");
    let to = |m: &Value| m["rcpt_tos"][0].as_str().unwrap().to_owned();
    let employee = all[2..]
        .iter()
        .find(|m| to(m) == "alice@city.test")
        .unwrap();
    let team = all[2..].iter().find(|m| to(m) == SECURITY_TEAM).unwrap();
    assert_eq!(
        subject(employee),
        Lang::Es.text("mail-fraud-reported-subject")
    );
    assert_eq!(
        subject(team),
        Lang::En.text_with("mail-security-fraud-subject", &[("username", "alice")])
    );

    let secrets = [
        NEW_PASSWORD.to_owned(),
        reset.clone(),
        fraud_reset.clone(),
        challenge.challenge.id.clone(),
        base32::encode(
            base32::Alphabet::Rfc4648 { padding: false },
            &device.oath_secret,
        ),
        device.code(),
    ];
    let portal = format!("{}/", h.state().config().public_url);
    for message in &all {
        assert_eq!(message["tls"], true, "sent without STARTTLS: {message}");
        assert_eq!(message["from"], "City of Chicago <accounts@city.test>");
        assert_eq!(message["mail_from"], "accounts@city.test");
        assert_eq!(message["content_type"], "text/plain");
        assert_eq!(message["charset"], "utf-8");
        let body = message["body"].as_str().unwrap();
        let raw = message["raw"].as_str().unwrap();
        for secret in &secrets {
            assert!(!body.contains(secret.as_str()), "a secret in {body}");
            assert!(
                !raw.contains(secret.as_str()),
                "a secret in the raw message"
            );
        }
        // The one link is the portal's home: nothing that signs in or resets.
        for word in body.split_whitespace().filter(|w| w.contains("://")) {
            assert_eq!(
                word, portal,
                "a link other than the portal's home in {body}"
            );
        }
    }
    let spanish = second[1]["body"].as_str().unwrap();
    assert!(
        spanish.contains(&Lang::Es.text("mail-password-reset-body")),
        "{spanish}"
    );
    assert!(spanish.contains("alice"), "{spanish}");
}

#[test]
fn a_relay_that_is_down_then_busy_delays_the_message_but_never_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let port = free_port();
    let h = server_mailing(port, &pki);
    let device = h.enroll("alice");

    // Nothing listens on the relay's port: the reset completes all the same.
    let reset = h.verified_reset("alice", &device);
    finish_reset(&h, &reset, "en");
    assert_eq!(h.reset_state(&reset), "done");

    // The relay comes up, and answers its first message "try again later".
    let relay = Relay::start(port, &pki, &dir.path().join("out"), 1);
    let messages = relay.wait_for(2);
    let subjects: Vec<_> = messages.iter().map(subject).collect();
    assert_eq!(messages.len(), 2, "{subjects:?}");
    assert!(subjects.contains(&Lang::En.text("mail-phone-added-subject").as_str()));
    assert!(subjects.contains(&Lang::En.text("mail-password-reset-subject").as_str()));
    assert_eq!(h.state().metrics().mails_sent.get(), 2);
    assert_eq!(h.state().metrics().mails_failed.get(), 0);
}

#[test]
fn a_relay_whose_certificate_is_not_from_the_citys_ca_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (trusted, other) = (dir.path().join("trusted"), dir.path().join("other"));
    std::fs::create_dir_all(&trusted).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    let (trusted, other) = (pki(&trusted), pki(&other));
    let port = free_port();
    let relay = Relay::start(port, &other, &dir.path().join("out"), 0);
    let mut mail = MailConfig::new("localhost", "accounts@city.test");
    mail.port = port;
    mail.ca_file = Some(trusted.ca.clone());
    mail.max_attempts = 2;
    mail.first_retry = Duration::from_millis(200);
    let h = Harness::with_config(|c| c.mail = Some(mail));
    h.add_user("alice");
    admin::set_mail(h.state(), "alice", Some("alice@city.test")).unwrap();
    h.enroll("alice");
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.state().metrics().mails_failed.get() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(h.state().metrics().mails_failed.get(), 1);
    assert!(relay.messages().is_empty());
}

#[test]
fn a_flood_of_prompts_is_told_once_to_the_employee_and_the_team_not_once_a_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let port = free_port();
    let relay = Relay::start(port, &pki, &dir.path().join("out"), 0);
    let h = server_mailing(port, &pki);
    let device = h.enroll("alice");
    assert_eq!(relay.wait_for(1).len(), 1);

    // A stranger names alice from many addresses: past the cap, pushes are withheld.
    let cap = h.state().config().limits.push_anonymous.max;
    for i in 0..cap + 4 {
        let from = format!("127.0.0.{}", 10 + i);
        let reply = h.post_from(
            &from,
            "/api/v1/reset/start",
            &json!({ "username": "alice" }),
        );
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    // A later notice, to know the flood's messages have had their turn.
    admin::remove_device(h.state(), "alice", &device.id).unwrap();
    let removed = Lang::En.text("mail-phone-removed-subject");
    let flood_subjects = [
        Lang::En.text("mail-push-flood-subject"),
        Lang::En.text_with("mail-security-flood-subject", &[("username", "alice")]),
    ];
    let flood_of = |messages: &[Value]| -> Vec<String> {
        messages
            .iter()
            .filter(|m| flood_subjects.iter().any(|s| s == subject(m)))
            .map(|m| m["rcpt_tos"][0].as_str().unwrap().to_owned())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let messages = loop {
        let messages = relay.messages();
        let done = messages.iter().any(|m| subject(m) == removed) && flood_of(&messages).len() >= 2;
        if done || Instant::now() > deadline {
            break messages;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let flood = flood_of(&messages);
    let mut flood = flood;
    flood.sort();
    let subjects: Vec<_> = messages.iter().map(subject).collect();
    assert_eq!(flood, ["alice@city.test", SECURITY_TEAM], "{subjects:?}");
    let helpdesk = messages.iter().find(|m| subject(m) == removed).unwrap();
    assert!(
        helpdesk["body"]
            .as_str()
            .unwrap()
            .contains(&Lang::En.text_with(
                "mail-phone-removed-helpdesk-body",
                &[("phone", "Test phone")]
            )),
        "{helpdesk}"
    );
}

#[test]
fn an_admin_command_sends_its_notice_before_it_returns() {
    if common::sqlite_only("the admin command opens the harness's SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let port = free_port();
    let relay = Relay::start(port, &pki, &dir.path().join("out"), 0);
    let h = Harness::start();
    h.add_user("alice");
    admin::set_mail(h.state(), "alice", Some("alice@city.test")).unwrap();
    let device = h.enroll("alice");
    let db = h.db_path();
    let _kept = h.stop();
    let config = dir.path().join("cityauth.toml");
    std::fs::write(
        &config,
        format!(
            "[mail]\nhost = \"localhost\"\nport = {port}\nfrom = \"accounts@city.test\"\nca_file = {:?}\n",
            pki.ca.display().to_string()
        ),
    )
    .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_cityauth-server"));
    let config = config.display().to_string();
    let (ok, out, err) = common::run_binary(
        bin,
        &db,
        &["--config", &config, "remove-device", "alice", &device.id],
        "",
    );
    assert!(ok, "{out}{err}");
    // Sent before the process ended: nothing is waiting for it now.
    let messages = relay.messages();
    let subjects: Vec<_> = messages.iter().map(subject).collect();
    assert_eq!(
        subjects,
        [Lang::En.text("mail-phone-removed-subject")],
        "{out}{err}"
    );
}

#[test]
fn an_access_code_from_the_help_desk_is_told_to_the_employee_never_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let port = free_port();
    let relay = Relay::start(port, &pki, &dir.path().join("out"), 0);
    let h = server_mailing(port, &pki);
    let alice = h.enroll("alice");
    assert_eq!(relay.wait_for(1).len(), 1, "the phone added");
    // The operator (no mail address of her own) at a console that speaks Spanish.
    h.add_user("olga");
    let olga = h.enroll("olga");
    helpdesk::grant(h.state(), "olga", Role::Operator).unwrap();
    let b = Browser::new(&h);
    b.always("accept-language", "es");
    let waiting = b.post(
        "/helpdesk/signin",
        &[("username", "olga"), ("password", PASSWORD)],
    );
    assert_eq!(waiting.status, 200, "{}", waiting.html);
    olga.approve_newest_of(&h, ChallengeKind::SignIn, &shown_number(&waiting.html));
    let signed = b.post(
        "/helpdesk/signin/continue",
        &[("id", &field(&waiting.html, "id"))],
    );
    assert_eq!(signed.status, 303, "{}", signed.html);

    // An override: no verification, a reason instead.
    let overridden = b.post(
        "/helpdesk/access-code",
        &[
            ("username", "alice"),
            ("reason", "caller left her phone at the depot"),
            ("minutes", "60"),
            ("one_use", "yes"),
        ],
    );
    assert_eq!(overridden.status, 200, "{}", overridden.html);
    let first_code = shown_number(&overridden.html);

    // Then one for a caller verified on alice's phone.
    let verify = b.post("/helpdesk/verify", &[("username", "alice")]);
    assert_eq!(verify.status, 200, "{}", verify.html);
    let verification = field(&verify.html, "id");
    alice.approve_newest_of(
        &h,
        ChallengeKind::CallerVerification,
        &shown_number(&verify.html),
    );
    let back = b.post("/helpdesk/verify/continue", &[("id", &verification)]);
    assert_eq!(back.status, 303, "{}", back.html);
    let verified = b.post(
        "/helpdesk/access-code",
        &[
            ("username", "alice"),
            ("verification", &verification),
            ("minutes", "30"),
            ("one_use", "yes"),
        ],
    );
    assert_eq!(verified.status, 200, "{}", verified.html);
    let second_code = shown_number(&verified.html);

    let all = relay.wait_for(3);
    assert_eq!(all.len(), 3, "{all:?}");
    let subject_en = Lang::En.text("mail-access-code-subject");
    // The two may arrive in either order (sent concurrently).
    let notices: Vec<&Value> = all.iter().filter(|m| subject(m) == subject_en).collect();
    assert_eq!(notices.len(), 2, "{all:?}");
    for message in &notices {
        // To the employee, in her language (English: she never chose one), not the
        // operator's.
        assert_eq!(message["rcpt_tos"][0], "alice@city.test", "{message}");
        let body = message["body"].as_str().unwrap();
        let raw = message["raw"].as_str().unwrap();
        assert!(body.contains("UTC"), "when: {body}");
        assert!(body.contains("security team"), "whom to call: {body}");
        for code in [&first_code, &second_code] {
            let typed = code.replace('-', "");
            for secret in [code.as_str(), typed.as_str(), &typed.to_lowercase()] {
                assert!(!body.contains(secret), "the code in {body}");
                assert!(!raw.contains(secret), "the code in the raw message");
            }
        }
        assert!(!body.contains(&verification), "{body}");
    }
    let body_with = |minutes: &str| {
        let found: Vec<&str> = notices
            .iter()
            .map(|m| m["body"].as_str().unwrap())
            .filter(|b| b.contains(&format!("valid for {minutes} minutes")))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one notice for the {minutes}-minute code: {found:?}"
        );
        found[0].to_owned()
    };
    let overridden = body_with("60");
    assert!(
        overridden.contains("without confirming the caller on your phone"),
        "the override is said: {overridden}"
    );
    let verified = body_with("30");
    assert!(!verified.contains("without confirming"), "{verified}");
}
