//! Slots with generations, so timers can point at an order that may have been dropped since.

/// A reference to a slot that is stale once the slot is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotRef {
    /// Index in the slab.
    pub slot: u32,
    /// Generation of the slot when the reference was taken.
    pub gen: u32,
}

/// A vector of reusable slots.
#[derive(Debug)]
pub struct Slab<T> {
    entries: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { entries: Vec::new(), free: Vec::new(), live: 0 }
    }
}

impl<T> Slab<T> {
    /// Stores a value and returns its reference.
    pub fn insert(&mut self, value: T) -> SlotRef {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let e = &mut self.entries[slot as usize];
            e.0 = e.0.wrapping_add(1);
            e.1 = Some(value);
            return SlotRef { slot, gen: e.0 };
        }
        self.entries.push((0, Some(value)));
        SlotRef { slot: (self.entries.len() - 1) as u32, gen: 0 }
    }

    /// The value, if the reference is still current.
    pub fn get_mut(&mut self, r: SlotRef) -> Option<&mut T> {
        match self.entries.get_mut(r.slot as usize) {
            Some((gen, Some(v))) if *gen == r.gen => Some(v),
            _ => None,
        }
    }

    /// Removes and returns the value, if the reference is still current.
    pub fn remove(&mut self, r: SlotRef) -> Option<T> {
        match self.entries.get_mut(r.slot as usize) {
            Some((gen, v @ Some(_))) if *gen == r.gen => {
                self.free.push(r.slot);
                self.live -= 1;
                v.take()
            }
            _ => None,
        }
    }

    /// Live values.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no value is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// References to every live value, in slot order.
    pub fn refs(&self) -> Vec<SlotRef> {
        self.entries.iter().enumerate().filter(|(_, e)| e.1.is_some()).map(|(i, e)| SlotRef { slot: i as u32, gen: e.0 }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_references_miss() {
        let mut s = Slab::default();
        let a = s.insert("a");
        assert_eq!(s.remove(a), Some("a"));
        let b = s.insert("b");
        assert_eq!(b.slot, a.slot);
        assert!(s.get_mut(a).is_none());
        assert_eq!(s.get_mut(b).copied(), Some("b"));
        assert_eq!(s.len(), 1);
    }
}
