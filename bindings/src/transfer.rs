//! Import, export and backup (`cityauth-transfer`) on the vault: conversions only. An import
//! is read and set against the vault first ([`Vault::preview_import`]), shown to the user as
//! an [`ImportReport`], then committed in one transaction ([`ImportPreview::commit`]).
//! Every call blocks (file parsing, the KDF of an encrypted file or backup, SQLite).

use std::sync::{Arc, Mutex, PoisonError};

use cityauth_core::{Account, KdfParams, Vault as CoreVault};
use cityauth_transfer::export;
use cityauth_transfer::{Cancel, Format, ImportPlan, backup, commit, plan, read_cancellable};
use zeroize::Zeroizing;

use crate::error::CityAuthError;
use crate::secret::{SecretString, SecretUtf8};
use crate::types::OtpKind;
use crate::vault::Vault;

type Result<T> = std::result::Result<T, CityAuthError>;

/// An account an import would add: labels and kind, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportAddition {
    /// Where it is in the file ("entry 3", "line 2", "batch 2 of 3, item 1").
    pub location: String,
    /// The service; may be empty.
    pub issuer: String,
    /// The account at the service.
    pub name: String,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
}

/// An entry an import skips because the same account (secret and parameters) is there.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportDuplicate {
    /// Where it is in the file.
    pub location: String,
    /// Its issuer and name as the file gives them.
    pub label: String,
    /// The vault account it repeats; null when it repeats an earlier entry of the file.
    pub existing_id: Option<i64>,
}

/// An entry of the file that cannot become an account.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportRejection {
    /// Where it is in the file.
    pub location: String,
    /// Its issuer and name, when the file gave them (else empty).
    pub label: String,
    /// Why, naming the field at fault (e.g. "type: yandex is not supported"); no secret.
    pub reason: String,
}

/// What an import would do, to show before `commit`. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportReport {
    /// The format the file was read as ("aegis", "2fas", "cityauth", ...).
    pub format: String,
    /// The accounts `commit` adds, in file order.
    pub to_add: Vec<ImportAddition>,
    /// Entries skipped as already in the vault or earlier in the file.
    pub duplicates: Vec<ImportDuplicate>,
    /// Entries that cannot be imported, with the reason.
    pub rejected: Vec<ImportRejection>,
}

/// An account left out of a Google Authenticator export.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportRefusal {
    /// The vault account.
    pub id: i64,
    /// Its issuer and name.
    pub label: String,
    /// Why Google Authenticator cannot hold it (Steam, 7 digits, a period other than 30 s...).
    pub reason: String,
}

/// A Google Authenticator export: the links to show as QR codes, and the accounts left out.
/// `Debug` counts the links and never shows them.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct GoogleExport {
    /// `otpauth-migration://` links, one QR code each, in order. Unencrypted secrets.
    pub links: Vec<String>,
    /// The accounts not in `links`: show them, so none is left behind unnoticed.
    pub refused: Vec<ExportRefusal>,
}

/// A handle to cancel an import from another thread (the UI's, when the user gives up):
/// pass it to `previewImportCancellable`, call `cancel()` from anywhere. The import stops at
/// its next check (before each key derivation of an Aegis slot, each part of a Google export,
/// the parse as a whole) with `Cancelled`; one key derivation, bounded, runs to its end.
#[derive(Debug, Default, uniffi::Object)]
pub struct ImportCancel(Cancel);

#[uniffi::export]
impl ImportCancel {
    /// A handle not yet tripped.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Asks the import using this handle to stop. Returns at once; any thread.
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

impl std::fmt::Debug for GoogleExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleExport")
            .field(
                "links",
                &format_args!("<{} links redacted>", self.links.len()),
            )
            .field("refused", &self.refused)
            .finish()
    }
}

/// A read file set against the vault, waiting to be committed. Thread-safe.
#[derive(uniffi::Object)]
pub struct ImportPreview {
    vault: Arc<CoreVault>,
    report: ImportReport,
    /// The accounts to add; `None` once committed, so that a second commit adds nothing.
    plan: Mutex<Option<ImportPlan>>,
}

