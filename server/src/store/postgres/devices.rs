//! Enrollment codes, devices with their OATH secrets, push tokens, and request nonces.

use super::super::{Device, NewDevice, StoreResult};
use super::ending;
use super::pool::Conn;
use super::rows::{device_from, t};

/// Stores a single-use enrollment code.
pub(super) fn code_create(
    c: &mut Conn,
    code_hash: &[u8],
    user_id: i64,
    expires_at: u64,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO enrollment_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        &[&code_hash, &user_id, &t(expires_at)],
    )?;
    Ok(())
}

/// Consumes the code (a conditional update: two replicas cannot both) and registers the
/// device, in one transaction.
pub(super) fn enroll(
    c: &mut Conn,
    code_hash: &[u8],
    now: u64,
    device: &NewDevice,
) -> StoreResult<Option<i64>> {
    c.transaction(|c| {
        let Some(row) = c.query_opt(
            "UPDATE enrollment_codes SET used = TRUE
             WHERE code_hash = $1 AND NOT used AND expires_at > $2 RETURNING user_id",
            &[&code_hash, &t(now)],
        )?
        else {
            return Ok(None);
        };
        let user_id: i64 = row.try_get(0)?;
        c.execute(
            "INSERT INTO devices (id, user_id, public_key, name, platform, push_token,
                                  created_at, oath_secret)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &device.id,
                &user_id,
                &device.public_key,
                &device.name,
                &device.platform,
                &device.push_token,
                &t(device.created_at),
                &device.oath_secret,
            ],
        )?;
        Ok(Some(user_id))
    })
}

/// A device by id.
pub(super) fn device(c: &mut Conn, id: &str) -> StoreResult<Option<Device>> {
    c.query_opt(
        "SELECT id, user_id, public_key, name, platform, push_token, created_at, oath_secret
         FROM devices WHERE id = $1",
        &[&id],
    )?
    .map(|row| device_from(&row))
    .transpose()
}

/// A user's devices, oldest first.
pub(super) fn devices_of(c: &mut Conn, user_id: i64) -> StoreResult<Vec<Device>> {
    c.query(
        "SELECT id, user_id, public_key, name, platform, push_token, created_at, oath_secret
         FROM devices WHERE user_id = $1 ORDER BY created_at, id",
        &[&user_id],
    )?
    .iter()
    .map(device_from)
    .collect()
}

/// Clears the push token if it is still `token`.
pub(super) fn push_token_stale(c: &mut Conn, device_id: &str, token: &str) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE devices SET push_token = NULL WHERE id = $1 AND push_token = $2",
        &[&device_id, &token],
    )? == 1)
}

/// Removes a device (and every shared copy of a legacy seed it knew), in one transaction.
pub(super) fn delete(c: &mut Conn, id: &str) -> StoreResult<bool> {
    c.transaction(|c| {
        ending::on_device_removed(c, id)?;
        c.execute("DELETE FROM nonces WHERE device_id = $1", &[&id])?;
        let Some(row) = c.query_opt(
            "DELETE FROM devices WHERE id = $1 RETURNING user_id, oath_shared",
            &[&id],
        )?
        else {
            return Ok(false);
        };
        let (user_id, shared): (i64, bool) = (row.try_get(0)?, row.try_get(1)?);
        if shared {
            c.execute(
                "UPDATE devices SET oath_secret = NULL, oath_shared = FALSE
                 WHERE user_id = $1 AND oath_shared",
                &[&user_id],
            )?;
        }
        Ok(true)
    })
}

/// Records an accepted TOTP step; a conditional update, so a step is accepted once across
/// replicas.
pub(super) fn oath_use(c: &mut Conn, device_id: &str, step: u64) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE devices SET oath_last_step = $2
         WHERE id = $1 AND oath_secret IS NOT NULL AND oath_last_step < $2",
        &[&device_id, &t(step)],
    )? == 1)
}

/// Records a nonce; false if it was seen (the primary key decides, across replicas).
pub(super) fn nonce_use(c: &mut Conn, device_id: &str, nonce: &str, now: u64) -> StoreResult<bool> {
    Ok(c.execute(
        "INSERT INTO nonces (device_id, nonce, seen_at) VALUES ($1, $2, $3)
         ON CONFLICT (device_id, nonce) DO NOTHING",
        &[&device_id, &nonce, &t(now)],
    )? == 1)
}

/// Deletes what can no longer be used: nonces older than twice the replay window, sealed
/// passwords of changes that expired or were denied, and the shared limiter's rows that
/// are back to their resting state.
pub(super) fn sweep_expired(c: &mut Conn, now: u64, window: u64) -> StoreResult<()> {
    c.execute(
        "DELETE FROM nonces WHERE seen_at < $1",
        &[&t(now.saturating_sub(window.saturating_mul(2)))],
    )?;
    c.execute(
        "UPDATE flows SET pending_passwords = NULL
         WHERE pending_passwords IS NOT NULL AND (expires_at <= $1 OR state = 'denied')",
        &[&t(now)],
    )?;
    super::shared::sweep(c, now.saturating_mul(1000))
}
