//! Seen event ids, kept only as long as an event with that time could still be accepted.

use crate::contract::{Timestamp, DAY_MS};
use ahash::HashSet;
use std::collections::BTreeMap;

/// Event ids by UTC day of `occurred_at`; a day's ids are dropped when the watermark passes the day.
#[derive(Debug, Default)]
pub struct Dedup {
    buckets: BTreeMap<i64, HashSet<Box<str>>>,
}

impl Dedup {
    /// Records an id; `false` if it was already seen.
    pub fn insert(&mut self, id: &str, t: Timestamp) -> bool {
        if self.buckets.values().any(|b| b.contains(id)) {
            return false;
        }
        self.buckets.entry(t.0.div_euclid(DAY_MS)).or_default().insert(id.into());
        true
    }

    /// Forgets ids of days that end at or before the watermark: their events are too late anyway.
    pub fn expire(&mut self, watermark: i64) {
        let keep_from = watermark.div_euclid(DAY_MS);
        self.buckets = self.buckets.split_off(&keep_from);
    }

    /// How many ids are held.
    pub fn len(&self) -> usize {
        self.buckets.values().map(HashSet::len).sum()
    }

    /// Whether no ids are held.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_across_days_until_expiry() {
        let mut d = Dedup::default();
        assert!(d.insert("a", Timestamp(10)));
        assert!(!d.insert("a", Timestamp(10 + 3 * DAY_MS)));
        assert!(d.insert("b", Timestamp(DAY_MS + 5)));
        d.expire(DAY_MS);
        assert_eq!(d.len(), 1);
        assert!(!d.insert("b", Timestamp(DAY_MS + 5)));
    }
}
