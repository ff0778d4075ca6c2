//! Sign-in: a password, then an approval on the phone with number matching; or a help-desk
//! access code. A verified sign-in yields a bearer session, which a password reset ends.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, header};
use cityauth_protocol::wire::{
    AccessCodeRequest, ChallengeKind, ResetStatus, SessionInfo, SessionResponse, SignInRequest,
    SignInResponse,
};

use zeroize::Zeroizing;

use crate::challenges::{Origin, send_for_flow};
use crate::directory::PasswordCheck;
use crate::error::ApiError;
use crate::limits::{self, Action, Attempt, ClientKey, fields};
use crate::password;
use crate::state::AppState;
use crate::store::{Factor, Flow, FlowState, User};
use crate::util::{now, random_token, redact, sha256};

/// How long a sign-in may take (password to session), seconds.
const SIGN_IN_LIFETIME: u64 = 600;
/// How long a session lasts, seconds.
pub const SESSION_LIFETIME: u64 = 8 * 3600;

/// Counts the sign-in against the client's, the (username, client) pair's and the
/// username's limits.
pub(super) fn limits(state: &AppState, peer: IpAddr, username: &str) -> Result<(), ApiError> {
    let key = fields::username_key(username);
    limits::rate(state, Action::SignIn, &key, ClientKey::of(peer))
}

/// `POST /api/v1/signin`: checks the password (locking after repeated failures), then
/// sends a `sign_in` challenge to the account's devices.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<SignInResponse>, ApiError> {
    password_sign_in(&state, peer.ip(), super::parse(&body)?)
        .await
        .map(Json)
}

/// The password step of a sign-in, for the API and the portal.
pub(crate) async fn password_sign_in(
    state: &AppState,
    peer: IpAddr,
    request: SignInRequest,
) -> Result<SignInResponse, ApiError> {
    let state = state.clone();
    let ip = peer.to_string();
    let username = fields::username(&request.username)?.to_owned();
    fields::password(&request.password)?;
    let key = fields::username_key(&username);
    let client = ClientKey::of(peer);
    limits::rate(&state, Action::SignIn, &key, client)?;
    let now = now();
    // Unknown names are counted and locked like real ones: the answers are the same.
    let attempt = Attempt {
        factor: Factor::Password,
        name: &key,
        client,
    };
    if let Err(locked) = limits::check(&state, &attempt) {
        state.audit(
            Some(&username),
            "sign_in_locked",
            "password locked for this client or disabled",
            Some(&ip),
        );
        return Err(locked);
    }
    // After the lock check: a locked client costs the directory nothing.
    let found = super::directory::look_up(&state, &username).await?;
    let typed = Zeroizing::new(request.password);
    let check = match &found {
        // An empty password is never sent: an LDAP bind with one is an anonymous bind,
        // which succeeds.
        Some(_) if typed.is_empty() => PasswordCheck::Wrong,
        Some(found) => state
            .directory()
            .check_password(&found.account, &typed)
            .await
            .map_err(|e| super::directory::api_error(&state, e))?,
        None => {
            if super::directory::is_builtin(&state) {
                // Unknown names verify against a dummy hash: the same Argon2 cost either way.
                let typed = typed.clone();
                tokio::task::spawn_blocking(move || {
                    password::verify(&typed, password::dummy_hash())
                })
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            }
            PasswordCheck::Wrong
        }
    };
    let user = match (found, check) {
        (Some(found), PasswordCheck::Correct) => found.user,
        (Some(_), PasswordCheck::Locked) => {
            // The directory's own lockout answers as the server's does (the same `423`):
            // the portal points at "Forgot my password", which can unlock it.
            state.audit(
                Some(&username),
                "sign_in_locked",
                "locked out by the directory",
                Some(&ip),
            );
            return Err(ApiError::Locked);
        }
        (Some(_), PasswordCheck::MustChange) => {
            // The password was right: only its owner learns that it must be changed.
            state.audit(
                Some(&username),
                "sign_in_must_change",
                "the directory says the password expired or must be changed",
                Some(&ip),
            );
            return Err(ApiError::PasswordExpired);
        }
        (found, _) => {
            limits::failed(&state, &attempt)?;
            let why = if found.is_some() {
                "wrong password"
            } else {
                "unknown username (or disabled, or outside the scope)"
            };
            state.audit(Some(&username), "sign_in_failed", why, Some(&ip));
            return Err(ApiError::InvalidCredentials);
        }
    };
    if user.blocked {
        state.audit(Some(&username), "sign_in_blocked", "fraud block", Some(&ip));
        return Err(ApiError::Blocked);
    }
    let has_device = !state.store().devices_of(user.id)?.is_empty();
    let mut flow = super::new_flow(
        &state,
        ChallengeKind::SignIn,
        &user.username,
        Some(user.id),
        &ip,
        SIGN_IN_LIFETIME,
    )?;
    if !has_device {
        // No phone yet: the password alone verifies the sign-in.
        flow.state = FlowState::Verified;
    }
    state.store().flow_insert(&flow)?;
    if has_device {
        let origin = Origin {
            kind: ChallengeKind::SignIn,
            application: "City portal".into(),
            client_ip: peer,
        };
        send_for_flow(&state, Some(&user), &flow, &origin)?;
    }
    state.audit(
        Some(&user.username),
        "sign_in_password_ok",
        &format!("sign-in {}", redact(&flow.id)),
        Some(&ip),
    );
    Ok(SignInResponse {
        signin_id: flow.id,
        number: has_device.then_some(flow.number),
        state: flow.state.as_str().to_owned(),
        expires_at: super::challenge_deadline(&state, now),
    })
}

