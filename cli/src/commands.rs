//! The vault commands: each opens the vault, does one thing, prints what it did, and then
//! reports any damaged account (`integrity`, exit 9) after everything readable has been shown.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use cityauth_core::{
    Account, IntegrityError, KdfParams, KeyWrapper, OtpKind, Vault, VaultError, otpauth,
};

use crate::args::{AddArgs, Cli, CodeArgs, Command, KeychainAction};
use crate::error::{CliError, Code, print, report, warn};
use crate::passphrase::{self, NEW_PASSPHRASE_VAR, argument_or_stdin};
use crate::select::{Candidate, candidates, select};
use crate::transfer::{self, PasswordSource};
use crate::{approvals, clipboard, demo, docs, keychain, oath, output, params, scan, watch};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        // Neither touches the user's vault: no path, no passphrase.
        Command::Demo => demo::run(),
        Command::Code(args) if args.secret.is_some() || args.hex.is_some() => {
            oath::stateless_code(&args)
        }
        Command::Validate(args) if args.secret.is_some() || args.hex.is_some() => {
            oath::validate_stateless(&args)
        }
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { command } => docs::man(command.as_deref()),
        command => {
            let path = vault_path(cli.vault)?;
            match command {
                Command::Init => init(&path),
                Command::Add(args) => add(&path, &args),
                Command::List { json } => list(&path, json),
                Command::Codes { watch: true, .. } => watch::watch(&path),
                Command::Codes { json, .. } => codes(&path, json),
                Command::Code(args) if args.copy => clipboard::copy_code(&path, &args),
                Command::Code(args) if oath::wants_oath_path(&args) => {
                    oath::account_code(&path, &args)
                }
                Command::Code(args) => code(&path, &args),
                Command::Validate(args) => oath::validate(&path, &args),
                Command::Rename {
                    account,
                    issuer,
                    name,
                } => rename(&path, &account, issuer, name),
                Command::Remove { account, yes } => remove(&path, &account, yes),
                Command::Move { account, position } => move_to(&path, &account, position),
                Command::Passwd => passwd(&path),
                Command::Repair { yes } => repair(&path, yes),
                Command::Demo => demo::run(),
                Command::Completions { shell } => docs::completions(shell),
                Command::Man { command } => docs::man(command.as_deref()),
                Command::Keychain { action } => match action {
                    KeychainAction::Enable => keychain::enable(&path, unlock_with_passphrase),
                    KeychainAction::Disable => {
                        keychain::disable(&path, |vault| unlock_opened(vault, &path))
                    }
                    KeychainAction::Status => keychain::status(&path),
                },
                Command::Enroll { link, name } => approvals::enroll(&unlock(&path)?, &link, name),
                Command::Approvals { json, wait } => approvals::list(&unlock(&path)?, json, wait),
                Command::Approve { id, number } => {
                    approvals::approve(&unlock(&path)?, &id, number.as_deref())
                }
                Command::Deny { id, fraud } => approvals::deny(&unlock(&path)?, &id, fraud),
                Command::Watch { once } => approvals::watch(&unlock(&path)?, once),
                Command::Unenroll => approvals::unenroll(&unlock(&path)?),
                Command::ForgetEnrollment => approvals::forget(&unlock(&path)?),
                Command::Import { qr, yes, .. } if !qr.is_empty() => scan::import(&path, &qr, yes),
                Command::Import { file: None, .. } => {
                    Err(CliError::usage("give the file to import, or --qr IMAGE..."))
                }
                Command::Import {
                    file: Some(file),
                    format,
                    password_stdin,
                    yes,
                    ..
                } => {
                    let source = if password_stdin {
                        PasswordSource::Stdin
                    } else {
                        PasswordSource::EnvOrPrompt(transfer::IMPORT_PASSWORD_VAR)
                    };
                    transfer::import(&path, &file, format.as_deref(), source, yes)
                }
                Command::Restore { file, yes } => transfer::restore(&path, &file, yes),
                Command::Backup { file } => transfer::backup(&path, &file),
                Command::Export {
                    file,
                    google,
                    skip_unsupported,
                    qr,
                } => transfer::export(&path, &file, google, skip_unsupported, qr),
            }
        }
    }
}

