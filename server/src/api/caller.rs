//! Caller verification for the help desk: a prompt on the employee's phones that the
//! caller answers by typing the number the operator reads out, and the check that a
//! verification was approved, is the operator's own, and is recent.

use std::net::IpAddr;

use cityauth_protocol::wire::{ChallengeKind, ResetStatus};

use crate::challenges::{Origin, send_for_flow};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{FlowState, User};
use crate::util::{now, redact};

/// A verification sent to the employee's phones: its id and the number the operator reads.
pub struct CallerCheck {
    /// The verification (a flow) id.
    pub id: String,
    /// The number the caller must type on the phone.
    pub number: String,
}

/// Sends the prompt "The help desk is verifying you" to `employee`'s phones on behalf of
/// `operator`; [`ApiError::NotFound`] when the employee has no phone to verify with.
pub(crate) fn start_caller_check(
    state: &AppState,
    operator: &User,
    employee: &User,
    peer: IpAddr,
) -> Result<CallerCheck, ApiError> {
    if state.store().devices_of(employee.id)?.is_empty() {
        return Err(ApiError::NotFound);
    }
    let ip = peer.to_string();
    let flow = super::new_flow(
        state,
        ChallengeKind::CallerVerification,
        &employee.username,
        Some(employee.id),
        &ip,
        // The call's length, roughly (the prompt itself expires with the challenge lifetime).
        state.config().helpdesk.verification_seconds,
    )?;
    state.store().flow_insert(&flow)?;
    state
        .store()
        .caller_check_insert(&flow.id, operator.id, employee.id)?;
    let origin = Origin {
        kind: ChallengeKind::CallerVerification,
        application: "City help desk".into(),
        client_ip: peer,
    };
    let sent = send_for_flow(state, Some(employee), &flow, &origin)?;
    state.audit(
        Some(&employee.username),
        "caller_verification_started",
        &format!(
            "verification {} by operator {}: {sent} push(es)",
            redact(&flow.id),
            operator.username
        ),
        Some(&ip),
    );
    Ok(CallerCheck {
        id: flow.id,
        number: flow.number,
    })
}

/// The verification's state (`pending`, `verified`, `denied`, `expired`) for the operator
/// who started it; any other asker gets [`ApiError::NotFound`].
pub(crate) fn caller_check_status(
    state: &AppState,
    operator: &User,
    id: &str,
) -> Result<ResetStatus, ApiError> {
    match state.store().caller_check(id)? {
        Some((operator_id, _)) if operator_id == operator.id => {
            super::flow_status(state, id, ChallengeKind::CallerVerification)
        }
        _ => Err(ApiError::NotFound),
    }
}

/// Whether `id` is a verification of `employee` that `operator` started and the caller
/// approved on the phone, within `helpdesk.verification_seconds` (15 minutes) of its prompt.
pub(crate) fn caller_verified(
    state: &AppState,
    operator: &User,
    employee: &User,
    id: &str,
) -> Result<bool, ApiError> {
    if id.is_empty() {
        return Ok(false);
    }
    let Some((operator_id, user_id)) = state.store().caller_check(id)? else {
        return Ok(false);
    };
    if operator_id != operator.id || user_id != employee.id {
        return Ok(false);
    }
    let flow = match super::find_flow(state, id, ChallengeKind::CallerVerification) {
        Ok(flow) => flow,
        Err(ApiError::NotFound) => return Ok(false),
        Err(e) => return Err(e),
    };
    Ok(flow.state == FlowState::Verified && now() < flow.expires_at)
}
