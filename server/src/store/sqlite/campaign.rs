//! [`Campaign`] on SQLite: the `phone_activity`, `phone_reminders` and `reminded_sessions`
//! tables (migration 11).

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::super::StoreResult;
use super::super::campaign::{Campaign, PhoneActivity};
use super::super::connection::{Cached, begin};
use super::super::rows::t;
use super::SqliteStore;

/// A stored time (seconds, never negative) as the records have it.
fn time(value: Option<i64>) -> Option<u64> {
    value.map(|v| u64::try_from(v).unwrap_or(0))
}

impl Campaign for SqliteStore {
    fn phone_used(&self, device_id: &str, at: u64) -> StoreResult<()> {
        // Through the devices row: a device removed meanwhile gets no row (the foreign key
        // would refuse it), and a later time never goes back (two answers racing).
        self.db().run(
            "INSERT INTO phone_activity (device_id, last_used_at)
             SELECT id, ?2 FROM devices WHERE id = ?1
             ON CONFLICT (device_id) DO UPDATE
             SET last_used_at = max(coalesce(last_used_at, 0), excluded.last_used_at)",
            params![device_id, t(at)],
        )?;
        Ok(())
    }

    fn phone_confirm(&self, device_id: &str, user_id: i64, at: u64) -> StoreResult<bool> {
        let changed = self.db().run(
            "INSERT INTO phone_activity (device_id, confirmed_at)
             SELECT id, ?3 FROM devices WHERE id = ?1 AND user_id = ?2
             ON CONFLICT (device_id) DO UPDATE SET confirmed_at = excluded.confirmed_at",
            params![device_id, user_id, t(at)],
        )?;
        Ok(changed == 1)
    }

    fn phone_activity(&self, user_id: i64) -> StoreResult<HashMap<String, PhoneActivity>> {
        let db = self.db();
        let mut statement = db.prepare_cached(
            "SELECT a.device_id, a.last_used_at, a.confirmed_at
             FROM phone_activity a JOIN devices d ON d.id = a.device_id
             WHERE d.user_id = ?1",
        )?;
        let rows = statement.query_map([user_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                PhoneActivity {
                    last_used: time(r.get(1)?),
                    confirmed: time(r.get(2)?),
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn reminders_used(&self, user_id: i64) -> StoreResult<u32> {
        let used: Option<i64> = self
            .db()
            .row(
                "SELECT used FROM phone_reminders WHERE user_id = ?1",
                [user_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(used.map_or(0, |u| u32::try_from(u).unwrap_or(u32::MAX)))
    }

    fn reminder_take(
        &self,
        user_id: i64,
        token_hash: &[u8],
        allowed: u32,
    ) -> StoreResult<Option<u32>> {
        let mut db = self.db();
        let transaction = begin(&mut db)?;
        let already = transaction
            .row(
                "SELECT 1 FROM reminded_sessions WHERE token_hash = ?1",
                [token_hash],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        let used: Option<i64> = if already {
            transaction
                .row(
                    "SELECT used FROM phone_reminders WHERE user_id = ?1",
                    [user_id],
                    |r| r.get(0),
                )
                .optional()?
                .or(Some(0))
        } else {
            // The insert's WHERE also keeps SQLite from reading ON CONFLICT as a join.
            transaction
                .row(
                    "INSERT INTO phone_reminders (user_id, used) SELECT ?1, 1 WHERE ?2 > 0
                     ON CONFLICT (user_id) DO UPDATE SET used = used + 1 WHERE used < ?2
                     RETURNING used",
                    params![user_id, i64::from(allowed)],
                    |r| r.get(0),
                )
                .optional()?
        };
        let Some(used) = used else {
            return Ok(None);
        };
        if !already {
            transaction.run(
                "INSERT INTO reminded_sessions (token_hash) VALUES (?1)",
                [token_hash],
            )?;
        }
        transaction.commit()?;
        Ok(Some(u32::try_from(used).unwrap_or(u32::MAX)))
    }

    fn reminded(&self, token_hash: &[u8]) -> StoreResult<bool> {
        Ok(self
            .db()
            .row(
                "SELECT 1 FROM reminded_sessions WHERE token_hash = ?1",
                [token_hash],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn reminder_pass(&self, token_hash: &[u8]) -> StoreResult<()> {
        self.db().run(
            "INSERT OR IGNORE INTO reminded_sessions (token_hash) VALUES (?1)",
            [token_hash],
        )?;
        Ok(())
    }
}
