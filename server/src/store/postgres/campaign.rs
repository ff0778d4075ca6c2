//! [`Campaign`] on PostgreSQL: the `phone_activity`, `phone_reminders` and
//! `reminded_sessions` tables (migration 6).

use std::collections::HashMap;

use super::super::StoreResult;
use super::super::campaign::{Campaign, PhoneActivity};
use super::PgStore;
use super::rows::{t, u};

impl Campaign for PgStore {
    fn phone_used(&self, device_id: &str, at: u64) -> StoreResult<()> {
        let device_id = device_id.to_owned();
        self.pool.run(move |c| {
            // Through the devices row, as on SQLite: nothing for a device that is gone, and
            // a later time never goes back.
            c.execute(
                "INSERT INTO phone_activity (device_id, last_used_at)
                 SELECT id, $2 FROM devices WHERE id = $1
                 ON CONFLICT (device_id) DO UPDATE
                 SET last_used_at = GREATEST(phone_activity.last_used_at, excluded.last_used_at)",
                &[&device_id, &t(at)],
            )?;
            Ok(())
        })
    }

    fn phone_confirm(&self, device_id: &str, user_id: i64, at: u64) -> StoreResult<bool> {
        let device_id = device_id.to_owned();
        self.pool.run(move |c| {
            let changed = c.execute(
                "INSERT INTO phone_activity (device_id, confirmed_at)
                 SELECT id, $3 FROM devices WHERE id = $1 AND user_id = $2
                 ON CONFLICT (device_id) DO UPDATE SET confirmed_at = excluded.confirmed_at",
                &[&device_id, &user_id, &t(at)],
            )?;
            Ok(changed == 1)
        })
    }

    fn phone_activity(&self, user_id: i64) -> StoreResult<HashMap<String, PhoneActivity>> {
        self.pool.run(move |c| {
            c.query(
                "SELECT a.device_id, a.last_used_at, a.confirmed_at
                 FROM phone_activity a JOIN devices d ON d.id = a.device_id
                 WHERE d.user_id = $1",
                &[&user_id],
            )?
            .iter()
            .map(|row| {
                let activity = PhoneActivity {
                    last_used: row.try_get::<_, Option<i64>>(1)?.map(u),
                    confirmed: row.try_get::<_, Option<i64>>(2)?.map(u),
                };
                Ok((row.try_get(0)?, activity))
            })
            .collect()
        })
    }

    fn reminders_used(&self, user_id: i64) -> StoreResult<u32> {
        self.pool.run(move |c| {
            let used: Option<i64> = c
                .query_opt(
                    "SELECT used FROM phone_reminders WHERE user_id = $1",
                    &[&user_id],
                )?
                .map(|row| row.try_get(0))
                .transpose()?;
            Ok(used.map_or(0, |u| u32::try_from(u).unwrap_or(u32::MAX)))
        })
    }

    fn reminder_take(
        &self,
        user_id: i64,
        token_hash: &[u8],
        allowed: u32,
    ) -> StoreResult<Option<u32>> {
        let token_hash = token_hash.to_vec();
        let allowed = i64::from(allowed);
        self.pool.run(move |c| {
            c.transaction(|c| {
                // The session's row first, so that one session's double click (two
                // requests at once) waits for the first and counts once.
                let marked = c.execute(
                    "INSERT INTO reminded_sessions (token_hash) VALUES ($1)
                     ON CONFLICT (token_hash) DO NOTHING",
                    &[&token_hash],
                )? == 1;
                let used = if marked {
                    // The row lock of the conditional update makes a racing replica wait,
                    // then see the new count.
                    c.query_opt(
                        "INSERT INTO phone_reminders (user_id, used)
                         SELECT $1, 1 WHERE $2::BIGINT > 0
                         ON CONFLICT (user_id) DO UPDATE SET used = phone_reminders.used + 1
                         WHERE phone_reminders.used < $2::BIGINT
                         RETURNING used",
                        &[&user_id, &allowed],
                    )?
                } else {
                    c.query_opt(
                        "SELECT COALESCE(
                             (SELECT used FROM phone_reminders WHERE user_id = $1), 0)",
                        &[&user_id],
                    )?
                };
                let Some(row) = used else {
                    // None left: the session goes on waiting to register.
                    c.execute(
                        "DELETE FROM reminded_sessions WHERE token_hash = $1",
                        &[&token_hash],
                    )?;
                    return Ok(None);
                };
                let used: i64 = row.try_get(0)?;
                Ok(Some(u32::try_from(used).unwrap_or(u32::MAX)))
            })
        })
    }

    fn reminded(&self, token_hash: &[u8]) -> StoreResult<bool> {
        let token_hash = token_hash.to_vec();
        self.pool.run(move |c| {
            Ok(c.query_opt(
                "SELECT 1 FROM reminded_sessions WHERE token_hash = $1",
                &[&token_hash],
            )?
            .is_some())
        })
    }

    fn reminder_pass(&self, token_hash: &[u8]) -> StoreResult<()> {
        let token_hash = token_hash.to_vec();
        self.pool.run(move |c| {
            c.execute(
                "INSERT INTO reminded_sessions (token_hash) VALUES ($1)
                 ON CONFLICT (token_hash) DO NOTHING",
                &[&token_hash],
            )?;
            Ok(())
        })
    }
}
