//! Server settings.

use std::sync::Arc;
use std::time::Duration;

use crate::directory::{Directory, DirectoryKind};
use crate::edge::{Cidr, ProxyHeader};
use crate::limits::Limit;
use crate::password::Blocklist;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The base URL devices reach (goes into enrollment links).
    pub public_url: String,
    /// Digits of the number matching (2 by default; 6 meets NIST SP 800-63B rev. 4).
    pub number_digits: u8,
    /// How long a challenge lives, seconds (capped at the protocol's 120).
    pub challenge_lifetime: u64,
    /// Rate limits, caps and lockouts.
    pub limits: Limits,
    /// Timeouts, the connection cap and the trusted proxies (`docs/security.md`).
    pub edge: Edge,
    /// Passwords refused whatever their length (default: the list compiled in).
    pub password_blocklist: Blocklist,
    /// Where the key-encryption key that seals the server key and the OATH seeds is (default:
    /// a `<database>.kek` file made beside the database; a City keeps it elsewhere).
    pub kek: crate::kek::KekConfig,
    /// What lets an account with no phone register its first one on the portal.
    pub first_device: FirstDevice,
    /// How many times a portal sign-in of an account with no phone may put off registering
    /// one ("remind me later"), counted per account; 0: a phone must be registered before
    /// Security info opens (the change of password and the sign-out stay open).
    pub register_reminders: u32,
    /// Where the City's accounts and passwords live (default: the built-in store).
    pub directory: DirectoryChoice,
    /// Who may read `GET /metrics` besides the loopback (the monitoring network's blocks).
    pub metrics_allow: Vec<Cidr>,
    /// FCM and APNs delivery (default `None`: pushes are only logged; phones long-poll).
    pub push: Option<crate::push::PushConfig>,
    /// The mail relay the notices go through (default `None`: no email is sent).
    pub mail: Option<crate::notify::MailConfig>,
    /// Where audit events are exported besides the store (default: nowhere).
    pub audit_export: crate::auditlog::AuditExportConfig,
    /// Who the help-desk console's operators and auditors are, and what they may choose.
    pub helpdesk: HelpdeskConfig,
}

/// The help-desk console: the directory groups whose members hold its roles (besides the
/// roles granted in the built-in store), and the bounds of an access code's lifetime,
/// minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpdeskConfig {
    /// The directory group (a DN) whose members, directly or nested, are operators.
    pub operator_group: Option<String>,
    /// The directory group whose members are auditors.
    pub auditor_group: Option<String>,
    /// The shortest lifetime of an access code.
    pub code_minutes_min: u64,
    /// The longest lifetime of an access code.
    pub code_minutes_max: u64,
    /// The lifetime the console offers first.
    pub code_minutes_default: u64,
    /// How long a caller verification counts, seconds from its prompt (15 minutes: not a
    /// file setting; tests shorten it to see a verification go stale).
    pub verification_seconds: u64,
}

impl Default for HelpdeskConfig {
    fn default() -> Self {
        Self {
            operator_group: None,
            auditor_group: None,
            code_minutes_min: 10,
            code_minutes_max: 8 * 60,
            code_minutes_default: 60,
            verification_seconds: 15 * 60,
        }
    }
}

/// Where the City's accounts and passwords live.
#[derive(Clone, Default)]
pub enum DirectoryChoice {
    /// The server's own users table (the demo, small sites, tests).
    #[default]
    BuiltIn,
    /// A directory server (Active Directory, LDAP), built from its settings.
    External(Arc<dyn Directory>),
}

impl std::fmt::Debug for DirectoryChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The directory's settings hold the service password: only its kind is shown.
        let kind = match self {
            DirectoryChoice::BuiltIn => DirectoryKind::BuiltIn,
            DirectoryChoice::External(directory) => directory.kind(),
        };
        write!(f, "DirectoryChoice({kind:?})")
    }
}

/// What lets an account with no phone register its first one on the portal (a second
/// phone always needs an approval on an existing one, or a help-desk access code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FirstDevice {
    /// A help-desk access code (or an enrollment link from the administrator): the default,
    /// since a password alone is what a phished or reused password gives an attacker, and
    /// the first phone becomes the account's reset credential.
    #[default]
    HelpDesk,
    /// The password alone, as well (a pilot where accounts start without phones).
    Password,
}

/// The reminders an account gets unless the City sets `[portal] register_reminders`: a few
/// sign-ins' grace (the phone may be at home), not an indefinite one.
pub const DEFAULT_REGISTER_REMINDERS: u32 = 3;

