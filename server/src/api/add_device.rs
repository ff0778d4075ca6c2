//! Adding a phone to an account that has one: an existing phone approves (number
//! matching, as for a sign-in) before the new phone's enrollment code is minted.

use std::net::IpAddr;

use cityauth_protocol::wire::{ChallengeKind, ResetStatus};

use crate::challenges::{Origin, send_for_flow};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{FlowState, User};
use crate::util::redact;

/// How long the approval may take, seconds.
const ADD_DEVICE_LIFETIME: u64 = 600;

/// An add-phone flow waiting for the phone: its id and the number to type there.
#[derive(Debug)]
pub(crate) struct AddStarted {
    /// The flow.
    pub id: String,
    /// The number the browser shows.
    pub number: String,
}

/// Asks `user`'s phones to approve adding another.
pub(crate) fn start_add_device(
    state: &AppState,
    peer: IpAddr,
    user: &User,
) -> Result<AddStarted, ApiError> {
    let ip = peer.to_string();
    if user.blocked {
        state.audit(
            Some(&user.username),
            "add_device_blocked",
            "fraud block",
            Some(&ip),
        );
        return Err(ApiError::Blocked);
    }
    let flow = super::new_flow(
        state,
        ChallengeKind::AddDevice,
        &user.username,
        Some(user.id),
        &ip,
        ADD_DEVICE_LIFETIME,
    )?;
    state.store().flow_insert(&flow)?;
    let origin = Origin {
        kind: ChallengeKind::AddDevice,
        application: "City portal: add a phone".into(),
        client_ip: peer,
    };
    let sent = send_for_flow(state, Some(user), &flow, &origin)?;
    state.audit(
        Some(&user.username),
        "add_device_start",
        &format!("add {}: {sent} push(es)", redact(&flow.id)),
        Some(&ip),
    );
    Ok(AddStarted {
        id: flow.id,
        number: flow.number,
    })
}

/// An add-phone flow's state as the browser sees it.
pub(crate) fn add_device_status(state: &AppState, id: &str) -> Result<ResetStatus, ApiError> {
    super::flow_status(state, id, ChallengeKind::AddDevice)
}

/// Completes `user`'s add-phone flow `id` once a phone approved it: the flow is done and
/// a single-use enrollment link is minted for the new phone.
pub(crate) fn finish_add_device(
    state: &AppState,
    peer: IpAddr,
    user: &User,
    id: &str,
) -> Result<String, ApiError> {
    let flow = super::find_flow(state, id, ChallengeKind::AddDevice)?;
    if flow.user_id != Some(user.id) {
        return Err(ApiError::NotFound);
    }
    super::require_verified(&flow)?;
    if !state
        .store()
        .flow_transition(id, FlowState::Verified, FlowState::Done)?
    {
        return Err(ApiError::AlreadyAnswered);
    }
    state.audit(
        Some(&user.username),
        "add_device_approved",
        &format!("add {}: approved on a phone", redact(id)),
        Some(&peer.to_string()),
    );
    crate::admin::enrollment_link(state, &user.username).map_err(|e| match e {
        crate::admin::AdminError::Api(e) => e,
        other => ApiError::Internal(other.to_string()),
    })
}
