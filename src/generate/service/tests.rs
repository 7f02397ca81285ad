//! End-to-end checks of the service stream: determinism, the contract's shapes (through its
//! serde types), request lifecycles, surveys, the planted key driver and the configured rates.

use super::feedback::{BadSurvey, EXCLUSION_REASON, NPS_COMMENTS, SURVEY_COMMENTS};
use super::request::{Fact, Kind, CATEGORIES, REOPEN_REASONS};
use super::*;
use crate::generate::format::Mangle;
use quality_engine::contract::{decode, Answer, Event, EventBody, EventType, Timestamp, DAY_MS, MAX_ANSWERS, OVERALL_QUESTION};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

fn small(seed: u64) -> ServiceConfig {
    ServiceConfig { days: 21, seed, ..ServiceConfig::default() }
}

fn quiet(cfg: ServiceConfig) -> ServiceConfig {
    ServiceConfig { anomalies: Anomalies::none(), bad_surveys: 0.0, ..cfg }
}

fn lines(cfg: &ServiceConfig) -> Vec<String> {
    generate(cfg).collect()
}

fn json(lines: &[String]) -> Vec<Value> {
    lines.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no string {key} in {v}"))
}

fn time(v: &Value, key: &str) -> i64 {
    Timestamp::parse_rfc3339(field(v, key)).unwrap_or_else(|| panic!("bad {key} in {v}")).0
}

/// The request an event is about: its `request_id`, or the request of its survey or NPS answer
/// (`srv-DD-NNNNNN` and `nps-DD-NNNNNN` belong to `req-DD-NNNNNN`).
fn request_of(v: &Value) -> String {
    if let Some(r) = v["request_id"].as_str() {
        return r.to_string();
    }
    let id = v["survey_id"].as_str().or(v["response_id"].as_str()).unwrap_or_else(|| panic!("no request in {v}"));
    format!("req{}", &id[3..])
}

/// The contract's own value of a valid fact: the event `line` must serialize to.
fn expected(f: &Fact) -> Event<'static> {
    let id = |prefix: &str| -> Cow<'static, str> { format!("{prefix}-{:02}-{:06}", f.department, f.request).into() };
    let dept = format!("dept-{:02}", f.department);
    let client: Cow<'static, str> = format!("client-{:05}", f.client).into();
    let performer: Cow<'static, str> = format!("perf-{:03}", f.performer).into();
    let pick = |texts: &[&'static str], i: u8| (i as usize).checked_sub(1).map(|i| Cow::Borrowed(texts[i]));
    let (event_id, body) = match f.kind {
        Kind::Created { due_by, category } => (
            format!("{}.created", id("req")),
            EventBody::RequestCreated {
                request_id: id("req"),
                client_id: client,
                performer_id: performer,
                department_id: dept.clone().into(),
                site_id: format!("site-{:02}", f.site).into(),
                category: CATEGORIES[category as usize].0.into(),
                due_by: Timestamp(due_by),
            },
        ),
        Kind::Reassigned => (format!("{}.reassigned", id("req")), EventBody::RequestReassigned { request_id: id("req"), performer_id: performer }),
        Kind::Closed { closed_in, again } => (
            format!("{}.{}", id("req"), if again { "closed-again" } else { "closed" }),
            EventBody::RequestClosed { request_id: id("req"), performer_id: performer, closed_in },
        ),
        Kind::Reopened { reason } => {
            (format!("{}.reopened", id("req")), EventBody::RequestReopened { request_id: id("req"), reason: pick(&REOPEN_REASONS, reason) })
        }
        Kind::Survey { channel, scores, comment, bad } => {
            assert_eq!(bad, BadSurvey::None, "only valid surveys have a contract value");
            let names = std::iter::once(OVERALL_QUESTION).chain(Question::ALL.iter().map(|q| q.as_str()));
            let answers = names.zip(scores).filter(|(_, s)| *s != 0).map(|(q, score)| Answer { question_id: q.into(), score }).collect();
            let body = EventBody::SurveyAnswered {
                survey_id: id("srv"),
                request_id: id("req"),
                client_id: client,
                answers,
                comment: pick(&SURVEY_COMMENTS, comment),
                channel,
            };
            (format!("{}.answered", id("srv")), body)
        }
        Kind::Nps { score, comment } => (
            format!("{}.submitted", id("nps")),
            EventBody::NpsSubmitted {
                response_id: id("nps"),
                customer_id: client,
                score,
                comment: pick(&NPS_COMMENTS, comment),
                request_id: Some(id("req")),
            },
        ),
        Kind::FollowedUp { nps } => {
            let (survey_id, response_id) = if nps { (None, Some(id("nps"))) } else { (Some(id("srv")), None) };
            let by = Some(format!("mgr-{:02}", f.site).into());
            (
                format!("{}.followup", if nps { id("nps") } else { id("srv") }),
                EventBody::CriticFollowedUp { review_id: None, response_id, survey_id, followed_up_by: by },
            )
        }
        Kind::Excluded => (
            format!("{}.excluded", id("srv")),
            EventBody::FeedbackExcluded { review_id: None, survey_id: Some(id("srv")), response_id: None, reason: EXCLUSION_REASON.into() },
        ),
    };
    Event { event_id: event_id.into(), occurred_at: Timestamp(f.occurred), seller_id: dept.into(), body }
}

