//! The device (cityauth-core) against a live server on loopback: enrollment, a password reset
//! approved with number matching, and everything that must be refused.

use std::sync::Mutex;

use cityauth_core::Device;
use cityauth_core::device::{
    ClientError, Decision, HttpRequest, HttpResponse, Transport, TransportError, UreqTransport,
};
use cityauth_e2e::{City, Phone};
use cityauth_protocol::canonical::{challenge_message, request_message};
use cityauth_protocol::wire::{self, ChallengeKind, ChallengeList, ResetPasswordRequest};
use cityauth_protocol::{SigningKey, encoding};

#[test]
fn an_employee_resets_the_password_by_approving_on_the_phone() {
    let city = City::start();
    let phone = city.enrolled_phone("alice");
    // The City account's codes arrived with the enrollment.
    let enrollment = phone.vault.enrollment().unwrap().unwrap();
    assert_eq!(enrollment.username, "alice");
    let city_account = enrollment
        .city_account
        .expect("the server issued an OATH seed");
    assert_eq!(phone.vault.account(city_account).unwrap().issuer(), "City");

    let (status, reset) = city.start_reset("alice");
    assert_eq!(status, 200);
    let reset = reset.unwrap();
    let challenges = phone.device().pending_challenges(10).unwrap();
    assert_eq!(challenges.len(), 1);
    let challenge = &challenges[0];
    assert_eq!(challenge.kind, ChallengeKind::PasswordReset);
    assert_eq!(challenge.account, "alice");
    assert_eq!(usize::from(challenge.number_digits), reset.number.len());
    assert!(challenge.expires_at - challenge.created_at <= 120);
    assert_eq!(city.reset_state(&reset.reset_id), "pending");

    let outcome = phone
        .device()
        .answer(challenge, Decision::Approve, Some(&reset.number))
        .unwrap();
    assert_eq!(outcome, "approved");
    assert_eq!(city.reset_state(&reset.reset_id), "verified");

    let body = serde_json::to_vec(&ResetPasswordRequest {
        password: "a-brand-new-harbour-lantern-71".into(),
    })
    .unwrap();
    let (status, _) = city.post(&format!("/api/v1/reset/{}/password", reset.reset_id), body);
    assert_eq!(status, 200);
    assert_eq!(city.reset_state(&reset.reset_id), "done");
    // Answered challenges are not offered again.
    assert!(phone.device().pending_challenges(0).unwrap().is_empty());
}

#[test]
fn a_wrong_number_fails_the_challenge() {
    let city = City::start();
    let phone = city.enrolled_phone("bob");
    let (_, reset) = city.start_reset("bob");
    let reset = reset.unwrap();
    let challenge = phone.device().pending_challenges(10).unwrap().remove(0);
    let wrong = if reset.number == "00" { "01" } else { "00" };
    let error = phone
        .device()
        .answer(&challenge, Decision::Approve, Some(wrong))
        .unwrap_err();
    assert_eq!(error.code(), Some("wrong_number"), "{error}");
    assert_ne!(city.reset_state(&reset.reset_id), "verified");
    // The right number no longer helps: the challenge is spent.
    assert!(phone.device().pending_challenges(0).unwrap().is_empty());
    // A number of the wrong length never leaves the phone.
    let (_, again) = city.start_reset("bob");
    let challenge = phone.device().pending_challenges(10).unwrap().remove(0);
    assert_eq!(
        phone
            .device()
            .answer(&challenge, Decision::Approve, Some("123")),
        Err(ClientError::NumberFormat(challenge.number_digits))
    );
    assert_eq!(city.reset_state(&again.unwrap().reset_id), "pending");
}

#[test]
fn deny_and_fraud_report() {
    let city = City::start();
    let phone = city.enrolled_phone("carol");
    let (_, reset) = city.start_reset("carol");
    let challenge = phone.device().pending_challenges(10).unwrap().remove(0);
    let outcome = phone
        .device()
        .answer(&challenge, Decision::Deny, None)
        .unwrap();
    assert_eq!(outcome, "denied");
    assert_eq!(city.reset_state(&reset.unwrap().reset_id), "denied");

    let (_, reset) = city.start_reset("carol");
    let challenge = phone.device().pending_challenges(10).unwrap().remove(0);
    let outcome = phone
        .device()
        .answer(&challenge, Decision::Fraud, None)
        .unwrap();
    assert_eq!(outcome, "fraud_reported");
    assert_ne!(city.reset_state(&reset.unwrap().reset_id), "verified");
    // No more pushes to this account until the help desk clears it.
    city.start_reset("carol");
    assert!(phone.device().pending_challenges(1).unwrap().is_empty());
    cityauth_server::admin::unblock(city.state(), "carol").unwrap();
    city.start_reset("carol");
    assert_eq!(phone.device().pending_challenges(10).unwrap().len(), 1);
}

