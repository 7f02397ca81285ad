//! Event-time timers: a min-heap of (due time, payload).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Timers that fire when event time (or the watermark) reaches their due time.
#[derive(Debug)]
pub struct TimerQueue<T: Ord> {
    heap: BinaryHeap<Reverse<(i64, T)>>,
}

impl<T: Ord> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue { heap: BinaryHeap::new() }
    }
}

impl<T: Ord + Copy> TimerQueue<T> {
    /// Schedules a payload at a due time (milliseconds).
    pub fn push(&mut self, due: i64, payload: T) {
        self.heap.push(Reverse((due, payload)));
    }

    /// The next payload due at or before `now`, earliest first.
    pub fn pop_due(&mut self, now: i64) -> Option<(i64, T)> {
        match self.heap.peek() {
            Some(Reverse((due, _))) if *due <= now => self.heap.pop().map(|Reverse(x)| x),
            _ => None,
        }
    }

    /// Pending timers.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
