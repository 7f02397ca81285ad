//! Acting on quality (docs/methodology.md section 10), on hand-built events with exact
//! expectations: every ladder transition, every survey rule, every critic state, and that
//! none of them depends on restarts or on how events interleave within the lateness.

mod common;

use common::{cell, event, final_row, run_lines};
use quality_engine::actions::{CriticRecord, CriticStatus, Escalation, Rule, Stage, SurveyRequest, WeekReasons};
use quality_engine::contract::RejectReason;
use quality_engine::methodology::{MetricId, Status};
use quality_engine::window::Cadence;
use quality_engine::{Engine, EngineConfig, Output};
use serde_json::json;
use std::collections::BTreeMap;

fn created(id: &str, at: &str, order: &str, customer: &str) -> String {
    event(id, "order.created", at, "s1", json!({"order_id": order, "customer_id": customer, "ship_by": "2030-01-01T00:00:00Z"}))
}

fn step(id: &str, kind: &str, at: &str, order: &str) -> String {
    event(id, kind, at, "s1", json!({"order_id": order}))
}

fn review(id: &str, at: &str, order: &str, rating: u8, comment: Option<&str>) -> String {
    let mut f = json!({"review_id": id, "order_id": order, "customer_id": "c", "rating": rating, "channel": "app"});
    if let Some(c) = comment {
        f["comment"] = json!(c);
    }
    event(id, "review.submitted", at, "s1", f)
}

fn nps(id: &str, at: &str, score: u8, comment: Option<&str>) -> String {
    let mut f = json!({"response_id": id, "customer_id": "c", "score": score});
    if let Some(c) = comment {
        f["comment"] = json!(c);
    }
    event(id, "nps.submitted", at, "s1", f)
}

fn follow_up(id: &str, at: &str, field: &str, critic: &str) -> String {
    event(id, "critic.followed_up", at, "s1", json!({ field: critic }))
}

/// A day event that keeps the clock moving (an audit: affects no metric used below).
fn tick(id: &str, at: &str) -> String {
    event(id, "inquiry.resolved", at, "s9", json!({"inquiry_id": id, "first_contact": true}))
}

fn surveys(out: &[Output]) -> Vec<&SurveyRequest> {
    out.iter().filter_map(|o| if let Output::SurveyRequest(s) = o { Some(s) } else { None }).collect()
}

fn escalations(out: &[Output]) -> Vec<&Escalation> {
    out.iter().filter_map(|o| if let Output::Escalation(e) = o { Some(e) } else { None }).collect()
}

/// The latest state of every critic (records are upserts by id, highest version wins).
fn critics(out: &[Output]) -> BTreeMap<String, &CriticRecord> {
    let mut m: BTreeMap<String, &CriticRecord> = BTreeMap::new();
    for o in out {
        if let Output::Critic(c) = o {
            if m.get(c.critic_id.as_str()).is_none_or(|old| old.version < c.version) {
                m.insert(c.critic_id.to_string(), c);
            }
        }
    }
    m
}

fn coverage(out: &[Output], day: &str) -> (f64, i64) {
    let c = cell(final_row(out, "s1", Cadence::Day, day), MetricId::SurveyCoverageShare);
    (c.numerator, c.denominator)
}

#[test]
fn a_delivered_order_without_a_review_gets_one_survey_24h_after_delivery() {
    let lines = vec![
        created("e1", "2026-11-16T10:00:00Z", "o1", "c1"),
        step("e2", "order.delivered", "2026-11-17T09:00:00Z", "o1"),
        tick("t1", "2026-11-21T00:00:00Z"),
    ];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let s = surveys(&out);
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].survey_id.as_str(), s[0].customer_id.as_str()), ("s1/o1", "c1"));
    assert_eq!(s[0].delivered_at.to_string(), "2026-11-17T09:00:00.000Z");
    assert_eq!(s[0].requested_at.to_string(), "2026-11-18T09:00:00.000Z", "no later than 24 h after delivery");
    assert_eq!(coverage(&out, "2026-11-18"), (1.0, 1), "covered, on the day of the decision (Moscow time)");
}

