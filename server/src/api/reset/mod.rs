//! Self-service password reset (`docs/protocol.md`, section 6).

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use cityauth_protocol::wire::{
    ChallengeKind, ResetCodeRequest, ResetPasswordRequest, ResetStartRequest, ResetStartResponse,
    ResetStatus,
};

use super::directory::Settled;
use crate::challenges::{self, Origin};
use crate::error::ApiError;
use crate::limits::{self, Action, Attempt, ClientKey, fields};
use crate::state::AppState;
use crate::store::{Factor, Flow, FlowState};
use crate::util::{now, redact};
use zeroize::Zeroizing;

mod claim;

use claim::{Claimed, completed, settle_claimed, take_claim};

/// How long a reset lives: time to approve (or type a code) and set the new password.
pub const RESET_LIFETIME: u64 = 600;

/// Starts a reset; the same answer, after the same work, for unknown names.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<ResetStartResponse>, ApiError> {
    start_reset(&state, peer.ip(), super::parse(&body)?)
        .await
        .map(Json)
}

/// The reset start, for the API and the portal. A name the directory does not know, a
/// disabled account, one outside the self-service scope and a protected one get the same
/// answer after the same work (a flow with no account, which no phone is asked about and
/// nothing verifies); the audit row says which. The answer goes once the flow is stored:
/// the pushes (the cap, the signed challenges, their rows, the delivery) and the audit row
/// follow behind it ([`push_behind`]), so that its time does not tell a real account, or
/// one with phones, from an unknown name.
pub(crate) async fn start_reset(
    state: &AppState,
    peer: IpAddr,
    request: ResetStartRequest,
) -> Result<ResetStartResponse, ApiError> {
    let username = fields::username(&request.username)?;
    let ip = peer.to_string();
    limits::rate(
        state,
        Action::ResetStart,
        &fields::username_key(username),
        ClientKey::of(peer),
    )?;
    let found = super::directory::look_up(state, username).await?;
    let protected = found.as_ref().is_some_and(|f| f.account.protected);
    let user = found.filter(|f| !f.account.protected).map(|f| f.user);
    let flow = super::new_flow(
        state,
        ChallengeKind::PasswordReset,
        username,
        user.as_ref().map(|u| u.id),
        &ip,
        RESET_LIFETIME,
    )?;
    // Stored before the answer: the browser asks about it (status, the code) at once.
    state.store().flow_insert(&flow)?;
    let answer = ResetStartResponse {
        reset_id: flow.id.clone(),
        number: flow.number.clone(),
        expires_at: super::challenge_deadline(state, flow.created_at),
    };
    state.metrics().resets_started.inc();
    let origin = Origin {
        kind: ChallengeKind::PasswordReset,
        application: "City password reset".into(),
        client_ip: peer,
    };
    let username = username.to_owned();
    state
        .behind_answer(move |state| push_behind(state, &username, user, protected, &flow, &origin));
    Ok(answer)
}

/// A started reset's pushes, behind its answer: the challenges prepared (an unknown name's
/// throwaway one included, so that its task costs about what a real one does), stored,
/// then pushed, so that a phone woken by the push finds its challenge; then the reset's
/// audit row, which says how many went. A store failure is logged and audited, never
/// raised: the employee still has the code alternative.
fn push_behind(
    state: &AppState,
    username: &str,
    user: Option<crate::store::User>,
    protected: bool,
    flow: &Flow,
    origin: &Origin,
) {
    let id = redact(&flow.id);
    let detail = match challenges::send_for_flow(state, user.as_ref(), flow, origin) {
        Err(error) => {
            tracing::error!(%error, reset = %id, "a reset's pushes could not be sent");
            format!(
                "reset {id}: the pushes could not be stored or sent (see the server log); \
                 the code alternative still works"
            )
        }
        Ok(sent) if user.is_some() => format!("reset {id}: {sent} push(es)"),
        Ok(_) if protected => {
            format!("reset {id}: a protected account, never reset through self-service; no push")
        }
        Ok(_) => format!("reset {id}: unknown username (or disabled, or outside the scope)"),
    };
    state.audit(
        Some(username),
        "reset_start",
        &detail,
        Some(&flow.client_ip),
    );
}

fn find(state: &AppState, id: &str) -> Result<Flow, ApiError> {
    super::find_flow(state, id, ChallengeKind::PasswordReset)
}

/// `GET /api/v1/reset/{id}`.
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ResetStatus>, ApiError> {
    reset_status(&state, &id).map(Json)
}

/// A reset's state as the browser sees it.
pub(crate) fn reset_status(state: &AppState, id: &str) -> Result<ResetStatus, ApiError> {
    super::flow_status(state, id, ChallengeKind::PasswordReset)
}

/// `POST /api/v1/reset/{id}/code`: the alternative to the push, at most 5 tries.
pub async fn code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ResetStatus>, ApiError> {
    check_code(&state, peer.ip(), &id, super::parse(&body)?).map(Json)
}

