//! A bounded least-recently-used cache for segment indexes and record chunks.
//!
//! Entries carry a weight (approximate resident bytes); inserting evicts the least recently
//! used entries until the total fits the capacity. An entry heavier than the whole capacity is
//! not cached at all. Loads happen outside the lock: two readers missing the same entry at
//! once both read it from disk, and the second insert replaces the first.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// The cache. `V` is cheap to clone (an `Arc` or an enum of them).
#[derive(Debug)]
pub(crate) struct Cache<K, V> {
    capacity: u64,
    inner: Mutex<Inner<K, V>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct Inner<K, V> {
    entries: HashMap<K, Entry<V>>,
    /// Last-use tick -> key, oldest first.
    by_use: BTreeMap<u64, K>,
    next_tick: u64,
    weight: u64,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    weight: u64,
    tick: u64,
}

impl<K: Copy + Eq + Hash, V: Clone> Cache<K, V> {
    pub(crate) fn new(capacity: u64) -> Cache<K, V> {
        Cache {
            capacity,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                by_use: BTreeMap::new(),
                next_tick: 0,
                weight: 0,
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached value, marking it recently used.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let mut inner = self.inner.lock();
        let tick = inner.next_tick;
        inner.next_tick += 1;
        let Some(entry) = inner.entries.get_mut(key) else {
            drop(inner);
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let old_tick = std::mem::replace(&mut entry.tick, tick);
        let value = entry.value.clone();
        inner.by_use.remove(&old_tick);
        inner.by_use.insert(tick, *key);
        drop(inner);
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(value)
    }

    /// Caches `value`, evicting older entries to stay within capacity.
    pub(crate) fn insert(&self, key: K, value: V, weight: u64) {
        if weight > self.capacity {
            return;
        }
        let mut inner = self.inner.lock();
        if let Some(old) = inner.entries.remove(&key) {
            inner.by_use.remove(&old.tick);
            inner.weight -= old.weight;
        }
        while inner.weight + weight > self.capacity {
            let Some((_, oldest)) = inner.by_use.pop_first() else {
                break;
            };
            if let Some(evicted) = inner.entries.remove(&oldest) {
                inner.weight -= evicted.weight;
            }
        }
        let tick = inner.next_tick;
        inner.next_tick += 1;
        inner.by_use.insert(tick, key);
        inner.entries.insert(
            key,
            Entry {
                value,
                weight,
                tick,
            },
        );
        inner.weight += weight;
    }

    /// Total weight cached now.
    pub(crate) fn weight(&self) -> u64 {
        self.inner.lock().weight
    }

    /// (hits, misses) so far.
    pub(crate) fn hit_counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used_first() {
        let cache: Cache<u32, &str> = Cache::new(30);
        cache.insert(1, "one", 10);
        cache.insert(2, "two", 10);
        cache.insert(3, "three", 10);
        assert_eq!(cache.get(&1), Some("one")); // 2 is now the oldest
        cache.insert(4, "four", 10);
        assert_eq!(cache.get(&2), None);
        assert_eq!(cache.get(&1), Some("one"));
        assert_eq!(cache.get(&3), Some("three"));
        assert_eq!(cache.get(&4), Some("four"));
        assert_eq!(cache.weight(), 30);
        assert_eq!(cache.hit_counts(), (4, 1));
    }

    #[test]
    fn never_exceeds_capacity() {
        let cache: Cache<u32, u32> = Cache::new(100);
        for i in 0..1000 {
            cache.insert(i % 37, i, u64::from(i % 13) + 1);
            assert!(cache.weight() <= 100);
        }
        cache.insert(999, 0, 101);
        assert_eq!(cache.get(&999), None, "heavier than the cache: not kept");
    }

    #[test]
    fn reinserting_replaces_the_weight() {
        let cache: Cache<u32, u32> = Cache::new(100);
        cache.insert(1, 1, 60);
        cache.insert(1, 2, 30);
        assert_eq!(cache.weight(), 30);
        assert_eq!(cache.get(&1), Some(2));
    }
}
