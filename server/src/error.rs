//! API errors, each mapped to its HTTP status and the protocol's error code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cityauth_protocol::wire::{ErrorBody, StaleTimeBody};

use crate::store::StoreError;

/// Every error the API answers with (`docs/protocol.md`, "Errors").
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON or parameters.
    #[error("{0}")]
    BadRequest(String),
    /// A signature does not verify.
    #[error("the signature does not verify")]
    InvalidSignature,
    /// No such device, or it was removed.
    #[error("no such device")]
    UnknownDevice,
    /// The path is served, but not with this method.
    #[error("this path does not take that method")]
    MethodNotAllowed,
    /// A signed request's time is too far from the server's; with the server's clock signed
    /// for the device (its time, the signature), when the request's signature verified.
    #[error("the request's time is more than 300 s from the server's")]
    StaleTime(Option<(u64, String)>),
    /// A nonce was already used within the window.
    #[error("the request's nonce was already used")]
    ReplayedNonce,
    /// A wrong username or password, or a wrong access code (one answer for all).
    #[error("the username or password is wrong")]
    InvalidCredentials,
    /// No live session for the bearer token.
    #[error("no such session, or it ended")]
    InvalidSession,
    /// An enrollment code that is unknown, used or expired.
    #[error("the enrollment code is unknown, used or expired")]
    EnrollmentCodeInvalid,
    /// The account reported fraud.
    #[error("the account reported fraud; the help desk must clear it")]
    Blocked,
    /// No such challenge or reset.
    #[error("not found")]
    NotFound,
    /// Already answered or failed.
    #[error("already answered")]
    AlreadyAnswered,
    /// A reset whose new password another request is writing to the directory now (its
    /// claim is young, and the password it writes is not in effect yet): the same code as
    /// a flow already answered, so the protocol's codes stay as they are, with a sentence
    /// that says to try again shortly.
    #[error("a new password is being set for this reset; try again in a minute")]
    PasswordBeingSet,
    /// A new password before verification.
    #[error("the reset is not verified")]
    NotVerified,
    /// The challenge or reset expired.
    #[error("expired")]
    Expired,
    /// A wrong number; the challenge is now failed.
    #[error("the number does not match; the request is now failed")]
    WrongNumber,
    /// A wrong code from the app.
    #[error("the code is wrong")]
    WrongCode,
    /// The password fails the policy; the text says why.
    #[error("{0}")]
    PasswordPolicy(String),
    /// Too many failures.
    #[error("too many failures; locked")]
    Locked,
    /// The password is right, but the directory says it expired or must be changed first.
    #[error("your password has expired: choose a new one with \"Forgot my password\"")]
    PasswordExpired,
    /// The request body is over the limit.
    #[error("the request body is too large")]
    TooLarge,
    /// Too many attempts; retry after this many seconds.
    #[error("too many attempts; retry later")]
    RateLimited(u64),
    /// The directory refused the new password; the sentence says why. A reset stays
    /// verified, to retry with another password until it expires.
    #[error("{0}")]
    DirectoryRefused(String),
    /// The directory cannot be reached now (the cause is logged, never sent).
    #[error("the City directory cannot be reached; nothing was changed, try again shortly")]
    DirectoryUnavailable(String),
    /// A fault of the server (the text is logged, never sent).
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status and the protocol's error code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use ApiError::*;
        match self {
            BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            InvalidSignature => (StatusCode::UNAUTHORIZED, "invalid_signature"),
            UnknownDevice => (StatusCode::UNAUTHORIZED, "unknown_device"),
            StaleTime(_) => (StatusCode::UNAUTHORIZED, "stale_time"),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ReplayedNonce => (StatusCode::UNAUTHORIZED, "replayed_nonce"),
            InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            InvalidSession => (StatusCode::UNAUTHORIZED, "invalid_session"),
            EnrollmentCodeInvalid => (StatusCode::FORBIDDEN, "enrollment_code_invalid"),
            Blocked => (StatusCode::FORBIDDEN, "blocked"),
            NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AlreadyAnswered | PasswordBeingSet => (StatusCode::CONFLICT, "already_answered"),
            NotVerified => (StatusCode::CONFLICT, "not_verified"),
            Expired => (StatusCode::GONE, "expired"),
            WrongNumber => (StatusCode::UNPROCESSABLE_ENTITY, "wrong_number"),
            WrongCode => (StatusCode::UNPROCESSABLE_ENTITY, "wrong_code"),
            PasswordPolicy(_) => (StatusCode::UNPROCESSABLE_ENTITY, "password_policy"),
            Locked => (StatusCode::LOCKED, "locked"),
            PasswordExpired => (StatusCode::FORBIDDEN, "password_expired"),
            TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            DirectoryRefused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "directory_refused"),
            DirectoryUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable"),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            ApiError::DirectoryUnavailable(detail) => {
                tracing::warn!(%detail, "directory unavailable")
            }
            _ => {}
        }
        let mut response = match &self {
            ApiError::StaleTime(Some((server_time, signature))) => {
                let body = StaleTimeBody {
                    error: code.to_owned(),
                    message: self.to_string(),
                    server_time: *server_time,
                    signature: signature.clone(),
                };
                (status, axum::Json(body)).into_response()
            }
            _ => {
                let body = ErrorBody {
                    error: code.to_owned(),
                    message: self.to_string(),
                };
                (status, axum::Json(body)).into_response()
            }
        };
        if let ApiError::RateLimited(seconds) = self
            && let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
