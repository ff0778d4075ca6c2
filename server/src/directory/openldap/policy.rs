//! The directory's password policy: ppolicy's default `pwdPolicy` entry, read once.

use ldap3::{Scope, SearchEntry};

use super::{OpenLdap, Rules, entry};
use crate::directory::{DirectoryError, PasswordPolicy};

impl OpenLdap {
    /// The default password policy: the `pwdPolicy` entry named `cn=default` in the naming
    /// context, else the only `pwdPolicy` entry there; no rules if there is none. Read once.
    pub(super) async fn rules(&self) -> Result<&Rules, DirectoryError> {
        self.rules
            .get_or_try_init(|| async {
                let context = self.naming_context().await?;
                let attributes = [
                    "cn",
                    "pwdMinLength",
                    "pwdCheckQuality",
                    "pwdInHistory",
                    "pwdMinAge",
                    "pwdLockoutDuration",
                ];
                let found = self
                    .search(
                        &context,
                        Scope::Subtree,
                        "(objectClass=pwdPolicy)",
                        &attributes,
                        0,
                    )
                    .await?;
                let chosen = found
                    .iter()
                    .find(|e| {
                        entry::first(e, "cn").is_some_and(|cn| cn.eq_ignore_ascii_case("default"))
                    })
                    .or(if found.len() == 1 {
                        found.first()
                    } else {
                        None
                    });
                Ok(chosen.map(rules_of).unwrap_or(Rules {
                    policy: PasswordPolicy::default(),
                    lockout_duration: 0,
                }))
            })
            .await
    }

    /// The minimum length, when the policy is known (for a refusal's sentence).
    pub(super) async fn min_length(&self) -> Option<u32> {
        self.rules()
            .await
            .ok()
            .map(|r| r.policy.min_length)
            .filter(|n| *n > 0)
    }
}

/// The rules a `pwdPolicy` entry states.
pub(crate) fn rules_of(policy: &SearchEntry) -> Rules {
    let number = |name: &str| -> u64 {
        entry::first(policy, name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    // pwdMinLength is enforced only when quality checking is on.
    let quality = number("pwdCheckQuality") > 0;
    Rules {
        policy: PasswordPolicy {
            min_length: if quality {
                u32::try_from(number("pwdMinLength")).unwrap_or(u32::MAX)
            } else {
                0
            },
            complexity: false,
            history: u32::try_from(number("pwdInHistory")).unwrap_or(u32::MAX),
            min_age_seconds: number("pwdMinAge"),
        },
        lockout_duration: number("pwdLockoutDuration"),
    }
}
