//! [`Helpdesk`] on PostgreSQL (migration 5).

use super::super::StoreResult;
use super::super::helpdesk::Helpdesk;
use super::PgStore;

impl Helpdesk for PgStore {
    fn roles_of(&self, user_id: i64) -> StoreResult<Vec<String>> {
        self.pool.run(move |c| {
            c.query(
                "SELECT role FROM helpdesk_roles WHERE user_id = $1 ORDER BY role",
                &[&user_id],
            )?
            .iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect()
        })
    }

    fn role_grant(&self, user_id: i64, role: &str) -> StoreResult<()> {
        let role = role.to_owned();
        self.pool.run(move |c| {
            c.execute(
                "INSERT INTO helpdesk_roles (user_id, role) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&user_id, &role],
            )?;
            Ok(())
        })
    }

    fn role_revoke(&self, user_id: i64, role: &str) -> StoreResult<bool> {
        let role = role.to_owned();
        self.pool.run(move |c| {
            Ok(c.execute(
                "DELETE FROM helpdesk_roles WHERE user_id = $1 AND role = $2",
                &[&user_id, &role],
            )? == 1)
        })
    }

    fn console_session_mark(&self, token_hash: &[u8]) -> StoreResult<()> {
        let hash = token_hash.to_vec();
        self.pool.run(move |c| {
            c.execute(
                "INSERT INTO console_sessions (token_hash) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&hash],
            )?;
            Ok(())
        })
    }

    fn console_session_is(&self, token_hash: &[u8]) -> StoreResult<bool> {
        let hash = token_hash.to_vec();
        self.pool.run(move |c| {
            Ok(c.query_opt(
                "SELECT 1 FROM console_sessions WHERE token_hash = $1",
                &[&hash],
            )?
            .is_some())
        })
    }

    fn caller_check_insert(
        &self,
        flow_id: &str,
        operator_id: i64,
        user_id: i64,
    ) -> StoreResult<()> {
        let flow_id = flow_id.to_owned();
        self.pool.run(move |c| {
            c.execute(
                "INSERT INTO caller_checks (flow_id, operator_id, user_id) VALUES ($1, $2, $3)",
                &[&flow_id, &operator_id, &user_id],
            )?;
            Ok(())
        })
    }

    fn caller_check(&self, flow_id: &str) -> StoreResult<Option<(i64, i64)>> {
        let flow_id = flow_id.to_owned();
        self.pool.run(move |c| {
            c.query_opt(
                "SELECT operator_id, user_id FROM caller_checks WHERE flow_id = $1",
                &[&flow_id],
            )?
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
        })
    }
}
