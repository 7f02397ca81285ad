//! Compact service facts to NDJSON lines, valid or deliberately broken.
//!
//! Written by hand like the marketplace's lines, with the same helpers and the same ways of
//! breaking a line ([`Mangle`]); every string is ASCII without quotes or backslashes.

use super::super::format::{push_num, push_time, truncate, Ctx, Mangle};
use super::feedback::{BadSurvey, EXCLUSION_REASON, EXTRA_QUESTION, NPS_COMMENTS, SURVEY_COMMENTS};
use super::request::{Fact, Kind, CATEGORIES, REOPEN_REASONS};
use super::Question;
use quality_engine::contract::{Channel, ClosedIn, OVERALL_QUESTION};

/// The NDJSON line (without newline) for `fact`, broken as `mangle` says.
pub fn line(fact: &Fact, mangle: Mangle, ctx: &Ctx) -> String {
    let mut w = Line { s: String::with_capacity(288), fact };
    w.raw("{\"event_id\":\"");
    w.event_id();
    w.raw("\",\"type\":\"");
    w.raw(if mangle == Mangle::UnknownType { unknown_type(fact.kind) } else { type_name(fact.kind) });
    w.raw("\",\"occurred_at\":\"");
    match mangle {
        Mangle::OutOfRange if !matches!(fact.kind, Kind::Survey { .. } | Kind::Nps { .. }) => w.raw("1970-01-01T00:00:00.000Z"),
        Mangle::NoOffset => push_time(&mut w.s, &ctx.zone, fact.occurred, false),
        _ => push_time(&mut w.s, &ctx.zone, fact.occurred, true),
    }
    w.raw("\"");
    if mangle != Mangle::MissingSeller {
        w.raw(",\"seller_id\":\"");
        w.department();
        w.raw("\"");
    }
    w.body(mangle == Mangle::OutOfRange, ctx);
    w.raw("}");
    let mut s = w.s;
    if mangle == Mangle::Truncated {
        truncate(&mut s);
    }
    s
}

/// The wire `type` of a kind.
fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Created { .. } => "request.created",
        Kind::Reassigned => "request.reassigned",
        Kind::Closed { .. } => "request.closed",
        Kind::Reopened { .. } => "request.reopened",
        Kind::Survey { .. } => "survey.answered",
        Kind::Nps { .. } => "nps.submitted",
        Kind::FollowedUp { .. } => "critic.followed_up",
        Kind::Excluded => "feedback.excluded",
    }
}

/// A plausible but unknown `type` of the same family, as a producer ahead of the contract would send.
fn unknown_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Survey { .. } => "survey.reminded",
        Kind::Nps { .. } => "nps.reminded",
        Kind::FollowedUp { .. } => "critic.escalated",
        Kind::Excluded => "feedback.restored",
        _ => "request.escalated",
    }
}

/// A line being written for one fact.
struct Line<'a> {
    s: String,
    fact: &'a Fact,
}

