//! An open-addressing index from fingerprints to slot numbers in one array of 8-byte entries,
//! so that a lookup reads one cache line of the index before the slot itself (a table with
//! separate control bytes reads two).
//!
//! An entry holds the key's low 32 bits beside its slot: they give the entry's home position
//! (so growing and deleting never read the slots) and filter the candidates, so that the
//! caller's key check, which reads a slot, runs about once a lookup.

/// Slot numbers by fingerprint, with linear probing and backward-shift deletion.
#[derive(Debug, Default)]
pub struct SlotIndex {
    /// `low 32 bits of the key << 32 | slot + 1`; 0 is an empty entry.
    entries: Vec<u64>,
    len: usize,
}

/// The entry of `slot` under `key`.
fn entry(key: u128, slot: u32) -> u64 {
    (u64::from(key as u32) << 32) | (u64::from(slot) + 1)
}

/// The slot an entry holds.
fn slot_of(e: u64) -> u32 {
    (e as u32).wrapping_sub(1)
}

impl SlotIndex {
    fn mask(&self) -> usize {
        self.entries.len().wrapping_sub(1)
    }

    /// Where the entry's probe starts.
    fn home(&self, e: u64) -> usize {
        (e >> 32) as usize & self.mask()
    }

    /// Probes for `key`: the position of its entry (the one whose slot passes `is_key`), or of
    /// the empty entry where it would go. The table must not be empty.
    fn probe(&self, key: u128, mut is_key: impl FnMut(u32) -> bool) -> Result<usize, usize> {
        let tag = key as u32;
        let mut i = tag as usize & self.mask();
        loop {
            let e = self.entries[i];
            if e == 0 {
                return Err(i);
            }
            if (e >> 32) as u32 == tag && is_key(slot_of(e)) {
                return Ok(i);
            }
            i = (i + 1) & self.mask();
        }
    }

    /// The position of the entry of `key` whose slot passes `is_key`, if any.
    fn position(&self, key: u128, is_key: impl FnMut(u32) -> bool) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        self.probe(key, is_key).ok()
    }

    /// The slot of `key`, `is_key` telling whether a candidate slot holds it.
    pub fn find(&self, key: u128, is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        self.position(key, is_key).map(|i| slot_of(self.entries[i]))
    }

    /// The slot of `key` (and `false`), or, when it is absent, `vacant` placed under it (and
    /// `true`): one probe either way, unless the table must grow first.
    pub fn find_or_insert(&mut self, key: u128, is_key: impl FnMut(u32) -> bool, vacant: u32) -> (u32, bool) {
        if !self.entries.is_empty() {
            match self.probe(key, is_key) {
                Ok(i) => return (slot_of(self.entries[i]), false),
                Err(i) if (self.len + 1) * 4 <= self.entries.len() * 3 => {
                    self.entries[i] = entry(key, vacant);
                    self.len += 1;
                    return (vacant, true);
                }
                Err(_) => {}
            }
        }
        self.grow();
        self.place(entry(key, vacant));
        self.len += 1;
        (vacant, true)
    }

    fn place(&mut self, e: u64) {
        let mut i = self.home(e);
        while self.entries[i] != 0 {
            i = (i + 1) & self.mask();
        }
        self.entries[i] = e;
    }

    /// Doubles the table (at most three quarters full), placing every entry again.
    fn grow(&mut self) {
        let doubled = vec![0; (self.entries.len() * 2).max(16)];
        let old = std::mem::replace(&mut self.entries, doubled);
        for e in old.into_iter().filter(|&e| e != 0) {
            self.place(e);
        }
    }

    /// Removes the entry of `slot` under `key`, shifting back the entries probed past it.
    pub fn remove(&mut self, key: u128, slot: u32) {
        let Some(mut hole) = self.position(key, |s| s == slot) else { return };
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask();
            let e = self.entries[j];
            if e == 0 {
                break;
            }
            // The entry may fill the hole when the hole lies on its probe, between home and j.
            if j.wrapping_sub(self.home(e)) & self.mask() >= j.wrapping_sub(hole) & self.mask() {
                self.entries[hole] = e;
                hole = j;
            }
        }
        self.entries[hole] = 0;
        self.len -= 1;
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Inserts and removes, with keys crowded into a few homes, against a plain map.
        #[test]
        fn finds_what_a_plain_map_holds(ops in proptest::collection::vec((any::<bool>(), 0u128..64, 0u32..4), 1..400)) {
            let mut index = SlotIndex::default();
            let mut plain: HashMap<u128, u32> = HashMap::new();
            let mut next = 0u32;
            for (add, k, high) in ops {
                // Low bits crowd keys into few homes; high bits tell them apart.
                let key = (k % 8) | (k << 64) | (u128::from(high) << 96);
                if add {
                    let held = plain.get(&key).copied();
                    let found = index.find_or_insert(key, |s| held == Some(s), next);
                    prop_assert_eq!(found, held.map_or((next, true), |slot| (slot, false)));
                    if held.is_none() {
                        plain.insert(key, next);
                        next += 1;
                    }
                } else if let Some(slot) = plain.remove(&key) {
                    index.remove(key, slot);
                }
                prop_assert_eq!(index.len(), plain.len());
                let holds = |key: u128, slot: u32| plain.get(&key) == Some(&slot);
                for (&pk, &ps) in &plain {
                    prop_assert_eq!(index.find(pk, |s| holds(pk, s)), Some(ps));
                }
                prop_assert_eq!(index.find(key, |s| holds(key, s)), plain.get(&key).copied());
            }
        }
    }
}
