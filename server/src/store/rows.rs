//! Row mappings between SQLite and the store's records.

use cityauth_protocol::wire::{Challenge, ChallengeKind, SignedChallenge};
use rusqlite::Row;

use super::*;

pub(super) const USER_COLUMNS: &str =
    "id, username, display_name, password_hash, blocked, session_generation, directory_id";

pub(super) fn user_from(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
        password_hash: row.get(3)?,
        blocked: row.get(4)?,
        session_generation: row.get(5)?,
        directory_id: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
    })
}

pub(super) const DEVICE_COLUMNS: &str =
    "id, user_id, public_key, name, platform, push_token, created_at, oath_secret";

pub(super) fn device_from(row: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        device: NewDevice {
            id: row.get(0)?,
            public_key: row.get(2)?,
            name: row.get(3)?,
            platform: row.get(4)?,
            push_token: row.get(5)?,
            created_at: row.get::<_, i64>(6)? as u64,
            oath_secret: row.get(7)?,
        },
        user_id: row.get(1)?,
    })
}

pub(super) const CHALLENGE_COLUMNS: &str = "body, signature, flow_id, number, state";
/// How many columns [`CHALLENGE_COLUMNS`] names.
pub(super) const CHALLENGE_COLUMN_COUNT: usize = 5;

pub(super) fn challenge_from(row: &Row<'_>) -> rusqlite::Result<StoredChallenge> {
    let body: String = row.get(0)?;
    let challenge: Challenge = serde_json::from_str(&body).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(StoredChallenge {
        signed: SignedChallenge {
            challenge,
            signature: row.get(1)?,
        },
        flow_id: row.get(2)?,
        number: row.get(3)?,
        state: ChallengeState::parse(&row.get::<_, String>(4)?),
    })
}

/// A flow's kind from its stored name (both stores write the same names; the column's
/// default, for rows older than it, is a reset's). A name this server does not know is
/// `None`, never taken for another kind: a flow of one kind must not complete another.
pub(super) fn flow_kind(name: &str) -> Option<ChallengeKind> {
    Some(match name {
        "password_reset" => ChallengeKind::PasswordReset,
        "sign_in" => ChallengeKind::SignIn,
        "password_change" => ChallengeKind::PasswordChange,
        "add_device" => ChallengeKind::AddDevice,
        "caller_verification" => ChallengeKind::CallerVerification,
        _ => return None,
    })
}

pub(super) fn flow_from(row: &Row<'_>) -> rusqlite::Result<Flow> {
    let name = row.get::<_, String>(9)?;
    let kind = flow_kind(&name).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            9,
            rusqlite::types::Type::Text,
            format!("unknown flow kind {name:?}").into(),
        )
    })?;
    Ok(Flow {
        kind,
        id: row.get(0)?,
        username: row.get(1)?,
        user_id: row.get(2)?,
        number: row.get(3)?,
        state: FlowState::parse(&row.get::<_, String>(4)?),
        code_tries: row.get(5)?,
        client_ip: row.get(6)?,
        created_at: row.get::<_, i64>(7)? as u64,
        expires_at: row.get::<_, i64>(8)? as u64,
    })
}

/// SQLite stores integers as i64; our times fit.
pub(super) fn t(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