/// `--vault`/`CITYAUTH_VAULT`, else `cityauth/vault.sqlite` in the platform data directory.
fn vault_path(given: Option<PathBuf>) -> Result<PathBuf, CliError> {
    match given {
        Some(path) => Ok(path),
        None => dirs::data_dir()
            .map(|dir| dir.join("cityauth").join("vault.sqlite"))
            .ok_or_else(|| CliError::usage("this system has no data directory: give --vault PATH")),
    }
}

/// Vault errors about the file itself, with the path in the message (it is no secret).
fn at_path(error: VaultError, path: &Path) -> CliError {
    let shown = path.display();
    match error {
        VaultError::NotFound => CliError::new(
            Code::NotFound,
            format!("no vault at {shown}: create one with `cityauth init`, or give --vault PATH"),
        ),
        VaultError::AlreadyExists => CliError::new(
            Code::AlreadyExists,
            format!("{shown} already exists; it was left untouched"),
        ),
        VaultError::NotAVault => CliError::new(
            Code::NotAVault,
            format!("{shown} is not a cityauth vault; it was left untouched"),
        ),
        other => other.into(),
    }
}

/// Opens the vault (so that a missing one is reported before asking anything), then unlocks.
pub fn unlock(path: &Path) -> Result<Vault, CliError> {
    let vault = open(path)?;
    unlock_opened(&vault, path)?;
    Ok(vault)
}

/// Opens the vault, locked; a missing or foreign file is named.
pub fn open(path: &Path) -> Result<Vault, CliError> {
    Vault::open(path).map_err(|error| at_path(error, path))
}

/// Unlocks with the first of: a passphrase given (--passphrase-fd, --passphrase-file,
/// CITYAUTH_PASSPHRASE), the OS keychain's key, the passphrase asked on the terminal.
fn unlock_opened(vault: &Vault, path: &Path) -> Result<(), CliError> {
    if let Some(passphrase) = passphrase::given()? {
        return Ok(vault.unlock_with_passphrase(&passphrase)?);
    }
    if keychain::try_unlock(vault, path)? {
        return Ok(());
    }
    unlock_with_passphrase(vault)
}

/// Unlocks with a passphrase, given or asked; never the keychain (what `keychain enable`
/// needs: the keychain cannot vouch for itself).
fn unlock_with_passphrase(vault: &Vault) -> Result<(), CliError> {
    let passphrase = match passphrase::given()? {
        Some(passphrase) => passphrase,
        None => passphrase::ask()?,
    };
    Ok(vault.unlock_with_passphrase(&passphrase)?)
}

/// Reports every damaged account (and a damaged index) on stderr, one `integrity` error each.
pub fn finish(vault: &Vault) -> Result<(), CliError> {
    let problems = vault.integrity_problems()?;
    if problems.is_empty() {
        return Ok(());
    }
    for problem in &problems {
        report(Code::Integrity, &problem.to_string());
    }
    Err(CliError::Reported(Code::Integrity))
}

fn init(path: &Path) -> Result<(), CliError> {
    // Checked before asking for a passphrase; `create` checks again, atomically.
    if path.symlink_metadata().is_ok() {
        return Err(at_path(VaultError::AlreadyExists, path));
    }
    let passphrase = passphrase::initial()?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    let vault =
        Vault::create(path, &passphrase, KdfParams::default()).map_err(|e| at_path(e, path))?;
    drop(vault);
    print(&format!("Created an empty vault at {}\n", path.display()))
}

/// Creates the vault's directory (and its parents) readable by its owner only, on Unix.
fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|error| {
        CliError::new(
            Code::Io,
            format!("cannot create {}: {error}", dir.display()),
        )
    })
}

fn add(path: &Path, args: &AddArgs) -> Result<(), CliError> {
    // Everything is checked before the vault is unlocked: a typo costs no passphrase.
    let accounts = match (&args.secret, &args.hex, &args.qr) {
        (_, _, Some(_)) if args.params.any() => {
            return Err(only_with_secret(
                "--type, --algorithm, --digits, --period and --counter",
            ));
        }
        (_, _, Some(image)) => scan::accounts_in_image(image)?,
        (Some(_), _, _) | (_, Some(_), _) => vec![account_from_flags(args)?],
        (None, None, None) if args.params.any() => {
            return Err(only_with_secret(
                "--type, --algorithm, --digits, --period and --counter",
            ));
        }
        (None, None, None) => parse_links(&args.links)?,
    };
    let labels: Vec<String> = accounts.iter().map(Account::display_label).collect();
    let vault = unlock(path)?;
    let ids = vault.add_all(accounts)?;
    let mut text = String::new();
    for (id, label) in ids.iter().zip(&labels) {
        text.push_str(&format!("Added {id} {label}\n"));
    }
    print(&text)?;
    finish(&vault)
}

