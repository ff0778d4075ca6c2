//! Reading an OpenLDAP entry: the account it describes, its ppolicy lock, and DNs compared
//! the way the configuration writes them.

use std::time::{SystemTime, UNIX_EPOCH};

use ldap3::SearchEntry;

use crate::directory::{Account, DirectoryId};

/// `pwdAccountLockedTime`'s value for an account an administrator locked for good: what
/// this implementation counts as disabled (answered as an unknown user).
pub const DISABLED: &str = "000001010000Z";

/// The attributes read for an account, besides the user attribute.
pub const ACCOUNT_ATTRIBUTES: [&str; 5] = [
    "entryUUID",
    "displayName",
    "cn",
    "mail",
    "pwdAccountLockedTime",
];

/// An entry's lock state under ppolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// No lock.
    Open,
    /// Locked out by failed binds (or by an administrator until a given time).
    Locked,
    /// `pwdAccountLockedTime` = [`DISABLED`]: disabled.
    Disabled,
}

/// The lock state of `entry`, given the policy's `pwdLockoutDuration` (seconds; 0: locks
/// last until lifted) and the time now.
pub fn lock_of(entry: &SearchEntry, lockout_duration: u64, now: u64) -> Lock {
    let Some(value) = first(entry, "pwdAccountLockedTime") else {
        return Lock::Open;
    };
    if value == DISABLED {
        return Lock::Disabled;
    }
    match (lockout_duration, generalized_time(value)) {
        (0, _) | (_, None) => Lock::Locked,
        (duration, Some(at)) if at.saturating_add(duration) > now => Lock::Locked,
        _ => Lock::Open,
    }
}

/// The account `entry` describes, found by `username` (which of several user-attribute
/// values to call its name); `None` if it has no `entryUUID` or no username.
pub fn account_of(
    entry: &SearchEntry,
    user_attribute: &str,
    username: Option<&str>,
    lock: Lock,
    protected: bool,
) -> Option<Account> {
    let id = first(entry, "entryUUID")?.to_owned();
    let names = values(entry, user_attribute);
    let name = username
        .and_then(|wanted| names.iter().find(|n| n.eq_ignore_ascii_case(wanted)))
        .or_else(|| names.first())?
        .clone();
    let display_name = first(entry, "displayName")
        .or_else(|| first(entry, "cn"))
        .unwrap_or(&name)
        .to_owned();
    Some(Account {
        id: DirectoryId(id),
        locator: entry.dn.clone(),
        username: name,
        display_name,
        mail: first(entry, "mail").map(str::to_owned),
        protected,
        locked: lock == Lock::Locked,
    })
}

/// The values of `attribute` (matched case-insensitively, as LDAP names are).
fn values<'e>(entry: &'e SearchEntry, attribute: &str) -> &'e [String] {
    entry
        .attrs
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(attribute))
        .map(|(_, v)| v.as_slice())
        .unwrap_or(&[])
}

/// The first value of `attribute`.
pub fn first<'e>(entry: &'e SearchEntry, attribute: &str) -> Option<&'e str> {
    values(entry, attribute).first().map(String::as_str)
}

/// True if `id` has the form of an `entryUUID` (RFC 4530: 8-4-4-4-12 hex digits): anything
/// else is never sent to the directory.
pub fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A DN in one spelling for comparison: lower case, no spaces around `,`, `=` and `+`
/// (how DNs in a configuration and in a directory's answers differ in practice).
pub fn normalize_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    let mut chars = dn.trim().chars().peekable();
    let mut escaped = false;
    while let Some(c) = chars.next() {
        if !escaped && matches!(c, ',' | '=' | '+') {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push(c);
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            continue;
        }
        escaped = !escaped && c == '\\';
        out.extend(c.to_lowercase());
    }
    out
}

/// Seconds since the epoch of a GeneralizedTime `YYYYMMDDHHMMSS[.fraction]Z` (as ppolicy
/// writes them); `None` for anything else.
pub fn generalized_time(value: &str) -> Option<u64> {
    let digits = value.strip_suffix('Z')?;
    let digits = digits.split('.').next()?;
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let part = |from: usize, to: usize| digits[from..to].parse::<u64>().ok();
    let (year, month, day) = (part(0, 4)?, part(4, 6)?, part(6, 8)?);
    let (hour, minute, second) = (part(8, 10)?, part(10, 12)?, part(12, 14)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second.min(60))
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (`None` before 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).checked_sub(719_468)
}

