//! Group membership for the self-service scope and the protected groups: the groups whose
//! `member` or `uniqueMember` holds the account's DN, followed upwards through nested
//! groups, searched from the naming context that holds the base DN.

use std::collections::HashSet;

use ldap3::Scope;

use super::{NESTING, OpenLdap, entry};
use crate::directory::DirectoryError;

impl OpenLdap {
    /// The normalized DNs of every group holding `dn`, directly or through nested groups;
    /// empty when no group is configured.
    pub(super) async fn groups_of(&self, dn: &str) -> Result<HashSet<String>, DirectoryError> {
        if self.scope_group.is_none() && self.protected_groups.is_empty() {
            return Ok(HashSet::new());
        }
        self.all_groups_of(dn).await
    }

    /// Whether `dn` is in `group`, directly or through nested groups.
    pub(super) async fn member_of(&self, dn: &str, group: &str) -> Result<bool, DirectoryError> {
        Ok(self
            .all_groups_of(dn)
            .await?
            .contains(&entry::normalize_dn(group)))
    }

    /// The normalized DNs of every group holding `dn`, directly or through nested groups.
    async fn all_groups_of(&self, dn: &str) -> Result<HashSet<String>, DirectoryError> {
        let mut groups = HashSet::new();
        let context = self.naming_context().await?;
        let mut level = vec![dn.to_owned()];
        for _ in 0..NESTING {
            if level.is_empty() {
                break;
            }
            let mut filter = String::from("(|");
            for member in &level {
                filter.push_str(&crate::directory::filter::equals("member", member));
                filter.push_str(&crate::directory::filter::equals("uniqueMember", member));
            }
            filter.push(')');
            let found = self
                .search(&context, Scope::Subtree, &filter, &["1.1"], 0)
                .await?;
            level = found
                .into_iter()
                .map(|e| e.dn)
                .filter(|g| groups.insert(entry::normalize_dn(g)))
                .collect();
        }
        Ok(groups)
    }

    /// The naming context holding the base DN (from the root DSE), read once; the base DN
    /// itself if the server does not publish one that holds it.
    pub(super) async fn naming_context(&self) -> Result<String, DirectoryError> {
        self.naming_context
            .get_or_try_init(|| async {
                let root = self
                    .search("", Scope::Base, "(objectClass=*)", &["namingContexts"], 0)
                    .await?;
                let base = entry::normalize_dn(&self.base_dn);
                let context = root
                    .iter()
                    .flat_map(|e| e.attrs.get("namingContexts").into_iter().flatten())
                    .find(|c| {
                        let c = entry::normalize_dn(c);
                        base == c || base.ends_with(&format!(",{c}"))
                    })
                    .cloned()
                    .unwrap_or_else(|| self.base_dn.clone());
                Ok(context)
            })
            .await
            .cloned()
    }
}