#[test]
fn an_expired_challenge_is_not_shown_and_cannot_be_approved() {
    let city = City::start_with(|config| config.challenge_lifetime = 2);
    let phone = city.enrolled_phone("dave");
    let (_, reset) = city.start_reset("dave");
    let reset = reset.unwrap();
    let challenge = phone.device().pending_challenges(10).unwrap().remove(0);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(phone.device().pending_challenges(0).unwrap().is_empty());
    let error = phone
        .device()
        .answer(&challenge, Decision::Approve, Some(&reset.number))
        .unwrap_err();
    assert!(
        matches!(error.code(), Some("expired" | "not_found")),
        "{error}"
    );
    assert_ne!(city.reset_state(&reset.reset_id), "verified");
}

#[test]
fn a_link_with_the_wrong_fingerprint_is_refused_and_nothing_is_stored() {
    let city = City::start();
    city.add_employee("erin");
    let link = city.enrollment_link("erin");
    let (other, _) = SigningKey::generate().unwrap();
    let fp_at = link.find("&fp=").unwrap() + 4;
    let forged = format!("{}{}", &link[..fp_at], other.public_key().fingerprint());
    let phone = Phone::new();
    let error = phone
        .device()
        .enroll(&forged, "phone", "android", None)
        .unwrap_err();
    assert_eq!(error, ClientError::FingerprintMismatch);
    assert_eq!(phone.vault.enrollment().unwrap(), None);
    assert!(phone.vault.accounts().unwrap().is_empty());
}

#[test]
fn an_enrollment_code_works_once() {
    let city = City::start();
    city.add_employee("frank");
    let link = city.enrollment_link("frank");
    Phone::new().enroll(&link);
    let second = Phone::new();
    let error = second
        .device()
        .enroll(&link, "phone", "android", None)
        .unwrap_err();
    assert_eq!(error.code(), Some("enrollment_code_invalid"), "{error}");
    assert_eq!(second.vault.enrollment().unwrap(), None);
}

/// A real transport that remembers the last request it sent, so a test can send it again
/// byte for byte (what an attacker on the network could do).
struct Recorder {
    inner: UreqTransport,
    last: Mutex<Option<HttpRequest>>,
}

impl Transport for Recorder {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        *self.last.lock().unwrap() = Some(request.clone());
        self.inner.send(request)
    }
}

#[test]
fn replayed_requests_and_answers_are_refused() {
    let city = City::start();
    let phone = city.enrolled_phone("grace");
    let (_, reset) = city.start_reset("grace");
    let reset = reset.unwrap();
    let recorder = Recorder {
        inner: UreqTransport::new(),
        last: Mutex::new(None),
    };
    let device = Device::new(&phone.vault, &recorder);
    let challenge = device.pending_challenges(10).unwrap().remove(0);
    device
        .answer(&challenge, Decision::Approve, Some(&reset.number))
        .unwrap();
    let answer = recorder.last.lock().unwrap().clone().unwrap();

    // The same request again: its nonce was used.
    let replay = UreqTransport::new().send(&answer).unwrap();
    assert_eq!(replay.status, 401);
    assert!(String::from_utf8_lossy(&replay.body).contains("replayed_nonce"));

    // The same signed answer under a fresh, validly signed request: answered once only.
    let enrollment = phone.vault.enrollment().unwrap().unwrap();
    let cityauth_core::DeviceKey::Vault(pkcs8) = &enrollment.device_key else {
        panic!("the CLI's phone keeps its key in the vault");
    };
    let key = SigningKey::from_pkcs8(pkcs8).unwrap();
    let path = answer.url.trim_start_matches(&city.url()).to_owned();
    let time = cityauth_core::device::corrected_now(enrollment.clock_offset);
    let nonce = encoding::encode(b"a fresh nonce, 18b");
    let message = request_message(
        "POST",
        &path,
        &enrollment.device_id,
        time,
        &nonce,
        &answer.body,
    );
    let resent = HttpRequest {
        headers: vec![
            (wire::DEVICE_HEADER.into(), enrollment.device_id.clone()),
            (wire::TIME_HEADER.into(), time.to_string()),
            (wire::NONCE_HEADER.into(), nonce),
            (
                wire::SIGNATURE_HEADER.into(),
                key.sign(&message).unwrap().to_string(),
            ),
        ],
        ..answer
    };
    let replay = UreqTransport::new().send(&resent).unwrap();
    assert_eq!(
        replay.status,
        409,
        "{}",
        String::from_utf8_lossy(&replay.body)
    );
    assert!(String::from_utf8_lossy(&replay.body).contains("already_answered"));
}

/// A real transport behind an attacker who rewrites the challenge list on its way back.
struct Tamperer {
    inner: UreqTransport,
    rewrite: Box<dyn Fn(&mut ChallengeList) + Send + Sync>,
}