impl Line<'_> {
    fn raw(&mut self, text: &str) {
        self.s.push_str(text);
    }

    fn num(&mut self, n: u64, width: usize) {
        push_num(&mut self.s, n, width);
    }

    /// `dept-NN`: the owning department, the events' key.
    fn department(&mut self) {
        self.raw("dept-");
        self.num(self.fact.department as u64, 2);
    }

    /// `prefix-DD-NNNNNN`: the id of the fact's request, or of its survey or NPS answer.
    fn entity(&mut self, prefix: &str) {
        self.raw(prefix);
        self.raw("-");
        self.num(self.fact.department as u64, 2);
        self.raw("-");
        self.num(self.fact.request as u64, 6);
    }

    /// `,"key":"` then the entity id and a closing quote.
    fn entity_field(&mut self, key: &str, prefix: &str) {
        self.raw(",\"");
        self.raw(key);
        self.raw("\":\"");
        self.entity(prefix);
        self.raw("\"");
    }

    /// `,"key":"` then `prefix` and `n` zero-padded to `width` and a closing quote.
    fn numbered_field(&mut self, key: &str, prefix: &str, n: u32, width: usize) {
        self.raw(",\"");
        self.raw(key);
        self.raw("\":\"");
        self.raw(prefix);
        self.num(n as u64, width);
        self.raw("\"");
    }

    /// The event id: the id of what the event is about plus the step, e.g. `req-01-000007.closed`.
    fn event_id(&mut self) {
        let (prefix, step) = match self.fact.kind {
            Kind::Created { .. } => ("req", ".created"),
            Kind::Reassigned => ("req", ".reassigned"),
            Kind::Closed { again: false, .. } => ("req", ".closed"),
            Kind::Closed { again: true, .. } => ("req", ".closed-again"),
            Kind::Reopened { .. } => ("req", ".reopened"),
            Kind::Survey { .. } => ("srv", ".answered"),
            Kind::Nps { .. } => ("nps", ".submitted"),
            Kind::FollowedUp { nps: false } => ("srv", ".followup"),
            Kind::FollowedUp { nps: true } => ("nps", ".followup"),
            Kind::Excluded => ("srv", ".excluded"),
        };
        self.entity(prefix);
        self.raw(step);
    }

    /// `,"key":"text"` for a 1-based index into `texts`; nothing for 0 or an index out of range.
    fn text(&mut self, key: &str, texts: &[&str], index: u8) {
        if let Some(t) = (index as usize).checked_sub(1).and_then(|i| texts.get(i)) {
            self.raw(",\"");
            self.raw(key);
            self.raw("\":\"");
            self.raw(t);
            self.raw("\"");
        }
    }

    /// One `{"question_id":..,"score":..}` of the answers array, preceded by a comma unless `first`.
    fn answer(&mut self, first: bool, question: &str, score: u8) {
        self.raw(if first { "{\"question_id\":\"" } else { ",{\"question_id\":\"" });
        self.raw(question);
        self.raw("\",\"score\":");
        self.num(score as u64, 1);
        self.raw("}");
    }

    /// The type-specific fields; `out_of_range` puts overall 9 or NPS score 12 where there is one.
    fn body(&mut self, out_of_range: bool, ctx: &Ctx) {
        let f = *self.fact;
        match f.kind {
            Kind::Created { due_by, category } => {
                self.entity_field("request_id", "req");
                self.numbered_field("client_id", "client-", f.client, 5);
                self.numbered_field("performer_id", "perf-", f.performer, 3);
                self.numbered_field("department_id", "dept-", f.department, 2);
                self.numbered_field("site_id", "site-", f.site, 2);
                self.raw(",\"category\":\"");
                self.raw(CATEGORIES[category as usize].0);
                self.raw("\",\"due_by\":\"");
                push_time(&mut self.s, &ctx.zone, due_by, true);
                self.raw("\"");
            }
            Kind::Reassigned => {
                self.entity_field("request_id", "req");
                self.numbered_field("performer_id", "perf-", f.performer, 3);
            }
            Kind::Closed { closed_in, .. } => {
                self.entity_field("request_id", "req");
                self.numbered_field("performer_id", "perf-", f.performer, 3);
                self.raw(match closed_in {
                    ClosedIn::App => ",\"closed_in\":\"app\"",
                    ClosedIn::Desk => ",\"closed_in\":\"desk\"",
                });
            }
            Kind::Reopened { reason } => {
                self.entity_field("request_id", "req");
                self.text("reason", &REOPEN_REASONS, reason);
            }
            Kind::Survey { channel, scores, comment, bad } => {
                self.entity_field("survey_id", "srv");
                self.entity_field("request_id", "req");
                self.numbered_field("client_id", "client-", f.client, 5);
                self.raw(",\"answers\":[");
                let mut first = true;
                for (k, &score) in scores.iter().enumerate() {
                    if score == 0 || (k == 0 && bad == BadSurvey::NoOverall) {
                        continue;
                    }
                    let score = match bad {
                        BadSurvey::OutOfRange { answer, score } if answer as usize == k => score,
                        _ if k == 0 && out_of_range => 9,
                        _ => score,
                    };
                    self.answer(first, if k == 0 { OVERALL_QUESTION } else { Question::ALL[k - 1].as_str() }, score);
                    first = false;
                }
                if bad == BadSurvey::SixAnswers {
                    self.answer(first, EXTRA_QUESTION, scores[0]);
                }
                self.raw("]");
                self.text("comment", &SURVEY_COMMENTS, comment);
                self.raw(match channel {
                    Channel::App => ",\"channel\":\"app\"",
                    Channel::Survey => ",\"channel\":\"survey\"",
                });
            }
            Kind::Nps { score, comment } => {
                self.entity_field("response_id", "nps");
                self.numbered_field("customer_id", "client-", f.client, 5);
                self.raw(",\"score\":");
                self.num(if out_of_range { 12 } else { score as u64 }, 1);
                self.text("comment", &NPS_COMMENTS, comment);
                self.entity_field("request_id", "req");
            }
            Kind::FollowedUp { nps } => {
                if nps {
                    self.entity_field("response_id", "nps");
                } else {
                    self.entity_field("survey_id", "srv");
                }
                self.numbered_field("followed_up_by", "mgr-", f.site, 2);
            }
            Kind::Excluded => {
                self.entity_field("survey_id", "srv");
                self.raw(",\"reason\":\"");
                self.raw(EXCLUSION_REASON);
                self.raw("\"");
            }
        }
    }
}
