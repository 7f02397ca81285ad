//! Worked examples of docs/methodology.md, one test per rule, on hand-built events.

mod common;

use common::{cell, event, final_row, run_lines};
use quality_engine::contract::RejectReason;
use quality_engine::methodology::{MetricId, Status};
use quality_engine::output::FINAL_VERSION;
use quality_engine::window::Cadence;
use quality_engine::{Engine, EngineConfig, Output, Verdict};
use serde_json::json;

fn created(id: &str, at: &str, order: &str, ship_by: &str) -> String {
    event(id, "order.created", at, "s1", json!({"order_id": order, "customer_id": "c", "ship_by": ship_by}))
}

fn step(id: &str, kind: &str, at: &str, order: &str) -> String {
    event(id, kind, at, "s1", json!({"order_id": order}))
}

fn review(id: &str, at: &str, rating: u8) -> String {
    event(id, "review.submitted", at, "s1", json!({"review_id": id, "order_id": "o", "customer_id": "c", "rating": rating, "channel": "app"}))
}

fn nps(id: &str, at: &str, score: u8) -> String {
    event(id, "nps.submitted", at, "s1", json!({"response_id": id, "customer_id": "c", "score": score}))
}

#[test]
fn satisfaction_metrics_follow_their_formulas() {
    let lines = vec![
        review("r1", "2026-11-16T10:00:00+03:00", 5),
        review("r2", "2026-11-17T10:00:00+03:00", 4),
        review("r3", "2026-11-18T10:00:00+03:00", 3),
        nps("n1", "2026-11-16T10:00:00+03:00", 10),
        nps("n2", "2026-11-16T11:00:00+03:00", 9),
        nps("n3", "2026-11-16T12:00:00+03:00", 7),
        nps("n4", "2026-11-16T13:00:00+03:00", 3),
    ];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let week = final_row(&out, "s1", Cadence::Week, "2026-11-16");
    let csi = cell(week, MetricId::Csi);
    assert_eq!((csi.numerator, csi.denominator, csi.value), (12.0, 3, Some(4.0)));
    assert_eq!(csi.status, Status::Fail);
    assert_eq!(csi.deviation, Some(4.0 - 4.5));
    let pos = cell(week, MetricId::PositiveReviewShare);
    assert_eq!((pos.numerator, pos.denominator), (2.0, 3));
    let n = cell(week, MetricId::Nps);
    assert_eq!((n.numerator, n.denominator, n.value), (1.0, 4, Some(25.0)));
    let day = final_row(&out, "s1", Cadence::Day, "2026-11-16");
    assert!(day.metrics.iter().all(|c| c.metric != MetricId::Csi), "daily rows carry no base standards");
}

#[test]
fn durations_count_on_the_completing_day_in_local_time() {
    // Created 23:30 Moscow on the 16th, confirmed 00:30 on the 17th: counted on the 17th.
    let lines = vec![
        created("e1", "2026-11-16T23:30:00+03:00", "o1", "2026-11-18T12:00:00+03:00"),
        step("e2", "order.confirmed", "2026-11-17T00:30:00+03:00", "o1"),
        step("e3", "order.assembled", "2026-11-17T06:30:00+03:00", "o1"),
        step("e4", "order.shipped", "2026-11-17T09:00:00+03:00", "o1"),
    ];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let d16 = final_row(&out, "s1", Cadence::Day, "2026-11-16");
    assert_eq!(cell(d16, MetricId::ConfirmationTimeAvg).denominator, 0);
    assert_eq!(cell(d16, MetricId::SellerCancellationShare).denominator, 1, "orders created count on the creation day");
    let d17 = final_row(&out, "s1", Cadence::Day, "2026-11-17");
    let c = cell(d17, MetricId::ConfirmationTimeAvg);
    assert_eq!((c.numerator, c.denominator, c.value, c.status), (3600.0, 1, Some(3600.0), Status::Pass));
    assert_eq!(cell(d17, MetricId::AssemblyTimeAvg).value, Some(6.0 * 3600.0));
    assert_eq!(cell(d17, MetricId::OnTimeHandoverShare).value, Some(1.0));
}

