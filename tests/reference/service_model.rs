//! An independent batch reimplementation of `docs/methodology.md` section 15 (the service
//! profile), in the spirit of `model.rs`: arrival rules in one plain loop, then every request's
//! figures from all its accepted events at once, then every window row of every entity.
//!
//! Rows are keyed like the harness's: `department:<id>` and `performer:<department>/<id>`.
#![allow(dead_code)]

use super::model::{monday, month_start, next_month, prev_month, quarter_start, Acc, Calendar, Cell, Comp, Key, RefVerdict, Row, CADENCES};
use chrono::Duration;
use chrono::NaiveDate;
use chrono_tz::Tz;
use quality_engine::contract::{decode, EventBody, RejectReason};
use quality_engine::methodology::{MetricId, Standards};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The profile's metrics in catalogue order (15.3).
pub const IDS: [&str; 8] = [
    "nps",
    "critic_followup_share",
    "survey_coverage_share",
    "csat_satisfied_share",
    "csat_avg",
    "on_time_closure_share",
    "closure_time_avg",
    "reopen_share",
];
const NPS: usize = 0;
const CRITIC: usize = 1;
const COVERAGE: usize = 2;
const SATISFIED: usize = 3;
const CSAT: usize = 4;
const ON_TIME: usize = 5;
const CLOSURE_TIME: usize = 6;
const REOPEN: usize = 7;
const N: usize = 8;

/// The default reopen window (15.3).
pub const REOPEN_WINDOW_MS: i64 = 7 * 24 * 3_600_000;

fn is_duration(i: usize) -> bool {
    i == CLOSURE_TIME
}

fn lower_is_better(i: usize) -> bool {
    matches!(i, CLOSURE_TIME | REOPEN)
}

/// Satisfaction is weekly and slower (15.3).
fn in_cadence(i: usize, cadence: &str) -> bool {
    cadence != "day" || !matches!(i, NPS | SATISFIED | CSAT)
}

/// One survey or NPS answer: time, main-question or NPS score, whether NPS, its id, the survey's answers.
type Given = (i64, u8, bool, String, Vec<(String, u8)>);

#[derive(Debug, Default)]
struct Request {
    department: String,
    client: String,
    created: Option<(i64, i64)>,
    assignments: Vec<(i64, String)>,
    closures: Vec<(i64, String)>,
    reopens: Vec<i64>,
    /// Surveys and NPS answers about the request.
    feedback: Vec<Given>,
}

/// Arrival-order verdicts (sections 1, 4, 15.2) and the accepted events' figures.
pub struct Reference {
    pub verdicts: Vec<RefVerdict>,
    pub rows: BTreeMap<Key, Row>,
    /// Requests never created (dead-lettered at expiry).
    pub orphans: usize,
}