impl Transport for Tamperer {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut response = self.inner.send(request)?;
        if request.url.contains("/device/challenges?")
            && let Ok(mut list) = serde_json::from_slice::<ChallengeList>(&response.body)
        {
            (self.rewrite)(&mut list);
            response.body = serde_json::to_vec(&list).unwrap();
        }
        Ok(response)
    }
}

#[test]
fn forged_altered_and_misrouted_challenges_are_never_shown() {
    let city = City::start();
    let phone = city.enrolled_phone("heidi");
    city.start_reset("heidi");
    let resigned = Tamperer {
        inner: UreqTransport::new(),
        rewrite: Box::new(|list| {
            let (attacker, _) = SigningKey::generate().unwrap();
            for signed in &mut list.challenges {
                signed.challenge.location = "Your office".into();
                let message = challenge_message(&signed.challenge);
                signed.signature = attacker.sign(&message).unwrap().to_string();
            }
        }),
    };
    assert!(
        Device::new(&phone.vault, &resigned)
            .pending_challenges(10)
            .unwrap()
            .is_empty()
    );
    let altered = Tamperer {
        inner: UreqTransport::new(),
        rewrite: Box::new(|list| {
            for signed in &mut list.challenges {
                signed.challenge.application = "Harmless app".into();
            }
        }),
    };
    assert!(
        Device::new(&phone.vault, &altered)
            .pending_challenges(0)
            .unwrap()
            .is_empty()
    );
    // Even validly signed by the server, a challenge addressed to another device is dropped.
    let server = city.state().clone();
    let misrouted = Tamperer {
        inner: UreqTransport::new(),
        rewrite: Box::new(move |list| {
            let server = server.signing_key();
            for signed in &mut list.challenges {
                signed.challenge.device_id = "another-device".into();
                let message = challenge_message(&signed.challenge);
                signed.signature = server.sign(&message).unwrap().to_string();
            }
        }),
    };
    assert!(
        Device::new(&phone.vault, &misrouted)
            .pending_challenges(0)
            .unwrap()
            .is_empty()
    );
    // The genuine list, untouched, shows it.
    assert_eq!(phone.device().pending_challenges(0).unwrap().len(), 1);
}

#[test]
fn a_reset_for_an_unknown_user_looks_the_same() {
    let city = City::start();
    city.add_employee("ivan");
    let (known_status, known) = city.start_reset("ivan");
    let (unknown_status, unknown) = city.start_reset("nobody-here");
    assert_eq!((known_status, unknown_status), (200, 200));
    let (known, unknown) = (known.unwrap(), unknown.unwrap());
    assert_eq!(known.reset_id.len(), unknown.reset_id.len());
    assert_eq!(known.number.len(), unknown.number.len());
    assert_eq!(city.reset_state(&unknown.reset_id), "pending");
}

#[test]
fn the_city_account_code_verifies_a_reset_instead_of_a_push() {
    let city = City::start();
    let phone = city.enrolled_phone("judy");
    let (_, reset) = city.start_reset("judy");
    let reset = reset.unwrap();
    let id = phone
        .vault
        .enrollment()
        .unwrap()
        .unwrap()
        .city_account
        .unwrap();
    let now = cityauth_core::device::corrected_now(0);
    let code = phone.vault.code(id, now).unwrap().code;
    let body = serde_json::json!({ "code": code.as_str() })
        .to_string()
        .into_bytes();
    let (status, _) = city.post(&format!("/api/v1/reset/{}/code", reset.reset_id), body);
    assert_eq!(status, 200);
    assert_eq!(city.reset_state(&reset.reset_id), "verified");
}

#[test]
fn six_digit_numbers_work_from_the_browser_to_the_phone() {
    // `number_digits = 6`: what a City bound by NIST SP 800-63B sets (19.9 bits).
    let city = City::start_with(|config| config.number_digits = 6);
    let phone = city.enrolled_phone("alice");
    let (status, reset) = city.start_reset("alice");
    assert_eq!(status, 200);
    let reset = reset.unwrap();
    assert_eq!(reset.number.len(), 6, "{}", reset.number);
    assert!(reset.number.bytes().all(|b| b.is_ascii_digit()));
    let challenge = phone.device().pending_challenges(10).unwrap().remove(0);
    assert_eq!(challenge.number_digits, 6);
    // Two digits (the default's length) never leave the phone.
    assert_eq!(
        phone
            .device()
            .answer(&challenge, Decision::Approve, Some(&reset.number[..2])),
        Err(ClientError::NumberFormat(6))
    );
    assert_eq!(city.reset_state(&reset.reset_id), "pending");
    let outcome = phone
        .device()
        .answer(&challenge, Decision::Approve, Some(&reset.number))
        .unwrap();
    assert_eq!(outcome, "approved");
    assert_eq!(city.reset_state(&reset.reset_id), "verified");
}
