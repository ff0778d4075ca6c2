//! The minimum strength of a passphrase for a new vault or a new passphrase slot.
//!
//! A vault file can be copied and guessed at offline; Argon2id makes each guess cost, the
//! passphrase must make the number of guesses large. The rule is short and explainable
//! (docs/security.md says why): at least [`MIN_PASSPHRASE_CHARS`] characters, at least
//! [`MIN_DISTINCT_CHARS`] different ones, and not a run along the alphabet, the digits or a
//! keyboard row. Opening an existing vault never checks it: old passphrases keep working.

/// The fewest characters (Unicode scalar values) a new passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 10;
/// The fewest different characters a new passphrase may have.
pub const MIN_DISTINCT_CHARS: usize = 5;

/// Runs people type instead of a passphrase, forwards; they are refused backwards too.
const RUNS: [&str; 4] = [
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
];

/// Why a new passphrase is refused. The message states the rule, never the passphrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassphrase {
    /// Fewer than [`MIN_PASSPHRASE_CHARS`] characters.
    #[error("the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")]
    TooShort,
    /// Fewer than [`MIN_DISTINCT_CHARS`] different characters.
    #[error("the passphrase must use at least {MIN_DISTINCT_CHARS} different characters")]
    Repetitive,
    /// A run along the alphabet, the digits or a keyboard row.
    #[error("the passphrase must not be a run of letters, digits or keys")]
    Run,
}

/// Checks the rule. Works on the characters as given (no trimming, no normalisation), in
/// a stack buffer of at most [`MIN_DISTINCT_CHARS`] characters: no copy of the passphrase.
pub fn check(passphrase: &str) -> Result<(), WeakPassphrase> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(WeakPassphrase::TooShort);
    }
    let mut distinct = ['\0'; MIN_DISTINCT_CHARS];
    let mut found = 0;
    for c in passphrase.chars() {
        if !distinct[..found].contains(&c) {
            distinct[found] = c;
            found += 1;
            if found == MIN_DISTINCT_CHARS {
                break;
            }
        }
    }
    if found < MIN_DISTINCT_CHARS {
        return Err(WeakPassphrase::Repetitive);
    }
    let is_run = |run: &str| {
        let forwards = passphrase
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .zip(passphrase.chars().skip(1).map(|c| c.to_ascii_lowercase()));
        // Every neighbour pair is a neighbour pair of the run (in one direction).
        let pairs: Vec<(char, char)> = run.chars().zip(run.chars().skip(1)).collect();
        let mut up = true;
        let mut down = true;
        for (a, b) in forwards {
            up &= pairs.contains(&(a, b));
            down &= pairs.contains(&(b, a));
        }
        up || down
    };
    if RUNS.iter().any(|run| is_run(run)) {
        return Err(WeakPassphrase::Run);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passphrases_are_refused_with_the_rule_they_break() {
        for (weak, why) in [
            ("", WeakPassphrase::TooShort),
            ("p", WeakPassphrase::TooShort),
            ("ninechars", WeakPassphrase::TooShort),
            ("aaaaaaaaaaaa", WeakPassphrase::Repetitive),
            ("abababababab", WeakPassphrase::Repetitive),
            ("abcdabcdabcd", WeakPassphrase::Repetitive),
            ("1234567890", WeakPassphrase::Run),
            ("0987654321", WeakPassphrase::Run),
            ("abcdefghijkl", WeakPassphrase::Run),
            ("QWERTYUIOP", WeakPassphrase::Run),
            ("poiuytrewq", WeakPassphrase::Run),
        ] {
            assert_eq!(check(weak), Err(why), "{weak:?}");
        }
        for strong in [
            "correct horse battery staple",
            "tenchars!x",
            "dünya çok güzel",
            "密码是一个很长的句子",
            "1234567890x",
        ] {
            assert_eq!(check(strong), Ok(()), "{strong:?}");
        }
    }
}
