//! Administration, in-process: what the `cityauth-server` admin commands, the CLI demo and
//! the tests call.

use cityauth_protocol::EnrollmentLink;

use crate::directory::DirectoryKind;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditEvent, Device, NewUser, StoreError, User};
use crate::util::{now, random_token, sha256};

/// How long an enrollment code lives, seconds.
pub const ENROLLMENT_CODE_LIFETIME: u64 = 600;
/// How long a help-desk access code lives, seconds.
pub const ACCESS_CODE_LIFETIME: u64 = 3600;

/// What an administrative command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No such user.
    #[error("no user named {0}")]
    UnknownUser(String),
    /// The username is taken.
    #[error("a user named {0} already exists")]
    UserExists(String),
    /// A username must be 1 to 64 characters of letters, digits, `.`, `_`, `-` or `@`.
    #[error("a username is 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    BadUsername,
    /// The email address is not one.
    #[error("{0:?} is not an email address")]
    BadMail(String),
    /// The password fails the policy, or another API-level failure.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The directory failed (unreachable, or it refused the service account).
    #[error("{0}")]
    Directory(String),
    /// Accounts live in the directory: they are made there, not here.
    #[error("accounts are made in the City directory, not with this command")]
    NotBuiltIn,
}

/// The local row of the account named `username` in the directory (made on first sight,
/// so that the help desk can issue an access code or an enrollment link to an employee who
/// exists only in the directory).
pub(crate) fn user(state: &AppState, username: &str) -> Result<User, AdminError> {
    let unknown = || AdminError::UnknownUser(username.to_owned());
    if state.directory().kind() == DirectoryKind::BuiltIn {
        return state.store().user_by_name(username)?.ok_or_else(unknown);
    }
    let account = on_own_runtime(state.directory().find(username))
        .map_err(|e| AdminError::Directory(e.to_string()))?
        .ok_or_else(unknown)?;
    Ok(crate::api::row_of(state, &account)?)
}

/// Runs a directory call from a synchronous admin command, from a thread of its own (the
/// caller may be inside another runtime, where blocking on one is refused) on the admin
/// runtime, which lives as long as the process: a connection the directory opens and pools
/// here keeps its driver running for the server to use after.
fn on_own_runtime<T: Send>(
    call: crate::directory::DirFuture<'_, T>,
) -> Result<T, crate::directory::DirectoryError> {
    use crate::directory::DirectoryError;
    static RUNTIME: std::sync::OnceLock<std::io::Result<tokio::runtime::Runtime>> =
        std::sync::OnceLock::new();
    let runtime = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("cityauth-admin")
                .enable_all()
                .build()
        })
        .as_ref()
        .map_err(|e| DirectoryError::Other(format!("the admin runtime: {e}")))?;
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime.block_on(call))
            .join()
            .unwrap_or_else(|_| Err(DirectoryError::Other("the directory call panicked".into())))
    })
}