fn find(state: &AppState, id: &str) -> Result<Flow, ApiError> {
    super::find_flow(state, id, ChallengeKind::SignIn)
}

/// `GET /api/v1/signin/{id}`.
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ResetStatus>, ApiError> {
    sign_in_status(&state, &id).map(Json)
}

/// A sign-in's state as the browser sees it.
pub(crate) fn sign_in_status(state: &AppState, id: &str) -> Result<ResetStatus, ApiError> {
    super::flow_status(state, id, ChallengeKind::SignIn)
}

/// Issues a session and records the successful sign-in: a password with an approval on the
/// phone, or a help-desk access code, clears both failure counts (a success through another
/// path lifts a disabled authenticator).
pub(super) fn issue(
    state: &AppState,
    user: &User,
    how: &str,
    ip: &str,
) -> Result<SessionResponse, ApiError> {
    let token = random_token()?;
    let now = now();
    let expires_at = now + SESSION_LIFETIME;
    state
        .store()
        .session_create(&sha256(token.as_bytes()), user.id, now, expires_at)?;
    let client = ip
        .parse::<IpAddr>()
        .map_err(|_| ApiError::Internal("a client address that does not parse".into()))?;
    limits::owner_proven(state, user, client)?;
    state.audit(Some(&user.username), "signed_in", how, Some(ip));
    Ok(SessionResponse {
        session: token,
        expires_at,
    })
}

/// `POST /api/v1/signin/{id}/session`: takes the session of a verified sign-in, once.
pub async fn session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<Json<SessionResponse>, ApiError> {
    take_session(&state, peer.ip(), &id).map(Json)
}

/// Takes the session of a verified sign-in, for the API and the portal.
pub(crate) fn take_session(
    state: &AppState,
    peer: IpAddr,
    id: &str,
) -> Result<SessionResponse, ApiError> {
    let flow = find(state, id)?;
    super::require_verified(&flow)?;
    let token = random_token()?;
    let now = now();
    let expires_at = now + SESSION_LIFETIME;
    // The flow's last step and the session in one transaction: a reset (which ends open
    // flows) either comes first, and there is no session, or after, and it ends it.
    let Some(user_id) =
        state
            .store()
            .flow_take_session(id, &sha256(token.as_bytes()), now, expires_at)?
    else {
        return Err(ApiError::AlreadyAnswered);
    };
    let user = state
        .store()
        .user_by_id(user_id)?
        .ok_or(ApiError::NotFound)?;
    limits::owner_proven(state, &user, peer)?;
    let how = format!("sign-in {}", redact(id));
    state.audit(
        Some(&user.username),
        "signed_in",
        &how,
        Some(&peer.to_string()),
    );
    Ok(SessionResponse {
        session: token,
        expires_at,
    })
}

