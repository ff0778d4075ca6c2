//! The records the store keeps.

use cityauth_protocol::wire::{ChallengeKind, SignedChallenge};

/// A new user. `Debug` leaves out the password hash.
#[derive(Clone)]
pub struct NewUser {
    /// The username (unique, case-insensitive).
    pub username: String,
    /// The name shown to people.
    pub display_name: String,
    /// Argon2id hash of the password.
    pub password_hash: String,
    /// Creation time.
    pub created_at: u64,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A City account. `Debug` leaves out the password hash.
#[derive(Clone)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// The username.
    pub username: String,
    /// The name shown to people.
    pub display_name: String,
    /// Argon2id hash of the password.
    pub password_hash: String,
    /// A fraud report blocked pushes until an administrator clears it.
    pub blocked: bool,
    /// Sessions of an older generation have ended.
    pub session_generation: i64,
    /// The account's stable id in the directory (`builtin:<id>` for the built-in store).
    pub directory_id: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .field("blocked", &self.blocked)
            .field("session_generation", &self.session_generation)
            .field("directory_id", &self.directory_id)
            .finish()
    }
}

/// An authenticator whose consecutive failures are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    /// The password (wrong numbers typed on the phone count here too).
    Password,
    /// The codes from the app (the City account's TOTP).
    Code,
}

impl Factor {
    /// A short name.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Password => "password",
            Factor::Code => "code",
        }
    }
}

/// A device to register.
#[derive(Debug, Clone)]
pub struct NewDevice {
    /// Its id.
    pub id: String,
    /// Its uncompressed P-256 public key.
    pub public_key: Vec<u8>,
    /// Its name.
    pub name: String,
    /// `android`, `ios` or `desktop`.
    pub platform: String,
    /// FCM/APNs token.
    pub push_token: Option<String>,
    /// Registration time.
    pub created_at: u64,
    /// This device's own City account OATH seed, sealed under the key-encryption key
    /// (`None`: none issued, or revoked).
    pub oath_secret: Option<Vec<u8>>,
}

/// A registered device.
#[derive(Debug, Clone)]
pub struct Device {
    /// The device and its details.
    pub device: NewDevice,
    /// Its user.
    pub user_id: i64,
}

/// Where a challenge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeState {
    /// Awaiting the answer.
    Pending,
    /// Approved with the right number.
    Approved,
    /// Denied.
    Denied,
    /// Denied with a fraud report.
    Fraud,
    /// A wrong number was typed.
    Failed,
    /// Another device answered the same flow.
    Cancelled,
    /// An answer came after its lifetime (recorded, so that a clock put back cannot revive it).
    Expired,
}

impl ChallengeState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Fraud => "fraud",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// Parses the stored name (unknown names read as cancelled: never answerable).
    pub fn parse(text: &str) -> Self {
        match text {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "fraud" => Self::Fraud,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            _ => Self::Cancelled,
        }
    }
}

/// A challenge as stored: the signed challenge, its flow, the number and its state.
#[derive(Debug, Clone)]
pub struct StoredChallenge {
    /// What the device receives.
    pub signed: SignedChallenge,
    /// The flow (reset) it verifies.
    pub flow_id: String,
    /// The number the browser shows (empty: no number matching).
    pub number: String,
    /// Where it is.
    pub state: ChallengeState,
}

/// Where a flow (a password reset, a sign-in) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    /// Awaiting approval or a code.
    Pending,
    /// Approved: a new password may be set, or the session taken.
    Verified,
    /// Denied, a wrong number, or a fraud report.
    Denied,
    /// Completed (password set, or session taken).
    Done,
    /// Taken by one request that is writing the new password to the directory: no other
    /// request can take it meanwhile; it becomes done, or verified again if the write failed.
    Claimed,
}

impl FlowState {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Denied => "denied",
            Self::Done => "done",
            Self::Claimed => "claimed",
        }
    }

    /// Parses the stored name (unknown names read as denied).
    pub fn parse(text: &str) -> Self {
        match text {
            "pending" => Self::Pending,
            "verified" => Self::Verified,
            "done" => Self::Done,
            "claimed" => Self::Claimed,
            _ => Self::Denied,
        }
    }
}

