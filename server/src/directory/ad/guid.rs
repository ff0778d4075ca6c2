//! `objectGUID`: the 16 bytes AD stores, and the canonical text form used as the account's
//! stable id (`6ea2384b-a529-47c3-be9b-2e325ce302e7`, the first three fields little-endian,
//! as Windows and Samba print it).

/// The canonical text form of a 16-byte `objectGUID`; `None` if it is not 16 bytes.
pub fn to_text(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10..]
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    ))
}

/// The 16 bytes of a GUID in canonical text form (either case); `None` if it is not one.
pub fn from_text(text: &str) -> Option<[u8; 16]> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    if groups.len() != 5 || groups.iter().zip(lengths).any(|(g, n)| g.len() != n) {
        return None;
    }
    let hex: String = groups.concat();
    let mut plain = [0u8; 16];
    for (i, byte) in plain.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2)?;
        if !pair.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    // The text shows the first three fields big-endian; AD stores them little-endian.
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    let mut stored = [0u8; 16];
    for (to, from) in stored.iter_mut().zip(order) {
        *to = plain[from];
    }
    Some(stored)
}

/// `bytes` as a filter assertion value: every byte escaped (`\4b\38…`, RFC 4515), since a
/// GUID's bytes may be anything.
pub fn filter_value(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_swaps_the_first_three_fields_as_windows_prints_them() {
        // An objectGUID Samba gave an account (`Sziybimlw0e+my4yXOMC5w==` from ldapsearch) and
        // its text form as Python's uuid.UUID(bytes_le=...) prints it.
        let stored = [
            0x4b, 0x38, 0xb2, 0x6e, 0x29, 0xa5, 0xc3, 0x47, 0xbe, 0x9b, 0x2e, 0x32, 0x5c, 0xe3,
            0x02, 0xe7,
        ];
        let text = to_text(&stored).unwrap();
        assert_eq!(text, "6eb2384b-a529-47c3-be9b-2e325ce302e7");
        assert_eq!(from_text(&text), Some(stored));
        assert_eq!(from_text(&text.to_uppercase()), Some(stored));
    }

    #[test]
    fn malformed_ids_are_not_guids() {
        for bad in [
            "",
            "6ea2384b-a529-47c3-be9b-2e325ce302e",
            "6ea2384b-a529-47c3-be9b2e325ce302e7",
            "6ea2384b-a529-47c3-be9b-2e325ce302g7",
            "6ea2384b-a529-47c3-be9b-2e325ce302e7-",
            "+ea2384b-a529-47c3-be9b-2e325ce302e7",
            "*)(objectClass=*",
        ] {
            assert_eq!(from_text(bad), None, "{bad}");
        }
        assert_eq!(to_text(&[1, 2, 3]), None);
    }

    #[test]
    fn every_byte_of_a_guid_is_escaped_in_a_filter() {
        assert_eq!(filter_value(&[0x28, 0x2a, 0x00, 0xff]), "\\28\\2a\\00\\ff");
    }
}