#[test]
fn an_unconfirmed_order_is_overdue_on_its_deadline_day_and_stays_overdue_when_confirmed_late() {
    let lines = vec![
        created("e1", "2026-11-16T10:00:00+03:00", "o1", "2026-11-18T12:00:00+03:00"),
        review("r1", "2026-11-16T12:30:00+03:00", 5),
        step("e2", "order.confirmed", "2026-11-17T13:00:00+03:00", "o1"),
    ];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let d16 = final_row(&out, "s1", Cadence::Day, "2026-11-16");
    assert_eq!(cell(d16, MetricId::ConfirmationTimeAvg).overdue, 1);
    let d17 = final_row(&out, "s1", Cadence::Day, "2026-11-17");
    let c = cell(d17, MetricId::ConfirmationTimeAvg);
    assert_eq!((c.value, c.overdue, c.status), (Some(27.0 * 3600.0), 0, Status::Fail));
    assert_eq!(cell(final_row(&out, "s1", Cadence::Week, "2026-11-16"), MetricId::ConfirmationTimeAvg).overdue, 1);
}

#[test]
fn overdue_shows_in_provisional_rows_the_same_day_and_is_withdrawn_by_an_earlier_step() {
    let mut e = Engine::new(EngineConfig::default());
    e.ingest(created("e1", "2026-11-16T10:00:00+03:00", "o1", "2026-11-18T12:00:00+03:00").as_bytes());
    e.ingest(review("r1", "2026-11-16T12:05:00+03:00", 5).as_bytes());
    let mut out = Vec::new();
    e.flush(&mut out);
    let provisional = |out: &[Output]| {
        out.iter()
            .filter_map(|o| match o {
                Output::Row(r) if r.cadence == Cadence::Day && !r.is_final => Some(r.clone()),
                _ => None,
            })
            .next_back()
            .expect("a provisional daily row")
    };
    let first = provisional(&out);
    assert_eq!(cell(&first, MetricId::ConfirmationTimeAvg).overdue, 1, "breach visible before the order is confirmed");
    out.clear();
    // The confirmation happened at 11:00 but arrives late (inside the 48 h lateness).
    e.ingest(step("e2", "order.confirmed", "2026-11-16T11:00:00+03:00", "o1").as_bytes());
    e.flush(&mut out);
    let second = provisional(&out);
    assert_eq!(cell(&second, MetricId::ConfirmationTimeAvg).overdue, 0);
    assert_eq!(cell(&second, MetricId::ConfirmationTimeAvg).value, Some(3600.0));
    assert!(second.version > first.version, "a corrected window is re-emitted with a higher version");
}

#[test]
fn seller_cancellations_over_orders_created() {
    let mut lines = Vec::new();
    for i in 0..4 {
        lines.push(created(&format!("c{i}"), "2026-11-16T10:00:00+03:00", &format!("o{i}"), "2026-11-18T12:00:00+03:00"));
    }
    lines.push(event("x1", "order.cancelled", "2026-11-16T10:30:00+03:00", "s1", json!({"order_id": "o0", "cancelled_by": "seller"})));
    lines.push(event("x2", "order.cancelled", "2026-11-16T10:40:00+03:00", "s1", json!({"order_id": "o1", "cancelled_by": "customer"})));
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let c = cell(final_row(&out, "s1", Cadence::Day, "2026-11-16"), MetricId::SellerCancellationShare);
    assert_eq!((c.numerator, c.denominator, c.value, c.status), (1.0, 4, Some(0.25), Status::Fail));
}