#[test]
fn a_review_by_the_decision_time_spares_the_survey_a_later_one_does_not() {
    let lines = vec![
        created("e1", "2026-11-16T10:00:00Z", "o1", "c1"),
        created("e2", "2026-11-16T10:00:00Z", "o2", "c2"),
        step("e3", "order.delivered", "2026-11-17T09:00:00Z", "o1"),
        step("e4", "order.delivered", "2026-11-17T09:00:00Z", "o2"),
        review("r1", "2026-11-18T09:00:00Z", "o1", 5, None),
        review("r2", "2026-11-18T09:00:01Z", "o2", 5, None),
        tick("t1", "2026-11-21T00:00:00Z"),
    ];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let ids: Vec<&str> = surveys(&out).iter().map(|s| s.order_id.as_str()).collect();
    assert_eq!(ids, ["o2"], "o1 reviewed exactly at the due time; o2 one second after");
    assert_eq!(coverage(&out, "2026-11-18"), (2.0, 2));
}

#[test]
fn cancelled_orders_are_never_surveyed_and_not_eligible() {
    let lines = vec![
        created("e1", "2026-11-16T10:00:00Z", "o1", "c1"),
        step("e2", "order.delivered", "2026-11-17T09:00:00Z", "o1"),
        event("e3", "order.cancelled", "2026-11-17T20:00:00Z", "s1", json!({"order_id": "o1", "cancelled_by": "customer"})),
        tick("t1", "2026-11-21T00:00:00Z"),
    ];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    assert!(surveys(&out).is_empty());
    let week = cell(final_row(&out, "s1", Cadence::Week, "2026-11-16"), MetricId::SurveyCoverageShare);
    assert_eq!((week.numerator, week.denominator), (0.0, 0));
}

#[test]
fn a_customer_is_surveyed_at_most_once_in_30_days() {
    let mut lines = Vec::new();
    for (i, day) in ["2026-11-02", "2026-11-20", "2026-12-01", "2026-12-03"].iter().enumerate() {
        lines.push(created(&format!("c{i}"), &format!("{day}T08:00:00Z"), &format!("o{i}"), "same"));
        lines.push(step(&format!("d{i}"), "order.delivered", &format!("{day}T09:00:00Z"), &format!("o{i}")));
    }
    lines.push(tick("t1", "2026-12-10T00:00:00Z"));
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let ids: Vec<&str> = surveys(&out).iter().map(|s| s.order_id.as_str()).collect();
    assert_eq!(ids, ["o0", "o3"], "o1 and o2 are decided 18 and 29 days after o0's request; o3 31 days after");
    let week = cell(final_row(&out, "s1", Cadence::Week, "2026-11-16"), MetricId::SurveyCoverageShare);
    assert_eq!((week.numerator, week.denominator), (0.0, 0), "o1 was not eligible: its customer was asked 18 days before");
}

#[test]
fn an_order_whose_customer_is_unknown_is_eligible_but_not_covered() {
    let lines = vec![step("e1", "order.delivered", "2026-11-17T09:00:00Z", "ghost"), tick("t1", "2026-11-21T00:00:00Z")];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    assert!(surveys(&out).is_empty());
    let c = cell(final_row(&out, "s1", Cadence::Day, "2026-11-18"), MetricId::SurveyCoverageShare);
    assert_eq!((c.numerator, c.denominator, c.status), (0.0, 1, Status::Fail));
}

/// Every survey request and critic state of a run, as comparable text.
fn acted(out: &[Output]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let s = surveys(out).iter().map(|s| serde_json::to_string(s).unwrap()).collect();
    let c = critics(out).values().map(|c| serde_json::to_string(c).unwrap()).collect();
    let e = escalations(out).iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    (s, c, e)
}

