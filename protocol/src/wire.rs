//! The JSON bodies of the API (`docs/protocol.md` is the normative description).

use serde::{Deserialize, Serialize};

/// HTTP header carrying the device id of a signed request.
pub const DEVICE_HEADER: &str = "x-cityauth-device";
/// HTTP header carrying the Unix time of a signed request.
pub const TIME_HEADER: &str = "x-cityauth-time";
/// HTTP header carrying the nonce of a signed request.
pub const NONCE_HEADER: &str = "x-cityauth-nonce";
/// HTTP header carrying the signature of a signed request.
pub const SIGNATURE_HEADER: &str = "x-cityauth-signature";

/// How far a signed request's time may be from the server's, in seconds.
pub const MAX_CLOCK_SKEW: u64 = 300;
/// The longest a challenge lives, in seconds.
pub const MAX_CHALLENGE_LIFETIME: u64 = 120;
/// How long the server holds a long poll for challenges, in seconds.
pub const LONG_POLL_SECONDS: u64 = 25;

/// `GET /api/v1/server-key`: the server's signing key, fetched (and checked against the
/// link's fingerprint) before the enrollment code leaves the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerKeyResponse {
    /// The server's signing key, base64url (65-byte uncompressed point).
    pub server_public_key: String,
}

/// `POST /api/v1/enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The single-use code from the enrollment link.
    pub code: String,
    /// The device's P-256 public key, base64url.
    pub device_public_key: String,
    /// The device's signature over `canonical::enroll_message`, base64url.
    pub proof: String,
    /// A name the employee recognises ("Alice's phone").
    pub device_name: String,
    /// `android`, `ios` or `desktop`.
    pub platform: String,
    /// Where pushes go (FCM or APNs token); `None` for a device that only polls.
    pub push_token: Option<String>,
}

/// The answer to an enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The id that the device sends with every later request.
    pub device_id: String,
    /// The City account the device is now registered to.
    pub username: String,
    /// The employee's name as the City knows it.
    pub display_name: String,
    /// The server's signing key, base64url; the device checks it against the link's `fp`.
    pub server_public_key: String,
    /// The server's clock, Unix seconds, for the device to learn its offset.
    pub server_time: u64,
    /// An otpauth link for the City account's codes (this device's own secret), when the
    /// server issues one.
    pub oath_link: Option<String>,
    /// The server's signature over `canonical::enrolled_message`, base64url. A device refuses
    /// an answer without one (protocol version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// What a challenge asks the employee to approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    /// A sign-in to a City application.
    SignIn,
    /// A self-service password reset.
    PasswordReset,
    /// A password change while signed in.
    PasswordChange,
    /// Adding another phone to the account (the new phone's enrollment code is shown only
    /// after an existing phone approves).
    AddDevice,
    /// The help desk checking that a caller is the employee: the operator reads the number
    /// from the console and the caller types it on the phone.
    CallerVerification,
}

impl ChallengeKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeKind::SignIn => "sign_in",
            ChallengeKind::PasswordReset => "password_reset",
            ChallengeKind::PasswordChange => "password_change",
            ChallengeKind::AddDevice => "add_device",
            ChallengeKind::CallerVerification => "caller_verification",
        }
    }
}

/// A request for the employee's approval, signed by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// Unique id.
    pub id: String,
    /// The device it is for (a device drops challenges for any other).
    pub device_id: String,
    /// What is being approved.
    pub kind: ChallengeKind,
    /// The City account.
    pub account: String,
    /// The application asking ("City portal").
    pub application: String,
    /// The IP address of the browser that asked.
    pub client_ip: String,
    /// Its approximate location, as the server looked it up.
    pub location: String,
    /// When it was created, Unix seconds.
    pub created_at: u64,
    /// When it expires, Unix seconds (at most two minutes after creation).
    pub expires_at: u64,
    /// A fresh random value the answer must repeat.
    pub nonce: String,
    /// Digits of the number the employee must type from the browser (0: none asked).
    pub number_digits: u8,
}

/// A challenge with the server's signature over `canonical::challenge_message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedChallenge {
    /// The challenge.
    pub challenge: Challenge,
    /// base64url signature.
    pub signature: String,
}

/// `GET /api/v1/device/challenges`: the pending challenges for the calling device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeList {
    /// The server's clock, Unix seconds.
    pub server_time: u64,
    /// Pending, unanswered, unexpired challenges.
    pub challenges: Vec<SignedChallenge>,
    /// The server's signature over `canonical::challenges_message` (device id, the request's
    /// nonce, `server_time`), base64url. A device learns its clock offset only from a list
    /// whose signature verifies (protocol version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// The employee's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Approve, with the number typed.
    Approve,
    /// Deny: it was not me, or I changed my mind.
    Deny,
    /// Deny and report fraud: someone else is trying; pushes stop until the help desk clears it.
    Fraud,
}