/// A password reset or a sign-in in progress.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Its id (256 random bits).
    pub id: String,
    /// A password reset or a sign-in.
    pub kind: ChallengeKind,
    /// The username as typed (kept for unknown users too).
    pub username: String,
    /// The user, if the name exists.
    pub user_id: Option<i64>,
    /// The number the browser shows.
    pub number: String,
    /// Where it is.
    pub state: FlowState,
    /// Code tries so far.
    pub code_tries: u32,
    /// The browser's IP.
    pub client_ip: String,
    /// Creation time.
    pub created_at: u64,
    /// After this the flow is expired (unless done).
    pub expires_at: u64,
}

/// The claim held on a password reset by the request writing its new password (or by one
/// whose process stopped mid-write): when it was taken, and the new password being written,
/// sealed under the key-encryption key for its flow (`None` for an unlock, which writes no
/// password, or a claim an older server took).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetClaim {
    /// When the claim was taken (unix time; 0 if an older server left none).
    pub claimed_at: u64,
    /// The sealed password the claim writes.
    pub sealed: Option<Vec<u8>>,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Unix time.
    pub time: u64,
    /// The username concerned (as typed, for unknown names), if any.
    pub username: Option<String>,
    /// What happened (`reset_start`, `challenge_answer`, …).
    pub event: String,
    /// Details; never a secret.
    pub detail: String,
    /// The client's IP, if a client asked.
    pub client_ip: Option<String>,
}

/// A City account OATH seed of an older database, shared by all of a user's devices and kept
/// in clear on the user row, to be sealed onto each device on the first start. `Debug`
/// leaves out the seed.
#[derive(Clone)]
pub struct LegacyOathSeed {
    /// The user.
    pub user_id: i64,
    /// The seed, in clear.
    pub secret: zeroize::Zeroizing<Vec<u8>>,
    /// The last accepted step.
    pub last_step: u64,
}

impl std::fmt::Debug for LegacyOathSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyOathSeed")
            .field("user_id", &self.user_id)
            .field("secret", &"<redacted>")
            .field("last_step", &self.last_step)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_states_keep_their_stored_names_and_an_unknown_one_is_never_answerable() {
        for state in [
            ChallengeState::Pending,
            ChallengeState::Approved,
            ChallengeState::Denied,
            ChallengeState::Fraud,
            ChallengeState::Failed,
            ChallengeState::Cancelled,
            ChallengeState::Expired,
        ] {
            assert_eq!(ChallengeState::parse(state.as_str()), state);
        }
        // The names earlier servers wrote are unchanged; `expired` is read by this one, and
        // a name from a newer server reads as cancelled (never answerable), as `expired`
        // did for servers before it.
        assert_eq!(ChallengeState::Pending.as_str(), "pending");
        assert_eq!(ChallengeState::Expired.as_str(), "expired");
        assert_eq!(
            ChallengeState::parse("superseded"),
            ChallengeState::Cancelled
        );
    }

    #[test]
    fn debug_never_shows_the_password_hash_or_the_seed() {
        let hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
        let user = User {
            id: 7,
            username: "alice".into(),
            display_name: "Alice".into(),
            password_hash: hash.into(),
            blocked: false,
            session_generation: 1,
            directory_id: "builtin:7".into(),
        };
        let new_user = NewUser {
            username: "alice".into(),
            display_name: "Alice".into(),
            password_hash: hash.into(),
            created_at: 1,
        };
        let seed = LegacyOathSeed {
            user_id: 7,
            secret: zeroize::Zeroizing::new(b"SEEDSEEDSEED".to_vec()),
            last_step: 3,
        };
        for shown in [
            format!("{user:?}"),
            format!("{new_user:?}"),
            format!("{seed:?}"),
        ] {
            assert!(
                !shown.contains("argon2id") && !shown.contains("aGFzaGhhc2g"),
                "{shown}"
            );
            assert!(!shown.contains("83, 69, 69, 68"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }
}
