//! Where the store is: a SQLite file (the default) or a PostgreSQL database, from one setting.

use std::path::PathBuf;
use std::sync::Arc;

use super::postgres::DEFAULT_POOL_SIZE;
use super::{Durability, PgStore, SqliteStore, Store, StoreResult};

/// The `--db` setting: a path, or a `postgres://` / `postgresql://` URL.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite database file (created on first start).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (libpq's URL form; it may hold a password).
    Postgres(String),
}

impl StoreLocation {
    /// Reads the setting: a URL with a PostgreSQL scheme, otherwise a file path.
    pub fn parse(text: &str) -> Self {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Self::Postgres(text.to_owned())
        } else {
            Self::Sqlite(PathBuf::from(text))
        }
    }

    /// The SQLite file, if it is one (a key file may be kept beside it).
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }

    /// The durability a store gets unless configured: `Normal` for SQLite, where a process
    /// crash loses nothing acknowledged; `Full` for PostgreSQL, where `Normal`
    /// (`synchronous_commit = off`) loses acknowledged commits when the database crashes
    /// (`tests/tests/replicas_crash.rs`).
    pub fn default_durability(&self) -> Durability {
        match self {
            Self::Sqlite(_) => Durability::Normal,
            Self::Postgres(_) => Durability::Full,
        }
    }

    /// Opens (creating and migrating as needed) the store, with PostgreSQL's default pool.
    pub fn open(&self, durability: Durability) -> StoreResult<Arc<dyn Store>> {
        self.open_with(durability, DEFAULT_POOL_SIZE)
    }

    /// Opens the store; a PostgreSQL one with at most `pool_size` connections.
    pub fn open_with(
        &self,
        durability: Durability,
        pool_size: usize,
    ) -> StoreResult<Arc<dyn Store>> {
        match self {
            Self::Sqlite(path) => Ok(Arc::new(SqliteStore::open_with(path, durability)?)),
            Self::Postgres(url) => Ok(Arc::new(PgStore::open(url, durability, pool_size)?)),
        }
    }
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            // The URL may carry the database password: only the scheme is shown.
            Self::Postgres(_) => write!(f, "Postgres(postgres://…)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_told_from_a_path() {
        assert!(matches!(
            StoreLocation::parse("postgres://u:p@127.0.0.1/db"),
            StoreLocation::Postgres(_)
        ));
        assert!(matches!(
            StoreLocation::parse("PostgreSQL://h/db"),
            StoreLocation::Postgres(_)
        ));
        assert_eq!(
            StoreLocation::parse("postgres.db"),
            StoreLocation::Sqlite(PathBuf::from("postgres.db"))
        );
        let debug = format!("{:?}", StoreLocation::parse("postgres://u:secret@h/db"));
        assert!(!debug.contains("secret"), "{debug}");
    }
}
