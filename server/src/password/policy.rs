//! The password policy of NIST SP 800-63B rev. 4 (section 3.1.1.2): a length range, a
//! blocklist, no composition rules.

use super::Blocklist;
use super::blocklist::fold;
use crate::error::ApiError;

/// The shortest password accepted, in characters (Unicode code points after NFKC): NIST's
/// minimum for a password used alone, as at Windows sign-in.
pub const MIN_CHARS: usize = 15;
/// The longest, in characters. NIST asks that at least 64 be allowed; longer ones only cost
/// hashing time.
pub const MAX_CHARS: usize = 256;
/// Names of the service itself, a common base of weak passwords here.
const SERVICE_WORDS: [&str; 4] = ["city", "cityauth", "cityhall", "password"];
/// A password that is one unit repeated needs a unit at least this long (`abababab…` is not).
const SHORTEST_UNIT: usize = 4;

/// The rule as shown to a person choosing a password.
pub fn requirement() -> String {
    format!(
        "At least {MIN_CHARS} characters, not a common password, and not containing your username."
    )
}

/// Checks the policy: [`MIN_CHARS`] to [`MAX_CHARS`] characters, not on the blocklist (in
/// any of the forms people decorate a common password with), not made of the account's own
/// names, not containing the username. The error says which rule failed, never the password.
pub fn check_policy(
    blocklist: &Blocklist,
    password: &str,
    username: &str,
    display_name: &str,
) -> Result<(), ApiError> {
    let folded = zeroize::Zeroizing::new(fold(password));
    let chars = folded.chars().count();
    if chars < MIN_CHARS {
        return Err(ApiError::PasswordPolicy(format!(
            "the password must have at least {MIN_CHARS} characters"
        )));
    }
    if chars > MAX_CHARS {
        return Err(ApiError::PasswordPolicy(format!(
            "the password must have at most {MAX_CHARS} characters"
        )));
    }
    let name = fold(username.trim());
    if !name.is_empty() && folded.contains(&name) {
        return Err(ApiError::PasswordPolicy(
            "the password must not contain the username".into(),
        ));
    }
    let mut context: Vec<String> = display_name
        .split_whitespace()
        .map(fold)
        .filter(|word| word.chars().count() >= 3)
        .collect();
    context.push(context.concat());
    context.extend(SERVICE_WORDS.iter().map(|w| (*w).to_owned()));
    let forms = forms(&folded);
    let common = forms
        .iter()
        .any(|form| blocklist.contains(form) || context.iter().any(|w| w == form));
    let patterned = forms
        .iter()
        .filter_map(|form| unit(form))
        .any(|unit| unit.chars().count() < SHORTEST_UNIT);
    if common || patterned || is_run(&folded) {
        return Err(ApiError::PasswordPolicy(
            "the password is too common or too easy to guess".into(),
        ));
    }
    Ok(())
}

/// The forms of a folded password that the blocklist is checked with: the password, and
/// what is left once the usual decorations of a common password are taken off, each also
/// as the unit it repeats, if it is a repeat.
fn forms(folded: &str) -> Vec<String> {
    let compact: String = folded.chars().filter(|c| c.is_alphanumeric()).collect();
    let trimmed = compact
        .trim_matches(|c: char| c.is_ascii_digit())
        .to_owned();
    // Letters swapped for look-alike digits and symbols, inside the word only: the digits
    // people append are taken off above.
    let core = folded.trim_matches(|c: char| !c.is_alphabetic());
    let unleet: String = core
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .filter(|c| c.is_alphanumeric())
        .collect();
    let mut forms = vec![folded.to_owned(), compact, trimmed, unleet];
    forms.retain(|form| !form.is_empty());
    let units: Vec<String> = forms.iter().filter_map(|f| unit(f)).collect();
    forms.extend(units);
    forms
}

/// The shortest text that `form` is two or more repeats of, if it is one.
fn unit(form: &str) -> Option<String> {
    let chars: Vec<char> = form.chars().collect();
    (1..=chars.len() / 2)
        .filter(|len| chars.len().is_multiple_of(*len))
        .find(|&len| chars.chunks(len).all(|chunk| chunk == &chars[..len]))
        .map(|len| chars[..len].iter().collect())
}

/// True for a run of letters or digits up or down by one (`abcdef…`, `9876…`, wrapping
/// from 9 to 0), once separators are dropped.
fn is_run(folded: &str) -> bool {
    let chars: Vec<u32> = folded
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(u32::from)
        .collect();
    if chars.len() < MIN_CHARS / 2 {
        return false;
    }
    let step = |a: u32, b: u32, up: bool| {
        let (from, to) = if up { (a, b) } else { (b, a) };
        to == from + 1 || (from == u32::from('9') && to == u32::from('0'))
    };
    [true, false]
        .iter()
        .any(|&up| chars.windows(2).all(|w| step(w[0], w[1], up)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(password: &str) -> Result<(), String> {
        check_policy(&Blocklist::builtin(), password, "alice", "Alice Example").map_err(|e| {
            let ApiError::PasswordPolicy(why) = e else {
                panic!("{e:?}")
            };
            why
        })
    }

    #[test]
    fn length_from_15_to_256_with_no_composition_rule() {
        assert!(policy("short").unwrap_err().contains("15"));
        assert!(policy("fourteen-chars").unwrap_err().contains("15"));
        assert!(policy(&"Zq7!".repeat(70)).unwrap_err().contains("256"));
        // No upper case, digits or symbols needed; 64 characters allowed.
        assert!(policy("tangerine orbit lantern velvet").is_ok());
        assert!(policy(&"tangerine orbit lantern velvet harbour ".repeat(2)[..64]).is_ok());
        assert!(policy("Tangerine-Orbit-Lantern-42").is_ok());
        assert!(policy("4821-9930-1175-6604").is_ok());
        assert!(policy("%^&*~`|<>?/:;{}[]").is_ok());
    }

    #[test]
    fn common_passwords_in_their_usual_decorations_are_refused() {
        for weak in [
            "password12345678",
            "P@ssw0rd2024!!!!",
            "qwertyuiop123456",
            "passwordpassword",
            "Summer2025Summer2025",
            "sunshine-sunshine",
            "aaaaaaaaaaaaaaaa",
            "123456789012345",
            "abcdefghijklmnop",
            "!!!!!!!!!!!!!!!!",
            "abababababababab",
            "Example-Example-2025",
            "cityhall12345678",
        ] {
            assert!(policy(weak).unwrap_err().contains("common"), "{weak}");
        }
        assert!(
            policy("my-ALICE-vault-9137-kq")
                .unwrap_err()
                .contains("username")
        );
    }

    #[test]
    fn a_city_list_replaces_the_default() {
        let list = Blocklist::parse("# ours\nTangerine-Orbit-Lantern-42\n\n");
        assert!(!list.is_empty());
        let refused = check_policy(&list, "tangerine-orbit-lantern-42", "bob", "Bob");
        assert!(refused.is_err());
        assert!(check_policy(&list, "sunshine12345678", "bob", "Bob").is_ok());
    }
}

#[cfg(test)]
mod longest {
    #[test]
    fn the_longest_password_allowed_passes_the_policy() {
        let long: String = "Tangerine-Orbit-Lantern-42-Velvet-Harbor!"
            .chars()
            .cycle()
            .take(super::MAX_CHARS)
            .collect();
        let blocklist = super::Blocklist::builtin();
        assert!(super::check_policy(&blocklist, &long, "alice", "Alice").is_ok());
        let longer = format!("{long}x");
        assert!(super::check_policy(&blocklist, &longer, "alice", "Alice").is_err());
    }
}