/// A line's JSON with its times in the contract's UTC form, to compare with a serialized [`Event`].
fn normalized(line: &str) -> Value {
    let mut v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    for key in ["occurred_at", "due_by"] {
        if let Some(t) = v[key].as_str() {
            let utc = Timestamp::parse_rfc3339(t).unwrap_or_else(|| panic!("{key} in {line}")).to_string();
            v[key] = Value::String(utc);
        }
    }
    v
}

/// Every compact fact of a run with its mangle, in arrival order.
fn pending(cfg: &ServiceConfig) -> (Vec<(Fact, Mangle)>, ServiceGenerator) {
    let mut g = generate(cfg);
    let mut out = Vec::new();
    while let Some(p) = g.next_pending() {
        out.push((p.fact, p.mangle));
    }
    (out, g)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = lines(&small(1));
    assert!(a.len() > 3000, "{}", a.len());
    assert_eq!(a, lines(&small(1)));
    assert_ne!(a, lines(&small(2)));
}

#[test]
fn a_department_behaves_the_same_whatever_the_number_of_departments() {
    let of_first = |departments| -> Vec<String> {
        lines(&ServiceConfig { departments, ..small(5) }).into_iter().filter(|l| l.contains("\"seller_id\":\"dept-01\"")).collect()
    };
    let few = of_first(1);
    assert!(few.len() > 500);
    assert_eq!(few, of_first(5));
}

#[test]
fn valid_lines_are_the_contract_types_serialized() {
    let cfg = ServiceConfig { anomalies: Anomalies { malformed: 0.0, ..Anomalies::default() }, bad_surveys: 0.0, ..small(3) };
    let (facts, g) = pending(&cfg);
    let mut kinds = HashSet::new();
    for (fact, mangle) in &facts {
        assert_eq!(*mangle, Mangle::None);
        let text = format::line(fact, *mangle, &g.ctx);
        assert!(!text.contains('\n'));
        let want = serde_json::to_value(expected(fact)).unwrap();
        assert_eq!(normalized(&text), want, "{text}");
        kinds.insert(type_of(&want).to_string());
    }
    assert_eq!(kinds.len(), 8, "every service event type is generated: {kinds:?}");
}

fn type_of(v: &Value) -> &str {
    field(v, "type")
}