/// `POST /api/v1/signin/access-code`: a help-desk one-time code gives a session directly
/// (to enroll a new phone after losing the old one).
pub async fn access_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<SessionResponse>, ApiError> {
    access_code_sign_in(&state, peer.ip(), super::parse(&body)?)
        .await
        .map(Json)
}

/// The access-code sign-in, for the API and the portal: the session it gives may enroll
/// one phone without an approval (the help desk vouched for the employee).
pub(crate) async fn access_code_sign_in(
    state: &AppState,
    peer: IpAddr,
    request: AccessCodeRequest,
) -> Result<SessionResponse, ApiError> {
    let state = state.clone();
    let ip = peer.to_string();
    let username = fields::username(&request.username)?;
    let code = fields::code(&request.code)?;
    limits(&state, peer, username)?;
    // The account as the directory has it now: a disabled one's code is refused.
    let user = super::directory::look_up(&state, username)
        .await?
        .map(|found| found.user);
    // Only the named user's own code is consumed: a code sent with another name stays usable.
    let user = match user {
        Some(user) if use_access_code(&state, &user, code)? => Some(user),
        _ => None,
    };
    match user {
        Some(user) => {
            let session = issue(&state, &user, "help-desk access code", &ip)?;
            state
                .store()
                .session_grant_enrollment(&sha256(session.session.as_bytes()))?;
            Ok(session)
        }
        None => {
            state.audit(
                Some(username),
                "access_code_refused",
                "unknown, used, expired or not this user's",
                Some(&ip),
            );
            Err(ApiError::InvalidCredentials)
        }
    }
}

/// Consumes `typed` if it is one of `user`'s live access codes. The administrator's codes
/// are kept as typed; the console's by their letters alone (read over the phone, typed in
/// any case, with or without the dashes).
fn use_access_code(state: &AppState, user: &User, typed: &str) -> Result<bool, ApiError> {
    let as_typed = sha256(typed.as_bytes());
    let by_letters = sha256(crate::util::access_code_key(typed).as_bytes());
    let store = state.store();
    Ok(store.access_code_use(&as_typed, user.id, now())?
        || (by_letters != as_typed && store.access_code_use(&by_letters, user.id, now())?))
}

/// A password reset verified by a help-desk access code instead of a phone (the employee
/// lost it): the code is consumed and the reset's flow, verified, is returned for the new
/// password. Protected accounts are refused as an unknown name is.
pub(crate) async fn access_code_reset(
    state: &AppState,
    peer: IpAddr,
    request: AccessCodeRequest,
) -> Result<crate::store::Flow, ApiError> {
    let ip = peer.to_string();
    let username = fields::username(&request.username)?;
    let code = fields::code(&request.code)?;
    limits(state, peer, username)?;
    let found = super::directory::look_up(state, username)
        .await?
        .filter(|found| !found.account.protected);
    let user = match found {
        Some(found) if use_access_code(state, &found.user, code)? => found.user,
        _ => {
            state.audit(
                Some(username),
                "access_code_refused",
                "for a reset: unknown, used, expired or not this user's",
                Some(&ip),
            );
            return Err(ApiError::InvalidCredentials);
        }
    };
    let mut flow = super::new_flow(
        state,
        ChallengeKind::PasswordReset,
        &user.username,
        Some(user.id),
        &ip,
        super::reset::RESET_LIFETIME,
    )?;
    flow.state = FlowState::Verified;
    state.store().flow_insert(&flow)?;
    state.audit(
        Some(&user.username),
        "reset_verified",
        &format!("reset {}: by a help-desk access code", redact(&flow.id)),
        Some(&ip),
    );
    Ok(flow)
}

/// `GET /api/v1/session` with `Authorization: Bearer <session>`.
pub async fn whoami(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SessionInfo>, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::InvalidSession)?;
    let user = session_user(&state, token)?;
    Ok(Json(SessionInfo {
        username: user.username,
        display_name: user.display_name,
    }))
}

/// The user of a live session token.
pub(crate) fn session_user(state: &AppState, token: &str) -> Result<User, ApiError> {
    state
        .store()
        .session_user(&sha256(token.trim().as_bytes()), now())?
        .ok_or(ApiError::InvalidSession)
}
