//! Issue 9, item 19: the device learns the server's time only from data the server signed for
//! the request it made, and drops a challenge expired by its own clock even when its
//! corrected clock says otherwise. Core against a live server, through a party in the middle.

use std::sync::{Arc, Mutex};

use cityauth_core::device::{
    Device, HttpRequest, HttpResponse, Transport, TransportError, UreqTransport,
};
use cityauth_e2e::City;
use cityauth_protocol::SigningKey;
use cityauth_protocol::canonical::{challenges_message, clock_message};
use cityauth_protocol::wire::{self, ChallengeList, SignedChallenge};

/// What the party in the middle does to a challenge list: the request's nonce, and the list.
type Rewrite = dyn Fn(&str, &mut ChallengeList) + Send + Sync;

/// A real transport behind a party in the middle that rewrites challenge lists.
struct Tamperer {
    inner: UreqTransport,
    rewrite: Box<Rewrite>,
}

impl Tamperer {
    fn new(rewrite: impl Fn(&str, &mut ChallengeList) + Send + Sync + 'static) -> Self {
        Self {
            inner: UreqTransport::new(),
            rewrite: Box::new(rewrite),
        }
    }
}

impl Transport for Tamperer {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut response = self.inner.send(request)?;
        let nonce = nonce_of(request);
        if request.url.contains("/device/challenges?")
            && let Ok(mut list) = serde_json::from_slice::<ChallengeList>(&response.body)
        {
            (self.rewrite)(&nonce, &mut list);
            response.body = serde_json::to_vec(&list).unwrap();
        }
        Ok(response)
    }
}