/// Seconds since the epoch now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn entry(attrs: &[(&str, &str)]) -> SearchEntry {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in attrs {
            map.entry((*k).to_owned())
                .or_default()
                .push((*v).to_owned());
        }
        SearchEntry {
            dn: "uid=alice,ou=people,dc=city,dc=test".into(),
            attrs: map,
            bin_attrs: HashMap::new(),
        }
    }

    #[test]
    fn generalized_times_are_read_as_ppolicy_writes_them() {
        assert_eq!(generalized_time("19700101000000Z"), Some(0));
        assert_eq!(generalized_time("20261202021651Z"), Some(1_796_177_811));
        assert_eq!(
            generalized_time("20261202021651.112275Z"),
            Some(1_796_177_811)
        );
        for bad in [
            "",
            "2026",
            "20261302021651Z",
            "20261202021651",
            "2026120202165xZ",
        ] {
            assert_eq!(generalized_time(bad), None, "{bad}");
        }
        // The disabled marker is before the epoch: never a time.
        assert_eq!(generalized_time(DISABLED), None);
    }

    #[test]
    fn the_permanent_lock_marker_counts_as_disabled_and_other_locks_as_locked() {
        let now = 1_796_177_811;
        assert_eq!(lock_of(&entry(&[]), 0, now), Lock::Open);
        let disabled = entry(&[("pwdAccountLockedTime", DISABLED)]);
        assert_eq!(lock_of(&disabled, 0, now), Lock::Disabled);
        let locked = entry(&[("pwdAccountLockedTime", "20261202021651Z")]);
        assert_eq!(lock_of(&locked, 0, now), Lock::Locked);
        assert_eq!(lock_of(&locked, 600, now + 599), Lock::Locked);
        assert_eq!(lock_of(&locked, 600, now + 600), Lock::Open);
    }

    #[test]
    fn an_account_takes_display_name_then_cn_then_username() {
        let full = entry(&[
            ("entryUUID", "2a91f7a0-8242-1041-960b-c1690d9b81c6"),
            ("uid", "alice"),
            ("uid", "a.example"),
            ("displayName", "Alice Example"),
            ("cn", "Alice"),
            ("mail", "alice@city.test"),
        ]);
        let account = account_of(&full, "UID", Some("A.Example"), Lock::Open, false).unwrap();
        assert_eq!(account.username, "a.example");
        assert_eq!(account.display_name, "Alice Example");
        assert_eq!(account.mail.as_deref(), Some("alice@city.test"));
        let bare = entry(&[
            ("entryUUID", "2a91f7a0-8242-1041-960b-c1690d9b81c6"),
            ("uid", "bob"),
        ]);
        let account = account_of(&bare, "uid", None, Lock::Locked, true).unwrap();
        assert_eq!(account.display_name, "bob");
        assert!(account.locked && account.protected);
        assert!(account_of(&entry(&[("uid", "x")]), "uid", None, Lock::Open, false).is_none());
    }

    #[test]
    fn only_uuids_are_accepted_as_ids() {
        assert!(is_uuid("2a91f7a0-8242-1041-960b-c1690d9b81c6"));
        for bad in [
            "",
            "*",
            "2a91f7a0-8242-1041-960b-c1690d9b81c",
            "2a91f7a0x8242-1041-960b-c1690d9b81c6",
            "*)(uid=*))(|(uid=*-aaaa-aaaa-aaaa-aaaa",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn dns_compare_regardless_of_case_and_spaces() {
        assert_eq!(
            normalize_dn(" CN=Admins, OU=Groups ,dc=City,DC=test"),
            "cn=admins,ou=groups,dc=city,dc=test"
        );
        assert_eq!(normalize_dn("cn=a\\, b,dc=x"), "cn=a\\, b,dc=x");
    }
}