fn parse_links(links: &[String]) -> Result<Vec<Account>, CliError> {
    let several = links.len() > 1;
    links
        .iter()
        .enumerate()
        .map(|(n, link)| {
            let text = argument_or_stdin(link)?;
            otpauth::parse(&text).map_err(|error| {
                let which = if several {
                    format!(" {}", n + 1)
                } else {
                    String::new()
                };
                CliError::new(
                    Code::InvalidLink,
                    format!("invalid otpauth link{which}: {error}"),
                )
            })
        })
        .collect()
}

fn account_from_flags(args: &AddArgs) -> Result<Account, CliError> {
    let issuer = args.issuer.as_deref().unwrap_or_default();
    let name = args.name.as_deref().unwrap_or_default();
    if issuer.trim().is_empty() && name.trim().is_empty() {
        return Err(CliError::usage("give --issuer or --name (or both)"));
    }
    let params = params::from_flags(&args.params)?;
    let secret = oath::given_secret(args.secret.as_deref(), args.hex.as_deref())?
        .ok_or_else(|| CliError::usage("give --secret or --hex"))?;
    Account::new(issuer, name, secret, params).map_err(CliError::from)
}

/// `flags` go with `--secret` only: an account or a link carries its own parameters.
fn only_with_secret(flags: &str) -> CliError {
    CliError::usage(format!(
        "{flags} go with --secret; an account or a link carries its own parameters"
    ))
}

fn list(path: &Path, json: bool) -> Result<(), CliError> {
    let vault = unlock(path)?;
    let accounts = vault.accounts()?;
    if json {
        print(&output::accounts_json(&accounts)?)?;
    } else if accounts.is_empty() {
        hint_when_empty(&vault)?;
    } else {
        print(&output::account_table(&accounts))?;
    }
    finish(&vault)
}

/// Says how to add an account, unless the vault is not empty but damaged.
fn hint_when_empty(vault: &Vault) -> Result<(), CliError> {
    if vault.integrity_problems()?.is_empty() {
        warn("No accounts. Add one with `cityauth add <otpauth-link>`.");
    }
    Ok(())
}

fn codes(path: &Path, json: bool) -> Result<(), CliError> {
    let vault = unlock(path)?;
    let accounts = vault.accounts()?;
    // Only the City account's codes take the server's clock offset (the core's rule).
    let codes = vault.codes_now(params::now()?)?;
    if json {
        print(&output::codes_json(&accounts, &codes)?)?;
    } else if accounts.is_empty() {
        hint_when_empty(&vault)?;
    } else {
        print(&output::code_table(&accounts, &codes))?;
    }
    finish(&vault)
}

fn code(path: &Path, args: &CodeArgs) -> Result<(), CliError> {
    let Some(query) = &args.account else {
        return Err(CliError::usage("give an account, or --secret"));
    };
    // `--time` and `--window` with an account go to oath::account_code.
    if args.params.any() {
        return Err(only_with_secret(
            "--type, --algorithm, --digits, --period and --counter",
        ));
    }
    let vault = unlock(path)?;
    let all = candidates(&vault)?;
    let chosen = select(&all, query)?;
    if chosen.kind == Some(OtpKind::Hotp) {
        // The advanced counter is on disk before the code is handed out.
        let code = vault.next_hotp(chosen.id)?;
        print(&format!("{code}\n"))?;
    } else {
        // A damaged account ends up here too, and `code` names it in its error.
        let code = vault.code_now(chosen.id, params::now()?)?;
        print(&format!("{}\n", code.code))?;
        // On stderr, so that stdout stays the bare code for scripts.
        warn(&format!("(valid for {} more seconds)", code.remaining));
    }
    finish(&vault)
}

fn rename(
    path: &Path,
    query: &str,
    issuer: Option<String>,
    name: Option<String>,
) -> Result<(), CliError> {
    let vault = unlock(path)?;
    let all = candidates(&vault)?;
    let chosen = select(&all, query)?;
    let (old_issuer, old_name) = chosen.labels.clone().unwrap_or_default();
    let issuer = issuer.unwrap_or(old_issuer);
    let name = name.unwrap_or(old_name);
    vault.rename(chosen.id, &issuer, &name)?;
    let renamed = label_of(&vault, chosen)?;
    print(&format!(
        "Renamed {}: {} -> {renamed}\n",
        chosen.id, chosen.label
    ))?;
    finish(&vault)
}