fn mixed_stream() -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..40 {
        let day = 2 + i * 25 / 40;
        let at = |h: u32| format!("2026-11-{day:02}T{h:02}:00:00Z");
        let o = format!("o{i}");
        lines.push(created(&format!("c{i}"), &at(1), &o, &format!("cust{}", i % 7)));
        lines.push(step(&format!("d{i}"), "order.delivered", &at(5), &o));
        if i % 3 == 0 {
            lines.push(review(&format!("r{i}"), &at(20), &o, (i % 5 + 1) as u8, Some("late and broken")));
        }
        if i % 4 == 0 {
            lines.push(follow_up(&format!("f{i}"), &at(22), "review_id", &format!("r{i}")));
        }
        lines.push(nps(&format!("n{i}"), &at(3), (i % 11) as u8, (i % 2 == 0).then_some("meh")));
    }
    lines.push(tick("t1", "2026-12-20T00:00:00Z"));
    lines
}

#[test]
fn restarting_from_a_checkpoint_changes_no_survey_critic_or_escalation() {
    let lines = mixed_stream();
    let (whole, _, _) = run_lines(EngineConfig::default(), &lines);
    for cut in [10, 45, 90, lines.len() - 1] {
        let mut a = Engine::new(EngineConfig::default());
        for l in &lines[..cut] {
            a.ingest(l.as_bytes());
        }
        let mut out = Vec::new();
        let bytes = a.checkpoint(&mut out);
        let mut b = Engine::restore(EngineConfig::default(), &bytes).expect("restores");
        for l in &lines[cut..] {
            b.ingest(l.as_bytes());
        }
        b.finish(&mut out);
        assert_eq!(acted(&out), acted(&whole), "cut after {cut} events");
    }
}

#[test]
fn survey_decisions_do_not_depend_on_arrival_order_within_the_lateness() {
    let lines = mixed_stream();
    let (base, _, _) = run_lines(EngineConfig::default(), &lines);
    // Reverse each block of 6 lines: reorders events by up to ~a day, within the 48 h lateness.
    let mut shuffled = Vec::new();
    for chunk in lines[..lines.len() - 1].chunks(6) {
        shuffled.extend(chunk.iter().rev().cloned());
    }
    shuffled.push(lines.last().unwrap().clone());
    let (other, _, _) = run_lines(EngineConfig::default(), &shuffled);
    assert_eq!(acted(&other).0, acted(&base).0, "survey requests");
    assert_eq!(acted(&other).1, acted(&base).1, "critic states");
    assert!(!acted(&base).0.is_empty() && !acted(&base).1.is_empty());
}

