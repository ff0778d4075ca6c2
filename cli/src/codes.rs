//! The stable machine code of every error the CLI prints, and the exit status of each.
//!
//! Where the case is one the FFI surface has too, the code is the FFI's (bindings'
//! `CityAuthError::code()`); the others are the CLI's own. docs/error-codes.md ("The CLI")
//! lists them all with their statuses, and a test holds this file and that table together.
//! Codes never change meaning and are never reused; the status follows from the code.

/// Exit status for anything else that failed: storage, the file system, the key store.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a wrong command line or value (clap's own status for usage errors).
pub const EXIT_USAGE: u8 = 2;
/// Exit status for a wrong passphrase or password, or none given where none can be asked.
pub const EXIT_PASSPHRASE: u8 = 3;
/// Exit status for something named that is not there: vault, account, file, enrollment, request.
pub const EXIT_NOT_FOUND: u8 = 4;
/// Exit status for a server that cannot be reached.
pub const EXIT_NETWORK: u8 = 5;
/// Exit status for a server that answered no.
pub const EXIT_REFUSED: u8 = 6;
/// Exit status for a server whose answer cannot be trusted.
pub const EXIT_UNTRUSTED: u8 = 7;
/// Exit status for a vault another process holds: try again.
pub const EXIT_BUSY: u8 = 8;
/// Exit status for a vault or file that is damaged, altered, or not one cityauth reads.
pub const EXIT_DAMAGED: u8 = 9;

/// Declares [`Code`] with its text and exit status in one place, so that `ALL`, `as_str`
/// and `exit_status` cannot miss a case.
macro_rules! codes {
    ($($(#[doc = $doc:literal])+ $case:ident = $text:literal => $exit:ident,)+) => {
        /// A stable machine code: what a script or a translation branches on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])+ $case,)+
        }

        impl Code {
            /// Every code, in the order docs/error-codes.md lists them.
            #[cfg(test)]
            pub const ALL: &'static [Code] = &[$(Code::$case),+];

            /// The code as printed: `wrong_passphrase`, `usage`, ...
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$case => $text,)+
                }
            }

            /// The process exit status that goes with this code.
            pub fn exit_status(self) -> u8 {
                match self {
                    $(Code::$case => $exit,)+
                }
            }
        }
    };
}