impl Config {
    /// The defaults for a server reached at `public_url`.
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            number_digits: 2,
            challenge_lifetime: cityauth_protocol::wire::MAX_CHALLENGE_LIFETIME,
            limits: Limits::default(),
            edge: Edge::default(),
            password_blocklist: Blocklist::builtin(),
            kek: crate::kek::KekConfig::default(),
            first_device: FirstDevice::default(),
            register_reminders: DEFAULT_REGISTER_REMINDERS,
            push: None,
            mail: None,
            audit_export: Default::default(),
            helpdesk: HelpdeskConfig::default(),
            directory: DirectoryChoice::default(),
            metrics_allow: Vec::new(),
        }
    }
}

/// Rate limits, caps and lockouts: the numbers of the policy in [`crate::limits`]
/// (`server/README.md` and `docs/security.md` give each one and what it defends). A
/// client is its IPv4 address or its IPv6 /64; limits on a username apply to unknown
/// names alike.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Reset starts per username.
    pub reset_start_per_user: Limit,
    /// Reset starts per (username, client).
    pub reset_start_per_user_ip: Limit,
    /// Reset starts per client.
    pub reset_start_per_ip: Limit,
    /// Code checks per username.
    pub code_per_user: Limit,
    /// Code checks per (username, client).
    pub code_per_user_ip: Limit,
    /// Code checks per client.
    pub code_per_ip: Limit,
    /// Sign-ins (passwords, access codes, password changes) per username.
    pub sign_in_per_user: Limit,
    /// Sign-ins per (username, client).
    pub sign_in_per_user_ip: Limit,
    /// Sign-ins per client.
    pub sign_in_per_ip: Limit,
    /// Code tries per reset.
    pub code_tries: u32,
    /// Pushes to an account that anyone can cause by naming it (reset starts).
    pub push_anonymous: Limit,
    /// Pushes to an account after its correct password (sign-ins, password changes).
    pub push_after_password: Limit,
    /// Consecutive failures of one authenticator from one (username, client) that lock
    /// that pair; each further run of as many locks it again.
    pub lock_after: u32,
    /// How long the first lock of a pair lasts, seconds; each further one doubles.
    pub lock_seconds: u64,
    /// The longest lock of a pair, seconds.
    pub lock_max_seconds: u64,
    /// Consecutive failures of one authenticator on one account, from any clients, that
    /// disable it until a success through another path (NIST SP 800-63B: at most 100).
    pub disable_after: u32,
    /// How long a (username, client) that succeeded is exempt from the per-username rate
    /// limits, seconds: the owner's own address keeps working while strangers at many
    /// addresses use up a username's budget.
    pub trusted_client_seconds: u64,
    /// Keys each of the limiter's in-memory tables holds at most (bounds its memory).
    pub limiter_keys: usize,
}

const TEN_MINUTES: u64 = 600;
const HOUR: u64 = 3600;

impl Default for Limits {
    fn default() -> Self {
        let limit = |max| Limit {
            max,
            window: TEN_MINUTES,
        };
        Self {
            reset_start_per_user: limit(30),
            reset_start_per_user_ip: limit(5),
            reset_start_per_ip: limit(30),
            code_per_user: limit(50),
            code_per_user_ip: limit(20),
            code_per_ip: limit(30),
            sign_in_per_user: limit(100),
            sign_in_per_user_ip: limit(20),
            sign_in_per_ip: limit(50),
            code_tries: 5,
            push_anonymous: Limit {
                max: 5,
                window: HOUR,
            },
            push_after_password: Limit {
                max: 10,
                window: HOUR,
            },
            lock_after: 10,
            lock_seconds: 15 * 60,
            lock_max_seconds: 24 * HOUR,
            disable_after: 100,
            trusted_client_seconds: 30 * 24 * HOUR,
            limiter_keys: 100_000,
        }
    }
}

/// The network edge: how long a client may take to send a request, how many connections
/// are served at once, and which peers may name the client for a request.
#[derive(Debug, Clone)]
pub struct Edge {
    /// From the moment the server waits for a request's head (a new connection, or a
    /// keep-alive one after its last answer) until the whole head has arrived; the
    /// connection is closed past it.
    pub header_timeout: Duration,
    /// From the head until the whole body has arrived; `408` and the connection closed past it.
    pub body_timeout: Duration,
    /// The longest an answer's write may make no progress (a client that stopped reading);
    /// the connection is closed past it.
    pub send_timeout: Duration,
    /// Connections served at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// The reverse proxies whose word on the client's address is taken (none by default).
    pub trusted_proxies: Vec<Cidr>,
    /// The header those proxies name the client in.
    pub proxy_header: ProxyHeader,
}

impl Default for Edge {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(10),
            max_connections: 4096,
            trusted_proxies: Vec::new(),
            proxy_header: ProxyHeader::XForwardedFor,
        }
    }
}