#[test]
fn critics_move_through_their_states() {
    let lines = vec![
        review("in-time", "2026-11-16T10:00:00Z", "o1", 2, Some("arrived broken")),
        review("late", "2026-11-16T11:00:00Z", "o2", 1, Some("never again")),
        nps("overdue", "2026-11-16T12:00:00Z", 4, Some("slow")),
        follow_up("f0", "2026-11-16T09:00:00Z", "response_id", "early"),
        nps("early", "2026-11-16T08:00:00Z", 6, Some("meh")),
        follow_up("f1", "2026-11-18T10:00:00Z", "review_id", "in-time"),
        review("no-comment", "2026-11-16T10:00:00Z", "o3", 1, None),
        review("blank", "2026-11-16T10:00:00Z", "o4", 3, Some("   ")),
        review("happy", "2026-11-16T10:00:00Z", "o5", 4, Some("fine")),
        nps("passive", "2026-11-16T10:00:00Z", 7, Some("ok")),
        tick("t1", "2026-11-18T12:00:00Z"),
        follow_up("f2", "2026-11-18T12:00:00Z", "review_id", "late"),
        tick("t2", "2026-11-21T00:00:00Z"),
    ];
    let (out, verdicts, _) = run_lines(EngineConfig::default(), &lines);
    assert!(verdicts.iter().all(|v| matches!(v, quality_engine::Verdict::Accepted(_))), "{verdicts:?}");
    let c = critics(&out);
    let status: BTreeMap<&str, CriticStatus> = c.iter().map(|(k, v)| (k.as_str(), v.status)).collect();
    let expected = BTreeMap::from([
        ("nps:early", CriticStatus::AnsweredInTime),
        ("nps:overdue", CriticStatus::Overdue),
        ("review:in-time", CriticStatus::AnsweredInTime),
        ("review:late", CriticStatus::AnsweredLate),
    ]);
    assert_eq!(status, expected, "blank or missing comments, rating 4 and NPS 7 are not critics");
    assert_eq!(c["review:in-time"].due_at.to_string(), "2026-11-18T10:00:00.000Z", "48 h SLA; a follow-up exactly at it is in time");
    // Settled on 2026-11-18 (Moscow): one answered in time that day, two missed (one answered
    // late); the NPS critic was answered in time on 2026-11-16.
    let m = cell(final_row(&out, "s1", Cadence::Day, "2026-11-18"), MetricId::CriticFollowupShare);
    assert_eq!((m.numerator, m.denominator, m.overdue, m.status), (1.0, 3, 2, Status::Fail));
    let m = cell(final_row(&out, "s1", Cadence::Day, "2026-11-16"), MetricId::CriticFollowupShare);
    assert_eq!((m.numerator, m.denominator, m.overdue, m.status), (1.0, 1, 0, Status::Pass));
    let open = {
        let (out, _, _) = run_lines(EngineConfig::default(), &lines[..3]);
        critics(&out).values().map(|c| c.status).collect::<Vec<_>>()
    };
    assert_eq!(open, [CriticStatus::Open, CriticStatus::Open, CriticStatus::Open], "before their deadline");
}

#[test]
fn an_in_time_follow_up_arriving_after_the_deadline_fired_withdraws_the_overdue() {
    let lines = vec![
        review("v", "2026-11-16T10:00:00Z", "o1", 2, Some("bad")),
        tick("t1", "2026-11-18T11:00:00Z"),
        follow_up("f", "2026-11-18T09:00:00Z", "review_id", "v"),
        tick("t2", "2026-11-21T00:00:00Z"),
    ];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let m = cell(final_row(&out, "s1", Cadence::Day, "2026-11-18"), MetricId::CriticFollowupShare);
    assert_eq!((m.numerator, m.denominator, m.overdue), (1.0, 1, 0));
    let states: Vec<CriticStatus> = out.iter().filter_map(|o| if let Output::Critic(c) = o { Some(c.status) } else { None }).collect();
    assert_eq!(states, [CriticStatus::Open, CriticStatus::Overdue, CriticStatus::AnsweredInTime]);
}

#[test]
fn a_follow_up_without_a_critic_is_dead_lettered_with_its_reason() {
    let lines = vec![follow_up("f", "2026-11-16T09:00:00Z", "review_id", "nobody"), tick("t", "2026-11-17T00:00:00Z")];
    let (out, _, engine) = run_lines(EngineConfig::default(), &lines);
    let dead: Vec<_> = out.iter().filter_map(|o| if let Output::DeadLetter(d) = o { Some(d) } else { None }).collect();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason, RejectReason::FollowupWithoutCritic);
    assert!(dead[0].payload.as_deref().unwrap().contains("review:nobody"));
    assert_eq!(engine.stats().rejected(RejectReason::FollowupWithoutCritic), 1);
}

/// One NPS answer per ISO week from 2026-01-05: 'F' scores 0 (NPS -100, fails), 'P' 10 (passes), '.' nothing.
fn weeks(pattern: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, c) in pattern.chars().enumerate() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 7).unwrap() + chrono::Duration::weeks(i as i64);
        let at = format!("{day}T10:00:00Z");
        match c {
            'F' => lines.push(nps(&format!("n{i}"), &at, 0, None)),
            'P' => lines.push(nps(&format!("n{i}"), &at, 10, None)),
            _ => lines.push(tick(&format!("t{i}"), &at)),
        }
    }
    lines
}