/// The nonce a signed request carries (what a signed answer to it repeats).
fn nonce_of(request: &HttpRequest) -> String {
    request
        .headers
        .iter()
        .find(|(name, _)| name == wire::NONCE_HEADER)
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

/// A shift of the server's time: well past the offset tolerance, inside the 300 s a signed
/// request's time may be off (so the requests still pass).
const SHIFT: u64 = 200;

#[test]
fn an_unsigned_forged_or_replayed_server_time_is_not_learned() {
    let city = City::start();
    let phone = city.enrolled_phone("alice");
    let device_id = phone.vault.enrollment().unwrap().unwrap().device_id;
    assert!(phone.clock_offset().abs() <= 2);
    let (attacker, _) = SigningKey::generate().unwrap();
    let attacker = Arc::new(attacker);
    let server = city.state().clone();
    let id = device_id.clone();
    let tamperers = [
        // The time moved ahead, its signature dropped...
        Tamperer::new(|_, list| {
            list.server_time += SHIFT;
            list.signature = None;
        }),
        // ...or kept (it covers the real time)...
        Tamperer::new(|_, list| list.server_time += SHIFT),
        // ...or re-signed by the attacker...
        Tamperer::new({
            let (attacker, id) = (Arc::clone(&attacker), id.clone());
            move |nonce, list| {
                list.server_time += SHIFT;
                let message = challenges_message(&id, nonce, list.server_time);
                list.signature = Some(attacker.sign(&message).unwrap().to_string());
            }
        }),
        // ...or a list the server really signed, for another request (a replay).
        Tamperer::new({
            let (server, id) = (server.clone(), id.clone());
            move |_, list| {
                list.server_time += SHIFT;
                let message = challenges_message(&id, "an-earlier-request-nonce", list.server_time);
                list.signature = Some(server.signing_key().sign(&message).unwrap().to_string());
            }
        }),
    ];
    for (index, tamperer) in tamperers.iter().enumerate() {
        Device::new(&phone.vault, tamperer)
            .pending_challenges(0)
            .unwrap();
        assert!(
            phone.clock_offset().abs() <= 2,
            "tamperer {index} moved the clock"
        );
    }
    // Control: the same shift, signed by the server for this very request, is learned.
    let genuine = Tamperer::new(move |nonce, list| {
        list.server_time += SHIFT;
        let message = challenges_message(&id, nonce, list.server_time);
        list.signature = Some(server.signing_key().sign(&message).unwrap().to_string());
    });
    Device::new(&phone.vault, &genuine)
        .pending_challenges(0)
        .unwrap();
    assert!((phone.clock_offset() - SHIFT as i64).abs() <= 2);
    // And the real server's own signed time brings it back.
    phone.device().pending_challenges(0).unwrap();
    assert!(phone.clock_offset().abs() <= 2);
}

#[test]
fn a_challenge_expired_by_the_phone_clock_is_dropped() {
    let city = City::start_with(|config| config.challenge_lifetime = 2);
    let phone = city.enrolled_phone("bob");
    // The phone believes the server minutes behind (a wrong offset, learned however).
    phone.vault.set_clock_offset(-(SHIFT as i64)).unwrap();
    // A party in the middle keeps every challenge it saw and replays it in later lists,
    // with an old, unsigned server time.
    let seen: Arc<Mutex<Vec<SignedChallenge>>> = Arc::default();
    let replayer = Tamperer::new({
        let seen = Arc::clone(&seen);
        move |_, list| {
            let mut seen = seen.lock().unwrap();
            for challenge in &list.challenges {
                if !seen.contains(challenge) {
                    seen.push(challenge.clone());
                }
            }
            list.challenges = seen.clone();
            list.server_time -= SHIFT;
            list.signature = None;
        }
    });
    let (_, reset) = city.start_reset("bob");
    assert!(reset.is_some());
    let device = Device::new(&phone.vault, &replayer);
    let fresh = device.pending_challenges(10).unwrap();
    assert_eq!(fresh.len(), 1, "live: shown");
    std::thread::sleep(std::time::Duration::from_secs(3));
    // Past its expiry by the phone's own clock, though not by the corrected one.
    let expires_at = fresh[0].expires_at;
    let corrected = cityauth_core::device::corrected_now(phone.clock_offset());
    assert!(expires_at > corrected);
    assert!(expires_at <= cityauth_core::device::local_now());
    assert!(device.pending_challenges(0).unwrap().is_empty());
    assert_eq!(seen.lock().unwrap().len(), 1, "it was replayed");
}

/// What the party in the middle does to a `stale_time` refusal: the request's nonce, and
/// the refusal.
type RewriteStale = dyn Fn(&str, &mut wire::StaleTimeBody) + Send + Sync;

/// A real transport behind a party in the middle that rewrites `stale_time` refusals (and
/// drops the challenge list's signed time).
struct StaleTamperer {
    inner: UreqTransport,
    rewrite: Box<RewriteStale>,
    /// How many refusals it rewrote (the test checks that there was one to rewrite).
    rewritten: Mutex<usize>,
}

impl StaleTamperer {
    fn new(rewrite: impl Fn(&str, &mut wire::StaleTimeBody) + Send + Sync + 'static) -> Self {
        Self {
            inner: UreqTransport::new(),
            rewrite: Box::new(rewrite),
            rewritten: Mutex::new(0),
        }
    }
}

impl Transport for StaleTamperer {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut response = self.inner.send(request)?;
        let nonce = nonce_of(request);
        if response.status == 401
            && let Ok(mut refusal) = serde_json::from_slice::<wire::StaleTimeBody>(&response.body)
        {
            (self.rewrite)(&nonce, &mut refusal);
            response.body = serde_json::to_vec(&refusal).unwrap();
            *self.rewritten.lock().unwrap() += 1;
        }
        // The list's own signed time would correct whatever the refusal taught: dropped, so
        // that what the phone keeps is what it learned from the refusal.
        if let Ok(mut list) = serde_json::from_slice::<ChallengeList>(&response.body) {
            list.signature = None;
            response.body = serde_json::to_vec(&list).unwrap();
        }
        Ok(response)
    }
}

