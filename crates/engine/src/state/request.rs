//! A service request's state: its lifecycle steps, the feedback about it, and what it counts.
//!
//! Whatever order the events arrive in, a request's contributions are a function of the steps
//! known so far and of event time ([`RequestState::wanted`]). The engine compares that with what
//! is already counted and applies the difference, so an earlier closure, a reassignment, a
//! late reopen or a late creation become exact corrections of the windows they touch.

use super::lifecycle::NONE;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use thin_vec::ThinVec;

/// "No site known (yet)".
pub const NO_SITE: u32 = u32::MAX;

/// "No performer known (yet)".
pub const NO_PERFORMER: u32 = u32::MAX;

/// The closure measurement: `on_time_closure_share` and `closure_time_avg` on the closure's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    /// The first closure's time.
    pub at: i64,
    /// Who closed it.
    pub performer: u32,
    /// Closed by `due_by`.
    pub on_time: bool,
    /// Creation to closure, milliseconds.
    pub duration_ms: i64,
}

/// The reopen judgement: `reopen_share` on the day the reopen window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reopen {
    /// The end of the reopen window (first closure plus the window).
    pub at: i64,
    /// Who closed it.
    pub performer: u32,
    /// Reopened within the window.
    pub reopened: bool,
}

/// What one feedback item scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Score {
    /// A survey: its main question, 1..5 (`csat_satisfied_share`, `csat_avg`), and every answer
    /// (the main one included) for the per-question scores and key drivers.
    Survey {
        /// The main question's score.
        overall: u8,
        /// `(question number, score)` of every answer ([`crate::state::InternedIds`]); held
        /// inline, as a survey has at most five.
        answers: SmallVec<[(u32, u8); 5]>,
    },
    /// An NPS answer, 0..10 (`nps`).
    Nps(u8),
}

/// A survey or NPS answer about the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// Fingerprint of its id (`survey_id` or `response_id`), which a dispute names.
    pub id: u128,
    /// Excluded by an accepted dispute: it counts nowhere.
    pub excluded: bool,
    /// When it was given: the day it counts on.
    pub at: i64,
    /// The score.
    pub score: Score,
    /// The performer it is counted for, [`NO_PERFORMER`] while it waits for the request's creation (or is excluded).
    pub counted_for: u32,
    /// The performer whose excluded-feedback count holds it (excluded items only).
    pub excluded_for: u32,
}

/// One request, from its first event until its state expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestState {
    /// The request's id (dead letters, survey requests); inline up to 24 bytes, like most ids.
    pub request_id: CompactString,
    /// The client, known with the creation.
    pub client: CompactString,
    /// When its survey decision is due (first closure plus the wait), or [`NONE`].
    pub survey_due: i64,
    /// Whether its survey decision was taken.
    pub survey_done: bool,
    /// The earliest survey answer about it, or [`NONE`].
    pub rated: i64,
    /// Tells a live request from a forgotten one with the same key (stale timers).
    pub generation: u32,
    /// The department (the stream key) that owns the request.
    pub department: u32,
    /// Event time of the first event seen.
    pub first_seen: i64,
    /// `request.created` time, or [`NONE`].
    pub created: i64,
    /// The norm deadline.
    pub due_by: i64,
    /// The site, whose manager follows up the request's critics (interned; [`NO_SITE`] until created).
    pub site: u32,
    /// The latest assignment by event time (creation or reassignment) and its performer.
    pub assigned: (i64, u32),
    /// The earliest closure, or [`NONE`].
    pub closed: i64,
    /// Who closed it first.
    pub closer: u32,
    /// Reopen times (a thin vector: one word while empty, as most requests are never reopened).
    pub reopens: ThinVec<i64>,
    /// Steps seen while the creation is unknown (for the dead letter if it never comes).
    pub steps: u32,
    /// The closure measurement counted.
    pub counted_closure: Option<Closure>,
    /// The reopen judgement counted.
    pub counted_reopen: Option<Reopen>,
    /// Whether the department counts the request overdue on its `due_by`.
    pub counted_overdue: bool,
    /// Surveys and NPS answers about the request.
    pub feedback: ThinVec<Feedback>,
    /// The performer for whom every feedback item counts as it should, so that settling the
    /// request again skips the list; `None` after a change to it (not saved: recomputed).
    #[serde(skip)]
    pub feedback_settled_for: Option<u32>,
}

/// What a request should contribute now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// The closure measurement.
    pub closure: Option<Closure>,
    /// The reopen judgement.
    pub reopen: Option<Reopen>,
    /// Overdue at `due_by`.
    pub overdue: bool,
    /// Whom feedback counts for.
    pub performer: u32,
}

