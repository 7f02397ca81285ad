//! Human-readable reports built from window rows.

mod breach;

pub use breach::{breach_table, format_value};
