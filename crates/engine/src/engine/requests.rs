//! The engine's side of service requests (the service profile): joining a request's events,
//! attributing it to a performer inside its department, and counting it exactly.
//!
//! Every change goes through [`Engine::settle`]: the request's wanted contributions
//! ([`RequestState::wanted`]) are compared with those counted, and the difference is applied
//! to the performer's and the department's days. A contribution on a day already final is
//! left as it was (the event that would move it is too late for that day).

use super::acting::may_survey;
use super::{Engine, SellerState};
use crate::actions::SurveyRequest;
use crate::contract::{RejectReason, Rejection, Timestamp};
use crate::methodology::{EntityKind, MetricId};
use crate::output::{DeadLetter, Output};
use crate::state::{Closure, Feedback, Reopen, RequestState, Score, TimerKind, NONE, NO_PERFORMER};
use std::collections::BTreeMap;

/// A lifecycle step of a request.
#[derive(Debug, Clone, Copy)]
pub(super) enum RequestStep<'a> {
    Created { performer: &'a str, due_by: i64, site: u32, client: &'a str },
    Reassigned { performer: &'a str },
    Closed { performer: &'a str },
    Reopened,
}

impl Engine {
    /// The performer entity `id` of a department (created on first sight).
    fn performer(&mut self, department: u32, id: &str) -> u32 {
        let fp = self.fingerprints.of(&(EntityKind::Performer, department, id));
        if let Some(&i) = self.seller_index.get(&fp) {
            return i;
        }
        let i = self.sellers.len() as u32;
        let parent = self.sellers[department as usize].id.clone();
        self.sellers.push(SellerState::new(id.into(), EntityKind::Performer, Some(parent)));
        self.seller_index.insert(fp, i);
        i
    }

    /// The slot of a request's state, created on first sight. A request first seen by its
    /// creation gets its expiry look later ([`Engine::arm_expiry`]), so that most requests are
    /// looked at once, after their closure; one first seen by any other event gets it now.
    fn request_slot(&mut self, department: u32, request_id: &str, creation: bool, t: i64) -> u32 {
        let key = self.fingerprints.of(&(department, request_id));
        let generation = self.generation();
        let (slot, new) = self.requests.find_or_insert(key, || RequestState::new(request_id, generation, department, t));
        if new && !creation {
            self.arm_expiry(slot);
        }
        slot
    }

    /// Schedules a look at the request in `slot` when its state TTL may have passed.
    ///
    /// Every request has at least one pending: armed when it is first seen by a step or
    /// feedback, at its creation when the due time is later than the TTL, at each closure that
    /// moves its first closure, and when its due time passes with the request still open.
    fn arm_expiry(&mut self, slot: u32) {
        let r = self.requests.at(slot);
        self.request_expiry.push(r.expires_at(self.config.state_ttl_ms, self.config.reopen_window_ms), (slot, r.generation));
    }

    /// Applies a lifecycle step; a step that contradicts the request is rejected and changes nothing.
    pub(super) fn request_step(&mut self, department: u32, request_id: &str, step: RequestStep<'_>, t: i64) -> Result<(), Rejection> {
        let slot = self.request_slot(department, request_id, matches!(step, RequestStep::Created { .. }), t);
        let performer = match step {
            RequestStep::Created { performer, .. } | RequestStep::Reassigned { performer } | RequestStep::Closed { performer } => {
                self.performer(department, performer)
            }
            RequestStep::Reopened => NO_PERFORMER,
        };
        // Ties in time (rare) are broken by performer id; the ids are only read then, as each
        // is a string elsewhere in memory.
        let later_assignment = |sellers: &[SellerState], r: &RequestState| {
            let id = |p: u32| sellers.get(p as usize).map(|s| &*s.id);
            t.cmp(&r.assigned.0).then_with(|| id(performer).cmp(&id(r.assigned.1))).is_gt()
        };
        let r = self.requests.at(slot);
        let generation = r.generation;
        let mut timer: Option<(i64, TimerKind)> = None;
        let mut expiry = false;
        match step {
            RequestStep::Created { due_by, site, client, .. } => {
                if r.created != NONE {
                    return Err(conflict("request.created"));
                }
                if r.closed != NONE && r.closed < t {
                    return Err(negative("the request's first closure", r.closed, t));
                }
                let later = later_assignment(&self.sellers, r);
                let r = self.requests.at_mut(slot);
                r.created = t;
                r.due_by = due_by;
                r.site = site;
                r.client = client.into();
                if later || r.assigned.1 == NO_PERFORMER {
                    r.assigned = (t, performer);
                }
                timer = Some((due_by, TimerKind::RequestDue));
                // The due time arms the expiry of a request still open then, unless that is too late.
                expiry = due_by >= r.expires_at(self.config.state_ttl_ms, self.config.reopen_window_ms);
            }
            RequestStep::Reassigned { .. } => {
                let later = later_assignment(&self.sellers, r);
                let r = self.requests.at_mut(slot);
                if later {
                    r.assigned = (t, performer);
                }
                r.steps += 1;
            }
            RequestStep::Closed { .. } => {
                if r.created != NONE && t < r.created {
                    return Err(negative("request.created", r.created, t));
                }
                let r = self.requests.at_mut(slot);
                if r.closed == NONE || t < r.closed {
                    // The (new) first closure decides the expiry: look at the request then.
                    expiry = true;
                    r.closed = t;
                    r.closer = performer;
                    timer = Some((t.saturating_add(self.config.reopen_window_ms), TimerKind::ReopenWindow));
                    if !r.survey_done {
                        r.survey_due = t.saturating_add(self.config.actions.survey.wait_ms);
                        self.request_surveys.push(r.survey_due, (slot, generation));
                    }
                }
                r.steps += 1;
            }
            RequestStep::Reopened => {
                let r = self.requests.at_mut(slot);
                reserve_small(&mut r.reopens);
                r.reopens.push(t);
                r.steps += 1;
            }
        }
        if let Some((due, kind)) = timer {
            self.request_deadlines.push(due, (kind, slot, generation));
        }
        if expiry {
            self.arm_expiry(slot);
        }
        let r = self.requests.at(slot);
        if r.created != NONE && r.closed != NONE && r.closed <= r.due_by {
            self.requests.mark_closed_on_time(slot);
        }
        self.settle(slot);
        Ok(())
    }

    /// A survey's main answer or an NPS answer about a request: counted for its performer and
    /// department once the request is known, unless a dispute already excluded it.
    pub(super) fn request_feedback(&mut self, department: u32, request_id: &str, feedback: FeedbackId<'_>, score: Score, t: i64) {
        let slot = self.request_slot(department, request_id, false, t);
        let id = self.fingerprints.of(&(department, feedback));
        let excluded = self.early_exclusions.remove(&id).is_some();
        let r = self.requests.at_mut(slot);
        self.feedback_of.insert(id, (slot, r.generation));
        if matches!(score, Score::Survey { .. }) && (r.rated == NONE || t < r.rated) {
            r.rated = t;
        }
        reserve_small(&mut r.feedback);
        r.feedback.push(Feedback { id, excluded, at: t, score, counted_for: NO_PERFORMER, excluded_for: NO_PERFORMER });
        r.feedback_settled_for = None;
        self.settle(slot);
    }

    /// `feedback.excluded`: the feedback no longer counts anywhere (an exact correction of the
    /// windows it touched); one that has not arrived yet is excluded when it does. Refused when
    /// the feedback's day is already final, so that the dispute is kept and reported.
    pub(super) fn exclude_feedback(&mut self, department: u32, feedback: FeedbackId<'_>, t: i64) -> Result<(), Rejection> {
        let id = self.fingerprints.of(&(department, feedback));
        let Some(&(slot, generation)) = self.feedback_of.get(&id) else {
            return self.exclude_disputable(department, feedback, t);
        };
        let Some(r) = self.requests.live(slot, generation) else { return Ok(()) };
        let Some(i) = r.feedback.iter().position(|f| f.id == id) else { return Ok(()) };
        let at = r.feedback[i].at;
        if !self.is_open(at) {
            return Err(super::disputes::too_late(at));
        }
        let r = self.requests.at_mut(slot);
        r.feedback[i].excluded = true;
        r.feedback_settled_for = None;
        self.settle(slot);
        Ok(())
    }

    /// The site of a request, whose manager follows up its critics; `None` while its creation is unknown.
    pub(super) fn request_site(&self, department: u32, request_id: &str) -> Option<std::sync::Arc<str>> {
        let slot = self.requests.find(self.fingerprints.of(&(department, request_id)))?;
        let site = self.requests.at(slot).site;
        self.site_ids.names().get(site as usize).cloned()
    }

    /// Takes every request survey decision due by `watermark`, earliest first (ties by
    /// department and request id): covered when the client rated the request by then; otherwise
    /// a survey is requested unless the department asked the same client within the
    /// once-per-client period (then the request is not eligible). Requests never created get none.
    pub(super) fn decide_request_surveys(&mut self, watermark: i64) {
        let mut due = Vec::new();
        self.request_surveys.pop_due_exact(watermark, &mut due);
        // Only the decisions that may ask a client depend on their order (once per client);
        // those covered by a rating count the same in any order, so they skip the sort.
        let mut asking: Vec<(i64, u32)> = Vec::new();
        for (t, (slot, generation)) in due {
            let Some(r) = self.requests.live(slot, generation).filter(|r| !r.survey_done && r.survey_due == t) else {
                continue;
            };
            if r.created == NONE {
                r.survey_done = true;
            } else if r.rated != NONE && r.rated <= t {
                r.survey_done = true;
                let department = r.department;
                self.add(department, t, MetricId::SurveyCoverageShare, 1, 1);
            } else {
                asking.push((t, slot));
            }
        }
        let (requests, sellers) = (&self.requests, &self.sellers);
        let order = |&(t, slot): &(i64, u32)| {
            let r = requests.at(slot);
            (t, &sellers[r.department as usize].id, &r.request_id)
        };
        asking.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| order(a).cmp(&order(b))));
        for (t, slot) in asking {
            let r = self.requests.at_mut(slot);
            r.survey_done = true;
            let asked = self.fingerprints.of(&(r.department, &*r.client));
            if !may_survey(&mut self.surveyed, asked, self.config.actions.survey.once_per_customer_ms, t) {
                continue;
            }
            let department_id = self.sellers[r.department as usize].id.clone();
            self.pending.push(Output::SurveyRequest(SurveyRequest {
                survey_id: SurveyRequest::id_of(&department_id, &r.request_id),
                seller_id: department_id,
                order_id: r.request_id.clone(),
                customer_id: r.client.clone(),
                delivered_at: Timestamp(r.closed),
                requested_at: Timestamp(t),
            }));
            let department = r.department;
            self.add(department, t, MetricId::SurveyCoverageShare, 1, 1);
        }
    }

    /// Deadlines of requests fired: each request is judged again at the new event time. Its
    /// due time changes nothing once it closed by then (its reopen window has a timer of its
    /// own), so that timer leaves such a request untouched.
    pub(super) fn fire_requests(&mut self, due: Vec<(i64, (TimerKind, u32, u32))>) {
        for (_, (kind, slot, generation)) in due {
            if kind == TimerKind::RequestDue && self.requests.closed_on_time(slot) {
                continue;
            }
            let Some(r) = self.requests.live(slot, generation) else { continue };
            if kind == TimerKind::RequestDue && r.closed == NONE {
                self.arm_expiry(slot);
            }
            self.settle(slot);
        }
    }

    /// Brings what a request counts in line with what it should count now.
    fn settle(&mut self, slot: u32) {
        let r = self.requests.at(slot);
        let want = r.wanted(self.clock, self.config.reopen_window_ms);
        let department = r.department;
        let (had_closure, had_reopen, had_overdue, due_by) = (r.counted_closure, r.counted_reopen, r.counted_overdue, r.due_by);
        if had_closure != want.closure && had_closure.is_none_or(|c| self.is_open(c.at)) {
            for (c, sign) in [(had_closure, -1), (want.closure, 1)] {
                if let Some(c) = c {
                    self.count_closure(department, c, sign);
                }
            }
            self.requests.at_mut(slot).counted_closure = want.closure;
        }
        if had_reopen != want.reopen && had_reopen.is_none_or(|c| self.is_open(c.at)) {
            for (c, sign) in [(had_reopen, -1), (want.reopen, 1)] {
                if let Some(c) = c {
                    self.count_reopen(department, c, sign);
                }
            }
            self.requests.at_mut(slot).counted_reopen = want.reopen;
        }
        if had_overdue != want.overdue && self.is_open(due_by) {
            let delta = if want.overdue { 1 } else { -1 };
            self.day_accs(department, due_by).metrics[MetricId::OnTimeClosureShare.index()].overdue += delta;
            self.requests.at_mut(slot).counted_overdue = want.overdue;
        }
        // A counted item follows the owner; an excluded one counts nowhere but in the owner's excluded count.
        let target = |f: &Feedback| if f.excluded { (NO_PERFORMER, want.performer) } else { (want.performer, NO_PERFORMER) };
        let r = self.requests.at_mut(slot);
        if r.feedback_settled_for == Some(want.performer) {
            return;
        }
        if r.feedback.iter().all(|f| (f.counted_for, f.excluded_for) == target(f)) {
            r.feedback_settled_for = Some(want.performer);
            return;
        }
        let mut feedback = std::mem::take(&mut r.feedback);
        let mut settled = true;
        for f in feedback.iter_mut().filter(|f| (f.counted_for, f.excluded_for) != target(f)) {
            if !self.is_open(f.at) {
                settled = false;
                continue;
            }
            let (scored, excluded) = target(f);
            self.shift(department, f.counted_for, scored, f.at, Some(&f.score));
            self.shift(department, f.excluded_for, excluded, f.at, None);
            (f.counted_for, f.excluded_for) = (scored, excluded);
        }
        let r = self.requests.at_mut(slot);
        r.feedback = feedback;
        r.feedback_settled_for = settled.then_some(want.performer);
    }

    /// Moves a feedback item's contribution (its scores, or with `None` its place in the excluded
    /// count) from one performer to another ([`NO_PERFORMER`]: none); the department counts it
    /// whenever some performer does.
    fn shift(&mut self, department: u32, from: u32, to: u32, at: i64, score: Option<&Score>) {
        if from == to {
            return;
        }
        let count = |e: &mut Engine, entity: u32, sign: i64| match score {
            Some(s) => e.count_score(entity, at, s, sign),
            None => e.day_accs(entity, at).excluded_feedback += sign,
        };
        if from != NO_PERFORMER {
            count(self, from, -1);
        }
        if to != NO_PERFORMER {
            count(self, to, 1);
        }
        let department_delta = (to != NO_PERFORMER) as i64 - (from != NO_PERFORMER) as i64;
        if department_delta != 0 {
            count(self, department, department_delta);
        }
    }

    /// Whether the day of `at` is still open (a final day never changes).
    pub(super) fn is_open(&mut self, at: i64) -> bool {
        let day = self.calendar.day_of(Timestamp(at));
        self.open_from.is_none_or(|f| day >= f)
    }

    pub(super) fn add(&mut self, entity: u32, at: i64, metric: MetricId, num: i64, den: i64) {
        self.day_accs(entity, at).metrics[metric.index()].add(num, den);
    }

    fn count_closure(&mut self, department: u32, c: Closure, sign: i64) {
        for e in [c.performer, department] {
            let metrics = &mut self.day_accs(e, c.at).metrics;
            metrics[MetricId::OnTimeClosureShare.index()].add(sign * c.on_time as i64, sign);
            metrics[MetricId::ClosureTimeAvg.index()].add(sign * c.duration_ms, sign);
        }
    }

    fn count_reopen(&mut self, department: u32, c: Reopen, sign: i64) {
        for e in [c.performer, department] {
            self.add(e, c.at, MetricId::ReopenShare, sign * c.reopened as i64, sign);
        }
    }

    fn count_score(&mut self, entity: u32, at: i64, score: &Score, sign: i64) {
        match score {
            Score::Survey { overall, answers } => {
                let s = *overall;
                let day = self.day_accs(entity, at);
                day.metrics[MetricId::CsatSatisfiedShare.index()].add(sign * (s >= 4) as i64, sign);
                day.metrics[MetricId::CsatAvg.index()].add(sign * s as i64, sign);
                for (q, score) in answers.iter() {
                    day.question(*q).add_signed(*score, s, sign);
                }
            }
            Score::Nps(s) => self.add(entity, at, MetricId::Nps, sign * nps_points(*s), sign),
        }
    }

    /// Forgets requests past their TTL; those never created are dead-lettered with their steps
    /// and feedback, exclusions whose feedback never came as `unmatched_exclusion`.
    pub(super) fn sweep_requests(&mut self, watermark: i64, orphans: &mut Vec<(i64, DeadLetter)>) {
        let (ttl, window) = (self.config.state_ttl_ms, self.config.reopen_window_ms);
        let mut due = Vec::new();
        self.request_expiry.pop_due_exact(watermark, &mut due);
        for (_, (slot, generation)) in due {
            let Some(r) = self.requests.live(slot, generation) else { continue };
            let expires = r.expires_at(ttl, window);
            if expires > watermark {
                self.request_expiry.push(expires, (slot, generation));
                continue;
            }
            let r = self.requests.remove(slot);
            if r.created == NONE {
                orphans.push((r.first_seen, orphan_request(&self.sellers[r.department as usize].id, &r)));
            }
            for f in &r.feedback {
                self.feedback_of.remove(&f.id);
            }
        }
        let sellers = &self.sellers;
        self.early_exclusions.retain(|_, x| {
            if x.first_seen.saturating_add(ttl) > watermark {
                return true;
            }
            let payload = serde_json::json!({"seller_id": &*sellers[x.department as usize].id, "feedback_id": &*x.id});
            orphans.push((x.first_seen, unmatched_exclusion(&payload.to_string(), "within the state TTL")));
            false
        });
    }

    /// Holds a restored request again: re-arms its deadlines and indexes its feedback.
    pub(super) fn restore_request(&mut self, key: u128, r: RequestState) {
        let generation = r.generation;
        let (slot, _) = self.requests.find_or_insert(key, || r);
        self.arm_expiry(slot);
        let r = self.requests.at(slot);
        for f in &r.feedback {
            self.feedback_of.insert(f.id, (slot, generation));
        }
        if r.created != NONE {
            self.request_deadlines.push(r.due_by, (TimerKind::RequestDue, slot, generation));
        }
        if r.closed != NONE {
            self.request_deadlines.push(r.closed.saturating_add(self.config.reopen_window_ms), (TimerKind::ReopenWindow, slot, generation));
        }
        if r.survey_due != NONE && !r.survey_done {
            self.request_surveys.push(r.survey_due, (slot, generation));
        }
    }
}

