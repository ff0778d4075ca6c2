//! The directory's answers as the connectors read them. A case is text read four ways: as a
//! diagnostic (AD's `80090308: … data 52e`, `0000052D: …`, `00000056`), as the bytes of a
//! ppolicy response control (BER), as the BER of a search result entry, and as an LDIF-like entry (`dn: …`, `name: value`,
//! `name:: hex` for a binary value), which is read as an AD account, an OpenLDAP account
//! and an OpenLDAP password policy; each line is also read as a GUID, a GeneralizedTime and
//! a DN. Invariants: a GUID's text reads back to its bytes and back; a normalized DN
//! normalizes to itself; an OpenLDAP account's id is the entry's `entryUUID`.
#![no_main]

use std::collections::HashMap;

use cityauth_server::fuzzing as f;
use ldap3::SearchEntry;
use libfuzzer_sys::fuzz_target;

fn hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    (text.len() % 2 == 0).then_some(())?;
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

fn entry(text: &str) -> SearchEntry {
    let mut entry = SearchEntry {
        dn: String::new(),
        attrs: HashMap::new(),
        bin_attrs: HashMap::new(),
    };
    for line in text.lines() {
        if let Some((name, value)) = line.split_once(":: ") {
            if let Some(bytes) = hex(value) {
                entry
                    .bin_attrs
                    .entry(name.to_owned())
                    .or_default()
                    .push(bytes);
            }
        } else if let Some((name, value)) = line.split_once(": ") {
            if name == "dn" {
                entry.dn = value.to_owned();
            } else {
                entry
                    .attrs
                    .entry(name.to_owned())
                    .or_default()
                    .push(value.to_owned());
            }
        }
    }
    entry
}

fn line(text: &str) {
    if let Some(bytes) = f::ad_guid_from_text(text) {
        let again = f::ad_guid_to_text(&bytes).expect("16 bytes have a text form");
        assert!(
            again.eq_ignore_ascii_case(text),
            "GUID text round trip: {text}"
        );
        assert_eq!(f::ad_guid_from_text(&again), Some(bytes));
    }
    let _ = f::openldap_generalized_time(text);
    let _ = f::openldap_is_uuid(text);
    let normal = f::openldap_normalize_dn(text);
    assert_eq!(
        f::openldap_normalize_dn(&normal),
        normal,
        "normalize_dn is idempotent: {text:?}"
    );
}

fuzz_target!(|bytes: &[u8]| {
    let _ = f::ldap_entry(bytes);
    let _ = f::openldap_ppolicy_error(bytes);
    if let Some(guid) = f::ad_guid_to_text(bytes) {
        assert_eq!(
            f::ad_guid_from_text(&guid).as_ref().map(|b| &b[..]),
            Some(bytes)
        );
    }
    let text = String::from_utf8_lossy(bytes);
    let _ = f::ad_refused_bind(&text);
    let _ = f::ad_password_refusal(&text, Some(7));
    let _ = f::ad_wrong_old_password(&text);
    text.lines().for_each(line);

    let entry = entry(&text);
    let _ = f::openldap_rules(&entry);
    for username in [None, Some("alice")] {
        if let Some(account) = f::openldap_account(&entry, "uid", username, 900, 1_700_000_000) {
            let ids = entry
                .attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("entryUUID"));
            assert_eq!(ids.and_then(|(_, v)| v.first()), Some(&account.id.0));
        }
    }
    let _ = f::ad_account(entry, "sAMAccountName");
});
