//! The event contract: what producers put on the input topics, one JSON object per event.
//!
//! `schemas/*.schema.json` documents the same contract for producers; the test
//! `tests/schemas.rs` keeps the two in step. Decoding never panics: anything that does
//! not fit the contract becomes a [`Rejection`] with a machine-readable [`RejectReason`].

mod decode;
mod event;
mod raw;
mod reject;
mod scan;
mod timestamp;

pub use decode::{decode, MAX_DEPTH, MAX_EVENT_BYTES};
pub use event::{Answer, CancelledBy, Channel, ClosedIn, ComplaintReason, Event, EventBody, EventType, MAX_ANSWERS, OVERALL_QUESTION};
pub use reject::{RejectReason, Rejection};
pub use timestamp::{civil_from_days, days_from_civil, Timestamp, DAY_MS, HOUR_MS};
