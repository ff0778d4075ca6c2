//! otpauth:// links (core's parser) and cityauth://enroll links (protocol's parser).
//! Invariant: whatever parses, written back out, parses to the same value.
#![no_main]

use cityauth_core::otpauth;
use cityauth_protocol::EnrollmentLink;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(account) = otpauth::parse(text) {
        let written = otpauth::write(&account);
        let again = otpauth::parse(&written).expect("a written otpauth link parses");
        assert_eq!(again, account, "otpauth round trip changed the account");
    }
    if let Ok(link) = EnrollmentLink::parse(text) {
        let written = link.to_link();
        let again = EnrollmentLink::parse(&written).expect("a written enrollment link parses");
        assert_eq!(again, link, "enrollment link round trip changed it");
    }
});
