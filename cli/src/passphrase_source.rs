//! The vault passphrase from where the command line points: an inherited file descriptor
//! (`--passphrase-fd N`) or a file only its owner can read (`--passphrase-file PATH`).
//! Either gives its first line, the line ending stripped, in a zeroizing buffer.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use zeroize::Zeroizing;

use crate::error::{CliError, Code};

/// The longest first line read as a passphrase: more is a wrong file, not a passphrase.
const MAX_LINE: usize = 64 * 1024;

/// Where `--passphrase-fd` and `--passphrase-file` point, if given.
#[derive(Debug, Default)]
pub struct Sources {
    /// `--passphrase-fd`.
    pub fd: Option<u32>,
    /// `--passphrase-file`.
    pub file: Option<PathBuf>,
}

static SOURCES: OnceLock<Sources> = OnceLock::new();

/// Records the options for this process (once, before the command runs).
pub fn set(sources: Sources) {
    let _ = SOURCES.set(sources);
}

/// The passphrase from the descriptor, else from the file; `None` when neither was given.
/// Read once per process: a pipe gives its line only once, and a command may unlock twice.
pub fn given() -> Result<Option<Zeroizing<String>>, CliError> {
    static READ: OnceLock<Result<Option<Zeroizing<String>>, CliError>> = OnceLock::new();
    READ.get_or_init(|| {
        let sources = SOURCES.get_or_init(Sources::default);
        if let Some(fd) = sources.fd {
            return from_fd(fd).map(Some);
        }
        match &sources.file {
            Some(path) => from_file(path).map(Some),
            None => Ok(None),
        }
    })
    .clone()
}

/// Reads the first line of descriptor `fd`. The descriptor is reopened by its name under
/// /proc (or /dev/fd): the same pipe or file, with no unsafe adoption of a raw descriptor.
fn from_fd(fd: u32) -> Result<Zeroizing<String>, CliError> {
    let what = format!("--passphrase-fd {fd}");
    let name = if cfg!(target_os = "linux") {
        format!("/proc/self/fd/{fd}")
    } else {
        format!("/dev/fd/{fd}")
    };
    let file = File::open(&name).map_err(|error| match error.kind() {
        ErrorKind::NotFound => CliError::usage(format!(
            "{what}: file descriptor {fd} is not open (pass it to cityauth, e.g. `3<file` or `3<<<\"$P\"` in a shell)"
        )),
        _ => CliError::usage(format!("{what}: cannot read file descriptor {fd}: {error}")),
    })?;
    first_line(file, &what)
}

/// Reads the first line of `path`, refusing a file that its group or others may open (as
/// ssh does for private keys): checked on the opened file, so a swap after the check is moot.
fn from_file(path: &Path) -> Result<Zeroizing<String>, CliError> {
    let shown = path.display();
    let what = format!("--passphrase-file {shown}");
    let file = File::open(path).map_err(|error| match error.kind() {
        ErrorKind::NotFound => CliError::new(Code::FileNotFound, format!("{what}: no such file")),
        _ => CliError::new(Code::Io, format!("{what}: cannot open it: {error}")),
    })?;
    let metadata = file
        .metadata()
        .map_err(|error| CliError::new(Code::Io, format!("{what}: cannot read it: {error}")))?;
    if !metadata.is_file() {
        return Err(CliError::usage(format!(
            "{what}: not a regular file (for a pipe, use --passphrase-fd)"
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CliError::new(
                Code::PassphraseRequired,
                format!(
                    "{what}: the file is open to its group or others (mode {mode:03o}); \
                     nothing was read: `chmod 600 {shown}`"
                ),
            ));
        }
    }
    first_line(file, &what)
}

/// The first line of `source` (up to `\n`, a trailing `\r` dropped), read a byte at a time
/// so that nothing after it is consumed (the descriptor may be stdin).
fn first_line(mut source: impl Read, what: &str) -> Result<Zeroizing<String>, CliError> {
    let mut line = Zeroizing::new(Vec::new());
    let mut byte = Zeroizing::new([0u8; 1]);
    loop {
        match source.read(&mut byte[..]) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if line.len() >= MAX_LINE => {
                return Err(CliError::invalid(format!(
                    "{what}: the first line is longer than {MAX_LINE} bytes; not a passphrase"
                )));
            }
            Ok(_) => line.push(byte[0]),
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(CliError::new(
                    Code::Io,
                    format!("{what}: cannot read: {error}"),
                ));
            }
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    if line.is_empty() {
        return Err(CliError::new(
            Code::PassphraseRequired,
            format!("{what}: the first line is empty; no passphrase"),
        ));
    }
    let text = std::str::from_utf8(&line)
        .map_err(|_| CliError::invalid(format!("{what}: the passphrase is not valid UTF-8")))?;
    Ok(Zeroizing::new(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_line_is_taken_without_its_ending() {
        let read = |bytes: &[u8]| first_line(bytes, "test").map(|s| s.to_string());
        assert_eq!(read(b"pass phrase\nsecond\n").unwrap(), "pass phrase");
        assert_eq!(read(b"dos\r\n").unwrap(), "dos");
        assert_eq!(read(b"no newline").unwrap(), "no newline");
        assert_eq!(read(b" spaces kept \n").unwrap(), " spaces kept ");
        assert_eq!(read(b"\n").unwrap_err().code(), Code::PassphraseRequired);
        assert_eq!(read(b"\xff\n").unwrap_err().code(), Code::InvalidInput);
    }

    #[test]
    fn reading_stops_at_the_line_end() {
        let mut input: &[u8] = b"first\nrest";
        first_line(&mut input, "test").unwrap();
        assert_eq!(input, b"rest");
    }
}
