//! Importers of public marketplace data into the event contract (NDJSON lines).

pub mod olist;

use std::collections::BTreeMap;

/// What an import produced: events per type and rows or steps that became no event, per reason.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Contract-valid events written, per event type.
    pub events: BTreeMap<String, u64>,
    /// Rows (or a seller-order's steps) that could not become a valid event, per reason.
    pub rejected: BTreeMap<String, u64>,
}

impl Summary {
    /// Counts one written event of `kind`.
    pub fn event(&mut self, kind: &str) {
        *self.events.entry(kind.to_string()).or_default() += 1;
    }

    /// Counts one row or step rejected for `reason`.
    pub fn reject(&mut self, reason: &str) {
        *self.rejected.entry(reason.to_string()).or_default() += 1;
    }

    /// Events written in total.
    pub fn events_total(&self) -> u64 {
        self.events.values().sum()
    }

    /// Rows or steps rejected in total.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// Logs the summary on stderr (tracing), one line per type and per reason.
    pub fn log(&self) {
        tracing::info!(events = self.events_total(), rejected = self.rejected_total(), "import summary");
        for (kind, n) in &self.events {
            tracing::info!(event_type = %kind, count = n, "events written");
        }
        for (reason, n) in &self.rejected {
            tracing::info!(reason = %reason, count = n, "rows rejected");
        }
    }
}
