//! The approximate location a challenge shows: a small built-in table of address ranges.

use std::net::IpAddr;

/// IPv4 ranges (network, prefix length, label), most specific first.
const V4: &[([u8; 4], u8, &str)] = &[
    ([127, 0, 0, 0], 8, "This computer (loopback)"),
    ([10, 0, 0, 0], 8, "City network"),
    ([172, 16, 0, 0], 12, "City network"),
    ([192, 168, 0, 0], 16, "City network"),
    (
        [100, 64, 0, 0],
        10,
        "Carrier network (shared address space)",
    ),
    ([169, 254, 0, 0], 16, "Link-local network"),
    ([192, 0, 2, 0], 24, "Documentation range (TEST-NET-1)"),
    ([198, 51, 100, 0], 24, "Documentation range (TEST-NET-2)"),
    ([203, 0, 113, 0], 24, "Documentation range (TEST-NET-3)"),
];

/// IPv6 ranges as (first 32 bits, prefix length ≤ 32, label).
const V6: &[(u32, u8, &str)] = &[
    (0xfc00_0000, 7, "City network"),
    (0xfe80_0000, 10, "Link-local network"),
    (0x2001_0db8, 32, "Documentation range (2001:db8::/32)"),
];

/// The label for `ip`, or "Unknown location".
pub fn locate(ip: IpAddr) -> &'static str {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let address = u32::from(v4);
            for (network, prefix, label) in V4 {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                if address & mask == u32::from_be_bytes(*network) & mask {
                    return label;
                }
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() {
                return "This computer (loopback)";
            }
            let high = (u128::from(v6) >> 96) as u32;
            for (network, prefix, label) in V6 {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                if high & mask == network & mask {
                    return label;
                }
            }
        }
    }
    "Unknown location"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lookups() {
        let at = |s: &str| locate(s.parse().unwrap());
        assert_eq!(at("127.0.0.1"), "This computer (loopback)");
        assert_eq!(at("::1"), "This computer (loopback)");
        assert_eq!(at("::ffff:10.1.2.3"), "City network");
        assert_eq!(at("172.31.255.1"), "City network");
        assert_eq!(at("172.32.0.1"), "Unknown location");
        assert_eq!(at("203.0.113.7"), "Documentation range (TEST-NET-3)");
        assert_eq!(at("2001:db8::1"), "Documentation range (2001:db8::/32)");
        assert_eq!(at("fd00::1"), "City network");
        assert_eq!(at("8.8.8.8"), "Unknown location");
    }
}
