//! A password change while signed in: the current password, the new one, then an approval
//! on the phone (number matching, as for a sign-in) before the new password takes effect.

use std::net::IpAddr;

use axum::Json;
use axum::extract::{Path, State};
use cityauth_protocol::wire::{ChallengeKind, ResetStatus, SessionResponse};

use zeroize::Zeroizing;

use super::directory::{self, OnRefusal};
use super::sealed;
use super::signin::{issue, limits};
use crate::challenges::{Origin, send_for_flow};
use crate::directory::PasswordCheck;
use crate::error::ApiError;
use crate::limits::{Attempt, ClientKey, fields};
use crate::notify::Notice;
use crate::state::AppState;
use crate::store::{Factor, Flow, FlowState, User};
use crate::util::redact;

/// How long a password change may wait for the phone, seconds.
const CHANGE_LIFETIME: u64 = 600;

/// Where a password change stands after the form is sent.
#[derive(Debug)]
pub(crate) enum ChangeStarted {
    /// Done at once (no phone registered yet): the browser's fresh session.
    Changed(SessionResponse),
    /// Waiting for the phone: the flow id and the number to type there.
    Pending {
        /// The flow.
        id: String,
        /// The number the browser shows.
        number: String,
    },
}

/// Checks the current password by binding as the user (failures count towards the
/// lockout) and the new one against our rules and the directory's policy; then, if the user
/// has a phone, asks it to approve the change (the two passwords wait sealed under the
/// key-encryption key in the flow row), else changes it now as the user, ending every
/// session and returning a fresh one for this browser.
pub(crate) async fn change_password(
    state: &AppState,
    peer: IpAddr,
    user: &User,
    current: String,
    new: String,
) -> Result<ChangeStarted, ApiError> {
    let (current, new) = (Zeroizing::new(current), Zeroizing::new(new));
    let ip = peer.to_string();
    limits(state, peer, &user.username)?;
    fields::password(&current)?;
    fields::password(&new)?;
    let key = fields::username_key(&user.username);
    let attempt = Attempt {
        factor: Factor::Password,
        name: &key,
        client: ClientKey::of(peer),
    };
    crate::limits::check(state, &attempt)?;
    if user.blocked {
        state.audit(
            Some(&user.username),
            "password_change_blocked",
            "fraud block",
            Some(&ip),
        );
        return Err(ApiError::Blocked);
    }
    let found = directory::account_of(state, user)
        .await?
        .ok_or(ApiError::InvalidSession)?;
    let (account, user) = (&found.account, &found.user);
    // An empty password is never sent (an LDAP bind with one is anonymous, and succeeds).
    let check = if current.is_empty() {
        PasswordCheck::Wrong
    } else {
        state
            .directory()
            .check_password(account, &current)
            .await
            .map_err(|e| directory::api_error(state, e))?
    };
    match check {
        PasswordCheck::Correct | PasswordCheck::MustChange => {}
        PasswordCheck::Locked => return Err(ApiError::Locked),
        PasswordCheck::Wrong => {
            crate::limits::failed(state, &attempt)?;
            state.audit(
                Some(&user.username),
                "password_change_failed",
                "wrong current password",
                Some(&ip),
            );
            return Err(ApiError::InvalidCredentials);
        }
    }
    super::policy::check_new_password(state, account, &new).await?;
    if state.store().devices_of(user.id)?.is_empty() {
        let changed = state
            .directory()
            .change_password(account, &current, &new)
            .await;
        if let Err(error) = changed {
            state.audit(
                Some(&user.username),
                "password_change_refused",
                &format!("no phone registered: {error}"),
                Some(&ip),
            );
            return Err(directory::api_error(state, error));
        }
        state.store().user_end_sessions(user.id)?;
        state.audit(
            Some(&user.username),
            "password_changed",
            "no phone registered; set in the directory as the user; all sessions ended",
            Some(&ip),
        );
        return issue(state, user, "after a password change", &ip).map(ChangeStarted::Changed);
    }
    let flow = super::new_flow(
        state,
        ChallengeKind::PasswordChange,
        &user.username,
        Some(user.id),
        &ip,
        CHANGE_LIFETIME,
    )?;
    let sealed = sealed::seal(state.kek(), &flow.id, &current, &new)?;
    state.store().password_change_insert(&flow, &sealed)?;
    let origin = Origin {
        kind: ChallengeKind::PasswordChange,
        application: "City portal: change password".into(),
        client_ip: peer,
    };
    let sent = send_for_flow(state, Some(user), &flow, &origin)?;
    state.audit(
        Some(&user.username),
        "password_change_start",
        &format!("change {}: {sent} push(es)", redact(&flow.id)),
        Some(&ip),
    );
    Ok(ChangeStarted::Pending {
        id: flow.id,
        number: flow.number,
    })
}

fn find(state: &AppState, id: &str) -> Result<Flow, ApiError> {
    super::find_flow(state, id, ChallengeKind::PasswordChange)
}