#[test]
fn duplicates_count_once_and_too_late_events_are_rejected_and_kept_out() {
    let lines = vec![
        review("r1", "2026-11-16T10:00:00+03:00", 5),
        review("r1", "2026-11-16T10:00:00+03:00", 5),
        review("r2", "2026-11-20T10:00:00+03:00", 1),
        // 2026-11-18T09:59 is more than 48 h before the latest event time (11-20 10:00).
        review("r3", "2026-11-18T09:59:59+03:00", 1),
        // Inside the lateness: corrects its window.
        review("r4", "2026-11-18T10:00:01+03:00", 4),
    ];
    let (out, verdicts, engine) = run_lines(EngineConfig::default(), &lines);
    assert!(matches!(verdicts[1], Verdict::Duplicate(_)));
    match &verdicts[3] {
        Verdict::Rejected(r) => assert_eq!(r.reason, RejectReason::TooLate),
        v => panic!("expected too_late, got {v:?}"),
    }
    assert!(matches!(verdicts[4], Verdict::Accepted(_)));
    let csi = cell(final_row(&out, "s1", Cadence::Week, "2026-11-16"), MetricId::Csi);
    assert_eq!((csi.numerator, csi.denominator), (10.0, 3));
    assert_eq!(engine.stats().rejected(RejectReason::TooLate), 1);
    assert_eq!(engine.stats().duplicates_total(), 1);
}

#[test]
fn previous_period_and_change_give_the_dynamics() {
    let lines = vec![review("r1", "2026-11-10T10:00:00+03:00", 3), review("r2", "2026-11-17T10:00:00+03:00", 5)];
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let c = cell(final_row(&out, "s1", Cadence::Week, "2026-11-16"), MetricId::Csi);
    assert_eq!((c.previous, c.change), (Some(3.0), Some(2.0)));
    let r = final_row(&out, "s1", Cadence::Rolling7d, "2026-11-11");
    assert_eq!(r.period_end, "2026-11-18");
    assert_eq!(cell(r, MetricId::Csi).value, Some(5.0), "the review of the 10th left the 7-day window ending the 17th");
}

#[test]
fn final_rows_have_the_final_version_and_month_rows_a_rank() {
    let mut lines = vec![review("a1", "2026-11-16T10:00:00+03:00", 5)];
    lines.push(event(
        "b1",
        "review.submitted",
        "2026-11-16T10:00:00+03:00",
        "s2",
        json!({"review_id": "b1", "order_id": "o", "customer_id": "c", "rating": 1, "channel": "survey"}),
    ));
    let (out, _, _) = run_lines(EngineConfig::default(), &lines);
    let m1 = final_row(&out, "s1", Cadence::Month, "2026-11-01");
    let m2 = final_row(&out, "s2", Cadence::Month, "2026-11-01");
    assert_eq!(m1.version, FINAL_VERSION);
    let (c1, c2) = (m1.composite.as_ref().unwrap(), m2.composite.as_ref().unwrap());
    assert_eq!((c1.rank, c2.rank, c1.ranked_sellers), (Some(1), Some(2), Some(2)));
    assert!(c1.score > c2.score);
}

#[test]
fn shrinkage_example_from_the_methodology() {
    // Two reviews at 5.0: shrunk CSI = (2*5 + 10*4.5) / 12.
    let s = quality_engine::methodology::Standards::default();
    let score = quality_engine::methodology::metric_score(MetricId::Csi, 10, 2, &s);
    let shrunk = (2.0 * 5.0 + 10.0 * 4.5) / 12.0;
    assert!((score - (shrunk - 3.0) / 2.0).abs() < 1e-12);
}