#[test]
fn broken_lines_break_what_the_contract_checks() {
    let (facts, g) = pending(&quiet(small(4)));
    let mut seen = HashSet::new();
    for (fact, _) in &facts {
        // One fact of each kind is enough.
        let kind = std::mem::discriminant(&fact.kind);
        if !seen.insert(kind) {
            continue;
        }
        for mangle in Mangle::BROKEN {
            let text = format::line(fact, mangle, &g.ctx);
            let parsed = serde_json::from_str::<Value>(&text);
            match mangle {
                Mangle::Truncated => assert!(parsed.is_err(), "{text}"),
                Mangle::UnknownType => assert_eq!(EventType::from_wire(type_of(&parsed.unwrap())), None, "{text}"),
                Mangle::MissingSeller => assert!(parsed.unwrap().get("seller_id").is_none(), "{text}"),
                Mangle::NoOffset => assert!(Timestamp::parse_rfc3339(field(&parsed.unwrap(), "occurred_at")).is_none(), "{text}"),
                Mangle::OutOfRange => {
                    let v = parsed.unwrap();
                    let at = Timestamp::parse_rfc3339(field(&v, "occurred_at")).unwrap();
                    let scores: Vec<u64> =
                        v["answers"].as_array().map(|a| a.iter().filter_map(|x| x["score"].as_u64()).collect()).unwrap_or_default();
                    let out = at < Timestamp::parse_rfc3339("2000-01-01T00:00:00Z").unwrap()
                        || v["score"].as_u64().is_some_and(|s| s > 10)
                        || scores.iter().any(|s| *s > 5);
                    assert!(out, "{text}");
                }
                Mangle::None => unreachable!("not a broken mangle"),
            }
        }
    }
    assert_eq!(seen.len(), 8);
}

#[test]
fn every_line_has_the_envelope_and_the_request_departments_key() {
    let text = lines(&ServiceConfig { anomalies: Anomalies { malformed: 0.0, ..Anomalies::default() }, ..small(6) });
    let events = json(&text);
    let mut department = HashMap::new();
    for v in &events {
        assert!(!field(v, "event_id").is_empty());
        assert!(EventType::from_wire(type_of(v)).is_some(), "{v}");
        time(v, "occurred_at");
        if type_of(v) == "request.created" {
            assert_eq!(field(v, "department_id"), field(v, "seller_id"));
            department.insert(field(v, "request_id").to_string(), field(v, "seller_id").to_string());
        }
    }
    let mut keyed = 0;
    for v in &events {
        // Out-of-order arrivals may put a step before its creation: look the key up afterwards.
        let request = request_of(v);
        assert!(request.starts_with(&format!("req-{}-", &field(v, "seller_id")[5..])), "{v}");
        if let Some(d) = department.get(&request) {
            assert_eq!(field(v, "seller_id"), d, "{v}");
            keyed += 1;
        }
    }
    assert_eq!(keyed, events.len(), "every event's request was created in the run");
}

/// One request's steps as read back from the stream.
#[derive(Debug, Default)]
struct Steps {
    created: i64,
    due_by: i64,
    department: String,
    client: String,
    site: String,
    category: String,
    /// (time, performer) of `request.created` then each `request.reassigned`.
    assigned: Vec<(i64, String)>,
    /// (time, performer, closed_in) of each closure.
    closed: Vec<(i64, String, String)>,
    reopened: Vec<i64>,
}