/// `GET /api/v1/password-change/{id}`: the change's state, for the waiting page.
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ResetStatus>, ApiError> {
    change_status(&state, &id).map(Json)
}

/// A password change's state as the browser sees it.
pub(crate) fn change_status(state: &AppState, id: &str) -> Result<ResetStatus, ApiError> {
    super::flow_status(state, id, ChallengeKind::PasswordChange)
}

/// Completes `user`'s change `id` once the phone approved it: the flow is claimed, the
/// sealed passwords opened and the directory changes the password as the user; then every
/// session ends, and this browser gets a fresh one. A refusal ends the change (its new
/// password is fixed: the employee starts again); an unreachable directory leaves it
/// approved, to continue once it is back.
pub(crate) async fn finish_password_change(
    state: &AppState,
    peer: IpAddr,
    user: &User,
    id: &str,
) -> Result<SessionResponse, ApiError> {
    let flow = find(state, id)?;
    if flow.user_id != Some(user.id) {
        return Err(ApiError::NotFound);
    }
    super::require_verified(&flow)?;
    let ip = peer.to_string();
    let found = directory::account_of(state, user)
        .await?
        .ok_or(ApiError::InvalidSession)?;
    // Found claimed: another request is writing it, or a server stopped mid-write. If the
    // new password is in effect already, that write took: finished here, nothing written
    // again (a retry would change "from" an old password that no longer works).
    if flow.state == FlowState::Claimed
        && let Some(session) = finish_if_written(state, peer, &flow, &found).await?
    {
        return Ok(session);
    }
    // A change's claim records nothing: its sealed pair is on the flow since it started. A
    // claim younger than CLAIM_SECONDS is not taken over: its write may still land.
    if !state
        .store()
        .flow_claim(id, user.id, crate::util::now(), None)?
    {
        return Err(match flow.state {
            FlowState::Claimed => ApiError::PasswordBeingSet,
            _ => ApiError::AlreadyAnswered,
        });
    }
    let opened = match state.store().password_change_pending(id, user.id)? {
        Some(sealed) => sealed::open(state.kek(), id, &sealed),
        None => Err(ApiError::NotVerified),
    };
    let (old, new) = match opened {
        Ok(passwords) => passwords,
        Err(error) => {
            state.store().flow_abandon(id)?;
            return Err(error);
        }
    };
    let written = state
        .directory()
        .change_password(&found.account, &old, &new)
        .await;
    drop((old, new));
    let user = &found.user;
    match directory::after_write(state, &flow, user, written, &ip, OnRefusal::End)? {
        directory::Settled::Failed(error) => return Err(error),
        // Another request for this change found the password in effect and finished it,
        // with the notice and the audit row: this browser gets its session only.
        directory::Settled::FinishedMeanwhile => {
            return issue(state, user, "after a password change", &ip);
        }
        directory::Settled::Finished => {}
    }
    state.notify(user, Notice::PasswordChanged);
    state.audit(
        Some(&user.username),
        "password_changed",
        &format!(
            "change {}: approved on the phone; set in the directory as the user; all sessions ended",
            redact(id)
        ),
        Some(&ip),
    );
    issue(state, user, "after a password change", &ip)
}

/// Finishes claimed change `flow` if its new password is in effect in the directory (the
/// claim's write took, and its request stopped or has not finished yet): done, every
/// session ended, the notice mailed, audited as completed after an interrupted write, and
/// a fresh session for this browser. `None` when the password is not in effect (nothing
/// changed: the caller's claim decides), or the flow holds no sealed pair any more. The
/// check binds as the account with the new password, so a wrong one counts as a failed
/// sign-in in the directory: it is made only for a flow found claimed.
async fn finish_if_written(
    state: &AppState,
    peer: IpAddr,
    flow: &Flow,
    found: &directory::Found,
) -> Result<Option<SessionResponse>, ApiError> {
    let user = &found.user;
    let Some(pair) = state.store().password_change_pending(&flow.id, user.id)? else {
        return Ok(None);
    };
    let (old, new) = sealed::open(state.kek(), &flow.id, &pair)?;
    drop(old);
    let check = state
        .directory()
        .check_password(&found.account, &new)
        .await
        .map_err(|e| directory::api_error(state, e));
    drop(new);
    if !matches!(check?, PasswordCheck::Correct | PasswordCheck::MustChange) {
        return Ok(None);
    }
    if !state.store().flow_finish(&flow.id, user.id)? {
        // The writing request finished it meanwhile; its browser got the session.
        return Err(ApiError::AlreadyAnswered);
    }
    let ip = peer.to_string();
    state.notify(user, Notice::PasswordChanged);
    state.audit(
        Some(&user.username),
        "password_changed",
        &format!(
            "change {}: completed after an interrupted write: the new password is in effect \
             in the directory; nothing written again; all sessions ended",
            redact(&flow.id)
        ),
        Some(&ip),
    );
    issue(state, user, "after a password change", &ip).map(Some)
}
