//! The device side of the protocol (`docs/protocol.md`): enroll from a link, fetch and verify
//! challenges, answer them, unenroll. Blocking; every call may wait on the network.

mod clock;
mod error;
mod signer;
mod transport;

use cityauth_protocol::canonical::{
    answer_message, challenge_message, challenges_message, clock_message, enroll_message,
    enrolled_message, request_message,
};
use cityauth_protocol::wire::{
    self, AnswerRequest, AnswerResponse, ChallengeList, EnrollRequest, EnrollResponse, ErrorBody,
    ServerKeyResponse, StaleTimeBody,
};
use cityauth_protocol::{EnrollmentLink, PublicKey, Signature, encoding};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

use signer::ActiveKey;

use crate::otpauth;
use crate::vault::{Enrollment, Vault};

pub use cityauth_protocol::wire::{Challenge, ChallengeKind, Decision};
pub use clock::{MAX_CLOCK_OFFSET, bounded, corrected, corrected_now, local_now, offset_between};
pub use error::ClientError;
pub use signer::{DeviceSigner, SignerError};
#[cfg(feature = "rust-transport")]
pub use transport::UreqTransport;
pub use transport::{HttpRequest, HttpResponse, Transport, TransportError};

/// This device, as the server knows it: a vault, a way to reach the server, and optionally
/// the host's key store.
pub struct Device<'a> {
    vault: &'a Vault,
    transport: &'a dyn Transport,
    /// The host's key store, when the platform has one: new enrollments use its key.
    signer: Option<Arc<dyn DeviceSigner>>,
    /// The device key, parsed or checked once per enrollment: loading PKCS#8 costs a scalar
    /// multiplication (ring checks the key pair), as much as a signature; a host key's public
    /// half is asked for once.
    key: std::sync::Mutex<Option<(String, Arc<ActiveKey>)>>,
    /// When this handle last learned the server's signed time: it asks for it again only
    /// after [`TIME_REFRESH`] (each signed time costs the server a signature).
    time_learned: std::sync::Mutex<Option<std::time::Instant>>,
}

/// The protocol's error code for a signed request whose time is too far from the server's.
const STALE_TIME: &str = "stale_time";

/// How often a device handle asks for the server's signed time.
const TIME_REFRESH: std::time::Duration = std::time::Duration::from_secs(600);

/// What enrollment registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    /// The City account.
    pub username: String,
    /// The employee's name.
    pub display_name: String,
    /// The id the server gave this device.
    pub device_id: String,
    /// The vault account now holding the City account's codes, if the server issued one.
    pub city_account: Option<crate::vault::AccountId>,
}

impl<'a> Device<'a> {
    /// A device over an unlocked vault and a transport, whose key lives in the vault.
    pub fn new(vault: &'a Vault, transport: &'a dyn Transport) -> Self {
        Self::with_signer(vault, transport, None)
    }

    /// A device whose new enrollment uses the host's key (`signer`) instead of a vault key.
    /// An enrollment made with a vault key keeps using it (re-enroll to move the key into
    /// hardware); one made with a host key needs that key's signer on every signed request.
    pub fn with_signer(
        vault: &'a Vault,
        transport: &'a dyn Transport,
        signer: Option<Arc<dyn DeviceSigner>>,
    ) -> Self {
        Self {
            vault,
            transport,
            signer,
            key: std::sync::Mutex::new(None),
            time_learned: std::sync::Mutex::new(None),
        }
    }