impl RequestState {
    /// A request first seen at `t`.
    pub fn new(request_id: &str, generation: u32, department: u32, t: i64) -> RequestState {
        RequestState {
            request_id: request_id.into(),
            client: CompactString::default(),
            survey_due: NONE,
            survey_done: false,
            rated: NONE,
            generation,
            department,
            first_seen: t,
            created: NONE,
            due_by: NONE,
            site: NO_SITE,
            assigned: (NONE, NO_PERFORMER),
            closed: NONE,
            closer: NO_PERFORMER,
            reopens: ThinVec::new(),
            steps: 0,
            counted_closure: None,
            counted_reopen: None,
            counted_overdue: false,
            feedback: ThinVec::new(),
            feedback_settled_for: None,
        }
    }

    /// Who the request belongs to: its first closer, or before the closure its assignee.
    pub fn performer(&self) -> u32 {
        if self.closed != NONE {
            self.closer
        } else {
            self.assigned.1
        }
    }

    /// The contributions due with event time at `clock` and a reopen window of `window_ms`.
    /// Nothing counts before the request's creation is known.
    pub fn wanted(&self, clock: i64, window_ms: i64) -> Wanted {
        if self.created == NONE {
            return Wanted { closure: None, reopen: None, overdue: false, performer: NO_PERFORMER };
        }
        let closed = self.closed != NONE;
        let closure = closed.then(|| Closure {
            at: self.closed,
            performer: self.closer,
            on_time: self.closed <= self.due_by,
            duration_ms: self.closed - self.created,
        });
        let window_end = self.closed.saturating_add(window_ms);
        let reopen = (closed && clock >= window_end).then(|| Reopen {
            at: window_end,
            performer: self.closer,
            reopened: self.reopens.iter().any(|r| *r > self.closed && *r <= window_end),
        });
        let overdue = clock >= self.due_by && !(closed && self.closed <= self.due_by);
        Wanted { closure, reopen, overdue, performer: self.performer() }
    }

    /// When it is kept no longer: `ttl` after its creation, first closure or first event,
    /// and never before its reopen window is judged.
    pub fn expires_at(&self, ttl: i64, window_ms: i64) -> i64 {
        let last = self.first_seen.max(self.closed).max(self.created);
        let judged = if self.closed == NONE { i64::MIN } else { self.closed.saturating_add(window_ms) };
        last.saturating_add(ttl).max(judged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = 7;

    fn created() -> RequestState {
        let mut r = RequestState::new("r1", 1, 0, 100);
        r.created = 100;
        r.due_by = 150;
        r.assigned = (100, 3);
        r
    }

    #[test]
    fn nothing_counts_before_creation() {
        let mut r = RequestState::new("r1", 1, 0, 100);
        r.closed = 120;
        r.closer = 4;
        assert_eq!(r.wanted(1_000, W), Wanted { closure: None, reopen: None, overdue: false, performer: NO_PERFORMER });
    }

    #[test]
    fn the_first_closer_owns_the_closure_and_the_reopen() {
        let mut r = created();
        assert_eq!(r.wanted(120, W).performer, 3, "the assignee before closure");
        r.closed = 160;
        r.closer = 5;
        r.reopens = thin_vec::thin_vec![150, 167];
        let w = r.wanted(166, W);
        assert_eq!(w.closure, Some(Closure { at: 160, performer: 5, on_time: false, duration_ms: 60 }));
        assert_eq!((w.reopen, w.overdue, w.performer), (None, true, 5), "the window is still open at 166");
        let w = r.wanted(167, W);
        assert_eq!(
            w.reopen,
            Some(Reopen { at: 167, performer: 5, reopened: true }),
            "a reopen at the window's end counts; one before closure does not"
        );
        r.reopens = thin_vec::thin_vec![168];
        assert!(!r.wanted(1_000, W).reopen.unwrap().reopened);
    }

    #[test]
    fn thin_vectors_keep_the_checkpoint_layout_of_vectors() {
        let thin: ThinVec<i64> = thin_vec::thin_vec![150, 167];
        assert_eq!(postcard::to_allocvec(&thin).unwrap(), postcard::to_allocvec(&vec![150i64, 167]).unwrap());
    }

    #[test]
    fn overdue_only_when_not_closed_by_the_deadline() {
        let mut r = created();
        assert!(!r.wanted(149, W).overdue);
        assert!(r.wanted(150, W).overdue);
        r.closed = 150;
        r.closer = 3;
        assert!(!r.wanted(1_000, W).overdue && r.wanted(1_000, W).closure.unwrap().on_time);
    }
}