#[uniffi::export]
impl ImportPreview {
    /// What `commit` would add, skip and refuse. Holds no secret.
    pub fn report(&self) -> Result<ImportReport> {
        Ok(self.report.clone())
    }

    /// Adds the report's `toAdd` accounts in one transaction (all or none) and returns
    /// their ids in file order. `AlreadyCommitted` when called again after a success; a
    /// failed commit (`Locked`, `Busy`, `Storage`) adds nothing and may be retried.
    pub fn commit(&self) -> Result<Vec<i64>> {
        let mut pending = self.plan.lock().unwrap_or_else(PoisonError::into_inner);
        let plan = pending
            .take()
            .ok_or_else(|| CityAuthError::AlreadyCommitted {
                detail: "this import was committed already: its accounts are in the vault".into(),
            })?;
        // A copy is committed and the plan put back on failure, so that a retry is possible;
        // the lock held throughout makes two concurrent commits impossible.
        match commit(&self.vault, plan.clone()) {
            Ok(ids) => Ok(ids.into_iter().map(|id| id.0).collect()),
            Err(error) => {
                *pending = Some(plan);
                Err(error.into())
            }
        }
    }
}

#[uniffi::export]
impl Vault {
    /// Reads an export of another authenticator (or a cityauth backup) and sets it against
    /// this vault, which must be unlocked; nothing is written until `commit`. `format`: a
    /// name ("aegis", "2fas", "andotp", "bitwarden-json", "bitwarden-csv", "freeotp-plus",
    /// "proton", "links", "cityauth"), or null to detect it. `password`: the file's, when it
    /// is encrypted. Fails with `PasswordRequired` (ask, call again), `WrongPassword`,
    /// `DamagedFile`, `UnknownFormat`, `UnsupportedFile`, `MissingBatchParts`,
    /// `InvalidInput` (field "format" or "file"), `Locked`. Blocking (the file's KDF).
    pub fn preview_import(
        &self,
        bytes: Vec<u8>,
        format: Option<String>,
        password: Option<SecretString>,
    ) -> Result<Arc<ImportPreview>> {
        self.preview_import_cancellable(bytes, format, password, ImportCancel::new())
    }

    /// `previewImport` that stops with `Cancelled` once `cancel` is tripped (from any
    /// thread): nothing is read into the preview and nothing written. Fails otherwise as
    /// `previewImport` does; a file past cityauth's bounds (entries, fields of a record,
    /// parts of an export, key-derivation work) is `InvalidInput` (field "file").
    pub fn preview_import_cancellable(
        &self,
        bytes: Vec<u8>,
        format: Option<String>,
        password: Option<SecretString>,
        cancel: Arc<ImportCancel>,
    ) -> Result<Arc<ImportPreview>> {
        let bytes = Zeroizing::new(bytes);
        let format = format.as_deref().map(format_named).transpose()?;
        let parsed = read_cancellable(&bytes, format, password.as_deref(), &cancel.0)?;
        let plan = plan(&self.core, parsed)?;
        let report = report_of(&plan);
        Ok(Arc::new(ImportPreview {
            vault: Arc::clone(&self.core),
            report,
            plan: Mutex::new(Some(plan)),
        }))
    }

    /// `previewImportCancellable` of an encrypted file, with its password as UTF-8 bytes the
    /// host wipes after the call (wiped here too). `InvalidInput` (field "password") when
    /// they are not UTF-8.
    pub fn preview_import_with_password_utf8(
        &self,
        bytes: Vec<u8>,
        format: Option<String>,
        password: SecretUtf8,
        cancel: Arc<ImportCancel>,
    ) -> Result<Arc<ImportPreview>> {
        let password = SecretString::from(password.as_str("password")?);
        self.preview_import_cancellable(bytes, format, Some(password), cancel)
    }

