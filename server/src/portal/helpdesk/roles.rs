//! Who may use the console: the members of the directory groups the configuration names
//! (`[helpdesk] operator_group`, `auditor_group`), and the roles granted in the built-in
//! store by the administrator (`cityauth-server helpdesk grant`), for built-in and
//! directory accounts alike.

use crate::admin::AdminError;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::User;

/// What a console user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Look employees up, verify callers, issue access codes, remove phones, clear blocks.
    Operator,
    /// Read the audit trail.
    Auditor,
}

impl Role {
    /// The role's name in the store and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Auditor => "auditor",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        match name.trim().to_ascii_lowercase().as_str() {
            "operator" => Some(Role::Operator),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }
}

/// The roles `user` holds now: granted here, or by membership of the configured groups
/// (the directory is asked each time: a member removed from the group loses the role at
/// once).
pub(super) async fn of(state: &AppState, user: &User) -> Result<Vec<Role>, ApiError> {
    let mut roles: Vec<Role> = state
        .store()
        .roles_of(user.id)?
        .iter()
        .filter_map(|name| Role::parse(name))
        .collect();
    let config = &state.config().helpdesk;
    let groups = [
        (Role::Operator, config.operator_group.as_deref()),
        (Role::Auditor, config.auditor_group.as_deref()),
    ];
    if groups
        .iter()
        .all(|(role, group)| group.is_none() || roles.contains(role))
    {
        return Ok(roles);
    }
    let Some(found) = crate::api::account_of(state, user).await? else {
        return Ok(roles);
    };
    for (role, group) in groups {
        let Some(group) = group else { continue };
        if roles.contains(&role) {
            continue;
        }
        let member = state
            .directory()
            .in_group(&found.account, group)
            .await
            .map_err(|e| crate::api::directory_error(state, e))?;
        if member {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// Grants `role` to `username` (audited).
pub fn grant(state: &AppState, username: &str, role: Role) -> Result<(), AdminError> {
    let user = crate::admin::user(state, username)?;
    state.store().role_grant(user.id, role.as_str())?;
    state.audit(
        Some(&user.username),
        "helpdesk_role_granted",
        &format!("{} by an administrator", role.as_str()),
        None,
    );
    Ok(())
}

/// Takes `role` from `username` (audited); false if they did not hold it.
pub fn revoke(state: &AppState, username: &str, role: Role) -> Result<bool, AdminError> {
    let user = crate::admin::user(state, username)?;
    let taken = state.store().role_revoke(user.id, role.as_str())?;
    if taken {
        state.audit(
            Some(&user.username),
            "helpdesk_role_revoked",
            &format!("{} by an administrator", role.as_str()),
            None,
        );
    }
    Ok(taken)
}
