//! Search result entries read without panicking: ldap3's `SearchEntry::construct` panics on
//! an entry whose structure is not the one RFC 4511 gives (a missing DN, a DN or attribute
//! type that is not UTF-8, a value that is not an OCTET STRING…), so the shape is checked
//! first and a malformed entry is `None`.

use ldap3::asn1::{PL, StructureTag};
use ldap3::{ResultEntry, SearchEntry};

/// The entry `result` holds, or `None` if it is not a well-formed `SearchResultEntry`.
pub fn entry_of(result: ResultEntry) -> Option<SearchEntry> {
    well_formed(&result.0).then(|| SearchEntry::construct(result))
}

/// `[APPLICATION 4] SEQUENCE { objectName LDAPDN, attributes SEQUENCE OF SEQUENCE { type,
/// vals SET OF value } }`, as `construct` reads it (it ignores anything after the two).
fn well_formed(tag: &StructureTag) -> bool {
    let PL::C(parts) = &tag.payload else {
        return false;
    };
    let [dn, attributes, ..] = parts.as_slice() else {
        return false;
    };
    let PL::C(attributes) = &attributes.payload else {
        return false;
    };
    tag.id == 4 && is_text(dn) && attributes.iter().all(well_formed_attribute)
}

fn well_formed_attribute(attribute: &StructureTag) -> bool {
    let PL::C(parts) = &attribute.payload else {
        return false;
    };
    let [kind, values, ..] = parts.as_slice() else {
        return false;
    };
    let PL::C(values) = &values.payload else {
        return false;
    };
    is_text(kind) && values.iter().all(|v| matches!(v.payload, PL::P(_)))
}

/// A primitive whose content is UTF-8.
fn is_text(tag: &StructureTag) -> bool {
    matches!(&tag.payload, PL::P(bytes) if std::str::from_utf8(bytes).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ber: &[u8]) -> Option<SearchEntry> {
        let (_, tag) = ldap3::asn1::parse_tag(ber).expect("BER");
        entry_of(ResultEntry::new(tag))
    }

    /// Found by the `directory` fuzz target (docs/fuzzing.md) in 172 executions: an answer
    /// with protocol op 4 that is a primitive, not a sequence, made ldap3 panic ("entry").
    #[test]
    fn primitive_search_entry_is_refused_not_a_panic() {
        assert!(entry(&[0x04, 0x80, 0x02, 0x01, 0x2c]).is_none());
    }

    /// The same without a DN or attributes (`[APPLICATION 4] { "" }`): ldap3 panicked
    /// ("element").
    #[test]
    fn search_entry_without_attributes_is_refused_not_a_panic() {
        assert!(entry(&[0x64, 0x02, 0x04, 0x00]).is_none());
    }

    /// The other shapes ldap3 would panic on: no DN, a DN that is not UTF-8, attributes
    /// that are not a sequence, an attribute without values, a constructed value.
    #[test]
    fn malformed_search_entries_are_refused_not_a_panic() {
        for ber in [
            &[0x64, 0x00][..],
            &[0x64, 0x05, 0x04, 0x01, 0xff, 0x30, 0x00][..],
            &[0x64, 0x05, 0x04, 0x01, b'x', 0x04, 0x00][..],
            &[
                0x64, 0x09, 0x04, 0x01, b'x', 0x30, 0x04, 0x30, 0x02, 0x04, 0x00,
            ][..],
            &[
                0x64, 0x0d, 0x04, 0x01, b'x', 0x30, 0x08, 0x30, 0x06, 0x04, 0x00, 0x31, 0x02, 0x30,
                0x00,
            ][..],
        ] {
            assert!(entry(ber).is_none(), "{ber:02x?}");
        }
    }

    /// A well-formed entry reads as before: its DN, a text value and a binary one.
    #[test]
    fn well_formed_search_entry_reads() {
        let ber = [
            0x64, 0x1e, 0x04, 0x06, b'c', b'n', b'=', b'a', b'l', b'i', 0x30, 0x14, 0x30, 0x08,
            0x04, 0x01, b'u', 0x31, 0x03, 0x04, 0x01, b'a', 0x30, 0x08, 0x04, 0x01, b'g', 0x31,
            0x03, 0x04, 0x01, 0xff,
        ];
        let read = entry(&ber[..]).expect("a well-formed entry");
        assert_eq!(read.dn, "cn=ali");
        assert_eq!(read.attrs["u"], ["a"]);
        assert_eq!(read.bin_attrs["g"], [vec![0xff]]);
    }
}