/// The account's label as the vault now has it (labels are trimmed on the way in).
fn label_of(vault: &Vault, chosen: &Candidate) -> Result<String, CliError> {
    Ok(vault
        .accounts()?
        .iter()
        .find(|info| info.id == chosen.id)
        .map(|info| cityauth_core::account::display_label(&info.issuer, &info.name))
        .unwrap_or_else(|| chosen.label.clone()))
}

fn remove(path: &Path, query: &str, yes: bool) -> Result<(), CliError> {
    let interactive = std::io::stdin().is_terminal();
    // Refused before unlocking: a script without --yes should not cost a passphrase.
    if !yes && !interactive {
        return Err(CliError::new(
            Code::NotATerminal,
            "not on a terminal: add --yes to remove an account without being asked",
        ));
    }
    let vault = unlock(path)?;
    let all = candidates(&vault)?;
    let chosen = select(&all, query)?;
    if !yes && !confirm(&format!("Remove {} {} for good?", chosen.id, chosen.label))? {
        warn("Nothing removed.");
        return finish(&vault);
    }
    vault.remove(chosen.id)?;
    print(&format!("Removed {} {}\n", chosen.id, chosen.label))?;
    finish(&vault)
}

/// Asks a yes/no question on the terminal; anything but y or yes is no.
pub fn confirm(question: &str) -> Result<bool, CliError> {
    eprint_prompt(&format!("{question} [y/N] "));
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|error| CliError::new(Code::Io, format!("cannot read the answer: {error}")))?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

fn eprint_prompt(text: &str) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush());
}

fn move_to(path: &Path, query: &str, position: u64) -> Result<(), CliError> {
    let vault = unlock(path)?;
    let all = candidates(&vault)?;
    let chosen = select(&all, query)?;
    // 1-based for people, 0-based for the vault, which clamps to the end.
    let index = usize::try_from(position.saturating_sub(1)).unwrap_or(usize::MAX);
    vault.move_account(chosen.id, index)?;
    let shown = index.min(all.len().saturating_sub(1)) + 1;
    print(&format!(
        "Moved {} {} to position {shown}\n",
        chosen.id, chosen.label
    ))?;
    finish(&vault)
}

fn repair(path: &Path, yes: bool) -> Result<(), CliError> {
    // Refused before unlocking, like `remove`: a script must say --yes.
    if !yes && !std::io::stdin().is_terminal() {
        return Err(CliError::new(
            Code::NotATerminal,
            "not on a terminal: add --yes to rebuild the index without being asked",
        ));
    }
    let vault = unlock(path)?;
    if !vault.integrity_problems()?.contains(&IntegrityError::Index) {
        print("The account index is sound; nothing to repair.\n")?;
        return finish(&vault);
    }
    let question = "The account index is damaged or was rolled back. Rebuild it from the \
                    accounts as they are now (their order is lost)?";
    if !yes && !confirm(question)? {
        warn("Nothing repaired.");
        return finish(&vault);
    }
    vault.repair_index()?;
    print("Index rebuilt.\n")?;
    finish(&vault)
}

fn passwd(path: &Path) -> Result<(), CliError> {
    // The current passphrase, not the keychain: changing it is proving it.
    let vault = open(path)?;
    unlock_with_passphrase(&vault)?;
    let new = passphrase::new(NEW_PASSPHRASE_VAR)?;
    // The data key rotates: the keychain's slot is re-wrapped if its key is at hand, else
    // it goes with the old key.
    let keep = keychain::wrapper_to_keep(&vault, path)?;
    let lost = keep.is_none() && keychain::enabled(&vault)?;
    let wrappers: Vec<&dyn KeyWrapper> = keep.iter().map(|w| w as &dyn KeyWrapper).collect();
    vault.change_passphrase_keeping(&new, KdfParams::default(), &wrappers)?;
    print("Passphrase changed.\n")?;
    if lost {
        warn("The OS keychain no longer unlocks this vault: `cityauth keychain enable` renews it.");
    }
    finish(&vault)
}
