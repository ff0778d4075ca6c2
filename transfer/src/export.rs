//! Export: otpauth links, and Google Authenticator migration links to scan into the app.
//!
//! Both forms are **unencrypted**: every link holds its account's secret in the clear, so
//! whatever shows, stores or sends them must treat them as the secrets themselves. For a
//! copy to keep, use the encrypted [`crate::backup`] instead.

use std::fmt;

use cityauth_core::{Account, otpauth};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::formats::google::{self, BatchInfo, MAX_BATCH_SIZE};

/// The most accounts put in one Google migration link, as the app itself does (its
/// exports hold about ten accounts per QR code).
pub const GOOGLE_MAX_ACCOUNTS_PER_LINK: usize = 10;

/// The length a Google migration link is kept under (one lone account with long labels may
/// exceed it, up to [`QR_MAX_BYTES`]). 1,200 characters make a QR code of version 25 or
/// less at error correction L (1,273 bytes), which a phone reads off a screen; denser codes
/// scan unreliably.
pub const GOOGLE_LINK_BUDGET: usize = 1200;

/// The most bytes one QR code holds (version 40, error correction L, byte mode).
pub const QR_MAX_BYTES: usize = 2953;

/// Why an export could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// Some accounts cannot be expressed in the target format; nothing was exported, so
    /// that none is silently left behind. Export the others on purpose, e.g. after
    /// filtering with [`google_refusal`].
    #[error("{} account(s) cannot be exported: {}", refused.len(), list(refused))]
    NotExpressible {
        /// Each account refused, with why.
        refused: Vec<Refusal>,
    },
    /// More accounts than one Google export can hold.
    #[error("too many accounts for one Google Authenticator export (at most {max} parts)")]
    TooManyAccounts {
        /// The most parts an export may have.
        max: u64,
    },
    /// The system's random number generator failed.
    #[error("the random number generator failed")]
    Random,
}

/// One account an export cannot hold. Never carries the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Its position in the list given, from 0.
    pub index: usize,
    /// Its issuer and name.
    pub label: String,
    /// Why, naming the field at fault.
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.label, self.reason)
    }
}

fn list(refused: &[Refusal]) -> String {
    refused
        .iter()
        .map(Refusal::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every account as an otpauth link, one a line (each line ends in `\n`). Unencrypted:
/// the text holds every secret. Never fails: every account has an otpauth form.
pub fn otpauth_links(accounts: &[Account]) -> Zeroizing<String> {
    let links: Vec<Zeroizing<String>> = accounts.iter().map(otpauth::write).collect();
    let mut text = Zeroizing::new(String::with_capacity(
        links.iter().map(|link| link.len() + 1).sum(),
    ));
    for link in &links {
        text.push_str(link);
        text.push('\n');
    }
    text
}

/// Why Google Authenticator cannot hold `account` (Steam codes, 7 digits, a period other
/// than 30 s, a counter above 2^63 − 1, labels too long for one QR code); `None` when it can.
pub fn google_refusal(account: &Account) -> Option<String> {
    if let Some(reason) = google::inexpressible(account) {
        return Some(reason.to_owned());
    }
    let alone = google::link(&[account], WORST_CASE_BATCH);
    (alone.len() > QR_MAX_BYTES).then(|| "labels: too long for one QR code".to_owned())
}

/// The batch fields at their longest encoding, so that a link measured with them is never
/// shorter than the one finally written.
const WORST_CASE_BATCH: BatchInfo = BatchInfo {
    size: MAX_BATCH_SIZE,
    index: MAX_BATCH_SIZE - 1,
    id: i32::MAX as u64,
};

/// The accounts as Google Authenticator migration links, in order, each to be shown as one
/// QR code: at most [`GOOGLE_MAX_ACCOUNTS_PER_LINK`] accounts and about
/// [`GOOGLE_LINK_BUDGET`] characters a link, all sharing one random batch id.
///
/// Unencrypted: the links hold every secret. All or nothing: if any account cannot be
/// expressed, fails with [`ExportError::NotExpressible`] listing every such account and
/// returns no link; also [`ExportError::TooManyAccounts`] and [`ExportError::Random`].
/// No accounts give no links.
pub fn google_migration_links(accounts: &[Account]) -> Result<Vec<Zeroizing<String>>, ExportError> {
    let refused: Vec<Refusal> = accounts
        .iter()
        .enumerate()
        .filter_map(|(index, account)| {
            google_refusal(account).map(|reason| Refusal {
                index,
                label: account.display_label(),
                reason,
            })
        })
        .collect();
    if !refused.is_empty() {
        return Err(ExportError::NotExpressible { refused });
    }
    let batches = google_batches(accounts);
    let size = batches.len() as u64;
    if size > MAX_BATCH_SIZE {
        return Err(ExportError::TooManyAccounts {
            max: MAX_BATCH_SIZE,
        });
    }
    let id = random_batch_id()?;
    Ok(batches
        .iter()
        .enumerate()
        .map(|(index, batch)| {
            let info = BatchInfo {
                size,
                index: index as u64,
                id,
            };
            google::link(batch, info)
        })
        .collect())
}

/// Splits the accounts, in order, into the groups of one link each: a group is closed when
/// it has the most accounts allowed or the next account would take it over the budget.
fn google_batches(accounts: &[Account]) -> Vec<Vec<&Account>> {
    let mut batches: Vec<Vec<&Account>> = Vec::new();
    let mut current: Vec<&Account> = Vec::new();
    for account in accounts {
        current.push(account);
        let full = current.len() > GOOGLE_MAX_ACCOUNTS_PER_LINK
            || google::link(&current, WORST_CASE_BATCH).len() > GOOGLE_LINK_BUDGET;
        if full && current.len() > 1 {
            current.pop();
            batches.push(std::mem::replace(&mut current, vec![account]));
        }
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// A random, non-negative 31-bit id: the payload's field is an int32, and a negative one
/// would take ten bytes on the wire.
fn random_batch_id() -> Result<u64, ExportError> {
    let mut bytes = [0u8; 4];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ExportError::Random)?;
    Ok(u64::from(u32::from_be_bytes(bytes) & 0x7fff_ffff))
}
