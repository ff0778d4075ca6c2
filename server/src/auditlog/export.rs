//! The audit trail for the City's SIEM: each event, as it is written to the store, also
//! appended to a JSON Lines file, and sent as an RFC 5424 message to a local syslog socket.
//! A failed write is logged and never fails the request (the store's table still has it).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{json_line, syslog};
use crate::store::AuditEvent;

/// Where the events are exported (both, one, or neither).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditExportConfig {
    /// A file the events are appended to, one JSON object a line (made 0600 if new).
    pub file: Option<PathBuf>,
    /// A local syslog socket (`/dev/log`, or rsyslog's or syslog-ng's own) the events are
    /// sent to as RFC 5424 datagrams.
    pub syslog: Option<PathBuf>,
}

/// An export that cannot be opened; the message names the file or the socket.
#[derive(Debug, thiserror::Error)]
#[error("audit.{setting}: {path}: {why}")]
pub struct AuditExportError {
    /// `file` or `syslog`.
    pub setting: &'static str,
    /// The path.
    pub path: String,
    /// What failed.
    pub why: String,
}

/// The open export.
pub struct AuditExport {
    file: Option<Mutex<File>>,
    syslog: Option<Syslog>,
}

struct Syslog {
    path: PathBuf,
    socket: Mutex<UnixDatagram>,
    header: syslog::Origin,
}

impl AuditExport {
    /// Opens what `config` names: the file for appending, the socket connected. `None`
    /// when it names nothing.
    pub fn open(config: &AuditExportConfig) -> Result<Option<Self>, AuditExportError> {
        if config.file.is_none() && config.syslog.is_none() {
            return Ok(None);
        }
        let file = config
            .file
            .as_deref()
            .map(|path| open_file(path).map(Mutex::new))
            .transpose()?;
        let syslog = config
            .syslog
            .as_deref()
            .map(|path| {
                Ok(Syslog {
                    path: path.to_owned(),
                    socket: Mutex::new(connect(path)?),
                    header: syslog::Origin::of_this_process(),
                })
            })
            .transpose()?;
        Ok(Some(Self { file, syslog }))
    }

    /// Exports `event`: one line appended to the file (one write, so lines of concurrent
    /// writers never interleave), one datagram to the socket.
    pub fn write(&self, event: &AuditEvent) {
        if let Some(file) = &self.file {
            let mut line = json_line(event);
            line.push('\n');
            let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(error) = file.write_all(line.as_bytes()) {
                tracing::error!(%error, "audit export to the file failed");
            }
        }
        if let Some(syslog) = &self.syslog {
            syslog.send(&syslog::message(&syslog.header, event));
        }
    }
}

impl Syslog {
    /// Sends one message; a socket the syslog daemon re-made since (it restarted) is
    /// connected again once.
    fn send(&self, message: &[u8]) {
        let mut socket = self.socket.lock().unwrap_or_else(|p| p.into_inner());
        if socket.send(message).is_ok() {
            return;
        }
        match connect(&self.path) {
            Ok(fresh) => {
                *socket = fresh;
                if let Err(error) = socket.send(message) {
                    tracing::error!(%error, "audit export to syslog failed");
                }
            }
            Err(error) => tracing::error!(%error, "audit export to syslog failed"),
        }
    }
}

fn open_file(path: &Path) -> Result<File, AuditExportError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| AuditExportError {
            setting: "file",
            path: path.display().to_string(),
            why: e.to_string(),
        })
}

fn connect(path: &Path) -> Result<UnixDatagram, AuditExportError> {
    let fail = |e: std::io::Error| AuditExportError {
        setting: "syslog",
        path: path.display().to_string(),
        why: e.to_string(),
    };
    let socket = UnixDatagram::unbound().map_err(fail)?;
    socket.connect(path).map_err(fail)?;
    Ok(socket)
}
