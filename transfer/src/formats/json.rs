//! Reading JSON exports: the document, and typed access to an entry's fields that names the
//! field at fault (never its value, which may be a secret) when it is missing or mistyped.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::error::ImportError;

/// `bytes` without a leading UTF-8 byte order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// A parsed JSON file whose strings (secrets among them) are wiped when it is dropped.
pub(crate) struct Document(Value);

impl std::ops::Deref for Document {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.0
    }
}

impl Drop for Document {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Zeroizes every string in `value`. The depth is bounded by serde_json's recursion limit.
fn wipe(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => map.values_mut().for_each(wipe),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Parses the whole file as JSON; fails with [`ImportError::Damaged`] when it is not JSON.
pub(crate) fn document(bytes: &[u8], what: &str) -> Result<Document, ImportError> {
    // serde_json's message would quote the offending text, which may be a secret: say only
    // where parsing stopped.
    serde_json::from_slice(strip_bom(bytes))
        .map(Document)
        .map_err(|error| {
            ImportError::damaged(format!(
                "{what}: not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            ))
        })
}

/// The keys of the top-level object, without building its values; `None` when the bytes are
/// not a JSON object. Cheap enough for format detection.
pub(crate) fn top_level_keys(bytes: &[u8]) -> Option<BTreeMap<String, IgnoredAny>> {
    serde_json::from_slice(strip_bom(bytes)).ok()
}

/// Whether the top-level object has every key of `keys`.
pub(crate) fn has_keys(bytes: &[u8], keys: &[&str]) -> bool {
    top_level_keys(bytes).is_some_and(|found| keys.iter().all(|k| found.contains_key(*k)))
}

/// A JSON object whose fields are read with errors that name the field.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    /// The path of this object in its entry, e.g. `info.` (empty at the entry's top).
    prefix: &'a str,
}

impl<'a> Fields<'a> {
    /// The fields of `value`; fails with `"{prefix}: not an object"` otherwise.
    pub(crate) fn of(value: &'a Value, prefix: &'a str) -> Result<Self, String> {
        match value {
            Value::Object(map) => Ok(Self { map, prefix }),
            _ if prefix.is_empty() => Err("entry: not a JSON object".to_owned()),
            _ => Err(format!("{}: not an object", prefix.trim_end_matches('.'))),
        }
    }

    /// The field `key`, absent when missing or `null`.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A `key: …` reason for this object's field.
    pub(crate) fn reason(&self, key: &str, what: &str) -> String {
        format!("{}{key}: {what}", self.prefix)
    }

    /// The string `key`; missing or another type is an error naming it.
    pub(crate) fn str(&self, key: &str) -> Result<&'a str, String> {
        self.opt_str(key)?
            .ok_or_else(|| self.reason(key, "missing"))
    }

    /// The string `key`, or `None` when it is missing or null.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.reason(key, "not a string")),
        }
    }

    /// The string `key`, or `""` when it is missing or null.
    pub(crate) fn str_or_empty(&self, key: &str) -> Result<&'a str, String> {
        Ok(self.opt_str(key)?.unwrap_or(""))
    }

    /// The whole number `key` (0 or more), or `None` when it is missing or null.
    pub(crate) fn opt_u64(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.reason(key, "not a whole number")),
        }
    }

    /// The whole number `key`; missing or another type is an error naming it.
    pub(crate) fn u64(&self, key: &str) -> Result<u64, String> {
        self.opt_u64(key)?
            .ok_or_else(|| self.reason(key, "missing"))
    }

    /// The object `key`, read with `prefix` (e.g. `"info."`) in its errors.
    pub(crate) fn object(&self, key: &str, prefix: &'a str) -> Result<Fields<'a>, String> {
        match self.get(key) {
            None => Err(self.reason(key, "missing")),
            Some(value) => Fields::of(value, prefix),
        }
    }

    /// The array `key`.
    pub(crate) fn array(&self, key: &str) -> Result<&'a [Value], String> {
        match self.get(key) {
            None => Err(self.reason(key, "missing")),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.reason(key, "not an array")),
        }
    }
}

/// The array at `key` of the top-level object `root`: the file's list of entries. Its absence
/// makes the whole file [`ImportError::Damaged`].
pub(crate) fn entry_list<'a>(
    root: &'a Value,
    key: &str,
    what: &str,
) -> Result<&'a [Value], ImportError> {
    match root.get(key) {
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(ImportError::damaged(format!("{what}: {key} is not a list"))),
        None => Err(ImportError::damaged(format!("{what}: no {key} list"))),
    }
}
