//! PostgreSQL failures as the store reports them: the server's message and SQLSTATE, never
//! the connection URL (it may hold the password) nor a row's values.

use std::fmt;

/// A PostgreSQL failure; its `Display` and `Debug` are safe to log.
pub enum PgError {
    /// The database, the connection or the protocol failed.
    Client(::postgres::Error),
    /// The `postgres://` URL could not be read (its text is not repeated: it may hold the
    /// password).
    BadUrl,
    /// A connection worker stopped before answering (a bug: it is logged and the pool
    /// starts another).
    WorkerGone,
}

impl PgError {
    /// The SQLSTATE, when the server answered with an error.
    pub fn code(&self) -> Option<&::postgres::error::SqlState> {
        match self {
            Self::Client(error) => error.code(),
            _ => None,
        }
    }
}

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The server's own message only: its DETAIL line can quote a row's values.
            Self::Client(error) => match error.as_db_error() {
                Some(db) => write!(f, "{} ({})", db.message(), db.code().code()),
                None if error.is_closed() => f.write_str("the connection is closed"),
                // Connection and protocol errors (refused, reset, authentication): their
                // text names no URL. The client's own text leaves out why; its sources say.
                None => {
                    write!(f, "{error}")?;
                    let mut source = std::error::Error::source(error);
                    while let Some(cause) = source {
                        match cause.downcast_ref::<::postgres::error::DbError>() {
                            Some(db) => write!(f, ": {} ({})", db.message(), db.code().code())?,
                            None => write!(f, ": {cause}")?,
                        }
                        source = cause.source();
                    }
                    Ok(())
                }
            },
            Self::BadUrl => f.write_str("the PostgreSQL URL is not valid"),
            Self::WorkerGone => f.write_str("a connection worker stopped"),
        }
    }
}

/// The same text as `Display`: the client's own `Debug` prints the server's DETAIL line,
/// which can quote a row's values, and an `unwrap` or a `{:?}` in a log would show it.
impl fmt::Debug for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgError({self})")
    }
}

impl std::error::Error for PgError {}

impl From<::postgres::Error> for super::super::StoreError {
    fn from(error: ::postgres::Error) -> Self {
        Self::Postgres(PgError::Client(error))
    }
}

impl From<PgError> for super::super::StoreError {
    fn from(error: PgError) -> Self {
        Self::Postgres(error)
    }
}
