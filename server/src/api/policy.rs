//! The new password against the directory's published policy, as well as our own (NIST)
//! rules, before the write; and the policy in sentences for the portal.

use super::directory::api_error;
use crate::directory::{Account, PasswordPolicy};
use crate::error::ApiError;
use crate::state::AppState;

/// Checks `password` against our own rules (NIST: length, the blocklist, not the name) and
/// then the directory's published policy, so that the employee learns what is wrong
/// before the directory refuses.
pub(crate) async fn check_new_password(
    state: &AppState,
    account: &Account,
    password: &str,
) -> Result<(), ApiError> {
    crate::password::check_policy(
        &state.config().password_blocklist,
        password,
        &account.username,
        &account.display_name,
    )?;
    let policy = state
        .directory()
        .policy()
        .await
        .map_err(|e| api_error(state, e))?;
    if let Some(refusal) = against_policy(&policy, password, account) {
        return Err(ApiError::DirectoryRefused(refusal.sentence()));
    }
    Ok(())
}

/// What the directory's policy would refuse in `password`, if anything: its minimum length
/// and AD's complexity rule (three of the five kinds of character, and not the account
/// name or a part of the display name of three or more characters).
pub(crate) fn against_policy(
    policy: &PasswordPolicy,
    password: &str,
    account: &Account,
) -> Option<crate::directory::Refusal> {
    use crate::directory::Refusal;
    let chars = password.chars().count();
    if chars < policy.min_length as usize {
        return Some(Refusal::TooShort {
            minimum: Some(policy.min_length),
        });
    }
    if policy.complexity && !complex_enough(password, account) {
        return Some(Refusal::Complexity);
    }
    None
}

fn complex_enough(password: &str, account: &Account) -> bool {
    // AD's kinds: capitals, small letters, digits, symbols, and letters of scripts
    // without case.
    let kinds = [
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
        password
            .chars()
            .any(|c| c.is_alphabetic() && !c.is_uppercase() && !c.is_lowercase()),
    ];
    if kinds.iter().filter(|k| **k).count() < 3 {
        return false;
    }
    let lower = password.to_lowercase();
    let name = account.username.to_lowercase();
    if name.chars().count() >= 3 && lower.contains(&name) {
        return false;
    }
    // AD splits the display name at these and refuses any part of three or more.
    let separators = |c: char| matches!(c, ',' | '.' | '-' | '_' | '#' | '\t') || c.is_whitespace();
    !account
        .display_name
        .to_lowercase()
        .split(separators)
        .filter(|part| part.chars().count() >= 3)
        .any(|part| lower.contains(part))
}

/// The policy for the portal's new-password page: our own rules and the directory's in
/// sentences, and the shortest password both allow (empty when it publishes none).
pub(crate) async fn requirement(state: &AppState) -> (String, usize) {
    let ours = crate::password::requirement();
    match state.directory().policy().await {
        Ok(policy) => {
            let shortest = crate::password::MIN_CHARS.max(policy.min_length as usize);
            match describe(&policy) {
                Some(theirs) => (format!("{ours} {theirs}"), shortest),
                None => (ours, shortest),
            }
        }
        // The page still works: the write will say what the directory refuses.
        Err(_) => (ours, crate::password::MIN_CHARS),
    }
}

/// The directory's policy in a sentence, if it has rules beyond ours.
pub(crate) fn describe(policy: &PasswordPolicy) -> Option<String> {
    let mut rules = Vec::new();
    if policy.min_length as usize > crate::password::MIN_CHARS {
        rules.push(format!("at least {} characters", policy.min_length));
    }
    if policy.complexity {
        rules.push(
            "three of capitals, small letters, digits and symbols, without your name".to_owned(),
        );
    }
    if policy.history > 0 {
        rules.push(format!("none of your last {} passwords", policy.history));
    }
    let mut sentences = Vec::new();
    if !rules.is_empty() {
        sentences.push(format!(
            "The City directory also asks for {}.",
            rules.join("; ")
        ));
    }
    let days = policy.min_age_seconds.div_ceil(86_400);
    if days > 0 {
        let plural = if days == 1 { "" } else { "s" };
        sentences.push(format!(
            "It refuses a change within {days} day{plural} of the last one."
        ));
    }
    (!sentences.is_empty()).then(|| sentences.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{DirectoryId, Refusal};

    fn account() -> Account {
        Account {
            id: DirectoryId("id".into()),
            locator: "cn=x".into(),
            username: "jdoe".into(),
            display_name: "Jane Doe-Smith".into(),
            mail: None,
            protected: false,
            locked: false,
        }
    }

    #[test]
    fn the_directory_policy_is_described_beyond_our_own_rules() {
        let policy = PasswordPolicy {
            min_length: 7,
            complexity: true,
            history: 24,
            min_age_seconds: 86_400,
        };
        let text = describe(&policy).unwrap();
        assert!(
            !text.contains("at least 7"),
            "ours (15) already covers it: {text}"
        );
        assert!(text.contains("three of capitals"), "{text}");
        assert!(text.contains("none of your last 24 passwords"), "{text}");
        assert!(text.contains("within 1 day of the last one"), "{text}");
        assert_eq!(describe(&PasswordPolicy::default()), None);
    }

    #[test]
    fn the_directory_policy_refuses_what_the_directory_would() {
        let policy = PasswordPolicy {
            min_length: 20,
            complexity: true,
            history: 24,
            min_age_seconds: 0,
        };
        let a = account();
        assert_eq!(
            against_policy(&policy, "Short-1", &a),
            Some(Refusal::TooShort { minimum: Some(20) })
        );
        assert_eq!(
            against_policy(&policy, "only small letters here ok", &a),
            Some(Refusal::Complexity)
        );
        assert_eq!(
            against_policy(&policy, "Has-Smith-In-It-1234567", &a),
            Some(Refusal::Complexity),
            "a part of the display name"
        );
        assert_eq!(
            against_policy(&policy, "Xjdoe-Orbit-Lantern-42", &a),
            Some(Refusal::Complexity),
            "the account name"
        );
        assert_eq!(against_policy(&policy, "Orbit-Lantern-Quiet-42", &a), None);
        assert_eq!(
            against_policy(&PasswordPolicy::default(), "x", &a),
            None,
            "no rules, no refusal"
        );
    }
}