/// The code alternative, for the API and the portal.
pub(crate) fn check_code(
    state: &AppState,
    peer: IpAddr,
    id: &str,
    request: ResetCodeRequest,
) -> Result<ResetStatus, ApiError> {
    let state = state.clone();
    let ip = peer.to_string();
    fields::id("reset id", id)?;
    let code = fields::code(&request.code)?;
    let client = ClientKey::of(peer);
    let flow = find(&state, id)?;
    let key = fields::username_key(&flow.username);
    limits::rate(&state, Action::Code, &key, client)?;
    let code_tries = state.config().limits.code_tries;
    let now = now();
    if now >= flow.expires_at {
        return Err(ApiError::Expired);
    }
    if flow.code_tries >= code_tries {
        return Err(ApiError::Locked);
    }
    if flow.state != FlowState::Pending {
        return Err(ApiError::AlreadyAnswered);
    }
    let store = state.store();
    let user = match flow.user_id {
        Some(user_id) => store.user_by_id(user_id)?,
        None => None,
    };
    // The codes' lockout: per (username, client), then per account; unknown names (whose
    // resets never verify) are counted and locked alike, so the answers are the same.
    let attempt = Attempt {
        factor: Factor::Code,
        name: &key,
        client,
    };
    limits::check(&state, &attempt)?;
    if store.flow_code_try(id)? > code_tries {
        return Err(ApiError::Locked);
    }
    // The code is checked against each current device's own seed. An unknown or blocked
    // account, or one with no seed, checks against a throwaway seed: same work, no match.
    let accepted = match user.as_ref().filter(|u| !u.blocked) {
        Some(user) => device_code_matches(&state, user.id, code, now)?,
        None => {
            let _ = crate::totp::matching_step(&[0u8; 20], code, now);
            false
        }
    };
    if accepted && store.flow_transition(id, FlowState::Pending, FlowState::Verified)? {
        store.challenges_cancel_flow(id)?;
        if let Some(user) = &user {
            limits::succeeded(&state, user, client, &[Factor::Code])?;
        }
        state.audit(
            Some(&flow.username),
            "reset_code_accepted",
            &format!("reset {}", redact(id)),
            Some(&ip),
        );
        return Ok(ResetStatus {
            state: "verified".into(),
        });
    }
    limits::failed(&state, &attempt)?;
    state.audit(
        Some(&flow.username),
        "reset_code_wrong",
        &format!("reset {}", redact(id)),
        Some(&ip),
    );
    Err(ApiError::WrongCode)
}

/// True if `code` is the current code of one of `user_id`'s devices' OATH seeds, accepted
/// once (its step is recorded for that device). A removed device's seed is gone with it.
fn device_code_matches(
    state: &AppState,
    user_id: i64,
    code: &str,
    now: u64,
) -> Result<bool, ApiError> {
    let store = state.store();
    let mut checked = false;
    for device in store.devices_of(user_id)? {
        let Some(sealed) = &device.device.oath_secret else {
            continue;
        };
        let aad = crate::kek::oath_seed_aad(&device.device.id);
        let seed = state
            .kek()
            .open(&aad, sealed)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        checked = true;
        if let Some(step) = crate::totp::matching_step(&seed, code, now)
            && store.device_oath_use(&device.device.id, step)?
        {
            crate::challenges::used(state, &device.device.id);
            return Ok(true);
        }
    }
    if !checked {
        let _ = crate::totp::matching_step(&[0u8; 20], code, now);
    }
    Ok(false)
}

/// `POST /api/v1/reset/{id}/password`: the new password, once verified.
pub async fn password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ResetStatus>, ApiError> {
    set_password(&state, peer.ip(), &id, super::parse(&body)?)
        .await
        .map(Json)
}

/// The new password of a verified reset, for the API and the portal. Checked against our
/// rules and the directory's policy; then the flow is claimed (so two submits cannot both
/// write), recording the new password sealed in the same update, the directory writes the
/// password, and the flow is done with every session ended. If the directory refuses or
/// cannot be reached, the flow is verified again (its sealed password erased): the
/// employee reads the sentence and retries until the reset expires.
///
/// A reset found claimed (another request is writing, or a server stopped mid-write) is
/// settled first (`settle_claimed`): done, with nothing written, if the password its
/// claim recorded is in effect in the directory; `409` [`ApiError::PasswordBeingSet`]
/// while the claim is younger than [`CLAIM_SECONDS`](crate::store::CLAIM_SECONDS); taken over and this password
/// written once it is older. No reset writes the directory twice.
pub(crate) async fn set_password(
    state: &AppState,
    peer: IpAddr,
    id: &str,
    request: ResetPasswordRequest,
) -> Result<ResetStatus, ApiError> {
    let new = Zeroizing::new(request.password);
    fields::password(&new)?;
    let ip = peer.to_string();
    let (flow, found) = verified_account(state, id)
        .await
        .inspect_err(|e| audit_unreachable(state, id, e, &ip))?;
    let user = &found.user;
    let settled = settle_claimed(state, peer, &flow, &found).await?;
    if settled == Claimed::Done {
        return Ok(done());
    }
    super::policy::check_new_password(state, &found.account, &new).await?;
    let sealed = super::sealed::seal_reset(state.kek(), &flow.id, &new)?;
    let what = "write this request's password";
    take_claim(state, user, &flow.id, &ip, settled, Some(&sealed), what)?;
    let written = state.directory().set_password(&found.account, &new).await;
    drop(new);
    let settled = super::directory::after_write(
        state,
        &flow,
        user,
        written,
        &ip,
        super::directory::OnRefusal::Retry,
    )?;
    match settled {
        Settled::Finished => {
            completed(
                state,
                peer,
                user,
                id,
                "new password set in the directory, all sessions ended",
            )?;
            Ok(done())
        }
        // The resubmission that found this password in effect sent the notice.
        Settled::FinishedMeanwhile => Ok(done()),
        Settled::Failed(error) => Err(error),
    }
}

