//! Constant-time comparison of codes, numbers, nonces and MACs, shared by the device and the
//! server so that there is one implementation to review.

use subtle::ConstantTimeEq;

/// True when `a` and `b` are equal, in time that depends only on their lengths.
///
/// `subtle` keeps the optimiser from turning the comparison into an early exit (its
/// `Choice` goes through an optimisation barrier), which a hand-written fold cannot promise.
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    // Different lengths are told apart at once: lengths are not secret here.
    bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn compares_contents_and_lengths() {
        assert!(super::eq(b"42", b"42"));
        assert!(!super::eq(b"42", b"43"));
        assert!(!super::eq(b"42", b"420"));
        assert!(super::eq(b"", b""));
    }

    #[test]
    fn every_byte_position_counts() {
        let base = [0x5Au8; 32];
        for position in 0..base.len() {
            for bit in 0..8 {
                let mut other = base;
                other[position] ^= 1 << bit;
                assert!(!super::eq(&base, &other), "byte {position} bit {bit}");
            }
        }
        assert!(super::eq(&base, &base.clone()));
    }
}
