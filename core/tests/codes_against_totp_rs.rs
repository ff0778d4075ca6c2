//! Our codes against an independent implementation, `totp-rs`: TOTP with every hash,
//! length and period, HOTP (a 1-second TOTP at time = counter), and Steam Guard.

use cityauth_core::SecretBytes;
use cityauth_core::otp::{self, Algorithm, OtpParams};
use proptest::prelude::*;
use totp_rs::{Builder, TotpError};

fn theirs(algorithm: Algorithm) -> totp_rs::Algorithm {
    match algorithm {
        Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
        Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
        Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
    }
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(vec![Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512])
}

/// totp-rs refuses secrets under 128 bits in its compliant builder.
fn secret() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 16..=64)
}

/// Unix times up to 2^40 (the year 36812), weighted towards step boundaries.
fn time() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => 0u64..=1 << 40,
        1 => (0u64..=(1 << 40) / 30).prop_flat_map(|step| (step * 30)..=(step * 30 + 1)),
        1 => Just(0u64),
        1 => Just(1u64 << 40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn totp_codes_match_totp_rs(
        secret in secret(),
        algorithm in algorithm(),
        digits in 6u8..=8,
        period in 1u32..=3600,
        time in time(),
    ) {
        let params = OtpParams::totp(algorithm, digits, period).unwrap();
        let ours = otp::code_at_time(&SecretBytes::new(secret.clone()), &params, time);
        let reference = Builder::new()
            .with_algorithm(theirs(algorithm))
            .with_digits(digits)
            .with_step_duration(period.into())
            .with_secret(secret)
            .build()
            .unwrap();
        prop_assert_eq!(ours.code.as_str(), reference.generate(time).to_string());
        prop_assert_eq!(ours.remaining, reference.next_step(time) - time);
    }

    #[test]
    fn hotp_codes_match_totp_rs_at_one_second_steps(
        secret in secret(),
        algorithm in algorithm(),
        digits in 6u8..=8,
        counter in prop_oneof![any::<u64>(), 0u64..1000, Just(u64::MAX)],
    ) {
        let params = OtpParams::hotp(algorithm, digits, counter).unwrap();
        let ours = otp::code_at_counter(&SecretBytes::new(secret.clone()), &params, counter);
        let reference = Builder::new()
            .with_algorithm(theirs(algorithm))
            .with_digits(digits)
            .with_step_duration(1)
            .with_secret(secret)
            .build()
            .unwrap();
        prop_assert_eq!(ours.as_str(), reference.generate(counter).to_string());
    }

    #[test]
    fn steam_codes_match_totp_rs(
        secret in secret(),
        // Steam itself uses 30 s; totp-rs warns that other steps are not Steam's, but the
        // arithmetic is the same and we accept any period.
        period in prop_oneof![3 => Just(30u32), 1 => 1u32..=3600],
        time in time(),
    ) {
        let params = OtpParams::steam(period).unwrap();
        let ours = otp::code_at_time(&SecretBytes::new(secret.clone()), &params, time);
        let reference = Builder::new_steam()
            .with_step_duration(period.into())
            .with_secret(secret)
            .build()
            .unwrap();
        let code = ours.code.as_str();
        prop_assert_eq!(code, reference.generate(time).to_string());
        prop_assert_eq!(code.len(), 5);
        prop_assert!(code.bytes().all(|c| b"23456789BCDFGHJKMNPQRTVWXY".contains(&c)), "{}", code);
        prop_assert_eq!(ours.remaining, reference.next_step(time) - time);
    }
}

/// An 80-bit secret (`JBSWY3DPEHPK3PXP`), which RFC 4226 allows ("MUST be at least 128
/// bits", but "RECOMMENDED" 160, and real sites hand out 80) and which totp-rs's compliant
/// builder refuses: this is why we compute codes ourselves rather than through it.
#[test]
fn an_80_bit_secret_gives_codes_totp_rs_refuses_to_make() {
    let secret = SecretBytes::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    assert_eq!(secret.len(), 10);
    // Known answers computed independently (Python's hmac over the same bytes).
    let six = OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap();
    let eight = OtpParams::totp(Algorithm::Sha1, 8, 30).unwrap();
    for (time, code6, code8) in [
        (59, "996554", "41996554"),
        (1111111109, "071271", "33071271"),
        (1234567890, "742275", "94742275"),
        (2000000000, "890699", "28890699"),
    ] {
        assert_eq!(
            otp::code_at_time(&secret, &six, time).code.as_str(),
            code6,
            "at {time}"
        );
        assert_eq!(
            otp::code_at_time(&secret, &eight, time).code.as_str(),
            code8,
            "at {time}"
        );
    }

    let refused = Builder::new()
        .with_secret(secret.expose().to_vec())
        .build()
        .unwrap_err();
    assert_eq!(refused, TotpError::SecretTooShort { bits: 80 });
    // Its non-compliant builder agrees with us, so the refusal is policy, not arithmetic.
    let lenient = Builder::new()
        .with_secret(secret.expose().to_vec())
        .build_noncompliant();
    assert_eq!(lenient.generate(59).to_string(), "996554");
}
