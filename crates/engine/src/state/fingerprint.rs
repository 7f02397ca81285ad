//! 128-bit keyed fingerprints of ids, used as table keys: no allocation, no string compares.
//!
//! A fingerprint is two independent 64-bit hashes with per-process random keys. Two distinct
//! ids collide with probability 2^-128 per pair, and a producer cannot aim for a collision
//! without the keys, so tables keyed by fingerprints behave as if keyed by the ids.

use ahash::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// Computes fingerprints with secret keys drawn once per engine (kept in its checkpoints).
#[derive(Debug, Clone)]
pub struct Fingerprinter {
    keys: [u64; 8],
    a: RandomState,
    b: RandomState,
}

impl Default for Fingerprinter {
    /// Fresh random keys (from ahash's runtime randomness).
    fn default() -> Self {
        let random = RandomState::new();
        Fingerprinter::with_keys(std::array::from_fn(|i| random.hash_one(i)))
    }
}

impl Fingerprinter {
    /// A fingerprinter with given keys (restoring a checkpoint).
    pub fn with_keys(keys: [u64; 8]) -> Fingerprinter {
        Fingerprinter {
            keys,
            a: RandomState::with_seeds(keys[0], keys[1], keys[2], keys[3]),
            b: RandomState::with_seeds(keys[4], keys[5], keys[6], keys[7]),
        }
    }

    /// The keys, to be saved with a checkpoint.
    pub fn keys(&self) -> [u64; 8] {
        self.keys
    }

    /// The fingerprint of any hashable value (an id, or a `(seller, id)` pair).
    pub fn of<T: Hash + ?Sized>(&self, value: &T) -> u128 {
        ((self.a.hash_one(value) as u128) << 64) | self.b.hash_one(value) as u128
    }
}

/// A map keyed by fingerprints.
pub type FpMap<V> = HashMap<u128, V, BuildHasherDefault<FpHasher>>;
/// A set of fingerprints.
pub type FpSet = HashSet<u128, BuildHasherDefault<FpHasher>>;

/// A fingerprint is already a keyed hash: its low bits are the table hash.
#[derive(Default)]
pub struct FpHasher(u64);

impl Hasher for FpHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_pairs_and_ids() {
        let f = Fingerprinter::default();
        assert_eq!(f.of("a"), f.of("a"));
        assert_ne!(f.of(&(1u32, "a")), f.of(&(2u32, "a")));
        assert_ne!(f.of("ab"), f.of("ba"));
        let mut m: FpMap<u8> = FpMap::default();
        m.insert(f.of("x"), 1);
        assert_eq!(m.get(&f.of("x")), Some(&1));
    }
}