#[test]
fn the_escalation_ladder_takes_every_documented_step() {
    let (out, _, _) = run_lines(EngineConfig::default(), &weeks("FFFFPFFPPFPP.FFF"));
    let got: Vec<(String, Stage, Stage, Rule, u32, Option<String>)> = escalations(&out)
        .iter()
        .map(|e| (e.week_start.to_string(), e.from, e.to, e.rule, e.failed_weeks, e.deadline.map(|d| d.to_string())))
        .collect();
    use Rule::*;
    use Stage::*;
    let w = |s: &str| s.to_owned();
    assert_eq!(
        got,
        vec![
            (w("2026-01-05"), Ok, Warning, StandardFailed, 1, None),
            (w("2026-01-19"), Warning, ImprovementPlan, Systematic, 3, Some(w("2026-02-16"))),
            (w("2026-02-16"), ImprovementPlan, Sanction1, DeadlineMissed, 3, Some(w("2026-03-16"))),
            (w("2026-03-02"), Sanction1, Ok, Recovered, 2, None),
            (w("2026-03-09"), Ok, Warning, StandardFailed, 1, None),
            (w("2026-03-23"), Warning, Ok, Recovered, 1, None),
            (w("2026-04-06"), Ok, Warning, StandardFailed, 1, None),
            (w("2026-04-20"), Warning, ImprovementPlan, Systematic, 3, Some(w("2026-05-18"))),
        ]
    );
    let first = escalations(&out)[0];
    assert_eq!(first.escalation_id, "s1/2026-01-05");
    assert_eq!(first.standards, [MetricId::Nps]);
    assert_eq!((first.evidence[0].value, first.evidence[0].target, first.evidence[0].status), (Some(-100.0), 60.0, Status::Fail));
}

#[test]
fn sanctions_climb_to_suspension_and_stop_there() {
    let (out, _, _) = run_lines(EngineConfig::default(), &weeks(&"F".repeat(20)));
    let stages: Vec<(String, Stage)> = escalations(&out).iter().map(|e| (e.week_start.to_string(), e.to)).collect();
    assert_eq!(
        stages,
        [
            ("2026-01-05".into(), Stage::Warning),
            ("2026-01-19".into(), Stage::ImprovementPlan),
            ("2026-02-16".into(), Stage::Sanction1),
            ("2026-03-16".into(), Stage::Sanction2),
            ("2026-04-13".into(), Stage::Sanction3),
        ]
    );
    assert_eq!(escalations(&out).last().unwrap().deadline, None, "suspension has no next step");
}

#[test]
fn negative_review_reasons_are_tallied_per_week() {
    let r = |id: &str, rating: u8, reasons: &[&str]| {
        event(
            id,
            "review.submitted",
            "2026-11-17T10:00:00Z",
            "s1",
            json!({"review_id": id, "order_id": id, "customer_id": "c", "rating": rating, "channel": "app", "reasons": reasons}),
        )
    };
    let lines = vec![r("a", 1, &["late", "damaged"]), r("b", 2, &["late"]), r("c", 3, &[]), r("d", 5, &["late"])];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let w: Vec<&WeekReasons> = out.iter().filter_map(|o| if let Output::Reasons(w) = o { Some(w) } else { None }).collect();
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].week_start.to_string().as_str(), w[0].negative_reviews), ("2026-11-16", 3));
    let shares: Vec<(&str, u32, f64)> = w[0].reasons.iter().map(|r| (r.reason.as_str(), r.count, r.share)).collect();
    assert_eq!(shares, [("late", 2, 2.0 / 3.0), ("damaged", 1, 1.0 / 3.0)]);
}