    /// Enrolls from the portal's link. First fetches the server's key and checks it against
    /// the link's fingerprint: on a mismatch the enrollment code never leaves the device.
    /// Then makes a device key (or takes the host's), registers it with a proof of
    /// possession, checks that the answer is signed by the server's key over this device's
    /// registration, and only then stores the enrollment (and the City account's codes).
    pub fn enroll(
        &self,
        link: &str,
        device_name: &str,
        platform: &str,
        push_token: Option<String>,
    ) -> Result<Enrolled, ClientError> {
        if let Some(existing) = self.vault.enrollment()? {
            return Err(ClientError::AlreadyEnrolled(existing.username));
        }
        let link = EnrollmentLink::parse(link)?;
        let server_key = self.pinned_server_key(&link)?;
        let (key, device_key) = ActiveKey::for_enrollment(self.signer.as_ref())?;
        let public = key.public_key();
        let request = EnrollRequest {
            code: link.code.clone(),
            device_public_key: public.to_string(),
            proof: key.sign(&enroll_message(&link.code, &public))?.to_string(),
            device_name: device_name.to_owned(),
            platform: platform.to_owned(),
            push_token,
        };
        let url = format!("{}/api/v1/enroll", link.server);
        let response: EnrollResponse = self.exchange("POST", &url, Vec::new(), &request)?;
        let echoed = PublicKey::from_base64(&response.server_public_key)
            .map_err(|_| ClientError::BadResponse)?;
        let signed = response
            .signature
            .as_deref()
            .and_then(|s| Signature::from_base64(s).ok())
            .is_some_and(|signature| {
                server_key.verify(
                    &enrolled_message(&response, &public, &link.code),
                    &signature,
                )
            });
        if echoed != server_key || !signed {
            return Err(ClientError::EnrollmentNotSigned);
        }
        let city_account = match &response.oath_link {
            Some(text) => Some(otpauth::parse(text).map_err(|_| ClientError::BadResponse)?),
            None => None,
        };
        let enrollment = Enrollment {
            server_url: link.server,
            device_id: response.device_id.clone(),
            username: response.username.clone(),
            display_name: response.display_name.clone(),
            server_public_key: server_key.as_bytes().to_vec(),
            device_key,
            // Signed above: the one time this clock is learned without a challenge list. A
            // time beyond the bound is not learned.
            clock_offset: offset_between(response.server_time, local_now()).unwrap_or(0),
            city_account: None,
        };
        // The server's strings are checked before anything is stored.
        enrollment.check().map_err(ClientError::BadField)?;
        let city_account = self.vault.save_enrollment(enrollment, city_account)?;
        Ok(Enrolled {
            username: response.username,
            display_name: response.display_name,
            device_id: response.device_id,
            city_account,
        })
    }

    /// The server's key, fetched without sending anything secret, if it matches the link's
    /// fingerprint.
    fn pinned_server_key(&self, link: &EnrollmentLink) -> Result<PublicKey, ClientError> {
        let answer: ServerKeyResponse = self.send(HttpRequest {
            method: "GET".into(),
            url: format!("{}/api/v1/server-key", link.server),
            headers: Vec::new(),
            body: Vec::new(),
        })?;
        let key = PublicKey::from_base64(&answer.server_public_key)
            .map_err(|_| ClientError::FingerprintMismatch)?;
        if !link.fingerprint.matches(&key) {
            return Err(ClientError::FingerprintMismatch);
        }
        Ok(key)
    }

    /// The pending challenges for this device, each verified: signed by the pinned server
    /// key, addressed to this device, living at most two minutes, and unexpired by this
    /// device's own clock and by the server-corrected clock. Any other is dropped unseen.
    /// The clock offset is learned only from a list whose time the server signed for this
    /// request. Waits up to `wait_seconds` (at most 25) for one to arrive.
    pub fn pending_challenges(&self, wait_seconds: u64) -> Result<Vec<Challenge>, ClientError> {
        let mut enrollment = self.enrollment()?;
        let wait = wait_seconds.min(wire::LONG_POLL_SECONDS);
        // The signed time is asked for on a handle's first poll, then every ten minutes.
        let ask_time = self
            .time_learned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none_or(|at| at.elapsed() >= TIME_REFRESH);
        let path = if ask_time {
            format!("/api/v1/device/challenges?wait={wait}&time=1")
        } else {
            format!("/api/v1/device/challenges?wait={wait}")
        };
        let (list, nonce): (ChallengeList, String) =
            self.signed_with_nonce(&mut enrollment, "GET", &path, None::<&()>)?;
        let server_key = PublicKey::from_bytes(&enrollment.server_public_key)
            .map_err(|_| ClientError::BadResponse)?;
        let time_signed = list
            .signature
            .as_deref()
            .and_then(|s| Signature::from_base64(s).ok())
            .is_some_and(|signature| {
                server_key.verify(
                    &challenges_message(&enrollment.device_id, &nonce, list.server_time),
                    &signature,
                )
            });
        if time_signed {
            enrollment.clock_offset = self.learn_offset(&enrollment, list.server_time)?;
            *self.time_learned.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(std::time::Instant::now());
        }
        // Expired by either clock is expired: a wrong offset cannot revive an old challenge.
        let now = local_now().max(corrected_now(enrollment.clock_offset));
        Ok(list
            .challenges
            .into_iter()
            .filter(|signed| {
                let challenge = &signed.challenge;
                let signature_ok = Signature::from_base64(&signed.signature)
                    .is_ok_and(|s| server_key.verify(&challenge_message(challenge), &s));
                signature_ok
                    && challenge.device_id == enrollment.device_id
                    && challenge.expires_at > now
                    && challenge.expires_at.saturating_sub(challenge.created_at)
                        <= wire::MAX_CHALLENGE_LIFETIME
            })
            .map(|signed| signed.challenge)
            .collect())
    }

