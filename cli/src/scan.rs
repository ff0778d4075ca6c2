//! `add --qr IMAGE` and `import --qr IMAGE...`: accounts from QR codes in PNG images. Every
//! image is read and every QR code checked before the vault is unlocked, so that a wrong
//! image adds nothing and costs no passphrase.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use cityauth_core::{Account, otpauth};
use cityauth_transfer::{Format, read};
use zeroize::Zeroizing;

use crate::error::{CliError, Code};
use crate::qr::{self, Content};
use crate::transfer::import_parsed;

const OTPAUTH: &str = "otpauth://";
const MIGRATION: &str = "otpauth-migration://";

/// The accounts of the otpauth QR codes in `image` (one, usually).
pub fn accounts_in_image(image: &Path) -> Result<Vec<Account>, CliError> {
    let shown = image.display();
    let codes = qr::read_codes(image)?;
    codes
        .iter()
        .map(|text| {
            if qr::is_scheme(text, MIGRATION) {
                return Err(CliError::new(
                    Code::InvalidLink,
                    format!(
                        "the QR code in {shown} is a Google Authenticator export: use \
                         `cityauth import --qr {shown}`"
                    ),
                ));
            }
            if !qr::is_scheme(text, OTPAUTH) {
                return Err(not_otpauth(image));
            }
            otpauth::parse(text.trim()).map_err(|error| {
                CliError::new(
                    Code::InvalidLink,
                    format!("the QR code in {shown} holds an invalid otpauth link: {error}"),
                )
            })
        })
        .collect()
}

/// `import --qr IMAGE...`: the links of every image (a Google export's parts in any order)
/// read as one file of links, then shown, confirmed and imported like any import.
pub fn import(vault_path: &Path, images: &[PathBuf], yes: bool) -> Result<(), CliError> {
    if !yes && !std::io::stdin().is_terminal() {
        return Err(CliError::new(
            Code::NotATerminal,
            "not on a terminal: add --yes to import without being asked",
        ));
    }
    let mut links: Zeroizing<String> = Zeroizing::new(String::new());
    for image in images {
        for text in qr::read_codes(image)? {
            check_link(&text, image)?;
            links.push_str(text.trim());
            links.push('\n');
        }
    }
    let parsed = read(links.as_bytes(), Some(Format::OtpauthLinks), None)?;
    import_parsed(vault_path, parsed, yes)
}

fn check_link(text: &Content, image: &Path) -> Result<(), CliError> {
    if qr::is_scheme(text, OTPAUTH) || qr::is_scheme(text, MIGRATION) {
        Ok(())
    } else {
        Err(not_otpauth(image))
    }
}

/// The text is not quoted: a QR code may hold anything, a password included.
fn not_otpauth(image: &Path) -> CliError {
    CliError::new(
        Code::InvalidLink,
        format!(
            "the QR code in {} is not an otpauth link (nothing was added)",
            image.display()
        ),
    )
}
