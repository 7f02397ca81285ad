//! The engine's state: per-day accumulators, open orders and conversations, delivered orders
//! awaiting complaints, service requests, seen event ids, timers.
//!
//! Everything here is bounded by the open windows and the configured state TTL, never by the
//! number of events: days are dropped once no open window needs them, orders and messages
//! once their last step is final, event ids once the watermark passes them.

mod accs;
mod accuracy;
mod days;
mod dedup;
mod fingerprint;
mod interned;
mod lifecycle;
mod request;
mod request_table;
mod slot_index;
mod timers;

pub use accs::{Acc, DayAccs};
pub use accuracy::Accuracy;
pub use days::DayRing;
pub use dedup::Dedup;
pub use fingerprint::{Fingerprinter, FpMap};
pub use interned::InternedIds;
pub use lifecycle::{Deadlines, Effect, MessageState, OrderState, Step, Targets, TimerKind, NONE};
pub use request::{Closure, Feedback, Reopen, RequestState, Score, Wanted, NO_PERFORMER, NO_SITE};
pub use request_table::RequestTable;
pub use timers::TimerWheel;
