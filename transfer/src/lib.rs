//! Moving accounts in and out of cityauth: reading other authenticators' exports, writing
//! otpauth and Google Authenticator migration links, and cityauth's own encrypted backup.
//!
//! Reading never touches a vault: [`read`] turns a file into [`Parsed`] entries, each an
//! account or the reason it was refused and where it sat in the file. [`plan`] then sets
//! them against a vault (duplicates, rejections) and [`commit`] adds them in one
//! transaction, so that an import is all or nothing.

mod cancel;
mod entry;
mod error;
mod format;
pub mod formats;
mod plan;

pub mod backup;
pub mod export;

pub use cancel::Cancel;
pub use entry::{Entry, Location, Parsed, Rejection, safe_label};
pub use error::ImportError;
pub use format::{Format, detect, read, read_cancellable};
pub use plan::{Duplicate, ImportPlan, commit, plan};

/// The largest file accepted for import, in bytes: far above any real export, and a bound on
/// the memory a hostile file can make a parser use.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;
