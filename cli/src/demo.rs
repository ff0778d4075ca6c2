//! `cityauth demo`: a guided run on a throwaway vault that shows, and checks, what the
//! vault does. It asks nothing and leaves nothing behind.

use cityauth_core::{AccountId, KdfParams, Vault, VaultError, otpauth};

use crate::error::{CliError, Code, print};
use crate::{demo_city, output, params};

/// The throwaway vault's passphrase (it protects nothing: the vault is deleted at the end).
const DEMO_PASSPHRASE: &str = "demo passphrase";

/// The demo's accounts; their secrets are the published RFC test seeds (the Steam one
/// is the well-known documentation example).
const LINKS: [&str; 4] = [
    "otpauth://totp/RFC%206238:sha1?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC%206238&digits=8",
    "otpauth://totp/RFC%206238:sha256?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&issuer=RFC%206238&algorithm=SHA256&digits=8",
    "otpauth://steam/Steam:gamer?secret=JBSWY3DPEHPK3PXP&issuer=Steam",
    "otpauth://hotp/RFC%204226:counter?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC%204226&counter=0",
];

/// RFC 6238 Appendix B at T = 59 s, for the SHA-1 and SHA-256 accounts above.
const RFC6238_AT_59: [&str; 2] = ["94287082", "46119246"];
/// RFC 4226 Appendix D, counters 0, 1 and 2.
const RFC4226: [&str; 3] = ["755224", "287082", "359152"];

/// Runs the demo, printing each step; any step that does not behave is an error.
pub fn run() -> Result<(), CliError> {
    // Declared first so that it is dropped (and the files deleted) after the vaults.
    let dir = tempfile::TempDir::new().map_err(|error| {
        CliError::new(
            Code::Io,
            format!("cannot create a temporary directory: {error}"),
        )
    })?;
    let path = dir.path().join("demo-vault.sqlite");
    let kdf = KdfParams::default();
    print(&format!(
        "cityauth demo: a throwaway vault and City account server, deleted at the end.\n\n\
         1. Create a vault at {} (passphrase \"{DEMO_PASSPHRASE}\", Argon2id {} MiB, {} passes).\n",
        path.display(),
        kdf.memory_kib() / 1024,
        kdf.iterations()
    ))?;
    let vault = Vault::create(&path, DEMO_PASSPHRASE, kdf)?;

    print("2. Add four accounts from otpauth links, in one transaction.\n")?;
    let accounts = LINKS
        .iter()
        .map(|link| otpauth::parse(link))
        .collect::<Result<Vec<_>, _>>()?;
    let ids = vault.add_all(accounts)?;
    print(&indent(&output::account_table(&vault.accounts()?)))?;

    print("3. Check the vault's codes against RFC 6238 (T = 59 s).\n")?;
    let at_59 = vault.codes(59)?;
    for (code, expected) in at_59.iter().zip(RFC6238_AT_59) {
        check(code.code.as_str(), expected, "RFC 6238 Appendix B")?;
        print(&format!(
            "   account {}: {} (RFC 6238: {expected})\n",
            code.id, code.code
        ))?;
    }

    print("4. The current codes.\n")?;
    let now = params::now()?;
    print(&indent(&output::code_table(
        &vault.accounts()?,
        &vault.codes(now)?,
    )))?;

    let hotp = ids
        .last()
        .copied()
        .ok_or_else(|| CliError::new(Code::DemoFailed, "the demo accounts were not added"))?;
    print("5. Two HOTP codes; each counter is saved to the file before its code is shown.\n")?;
    for (counter, expected) in RFC4226.iter().take(2).enumerate() {
        let code = next_hotp(&vault, hotp, expected)?;
        print(&format!(
            "   counter {counter}: {code} (RFC 4226: {expected})\n"
        ))?;
    }

    print("6. Lock the vault, close it, reopen it from the file and unlock it again.\n")?;
    vault.lock();
    drop(vault);
    let vault = Vault::open(&path)?;
    vault.unlock_with_passphrase(DEMO_PASSPHRASE)?;
    let code = next_hotp(&vault, hotp, RFC4226[2])?;
    print(&format!(
        "   next HOTP code: {code} (counter 2: the counter survived, RFC 4226: {})\n",
        RFC4226[2]
    ))?;
    drop(vault);

    print("7. Try to unlock it with a wrong passphrase.\n")?;
    let vault = Vault::open(&path)?;
    match vault.unlock_with_passphrase("not the demo passphrase") {
        Err(error @ VaultError::WrongPassphrase) => {
            print(&format!(
                "   refused: {error:?} (\"{error}\"); nothing was changed\n"
            ))?;
        }
        Err(other) => return Err(other.into()),
        Ok(()) => {
            return Err(CliError::new(
                Code::DemoFailed,
                "the demo vault opened with a wrong passphrase",
            ));
        }
    }
    drop(vault);

    let vault = Vault::open(&path)?;
    vault.unlock_with_passphrase(DEMO_PASSPHRASE)?;
    print("\nNow the City account: the same vault becomes an employee's phone.\n")?;
    demo_city::run(&vault, dir.path(), 8)?;
    drop(vault);
    print("\nDone: the throwaway vault and the server's database are deleted.\n")
}

fn next_hotp(vault: &Vault, id: AccountId, expected: &str) -> Result<String, CliError> {
    let code = vault.next_hotp(id)?;
    check(code.as_str(), expected, "RFC 4226 Appendix D")?;
    Ok(code.as_str().to_owned())
}

/// The demo doubles as a self-test: a code that differs from the RFC's is a failure.
fn check(got: &str, expected: &str, source: &str) -> Result<(), CliError> {
    if got == expected {
        Ok(())
    } else {
        Err(CliError::new(
            Code::DemoFailed,
            format!("demo: got {got} where {source} gives {expected}"),
        ))
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("   {line}\n")).collect()
}