codes! {
    // The FFI's codes (docs/error-codes.md, first table), for the same cases.
    /// No vault at that path.
    NotFound = "not_found" => EXIT_NOT_FOUND,
    /// A vault or an output file is there already (left untouched).
    AlreadyExists = "already_exists" => EXIT_USAGE,
    /// The file is not a cityauth vault, or one from a newer version.
    NotAVault = "not_a_vault" => EXIT_DAMAGED,
    /// The vault's passphrase is wrong.
    WrongPassphrase = "wrong_passphrase" => EXIT_PASSPHRASE,
    /// The vault is locked.
    Locked = "locked" => EXIT_PASSPHRASE,
    /// No slot belongs to the platform key offered.
    NoMatchingSlot = "no_matching_slot" => EXIT_PASSPHRASE,
    /// The platform key store failed.
    KeyStore = "key_store" => EXIT_FAILURE,
    /// Something in the vault does not authenticate: tampering or corruption.
    Integrity = "integrity" => EXIT_DAMAGED,
    /// An otpauth or enrollment link is malformed.
    InvalidLink = "invalid_link" => EXIT_USAGE,
    /// A value is out of bounds (a parameter, a secret, a passphrase, an account field).
    InvalidInput = "invalid_input" => EXIT_USAGE,
    /// No such account (or nothing matches what was typed).
    UnknownAccount = "unknown_account" => EXIT_NOT_FOUND,
    /// The account is of the other kind (HOTP / time-based).
    WrongAccountKind = "wrong_account_kind" => EXIT_USAGE,
    /// Another process holds the vault.
    Busy = "busy" => EXIT_BUSY,
    /// Storage, the file system under the vault, or the random source failed.
    Storage = "storage" => EXIT_FAILURE,
    /// The server cannot be reached.
    Network = "network" => EXIT_NETWORK,
    /// The server refused (its protocol code is in the message).
    ServerRefused = "server_refused" => EXIT_REFUSED,
    /// The server's answer cannot be trusted.
    ServerUntrusted = "server_untrusted" => EXIT_UNTRUSTED,
    /// The approval request is no longer pending.
    Expired = "expired" => EXIT_NOT_FOUND,
    /// The typed number has the wrong length.
    WrongNumberFormat = "wrong_number_format" => EXIT_USAGE,
    /// This device is not enrolled with a City account.
    NotEnrolled = "not_enrolled" => EXIT_NOT_FOUND,
    /// This device is enrolled already.
    AlreadyEnrolled = "already_enrolled" => EXIT_USAGE,
    /// The file to import is encrypted and no password can be had.
    PasswordRequired = "password_required" => EXIT_PASSPHRASE,
    /// The password does not open the file to import.
    WrongPassword = "wrong_password" => EXIT_PASSPHRASE,
    /// The file to import is damaged.
    DamagedFile = "damaged_file" => EXIT_DAMAGED,
    /// The file to import is in no format cityauth reads.
    UnknownFormat = "unknown_format" => EXIT_DAMAGED,
    /// A version or feature of the file's format that cityauth does not read.
    UnsupportedFile = "unsupported_file" => EXIT_DAMAGED,
    /// A multi-part Google Authenticator export is missing parts.
    MissingBatchParts = "missing_batch_parts" => EXIT_DAMAGED,
    /// The import was cancelled.
    Cancelled = "cancelled" => EXIT_FAILURE,
    // The CLI's own codes: cases the FFI surface does not have.
    /// The command line is wrong: an unknown command or flag, a missing argument, flags that
    /// do not go together.
    Usage = "usage" => EXIT_USAGE,
    /// What was typed matches several accounts.
    AmbiguousAccount = "ambiguous_account" => EXIT_USAGE,
    /// The command would ask on a terminal and there is none: add --yes.
    NotATerminal = "not_a_terminal" => EXIT_USAGE,
    /// No passphrase in the environment and no terminal to ask for one.
    PassphraseRequired = "passphrase_required" => EXIT_PASSPHRASE,
    /// The file to read is not there.
    FileNotFound = "file_not_found" => EXIT_NOT_FOUND,
    /// Reading or writing a file, standard input or standard output failed.
    Io = "io" => EXIT_FAILURE,
    /// The system clock is set before 1970.
    Clock = "clock" => EXIT_FAILURE,
    /// Some entries of the file were not imported (each is listed); the rest were.
    ImportIncomplete = "import_incomplete" => EXIT_FAILURE,
    /// A step of `cityauth demo` did not behave as it should.
    DemoFailed = "demo_failed" => EXIT_FAILURE,
    /// `validate`: the code matches none of the window's codes.
    Mismatch = "code_mismatch" => EXIT_FAILURE,
    /// `add --qr`, `import --qr`: the image holds no QR code that can be read.
    NoQr = "no_qr_code" => EXIT_DAMAGED,
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// docs/error-codes.md, compiled in: the tables a test holds the code to.
    const DOC: &str = include_str!("../../docs/error-codes.md");

    /// The rows of the Markdown table that follows `heading`: the first cell (unquoted) of
    /// each, with the other cells.
    fn table_after(heading: &str) -> BTreeMap<String, Vec<String>> {
        let start = DOC
            .find(heading)
            .unwrap_or_else(|| panic!("{heading:?} not in docs/error-codes.md"));
        let rows: BTreeMap<String, Vec<String>> = DOC[start..]
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .skip(2) // the header and its rule
            .map(|line| {
                let mut cells = line
                    .trim_matches('|')
                    .split('|')
                    .map(|cell| cell.trim().trim_matches('`').to_owned());
                let code = cells.next().unwrap_or_default();
                (code, cells.collect())
            })
            .collect();
        assert!(!rows.is_empty(), "no table after {heading:?}");
        rows
    }

    #[test]
    fn codes_and_their_statuses_are_the_documented_ones() {
        let cli = table_after("| code | exit | shared with the FFI | when |");
        let listed: BTreeSet<&str> = cli.keys().map(String::as_str).collect();
        let ours: BTreeSet<&str> = Code::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(listed, ours, "the CLI table lists exactly the CLI's codes");
        assert_eq!(ours.len(), Code::ALL.len(), "no two cases share a code");
        for code in Code::ALL {
            let row = &cli[code.as_str()];
            assert_eq!(
                row[0],
                code.exit_status().to_string(),
                "{code}'s exit status"
            );
        }
    }

    #[test]
    fn a_code_shared_with_the_ffi_is_one_of_its_codes_and_the_others_are_new() {
        let ffi = table_after("| code | case | what the user is told |");
        let cli = table_after("| code | exit | shared with the FFI | when |");
        for code in Code::ALL {
            let shared = match cli[code.as_str()][1].as_str() {
                "yes" => true,
                "no" => false,
                other => panic!("{code}: shared is {other:?}, not yes or no"),
            };
            assert_eq!(
                ffi.contains_key(code.as_str()),
                shared,
                "{code}: the CLI table says shared = {shared}"
            );
        }
    }

    #[test]
    fn every_status_is_documented_once() {
        let statuses = table_after("| exit | class |");
        let used: BTreeSet<String> = Code::ALL
            .iter()
            .map(|code| code.exit_status().to_string())
            .collect();
        let listed: BTreeSet<String> = statuses.keys().filter(|s| *s != "0").cloned().collect();
        assert_eq!(listed, used);
    }
}