#[test]
fn request_lifecycles_are_consistent() {
    let cfg = quiet(small(7));
    let g = generate(&cfg);
    let departments: HashMap<String, String> = g.performers().map(|(p, d, _)| (p, d)).collect();
    let managers: HashMap<String, String> = g.sites().collect();
    let events = json(&g.collect::<Vec<_>>());
    let mut ids = HashSet::new();
    let mut requests: HashMap<String, Steps> = HashMap::new();
    for v in &events {
        assert!(ids.insert(field(v, "event_id").to_string()), "duplicate event id in {v}");
        let at = time(v, "occurred_at");
        match type_of(v) {
            "request.created" => {
                let s = requests.entry(field(v, "request_id").to_string()).or_default();
                s.created = at;
                s.due_by = time(v, "due_by");
                s.department = field(v, "department_id").into();
                s.client = field(v, "client_id").into();
                s.site = field(v, "site_id").into();
                s.category = field(v, "category").into();
                s.assigned.push((at, field(v, "performer_id").into()));
            }
            "request.reassigned" => requests.get_mut(field(v, "request_id")).unwrap().assigned.push((at, field(v, "performer_id").into())),
            "request.closed" => {
                let s = requests.get_mut(field(v, "request_id")).unwrap();
                s.closed.push((at, field(v, "performer_id").into(), field(v, "closed_in").into()));
            }
            "request.reopened" => requests.get_mut(field(v, "request_id")).unwrap().reopened.push(at),
            _ => {}
        }
    }
    let (mut reassigned, mut reopened) = (0, 0);
    for (id, s) in &requests {
        let norm = CATEGORIES.iter().find(|c| c.0 == s.category).unwrap_or_else(|| panic!("category of {id}")).1;
        assert_eq!(s.due_by - s.created, norm * 3_600_000, "{id}");
        assert!(s.assigned.len() <= 2 && s.closed.len() <= 2 && s.reopened.len() <= 1, "{id}: {s:?}");
        for pair in s.assigned.windows(2) {
            assert!(pair[0].0 < pair[1].0 && pair[0].1 != pair[1].1, "{id}: {s:?}");
            assert_eq!(departments[&pair[1].1], s.department, "reassigned within the department: {id}");
            reassigned += 1;
        }
        assert_eq!(departments[&s.assigned[0].1], s.department);
        let current = s.assigned.last().unwrap();
        if let Some((first, by, closed_in)) = s.closed.first() {
            assert!(*first > current.0, "{id}: closed before its (re)assignment {s:?}");
            assert_eq!(by, &current.1, "{id}: closed by the current performer");
            assert!(closed_in == "app" || closed_in == "desk");
        }
        if let Some(r) = s.reopened.first() {
            reopened += 1;
            assert!(*r > s.closed[0].0 && *r - s.closed[0].0 <= 7 * DAY_MS, "{id}: reopened within 7 days {s:?}");
            if let Some((again, by, _)) = s.closed.get(1) {
                assert!(again > r && by == &s.closed[0].1, "{id}: closed again later by the same performer {s:?}");
            }
        } else {
            assert!(s.closed.len() <= 1, "{id}: {s:?}");
        }
    }
    assert!(reassigned > 20 && reopened > 5, "{reassigned} reassigned, {reopened} reopened");
    // Feedback follows the final closure, names the request's client, and critics are followed up by the site's manager.
    let mut critics = HashMap::new();
    for v in &events {
        let at = time(v, "occurred_at");
        let s = &requests[&request_of(v)];
        let closed = s.closed.last().map(|c| c.0);
        match type_of(v) {
            "survey.answered" => {
                assert!(closed.is_some_and(|c| c < at), "{v}");
                assert_eq!(field(v, "client_id"), s.client);
                let overall = v["answers"][0]["score"].as_u64().unwrap();
                critics.insert(field(v, "survey_id").to_string(), (at, overall <= 2 && v.get("comment").is_some(), overall));
            }
            "nps.submitted" => {
                assert!(closed.is_some_and(|c| c < at), "{v}");
                assert_eq!(field(v, "customer_id"), s.client);
                let critic = v["score"].as_u64().unwrap() <= 6 && v.get("comment").is_some();
                critics.insert(field(v, "response_id").to_string(), (at, critic, 0));
            }
            _ => {}
        }
    }
    let (mut followed, mut excluded) = (HashSet::new(), 0);
    for v in &events {
        let at = time(v, "occurred_at");
        match type_of(v) {
            "critic.followed_up" => {
                let critic = v["survey_id"].as_str().or(v["response_id"].as_str()).unwrap();
                let (t, is_critic, _) = critics[critic];
                assert!(is_critic && t < at && at - t <= 2 * DAY_MS, "{v}");
                assert_eq!(field(v, "followed_up_by"), managers[&requests[&request_of(v)].site]);
                assert!(followed.insert(critic.to_string()), "followed up twice: {v}");
            }
            "feedback.excluded" => {
                let (t, _, overall) = critics[field(v, "survey_id")];
                assert!(overall <= 2 && at - t >= DAY_MS && at - t <= 2 * DAY_MS, "{v}");
                assert_eq!(field(v, "reason"), EXCLUSION_REASON);
                excluded += 1;
            }
            _ => {}
        }
    }
    let all_critics = critics.values().filter(|c| c.1).count();
    assert!(followed.len() > 10 && followed.len() < all_critics, "{} of {all_critics} critics followed up", followed.len());
    assert!(excluded > 0);
}