/// The id a dispute names a feedback item by.
#[derive(Debug, Clone, Copy, Hash)]
pub(super) enum FeedbackId<'a> {
    Survey(&'a str),
    Nps(&'a str),
    Review(&'a str),
}

impl FeedbackId<'_> {
    pub(super) fn id(&self) -> &str {
        match self {
            FeedbackId::Survey(id) | FeedbackId::Nps(id) | FeedbackId::Review(id) => id,
        }
    }
}

/// A dispute that came before the feedback it excludes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct EarlyExclusion {
    department: u32,
    id: Box<str>,
    first_seen: i64,
}

impl EarlyExclusion {
    pub(super) fn new(key_entity: u32, id: &str, t: i64) -> EarlyExclusion {
        EarlyExclusion { department: key_entity, id: id.into(), first_seen: t }
    }
}

/// The dead letter of a `feedback.excluded` that matches nothing it can exclude.
#[cold]
pub(super) fn unmatched_exclusion(payload: &str, why: &str) -> DeadLetter {
    DeadLetter::new(
        Rejection::new(
            RejectReason::UnmatchedExclusion,
            None,
            format!("the excluded feedback never arrived {why}, so nothing was excluded; check the id it names"),
        ),
        payload.as_bytes(),
        "engine:state-expiry".into(),
    )
}

