//! Import, backup and export through the FFI surface, on the real export files of
//! transfer/tests/fixtures (plain.txt lists their seven accounts as otpauth links).

use std::sync::Arc;

use cityauth_core::{Account, otpauth};
use cityauth_ffi::{CityAuthError, KdfSettings, OtpKind, Vault};

const CHEAP: KdfSettings = KdfSettings {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../transfer/tests/fixtures/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

/// The seven reference accounts, in file order.
fn reference_accounts() -> Vec<Account> {
    parse_links(&String::from_utf8(fixture("plain.txt")).unwrap())
}

fn parse_links(text: &str) -> Vec<Account> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| otpauth::parse(line.trim()).unwrap())
        .collect()
}

/// A fresh unlocked vault in its own folder (kept alive by the returned guard).
fn new_vault() -> (tempfile::TempDir, Arc<Vault>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.sqlite").to_string_lossy().into_owned();
    let vault = Vault::create(path, "vault passphrase".into(), Some(CHEAP)).unwrap();
    (dir, vault)
}

/// The vault's accounts, secrets included, read back through the otpauth export.
fn accounts_in(vault: &Vault) -> Vec<Account> {
    parse_links(&vault.export_links().unwrap())
}

fn import_aegis(vault: &Vault) -> Vec<i64> {
    vault
        .preview_import(fixture("aegis_encrypted.json"), None, Some("test".into()))
        .unwrap()
        .commit()
        .unwrap()
}

#[test]
fn an_encrypted_aegis_file_is_previewed_then_committed_with_every_account() {
    let (_dir, vault) = new_vault();
    let preview = vault
        .preview_import(fixture("aegis_encrypted.json"), None, Some("test".into()))
        .unwrap();
    let report = preview.report().unwrap();
    let reference = reference_accounts();
    assert_eq!(report.format, "aegis");
    assert!(report.duplicates.is_empty() && report.rejected.is_empty());
    let shown: Vec<(String, String)> = report
        .to_add
        .iter()
        .map(|a| (a.issuer.clone(), a.name.clone()))
        .collect();
    let expected: Vec<(String, String)> = reference
        .iter()
        .map(|a| (a.issuer().to_owned(), a.name().to_owned()))
        .collect();
    assert_eq!(shown, expected);
    let kinds: Vec<_> = report.to_add.iter().map(|a| a.kind).collect();
    let expected_kinds: Vec<_> = reference
        .iter()
        .map(|a| OtpKind::from(a.params().kind()))
        .collect();
    assert_eq!(kinds, expected_kinds);
    // The preview writes nothing, and shows no secret.
    assert!(vault.accounts().unwrap().is_empty());
    let dump = format!("{report:?}");
    for account in &reference {
        let link = otpauth::write(account);
        let secret = link
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        assert!(!dump.contains(secret), "the report shows a secret");
    }

    let ids = preview.commit().unwrap();
    assert_eq!(ids.len(), 7);
    let listed: Vec<i64> = vault.accounts().unwrap().iter().map(|a| a.id).collect();
    assert_eq!(listed, ids);
    assert_eq!(accounts_in(&vault), reference);
}

#[test]
fn a_password_is_asked_for_then_a_wrong_one_is_refused_then_the_right_one_opens() {
    let (_dir, vault) = new_vault();
    let file = fixture("aegis_encrypted.json");
    let missing = vault
        .preview_import(file.clone(), None, None)
        .err()
        .unwrap();
    assert!(
        matches!(missing, CityAuthError::PasswordRequired { .. }),
        "{missing:?}"
    );
    let wrong = vault
        .preview_import(
            file.clone(),
            Some("aegis".into()),
            Some("not-it-7731".into()),
        )
        .err()
        .unwrap();
    match &wrong {
        CityAuthError::WrongPassword { detail } => {
            assert!(!detail.is_empty());
            assert!(!detail.contains("not-it-7731"));
        }
        other => panic!("expected WrongPassword, got {other:?}"),
    }
    let preview = vault
        .preview_import(file, Some("aegis".into()), Some("test".into()))
        .unwrap();
    assert_eq!(preview.report().unwrap().to_add.len(), 7);
}

#[test]
fn a_second_commit_is_refused_and_imports_nothing_more() {
    let (_dir, vault) = new_vault();
    let preview = vault
        .preview_import(fixture("aegis_encrypted.json"), None, Some("test".into()))
        .unwrap();
    preview.commit().unwrap();
    let again = preview.commit().unwrap_err();
    assert!(
        matches!(again, CityAuthError::AlreadyCommitted { .. }),
        "{again:?}"
    );
    assert_eq!(vault.accounts().unwrap().len(), 7);
}