    /// Answers a (verified) challenge. An approval of a number-matching challenge needs the
    /// number from the browser, of the length the challenge asks for.
    pub fn answer(
        &self,
        challenge: &Challenge,
        decision: Decision,
        number: Option<&str>,
    ) -> Result<String, ClientError> {
        let mut enrollment = self.enrollment()?;
        let number = match decision {
            Decision::Approve if challenge.number_digits > 0 => {
                let typed = number.unwrap_or("").trim();
                if typed.len() != usize::from(challenge.number_digits)
                    || !typed.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(ClientError::NumberFormat(challenge.number_digits));
                }
                Some(typed.to_owned())
            }
            _ => None,
        };
        let mut request = AnswerRequest {
            challenge_id: challenge.id.clone(),
            nonce: challenge.nonce.clone(),
            decision,
            number,
            signature: String::new(),
        };
        let key = self.signing_key(&enrollment)?;
        request.signature = key
            .sign(&answer_message(&enrollment.device_id, &request))?
            .to_string();
        let path = format!("/api/v1/device/challenges/{}/answer", challenge.id);
        let response: AnswerResponse =
            self.signed(&mut enrollment, "POST", &path, Some(&request))?;
        Ok(response.outcome)
    }

    /// Finds a pending challenge by id (without waiting).
    pub fn pending_challenge(&self, id: &str) -> Result<Challenge, ClientError> {
        self.pending_challenges(0)?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ClientError::UnknownChallenge(id.to_owned()))
    }

    /// Removes this device from the server, then forgets the enrollment. The City account's
    /// codes stay in the vault as an ordinary account.
    pub fn unenroll(&self) -> Result<(), ClientError> {
        let mut enrollment = self.enrollment()?;
        let outcome: Result<serde_json::Value, ClientError> =
            self.signed(&mut enrollment, "DELETE", "/api/v1/device", None::<&()>);
        match outcome {
            // Already gone on the server: forgetting it here is what the user wants.
            Ok(_) | Err(ClientError::BadResponse) => {}
            Err(error) if error.code() == Some("unknown_device") => {}
            Err(error) => return Err(error),
        }
        self.vault.forget_enrollment()?;
        Ok(())
    }

    /// The device key of `enrollment`, parsed (or its host key checked) once.
    fn signing_key(&self, enrollment: &Enrollment) -> Result<Arc<ActiveKey>, ClientError> {
        let mut cached = self.key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((device_id, key)) = cached.as_ref()
            && *device_id == enrollment.device_id
        {
            return Ok(Arc::clone(key));
        }
        let key = Arc::new(ActiveKey::for_enrolled(
            &enrollment.device_key,
            self.signer.as_ref(),
        )?);
        *cached = Some((enrollment.device_id.clone(), Arc::clone(&key)));
        Ok(key)
    }

    fn enrollment(&self) -> Result<Enrollment, ClientError> {
        self.vault.enrollment()?.ok_or(ClientError::NotEnrolled)
    }

    /// Learns the offset from a server time whose signature was checked; the offset now in
    /// effect. A time further off than [`MAX_CLOCK_OFFSET`] is not learned.
    fn learn_offset(&self, enrollment: &Enrollment, server_time: u64) -> Result<i64, ClientError> {
        let current = bounded(enrollment.clock_offset);
        let Some(offset) = offset_between(server_time, local_now()) else {
            return Ok(current);
        };
        if offset.abs_diff(current) > clock::OFFSET_TOLERANCE {
            self.vault.set_clock_offset(offset)?;
            return Ok(offset);
        }
        Ok(current)
    }

    /// Sends a request signed with the device key (docs/protocol.md, section 2).
    fn signed<B: Serialize, T: DeserializeOwned>(
        &self,
        enrollment: &mut Enrollment,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        self.signed_with_nonce(enrollment, method, path, body)
            .map(|(answer, _)| answer)
    }

    /// [`Device::signed`], also returning the request's nonce (what a signed answer repeats).
    fn signed_with_nonce<B: Serialize, T: DeserializeOwned>(
        &self,
        enrollment: &mut Enrollment,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<(T, String), ClientError> {
        let body = match body {
            Some(body) => serde_json::to_vec(body).map_err(|_| ClientError::BadResponse)?,
            None => Vec::new(),
        };
        let first = self.send_signed(enrollment, method, path, &body)?;
        let retry_offset = match &first {
            Sent::Answer(..) => return first.into_answer(),
            // The server refused this device's time and signed its own for this request:
            // learn the offset (within MAX_CLOCK_OFFSET) and sign once more. This is how a
            // phone whose clock is off, or that talks to a server whose clock is, gets back in.
            Sent::Stale {
                server_time: Some(server_time),
                ..
            } => offset_between(*server_time, local_now()),
            // An older server signs no clock. The learned offset made the request stale:
            // forget it, so that the next signed time is learned afresh, and try once more
            // at this device's own clock.
            Sent::Stale {
                server_time: None, ..
            } => Some(0),
        };
        match retry_offset {
            Some(offset) if offset != enrollment.clock_offset => {
                self.vault.set_clock_offset(offset)?;
                enrollment.clock_offset = offset;
                *self.time_learned.lock().unwrap_or_else(|p| p.into_inner()) = None;
                self.send_signed(enrollment, method, path, &body)?
                    .into_answer()
            }
            _ => first.into_answer(),
        }
    }

    /// Signs and sends one request at the enrollment's corrected time.
    fn send_signed<T: DeserializeOwned>(
        &self,
        enrollment: &Enrollment,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Sent<T>, ClientError> {
        let time = corrected_now(enrollment.clock_offset);
        let mut nonce = [0u8; 18];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
            .map_err(|_| ClientError::Key(cityauth_protocol::KeyError::Random))?;
        let nonce = encoding::encode(&nonce);
        let key = self.signing_key(enrollment)?;
        let message = request_message(method, path, &enrollment.device_id, time, &nonce, body);
        let headers = vec![
            (wire::DEVICE_HEADER.to_owned(), enrollment.device_id.clone()),
            (wire::TIME_HEADER.to_owned(), time.to_string()),
            (wire::NONCE_HEADER.to_owned(), nonce.clone()),
            (
                wire::SIGNATURE_HEADER.to_owned(),
                key.sign(&message)?.to_string(),
            ),
        ];
        let url = format!("{}{}", enrollment.server_url, path);
        let response = self.transport.send(&HttpRequest {
            method: method.to_owned(),
            url,
            headers,
            body: body.to_vec(),
        })?;
        if response.status == 401
            && let Ok(refusal) = serde_json::from_slice::<ErrorBody>(&response.body)
            && refusal.error == STALE_TIME
        {
            return Ok(Sent::Stale {
                server_time: signed_clock(&response.body, enrollment, &nonce),
                refusal: refused(response.status, refusal),
            });
        }
        Ok(Sent::Answer(decode(response)?, nonce))
    }

    fn exchange<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: &B,
    ) -> Result<T, ClientError> {
        let body = serde_json::to_vec(body).map_err(|_| ClientError::BadResponse)?;
        self.send(HttpRequest {
            method: method.to_owned(),
            url: url.to_owned(),
            headers,
            body,
        })
    }

    fn send<T: DeserializeOwned>(&self, request: HttpRequest) -> Result<T, ClientError> {
        decode(self.transport.send(&request)?)
    }
}

