//! A reset found claimed: the claim records the password it writes, sealed; a resubmission
//! asks the directory whether that password is in effect before anything is written again.

use std::net::IpAddr;

use super::find;
use crate::directory::PasswordCheck;
use crate::error::ApiError;
use crate::limits;
use crate::notify::Notice;
use crate::state::AppState;
use crate::store::{CLAIM_SECONDS, Flow, FlowState};
use crate::util::{now, redact};

/// What follows a reset's new password in effect and its flow finished: the owner proven
/// (both failure counts start afresh), the notice mailed, the audit row (`detail` says
/// how; never the password).
pub(super) fn completed(
    state: &AppState,
    peer: IpAddr,
    user: &crate::store::User,
    id: &str,
    detail: &str,
) -> Result<(), ApiError> {
    limits::owner_proven(state, user, peer)?;
    state.metrics().resets_completed.inc();
    state.notify(user, Notice::PasswordReset);
    state.audit(
        Some(&user.username),
        "password_reset",
        &format!("reset {}: {detail}", redact(id)),
        Some(&peer.to_string()),
    );
    Ok(())
}

/// Why reset `id` could not be claimed (it was found verified, or its claim stale): taken
/// by another request meanwhile ([`ApiError::PasswordBeingSet`]), done, or expired.
fn claim_refused(state: &AppState, id: &str) -> ApiError {
    match find(state, id) {
        Ok(flow) if flow.state == FlowState::Claimed && now() < flow.expires_at => {
            ApiError::PasswordBeingSet
        }
        Ok(flow) => crate::api::require_verified(&flow)
            .err()
            .unwrap_or(ApiError::AlreadyAnswered),
        Err(error) => error,
    }
}

/// Settles reset `flow` if it was found claimed by another request ([`Claimed::Released`]
/// for any other state), before this request sets a password or unlocks. The claim
/// recorded the new password it writes, sealed: if the directory says that password is in
/// effect now, the earlier write took (its request
/// stopped before finishing the flow, or has not finished it yet): the flow is finished
/// as a written one is (done, every session ended, the notice mailed, audited as completed
/// after an interrupted write) and the answer is [`Claimed::Done`], nothing written again.
/// If it is not in effect: [`ApiError::PasswordBeingSet`] while the claim is younger than
/// [`CLAIM_SECONDS`] (its write may still land), [`Claimed::Stale`] once older (its
/// process stopped: the caller may take the claim over, conditionally, and write as
/// usual). A claim that recorded no password (an unlock's, or an older server's) is judged
/// by its age alone. A directory that cannot be asked is its error, nothing changed; a
/// recorded password that does not open is an internal error (never shown), nothing
/// changed.
///
/// The check binds as the account with the recorded password, so a wrong one counts as a
/// failed sign-in in the directory (Active Directory's `badPwdCount`, ppolicy's failure
/// count): it is made only here, when a claimed reset is found, never on the normal path
/// nor on a status poll.
pub(super) async fn settle_claimed(
    state: &AppState,
    peer: IpAddr,
    flow: &Flow,
    found: &crate::api::directory::Found,
) -> Result<Claimed, ApiError> {
    if flow.state != FlowState::Claimed {
        return Ok(Claimed::Released);
    }
    let user = &found.user;
    let Some(claim) = state.store().reset_claim(&flow.id, user.id)? else {
        // Finished or given back meanwhile: the caller's claim decides.
        return Ok(Claimed::Released);
    };
    if let Some(sealed) = &claim.sealed {
        let recorded = crate::api::sealed::open_reset(state.kek(), &flow.id, sealed)?;
        let check = state
            .directory()
            .check_password(&found.account, &recorded)
            .await
            .map_err(|e| crate::api::directory::api_error(state, e));
        drop(recorded);
        // `MustChange`: the password is right (a directory may ask for a change after an
        // administrator's reset). `Locked` says nothing of the password; a write that took
        // lifted the lockout, so it is taken as not in effect.
        if matches!(check?, PasswordCheck::Correct | PasswordCheck::MustChange) {
            if !state.store().flow_finish(&flow.id, user.id)? {
                // The writing request finished it meanwhile (then it is done), or gave it
                // back (refused: then the password would not have been in effect).
                return match claim_refused(state, &flow.id) {
                    ApiError::AlreadyAnswered if is_done(state, &flow.id) => Ok(Claimed::Done),
                    error => Err(error),
                };
            }
            completed(
                state,
                peer,
                user,
                &flow.id,
                "completed after an interrupted write: the password the reset's claim \
                 wrote (a request cut by a stopped server, or one still answering) is in \
                 effect in the directory; nothing written again; all sessions ended",
            )?;
            return Ok(Claimed::Done);
        }
    }
    if claim.claimed_at > now().saturating_sub(CLAIM_SECONDS) {
        return Err(ApiError::PasswordBeingSet);
    }
    Ok(Claimed::Stale)
}

/// What [`settle_claimed`] found of a reset's claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Claimed {
    /// The password it recorded is in effect: the reset is done now (or was finished by
    /// the request that wrote it); answer done.
    Done,
    /// Older than [`CLAIM_SECONDS`], its password not in effect: its process stopped
    /// before writing; the caller may take it over.
    Stale,
    /// No longer claimed (finished or given back meanwhile): the caller's claim decides.
    Released,
}

/// Claims reset `id` for this request, which is to `what` (recording `sealed`, the
/// sealed password it writes, if any), once [`settle_claimed`] found it `settled`; a
/// stale claim taken over is audited. The refusal, when the claim cannot be taken, says
/// why ([`claim_refused`]).
pub(super) fn take_claim(
    state: &AppState,
    user: &crate::store::User,
    id: &str,
    ip: &str,
    settled: Claimed,
    sealed: Option<&[u8]>,
    what: &str,
) -> Result<(), ApiError> {
    if !state.store().flow_claim(id, user.id, now(), sealed)? {
        return Err(claim_refused(state, id));
    }
    if settled == Claimed::Stale {
        audit_takeover(state, user, id, ip, what);
    }
    Ok(())
}

/// Audits the takeover of a stale claim on reset `id` (once this request holds it).
fn audit_takeover(state: &AppState, user: &crate::store::User, id: &str, ip: &str, what: &str) {
    state.audit(
        Some(&user.username),
        "reset_claim_taken_over",
        &format!(
            "reset {}: a claim older than {CLAIM_SECONDS} s whose password is not in effect \
             (its server stopped before the write) taken over to {what}",
            redact(id)
        ),
        Some(ip),
    );
}

/// Whether reset `id` is done.
fn is_done(state: &AppState, id: &str) -> bool {
    find(state, id).is_ok_and(|flow| flow.state == FlowState::Done)
}
