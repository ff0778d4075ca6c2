//! Moving accounts in and out: `import`, `restore`, `backup` and `export`.
//!
//! An import is shown before it is done (what will be added, what is already there, what
//! cannot be read and where), then committed in one transaction, or not at all.

use std::io::{IsTerminal, Write};
use std::path::Path;

use cityauth_core::{Account, KdfParams, Vault};
use cityauth_transfer::export::{self, ExportError};
use cityauth_transfer::{Format, ImportError, ImportPlan, Parsed, backup, commit, plan, read};
use zeroize::Zeroizing;

use crate::commands::{confirm, finish, unlock};
use crate::error::{CliError, Code, print, warn};
use crate::output::printable;
use crate::passphrase;

/// The environment variable holding an encrypted import file's password.
pub const IMPORT_PASSWORD_VAR: &str = "CITYAUTH_IMPORT_PASSWORD";
/// The environment variable holding the backup passphrase (`backup` and `restore`).
pub const BACKUP_PASSPHRASE_VAR: &str = "CITYAUTH_BACKUP_PASSPHRASE";

/// Where an encrypted file's password comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    /// One line of standard input.
    Stdin,
    /// The environment variable, else the terminal.
    EnvOrPrompt(&'static str),
}

/// `import FILE`: reads, shows the plan, asks (unless `yes`), commits.
pub fn import(
    vault_path: &Path,
    file: &Path,
    format: Option<&str>,
    password: PasswordSource,
    yes: bool,
) -> Result<(), CliError> {
    let format = format
        .map(|name| {
            Format::from_name(name).ok_or_else(|| {
                let known: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
                CliError::usage(format!(
                    "unknown format {name:?}; known: {}",
                    known.join(", ")
                ))
            })
        })
        .transpose()?;
    run_import(vault_path, file, format, password, yes)
}

/// `restore FILE`: an import of a cityauth backup.
pub fn restore(vault_path: &Path, file: &Path, yes: bool) -> Result<(), CliError> {
    run_import(
        vault_path,
        file,
        Some(Format::CityauthBackup),
        PasswordSource::EnvOrPrompt(BACKUP_PASSPHRASE_VAR),
        yes,
    )
}

fn run_import(
    vault_path: &Path,
    file: &Path,
    format: Option<Format>,
    password: PasswordSource,
    yes: bool,
) -> Result<(), CliError> {
    // Refused before anything is asked: a script without --yes should not cost a passphrase.
    if !yes && (!std::io::stdin().is_terminal() || password == PasswordSource::Stdin) {
        return Err(CliError::new(
            Code::NotATerminal,
            "not on a terminal: add --yes to import without being asked",
        ));
    }
    let bytes = Zeroizing::new(std::fs::read(file).map_err(|error| {
        let code = match error.kind() {
            std::io::ErrorKind::NotFound => Code::FileNotFound,
            _ => Code::Io,
        };
        CliError::new(code, format!("cannot read {}: {error}", file.display()))
    })?);
    let parsed = read_file(&bytes, format, password)?;
    import_parsed(vault_path, parsed, yes)
}

/// Shows what `parsed` would add, skip and refuse, asks (unless `yes`), and commits it in
/// one transaction (`import` of a file, and `import --qr` of images).
pub fn import_parsed(vault_path: &Path, parsed: Parsed, yes: bool) -> Result<(), CliError> {
    let vault = unlock(vault_path)?;
    let plan = plan(&vault, parsed)?;
    print(&describe(&plan))?;
    let rejected = plan.rejected.len();
    if plan.to_add.is_empty() {
        print("Nothing to import.\n")?;
    } else if yes || confirm(&format!("Import {} account(s)?", plan.to_add.len()))? {
        let ids = commit(&vault, plan)?;
        print(&format!("Imported {} account(s).\n", ids.len()))?;
    } else {
        warn("Nothing imported.");
        return finish(&vault);
    }
    finish(&vault)?;
    if rejected > 0 {
        return Err(CliError::new(
            Code::ImportIncomplete,
            format!(
                "{rejected} entr{} of the file could not be imported (listed above)",
                if rejected == 1 { "y" } else { "ies" }
            ),
        ));
    }
    Ok(())
}

/// Reads the file, asking for its password only if it turns out to be encrypted.
fn read_file(
    bytes: &[u8],
    format: Option<Format>,
    source: PasswordSource,
) -> Result<Parsed, CliError> {
    match read(bytes, format, None) {
        Err(ImportError::PasswordRequired) => {
            let password = match source {
                PasswordSource::Stdin => passphrase::argument_or_stdin("-")?,
                PasswordSource::EnvOrPrompt(var) => {
                    passphrase::from_env_or_prompt(var, "The file is encrypted. Its password: ")?
                }
            };
            read(bytes, format, Some(&password)).map_err(CliError::from)
        }
        other => other.map_err(CliError::from),
    }
}

