//! Ids interned as small numbers (survey questions, sites): day accumulators and request states
//! keep numbers instead of strings, so summing a window's days compares integers and a request
//! allocates nothing for its site.

use std::collections::HashMap;
use std::sync::Arc;

/// The ids seen, numbered in order of first sight (saved in checkpoints in that order).
#[derive(Debug, Clone, Default)]
pub struct InternedIds {
    names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32, ahash::RandomState>,
}

impl InternedIds {
    /// The number of an id, given one on first sight.
    pub fn intern(&mut self, id: &str) -> u32 {
        if let Some(&n) = self.index.get(id) {
            return n;
        }
        let n = self.names.len() as u32;
        let name: Arc<str> = id.into();
        self.names.push(name.clone());
        self.index.insert(name, n);
        n
    }

    /// Every id, by number.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }
}
