//! Entry points for the fuzz targets (`fuzz/`, docs/fuzzing.md) into parsers that are private
//! to the server: the portal's forms and the directory connectors' readings of LDAP answers.
//! Only with the `fuzzing` feature; not an API.

use ldap3::SearchEntry;

use crate::directory::{Account, DirectoryError};

/// Whether `bytes` parse as each portal and help-desk form, in a fixed order.
pub fn portal_forms(bytes: &[u8]) -> Vec<bool> {
    crate::portal::parse_forms(bytes)
}

/// AD: what a refused bind's diagnostic says (`… data 775`), as `Debug` text.
pub fn ad_refused_bind(text: &str) -> String {
    format!("{:?}", crate::directory::ad::errors::refused_bind(text))
}

/// AD: the password refusal in a constraint violation's diagnostic, as `Debug` text.
pub fn ad_password_refusal(text: &str, minimum: Option<u32>) -> Option<String> {
    crate::directory::ad::errors::password_refusal(text, minimum).map(|r| format!("{r:?}"))
}

/// AD: whether a constraint violation says the current password was wrong.
pub fn ad_wrong_old_password(text: &str) -> bool {
    crate::directory::ad::errors::wrong_old_password(text)
}

/// AD: an `objectGUID`'s text form.
pub fn ad_guid_to_text(bytes: &[u8]) -> Option<String> {
    crate::directory::ad::guid::to_text(bytes)
}

/// AD: the 16 stored bytes of a GUID's text form.
pub fn ad_guid_from_text(text: &str) -> Option<[u8; 16]> {
    crate::directory::ad::guid::from_text(text)
}

/// AD: the account a search entry describes.
pub fn ad_account(entry: SearchEntry, user_attribute: &str) -> Result<Account, DirectoryError> {
    crate::directory::ad::account_of(entry, user_attribute)
}

/// OpenLDAP: the account an entry describes, with its ppolicy lock read as of `now`.
pub fn openldap_account(
    entry: &SearchEntry,
    user_attribute: &str,
    username: Option<&str>,
    lockout_duration: u64,
    now: u64,
) -> Option<Account> {
    use crate::directory::openldap::entry;
    let lock = entry::lock_of(entry, lockout_duration, now);
    entry::account_of(entry, user_attribute, username, lock, false)
}

/// OpenLDAP: the rules a `pwdPolicy` entry states, as `Debug` text.
pub fn openldap_rules(policy: &SearchEntry) -> String {
    format!("{:?}", crate::directory::openldap::policy::rules_of(policy))
}

/// OpenLDAP: the error in a password policy response control's value, as `Debug` text.
pub fn openldap_ppolicy_error(value: &[u8]) -> Option<String> {
    crate::directory::openldap::ppolicy::parse_error(value).map(|e| format!("{e:?}"))
}

/// OpenLDAP: a GeneralizedTime's seconds since the epoch.
pub fn openldap_generalized_time(value: &str) -> Option<u64> {
    crate::directory::openldap::entry::generalized_time(value)
}

/// OpenLDAP: a DN in the one spelling used for comparison.
pub fn openldap_normalize_dn(dn: &str) -> String {
    crate::directory::openldap::entry::normalize_dn(dn)
}

/// OpenLDAP: whether `id` has an `entryUUID`'s form.
pub fn openldap_is_uuid(id: &str) -> bool {
    crate::directory::openldap::entry::is_uuid(id)
}

/// A search result entry as the connectors turn ldap3's answer into a [`SearchEntry`]: the
/// BER `bytes` parsed as a tag and, if it is what ldap3 hands a search as an entry (protocol
/// op 4, of any shape: referrals and intermediate messages are dropped before), read as one.
pub fn ldap_entry(bytes: &[u8]) -> Option<SearchEntry> {
    let (_, tag) = ldap3::asn1::parse_tag(bytes).ok()?;
    if tag.id != 4 {
        return None;
    }
    crate::directory::ldap::entry::entry_of(ldap3::ResultEntry::new(tag))
}