/// Makes room for one more item in a request's list, exactly while the list is short: most
/// requests get one or two feedback items and no reopen, and a thin vector's first growth
/// would otherwise hold four (a 400-byte allocation for a 96-byte feedback item).
fn reserve_small<T>(list: &mut thin_vec::ThinVec<T>) {
    if list.len() < 4 {
        list.reserve_exact(1);
    }
}

/// NPS points of one answer: +1 promoter (9-10), -1 detractor (0-6), 0 passive.
pub(super) fn nps_points(score: u8) -> i64 {
    (score >= 9) as i64 - (score <= 6) as i64
}

#[cold]
fn conflict(step: &str) -> Rejection {
    Rejection::new(
        RejectReason::ConflictingLifecycle,
        None,
        format!("the request already has a {step} under another event_id; re-sends must keep their event_id"),
    )
}

#[cold]
fn negative(other: &str, other_at: i64, t: i64) -> Rejection {
    Rejection::new(
        RejectReason::NegativeDuration,
        Some("occurred_at"),
        format!("{} is after {other} at {}: a request is created before it is closed", Timestamp(t), Timestamp(other_at)),
    )
}

#[cold]
fn orphan_request(department: &str, r: &RequestState) -> DeadLetter {
    let mut steps: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    if r.closed != NONE {
        steps.insert("first_closed_at", Timestamp(r.closed).to_string().into());
    }
    steps.insert("steps", r.steps.into());
    steps.insert("feedback", r.feedback.len().into());
    let payload = serde_json::json!({"seller_id": department, "request_id": &*r.request_id, "seen": steps});
    DeadLetter::new(
        Rejection::new(
            RejectReason::RequestWithoutCreation,
            Some("request_id"),
            "these request steps, surveys or NPS answers never met a request.created with the same department (key) and request_id within the state TTL, so they measure nothing; check that request.created is produced and keyed by the request's department",
        ),
        payload.to_string().as_bytes(),
        "engine:state-expiry".into(),
    )
}

