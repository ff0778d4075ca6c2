//! What AD's answers mean: the `data` code of a refused bind (`80090308: … data 775`), and
//! the extended error of a refused password (`0000052D: Constraint violation …`).

use crate::directory::{PasswordCheck, Refusal};

/// What a refused bind (result code 49) says about the account, from AD's `data` code:
/// `775` locked out, `532` expired and `773` must change at next logon; anything else
/// (`52e` wrong password, `533` disabled, `701` expired account, …) is a wrong password.
pub fn refused_bind(text: &str) -> PasswordCheck {
    match data_code(text).as_deref() {
        Some("775") => PasswordCheck::Locked,
        Some("532") | Some("773") => PasswordCheck::MustChange,
        _ => PasswordCheck::Wrong,
    }
}

/// The hex code after `data ` in a bind diagnostic, lower-cased.
fn data_code(text: &str) -> Option<String> {
    let rest = &text[text.find("data ")? + 5..];
    let code: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    (!code.is_empty()).then_some(code)
}

/// The refusal in a constraint violation's diagnostic, if it is a password rule's.
///
/// AD itself answers every password rule with one extended error, `0000052D`
/// (ERROR_PASSWORD_RESTRICTION): the rule is not named, so the sentence names all three.
/// Samba adds words saying which rule; they are read when present. `minimum` is the
/// domain's minimum length, for the sentence.
pub fn password_refusal(text: &str, minimum: Option<u32>) -> Option<Refusal> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("0000052d") && !lower.contains("check_password_restrictions") {
        return None;
    }
    Some(if lower.contains("too short") {
        Refusal::TooShort {
            minimum: stated_minimum(&lower).or(minimum),
        }
    } else if lower.contains("complexity") {
        Refusal::Complexity
    } else if lower.contains("already used") || lower.contains("history") {
        Refusal::History
    } else if lower.contains("too young") {
        Refusal::MinimumAge
    } else {
        Refusal::Other(
            "it does not meet the domain's rules for length, complexity, history or age."
                .to_owned(),
        )
    })
}

/// The `N` of Samba's "equal or longer than N characters".
fn stated_minimum(lower: &str) -> Option<u32> {
    let rest = &lower[lower.find("longer than ")? + 12..];
    rest.split(' ').next()?.parse().ok()
}

/// True if a constraint violation is AD's answer to a wrong current password in a change
/// (`00000056`, ERROR_INVALID_PASSWORD).
pub fn wrong_old_password(text: &str) -> bool {
    text.trim_start().starts_with("00000056")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bind_data_codes_say_locked_and_must_change() {
        let ad = |code| {
            format!(
                "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, \
                 data {code}, v1db1"
            )
        };
        assert_eq!(refused_bind(&ad("775")), PasswordCheck::Locked);
        assert_eq!(refused_bind(&ad("532")), PasswordCheck::MustChange);
        assert_eq!(refused_bind(&ad("773")), PasswordCheck::MustChange);
        assert_eq!(refused_bind(&ad("52e")), PasswordCheck::Wrong);
        assert_eq!(refused_bind(&ad("533")), PasswordCheck::Wrong);
        assert_eq!(refused_bind("no code here"), PasswordCheck::Wrong);
        assert_eq!(refused_bind("data "), PasswordCheck::Wrong);
    }

    #[test]
    fn samba_words_name_the_rule_and_plain_ad_gets_the_general_sentence() {
        let samba = |words| {
            format!("0000052D: Constraint violation - check_password_restrictions: {words}")
        };
        assert_eq!(
            password_refusal(
                &samba(
                    "the password is too short. It should be equal or longer than 12 characters!"
                ),
                Some(8)
            ),
            Some(Refusal::TooShort { minimum: Some(12) })
        );
        assert_eq!(
            password_refusal(
                &samba("the password does not meet the complexity criteria!"),
                None
            ),
            Some(Refusal::Complexity)
        );
        assert_eq!(
            password_refusal(&samba("the password was already used (in history)!"), None),
            Some(Refusal::History)
        );
        assert_eq!(
            password_refusal(&samba("password is too young to change!"), None),
            Some(Refusal::MinimumAge)
        );
        let windows = "0000052D: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0";
        assert!(matches!(
            password_refusal(windows, Some(8)),
            Some(Refusal::Other(_))
        ));
        assert_eq!(
            password_refusal("00002083: AtrErr: DSID-03151F0D", None),
            None
        );
    }
}
