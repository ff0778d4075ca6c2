//! [`Helpdesk`] on SQLite (migration 10).

use rusqlite::{OptionalExtension, params};

use super::super::StoreResult;
use super::super::connection::Cached;
use super::super::helpdesk::Helpdesk;
use super::SqliteStore;

impl Helpdesk for SqliteStore {
    fn roles_of(&self, user_id: i64) -> StoreResult<Vec<String>> {
        let db = self.db();
        let mut statement =
            db.prepare_cached("SELECT role FROM helpdesk_roles WHERE user_id = ?1 ORDER BY role")?;
        let roles = statement
            .query_map([user_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(roles)
    }

    fn role_grant(&self, user_id: i64, role: &str) -> StoreResult<()> {
        self.db().run(
            "INSERT INTO helpdesk_roles (user_id, role) VALUES (?1, ?2)
             ON CONFLICT DO NOTHING",
            params![user_id, role],
        )?;
        Ok(())
    }

    fn role_revoke(&self, user_id: i64, role: &str) -> StoreResult<bool> {
        let removed = self.db().run(
            "DELETE FROM helpdesk_roles WHERE user_id = ?1 AND role = ?2",
            params![user_id, role],
        )?;
        Ok(removed == 1)
    }

    fn console_session_mark(&self, token_hash: &[u8]) -> StoreResult<()> {
        self.db().run(
            "INSERT INTO console_sessions (token_hash) VALUES (?1) ON CONFLICT DO NOTHING",
            [token_hash],
        )?;
        Ok(())
    }

    fn console_session_is(&self, token_hash: &[u8]) -> StoreResult<bool> {
        Ok(self
            .db()
            .row(
                "SELECT 1 FROM console_sessions WHERE token_hash = ?1",
                [token_hash],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn caller_check_insert(
        &self,
        flow_id: &str,
        operator_id: i64,
        user_id: i64,
    ) -> StoreResult<()> {
        self.db().run(
            "INSERT INTO caller_checks (flow_id, operator_id, user_id) VALUES (?1, ?2, ?3)",
            params![flow_id, operator_id, user_id],
        )?;
        Ok(())
    }

    fn caller_check(&self, flow_id: &str) -> StoreResult<Option<(i64, i64)>> {
        Ok(self
            .db()
            .row(
                "SELECT operator_id, user_id FROM caller_checks WHERE flow_id = ?1",
                [flow_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}
