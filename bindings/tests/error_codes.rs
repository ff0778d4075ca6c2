//! The stable error codes apps translate (docs/error-codes.md): each case has its own code,
//! the codes are the documented ones, and real failures through the surface carry them.

use std::collections::HashSet;

use cityauth_ffi::{CityAuthError, KdfSettings, Vault, error_code};

const CHEAP: KdfSettings = KdfSettings {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

/// One value of every case, with the code docs/error-codes.md gives it.
fn every_case() -> Vec<(CityAuthError, &'static str)> {
    let d = || "message".to_owned();
    let f = || "field".to_owned();
    vec![
        (CityAuthError::NotFound { detail: d() }, "not_found"),
        (
            CityAuthError::AlreadyExists { detail: d() },
            "already_exists",
        ),
        (CityAuthError::NotAVault { detail: d() }, "not_a_vault"),
        (
            CityAuthError::WrongPassphrase { detail: d() },
            "wrong_passphrase",
        ),
        (CityAuthError::Locked { detail: d() }, "locked"),
        (
            CityAuthError::NoMatchingSlot { detail: d() },
            "no_matching_slot",
        ),
        (CityAuthError::KeyStore { detail: d() }, "key_store"),
        (CityAuthError::Integrity { detail: d() }, "integrity"),
        (
            CityAuthError::InvalidLink {
                field: f(),
                detail: d(),
            },
            "invalid_link",
        ),
        (
            CityAuthError::InvalidInput {
                field: f(),
                detail: d(),
            },
            "invalid_input",
        ),
        (
            CityAuthError::UnknownAccount { id: 1, detail: d() },
            "unknown_account",
        ),
        (
            CityAuthError::WrongAccountKind { id: 1, detail: d() },
            "wrong_account_kind",
        ),
        (CityAuthError::Busy { detail: d() }, "busy"),
        (CityAuthError::Storage { detail: d() }, "storage"),
        (CityAuthError::Network { detail: d() }, "network"),
        (
            CityAuthError::ServerRefused {
                status: 403,
                code: "locked".into(),
                detail: d(),
            },
            "server_refused",
        ),
        (
            CityAuthError::ServerUntrusted { detail: d() },
            "server_untrusted",
        ),
        (CityAuthError::Expired { detail: d() }, "expired"),
        (
            CityAuthError::WrongNumberFormat {
                digits: 2,
                detail: d(),
            },
            "wrong_number_format",
        ),
        (CityAuthError::NotEnrolled { detail: d() }, "not_enrolled"),
        (
            CityAuthError::AlreadyEnrolled {
                username: "alice".into(),
                detail: d(),
            },
            "already_enrolled",
        ),
        (
            CityAuthError::PasswordRequired { detail: d() },
            "password_required",
        ),
        (
            CityAuthError::WrongPassword { detail: d() },
            "wrong_password",
        ),
        (CityAuthError::DamagedFile { detail: d() }, "damaged_file"),
        (
            CityAuthError::UnknownFormat { detail: d() },
            "unknown_format",
        ),
        (
            CityAuthError::UnsupportedFile { detail: d() },
            "unsupported_file",
        ),
        (
            CityAuthError::MissingBatchParts {
                missing: vec![2],
                total: 3,
                detail: d(),
            },
            "missing_batch_parts",
        ),
        (
            CityAuthError::AlreadyCommitted { detail: d() },
            "already_committed",
        ),
        (CityAuthError::Cancelled { detail: d() }, "cancelled"),
    ]
}

#[test]
fn each_case_maps_to_its_documented_code() {
    let cases = every_case();
    let docs = include_str!("../../docs/error-codes.md");
    let mut seen = HashSet::new();
    for (error, expected) in cases {
        assert_eq!(error.code(), expected, "{error:?}");
        assert_eq!(error_code(error.clone()).unwrap(), expected);
        assert!(seen.insert(expected), "{expected} is used by two cases");
        assert!(
            docs.contains(&format!("`{expected}`")),
            "docs/error-codes.md does not list `{expected}`"
        );
    }
    // The English message stays the error's text; the code is beside it, not in it.
    let error = CityAuthError::WrongPassphrase {
        detail: "wrong passphrase".into(),
    };
    assert_eq!(error.to_string(), "wrong passphrase");
}

#[test]
fn real_failures_carry_their_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.sqlite").to_string_lossy().into_owned();
    let missing = Vault::open(path.clone()).err().expect("no vault there yet");
    assert_eq!(missing.code(), "not_found");

    Vault::create(path.clone(), "the right passphrase".into(), Some(CHEAP)).unwrap();
    let again = Vault::create(path.clone(), "another one".into(), Some(CHEAP))
        .err()
        .unwrap();
    assert_eq!(again.code(), "already_exists");

    let vault = Vault::open(path).unwrap();
    assert_eq!(vault.accounts().unwrap_err().code(), "locked");
    let wrong = vault
        .unlock_with_passphrase("not the passphrase".into())
        .unwrap_err();
    assert_eq!(wrong.code(), "wrong_passphrase");
    // The message is still the English one, and it holds no passphrase.
    assert!(!wrong.to_string().contains("not the passphrase"));

    vault
        .unlock_with_passphrase("the right passphrase".into())
        .unwrap();
    let link = vault
        .add_from_link("otpauth://totp/A:b?secret=***".into())
        .unwrap_err();
    assert_eq!(link.code(), "invalid_link");
    assert_eq!(vault.next_hotp(99).unwrap_err().code(), "unknown_account");
}