impl Decision {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
            Decision::Fraud => "fraud",
        }
    }
}

/// `POST /api/v1/device/challenges/{id}/answer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerRequest {
    /// The challenge answered.
    pub challenge_id: String,
    /// The challenge's nonce, repeated.
    pub nonce: String,
    /// Approve, deny or fraud.
    pub decision: Decision,
    /// The number the employee typed (approvals of number-matching challenges).
    pub number: Option<String>,
    /// The device's signature over `canonical::answer_message`, base64url.
    pub signature: String,
}

/// The outcome of an answer the server accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerResponse {
    /// `approved`, `denied` or `fraud_reported`.
    pub outcome: String,
}

/// Every error the API returns: a stable code and a readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One of the codes in `docs/protocol.md` (`invalid_signature`, `stale_time`, …).
    pub error: String,
    /// For people; never contains a secret.
    pub message: String,
}

/// The body of a `stale_time` refusal from a server that signs its clock for the device:
/// [`ErrorBody`]'s fields and the server's time, signed for the refused request. A device
/// that verifies the signature with the pinned server key learns its clock offset from it
/// and signs the request again; older devices read only `error` and `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleTimeBody {
    /// `stale_time`.
    pub error: String,
    /// For people.
    pub message: String,
    /// The server's clock, Unix seconds.
    pub server_time: u64,
    /// The server's signature over `canonical::clock_message` (device id, the refused
    /// request's nonce, `server_time`), base64url.
    pub signature: String,
}

/// `POST /api/v1/reset/start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetStartRequest {
    /// The username; the answer is the same whether it exists or not.
    pub username: String,
}

/// The answer to a reset start (identical in shape for unknown users).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetStartResponse {
    /// The reset's id, for polling and the next steps.
    pub reset_id: String,
    /// The number the browser shows for the employee to type on the phone.
    pub number: String,
    /// When the approval request expires, Unix seconds.
    pub expires_at: u64,
}

/// `GET /api/v1/reset/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetStatus {
    /// `pending`, `verified` (a new password may be set), `denied`, `expired` or `done`.
    pub state: String,
}

/// `POST /api/v1/reset/{id}/code`: verify with a code from the app instead of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetCodeRequest {
    /// The current code of the City account in the app.
    pub code: String,
}

/// `POST /api/v1/reset/{id}/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPasswordRequest {
    /// The new password.
    pub password: String,
}

/// `POST /api/v1/signin`: a password sign-in (the portal's, or any City application's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// The answer to a password sign-in that passed: approve on the phone next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInResponse {
    /// The sign-in's id, for polling and taking the session.
    pub signin_id: String,
    /// The number to type on the phone; `None` for an account with no device yet.
    pub number: Option<String>,
    /// `pending` (awaiting the phone) or `verified` (no device: the password was enough).
    pub state: String,
    /// When the approval request expires, Unix seconds.
    pub expires_at: u64,
}

/// `POST /api/v1/signin/access-code`: a help-desk one-time access code instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessCodeRequest {
    /// The username.
    pub username: String,
    /// The one-time access code the help desk gave.
    pub code: String,
}

/// A session, once a sign-in is verified: `Authorization: Bearer <session>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionResponse {
    /// The bearer token.
    pub session: String,
    /// When it ends, Unix seconds (earlier if the password is reset).
    pub expires_at: u64,
}

/// `GET /api/v1/session`: who the bearer is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The username.
    pub username: String,
    /// The employee's name.
    pub display_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `stale_time` refusal as a server before the signed clock wrote it (frozen).
    const OLD_STALE_TIME: &str = r#"{"error":"stale_time","message":"the request's time is more than 300 s from the server's"}"#;

    #[test]
    fn a_refusal_with_the_signed_clock_still_reads_as_an_error_body() {
        // What a device built before the signed clock parses from a new server's refusal.
        let new = StaleTimeBody {
            error: "stale_time".into(),
            message: "m".into(),
            server_time: 1_800_000_000,
            signature: "c2ln".into(),
        };
        let read: ErrorBody = serde_json::from_slice(&serde_json::to_vec(&new).unwrap()).unwrap();
        assert_eq!(
            (read.error.as_str(), read.message.as_str()),
            ("stale_time", "m")
        );
    }

    #[test]
    fn an_older_servers_refusal_is_an_error_body_without_a_clock() {
        let old: ErrorBody = serde_json::from_str(OLD_STALE_TIME).unwrap();
        assert_eq!(old.error, "stale_time");
        assert!(serde_json::from_str::<StaleTimeBody>(OLD_STALE_TIME).is_err());
    }
}
