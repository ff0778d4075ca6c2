//! Row mappings between PostgreSQL and the store's records.

use ::postgres::Row;
use cityauth_protocol::wire::{Challenge, SignedChallenge};

use super::super::*;

/// A user from `id, username, display_name, password_hash, blocked, session_generation,
/// directory_id`.
pub(super) fn user_from(row: &Row) -> StoreResult<User> {
    Ok(User {
        id: row.try_get(0)?,
        username: row.try_get(1)?,
        display_name: row.try_get(2)?,
        password_hash: row.try_get(3)?,
        blocked: row.try_get(4)?,
        session_generation: row.try_get(5)?,
        directory_id: row.try_get::<_, Option<String>>(6)?.unwrap_or_default(),
    })
}

/// A device from `id, user_id, public_key, name, platform, push_token, created_at,
/// oath_secret`.
pub(super) fn device_from(row: &Row) -> StoreResult<Device> {
    Ok(Device {
        device: NewDevice {
            id: row.try_get(0)?,
            public_key: row.try_get(2)?,
            name: row.try_get(3)?,
            platform: row.try_get(4)?,
            push_token: row.try_get(5)?,
            created_at: u(row.try_get(6)?),
            oath_secret: row.try_get(7)?,
        },
        user_id: row.try_get(1)?,
    })
}

/// A challenge from `body, signature, flow_id, number, state`; a body that is not a challenge is corruption.
pub(super) fn challenge_from(row: &Row) -> StoreResult<StoredChallenge> {
    let body: String = row.try_get(0)?;
    let challenge: Challenge = serde_json::from_str(&body)
        .map_err(|_| StoreError::Unsupported("a stored challenge is not valid JSON"))?;
    Ok(StoredChallenge {
        signed: SignedChallenge {
            challenge,
            signature: row.try_get(1)?,
        },
        flow_id: row.try_get(2)?,
        number: row.try_get(3)?,
        state: ChallengeState::parse(row.try_get(4)?),
    })
}

/// A flow from `id, username, user_id, number, state, code_tries, client_ip, created_at,
/// expires_at, kind`.
pub(super) fn flow_from(row: &Row) -> StoreResult<Flow> {
    let name: &str = row.try_get(9)?;
    let kind = super::super::rows::flow_kind(name).ok_or(StoreError::Malformed(
        "a flow of a kind this server does not know",
    ))?;
    Ok(Flow {
        kind,
        id: row.try_get(0)?,
        username: row.try_get(1)?,
        user_id: row.try_get(2)?,
        number: row.try_get(3)?,
        state: FlowState::parse(row.try_get(4)?),
        code_tries: u32::try_from(row.try_get::<_, i64>(5)?).unwrap_or(u32::MAX),
        client_ip: row.try_get(6)?,
        created_at: u(row.try_get(7)?),
        expires_at: u(row.try_get(8)?),
    })
}

/// A stored time or count back to the record's unsigned type (never negative when written).
pub(super) fn u(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(super) use super::super::rows::t;
