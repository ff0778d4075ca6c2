//! What the help-desk console keeps: the roles granted in the built-in store, which
//! sessions the console's own sign-in made, and who started each caller verification.

use super::StoreResult;

/// The console's records.
pub trait Helpdesk {
    /// The roles (`operator`, `auditor`) granted to the user here.
    fn roles_of(&self, user_id: i64) -> StoreResult<Vec<String>>;
    /// Grants `role` to the user (again: no change).
    fn role_grant(&self, user_id: i64, role: &str) -> StoreResult<()>;
    /// Takes `role` from the user; false if the user did not have it.
    fn role_revoke(&self, user_id: i64, role: &str) -> StoreResult<bool>;
    /// Marks the session as made by the console's sign-in (a password and a phone approval).
    fn console_session_mark(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// Whether the console's sign-in made the session.
    fn console_session_is(&self, token_hash: &[u8]) -> StoreResult<bool>;
    /// Records that `operator_id` started the caller verification `flow_id` of `user_id`.
    fn caller_check_insert(&self, flow_id: &str, operator_id: i64, user_id: i64)
    -> StoreResult<()>;
    /// The operator and the employee of the caller verification `flow_id`.
    fn caller_check(&self, flow_id: &str) -> StoreResult<Option<(i64, i64)>>;
}