/// Creates a user whose password passes the policy; returns the user's id.
pub fn create_user(
    state: &AppState,
    username: &str,
    display_name: &str,
    password: &str,
) -> Result<i64, AdminError> {
    if state.directory().kind() != DirectoryKind::BuiltIn {
        return Err(AdminError::NotBuiltIn);
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if username.is_empty() || username.len() > 64 || !username.chars().all(valid) {
        return Err(AdminError::BadUsername);
    }
    crate::password::check_policy(
        &state.config().password_blocklist,
        password,
        username,
        display_name,
    )?;
    let record = NewUser {
        username: username.to_owned(),
        display_name: display_name.trim().to_owned(),
        password_hash: crate::password::hash(password)?,
        created_at: now(),
    };
    let id = state.store().user_create(&record).map_err(|e| match e {
        StoreError::Conflict => AdminError::UserExists(username.to_owned()),
        other => other.into(),
    })?;
    state.audit(Some(username), "user_created", "by an administrator", None);
    Ok(id)
}

/// Whether `mail` is an email address (`user@domain`), before anything is written.
pub fn check_mail(mail: &str) -> Result<(), AdminError> {
    mail.trim()
        .parse::<lettre::Address>()
        .map(drop)
        .map_err(|_| AdminError::BadMail(mail.to_owned()))
}

/// Sets (or with `None` clears) the email address kept for a built-in account: where its
/// notices go. A directory account's address is its `mail` attribute.
pub fn set_mail(state: &AppState, username: &str, mail: Option<&str>) -> Result<(), AdminError> {
    if state.directory().kind() != DirectoryKind::BuiltIn {
        return Err(AdminError::NotBuiltIn);
    }
    let mail = mail.map(str::trim).filter(|m| !m.is_empty());
    if let Some(mail) = mail {
        check_mail(mail)?;
    }
    let user = user(state, username)?;
    state.store().set_mail(user.id, mail)?;
    state.audit(
        Some(&user.username),
        "mail_set",
        if mail.is_some() {
            "email address set by an administrator"
        } else {
            "email address cleared by an administrator"
        },
        None,
    );
    Ok(())
}

/// Issues a single-use enrollment code (256 bits, 10 minutes) and returns its link.
pub fn enrollment_link(state: &AppState, username: &str) -> Result<String, AdminError> {
    let user = user(state, username)?;
    let code = random_token()?;
    let expires_at = now() + ENROLLMENT_CODE_LIFETIME;
    state
        .store()
        .enrollment_code_create(&sha256(code.as_bytes()), user.id, expires_at)?;
    state.audit(
        Some(&user.username),
        "enrollment_code_issued",
        "valid 10 minutes",
        None,
    );
    let link = EnrollmentLink {
        server: state.config().public_url.clone(),
        code,
        fingerprint: state.signing_key().public_key().fingerprint(),
    };
    Ok(link.to_link())
}

/// Issues a help-desk one-time access code (single use, 1 hour); the employee is mailed
/// that one was issued (never the code).
pub fn access_code(state: &AppState, username: &str) -> Result<String, AdminError> {
    let user = user(state, username)?;
    let code = random_token()?;
    let issued_at = now();
    state.store().access_code_create(
        &sha256(code.as_bytes()),
        user.id,
        issued_at + ACCESS_CODE_LIFETIME,
        false,
    )?;
    state.audit(
        Some(&user.username),
        "access_code_issued",
        "valid 1 hour, single use",
        None,
    );
    // As from the console: the employee hears of it. No caller was verified on the phone
    // here (an administrator's command), which the mail says as an override's does.
    state.notify(
        &user,
        crate::notify::Notice::AccessCodeIssued {
            at: issued_at,
            minutes: ACCESS_CODE_LIFETIME / 60,
            overridden: true,
        },
    );
    Ok(code)
}

/// The user's devices.
pub fn devices(state: &AppState, username: &str) -> Result<Vec<Device>, AdminError> {
    let user = user(state, username)?;
    Ok(state.store().devices_of(user.id)?)
}

/// Removes one of the user's devices (the help desk, for a lost phone): its OATH secret goes
/// with it. False if the user has no such device.
pub fn remove_device(
    state: &AppState,
    username: &str,
    device_id: &str,
) -> Result<bool, AdminError> {
    let user = user(state, username)?;
    let Some(owned) = state
        .store()
        .device(device_id)?
        .filter(|d| d.user_id == user.id)
    else {
        return Ok(false);
    };
    if !state.store().device_delete(device_id)? {
        return Ok(false);
    }
    state.0.waiters.remove(device_id);
    state.notify(
        &user,
        crate::notify::Notice::PhoneRemoved {
            phone: owned.device.name,
            by_helpdesk: true,
        },
    );
    state.audit(
        Some(&user.username),
        "device_removed",
        &format!("device {device_id} removed by an administrator"),
        None,
    );
    Ok(true)
}

/// Clears a fraud block so pushes resume.
pub fn unblock(state: &AppState, username: &str) -> Result<(), AdminError> {
    let user = user(state, username)?;
    state.store().user_set_blocked(user.id, false)?;
    state.audit(
        Some(&user.username),
        "unblocked",
        "fraud block cleared by an administrator",
        None,
    );
    Ok(())
}

/// Audit events, newest first.
pub fn audit(
    state: &AppState,
    username: Option<&str>,
    limit: u32,
) -> Result<Vec<AuditEvent>, AdminError> {
    Ok(state.store().audit_list(username, limit)?)
}

/// Starts a session for a user (the portal's sign-in will call this); returns its token.
pub fn create_session(
    state: &AppState,
    username: &str,
    lifetime: u64,
) -> Result<String, AdminError> {
    let user = user(state, username)?;
    let token = random_token()?;
    let now = now();
    state
        .store()
        .session_create(&sha256(token.as_bytes()), user.id, now, now + lifetime)?;
    Ok(token)
}

/// The username of a live session, if the token is one.
pub fn session_user(state: &AppState, token: &str) -> Result<Option<String>, AdminError> {
    Ok(state
        .store()
        .session_user(&sha256(token.as_bytes()), now())?
        .map(|u| u.username))
}
