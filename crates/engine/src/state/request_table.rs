//! The live service requests, in slots: an event finds its request through the fingerprint
//! index once, and every timer of the request (deadline, survey decision, expiry) holds its
//! slot, so firing it is an array access instead of a probe into a large hash table.
//!
//! A slot is reused after its request is forgotten; a timer tells a stale slot by the
//! request's generation, which no two requests share.
//!
//! The index holds slot numbers and 4 bytes of each key ([`SlotIndex`]); the whole keys stay
//! in the slots.

use super::request::RequestState;
use super::slot_index::SlotIndex;

/// Requests by slot, with an index from the fingerprint of (department, request_id).
#[derive(Debug, Default)]
pub struct RequestTable {
    index: SlotIndex,
    slots: Vec<Option<(u128, RequestState)>>,
    free: Vec<u32>,
    /// A bit a slot: the request closed by its `due_by`, so its due-time timer has nothing to
    /// do and need not touch the request (a small bitmap stays in cache; the slots do not).
    closed_on_time: Vec<u64>,
}

/// The key held in `slot`.
fn key_at(slots: &[Option<(u128, RequestState)>], slot: u32) -> Option<u128> {
    slots[slot as usize].as_ref().map(|(key, _)| *key)
}

impl RequestTable {
    /// The slot of the request with fingerprint `key`, if it is held.
    pub fn find(&self, key: u128) -> Option<u32> {
        self.index.find(key, |slot| key_at(&self.slots, slot) == Some(key))
    }

    /// The slot of `key`'s request, made with `new` (and `true`) when it is not held.
    pub fn find_or_insert(&mut self, key: u128, new: impl FnOnce() -> RequestState) -> (u32, bool) {
        let vacant = self.free.last().copied().unwrap_or(self.slots.len() as u32);
        let slots = &self.slots;
        let (slot, inserted) = self.index.find_or_insert(key, |s| key_at(slots, s) == Some(key), vacant);
        if inserted {
            let entry = Some((key, new()));
            if self.free.pop().is_some() {
                self.slots[slot as usize] = entry;
            } else {
                self.slots.push(entry);
            }
        }
        (slot, inserted)
    }

    /// The request in `slot`; panics on a free slot (a slot found or inserted is held until removed).
    pub fn at(&self, slot: u32) -> &RequestState {
        &self.slots[slot as usize].as_ref().expect("a held slot").1
    }

    /// The request in `slot`, to change it; panics on a free slot.
    pub fn at_mut(&mut self, slot: u32) -> &mut RequestState {
        &mut self.slots[slot as usize].as_mut().expect("a held slot").1
    }

    /// The request a timer armed for (`slot`, `generation`) is about, unless it was forgotten since.
    pub fn live(&mut self, slot: u32, generation: u32) -> Option<&mut RequestState> {
        match self.slots.get_mut(slot as usize) {
            Some(Some((_, r))) if r.generation == generation => Some(r),
            _ => None,
        }
    }

    /// Forgets the request in `slot` and frees the slot.
    pub fn remove(&mut self, slot: u32) -> RequestState {
        self.index.remove(key_at(&self.slots, slot).expect("a held slot"), slot);
        let (_, r) = self.slots[slot as usize].take().expect("a held slot");
        if let Some(word) = self.closed_on_time.get_mut(slot as usize / 64) {
            *word &= !(1 << (slot % 64));
        }
        self.free.push(slot);
        r
    }

    /// Notes that the request in `slot` closed by its `due_by` (it stays so: a closure only moves earlier).
    pub fn mark_closed_on_time(&mut self, slot: u32) {
        let word = slot as usize / 64;
        if self.closed_on_time.len() <= word {
            self.closed_on_time.resize(word + 1, 0);
        }
        self.closed_on_time[word] |= 1 << (slot % 64);
    }

    /// Whether the request in `slot` closed by its `due_by`.
    pub fn closed_on_time(&self, slot: u32) -> bool {
        self.closed_on_time.get(slot as usize / 64).is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    /// Requests held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// Every request with its fingerprint, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (&u128, &RequestState)> {
        self.slots.iter().flatten().map(|(key, r)| (key, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_and_stale_timers_miss() {
        let mut t = RequestTable::default();
        let (a, new) = t.find_or_insert(1, || RequestState::new("a", 7, 0, 0));
        assert!(new);
        assert_eq!(t.find_or_insert(1, || unreachable!("held")), (a, false));
        let (b, _) = t.find_or_insert(2, || RequestState::new("b", 8, 0, 0));
        assert_ne!(a, b);
        assert_eq!(&*t.remove(a).request_id, "a");
        assert_eq!((t.find(1), t.len()), (None, 1));
        assert!(t.live(a, 7).is_none(), "a freed slot has no request");
        let (c, _) = t.find_or_insert(3, || RequestState::new("c", 9, 0, 0));
        assert_eq!(c, a, "the freed slot is reused");
        assert!(t.live(c, 7).is_none(), "a timer of the forgotten request misses the new one");
        assert_eq!(&*t.live(c, 9).expect("live").request_id, "c");
        assert_eq!(t.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![3, 2]);
        t.mark_closed_on_time(c);
        assert!(t.closed_on_time(c) && !t.closed_on_time(b));
        t.remove(c);
        assert!(!t.closed_on_time(c), "a freed slot forgets its request's closure");
    }
}