fn done() -> ResetStatus {
    ResetStatus {
        state: "done".into(),
    }
}

/// A verified reset's flow and its account as the directory has it now; a reset whose
/// account is gone, disabled, out of scope or protected cannot complete.
async fn verified_account(
    state: &AppState,
    id: &str,
) -> Result<(Flow, super::directory::Found), ApiError> {
    let flow = find(state, id)?;
    super::require_verified(&flow)?;
    let user = match flow.user_id {
        Some(user_id) => state.store().user_by_id(user_id)?,
        None => None,
    }
    .ok_or(ApiError::NotVerified)?;
    let found = super::directory::account_of(state, &user)
        .await?
        .filter(|f| !f.account.protected)
        .ok_or(ApiError::NotVerified)?;
    Ok((flow, found))
}

/// Audits a verified reset the directory could not be asked about (before any claim or
/// write: nothing changed, the reset stays verified), so that the audit trail shows every
/// attempt and not only those that reached the write.
fn audit_unreachable(state: &AppState, id: &str, error: &ApiError, ip: &str) {
    if !matches!(error, ApiError::DirectoryUnavailable(_)) {
        return;
    }
    let username = find(state, id).ok().map(|flow| flow.username);
    state.audit(
        username.as_deref(),
        "directory_unavailable",
        &format!(
            "reset {}: the directory could not be reached to look the account up; nothing \
             changed (still verified)",
            redact(id)
        ),
        Some(ip),
    );
}

/// Whether the account of verified reset `id` is locked out by the directory now (false
/// when that cannot be told: the page then offers the unlock all the same).
pub(crate) async fn reset_locked(state: &AppState, id: &str) -> bool {
    verified_account(state, id)
        .await
        .is_ok_and(|(_, found)| found.account.locked)
}

/// `POST /api/v1/reset/{id}/unlock`: unlocks the account of a verified reset.
pub async fn unlock_handler(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<Json<ResetStatus>, ApiError> {
    unlock(&state, peer.ip(), &id).await.map(Json)
}

/// Lifts the directory's lockout of a verified reset's account without changing its
/// password ("Unlock my account"): the reset is then done (it cannot also set a password);
/// sessions are kept, since the password did not change.
pub(crate) async fn unlock(
    state: &AppState,
    peer: IpAddr,
    id: &str,
) -> Result<ResetStatus, ApiError> {
    let ip = peer.to_string();
    let (flow, found) = verified_account(state, id)
        .await
        .inspect_err(|e| audit_unreachable(state, id, e, &ip))?;
    let user = &found.user;
    // A reset claimed by a password write: that write, if it took, completed the reset
    // (and lifted the lockout); if its claim is stale, the unlock takes it over.
    let settled = settle_claimed(state, peer, &flow, &found).await?;
    if settled == Claimed::Done {
        return Ok(done());
    }
    // An unlock records no password: nothing to check if it is cut.
    take_claim(
        state,
        user,
        &flow.id,
        &ip,
        settled,
        None,
        "unlock the account",
    )?;
    match state.directory().unlock(&found.account).await {
        Ok(()) => {
            state
                .store()
                .flow_transition(&flow.id, FlowState::Claimed, FlowState::Done)?;
            limits::owner_proven(state, user, peer)?;
            state.audit(
                Some(&user.username),
                "account_unlocked",
                &format!(
                    "reset {}: unlocked in the directory, password unchanged",
                    redact(id)
                ),
                Some(&ip),
            );
            Ok(done())
        }
        Err(error) => {
            state.store().flow_unclaim(&flow.id)?;
            state.audit(
                Some(&user.username),
                "account_unlock_failed",
                &format!("reset {}: {error}; still verified", redact(id)),
                Some(&ip),
            );
            Err(super::directory::api_error(state, error))
        }
    }
}