#[test]
fn a_stale_time_refusal_teaches_the_clock_only_when_the_server_signed_it_for_the_request() {
    let city = City::start();
    let phone = city.enrolled_phone("carol");
    let id = phone.vault.enrollment().unwrap().unwrap().device_id;
    let (attacker, _) = SigningKey::generate().unwrap();
    let attacker = Arc::new(attacker);
    let server = city.state().clone();
    // A learned offset far beyond the 300 s makes the phone's next request stale: the server
    // refuses it and signs its clock for that request.
    const WRONG: i64 = 1000;
    let tamperers = [
        // The time moved, its signature kept (it covers the real time)...
        StaleTamperer::new(|_, refusal| refusal.server_time += SHIFT),
        // ...or re-signed by the attacker...
        StaleTamperer::new({
            let (attacker, id) = (Arc::clone(&attacker), id.clone());
            move |nonce, refusal| {
                refusal.server_time += SHIFT;
                let message = clock_message(&id, nonce, refusal.server_time);
                refusal.signature = attacker.sign(&message).unwrap().to_string();
            }
        }),
        // ...or signed by the server for another request (a replayed refusal)...
        StaleTamperer::new({
            let (server, id) = (server.clone(), id.clone());
            move |_, refusal| {
                refusal.server_time += SHIFT;
                let message = clock_message(&id, "an-earlier-request-nonce", refusal.server_time);
                refusal.signature = server.signing_key().sign(&message).unwrap().to_string();
            }
        }),
        // ...or a challenge list's signed time passed off as a clock (another label).
        StaleTamperer::new({
            let (server, id) = (server.clone(), id.clone());
            move |nonce, refusal| {
                refusal.server_time += SHIFT;
                let message = challenges_message(&id, nonce, refusal.server_time);
                refusal.signature = server.signing_key().sign(&message).unwrap().to_string();
            }
        }),
    ];
    for (index, tamperer) in tamperers.iter().enumerate() {
        phone.vault.set_clock_offset(WRONG).unwrap();
        // Not learned: the phone falls back to its own clock, and gets in.
        Device::new(&phone.vault, tamperer)
            .pending_challenges(0)
            .unwrap();
        assert_eq!(*tamperer.rewritten.lock().unwrap(), 1, "tamperer {index}");
        assert!(
            phone.clock_offset().abs() <= 2,
            "tamperer {index} set the clock to {}",
            phone.clock_offset()
        );
    }
    // Control: the same shift, signed by the server for this very request, is learned, and
    // the request signed again at it passes.
    let genuine = StaleTamperer::new(move |nonce, refusal| {
        refusal.server_time += SHIFT;
        let message = clock_message(&id, nonce, refusal.server_time);
        refusal.signature = server.signing_key().sign(&message).unwrap().to_string();
    });
    phone.vault.set_clock_offset(WRONG).unwrap();
    Device::new(&phone.vault, &genuine)
        .pending_challenges(0)
        .unwrap();
    assert_eq!(*genuine.rewritten.lock().unwrap(), 1);
    assert!(
        (phone.clock_offset() - SHIFT as i64).abs() <= 2,
        "{}",
        phone.clock_offset()
    );
}

/// A `stale_time` refusal as a server before the signed clock wrote it (frozen).
const OLD_STALE_TIME: &[u8] =
    br#"{"error":"stale_time","message":"the request's time is more than 300 s from the server's"}"#;

/// A real transport that answers every `stale_time` refusal as an older server did.
struct OlderServer(UreqTransport);

impl Transport for OlderServer {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut response = self.0.send(request)?;
        if response.status == 401
            && serde_json::from_slice::<wire::StaleTimeBody>(&response.body).is_ok()
        {
            response.body = OLD_STALE_TIME.to_vec();
        }
        Ok(response)
    }
}

#[test]
fn an_older_servers_refusal_without_a_clock_resets_the_offset_and_the_request_goes_through() {
    let city = City::start();
    let phone = city.enrolled_phone("dana");
    phone.vault.set_clock_offset(1000).unwrap();
    Device::new(&phone.vault, &OlderServer(UreqTransport::new()))
        .pending_challenges(0)
        .unwrap();
    assert!(phone.clock_offset().abs() <= 2, "{}", phone.clock_offset());
}