#[test]
fn a_failed_commit_adds_nothing_and_can_be_retried() {
    let (_dir, vault) = new_vault();
    let preview = vault
        .preview_import(fixture("plain.txt"), None, None)
        .unwrap();
    vault.lock().unwrap();
    assert!(matches!(
        preview.commit().unwrap_err(),
        CityAuthError::Locked { .. }
    ));
    vault
        .unlock_with_passphrase("vault passphrase".into())
        .unwrap();
    assert!(vault.accounts().unwrap().is_empty());
    assert_eq!(preview.commit().unwrap().len(), 7);
}

#[test]
fn importing_again_finds_every_account_already_there() {
    let (_dir, vault) = new_vault();
    let ids = import_aegis(&vault);
    let report = vault
        .preview_import(fixture("plain.txt"), None, None)
        .unwrap()
        .report()
        .unwrap();
    assert_eq!(report.format, "links");
    assert!(report.to_add.is_empty());
    let existing: Vec<Option<i64>> = report.duplicates.iter().map(|d| d.existing_id).collect();
    assert_eq!(existing, ids.into_iter().map(Some).collect::<Vec<_>>());
    assert_eq!(report.duplicates[0].location, "line 1");

    // Twice in one file: the second copies repeat the first, not a vault account.
    let (_dir2, fresh) = new_vault();
    let twice = [fixture("plain.txt"), fixture("plain.txt")].concat();
    let report = fresh
        .preview_import(twice, None, None)
        .unwrap()
        .report()
        .unwrap();
    assert_eq!(report.to_add.len(), 7);
    assert_eq!(report.duplicates.len(), 7);
    assert!(report.duplicates.iter().all(|d| d.existing_id.is_none()));
}

#[test]
fn a_backup_restores_the_same_accounts_into_a_fresh_vault() {
    let (_dir, vault) = new_vault();
    import_aegis(&vault);
    let hotp = vault
        .accounts()
        .unwrap()
        .into_iter()
        .find(|a| a.kind == OtpKind::Hotp)
        .unwrap();
    vault.next_hotp(hotp.id).unwrap();
    let bytes = vault.backup("backup words".into()).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("\"cityauth-backup\""));
    assert!(
        !text.contains(hotp.name.as_str()),
        "a backup must not show labels in clear"
    );

    let (_dir2, fresh) = new_vault();
    let missing = fresh
        .preview_import(bytes.clone(), Some("cityauth".into()), None)
        .err()
        .unwrap();
    assert!(matches!(missing, CityAuthError::PasswordRequired { .. }));
    let wrong = fresh
        .preview_import(bytes.clone(), Some("cityauth".into()), Some("other".into()))
        .err()
        .unwrap();
    assert!(matches!(wrong, CityAuthError::WrongPassword { .. }));
    let preview = fresh
        .preview_import(bytes, Some("cityauth".into()), Some("backup words".into()))
        .unwrap();
    assert_eq!(preview.report().unwrap().format, "cityauth");
    preview.commit().unwrap();
    assert_eq!(accounts_in(&fresh), accounts_in(&vault));
    let labels = |v: &Vault| {
        v.accounts()
            .unwrap()
            .into_iter()
            .map(|a| (a.issuer, a.name, a.kind, a.digits, a.period, a.counter))
            .collect::<Vec<_>>()
    };
    assert_eq!(labels(&fresh), labels(&vault));
    assert_eq!(fresh.codes_at(1_700_000_000).unwrap().len(), 4);
    let codes = |v: &Vault| {
        v.codes_at(1_700_000_000)
            .unwrap()
            .into_iter()
            .map(|c| c.code)
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&fresh), codes(&vault));

    let empty = vault.backup(String::new().into()).unwrap_err();
    assert!(
        matches!(empty, CityAuthError::InvalidInput { ref field, .. } if field == "passphrase")
    );
}

#[test]
fn google_export_leaves_out_what_google_cannot_hold_and_imports_back() {
    let (_dir, vault) = new_vault();
    let ids = import_aegis(&vault);
    let export = vault.export_google_links().unwrap();
    let listed = vault.accounts().unwrap();
    // Documented limits: no Steam codes, no 7-digit codes.
    for account in &listed {
        let refused = export.refused.iter().any(|r| r.id == account.id);
        if account.kind == OtpKind::Steam || account.digits == 7 {
            assert!(refused, "{} should be refused", account.name);
        }
    }
    assert!(
        export
            .refused
            .iter()
            .all(|r| !r.reason.is_empty() && ids.contains(&r.id))
    );
    assert!(!export.links.is_empty());
    assert!(
        export
            .links
            .iter()
            .all(|l| l.starts_with("otpauth-migration://"))
    );

    let (_dir2, fresh) = new_vault();
    let back = fresh
        .preview_import(export.links.join("\n").into_bytes(), None, None)
        .unwrap();
    assert_eq!(
        back.report().unwrap().to_add.len() + export.refused.len(),
        7
    );
    back.commit().unwrap();
    let kept: Vec<Account> = vault
        .accounts()
        .unwrap()
        .iter()
        .zip(accounts_in(&vault))
        .filter(|(info, _)| !export.refused.iter().any(|r| r.id == info.id))
        .map(|(_, account)| account)
        .collect();
    assert_eq!(accounts_in(&fresh), kept);
}