    /// Every account, as a cityauth backup encrypted under `passphrase` (Argon2id at the
    /// default cost, AES-256-GCM). Holds accounts only: never the push-approval key nor the
    /// City enrollment. Restore with `previewImport(bytes, "cityauth", passphrase)`. Fails
    /// with `InvalidInput` (field "passphrase": empty), `Locked`. Blocking (about a second).
    pub fn backup(&self, passphrase: SecretString) -> Result<Vec<u8>> {
        let accounts = self.all_accounts()?;
        Ok(backup::write(
            &accounts,
            &passphrase,
            &KdfParams::default(),
        )?)
    }

    /// `backup` with the passphrase as UTF-8 bytes the host wipes after the call (wiped here
    /// too). `InvalidInput` (field "passphrase") when they are not UTF-8.
    pub fn backup_utf8(&self, passphrase: SecretUtf8) -> Result<Vec<u8>> {
        let accounts = self.all_accounts()?;
        Ok(backup::write(
            &accounts,
            passphrase.as_str("passphrase")?,
            &KdfParams::default(),
        )?)
    }

    /// Every account as an otpauth link, one a line. **Not encrypted**: the text holds every
    /// secret, so whatever shows, stores or shares it must treat it as the secrets
    /// themselves; `backup` makes a copy to keep. Fails with `Locked`.
    pub fn export_links(&self) -> Result<String> {
        let accounts = self.all_accounts()?;
        Ok(export::otpauth_links(&accounts).as_str().to_owned())
    }

    /// The accounts as Google Authenticator migration links (one QR code each), with the
    /// accounts Google Authenticator cannot hold listed apart in `refused`, not exported.
    /// **Not encrypted**: the links hold the secrets. No accounts give no links. Fails with
    /// `Locked`, `InvalidInput` (field "accounts": more than one export holds).
    pub fn export_google_links(&self) -> Result<GoogleExport> {
        let mut refused = Vec::new();
        let mut accepted = Vec::new();
        for (id, account) in self.core.all_accounts()? {
            match export::google_refusal(&account) {
                Some(reason) => refused.push(ExportRefusal {
                    id: id.0,
                    label: account.display_label(),
                    reason,
                }),
                None => accepted.push(account),
            }
        }
        let links = export::google_migration_links(&accepted)?
            .iter()
            .map(|link| link.as_str().to_owned())
            .collect();
        Ok(GoogleExport { links, refused })
    }
}

impl Vault {
    /// Every readable account, secrets included, in the user's order.
    fn all_accounts(&self) -> Result<Vec<Account>> {
        Ok(self
            .core
            .all_accounts()?
            .into_iter()
            .map(|(_, account)| account)
            .collect())
    }
}

/// The format called `name`; `InvalidInput` (field "format") listing the known names.
fn format_named(name: &str) -> Result<Format> {
    Format::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        CityAuthError::InvalidInput {
            field: "format".into(),
            detail: format!("unknown format {name:?}; known: {}", known.join(", ")),
        }
    })
}

/// The plan without its secrets, for the user to read.
fn report_of(plan: &ImportPlan) -> ImportReport {
    ImportReport {
        format: plan.format.name().to_owned(),
        to_add: plan
            .to_add
            .iter()
            .map(|(location, account)| ImportAddition {
                location: location.to_string(),
                issuer: account.issuer().to_owned(),
                name: account.name().to_owned(),
                kind: account.params().kind().into(),
            })
            .collect(),
        duplicates: plan
            .duplicates
            .iter()
            .map(|duplicate| ImportDuplicate {
                location: duplicate.location.to_string(),
                label: duplicate.label.clone(),
                existing_id: duplicate.existing.map(|id| id.0),
            })
            .collect(),
        rejected: plan
            .rejected
            .iter()
            .map(|(location, rejection)| ImportRejection {
                location: location.to_string(),
                label: rejection.label.clone(),
                reason: rejection.reason.clone(),
            })
            .collect(),
    }
}
