//! How much one import file may ask for. The byte cap ([`crate::MAX_IMPORT_BYTES`]) bounds
//! the file, not what reading it costs: these bound the memory and the work, each checked
//! before the cost is paid (a failed allocation aborts the process, which no FFI can catch).

/// The most entries one file may hold (accounts, list items, CSV records, lines of links).
/// Far above any real export; with the field bound it caps what reading a file can allocate.
pub const MAX_ENTRIES: usize = 10_000;

/// The most fields one record may have: members of a JSON object, columns of a CSV row.
/// Real exports use about twenty.
pub const MAX_FIELDS: usize = 64;

/// The most memory a parsed JSON document may take, in bytes (estimated as it is built: each
/// value, string and object charged its size).
pub const MAX_JSON_MEMORY: usize = 64 * 1024 * 1024;