#[test]
fn surveys_answer_overall_and_one_to_four_questions_except_the_broken_ones() {
    let cfg = ServiceConfig { bad_surveys: 0.05, anomalies: Anomalies::none(), ..small(8) };
    let (mut valid, mut broken) = (0, [0; 4]);
    for v in json(&lines(&cfg)).iter().filter(|v| type_of(v) == "survey.answered") {
        let answers = v["answers"].as_array().unwrap();
        let ids: Vec<&str> = answers.iter().map(|a| field(a, "question_id")).collect();
        let scores: Vec<u64> = answers.iter().map(|a| a["score"].as_u64().unwrap()).collect();
        let unique: HashSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{v}");
        let too_many = answers.len() > MAX_ANSWERS;
        let no_overall = !ids.contains(&OVERALL_QUESTION);
        let out_of_range = scores.iter().any(|s| !(1..=5).contains(s));
        match (too_many, no_overall, out_of_range) {
            (false, false, false) => {
                valid += 1;
                assert!((2..=MAX_ANSWERS).contains(&answers.len()) && ids[0] == OVERALL_QUESTION, "{v}");
                assert!(ids[1..].iter().all(|q| Question::from_id(q).is_some()), "{v}");
            }
            (true, false, false) => broken[0] += 1,
            (false, true, false) => broken[1] += 1,
            (false, false, true) => broken[2 + scores.contains(&6) as usize] += 1,
            _ => panic!("a survey broken more than one way: {v}"),
        }
        assert!(matches!(field(v, "channel"), "app" | "survey"));
    }
    let share = broken.iter().sum::<u32>() as f64 / (valid + broken.iter().sum::<u32>()) as f64;
    assert!((0.03..0.07).contains(&share) && broken.iter().all(|n| *n > 0), "{valid} valid, broken {broken:?}");
}