#[cfg(test)]
mod tests {
    use crate::contract::{Answer, Channel, ClosedIn, Event, EventBody, RejectReason, Timestamp};
    use crate::methodology::{EntityKind, MetricId, Profile, Standards, VersionedStandards};
    use crate::output::{Output, Verdict, WindowRow};
    use crate::window::{Cadence, LocalDate};
    use crate::{Engine, EngineConfig};

    fn engine() -> Engine {
        Engine::new(EngineConfig {
            timezone: chrono_tz::UTC,
            standards: VersionedStandards::single(Standards::for_profile(Profile::Service)),
            ..EngineConfig::default()
        })
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("test times are valid")
    }

    struct Feed {
        engine: Engine,
        n: u32,
    }

    impl Feed {
        fn send(&mut self, t: &str, body: EventBody<'static>) -> Verdict {
            self.n += 1;
            let e = Event { event_id: format!("e{}", self.n).into(), occurred_at: at(t), seller_id: "dept-1".into(), body };
            self.engine.ingest_event(&e)
        }

        fn created(&mut self, t: &str, req: &'static str, performer: &'static str, due: &str) -> Verdict {
            self.send(
                t,
                EventBody::RequestCreated {
                    request_id: req.into(),
                    client_id: "c1".into(),
                    performer_id: performer.into(),
                    department_id: "dept-1".into(),
                    site_id: "site-1".into(),
                    category: "plumbing".into(),
                    due_by: at(due),
                },
            )
        }

