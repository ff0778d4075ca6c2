//! Setting a read file against a vault: what would be added, what is already there, what
//! was refused; then adding it all in one transaction.

use std::collections::{HashMap, HashSet};

use cityauth_core::vault::{AccountId, Vault, VaultError};
use cityauth_core::{Account, OtpKind};
use ring::digest;

use crate::entry::{Location, Parsed, Rejection};
use crate::format::Format;

/// What an import would do, for the user to confirm before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPlan {
    /// The format the file was read as.
    pub format: Format,
    /// The accounts to add, in file order.
    pub to_add: Vec<(Location, Account)>,
    /// Entries skipped because the same account is already in the vault or earlier in the file.
    pub duplicates: Vec<Duplicate>,
    /// Entries refused, with the reason.
    pub rejected: Vec<(Location, Rejection)>,
}

/// An entry skipped as a duplicate: the same secret and parameters as an account already
/// there. (An HOTP counter is state, not a parameter: it does not make two accounts differ.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Where it was in the file.
    pub location: Location,
    /// Its issuer and name as the file gave them.
    pub label: String,
    /// The vault account it duplicates; `None` when it repeats an earlier entry of the file.
    pub existing: Option<AccountId>,
}

/// The key two accounts are duplicates under: a digest of the secret, kind, algorithm,
/// digits and (for time-based kinds) period. A digest, so the map holds no secret copy.
type DuplicateKey = [u8; 32];

fn duplicate_key(account: &Account) -> DuplicateKey {
    let params = account.params();
    let period = if params.kind() == OtpKind::Hotp {
        0
    } else {
        params.period()
    };
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(params.kind().as_str().as_bytes());
    ctx.update(&[0]);
    ctx.update(params.algorithm().as_str().as_bytes());
    ctx.update(&[0, params.digits()]);
    ctx.update(&period.to_be_bytes());
    ctx.update(account.secret().expose());
    let mut key = [0u8; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

/// Sets `parsed` against the accounts already in `vault` (which must be unlocked).
pub fn plan(vault: &Vault, parsed: Parsed) -> Result<ImportPlan, VaultError> {
    let mut seen: HashMap<DuplicateKey, Option<AccountId>> = vault
        .all_accounts()?
        .iter()
        .map(|(id, account)| (duplicate_key(account), Some(*id)))
        .collect();
    let mut plan = ImportPlan {
        format: parsed.format,
        to_add: Vec::new(),
        duplicates: Vec::new(),
        rejected: Vec::new(),
    };
    for entry in parsed.entries {
        match entry.outcome {
            Err(rejection) => plan.rejected.push((entry.location, rejection)),
            Ok(account) => {
                let key = duplicate_key(&account);
                match seen.get(&key) {
                    Some(existing) => plan.duplicates.push(Duplicate {
                        location: entry.location,
                        label: account.display_label(),
                        existing: *existing,
                    }),
                    None => {
                        seen.insert(key, None);
                        plan.to_add.push((entry.location, account));
                    }
                }
            }
        }
    }
    Ok(plan)
}

/// Adds the plan's accounts to `vault` in one transaction: all of them, or on error none.
/// Returns the ids of those added, in file order. An account that reached the vault since
/// the plan was made (another process, another import) is skipped, not added twice.
pub fn commit(vault: &Vault, plan: ImportPlan) -> Result<Vec<AccountId>, VaultError> {
    let present: HashSet<DuplicateKey> = vault
        .all_accounts()?
        .iter()
        .map(|(_, account)| duplicate_key(account))
        .collect();
    let fresh = plan
        .to_add
        .into_iter()
        .map(|(_, account)| account)
        .filter(|account| !present.contains(&duplicate_key(account)))
        .collect();
    vault.add_all(fresh)
}
