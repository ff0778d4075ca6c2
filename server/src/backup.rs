//! `cityauth-server restore`: a SQLite backup (`cityauth-server backup`, `Store::backup`) put
//! in place as a new database, checked first. PostgreSQL has its own tools (`pg_dump`,
//! `pg_restore`: docs/deploy.md).
//!
//! The copy is checked before anything is written (`PRAGMA integrity_check`, and a schema
//! version this server can open), copied to a private (0600) file beside the target, synced,
//! then linked to the target's name, which fails if it exists: a restore never writes over a
//! database, and a crash midway leaves at most the side file, never a half-written target.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// Why a restore was refused or failed; nothing was put in place.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The target exists (a restore goes into a new database).
    #[error("{0} exists: restore into a new database path")]
    TargetExists(PathBuf),
    /// The copy is not a readable SQLite database, or fails its integrity check.
    #[error("the copy {path} is damaged: {why}")]
    Damaged {
        /// The copy.
        path: PathBuf,
        /// What SQLite said.
        why: String,
    },
    /// The copy's schema is newer than this server, or it is no cityauth database.
    #[error("the copy {path} has schema version {version}; this server opens 1 to {known}")]
    Schema {
        /// The copy.
        path: PathBuf,
        /// Its version.
        version: i64,
        /// The newest this server knows.
        known: i64,
    },
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Checks the backup `copy` and puts it in place at `target`, which must not exist.
pub fn restore_sqlite(copy: &Path, target: &Path) -> Result<(), RestoreError> {
    for path in [target.to_path_buf(), sibling(target, "-wal")] {
        if path.exists() {
            return Err(RestoreError::TargetExists(path));
        }
    }
    check(copy)?;
    let side = sibling(target, ".restoring");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut out = options.open(&side)?;
        out.write_all(&std::fs::read(copy)?)?;
        out.sync_all()?;
        std::fs::hard_link(&side, target)
    })();
    let _ = std::fs::remove_file(&side);
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(RestoreError::TargetExists(target.to_path_buf()));
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The new name survives a power loss once its directory is synced.
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The copy's integrity and schema version, read only.
fn check(copy: &Path) -> Result<(), RestoreError> {
    let damaged = |why: String| RestoreError::Damaged {
        path: copy.to_path_buf(),
        why,
    };
    if !copy.is_file() {
        return Err(damaged("no such file".into()));
    }
    let connection = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| damaged(e.to_string()))?;
    let verdict: String = connection
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| damaged(e.to_string()))?;
    if verdict != "ok" {
        return Err(damaged(verdict));
    }
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| damaged(e.to_string()))?;
    let known = crate::store::sqlite_schema_version();
    if !(1..=known).contains(&version) {
        return Err(RestoreError::Schema {
            path: copy.to_path_buf(),
            version,
            known,
        });
    }
    Ok(())
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_copy_or_an_existing_target_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.db");
        std::fs::write(&copy, vec![0x5Au8; 8192]).unwrap();
        let target = dir.path().join("new.db");
        let error = restore_sqlite(&copy, &target).unwrap_err();
        assert!(matches!(error, RestoreError::Damaged { .. }), "{error}");
        assert!(!target.exists());

        let empty = dir.path().join("empty.db");
        Connection::open(&empty)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let error = restore_sqlite(&empty, &target).unwrap_err();
        assert!(
            matches!(error, RestoreError::Schema { version: 0, .. }),
            "{error}"
        );

        std::fs::write(&target, b"").unwrap();
        let error = restore_sqlite(&empty, &target).unwrap_err();
        assert!(matches!(error, RestoreError::TargetExists(_)), "{error}");
    }
}