/// The plan, as the user reads it before saying yes.
fn describe(plan: &ImportPlan) -> String {
    let mut text = format!("Read as: {}\n", plan.format.name());
    text += &format!("To add: {}\n", plan.to_add.len());
    for (location, account) in &plan.to_add {
        text += &format!(
            "  + {} ({})\n",
            printable(&account.display_label()),
            printable(&location.to_string())
        );
    }
    if !plan.duplicates.is_empty() {
        text += &format!("Already there, skipped: {}\n", plan.duplicates.len());
        for duplicate in &plan.duplicates {
            let twin = match duplicate.existing {
                Some(id) => format!("same as account {id}"),
                None => "repeats an earlier entry of the file".to_owned(),
            };
            text += &format!(
                "  = {} ({}): {twin}\n",
                printable(&duplicate.label),
                printable(&duplicate.location.to_string())
            );
        }
    }
    if !plan.rejected.is_empty() {
        text += &format!("Cannot be imported: {}\n", plan.rejected.len());
        for (location, rejection) in &plan.rejected {
            let label = if rejection.label.is_empty() {
                "(no name)"
            } else {
                &rejection.label
            };
            text += &format!(
                "  ! {} ({}): {}\n",
                printable(label),
                printable(&location.to_string()),
                printable(&rejection.reason.to_string())
            );
        }
    }
    text
}

/// Every readable account of the vault, for export and backup.
fn all_accounts(vault: &Vault) -> Result<Vec<Account>, CliError> {
    Ok(vault
        .all_accounts()?
        .into_iter()
        .map(|(_, account)| account)
        .collect())
}

/// `backup FILE`: every account, encrypted under a backup passphrase.
pub fn backup(vault_path: &Path, file: &Path) -> Result<(), CliError> {
    refuse_existing(file)?;
    let vault = unlock(vault_path)?;
    let accounts = all_accounts(&vault)?;
    let passphrase = passphrase::new(BACKUP_PASSPHRASE_VAR)?;
    let bytes = backup::write(&accounts, &passphrase, &KdfParams::default())?;
    write_private(file, &bytes)?;
    print(&format!(
        "Backed up {} account(s) to {} (push-approval keys and the City enrollment are never \
         in a backup: a new phone enrolls again).\n",
        accounts.len(),
        file.display()
    ))?;
    finish(&vault)
}

/// `export FILE`: otpauth links, or Google Authenticator migration links; unencrypted.
pub fn export(
    vault_path: &Path,
    file: &Path,
    google: bool,
    skip_unsupported: bool,
    qr: bool,
) -> Result<(), CliError> {
    let to_stdout = file == Path::new("-");
    // QR codes for the links: asked for, or the links are going to a terminal anyway.
    let qr = google && (qr || (to_stdout && std::io::stdout().is_terminal()));
    let mut drawn = Zeroizing::new(String::new());
    if !to_stdout {
        refuse_existing(file)?;
    }
    let vault = unlock(vault_path)?;
    let mut accounts = all_accounts(&vault)?;
    let text = if google {
        if skip_unsupported {
            accounts.retain(|account| match export::google_refusal(account) {
                Some(reason) => {
                    warn(&format!("skipped {}: {reason}", account.display_label()));
                    false
                }
                None => true,
            });
        }
        let links = export::google_migration_links(&accounts).map_err(|error| {
            let hint = matches!(error, ExportError::NotExpressible { .. });
            CliError::from(error).map_message(|message| {
                if hint {
                    format!(
                        "{message}; nothing was exported (add --skip-unsupported to export the others)"
                    )
                } else {
                    message.to_owned()
                }
            })
        })?;
        let mut text = Zeroizing::new(String::new());
        for (n, link) in links.iter().enumerate() {
            text.push_str(link);
            text.push('\n');
            if qr {
                drawn.push_str(&crate::qrterm::render(link)?);
                drawn.push_str(&format!("Part {} of {}:\n", n + 1, links.len()));
                drawn.push_str(link);
                drawn.push_str("\n\n");
            }
        }
        text
    } else {
        export::otpauth_links(&accounts)
    };
    warn("warning: the export is NOT encrypted: anyone who reads it can make your codes");
    if to_stdout {
        // With QR codes, each link is printed under its code.
        let shown = if qr { &drawn } else { &text };
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(shown.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|_| CliError::Reported(Code::Io))?;
    } else {
        write_private(file, text.as_bytes())?;
        if qr {
            print(&drawn)?;
        }
        print(&format!(
            "Exported {} account(s) to {}.\n",
            accounts.len(),
            file.display()
        ))?;
    }
    finish(&vault)
}

fn refuse_existing(file: &Path) -> Result<(), CliError> {
    if file.symlink_metadata().is_ok() {
        return Err(CliError::new(
            Code::AlreadyExists,
            format!("{} already exists; it was left untouched", file.display()),
        ));
    }
    Ok(())
}

/// Writes `bytes` to a new file readable by its owner only (never over an existing one).
fn write_private(file: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let failed = |error: std::io::Error| {
        CliError::new(
            Code::Io,
            format!("cannot write {}: {error}", file.display()),
        )
    };
    let mut out = options.open(file).map_err(failed)?;
    out.write_all(bytes)
        .and_then(|()| out.sync_all())
        .map_err(failed)
}
