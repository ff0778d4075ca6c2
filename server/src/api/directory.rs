//! The server's side of the directory: an account found there and its local row (made on
//! first sight, found by the stable id, its names refreshed on each look-up), directory
//! failures as API errors, and a claimed flow settled after the directory's write.

use crate::directory::{Account, DirectoryError, DirectoryId, DirectoryKind};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::User;
use crate::util::now;

/// An account as the directory has it now, with its local row.
pub(crate) struct Found {
    /// The directory's account.
    pub account: Account,
    /// Its local row (devices, flows, sessions and audit hang off it).
    pub user: User,
}

/// A directory failure as the API answers it: an unreachable directory (or a service
/// account it refuses) is `503` with nothing changed; a refusal is its sentence; the rest
/// is internal (logged, never sent). An unreachable directory is counted in the metrics.
pub(crate) fn api_error(state: &AppState, error: DirectoryError) -> ApiError {
    if matches!(
        error,
        DirectoryError::Unavailable(_) | DirectoryError::ServiceAccount(_)
    ) {
        state.metrics().directory_errors.inc();
    }
    match error {
        DirectoryError::Unavailable(why) => ApiError::DirectoryUnavailable(why),
        DirectoryError::ServiceAccount(why) => {
            ApiError::DirectoryUnavailable(format!("service account: {why}"))
        }
        DirectoryError::Refused(refusal) => ApiError::DirectoryRefused(refusal.sentence()),
        DirectoryError::Protected | DirectoryError::NotFound => ApiError::NotVerified,
        other => ApiError::Internal(other.to_string()),
    }
}

/// The local row of `account`, made or refreshed.
pub(crate) fn row_of(state: &AppState, account: &Account) -> Result<User, ApiError> {
    Ok(state.store().user_for_account(
        account.id.as_str(),
        &account.username,
        &account.display_name,
        now(),
    )?)
}

/// A stable id no directory gives (the built-in one's have a prefix, LDAP's are GUIDs or
/// DNs): what an unknown name's look-up reads, to cost the read a real account's row does.
const NO_ACCOUNT: &str = "(no account)";

/// The account named `username` in the directory, with its local row; `None` for a name
/// the directory does not know, a disabled account and one outside the self-service scope
/// alike. Either way the store is read once for the row (an unknown name's read finds
/// nothing), so that the look-up's time does not tell them apart.
pub(crate) async fn look_up(state: &AppState, username: &str) -> Result<Option<Found>, ApiError> {
    let Some(account) = state
        .directory()
        .find(username)
        .await
        .map_err(|e| api_error(state, e))?
    else {
        state.store().user_by_directory_id(NO_ACCOUNT)?;
        return Ok(None);
    };
    let user = row_of(state, &account)?;
    Ok(Some(Found { account, user }))
}

/// The directory account of a local row, as it is now (its row refreshed: a rename shows);
/// `None` if it is gone, disabled or out of scope.
pub(crate) async fn account_of(state: &AppState, user: &User) -> Result<Option<Found>, ApiError> {
    let id = DirectoryId(user.directory_id.clone());
    let Some(account) = state
        .directory()
        .by_id(&id)
        .await
        .map_err(|e| api_error(state, e))?
    else {
        return Ok(None);
    };
    let user = row_of(state, &account)?;
    Ok(Some(Found { account, user }))
}

/// Whether the built-in store is the directory (its unknown names verify against a dummy
/// hash, to cost what a real one costs).
pub(crate) fn is_builtin(state: &AppState) -> bool {
    state.directory().kind() == DirectoryKind::BuiltIn
}

/// What a refusal leaves of a claimed flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnRefusal {
    /// Verified again: the employee chooses another password in the same reset.
    Retry,
    /// Ended (a change's sealed new password cannot be chosen again in it).
    End,
}

/// What the directory's write left of a claimed flow.
#[derive(Debug)]
pub(crate) enum Settled {
    /// Written, and the flow finished here: done, every session of the user ended.
    Finished,
    /// Written, and the flow finished meanwhile by another request for it (a resubmission
    /// that found this write's password in effect, and sent the notice and wrote the audit
    /// row): this request only answers done.
    FinishedMeanwhile,
    /// Not written: the error to answer with (the flow verified again or ended).
    Failed(ApiError),
}

/// Settles a claimed flow after the directory's write: [`Settled::Finished`] when it was
/// written (the flow is done and every session of the user ended, in one transaction), or
/// [`Settled::FinishedMeanwhile`] if another request finished it first; otherwise the
/// error to answer with, the flow verified again (a refusal, per `on_refusal`, or an
/// unreachable directory: nothing was changed, retry works) or ended (the account is gone
/// or protected). The audit row says what happened. An internal error if the write was
/// made but the flow was neither still claimed nor done (a claim taken over from a write
/// that outlived [`crate::store::CLAIM_SECONDS`]).
pub(crate) fn after_write(
    state: &AppState,
    flow: &crate::store::Flow,
    user: &User,
    written: Result<(), DirectoryError>,
    ip: &str,
    on_refusal: OnRefusal,
) -> Result<Settled, ApiError> {
    let what = format!("{} {}", kind_word(flow), crate::util::redact(&flow.id));
    let (event, detail, retry) = match &written {
        Ok(()) => {
            if state.store().flow_finish(&flow.id, user.id)? {
                return Ok(Settled::Finished);
            }
            let now_done = state
                .store()
                .flow(&flow.id)?
                .is_some_and(|f| f.state == crate::store::FlowState::Done);
            if now_done {
                return Ok(Settled::FinishedMeanwhile);
            }
            return Err(ApiError::Internal(
                "a claimed flow was taken meanwhile".into(),
            ));
        }
        Err(DirectoryError::Refused(refusal)) => (
            "directory_refused",
            format!("{what}: {}", refusal.sentence()),
            on_refusal == OnRefusal::Retry,
        ),
        Err(DirectoryError::Unavailable(_) | DirectoryError::ServiceAccount(_)) => (
            "directory_unavailable",
            format!("{what}: the directory could not be reached; nothing changed"),
            true,
        ),
        Err(DirectoryError::Protected | DirectoryError::NotFound) => (
            "directory_refused",
            format!("{what}: the account is gone, out of scope or protected"),
            false,
        ),
        Err(other) => ("directory_failed", format!("{what}: {other}"), true),
    };
    if retry {
        state.store().flow_unclaim(&flow.id)?;
    } else {
        state.store().flow_abandon(&flow.id)?;
    }
    let state_word = if retry { "still verified" } else { "ended" };
    state.audit(
        Some(&user.username),
        event,
        &format!("{detail} ({state_word})"),
        Some(ip),
    );
    match written {
        Ok(()) => Ok(Settled::Finished),
        Err(error) => Ok(Settled::Failed(api_error(state, error))),
    }
}

fn kind_word(flow: &crate::store::Flow) -> &'static str {
    match flow.kind {
        cityauth_protocol::wire::ChallengeKind::PasswordChange => "change",
        _ => "reset",
    }
}
