//! A password change while signed in: the current password, the new one, then an approval
//! on the phone (number matching, as for a sign-in) before the new password takes effect.

use std::net::IpAddr;

use axum::Json;
use axum::extract::{Path, State};
use cityauth_protocol::wire::{ChallengeKind, ResetStatus, SessionResponse};

use super::signin::{issue, limits};
use crate::challenges::{Origin, send_for_flow};
use crate::error::ApiError;
use crate::limits::{Attempt, ClientKey, fields};
use crate::password;
use crate::state::AppState;
use crate::store::{Factor, Flow, User};
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

/// Checks the current password (failures count towards the lockout) and the new one's
/// policy; then, if the user has a phone, asks it to approve the change, else changes the
/// password now, ending every session and returning a fresh one for this browser.
pub(crate) async fn change_password(
    state: &AppState,
    peer: IpAddr,
    user: &User,
    current: String,
    new: String,
) -> Result<ChangeStarted, ApiError> {
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
    let stored = user.password_hash.clone();
    let (name, display) = (user.username.clone(), user.display_name.clone());
    let blocklist = state.config().password_blocklist.clone();
    let checked = tokio::task::spawn_blocking(move || {
        if !password::verify(&current, &stored) {
            return Err(ApiError::InvalidCredentials);
        }
        password::check_policy(&blocklist, &new, &name, &display)?;
        password::hash(&new)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let hash = match checked {
        Err(ApiError::InvalidCredentials) => {
            crate::limits::failed(state, &attempt)?;
            state.audit(
                Some(&user.username),
                "password_change_failed",
                "wrong current password",
                Some(&ip),
            );
            return Err(ApiError::InvalidCredentials);
        }
        other => other?,
    };
    if state.store().devices_of(user.id)?.is_empty() {
        state.store().user_set_password(user.id, &hash)?;
        state.audit(
            Some(&user.username),
            "password_changed",
            "no phone registered; all sessions ended",
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
    state.store().password_change_insert(&flow, &hash)?;
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

/// Completes `user`'s change `id` once the phone approved it: the new password takes
/// effect, every session ends, and this browser gets a fresh one.
pub(crate) fn finish_password_change(
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
    if !state.store().password_change_complete(id, user.id)? {
        return Err(ApiError::AlreadyAnswered);
    }
    let ip = peer.to_string();
    state.audit(
        Some(&user.username),
        "password_changed",
        &format!(
            "change {}: approved on the phone; all sessions ended",
            redact(id)
        ),
        Some(&ip),
    );
    issue(state, user, "after a password change", &ip)
}