#[test]
fn a_google_export_missing_a_part_names_the_missing_part() {
    let (_dir, vault) = new_vault();
    for n in 0..12 {
        vault
            .add_from_link(
                format!(
                    "otpauth://totp/Svc{n}:user{n}?secret=JBSWY3DPEHPK3PX{}",
                    char::from(b'A' + n)
                )
                .into(),
            )
            .unwrap();
    }
    let export = vault.export_google_links().unwrap();
    assert_eq!(export.links.len(), 2);
    let (_dir2, fresh) = new_vault();
    let error = fresh
        .preview_import(export.links[0].clone().into_bytes(), None, None)
        .err()
        .unwrap();
    match error {
        CityAuthError::MissingBatchParts {
            missing,
            total,
            detail,
        } => {
            assert_eq!((missing, total), (vec![2], 2));
            assert!(detail.contains("part 2"), "{detail}");
        }
        other => panic!("expected MissingBatchParts, got {other:?}"),
    }
}

#[test]
fn unreadable_files_get_typed_errors() {
    let (_dir, vault) = new_vault();
    let unknown = vault
        .preview_import(b"\x00\x01 nothing".to_vec(), None, None)
        .err()
        .unwrap();
    assert!(
        matches!(unknown, CityAuthError::UnknownFormat { .. }),
        "{unknown:?}"
    );
    let named = vault
        .preview_import(fixture("plain.txt"), Some("keepass".into()), None)
        .err()
        .unwrap();
    assert!(matches!(named, CityAuthError::InvalidInput { ref field, .. } if field == "format"));
    let mut cut = fixture("aegis_encrypted.json");
    cut.truncate(cut.len() / 2);
    let damaged = vault
        .preview_import(cut, Some("aegis".into()), Some("test".into()))
        .err()
        .unwrap();
    assert!(
        matches!(damaged, CityAuthError::DamagedFile { .. }),
        "{damaged:?}"
    );
    let huge = vault
        .preview_import(
            vec![b'a'; cityauth_transfer::MAX_IMPORT_BYTES + 1],
            None,
            None,
        )
        .err()
        .unwrap();
    assert!(matches!(huge, CityAuthError::InvalidInput { ref field, .. } if field == "file"));
    vault.lock().unwrap();
    let locked = vault
        .preview_import(fixture("plain.txt"), None, None)
        .err()
        .unwrap();
    assert!(matches!(locked, CityAuthError::Locked { .. }), "{locked:?}");
}

/// Issue 10, item 5: an import cancelled by the host from another thread, through the FFI's
/// `ImportCancel`, fails with `Cancelled` and adds nothing; the same file with a fresh
/// handle imports.
#[test]
fn an_import_cancelled_from_another_thread_through_the_ffi_is_cancelled() {
    let (_dir, vault) = new_vault();
    let cancel = cityauth_ffi::ImportCancel::new();
    let host = Arc::clone(&cancel);
    std::thread::spawn(move || host.cancel()).join().unwrap();
    assert!(cancel.is_cancelled());
    let result = vault.preview_import_cancellable(
        fixture("aegis_encrypted.json"),
        None,
        Some("test".into()),
        cancel,
    );
    assert!(
        matches!(result, Err(CityAuthError::Cancelled { .. })),
        "{:?}",
        result.err()
    );
    assert!(accounts_in(&vault).is_empty());
    let preview = vault
        .preview_import_cancellable(
            fixture("aegis_encrypted.json"),
            None,
            Some("test".into()),
            cityauth_ffi::ImportCancel::new(),
        )
        .unwrap();
    assert_eq!(preview.commit().unwrap().len(), 7);
}

/// Issue 10, item 5: a hostile file past the bounds is a typed error on the FFI, never an
/// abort: sixteen million CSV commas.
#[test]
fn a_file_past_the_import_bounds_is_invalid_input_on_the_ffi() {
    let (_dir, vault) = new_vault();
    let mut csv = b"name,login_totp\n".to_vec();
    csv.extend(b",".repeat(16_000_000));
    let result = vault.preview_import(csv, None, None);
    assert!(
        matches!(&result, Err(CityAuthError::InvalidInput { field, .. }) if field == "file"),
        "{:?}",
        result.err()
    );
}