        fn closed(&mut self, t: &str, req: &'static str, performer: &'static str) -> Verdict {
            self.send(t, EventBody::RequestClosed { request_id: req.into(), performer_id: performer.into(), closed_in: ClosedIn::App })
        }

        fn survey(&mut self, t: &str, req: &'static str, overall: u8) -> Verdict {
            self.send(
                t,
                EventBody::SurveyAnswered {
                    survey_id: format!("s-{req}-{t}").into(),
                    request_id: req.into(),
                    client_id: "c1".into(),
                    answers: vec![Answer { question_id: "overall".into(), score: overall }, Answer { question_id: "quality".into(), score: 2 }],
                    comment: None,
                    channel: Channel::App,
                },
            )
        }

        fn finish(mut self) -> Vec<Output> {
            let mut out = Vec::new();
            self.engine.finish(&mut out);
            out
        }
    }

    fn feed() -> Feed {
        Feed { engine: engine(), n: 0 }
    }

    /// The final row of an entity, e.g. `("performer", "p1")`.
    fn row<'a>(out: &'a [Output], entity: EntityKind, id: &str, cadence: Cadence, start: &str) -> &'a WindowRow {
        out.iter()
            .filter_map(|o| match o {
                Output::Row(r)
                    if r.is_final
                        && r.entity == entity
                        && &*r.seller_id == id
                        && r.cadence == cadence
                        && r.period_start == LocalDate::parse(start).unwrap() =>
                {
                    Some(r)
                }
                _ => None,
            })
            .next_back()
            .unwrap_or_else(|| panic!("no final {entity:?} {id} {cadence} {start} row"))
    }

    fn cell(r: &WindowRow, m: MetricId) -> (f64, i64, i64) {
        let c = r.metrics.iter().find(|c| c.metric == m).unwrap_or_else(|| panic!("{m} missing"));
        (c.numerator, c.denominator, c.overdue)
    }

    #[test]
    fn the_closer_owns_the_request_and_the_department_sums_its_performers() {
        let mut f = feed();
        f.created("2025-03-03T09:00:00Z", "r1", "p1", "2025-03-03T17:00:00Z");
        f.send("2025-03-03T10:00:00Z", EventBody::RequestReassigned { request_id: "r1".into(), performer_id: "p2".into() });
        f.closed("2025-03-03T12:00:00Z", "r1", "p2");
        f.created("2025-03-03T09:30:00Z", "r2", "p1", "2025-03-03T11:00:00Z");
        f.closed("2025-03-03T13:30:00Z", "r2", "p1");
        let out = f.finish();
        let p2 = row(&out, EntityKind::Performer, "p2", Cadence::Day, "2025-03-03");
        assert_eq!(p2.department_id.as_deref(), Some("dept-1"));
        assert_eq!(cell(p2, MetricId::OnTimeClosureShare), (1.0, 1, 0));
        assert_eq!(cell(p2, MetricId::ClosureTimeAvg), (3.0 * 3600.0, 1, 0));
        let p1 = row(&out, EntityKind::Performer, "p1", Cadence::Day, "2025-03-03");
        assert_eq!(cell(p1, MetricId::OnTimeClosureShare), (0.0, 1, 0), "r2 closed after its due_by");
        let d = row(&out, EntityKind::Department, "dept-1", Cadence::Day, "2025-03-03");
        assert_eq!(d.department_id, None);
        assert_eq!(cell(d, MetricId::OnTimeClosureShare), (1.0, 2, 1), "the department counts r2 overdue at 11:00");
        assert_eq!(cell(d, MetricId::ClosureTimeAvg), (3.0 * 3600.0 + 4.0 * 3600.0, 2, 0));
        let month = |id: &str, kind| row(&out, kind, id, Cadence::Month, "2025-03-01").composite.clone().expect("monthly rating");
        assert_eq!((month("p2", EntityKind::Performer).rank, month("p2", EntityKind::Performer).ranked_sellers), (Some(1), Some(2)));
        assert_eq!(month("p1", EntityKind::Performer).rank, Some(2));
        assert_eq!((month("dept-1", EntityKind::Department).rank, month("dept-1", EntityKind::Department).ranked_sellers), (Some(1), Some(1)));
    }

    #[test]
    fn reassignments_at_the_same_time_go_to_the_greater_performer_id_in_any_order() {
        for order in [["p2", "p3"], ["p3", "p2"]] {
            let mut f = feed();
            f.created("2025-03-03T09:00:00Z", "r1", "p1", "2025-03-04T09:00:00Z");
            for p in order {
                f.send("2025-03-03T10:00:00Z", EventBody::RequestReassigned { request_id: "r1".into(), performer_id: p.into() });
            }
            f.survey("2025-03-03T11:00:00Z", "r1", 5);
            let out = f.finish();
            let p3 = row(&out, EntityKind::Performer, "p3", Cadence::Week, "2025-03-03");
            assert_eq!(cell(p3, MetricId::CsatAvg), (5.0, 1, 0), "arrival order {order:?}");
            let others = out.iter().filter(|o| matches!(o, Output::Row(r) if r.is_final && matches!(&*r.seller_id, "p1" | "p2"))).count();
            assert_eq!(others, 0, "arrival order {order:?}: the open request's survey counts for its assignee only");
        }
    }

    #[test]
    fn feedback_moves_to_the_closer_when_the_closure_arrives_late() {
        let mut f = feed();
        f.created("2025-03-03T09:00:00Z", "r1", "p1", "2025-03-04T09:00:00Z");
        f.survey("2025-03-03T15:00:00Z", "r1", 5);
        f.send(
            "2025-03-03T15:30:00Z",
            EventBody::NpsSubmitted { response_id: "n1".into(), customer_id: "c1".into(), score: 3, comment: None, request_id: Some("r1".into()) },
        );
        f.closed("2025-03-03T14:00:00Z", "r1", "p2");
        let out = f.finish();
        let week = |id: &str, kind| row(&out, kind, id, Cadence::Week, "2025-03-03").clone();
        let p2 = week("p2", EntityKind::Performer);
        assert_eq!(cell(&p2, MetricId::CsatSatisfiedShare), (1.0, 1, 0));
        assert_eq!(cell(&p2, MetricId::CsatAvg), (5.0, 1, 0));
        assert_eq!(cell(&p2, MetricId::Nps), (-1.0, 1, 0));
        let p1_rows = out.iter().filter(|o| matches!(o, Output::Row(r) if r.is_final && &*r.seller_id == "p1")).count();
        assert_eq!(p1_rows, 0, "retracted from the assignee, whose windows are left empty");
        assert_eq!(cell(&week("dept-1", EntityKind::Department), MetricId::CsatAvg), (5.0, 1, 0), "counted once for the department");
    }

    #[test]
    fn a_reopen_within_the_window_counts_on_the_windows_last_day() {
        let mut f = feed();
        f.created("2025-03-03T09:00:00Z", "r1", "p1", "2025-03-04T09:00:00Z");
        f.closed("2025-03-03T12:00:00Z", "r1", "p1");
        f.created("2025-03-03T09:00:00Z", "r2", "p1", "2025-03-04T09:00:00Z");
        f.closed("2025-03-03T13:00:00Z", "r2", "p1");
        f.send("2025-03-05T08:00:00Z", EventBody::RequestReopened { request_id: "r1".into(), reason: None });
        f.send("2025-03-10T14:00:00Z", EventBody::RequestReopened { request_id: "r2".into(), reason: None });
        f.created("2025-03-12T09:00:00Z", "r3", "p1", "2025-03-13T09:00:00Z");
        let out = f.finish();
        let day = row(&out, EntityKind::Performer, "p1", Cadence::Day, "2025-03-10");
        assert_eq!(cell(day, MetricId::ReopenShare), (1.0, 2, 0), "r1 reopened within 7 days, r2 an hour after its window");
    }

    #[test]
    fn events_of_the_other_profile_are_rejected_with_their_reason() {
        let mut f = feed();
        let v = f.send("2025-03-03T09:00:00Z", EventBody::OrderShipped { order_id: "o1".into() });
        assert!(matches!(v, Verdict::Rejected(r) if r.reason == RejectReason::WrongProfile && r.detail.contains("profile = \"marketplace\"")));
        let mut m = Feed { engine: Engine::new(EngineConfig::default()), n: 0 };
        let v = m.closed("2025-03-03T12:00:00Z", "r1", "p1");
        assert!(matches!(v, Verdict::Rejected(r) if r.reason == RejectReason::WrongProfile && r.detail.contains("profile = \"service\"")));
    }

    #[test]
    fn steps_that_contradict_the_request_are_rejected() {
        let mut f = feed();
        f.closed("2025-03-03T12:00:00Z", "r1", "p1");
        let v = f.created("2025-03-03T13:00:00Z", "r1", "p1", "2025-03-04T09:00:00Z");
        assert!(matches!(v, Verdict::Rejected(r) if r.reason == RejectReason::NegativeDuration));
        f.created("2025-03-03T09:00:00Z", "r1", "p1", "2025-03-04T09:00:00Z");
        let v = f.created("2025-03-03T09:05:00Z", "r1", "p1", "2025-03-04T09:00:00Z");
        assert!(matches!(v, Verdict::Rejected(r) if r.reason == RejectReason::ConflictingLifecycle));
    }

    #[test]
    fn a_dispute_removes_its_survey_exactly_before_or_after_it_arrives() {
        let exclude = |id: &str| EventBody::FeedbackExcluded {
            review_id: None,
            survey_id: Some(id.to_owned().into()),
            response_id: None,
            reason: "dispute accepted".into(),
        };
        let mut f = feed();
        f.created("2025-03-03T09:00:00Z", "r1", "p1", "2025-03-04T09:00:00Z");
        f.closed("2025-03-03T10:00:00Z", "r1", "p1");
        f.survey("2025-03-03T15:00:00Z", "r1", 1);
        f.survey("2025-03-03T16:00:00Z", "r1", 5);
        assert!(matches!(f.send("2025-03-04T08:00:00Z", exclude("s-r1-2025-03-03T15:00:00Z")), Verdict::Accepted(_)));
        assert!(matches!(f.send("2025-03-04T09:00:00Z", exclude("s-r1-2025-03-04T10:00:00Z")), Verdict::Accepted(_)));
        f.survey("2025-03-04T10:00:00Z", "r1", 2);
        f.send("2025-03-09T10:00:00Z", EventBody::RequestReopened { request_id: "r1".into(), reason: None });
        let v = f.send("2025-03-09T11:00:00Z", exclude("s-r1-2025-03-03T16:00:00Z"));
        assert!(matches!(&v, Verdict::Rejected(r) if r.reason == RejectReason::TooLate), "{v:?}");
        let v = f.send(
            "2025-03-09T12:00:00Z",
            EventBody::FeedbackExcluded { review_id: Some("v1".into()), survey_id: None, response_id: None, reason: "dispute".into() },
        );
        assert!(matches!(&v, Verdict::Accepted(_)), "a dispute waits for its feedback: {v:?}");
        f.send(
            "2025-03-09T13:00:00Z",
            EventBody::FeedbackExcluded { review_id: None, survey_id: Some("never".into()), response_id: None, reason: "dispute".into() },
        );
        let out = f.finish();
        for kind in [EntityKind::Performer, EntityKind::Department] {
            let id = if kind == EntityKind::Performer { "p1" } else { "dept-1" };
            assert_eq!(cell(row(&out, kind, id, Cadence::Week, "2025-03-03"), MetricId::CsatAvg), (5.0, 1, 0), "{kind:?}: only the 5 counts");
        }
        let unmatched = out.iter().filter(|o| matches!(o, Output::DeadLetter(d) if d.reason == RejectReason::UnmatchedExclusion)).count();
        assert_eq!(unmatched, 2, "the disputes of a review and a survey that never came");
    }

    #[test]
    fn every_request_is_forgotten_after_its_ttl_while_the_stream_runs() {
        // Closed on time, closed late, never closed (due before and after the TTL), and a
        // closure seen before its creation: each must leave the state once its TTL has passed.
        let mut f = feed();
        f.created("2025-03-03T09:00:00Z", "on-time", "p1", "2025-03-03T17:00:00Z");
        f.closed("2025-03-03T12:00:00Z", "on-time", "p1");
        f.created("2025-03-03T09:00:00Z", "late", "p1", "2025-03-03T10:00:00Z");
        f.closed("2025-03-04T12:00:00Z", "late", "p1");
        f.created("2025-03-03T09:00:00Z", "open", "p1", "2025-03-04T09:00:00Z");
        f.created("2025-03-03T09:00:00Z", "far", "p1", "2025-06-01T09:00:00Z");
        f.closed("2025-03-05T12:00:00Z", "early-close", "p1");
        f.created("2025-03-05T09:00:00Z", "early-close", "p1", "2025-03-05T17:00:00Z");
        assert_eq!(f.engine.state_sizes().requests, 5);
        f.send("2025-04-20T09:00:00Z", EventBody::RequestReopened { request_id: "later".into(), reason: None });
        assert_eq!(f.engine.state_sizes().requests, 1, "only the request first seen on 2025-04-20 is held");
    }

    #[test]
    fn feedback_about_a_request_never_created_is_dead_lettered() {
        let mut f = feed();
        f.survey("2025-03-03T15:00:00Z", "ghost", 2);
        f.created("2025-03-03T09:00:00Z", "r1", "p1", "2025-03-04T09:00:00Z");
        f.closed("2025-03-03T10:00:00Z", "r1", "p1");
        let out = f.finish();
        let dead: Vec<_> = out.iter().filter_map(|o| if let Output::DeadLetter(d) = o { Some(d) } else { None }).collect();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].reason, RejectReason::RequestWithoutCreation);
        assert!(dead[0].payload.as_deref().unwrap().contains("\"ghost\""));
        let d = row(&out, EntityKind::Department, "dept-1", Cadence::Week, "2025-03-03");
        assert_eq!(cell(d, MetricId::CsatAvg), (0.0, 0, 0));
    }

    #[test]
    fn entities_sharing_an_id_keep_one_row_each() {
        // p1 closes requests of dept-1 and dept-2, and a department named p1 has a request closed
        // by p1: four entities with the id p1 (a department and three performers), each with
        // exactly one row per window, and performers ranked within their department.
        let mut e = engine();
        let mut n = 0;
        let mut send = |department: &'static str, t: &str, body: EventBody<'static>| {
            n += 1;
            let ev = Event { event_id: format!("e{n}").into(), occurred_at: at(t), seller_id: department.into(), body };
            assert!(matches!(e.ingest_event(&ev), Verdict::Accepted(_)), "{department} {t}");
        };
        for (day, department, performer) in
            [("03", "dept-1", "p1"), ("03", "dept-1", "p2"), ("03", "dept-2", "p1"), ("03", "p1", "p1"), ("04", "dept-1", "p1"), ("04", "p1", "p1")]
        {
            let req = format!("r-{department}-{performer}-{day}");
            let created = EventBody::RequestCreated {
                request_id: req.clone().into(),
                client_id: "c1".into(),
                performer_id: performer.into(),
                department_id: department.into(),
                site_id: "site-1".into(),
                category: "plumbing".into(),
                due_by: at(&format!("2025-03-{day}T17:00:00Z")),
            };
            send(department, &format!("2025-03-{day}T09:00:00Z"), created);
            let closed = EventBody::RequestClosed { request_id: req.into(), performer_id: performer.into(), closed_in: ClosedIn::App };
            send(department, &format!("2025-03-{day}T12:00:00Z"), closed);
        }
        let mut out = Vec::new();
        e.finish(&mut out);
        let finals: Vec<&WindowRow> = out.iter().filter_map(|o| if let Output::Row(r) = o { r.is_final.then_some(r) } else { None }).collect();
        let mut keys = std::collections::BTreeSet::new();
        for r in &finals {
            let key = (r.entity, r.department_id.clone(), r.seller_id.clone(), r.cadence, r.period_start);
            assert!(keys.insert(key.clone()), "two final rows of {key:?}");
        }
        let ranked = |entity: EntityKind, department: Option<&str>, id: &str| {
            let month = finals
                .iter()
                .find(|r| r.cadence == Cadence::Month && r.entity == entity && r.department_id.as_deref() == department && &*r.seller_id == id)
                .unwrap_or_else(|| panic!("no month of {entity:?} {department:?} {id}"));
            month.composite.as_ref().map(|c| c.ranked_sellers).expect("monthly rating")
        };
        assert_eq!(ranked(EntityKind::Performer, Some("dept-1"), "p1"), Some(2), "p1 and p2 in dept-1");
        assert_eq!(ranked(EntityKind::Performer, Some("dept-2"), "p1"), Some(1));
        assert_eq!(ranked(EntityKind::Performer, Some("p1"), "p1"), Some(1));
        assert_eq!(ranked(EntityKind::Department, None, "p1"), Some(3), "dept-1, dept-2 and p1");
    }

    #[test]
    fn short_request_lists_hold_exactly_their_items() {
        let mut list: thin_vec::ThinVec<i64> = thin_vec::ThinVec::new();
        for i in 0..4 {
            super::reserve_small(&mut list);
            list.push(i);
            assert_eq!(list.capacity(), list.len(), "no room held beyond the items");
        }
        super::reserve_small(&mut list);
        list.push(4);
        assert!(list.capacity() >= 8, "a longer list grows by doubling, not an item at a time");
    }
}
