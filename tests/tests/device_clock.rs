//! Issue 10, items 2 and 3, against the real server on loopback: the clock offset is bounded
//! and its arithmetic checked, a `stale_time` refusal resets it, the enrollment can be
//! forgotten with the server gone, and an oversized field in a signed enrollment answer is
//! refused before anything is stored.

use cityauth_core::device::{
    ClientError, Device, HttpRequest, HttpResponse, MAX_CLOCK_OFFSET, Transport, TransportError,
    UreqTransport,
};
use cityauth_e2e::{City, Phone};
use cityauth_protocol::PublicKey;
use cityauth_protocol::canonical::{challenges_message, enrolled_message};
use cityauth_protocol::wire::{self, ChallengeList, EnrollRequest, EnrollResponse};

/// The server's own key signing what the test rewrites: a hostile or broken server, as seen
/// by a device that pins its key.
struct SignedRewrite<F> {
    inner: UreqTransport,
    server: cityauth_server::AppState,
    rewrite: F,
}

/// What to rewrite: the list of a challenges poll, or the enrollment answer.
enum Answer<'a> {
    Challenges(&'a mut ChallengeList),
    Enrolled(&'a mut EnrollResponse),
}

impl<F: Fn(Answer<'_>) + Send + Sync> Transport for SignedRewrite<F> {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut response = self.inner.send(request)?;
        if request.url.contains("/device/challenges?")
            && let Ok(mut list) = serde_json::from_slice::<ChallengeList>(&response.body)
        {
            let nonce = request
                .headers
                .iter()
                .find(|(name, _)| name == wire::NONCE_HEADER)
                .map(|(_, value)| value.clone())
                .unwrap();
            (self.rewrite)(Answer::Challenges(&mut list));
            let device = request
                .headers
                .iter()
                .find(|(name, _)| name == wire::DEVICE_HEADER)
                .map(|(_, value)| value.clone())
                .unwrap();
            let message = challenges_message(&device, &nonce, list.server_time);
            list.signature = Some(
                self.server
                    .signing_key()
                    .sign(&message)
                    .unwrap()
                    .to_string(),
            );
            response.body = serde_json::to_vec(&list).unwrap();
        }
        if request.url.ends_with("/api/v1/enroll")
            && let Ok(mut answer) = serde_json::from_slice::<EnrollResponse>(&response.body)
        {
            let sent: EnrollRequest = serde_json::from_slice(&request.body).unwrap();
            (self.rewrite)(Answer::Enrolled(&mut answer));
            let device_key = PublicKey::from_base64(&sent.device_public_key).unwrap();
            let message = enrolled_message(&answer, &device_key, &sent.code);
            answer.signature = Some(
                self.server
                    .signing_key()
                    .sign(&message)
                    .unwrap()
                    .to_string(),
            );
            response.body = serde_json::to_vec(&answer).unwrap();
        }
        Ok(response)
    }
}

fn signed_rewrite<F: Fn(Answer<'_>) + Send + Sync>(city: &City, rewrite: F) -> SignedRewrite<F> {
    SignedRewrite {
        inner: UreqTransport::new(),
        server: city.state().clone(),
        rewrite,
    }
}

#[test]
fn a_signed_server_time_beyond_the_bound_or_at_u64_max_is_not_learned() {
    let city = City::start();
    let phone = city.enrolled_phone("alice");
    let beyond = MAX_CLOCK_OFFSET as u64 + 60;
    let times: [fn(u64) -> u64; 5] = [
        |t| t + MAX_CLOCK_OFFSET as u64 + 60,
        |t| t - MAX_CLOCK_OFFSET as u64 - 60,
        |_| u64::MAX,
        |_| 1 << 63,
        |_| 0,
    ];
    for (case, time) in times.iter().enumerate() {
        let transport = signed_rewrite(&city, |answer| {
            if let Answer::Challenges(list) = answer {
                list.server_time = time(list.server_time);
            }
        });
        Device::new(&phone.vault, &transport)
            .pending_challenges(0)
            .unwrap();
        assert!(
            phone.clock_offset().abs() <= 2,
            "case {case} moved the clock"
        );
    }
    // Control: a shift within the bound, signed the same way, is learned.
    let transport = signed_rewrite(&city, |answer| {
        if let Answer::Challenges(list) = answer {
            list.server_time += beyond - 120;
        }
    });
    Device::new(&phone.vault, &transport)
        .pending_challenges(0)
        .unwrap();
    assert!((phone.clock_offset() - (beyond - 120) as i64).abs() <= 2);
}

#[test]
fn a_stale_time_refusal_resets_the_offset_and_the_request_goes_through() {
    let city = City::start();
    let phone = city.enrolled_phone("bob");
    // An offset within the bound but past the 300 s the server allows a signed request.
    phone.vault.set_clock_offset(1000).unwrap();
    let (_, reset) = city.start_reset("bob");
    assert!(reset.is_some());
    let pending = phone.device().pending_challenges(0).unwrap();
    assert_eq!(
        pending.len(),
        1,
        "the request went through at the device's clock"
    );
    assert!(phone.clock_offset().abs() <= 2, "and the offset was reset");
    // Answering and unenrolling work again too.
    phone.vault.set_clock_offset(-1000).unwrap();
    phone.device().unenroll().unwrap();
    assert_eq!(phone.vault.enrollment().unwrap(), None);
}

#[test]
fn the_enrollment_is_forgotten_locally_with_the_server_gone() {
    let city = City::start();
    let phone = city.enrolled_phone("carol");
    let city_account = phone.vault.accounts().unwrap();
    assert_eq!(city_account.len(), 1);
    drop(city);
    assert!(matches!(
        phone.device().unenroll(),
        Err(ClientError::Network(_))
    ));
    phone.vault.forget_enrollment().unwrap();
    assert_eq!(phone.vault.enrollment().unwrap(), None);
    assert_eq!(
        phone.vault.accounts().unwrap(),
        city_account,
        "its codes stay"
    );
    assert_eq!(phone.vault.codes_now(1_800_000_000).unwrap().len(), 1);
}

#[test]
fn an_oversized_display_name_in_a_signed_answer_is_refused_and_nothing_is_stored() {
    let city = City::start();
    city.add_employee("dave");
    let phone = Phone::new();
    let other = phone
        .vault
        .add(cityauth_core::otpauth::parse("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP").unwrap())
        .unwrap();
    let transport = signed_rewrite(&city, |answer| {
        if let Answer::Enrolled(response) = answer {
            response.display_name = "x".repeat(70_000);
        }
    });
    let outcome = Device::new(&phone.vault, &transport).enroll(
        &city.enrollment_link("dave"),
        "phone",
        "android",
        None,
    );
    assert_eq!(outcome, Err(ClientError::BadField("display_name")));
    assert_eq!(phone.vault.enrollment().unwrap(), None);
    let ids: Vec<_> = phone
        .vault
        .accounts()
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, vec![other], "no City account stored");
    assert_eq!(phone.vault.codes_now(1_800_000_000).unwrap().len(), 1);
    assert!(phone.vault.integrity_problems().unwrap().is_empty());
    // The same server, answering within bounds, enrolls the phone.
    phone.enroll(&city.enrollment_link("dave"));
    assert_eq!(phone.vault.codes_now(1_800_000_000).unwrap().len(), 2);
}