/// Pearson's correlation of the pairs (the tests' check of the planted driver).
pub(super) fn pearson(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (mx, my) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let cov: f64 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = pairs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let vy: f64 = pairs.iter().map(|(_, y)| (y - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

#[test]
fn the_planted_driver_correlates_most_with_overall() {
    let mut planted = HashSet::new();
    for seed in [1, 2, 4] {
        // With the default noise: duplicates and broken surveys must not hide the driver either.
        let g = generate(&small(seed));
        let driver = g.planted_driver();
        planted.insert(driver);
        let mut pairs: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
        let mut seen = HashSet::new();
        for line in g {
            let Ok(v) = serde_json::from_str::<Value>(&line) else { continue };
            if type_of(&v) != "survey.answered" || !seen.insert(field(&v, "event_id").to_string()) {
                continue;
            }
            let answers: Vec<(&str, u64)> =
                v["answers"].as_array().unwrap().iter().map(|a| (field(a, "question_id"), a["score"].as_u64().unwrap())).collect();
            let Some(&(_, overall)) = answers.iter().find(|a| a.0 == OVERALL_QUESTION) else { continue };
            if answers.len() > MAX_ANSWERS || answers.iter().any(|a| !(1..=5).contains(&a.1)) {
                continue;
            }
            for (q, s) in answers.iter().filter(|a| a.0 != OVERALL_QUESTION) {
                pairs.entry(q.to_string()).or_default().push((*s as f64, overall as f64));
            }
        }
        let mut r: Vec<(String, f64, usize)> = pairs.iter().map(|(q, p)| (q.clone(), pearson(p), p.len())).collect();
        r.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(r.len(), 4, "{r:?}");
        assert_eq!(r[0].0, driver, "seed {seed}: {r:?}");
        assert!(r[0].1 > r[1].1 + 0.2, "seed {seed}: a clear driver {r:?}");
        assert!(r[0].2 > r[1].2 && r[0].2 > 500, "seed {seed}: the driver is asked most {r:?}");
    }
    assert!(planted.len() >= 2, "different seeds plant different drivers: {planted:?}");
    let fixed = generate(&ServiceConfig { driver: Some(Question::Cleanliness), ..small(1) });
    assert_eq!((fixed.planted_driver(), fixed.planted_question()), ("cleanliness", Question::Cleanliness));
}

#[test]
fn counts_and_rates_are_as_configured() {
    let cfg = quiet(ServiceConfig { departments: 6, performers_per_department: 8, days: 28, ..small(9) });
    let g = generate(&cfg);
    let tiers: HashMap<String, Tier> = g.performers().map(|(p, _, t)| (p, t)).collect();
    assert_eq!(tiers.len(), 48);
    assert_eq!(g.sites().count(), 8);
    let events = json(&g.collect::<Vec<_>>());
    let count = |t: &str| events.iter().filter(|v| type_of(v) == t).count() as f64;
    let (created, closures) = (count("request.created"), count("request.closed"));
    // Four weeks of 4 requests per performer and weekday: Monday 1.1, Tuesday to Thursday 1, Friday 0.9, Saturday 0.4, Sunday none.
    let expected = 48.0 * 4.0 * 4.0 * (1.1 + 3.0 + 0.9 + 0.4);
    assert!((created / expected - 1.0).abs() < 0.15, "{created} requests, expected about {expected}");
    let closed: HashMap<&str, &Value> = events.iter().filter(|v| type_of(v) == "request.closed").map(|v| (field(v, "request_id"), v)).collect();
    let n = closed.len() as f64;
    let share = |what: &str, x: f64, lo: f64, hi: f64| assert!((lo..hi).contains(&x), "{what}: {x}");
    share("closed", n / created, 0.9, 1.0);
    share("reassigned", count("request.reassigned") / created, 0.08, 0.12);
    share("closed in the app", events.iter().filter(|v| v["closed_in"] == "app").count() as f64 / closures, 0.65, 0.75);
    share("reopened", count("request.reopened") / n, 0.03, 0.07);
    share("surveyed", count("survey.answered") / n, 0.42, 0.56);
    share("nps", count("nps.submitted") / n, 0.17, 0.23);
    share("excluded", count("feedback.excluded"), 5.0, 200.0);
    // Better tiers close on time more often and are rated higher.
    let mut by_tier: HashMap<bool, (f64, f64, f64, f64)> = HashMap::new();
    let mut created_at: HashMap<&str, (i64, &str)> = HashMap::new();
    for v in events.iter().filter(|v| type_of(v) == "request.created") {
        created_at.insert(field(v, "request_id"), (time(v, "due_by"), field(v, "performer_id")));
    }
    let good = |performer: &str| tiers[performer] <= Tier::Good;
    let mut closer: HashMap<&str, &str> = HashMap::new();
    for v in events.iter().filter(|v| type_of(v) == "request.closed" && !field(v, "event_id").ends_with("again")) {
        let id = field(v, "request_id");
        closer.insert(id, field(v, "performer_id"));
        let t = by_tier.entry(good(field(v, "performer_id"))).or_default();
        t.0 += (time(v, "occurred_at") <= created_at[id].0) as u8 as f64;
        t.1 += 1.0;
    }
    for v in events.iter().filter(|v| type_of(v) == "survey.answered") {
        let t = by_tier.entry(good(closer[field(v, "request_id")])).or_default();
        t.2 += v["answers"][0]["score"].as_f64().unwrap();
        t.3 += 1.0;
    }
    let ((good_on_time, good_csat), (weak_on_time, weak_csat)) = (rates(&by_tier, true), rates(&by_tier, false));
    assert!(good_on_time > weak_on_time + 0.03 && good_on_time > 0.9, "on time {good_on_time} vs {weak_on_time}");
    assert!(good_csat > weak_csat + 0.3 && good_csat > 4.0, "overall {good_csat} vs {weak_csat}");
}

fn rates(by_tier: &HashMap<bool, (f64, f64, f64, f64)>, good: bool) -> (f64, f64) {
    let t = by_tier[&good];
    (t.0 / t.1, t.2 / t.3)
}

#[test]
fn duplicates_keep_their_event_id_and_bytes() {
    let cfg =
        ServiceConfig { anomalies: Anomalies { malformed: 0.0, duplicates: 0.05, out_of_order: 0.05, too_late: 0.0 }, bad_surveys: 0.0, ..small(10) };
    let text = lines(&cfg);
    let mut by_id: HashMap<String, Vec<&String>> = HashMap::new();
    for (l, v) in text.iter().zip(json(&text)) {
        by_id.entry(field(&v, "event_id").to_string()).or_default().push(l);
    }
    let dup = by_id.values().filter(|ls| ls.len() > 1).count() as f64 / by_id.len() as f64;
    assert!((0.04..0.06).contains(&dup), "{dup}");
    assert!(by_id.values().all(|ls| ls.iter().all(|l| *l == ls[0])), "a re-sent event is the same line");
}

#[test]
fn degenerate_configs_are_empty_or_quiet_not_panics() {
    assert_eq!(generate(&ServiceConfig { departments: 0, ..small(1) }).count(), 0);
    assert_eq!(generate(&ServiceConfig { days: 0, ..small(1) }).count(), 0);
    assert_eq!(generate(&ServiceConfig { performers_per_department: 0, ..small(1) }).count(), 0);
    assert_eq!(generate(&ServiceConfig { requests_per_performer_day: f64::NAN, ..small(1) }).count(), 0);
    let tiny = ServiceConfig { sites: 0, clients: 0, performers_per_department: 1, bad_surveys: f64::NAN, ..small(1) };
    assert!(generate(&tiny).all(|l| !l.contains("site-02") && !l.contains("client-00002")));
    assert_eq!(generate(&ServiceConfig { start: chrono::NaiveDate::MAX, days: 3, ..small(1) }).count(), 0);
}

/// Once the contract decodes service events (in parallel work), every valid line must decode
/// and every broken line and broken survey be rejected; until then this test has nothing to check.
#[test]
fn valid_lines_decode_and_broken_ones_are_rejected() {
    let cfg = ServiceConfig { anomalies: Anomalies { malformed: 0.05, ..Anomalies::default() }, bad_surveys: 0.05, ..small(11) };
    let (facts, g) = pending(&cfg);
    let (mut valid, mut broken) = (0, 0);
    for (fact, mangle) in &facts {
        let text = format::line(fact, *mangle, &g.ctx);
        let bad = matches!(fact.kind, Kind::Survey { bad, .. } if bad != BadSurvey::None);
        match (*mangle == Mangle::None && !bad, decode(text.as_bytes())) {
            (true, Ok(e)) => {
                assert_eq!(e, expected(fact), "{text}");
                valid += 1;
            }
            (true, Err(r)) => panic!("{text}: {r}"),
            (false, Ok(_)) => panic!("broken line accepted: {text}"),
            (false, Err(_)) => broken += 1,
        }
    }
    assert!(valid > 1000 && broken > 50, "{valid} valid, {broken} broken");
}

/// Release-mode throughput: `cargo test --release --lib generate::service::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    for cfg in [ServiceConfig::default(), ServiceConfig { departments: 100, performers_per_department: 20, days: 56, ..ServiceConfig::default() }] {
        let started = std::time::Instant::now();
        let (mut n, mut bytes) = (0u64, 0u64);
        for l in generate(&cfg) {
            n += 1;
            bytes += l.len() as u64 + 1;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{} departments x {} performers x {} days: {n} lines, {} MB, {secs:.2} s, {:.0} lines/s",
            cfg.departments,
            cfg.performers_per_department,
            cfg.days,
            bytes / 1_000_000,
            n as f64 / secs
        );
    }
}