#[test]
fn dst_days_in_berlin_are_23_and_25_hours() {
    let config = EngineConfig { timezone: chrono_tz::Europe::Berlin, ..EngineConfig::default() };
    // 2026-10-25 is 25 h long: an event at 23:30 local (22:30 UTC) is still on the 25th.
    let lines = vec![
        event("i1", "inquiry.resolved", "2026-10-25T22:30:00Z", "s1", json!({"inquiry_id": "i1", "first_contact": true})),
        event("i2", "inquiry.resolved", "2026-10-25T23:30:00Z", "s1", json!({"inquiry_id": "i2", "first_contact": false})),
    ];
    let (out, _, _) = run_lines(config, &lines);
    assert_eq!(cell(final_row(&out, "s1", Cadence::Day, "2026-10-25"), MetricId::FirstContactResolutionShare).value, Some(1.0));
    assert_eq!(cell(final_row(&out, "s1", Cadence::Day, "2026-10-26"), MetricId::FirstContactResolutionShare).value, Some(0.0));
}

#[test]
fn orphans_and_bad_events_are_rejected_with_reasons_never_dropped() {
    let lines = vec![
        step("e1", "order.confirmed", "2026-11-16T10:00:00+03:00", "ghost"),
        "{not json".to_string(),
        event("e2", "order.teleported", "2026-11-16T10:00:00+03:00", "s1", json!({})),
    ];
    let (out, verdicts, engine) = run_lines(EngineConfig::default(), &lines);
    assert!(matches!(&verdicts[1], Verdict::Rejected(r) if r.reason == RejectReason::InvalidJson));
    assert!(matches!(&verdicts[2], Verdict::Rejected(r) if r.reason == RejectReason::UnknownType));
    let dead: Vec<_> = out.iter().filter_map(|o| if let Output::DeadLetter(d) = o { Some(d) } else { None }).collect();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason, RejectReason::OrderWithoutCreation);
    assert!(dead[0].payload.as_deref().unwrap_or("").contains("ghost"));
    assert_eq!(engine.stats().rejected_total(), 3);
}

#[test]
fn time_moves_without_events_a_quiet_weeks_rows_become_final() {
    use quality_engine::contract::Timestamp;
    let mut e = Engine::new(EngineConfig { clock: quality_engine::Clock::Driven, ..EngineConfig::default() });
    e.ingest(review("r1", "2026-11-18T10:00:00+03:00", 5).as_bytes());
    // A later event on one input (1) does not make another input's (0) events too late: only
    // the caller moves a driven clock. On its own input, it does (section 4).
    e.ingest_from(1, review("r2", "2026-11-22T10:00:00+03:00", 4).as_bytes());
    assert!(matches!(e.ingest(review("r3", "2026-11-17T10:00:00+03:00", 3).as_bytes()), Verdict::Accepted(_)));
    assert!(
        matches!(e.ingest_from(1, review("r4", "2026-11-19T10:00:00+03:00", 3).as_bytes()), Verdict::Rejected(r) if r.reason == RejectReason::TooLate)
    );
    let mut out = Vec::new();
    e.drain(&mut out);
    assert!(out.is_empty(), "nothing is final before the clock moves");
    // Monday 00:00 plus the 48 h lateness: the week of the 16th closes, with no event after it.
    e.advance_clock(Timestamp::parse_rfc3339("2026-11-25T00:00:00+03:00").unwrap());
    e.drain(&mut out);
    let week = final_row(&out, "s1", Cadence::Week, "2026-11-16");
    assert_eq!(cell(week, MetricId::Csi).denominator, 3);
    assert!(matches!(e.ingest(review("r4", "2026-11-22T23:00:00+03:00", 1).as_bytes()), Verdict::Rejected(r) if r.reason == RejectReason::TooLate));
}

#[test]
fn deadlines_fire_on_a_quiet_stream_when_the_clock_moves() {
    use quality_engine::contract::Timestamp;
    let mut e = Engine::new(EngineConfig::default());
    e.ingest(created("e1", "2026-11-16T10:00:00+03:00", "o1", "2026-11-18T12:00:00+03:00").as_bytes());
    e.advance_clock(Timestamp::parse_rfc3339("2026-11-16T12:01:00+03:00").unwrap());
    let mut out = Vec::new();
    e.flush(&mut out);
    let day = out
        .iter()
        .find_map(|o| match o {
            Output::Row(r) if r.cadence == Cadence::Day => Some(r),
            _ => None,
        })
        .expect("a provisional daily row");
    assert_eq!(cell(day, MetricId::ConfirmationTimeAvg).overdue, 1);
}

