//! Verification of signed device requests (`docs/protocol.md`, section 2).

use axum::http::{HeaderMap, Method, Uri};
use cityauth_protocol::canonical::{clock_message, request_message};
use cityauth_protocol::wire::{
    DEVICE_HEADER, MAX_CLOCK_SKEW, NONCE_HEADER, SIGNATURE_HEADER, TIME_HEADER,
};
use cityauth_protocol::{PublicKey, Signature};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Device;
use crate::util::now;

/// The fewest nonce bytes accepted (16, as base64url characters).
const MIN_NONCE_CHARS: usize = 22;
/// The most nonce characters accepted (a bound on what is stored).
const MAX_NONCE_CHARS: usize = 128;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::BadRequest(format!("missing or malformed header {name}")))
}

/// Checks a signed request and returns the calling device.
///
/// Order: the device, the signature, the time, then the nonce, so that nobody can burn a
/// device's nonces without its key, and so that only the device itself is told the server's
/// clock when its time is refused (a `stale_time` refusal carries the server's time, signed
/// for the request's nonce: a phone whose clock, or a server whose clock, is off learns the
/// offset and signs again, instead of being locked out).
pub fn verify_request(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Device, ApiError> {
    let device_id = header(headers, DEVICE_HEADER)?;
    let time: u64 = header(headers, TIME_HEADER)?
        .parse()
        .map_err(|_| ApiError::BadRequest("the time header is not a number".into()))?;
    let nonce = header(headers, NONCE_HEADER)?;
    let signature = Signature::from_base64(header(headers, SIGNATURE_HEADER)?)
        .map_err(|_| ApiError::InvalidSignature)?;
    if nonce.len() < MIN_NONCE_CHARS
        || nonce.len() > MAX_NONCE_CHARS
        || cityauth_protocol::encoding::decode(nonce).is_err()
    {
        return Err(ApiError::BadRequest(
            "the nonce must be 16 or more random bytes, base64url".into(),
        ));
    }
    let device = state
        .store()
        .device(device_id)?
        .ok_or(ApiError::UnknownDevice)?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let message = request_message(method.as_str(), path, device_id, time, nonce, body);
    let key = PublicKey::from_bytes(&device.device.public_key)
        .map_err(|_| ApiError::Internal("a stored device key is malformed".into()))?;
    if !key.verify(&message, &signature) {
        return Err(ApiError::InvalidSignature);
    }
    let server_now = now();
    if time.abs_diff(server_now) > MAX_CLOCK_SKEW {
        return Err(ApiError::StaleTime(signed_clock(
            state, device_id, nonce, server_now,
        )));
    }
    if !state
        .store()
        .nonce_use(device_id, nonce, server_now, MAX_CLOCK_SKEW)?
    {
        return Err(ApiError::ReplayedNonce);
    }
    Ok(device)
}

/// The server's clock signed for a refused request's nonce (`canonical::clock_message`);
/// `None` if signing failed, and the refusal then goes without it.
fn signed_clock(
    state: &AppState,
    device_id: &str,
    nonce: &str,
    server_now: u64,
) -> Option<(u64, String)> {
    match state
        .signing_key()
        .sign(&clock_message(device_id, nonce, server_now))
    {
        Ok(signature) => Some((server_now, signature.to_string())),
        Err(error) => {
            tracing::warn!(%error, "the server clock for a stale request was not signed");
            None
        }
    }
}
