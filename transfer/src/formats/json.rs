//! Reading JSON exports: the document, and typed access to an entry's fields that names the
//! field at fault (never its value, which may be a secret) when it is missing or mistyped.

use std::cell::Cell;
use std::collections::BTreeSet;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use zeroize::Zeroize;

use super::limits;
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

/// Parses the whole file as JSON within the bounds of [`limits`]; fails with
/// [`ImportError::TooMany`] past them and [`ImportError::Damaged`] when it is not JSON.
pub(crate) fn document(bytes: &[u8], what: &str) -> Result<Document, ImportError> {
    let spent = Cell::new(Spent::default());
    let mut deserializer = serde_json::Deserializer::from_slice(strip_bom(bytes));
    let value = Bounded { spent: &spent }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (value, spent.get().over) {
        (Ok(value), _) => Ok(Document(value)),
        (Err(_), Some(over)) => Err(over.error()),
        // serde_json's message would quote the offending text, which may be a secret: say
        // only where parsing stopped.
        (Err(error), None) => Err(ImportError::damaged(format!(
            "{what}: not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ))),
    }
}

/// The bound a document broke.
#[derive(Clone, Copy)]
enum Over {
    Memory,
    Items,
    Fields,
}

impl Over {
    fn error(self) -> ImportError {
        let (what, limit) = match self {
            Over::Memory => ("bytes of parsed JSON", limits::MAX_JSON_MEMORY),
            Over::Items => ("items in a list", limits::MAX_ENTRIES),
            Over::Fields => ("fields in a record", limits::MAX_FIELDS),
        };
        ImportError::TooMany { what, limit }
    }
}

/// What a document has cost so far, and the bound it broke if any.
#[derive(Clone, Copy, Default)]
struct Spent {
    bytes: usize,
    over: Option<Over>,
}

/// Builds a [`Value`] like serde_json's own, but charges every value against
/// [`limits::MAX_JSON_MEMORY`] as it is made and refuses arrays and objects past
/// [`limits::MAX_ENTRIES`] items or [`limits::MAX_FIELDS`] members: a file of five million
/// `{}` then stops at the first item too many, not after gigabytes. Depth stays bounded by
/// serde_json's recursion limit.
#[derive(Clone, Copy)]
struct Bounded<'a> {
    spent: &'a Cell<Spent>,
}

impl Bounded<'_> {
    /// Charges `bytes`; an error once the budget is gone.
    fn charge<E: de::Error>(self, bytes: usize) -> Result<(), E> {
        let mut spent = self.spent.get();
        spent.bytes = spent.bytes.saturating_add(bytes);
        self.spent.set(spent);
        if spent.bytes > limits::MAX_JSON_MEMORY {
            return Err(self.over(Over::Memory));
        }
        Ok(())
    }

    /// Records the bound broken and gives the error that stops serde_json.
    fn over<E: de::Error>(self, over: Over) -> E {
        let mut spent = self.spent.get();
        spent.over.get_or_insert(over);
        self.spent.set(spent);
        E::custom("over a bound")
    }

    fn scalar<E: de::Error>(self, value: Value) -> Result<Value, E> {
        self.charge(VALUE_COST)?;
        Ok(value)
    }
}

/// The size of a `Value`, charged for each.
const VALUE_COST: usize = std::mem::size_of::<Value>();
/// What an object costs beyond its values: a B-tree leaf of keys and values, allocated for
/// the first member.
const OBJECT_COST: usize = 11 * (std::mem::size_of::<String>() + VALUE_COST) + 64;

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.scalar(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.scalar(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.scalar(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.scalar(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.charge(v.len())?;
        self.scalar(Value::String(v.to_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.scalar(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.charge(VALUE_COST)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            if items.len() == limits::MAX_ENTRIES {
                return Err(self.over(Over::Items));
            }
            // The vector's spare room is charged as it grows.
            if items.len() == items.capacity() {
                self.charge(items.capacity().max(4) * VALUE_COST)?;
            }
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.charge(VALUE_COST + OBJECT_COST)?;
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.len() == limits::MAX_FIELDS {
                return Err(self.over(Over::Fields));
            }
            self.charge(key.len() + OBJECT_COST / 11)?;
            let value = map.next_value_seed(self)?;
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

/// The keys of the top-level object, without building its values; `None` when the bytes are
/// not a JSON object or it has more than [`limits::MAX_FIELDS`] keys. Cheap enough for
/// format detection.
pub(crate) fn top_level_keys(bytes: &[u8]) -> Option<BTreeSet<String>> {
    let mut deserializer = serde_json::Deserializer::from_slice(strip_bom(bytes));
    let keys = deserializer.deserialize_map(TopKeys).ok()?;
    deserializer.end().ok()?;
    Some(keys)
}

/// Collects an object's keys, skipping values, up to [`limits::MAX_FIELDS`] of them.
struct TopKeys;

impl<'de> Visitor<'de> for TopKeys {
    type Value = BTreeSet<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut keys = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.len() == limits::MAX_FIELDS {
                return Err(de::Error::custom("too many keys"));
            }
            map.next_value::<IgnoredAny>()?;
            keys.insert(key);
        }
        Ok(keys)
    }
}

/// Whether the top-level object has every key of `keys`.
pub(crate) fn has_keys(bytes: &[u8], keys: &[&str]) -> bool {
    top_level_keys(bytes).is_some_and(|found| keys.iter().all(|k| found.contains(*k)))
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