#[test]
fn a_month_with_data_only_on_its_first_day_still_closes() {
    let lines = vec![review("r1", "2026-01-01T10:00:00+03:00", 5), review("r2", "2026-03-10T10:00:00+03:00", 4)];
    let mut e = Engine::new(EngineConfig::default());
    let mut out = Vec::new();
    for l in &lines {
        e.ingest(l.as_bytes());
    }
    e.drain(&mut out);
    let january = final_row(&out, "s1", Cadence::Month, "2026-01-01");
    assert_eq!(cell(january, MetricId::Csi).denominator, 1, "closed while streaming, before the end of the input");
}

#[test]
fn a_further_reply_after_the_message_was_forgotten_changes_nothing() {
    let received =
        event("m1r", "message.received", "2026-11-16T10:00:00+03:00", "s1", json!({"conversation_id": "k", "message_id": "m1", "customer_id": "c"}));
    let replied =
        event("m1a", "message.replied", "2026-11-16T10:10:00+03:00", "s1", json!({"conversation_id": "k", "message_id": "m1", "reply_id": "a"}));
    let later =
        event("m1b", "message.replied", "2026-11-19T12:00:00+03:00", "s1", json!({"conversation_id": "k", "message_id": "m1", "reply_id": "b"}));
    let lines = vec![received, replied, review("r1", "2026-11-19T10:00:00+03:00", 5), review("r2", "2026-11-20T10:00:00+03:00", 5), later];
    let (out, verdicts, engine) = run_lines(EngineConfig::default(), &lines);
    assert!(verdicts.iter().all(|v| matches!(v, Verdict::Accepted(_))), "{verdicts:?}");
    assert!(!out.iter().any(|o| matches!(o, Output::DeadLetter(_))), "no orphan reply is reported");
    assert_eq!(engine.stats().rejected_total(), 0);
    let week = final_row(&out, "s1", Cadence::Week, "2026-11-16");
    assert_eq!(cell(week, MetricId::ResponseTimeAvg).denominator, 1, "only the first reply counts");
}

/// Section 15.4: on-time closure of 80 % on 50 requests against the 90 % norm scores
/// ((50 x 0.8 + 10 x 0.9) / 60 - 0.5) / 0.5 = 0.633, i.e. 12.7 of its 20 points; the points of
/// all components add up to the rating.
#[test]
fn a_service_ratings_components_add_up_as_documented() {
    use quality_engine::methodology::{composite_score, explain, Profile, Standards};
    let standards = Standards::for_profile(Profile::Service);
    let mut accs = [(0, 0); quality_engine::methodology::METRIC_COUNT];
    accs[MetricId::OnTimeClosureShare.index()] = (40, 50);
    let parts = explain(&accs, &standards);
    let on_time = parts.iter().find(|c| c.component == "on_time_closure_share").unwrap();
    assert!((on_time.score - 0.6333333333333333).abs() < 1e-12 && (on_time.points - 12.666666666666666).abs() < 1e-9, "{on_time:?}");
    assert!((on_time.weight - 0.2).abs() < 1e-12);
    let volume = parts.iter().find(|c| c.component == "volume").unwrap();
    assert_eq!((volume.value, volume.score), (Some(50.0), 50.0 / 60.0));
    let total: f64 = parts.iter().map(|c| c.points).sum();
    assert!((total - composite_score(&accs, &standards)).abs() < 1e-9);
}

