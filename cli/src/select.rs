//! Picking one account from what the user typed: an id, an exact `Issuer:name`, a whole
//! issuer or name (any case), or a piece of the issuer or name, each tried in that order
//! and accepted only when it designates exactly one account.

use cityauth_core::account::display_label;
use cityauth_core::{AccountId, IntegrityError, OtpKind, Vault};

use crate::error::{CliError, Code};
use crate::output::printable;

/// How many candidates an error message lists before it stops.
const MAX_LISTED: usize = 10;

/// An account the user may mean: a readable one, or a damaged one the vault still lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The account's id.
    pub id: AccountId,
    /// Issuer and name; `None` for a damaged account (only its label may be known).
    pub labels: Option<(String, String)>,
    /// "Issuer (name)" for messages.
    pub label: String,
    /// TOTP, HOTP or Steam; `None` for a damaged account.
    pub kind: Option<OtpKind>,
}

/// Every account of the vault, readable ones first, then damaged ones (so that they can
/// still be named, e.g. to remove them).
pub fn candidates(vault: &Vault) -> Result<Vec<Candidate>, CliError> {
    let mut all: Vec<Candidate> = vault
        .accounts()?
        .into_iter()
        .map(|info| Candidate {
            id: info.id,
            label: printable(&display_label(&info.issuer, &info.name)).into_owned(),
            kind: Some(info.params.kind()),
            labels: Some((info.issuer, info.name)),
        })
        .collect();
    for problem in vault.integrity_problems()? {
        if let IntegrityError::Account(damaged) = problem {
            all.push(Candidate {
                id: damaged.id,
                label: damaged
                    .label
                    .unwrap_or_else(|| "(damaged, name unknown)".to_owned()),
                labels: None,
                kind: None,
            });
        }
    }
    Ok(all)
}

/// The one account `query` designates, or a usage error that lists the candidates.
pub fn select<'a>(all: &'a [Candidate], query: &str) -> Result<&'a Candidate, CliError> {
    let query = query.trim();
    // An id wins; a number that is no id may still be part of a name ("1Password", "42").
    if let Ok(id) = query.parse::<i64>()
        && let Some(found) = all.iter().find(|c| c.id == AccountId(id))
    {
        return Ok(found);
    }
    let exact: Vec<&Candidate> = all
        .iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .is_some_and(|(issuer, name)| format!("{issuer}:{name}") == query)
        })
        .collect();
    if let [one] = exact.as_slice() {
        return Ok(one);
    }
    if exact.len() > 1 {
        return Err(ambiguous(query, &exact));
    }
    let needle = query.to_lowercase();
    // A whole issuer or name beats a piece of one: "git" picks "Git" over "GitHub".
    let whole: Vec<&Candidate> = all
        .iter()
        .filter(|c| match &c.labels {
            Some((issuer, name)) => {
                issuer.to_lowercase() == needle || name.to_lowercase() == needle
            }
            None => false,
        })
        .collect();
    if let [one] = whole.as_slice() {
        return Ok(one);
    }
    let partial: Vec<&Candidate> = all
        .iter()
        .filter(|c| match &c.labels {
            Some((issuer, name)) => {
                issuer.to_lowercase().contains(&needle) || name.to_lowercase().contains(&needle)
            }
            None => c.label.to_lowercase().contains(&needle),
        })
        .collect();
    match partial.as_slice() {
        [one] => Ok(one),
        [] if all.is_empty() => Err(CliError::new(
            Code::UnknownAccount,
            format!("no account matches '{query}'"),
        )),
        [] => Err(CliError::new(
            Code::UnknownAccount,
            format!(
                "no account matches '{query}'; the accounts are {}",
                listing(&all.iter().collect::<Vec<_>>())
            ),
        )),
        many => Err(ambiguous(query, many)),
    }
}

fn ambiguous(query: &str, matches: &[&Candidate]) -> CliError {
    CliError::new(
        Code::AmbiguousAccount,
        format!(
            "'{query}' matches {} accounts: {}; name one by its id",
            matches.len(),
            listing(matches)
        ),
    )
}

/// "1 GitHub (alice), 3 GitLab (bob)", cut after [`MAX_LISTED`].
fn listing(candidates: &[&Candidate]) -> String {
    let mut parts: Vec<String> = candidates
        .iter()
        .take(MAX_LISTED)
        .map(|c| format!("{} {}", c.id, c.label))
        .collect();
    if candidates.len() > MAX_LISTED {
        parts.push(format!("and {} more", candidates.len() - MAX_LISTED));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: i64, issuer: &str, name: &str) -> Candidate {
        Candidate {
            id: AccountId(id),
            labels: Some((issuer.to_owned(), name.to_owned())),
            label: display_label(issuer, name),
            kind: Some(OtpKind::Totp),
        }
    }

    fn all() -> Vec<Candidate> {
        vec![
            candidate(1, "GitHub", "alice"),
            candidate(2, "GitLab", "alice"),
            candidate(3, "1Password", "bob"),
            candidate(4, "Bank", "7"),
            candidate(6, "Git", "dave"),
            Candidate {
                id: AccountId(5),
                labels: None,
                label: "Broken (carol)".into(),
                kind: None,
            },
        ]
    }

    fn pick(query: &str) -> Result<i64, CliError> {
        let all = all();
        select(&all, query).map(|c| c.id.0)
    }

    #[test]
    fn ids_exact_labels_and_unique_substrings_select() {
        assert_eq!(pick("2"), Ok(2));
        assert_eq!(pick("GitHub:alice"), Ok(1));
        assert_eq!(pick("github"), Ok(1));
        assert_eq!(pick("git"), Ok(6));
        assert_eq!(pick("DAVE"), Ok(6));
        assert_eq!(pick("BOB"), Ok(3));
        assert_eq!(pick("1pass"), Ok(3));
        // Not an id, but part of a name.
        assert_eq!(pick("7"), Ok(4));
        assert_eq!(pick("carol"), Ok(5));
    }

    #[test]
    fn ambiguity_and_no_match_list_the_candidates() {
        let Err(CliError::Message {
            code: Code::AmbiguousAccount,
            message,
        }) = pick("ali")
        else {
            panic!("expected an ambiguous_account error");
        };
        assert!(message.contains("1 GitHub (alice)"), "{message}");
        assert!(message.contains("2 GitLab (alice)"), "{message}");
        let Err(CliError::Message {
            code: Code::UnknownAccount,
            message,
        }) = pick("nobody")
        else {
            panic!("expected an unknown_account error");
        };
        assert!(message.contains("no account matches 'nobody'"), "{message}");
        assert!(message.contains("4 Bank (7)"), "{message}");
    }
}