/// What one signed request came back with.
enum Sent<T> {
    /// The server's answer, and the request's nonce.
    Answer(T, String),
    /// Refused as `stale_time`, with the server's clock when it signed it for this request.
    Stale {
        server_time: Option<u64>,
        refusal: ClientError,
    },
}

impl<T> Sent<T> {
    /// The answer, or the refusal as an error.
    fn into_answer(self) -> Result<(T, String), ClientError> {
        match self {
            Sent::Answer(answer, nonce) => Ok((answer, nonce)),
            Sent::Stale { refusal, .. } => Err(refusal),
        }
    }
}

/// The server's clock from a `stale_time` refusal, when the pinned server key signed it for
/// this device and this request's nonce; `None` for an unsigned or forged one.
fn signed_clock(body: &[u8], enrollment: &Enrollment, nonce: &str) -> Option<u64> {
    let stale: StaleTimeBody = serde_json::from_slice(body).ok()?;
    let server_key = PublicKey::from_bytes(&enrollment.server_public_key).ok()?;
    let signature = Signature::from_base64(&stale.signature).ok()?;
    server_key
        .verify(
            &clock_message(&enrollment.device_id, nonce, stale.server_time),
            &signature,
        )
        .then_some(stale.server_time)
}

/// A server's answer as the protocol reads it: the JSON of a 2xx, else its error.
fn decode<T: DeserializeOwned>(response: HttpResponse) -> Result<T, ClientError> {
    if (200..300).contains(&response.status) {
        let body = if response.body.is_empty() {
            b"null".as_slice()
        } else {
            &response.body
        };
        return serde_json::from_slice(body).map_err(|_| ClientError::BadResponse);
    }
    match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(error) => Err(refused(response.status, error)),
        Err(_) => Err(ClientError::Refused {
            status: response.status,
            code: "http_error".into(),
            message: format!("HTTP status {}", response.status),
        }),
    }
}

/// A protocol error as the client's.
fn refused(status: u16, error: ErrorBody) -> ClientError {
    ClientError::Refused {
        status,
        code: error.error,
        message: error.message,
    }
}