/// Section 15.2: a survey with more than 5 answers, without the main question, or with a score
/// outside 1..5 is rejected with its reason and field.
#[test]
fn surveys_outside_the_programme_rules_are_rejected_with_their_reason() {
    let survey = |answers: serde_json::Value| {
        event(
            "s",
            "survey.answered",
            "2026-11-16T10:00:00+03:00",
            "dept-1",
            json!({"survey_id": "v", "request_id": "r", "client_id": "c", "channel": "app", "answers": answers}),
        )
    };
    let reject = |line: String| match quality_engine::contract::decode(line.as_bytes()) {
        Err(r) => (r.reason, r.field),
        Ok(e) => panic!("accepted {e:?}"),
    };
    let q = |id: &str, score: i64| json!({"question_id": id, "score": score});
    let six = json!([q("overall", 5), q("a", 4), q("b", 4), q("c", 4), q("d", 4), q("e", 4)]);
    assert_eq!(reject(survey(six)), (RejectReason::OutOfRange, Some("answers")));
    assert_eq!(reject(survey(json!([q("quality", 4)]))), (RejectReason::MissingField, Some("answers.overall")));
    assert_eq!(reject(survey(json!([q("overall", 6)]))), (RejectReason::OutOfRange, Some("answers.score")));
    assert_eq!(reject(survey(json!([q("overall", 0)]))), (RejectReason::OutOfRange, Some("answers.score")));
    assert!(quality_engine::contract::decode(survey(json!([q("overall", 5), q("quality", 1)])).as_bytes()).is_ok());
}

/// Section 15.5 in the marketplace profile: a disputed review leaves CSI and the positive share
/// of its day (whether the dispute comes after it or before it), a disputed NPS answer leaves
/// NPS, the row counts them as excluded, and a dispute of feedback whose day is final is
/// refused as too late.
#[test]
fn disputed_marketplace_feedback_leaves_every_figure_of_its_day() {
    let exclude = |id: &str, at: &str, field: &str, target: &str| {
        event(id, "feedback.excluded", at, "s1", json!({field: target, "reason": "dispute accepted"}))
    };
    let lines = vec![
        review("r1", "2026-11-16T10:00:00+03:00", 5),
        review("r2", "2026-11-16T11:00:00+03:00", 1),
        exclude("x1", "2026-11-17T09:00:00+03:00", "review_id", "r2"),
        exclude("x2", "2026-11-17T09:30:00+03:00", "review_id", "r3"),
        review("r3", "2026-11-17T10:00:00+03:00", 2),
        nps("n1", "2026-11-17T11:00:00+03:00", 10),
        nps("n2", "2026-11-17T12:00:00+03:00", 0),
        exclude("x3", "2026-11-17T13:00:00+03:00", "response_id", "n2"),
        review("r4", "2026-11-20T10:00:00+03:00", 1),
        exclude("x4", "2026-11-20T11:00:00+03:00", "review_id", "r1"),
    ];
    let (out, verdicts, _) = run_lines(EngineConfig::default(), &lines);
    assert!(matches!(&verdicts[9], Verdict::Rejected(r) if r.reason == RejectReason::TooLate), "{:?}", verdicts[9]);
    assert!(verdicts[..9].iter().all(|v| matches!(v, Verdict::Accepted(_))), "{verdicts:?}");
    let week = final_row(&out, "s1", Cadence::Week, "2026-11-16");
    assert_eq!(cell(week, MetricId::Csi).numerator, 6.0, "r1 (5) and r4 (1) count; r2 and r3 are excluded");
    assert_eq!(cell(week, MetricId::Csi).denominator, 2);
    assert_eq!((cell(week, MetricId::PositiveReviewShare).numerator, cell(week, MetricId::PositiveReviewShare).denominator), (1.0, 2));
    assert_eq!((cell(week, MetricId::Nps).numerator, cell(week, MetricId::Nps).denominator), (1.0, 1));
    assert_eq!(week.excluded_feedback, 3);
    assert_eq!(final_row(&out, "s1", Cadence::Day, "2026-11-16").excluded_feedback, 1, "counted on the day the feedback was given");
}