pub fn reference<L: AsRef<[u8]>>(lines: &[L], tz: Tz, lateness_ms: i64, standards: &Standards) -> Reference {
    let mut verdicts = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
    let mut max_t: Option<i64> = None;
    let mut requests: BTreeMap<(String, String), Request> = BTreeMap::new();
    let mut dept_nps: Vec<(String, i64, u8, String)> = Vec::new();
    let cal = Calendar::new(tz);
    // Feedback seen (department, "survey"|"nps", id) -> its time; accepted exclusions (15.5).
    let mut given: HashMap<(String, &'static str, String), i64> = HashMap::new();
    let mut excluded: HashSet<(String, &'static str, String)> = HashSet::new();
    // Critics (section 10.3 for requests, 15.3): first arrival of each, earliest follow-up.
    let policy = quality_engine::actions::ActionPolicy::default();
    let mut critics: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut followed: BTreeMap<(String, String), i64> = BTreeMap::new();
    let commented = |c: &Option<std::borrow::Cow<'_, str>>| c.as_deref().is_some_and(|c| !c.trim().is_empty());
    for line in lines {
        let e = match decode(line.as_ref()) {
            Ok(e) => e,
            Err(r) => {
                verdicts.push(RefVerdict::Rejected(r.reason));
                continue;
            }
        };
        let t = e.occurred_at.0;
        if max_t.is_some_and(|m| t < m - lateness_ms) {
            verdicts.push(RefVerdict::Rejected(RejectReason::TooLate));
            continue;
        }
        if ids.contains(e.event_id.as_ref()) {
            verdicts.push(RefVerdict::Duplicate);
            continue;
        }
        let dept = e.seller_id.to_string();
        let req = |id: &str, requests: &mut BTreeMap<(String, String), Request>| -> (String, String) {
            let key = (dept.clone(), id.to_owned());
            requests.entry(key.clone()).or_insert_with(|| Request { department: dept.clone(), ..Request::default() });
            key
        };
        let verdict = match &e.body {
            EventBody::RequestCreated { request_id, performer_id, due_by, client_id, .. } => {
                let k = req(request_id, &mut requests);
                let r = requests.get_mut(&k).unwrap();
                if r.created.is_some() {
                    Some(RejectReason::ConflictingLifecycle)
                } else if r.closures.iter().any(|(c, _)| *c < t) {
                    Some(RejectReason::NegativeDuration)
                } else {
                    r.created = Some((t, due_by.0));
                    r.client = client_id.to_string();
                    r.assignments.push((t, performer_id.to_string()));
                    None
                }
            }
            EventBody::RequestReassigned { request_id, performer_id } => {
                let k = req(request_id, &mut requests);
                requests.get_mut(&k).unwrap().assignments.push((t, performer_id.to_string()));
                None
            }
            EventBody::RequestClosed { request_id, performer_id, .. } => {
                let k = req(request_id, &mut requests);
                let r = requests.get_mut(&k).unwrap();
                if r.created.is_some_and(|(c, _)| t < c) {
                    Some(RejectReason::NegativeDuration)
                } else {
                    r.closures.push((t, performer_id.to_string()));
                    None
                }
            }
            EventBody::RequestReopened { request_id, .. } => {
                let k = req(request_id, &mut requests);
                requests.get_mut(&k).unwrap().reopens.push(t);
                None
            }
            EventBody::SurveyAnswered { survey_id, request_id, answers, comment, .. } => {
                let overall = answers.iter().find(|a| a.question_id == "overall").expect("the decoder requires the main question").score;
                let k = req(request_id, &mut requests);
                let all = answers.iter().map(|a| (a.question_id.to_string(), a.score)).collect();
                requests.get_mut(&k).unwrap().feedback.push((t, overall, false, survey_id.to_string(), all));
                given.insert((dept.clone(), "survey", survey_id.to_string()), t);
                if overall <= policy.critics.max_review_rating && commented(comment) {
                    critics.entry((dept.clone(), format!("survey:{survey_id}"))).or_insert(t);
                }
                None
            }
            EventBody::NpsSubmitted { request_id: Some(request_id), response_id, score, comment, .. } => {
                let k = req(request_id, &mut requests);
                requests.get_mut(&k).unwrap().feedback.push((t, *score, true, response_id.to_string(), Vec::new()));
                given.insert((dept.clone(), "nps", response_id.to_string()), t);
                if *score <= policy.critics.max_nps_score && commented(comment) {
                    critics.entry((dept.clone(), format!("nps:{response_id}"))).or_insert(t);
                }
                None
            }
            EventBody::NpsSubmitted { request_id: None, response_id, score, comment, .. } => {
                dept_nps.push((dept.clone(), t, *score, response_id.to_string()));
                given.insert((dept.clone(), "nps", response_id.to_string()), t);
                if *score <= policy.critics.max_nps_score && commented(comment) {
                    critics.entry((dept.clone(), format!("nps:{response_id}"))).or_insert(t);
                }
                None
            }
            EventBody::FeedbackExcluded { review_id, survey_id, response_id, .. } => {
                let k = match (review_id, survey_id, response_id) {
                    (Some(id), _, _) => (dept.clone(), "review", id.to_string()),
                    (_, Some(id), _) => (dept.clone(), "survey", id.to_string()),
                    (_, _, Some(id)) => (dept.clone(), "nps", id.to_string()),
                    _ => unreachable!("the decoder requires one id"),
                };
                let final_before = max_t.map(|m| cal.day(m - lateness_ms));
                // The excluded feedback's day is final: the dispute is refused and kept (15.5).
                if given.get(&k).is_some_and(|f| final_before.is_some_and(|d| cal.day(*f) < d)) {
                    Some(RejectReason::TooLate)
                } else {
                    excluded.insert(k);
                    None
                }
            }
            EventBody::CriticFollowedUp { review_id, response_id, survey_id, .. } => {
                let critic = match (review_id, response_id, survey_id) {
                    (Some(id), _, _) => format!("review:{id}"),
                    (_, Some(id), _) => format!("nps:{id}"),
                    (_, _, Some(id)) => format!("survey:{id}"),
                    _ => unreachable!("the decoder requires one"),
                };
                let f = followed.entry((dept.clone(), critic)).or_insert(t);
                *f = (*f).min(t);
                None
            }
            _ => Some(RejectReason::WrongProfile),
        };
        if let Some(r) = verdict {
            verdicts.push(RefVerdict::Rejected(r));
            continue;
        }
        ids.insert(e.event_id.to_string());
        max_t = Some(max_t.map_or(t, |m| m.max(t)));
        verdicts.push(RefVerdict::Accepted);
    }
    let clock = max_t.unwrap_or(i64::MIN);
    let mut days: BTreeMap<String, BTreeMap<NaiveDate, [Acc; N]>> = BTreeMap::new();
    let mut put = |entity: &str, t: i64, i: usize, num: i64, overdue: bool| {
        let a = &mut days.entry(entity.to_owned()).or_default().entry(cal.day(t)).or_insert([Acc::default(); N])[i];
        if overdue {
            a.overdue += 1;
        } else {
            a.num += num;
            a.den += 1;
        }
    };
    let nps = |s: u8| (s >= 9) as i64 - (s <= 6) as i64;
    // Per entity and day: question id -> co-moment sums against the main question (15.6).
    let mut questions: BTreeMap<(String, NaiveDate), BTreeMap<String, [i64; 6]>> = BTreeMap::new();
    // Per entity and day: feedback excluded by disputes, counted for whom it would have counted (15.5).
    let mut excluded_count: BTreeMap<(String, NaiveDate), i64> = BTreeMap::new();
    let mut orphans = 0;
    for ((dept, _), r) in &requests {
        let Some((created, due)) = r.created else {
            orphans += 1;
            continue;
        };
        let d = format!("department:{dept}");
        let first_closure = r.closures.iter().min_by_key(|(c, _)| *c).cloned();
        let owner = match &first_closure {
            Some((_, p)) => p.clone(),
            None => r.assignments.iter().max().expect("creation is an assignment").1.clone(),
        };
        let p = format!("performer:{dept}/{owner}");
        for who in [p.clone(), d.clone()] {
            let who = &who;
            if let Some((c, _)) = first_closure {
                put(who, c, ON_TIME, (c <= due) as i64, false);
                put(who, c, CLOSURE_TIME, c - created, false);
                let end = c + REOPEN_WINDOW_MS;
                if end <= clock {
                    put(who, end, REOPEN, r.reopens.iter().any(|x| *x > c && *x <= end) as i64, false);
                }
            }
            for (t, score, is_nps, id, answers) in &r.feedback {
                let (t, score, is_nps) = (*t, *score, *is_nps);
                if excluded.contains(&(dept.clone(), if is_nps { "nps" } else { "survey" }, id.clone())) {
                    *excluded_count.entry((who.clone(), cal.day(t))).or_default() += 1;
                    continue;
                }
                if is_nps {
                    put(who, t, NPS, nps(score), false);
                } else {
                    put(who, t, SATISFIED, (score >= 4) as i64, false);
                    put(who, t, CSAT, score as i64, false);
                    let q = questions.entry((who.clone(), cal.day(t))).or_default();
                    for (id, x) in answers {
                        let (x, y) = (*x as i64, score as i64);
                        let m = q.entry(id.clone()).or_insert([0; 6]);
                        for (i, v) in [1, x, y, x * x, y * y, x * y].into_iter().enumerate() {
                            m[i] += v;
                        }
                    }
                }
            }
        }
        if due <= clock && first_closure.as_ref().is_none_or(|(c, _)| *c > due) {
            put(&d, due, ON_TIME, 0, true);
        }
    }
    // Survey decisions (10.2 with the first closure as the trigger): earliest first, ties by
    // department and request id; covered when rated by then, otherwise requested unless the
    // department asked the client within the period (then not eligible).
    let mut decisions: Vec<(i64, &String, &String, &Request)> = requests
        .iter()
        .filter(|(_, r)| r.created.is_some())
        .filter_map(|((d, id), r)| r.closures.iter().map(|c| c.0).min().map(|c| (c + policy.survey.wait_ms, d, id, r)))
        .filter(|(t, ..)| *t <= clock)
        .collect();
    decisions.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let mut asked: HashMap<(String, String), i64> = HashMap::new();
    for (t, dept, _, r) in decisions {
        let rated = r.feedback.iter().any(|f| !f.2 && f.0 <= t);
        let covered = rated || {
            let key = (dept.clone(), r.client.clone());
            if asked.get(&key).is_some_and(|last| t - last < policy.survey.once_per_customer_ms) {
                continue;
            }
            asked.insert(key, t);
            true
        };
        put(&format!("department:{dept}"), t, COVERAGE, covered as i64, false);
    }
    // Critics: settled on the day of an in-time follow-up, or missed (and overdue) on the deadline's day.
    for ((dept, critic), t) in &critics {
        let due = t + policy.critics.sla_ms;
        let d = format!("department:{dept}");
        match followed.get(&(dept.clone(), critic.clone())) {
            Some(&f) if f <= due => put(&d, f, CRITIC, 1, false),
            _ if due <= clock => {
                put(&d, due, CRITIC, 0, false);
                put(&d, due, CRITIC, 0, true);
            }
            _ => {}
        }
    }
    for (dept, t, score, id) in dept_nps {
        let who = format!("department:{dept}");
        if excluded.contains(&(dept.clone(), "nps", id)) {
            *excluded_count.entry((who, cal.day(t))).or_default() += 1;
            continue;
        }
        put(&who, t, NPS, nps(score), false);
    }
    // An entity-day with nothing but excluded feedback still has a row (its count).
    for (who, day) in excluded_count.keys() {
        days.entry(who.clone()).or_default().entry(*day).or_insert([Acc::default(); N]);
    }
    let rows = rows(&days, &questions, &excluded_count, &cal, clock, standards);
    Reference { verdicts, rows, orphans }
}

fn value(i: usize, a: &Acc) -> Option<f64> {
    (a.den > 0).then(|| {
        let (n, d) = (a.num as f64, a.den as f64);
        if is_duration(i) {
            n / 1000.0 / d
        } else if i == NPS {
            100.0 * n / d
        } else {
            n / d
        }
    })
}

fn status(i: usize, v: Option<f64>, target: f64) -> &'static str {
    let tol = 1e-9 * target.abs();
    match v {
        None => "no_data",
        Some(v) if lower_is_better(i) => ["fail", "pass"][(v <= target + tol) as usize],
        Some(v) => ["fail", "pass"][(v >= target - tol) as usize],
    }
}

/// Every final row of every entity (sections 4, 6, 15.1, 15.4).
type Questions = BTreeMap<(String, NaiveDate), BTreeMap<String, [i64; 6]>>;

fn rows(
    days: &BTreeMap<String, BTreeMap<NaiveDate, [Acc; N]>>,
    questions: &Questions,
    excluded: &BTreeMap<(String, NaiveDate), i64>,
    cal: &Calendar,
    clock: i64,
    standards: &Standards,
) -> BTreeMap<Key, Row> {
    let st: Vec<_> = IDS.iter().map(|id| standards.get(MetricId::from_id(id).expect("catalogue id"))).collect();
    let sums = |entity: &str, start: NaiveDate, end: NaiveDate| {
        let mut s = [Acc::default(); N];
        let mut any = false;
        for (_, accs) in days[entity].range(start..end) {
            any = true;
            for i in 0..N {
                s[i].num += accs[i].num;
                s[i].den += accs[i].den;
                s[i].overdue += accs[i].overdue;
            }
        }
        (s, any)
    };
    let all_days: BTreeSet<NaiveDate> = days.values().flat_map(|d| d.keys().copied()).collect();
    let (Some(&first), last) = (all_days.first(), cal.day(clock)) else { return BTreeMap::new() };
    let mut rows = BTreeMap::new();
    for cadence in CADENCES {
        let mut windows = BTreeSet::new();
        for d in &all_days {
            let (s, e) = match cadence {
                "day" => (*d, *d + Duration::days(1)),
                "week" => (monday(*d), monday(*d) + Duration::days(7)),
                "month" => (month_start(*d), next_month(month_start(*d))),
                "quarter" => (quarter_start(*d), next_month(next_month(next_month(quarter_start(*d))))),
                _ => continue,
            };
            windows.insert((s, e));
        }
        if cadence.starts_with("rolling") {
            let n = if cadence == "rolling_7d" { 7 } else { 30 };
            let mut e = first;
            while e <= last {
                windows.insert((e + Duration::days(1) - Duration::days(n), e + Duration::days(1)));
                e += Duration::days(1);
            }
        }
        for (start, end) in windows {
            let one = Duration::days(1);
            let (prev_start, prev_end) = match cadence {
                "month" => (prev_month(start), start),
                "quarter" => (quarter_start(start - one), start),
                "rolling_7d" | "rolling_30d" => (start - one, end - one),
                _ => (start - (end - start), start),
            };
            let mut scores: Vec<(String, String, f64)> = Vec::new();
            for entity in days.keys() {
                let (cur, any) = sums(entity, start, end);
                if !any {
                    continue;
                }
                let (prev, _) = sums(entity, prev_start, prev_end);
                let cells = (0..N)
                    .filter(|&i| in_cadence(i, cadence))
                    .map(|i| {
                        let target = st[i].target;
                        let v = value(i, &cur[i]);
                        let num_milli = if is_duration(i) { cur[i].num } else { cur[i].num * 1000 };
                        Cell::judged(IDS[i], num_milli, &cur[i], v, value(i, &prev[i]), target, status(i, v, target))
                    })
                    .collect();
                let composite = (cadence == "month").then(|| {
                    let (mut num, mut den) = (0.0, 0.0);
                    for i in 0..N {
                        let n = cur[i].den as f64;
                        let shrunk =
                            value(i, &cur[i]).map_or(st[i].target, |v| (n * v + st[i].prior_weight * st[i].target) / (n + st[i].prior_weight));
                        num += st[i].weight * ((shrunk - st[i].floor) / (st[i].ideal - st[i].floor)).clamp(0.0, 1.0);
                        den += st[i].weight;
                    }
                    // The volume component (15.4): closed requests against the monthly norm.
                    if let Some(v) = standards.volume() {
                        num += v.weight * (cur[ON_TIME].den as f64 / v.per_month).clamp(0.0, 1.0);
                        den += v.weight;
                    }
                    let score = 100.0 * num / den;
                    // Performers rank within their department, departments among themselves (15.1).
                    let group = entity.rsplit_once('/').map_or("departments".to_owned(), |(g, _)| g.to_owned());
                    scores.push((group, entity.clone(), score));
                    Comp { score, rank: None, ranked: None }
                });
                let mut qs: BTreeMap<String, [i64; 6]> = BTreeMap::new();
                for (_, day) in questions.range((entity.clone(), start)..(entity.clone(), end)) {
                    for (id, m) in day {
                        let sum = qs.entry(id.clone()).or_insert([0; 6]);
                        (0..6).for_each(|i| sum[i] += m[i]);
                    }
                }
                qs.retain(|_, m| m[0] != 0);
                rows.insert(
                    (entity.clone(), cadence.to_owned(), start),
                    Row {
                        seller: entity.clone(),
                        cadence: cadence.to_owned(),
                        start,
                        end,
                        cells,
                        composite,
                        questions: qs,
                        excluded_feedback: excluded.range((entity.clone(), start)..(entity.clone(), end)).map(|(_, n)| n).sum(),
                    },
                );
            }
            for (group, entity, score) in &scores {
                let peers: Vec<f64> = scores.iter().filter(|(g, _, _)| g == group).map(|(_, _, s)| *s).collect();
                let c = rows.get_mut(&(entity.clone(), cadence.to_owned(), start)).unwrap().composite.as_mut().unwrap();
                c.rank = Some(1 + peers.iter().filter(|s| *s > score).count() as u32);
                c.ranked = Some(peers.len() as u32);
            }
        }
    }
    rows
}

/// Distinct requests and events, for the non-triviality checks.
pub fn count_ids(lines: &[String]) -> HashMap<&'static str, usize> {
    let mut m = HashMap::new();
    for l in lines {
        if let Ok(e) = decode(l.as_bytes()) {
            *m.entry(e.body.event_type().as_str()).or_default() += 1;
        }
    }
    m
}
