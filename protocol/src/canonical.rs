//! The exact bytes each party signs.
//!
//! Every signed message is a domain label followed by fields, each written as a 4-byte
//! big-endian length and then its bytes. Length prefixes make the encoding unambiguous
//! whatever the fields contain (a location with a newline cannot forge another field), and
//! the label keeps a signature for one purpose from being replayed for another.

use crate::keys::PublicKey;
use crate::wire::{AnswerRequest, Challenge, EnrollResponse};

/// Builds a message: `label` then each field with its length.
#[derive(Debug, Default)]
pub struct Canonical(Vec<u8>);

impl Canonical {
    /// Starts a message with its domain label (also length-prefixed).
    pub fn new(label: &str) -> Self {
        let mut message = Self(Vec::with_capacity(256));
        message.field(label.as_bytes());
        message
    }

    /// Appends one field.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// Appends a number as its decimal text.
    pub fn number(&mut self, value: u64) -> &mut Self {
        self.field(value.to_string().as_bytes())
    }

    /// The bytes to sign.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// Label of the device's proof of possession at enrollment.
pub const ENROLL_LABEL: &str = "cityauth enroll v1";
/// Label of a signed device request.
pub const REQUEST_LABEL: &str = "cityauth request v1";
/// Label of a server-signed challenge.
pub const CHALLENGE_LABEL: &str = "cityauth challenge v1";
/// Label of a device's answer to a challenge.
pub const ANSWER_LABEL: &str = "cityauth answer v1";
/// Label of the server's enrollment answer (protocol version 2).
pub const ENROLLED_LABEL: &str = "cityauth enrolled v1";
/// Label of the server's signature over a challenge list's time (protocol version 2).
pub const CHALLENGES_LABEL: &str = "cityauth challenges v1";
/// Label of the server's signature over its clock in a `stale_time` refusal.
pub const CLOCK_LABEL: &str = "cityauth clock v1";

/// What the device signs to enroll: the enrollment code and its own public key.
pub fn enroll_message(code: &str, device_key: &PublicKey) -> Vec<u8> {
    let mut message = Canonical::new(ENROLL_LABEL);
    message.field(code.as_bytes()).field(device_key.as_bytes());
    message.into_bytes()
}

/// What the device signs on every later request: method, path (with query), its id, the
/// time, a fresh nonce and the SHA-256 of the body.
pub fn request_message(
    method: &str,
    path_and_query: &str,
    device_id: &str,
    unix_seconds: u64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let body_hash = ring::digest::digest(&ring::digest::SHA256, body);
    let mut message = Canonical::new(REQUEST_LABEL);
    message
        .field(method.as_bytes())
        .field(path_and_query.as_bytes())
        .field(device_id.as_bytes())
        .number(unix_seconds)
        .field(nonce.as_bytes())
        .field(body_hash.as_ref());
    message.into_bytes()
}

/// What the server signs for a challenge: every field the device shows or checks.
pub fn challenge_message(challenge: &Challenge) -> Vec<u8> {
    let mut message = Canonical::new(CHALLENGE_LABEL);
    message
        .field(challenge.id.as_bytes())
        .field(challenge.device_id.as_bytes())
        .field(challenge.kind.as_str().as_bytes())
        .field(challenge.account.as_bytes())
        .field(challenge.application.as_bytes())
        .field(challenge.client_ip.as_bytes())
        .field(challenge.location.as_bytes())
        .number(challenge.created_at)
        .number(challenge.expires_at)
        .field(challenge.nonce.as_bytes())
        .number(u64::from(challenge.number_digits));
    message.into_bytes()
}

/// What the device signs to answer: the challenge's id and nonce, its decision and the
/// number the employee typed (empty when none).
pub fn answer_message(device_id: &str, answer: &AnswerRequest) -> Vec<u8> {
    let mut message = Canonical::new(ANSWER_LABEL);
    message
        .field(device_id.as_bytes())
        .field(answer.challenge_id.as_bytes())
        .field(answer.nonce.as_bytes())
        .field(answer.decision.as_str().as_bytes())
        .field(answer.number.as_deref().unwrap_or("").as_bytes());
    message.into_bytes()
}

/// What the server signs in its enrollment answer: the device it registered (id and key), the
/// account and name it registered it to, the City account's otpauth link (empty when none),
/// its clock, and the SHA-256 of the enrollment code the device sent. A party in the middle
/// that swallows the code cannot hand the phone an enrollment of its own making.
pub fn enrolled_message(response: &EnrollResponse, device_key: &PublicKey, code: &str) -> Vec<u8> {
    let code_hash = ring::digest::digest(&ring::digest::SHA256, code.as_bytes());
    let mut message = Canonical::new(ENROLLED_LABEL);
    message
        .field(response.device_id.as_bytes())
        .field(device_key.as_bytes())
        .field(response.username.as_bytes())
        .field(response.display_name.as_bytes())
        .field(response.oath_link.as_deref().unwrap_or("").as_bytes())
        .number(response.server_time)
        .field(code_hash.as_ref());
    message.into_bytes()
}

/// What the server signs over a challenge list: the device it answers, the nonce of the
/// device's signed request (so an old list cannot be replayed as a fresh one) and its clock.
pub fn challenges_message(device_id: &str, request_nonce: &str, server_time: u64) -> Vec<u8> {
    let mut message = Canonical::new(CHALLENGES_LABEL);
    message
        .field(device_id.as_bytes())
        .field(request_nonce.as_bytes())
        .number(server_time);
    message.into_bytes()
}

/// What the server signs over its clock when it refuses a signed request as `stale_time`:
/// the device, the refused request's nonce (so that an old refusal cannot be passed off as
/// a fresh one) and its clock. Its own label: it must not pass for a challenge list's time.
pub fn clock_message(device_id: &str, request_nonce: &str, server_time: u64) -> Vec<u8> {
    let mut message = Canonical::new(CLOCK_LABEL);
    message
        .field(device_id.as_bytes())
        .field(request_nonce.as_bytes())
        .number(server_time);
    message.into_bytes()
}
