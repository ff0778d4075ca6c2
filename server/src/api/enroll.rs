//! `GET /api/v1/server-key` and `POST /api/v1/enroll`.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use cityauth_protocol::canonical::{enroll_message, enrolled_message};
use cityauth_protocol::wire::{EnrollRequest, EnrollResponse, ServerKeyResponse};
use cityauth_protocol::{PublicKey, Signature};
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::notify::Notice;
use crate::state::AppState;
use crate::store::NewDevice;
use crate::util::{now, random_bytes, random_token, sha256};

/// Platforms a device may claim.
const PLATFORMS: &[&str] = &["android", "ios", "desktop"];
/// Bytes of a device's City account TOTP seed (160 bits, RFC 4226's recommendation).
const OATH_SEED_BYTES: usize = 20;

/// The server's signing key, for a device to check against its link's fingerprint before it
/// sends the enrollment code. Public, and the same for everyone.
pub async fn server_key(State(state): State<AppState>) -> Json<ServerKeyResponse> {
    Json(ServerKeyResponse {
        server_public_key: state.signing_key().public_key().to_string(),
    })
}

/// Registers a device with a single-use enrollment code and its proof of possession.
pub async fn enroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<EnrollResponse>, ApiError> {
    let request: EnrollRequest = super::parse(&body)?;
    let ip = peer.ip().to_string();
    let device_name = crate::limits::fields::device_name(&request.device_name)?;
    if !PLATFORMS.contains(&request.platform.as_str()) {
        return Err(ApiError::BadRequest(
            "platform: android, ios or desktop".into(),
        ));
    }
    if request.push_token.as_ref().is_some_and(|t| t.len() > 4096) {
        return Err(ApiError::BadRequest("push_token: too long".into()));
    }
    let key = PublicKey::from_base64(&request.device_public_key)
        .map_err(|_| ApiError::BadRequest("device_public_key: not a P-256 public key".into()))?;
    let proof = Signature::from_base64(&request.proof).map_err(|_| ApiError::InvalidSignature)?;
    if !key.verify(&enroll_message(&request.code, &key), &proof) {
        return Err(ApiError::InvalidSignature);
    }
    // Each device its own seed, sealed to its row: removing the device revokes its codes.
    let id = random_token()?;
    let seed = Zeroizing::new(random_bytes::<OATH_SEED_BYTES>()?);
    let sealed_seed = state
        .kek()
        .seal(&crate::kek::oath_seed_aad(&id), seed.as_ref())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let device = NewDevice {
        id,
        public_key: key.as_bytes().to_vec(),
        name: device_name.to_owned(),
        platform: request.platform.clone(),
        push_token: request.push_token.clone(),
        created_at: now(),
        oath_secret: Some(sealed_seed),
    };
    let store = state.store();
    let Some(user_id) = store.enroll(&sha256(request.code.as_bytes()), now(), &device)? else {
        state.audit(
            None,
            "enroll_refused",
            "unknown, used or expired code",
            Some(&ip),
        );
        return Err(ApiError::EnrollmentCodeInvalid);
    };
    let user = store
        .user_by_id(user_id)?
        .ok_or_else(|| ApiError::Internal("enrolled for a missing user".into()))?;
    state.notify(
        &user,
        Notice::PhoneAdded {
            phone: device.name.clone(),
        },
    );
    state.audit(
        Some(&user.username),
        "device_enrolled",
        &format!(
            "device {} ({}, {})",
            device.id, device.name, device.platform
        ),
        Some(&ip),
    );
    let mut response = EnrollResponse {
        device_id: device.id,
        username: user.username.clone(),
        display_name: user.display_name,
        server_public_key: state.signing_key().public_key().to_string(),
        server_time: now(),
        oath_link: Some(crate::totp::otpauth_link(&user.username, seed.as_ref())),
        signature: None,
    };
    let signature = state
        .signing_key()
        .sign(&enrolled_message(&response, &key, &request.code))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    response.signature = Some(signature.to_string());
    Ok(Json(response))
}
