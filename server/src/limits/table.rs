//! A map with a fixed cap on its keys, for the limiter's in-memory state: a flood of distinct
//! usernames or addresses cannot grow the process beyond the cap.
//!
//! Keys are 64-bit hashes under a per-process random key (`RandomState`), so a key costs the
//! same whatever the client sent, and an attacker cannot aim a collision at a victim's key.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::sync::Mutex;

/// What an entry tells the table about itself when it is full.
pub trait Entry {
    /// True when the entry holds nothing worth keeping (a refilled bucket, a zero count):
    /// dropping it changes no answer.
    fn idle(&self, now_ms: u64) -> bool;
    /// How much is lost by dropping it; the lowest go first when idle ones are not enough.
    fn weight(&self, now_ms: u64) -> u64;
}

/// A capped map from hashed keys to entries.
pub struct Table<V> {
    entries: Mutex<HashMap<u64, V>>,
    hasher: RandomState,
    cap: usize,
}

impl<V: Entry + Default> Table<V> {
    /// A table holding at most `cap` keys (at least 8).
    pub fn new(cap: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            hasher: RandomState::new(),
            cap: cap.max(8),
        }
    }

    /// The hashed form of `key`.
    pub fn key(&self, key: impl Hash) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Runs `f` on the entry of `key` (a default one if absent), making room first if the
    /// table is full.
    pub fn with<R>(&self, key: u64, now_ms: u64, f: impl FnOnce(&mut V) -> R) -> R {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.cap && !entries.contains_key(&key) {
            make_room(&mut entries, self.cap, now_ms);
        }
        f(entries.entry(key).or_default())
    }

    /// Reads the entry of `key`, if any, without creating one.
    pub fn peek<R>(&self, key: u64, f: impl FnOnce(&V) -> R) -> Option<R> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&key).map(f)
    }

    /// Drops the entry of `key`.
    pub fn remove(&self, key: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&key);
    }

    /// How many keys the table holds.
    pub(super) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Frees an eighth of the table: idle entries first, then the lightest. One scan per
/// `cap / 8` new keys keeps the cost per request constant on average.
fn make_room<V: Entry>(entries: &mut HashMap<u64, V>, cap: usize, now_ms: u64) {
    entries.retain(|_, v| !v.idle(now_ms));
    let target = cap - cap / 8;
    if entries.len() <= target {
        return;
    }
    let mut weights: Vec<(u64, u64)> = entries
        .iter()
        .map(|(k, v)| (v.weight(now_ms), *k))
        .collect();
    weights.sort_unstable();
    for (_, key) in weights.iter().take(entries.len() - target) {
        entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Count(u64);

    impl Entry for Count {
        fn idle(&self, _: u64) -> bool {
            self.0 == 0
        }
        fn weight(&self, _: u64) -> u64 {
            self.0
        }
    }

    #[test]
    fn the_cap_holds_and_heavy_entries_stay() {
        let table: Table<Count> = Table::new(64);
        let heavy = table.key("heavy");
        table.with(heavy, 0, |c| c.0 = 1000);
        for n in 0..10_000u32 {
            table.with(table.key(n), 0, |c| c.0 = 1);
            assert!(table.len() <= 64);
        }
        assert_eq!(table.peek(heavy, |c| c.0), Some(1000));
    }
}
