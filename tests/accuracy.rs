//! Assembly accuracy (docs/methodology.md section 12) on hand-built events with exact
//! expectations: the complaint window, the reasons that count, late corrections of emitted
//! rows, complaints before the delivery, repeated complaints, orphans and restarts.
//!
//! The default zone is Europe/Moscow (UTC+3); every order below is delivered at
//! 2026-11-03T10:00Z, so its complaint window ends at 2026-11-17T10:00Z, local day 2026-11-17.

mod common;

use common::{cell, event, final_row, run_lines};
use quality_engine::contract::{EventType, RejectReason, DAY_MS};
use quality_engine::methodology::{Group, MetricId, Status};
use quality_engine::output::{MetricCell, FINAL_VERSION};
use quality_engine::window::Cadence;
use quality_engine::{Engine, EngineConfig, Output, Verdict};
use serde_json::json;

const ACCURACY: MetricId = MetricId::AssemblyAccuracyShare;
const WINDOW_END_DAY: &str = "2026-11-17";

fn created(order: &str) -> String {
    event(
        &format!("{order}.created"),
        "order.created",
        "2026-11-02T10:00:00Z",
        "s1",
        json!({"order_id": order, "customer_id": "c", "ship_by": "2026-11-05T10:00:00Z"}),
    )
}

fn delivered(order: &str) -> String {
    event(&format!("{order}.delivered"), "order.delivered", "2026-11-03T10:00:00Z", "s1", json!({"order_id": order}))
}

fn cancelled(order: &str) -> String {
    event(&format!("{order}.cancelled"), "order.cancelled", "2026-11-02T12:00:00Z", "s1", json!({"order_id": order, "cancelled_by": "customer"}))
}

fn complaint(id: &str, order: &str, reason: &str, at: &str) -> String {
    event(id, "order.complaint", at, "s1", json!({"order_id": order, "complaint_id": id, "reason": reason}))
}

/// An event of another seller that moves the clock (and so the watermark) to `at`.
fn tick(id: &str, at: &str) -> String {
    event(id, "inquiry.resolved", at, "s9", json!({"inquiry_id": id, "first_contact": true}))
}

fn accuracy(row: &quality_engine::WindowRow) -> (f64, i64, Option<f64>, Status, i64) {
    let c: &MetricCell = cell(row, ACCURACY);
    (c.numerator, c.denominator, c.value, c.status, c.overdue)
}

fn dead_letters(out: &[Output]) -> Vec<&quality_engine::DeadLetter> {
    out.iter().filter_map(|o| if let Output::DeadLetter(d) = o { Some(d) } else { None }).collect()
}

/// Every accuracy cell with data in a final day row: (day, numerator, denominator).
fn judged_days(out: &[Output]) -> Vec<(String, f64, i64)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Row(r) if r.is_final && r.cadence == Cadence::Day && &*r.seller_id == "s1" => {
                let c = cell(r, ACCURACY);
                (c.denominator != 0 || c.numerator != 0.0).then(|| (r.period_start.to_string(), c.numerator, c.denominator))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn the_metric_is_an_operational_higher_is_better_ratio_without_overdue() {
    assert_eq!(ACCURACY.as_str(), "assembly_accuracy_share");
    assert_eq!(ACCURACY.group(), Group::Operational);
    assert_eq!(ACCURACY.direction(), quality_engine::methodology::Direction::HigherIsBetter);
    assert_eq!(ACCURACY.unit(), quality_engine::methodology::Unit::Ratio);
    assert!(!ACCURACY.has_deadline());
    let s = quality_engine::methodology::Standards::default();
    let st = s.get(ACCURACY);
    assert_eq!((st.target, st.weight, st.floor, st.ideal), (0.99, 0.05, 0.9, 1.0));
    assert_eq!(st.cadences, [Cadence::Day, Cadence::Week, Cadence::Month, Cadence::Rolling7d, Cadence::Rolling30d]);
    assert_eq!(EngineConfig::default().complaint_window_ms, 14 * DAY_MS);
}

#[test]
fn the_complaint_window_and_the_reason_decide_accuracy_on_the_day_the_window_ends() {
    let mut lines = Vec::new();
    for o in ["o1", "o2", "o3", "o4", "o5", "o6"] {
        lines.push(created(o));
        lines.push(delivered(o));
    }
    lines.extend([
        complaint("q4", "o4", "damaged", "2026-11-05T08:00:00Z"),
        complaint("q5", "o5", "other", "2026-11-05T08:00:00Z"),
        complaint("q2", "o2", "wrong_item", "2026-11-10T08:00:00Z"),
        complaint("q3", "o3", "missing_item", "2026-11-17T10:00:00Z"),
        complaint("q6", "o6", "wrong_item", "2026-11-17T10:00:00.001Z"),
        tick("t", "2026-11-20T00:00:00Z"),
    ]);
    let (out, verdicts, engine) = run_lines(EngineConfig::default(), &lines);
    assert!(verdicts.iter().all(|v| matches!(v, Verdict::Accepted(_))), "{verdicts:?}");
    assert_eq!(engine.stats().accepted(EventType::OrderComplaint), 5, "a complaint after the window is accepted and counted in stats");
    // o1 (no complaint), o4 (damaged), o5 (other) and o6 (wrong item 1 ms after the window) are
    // accurate; o2 (wrong item) and o3 (missing item exactly at the window end) are not.
    let day = final_row(&out, "s1", Cadence::Day, WINDOW_END_DAY);
    assert_eq!(accuracy(day), (4.0, 6, Some(4.0 / 6.0), Status::Fail, 0));
    assert_eq!(cell(day, ACCURACY).target, 0.99);
    assert_eq!(judged_days(&out), [(WINDOW_END_DAY.to_owned(), 4.0, 6)], "counted on the window end's day only");
    assert_eq!(accuracy(final_row(&out, "s1", Cadence::Day, "2026-11-02")), (0.0, 0, None, Status::NoData, 0));
    assert_eq!(accuracy(final_row(&out, "s1", Cadence::Week, "2026-11-16")).1, 6);
    assert_eq!(accuracy(final_row(&out, "s1", Cadence::Month, "2026-11-01")).0, 4.0);
    assert_eq!(accuracy(final_row(&out, "s1", Cadence::Rolling7d, "2026-11-11")).1, 6);
}

#[test]
fn a_complaint_dated_in_the_window_that_arrives_after_the_judgement_corrects_the_emitted_row() {
    let mut e = Engine::new(EngineConfig::default());
    let day_rows = |out: &[Output]| -> Vec<(bool, u64, f64, i64)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Row(r) if r.cadence == Cadence::Day && r.period_start == WINDOW_END_DAY && &*r.seller_id == "s1" => {
                    let (num, den, ..) = accuracy(r);
                    Some((r.is_final, r.version, num, den))
                }
                _ => None,
            })
            .collect()
    };
    for l in [created("o1"), delivered("o1"), tick("t1", "2026-11-17T12:00:00Z")] {
        assert!(matches!(e.ingest(l.as_bytes()), Verdict::Accepted(_)));
    }
    let mut out = Vec::new();
    e.flush(&mut out);
    assert_eq!(day_rows(&out), [(false, 1, 1.0, 1)], "judged accurate when event time reached the window end");

    // Dated 1 h before the window end, arriving 2 h after it: within the 48 h lateness.
    let late = complaint("q1", "o1", "wrong_item", "2026-11-17T09:00:00Z");
    assert!(matches!(e.ingest(late.as_bytes()), Verdict::Accepted(_)));
    let mut out = Vec::new();
    e.flush(&mut out);
    assert_eq!(day_rows(&out), [(false, 2, 0.0, 1)], "a new provisional version replaces the published row");

    // A second assembly complaint and one dated after the window change nothing.
    for l in [complaint("q2", "o1", "missing_item", "2026-11-16T09:00:00Z"), complaint("q3", "o1", "wrong_item", "2026-11-17T11:00:00Z")] {
        assert!(matches!(e.ingest(l.as_bytes()), Verdict::Accepted(_)));
    }
    let mut out = Vec::new();
    e.flush(&mut out);
    assert_eq!(day_rows(&out), [], "no new version");

    e.ingest(tick("t2", "2026-11-20T00:00:00Z").as_bytes());
    let mut out = Vec::new();
    e.drain(&mut out);
    assert_eq!(day_rows(&out), [(true, FINAL_VERSION, 0.0, 1)]);
    let too_late = complaint("q4", "o1", "wrong_item", "2026-11-17T09:30:00Z");
    assert!(matches!(e.ingest(too_late.as_bytes()), Verdict::Rejected(r) if r.reason == RejectReason::TooLate));
}

#[test]
fn a_complaint_before_the_delivery_waits_for_it_whatever_the_arrival_order() {
    // Dated before the delivery was recorded (the carrier scanned the parcel late).
    let early = complaint("q1", "o1", "missing_item", "2026-11-03T08:00:00Z");
    let end = tick("t", "2026-11-20T00:00:00Z");
    for lines in [
        vec![created("o1"), early.clone(), delivered("o1"), end.clone()],
        vec![created("o1"), delivered("o1"), early.clone(), end.clone()],
        vec![early.clone(), created("o1"), delivered("o1"), end.clone()],
    ] {
        let (out, verdicts, _) = run_lines(EngineConfig::default(), &lines);
        assert!(verdicts.iter().all(|v| matches!(v, Verdict::Accepted(_))), "{verdicts:?}");
        assert_eq!(judged_days(&out), [(WINDOW_END_DAY.to_owned(), 0.0, 1)], "{lines:?}");
        assert!(dead_letters(&out).is_empty());
    }
}

#[test]
fn repeated_complaints_about_an_order_count_once() {
    let lines = vec![
        created("o1"),
        delivered("o1"),
        complaint("q1", "o1", "wrong_item", "2026-11-04T08:00:00Z"),
        complaint("q2", "o1", "wrong_item", "2026-11-04T09:00:00Z"),
        complaint("q3", "o1", "missing_item", "2026-11-05T08:00:00Z"),
        complaint("q3", "o1", "missing_item", "2026-11-05T08:00:00Z"),
        complaint("q4", "o1", "damaged", "2026-11-06T08:00:00Z"),
        tick("t", "2026-11-20T00:00:00Z"),
    ];
    let (out, verdicts, engine) = run_lines(EngineConfig::default(), &lines);
    assert!(matches!(verdicts[5], Verdict::Duplicate(EventType::OrderComplaint)), "the same event_id again is a duplicate");
    assert_eq!(engine.stats().accepted(EventType::OrderComplaint), 4);
    assert_eq!(judged_days(&out), [(WINDOW_END_DAY.to_owned(), 0.0, 1)], "one inaccurate order, not three");
}

#[test]
fn cancelled_and_undelivered_orders_are_not_counted() {
    let lines = vec![
        created("o1"),
        cancelled("o1"),
        complaint("q1", "o1", "wrong_item", "2026-11-02T13:00:00Z"),
        created("o2"),
        complaint("q2", "o2", "missing_item", "2026-11-04T08:00:00Z"),
        tick("t", "2026-12-20T00:00:00Z"),
    ];
    let (out, verdicts, _) = run_lines(EngineConfig::default(), &lines);
    assert!(verdicts.iter().all(|v| matches!(v, Verdict::Accepted(_))), "{verdicts:?}");
    assert_eq!(judged_days(&out), [], "nothing delivered, nothing judged");
    assert!(dead_letters(&out).is_empty(), "their orders were created: no orphans");
}

#[test]
fn complaints_about_an_order_never_created_are_dead_lettered_when_their_state_expires() {
    let lines = vec![
        complaint("q1", "ghost", "wrong_item", "2026-11-02T08:00:00Z"),
        complaint("q2", "ghost", "other", "2026-11-02T09:00:00Z"),
        delivered("o9"),
        complaint("q9", "o9", "missing_item", "2026-11-04T08:00:00Z"),
        tick("t1", "2026-11-20T00:00:00Z"),
    ];
    let mut e = Engine::new(EngineConfig::default());
    for l in &lines {
        assert!(matches!(e.ingest(l.as_bytes()), Verdict::Accepted(_)));
    }
    let payloads = |out: &[Output]| -> Vec<(RejectReason, String)> {
        dead_letters(out).iter().map(|d| (d.reason, d.payload.clone().unwrap_or_default())).collect()
    };
    // o9 was delivered without its creation: judged on its window end (a delivered order counts
    // even so, like the other order steps), then given up with its complaint once the watermark
    // passed that end.
    let mut out = Vec::new();
    e.drain(&mut out);
    assert_eq!(judged_days(&out), [(WINDOW_END_DAY.to_owned(), 0.0, 1)]);
    assert_eq!(
        payloads(&out),
        [
            (
                RejectReason::ComplaintWithoutOrder,
                r#"{"complaints":1,"delivered_at":"2026-11-03T10:00:00.000Z","order_id":"o9","seller_id":"s1"}"#.to_owned()
            ),
            (
                RejectReason::OrderWithoutCreation,
                r#"{"order_id":"o9","seller_id":"s1","steps":{"order.delivered":"2026-11-03T10:00:00.000Z"}}"#.to_owned()
            ),
        ]
    );
    let d = dead_letters(&out)[0];
    assert_eq!((d.field, d.source.as_str()), (Some("order_id"), "engine:state-expiry"));
    assert!(d.detail.contains("check the order_id and that order.created is produced"), "{}", d.detail);

    // The ghost order's complaints wait for it until the state TTL (30 days after the first).
    let mut out = Vec::new();
    e.ingest(tick("t2", "2026-12-04T07:00:00Z").as_bytes());
    e.drain(&mut out);
    assert_eq!(payloads(&out), [], "the watermark (2026-12-02T07:00Z) is before 2026-12-02T08:00Z");
    e.ingest(tick("t3", "2026-12-04T08:00:00Z").as_bytes());
    e.ingest(tick("t4", "2026-12-05T08:00:00Z").as_bytes());
    e.drain(&mut out);
    assert_eq!(payloads(&out), [(RejectReason::ComplaintWithoutOrder, r#"{"complaints":2,"order_id":"ghost","seller_id":"s1"}"#.to_owned())]);
    assert_eq!(e.stats().rejected(RejectReason::ComplaintWithoutOrder), 2);
    assert_eq!(e.stats().accepted(EventType::OrderComplaint), 3);
}

#[test]
fn a_complaint_after_the_order_was_judged_and_forgotten_changes_nothing_and_is_no_orphan() {
    let lines = vec![
        created("o1"),
        delivered("o1"),
        tick("t1", "2026-11-25T00:00:00Z"),
        complaint("q1", "o1", "wrong_item", "2026-11-24T00:00:00Z"),
        tick("t2", "2027-01-20T00:00:00Z"),
    ];
    let (out, verdicts, _) = run_lines(EngineConfig::default(), &lines);
    assert!(verdicts.iter().all(|v| matches!(v, Verdict::Accepted(_))), "{verdicts:?}");
    assert_eq!(judged_days(&out), [(WINDOW_END_DAY.to_owned(), 1.0, 1)]);
    assert!(dead_letters(&out).is_empty());
}

#[test]
fn the_complaint_window_is_configurable() {
    let config = EngineConfig { complaint_window_ms: 7 * DAY_MS, ..EngineConfig::default() };
    let lines = vec![created("o1"), delivered("o1"), complaint("q1", "o1", "wrong_item", "2026-11-12T08:00:00Z"), tick("t", "2026-11-20T00:00:00Z")];
    let (out, _, _) = run_lines(config, &lines);
    assert_eq!(judged_days(&out), [("2026-11-10".to_owned(), 1.0, 1)], "judged at delivery + 7 days; the complaint came after");
}

#[test]
fn restarting_from_a_checkpoint_after_any_event_changes_nothing() {
    let lines = vec![
        complaint("q0", "o2", "missing_item", "2026-11-03T08:00:00Z"),
        created("o1"),
        delivered("o1"),
        created("o2"),
        delivered("o2"),
        complaint("q9", "ghost", "wrong_item", "2026-11-03T09:00:00Z"),
        created("o3"),
        delivered("o3"),
        tick("t1", "2026-11-17T12:00:00Z"),
        complaint("q1", "o1", "wrong_item", "2026-11-17T09:00:00Z"),
        complaint("q3", "o3", "damaged", "2026-11-17T11:00:00Z"),
        tick("t2", "2026-11-25T00:00:00Z"),
        complaint("q4", "o3", "wrong_item", "2026-11-24T00:00:00Z"),
        tick("t3", "2026-12-20T00:00:00Z"),
    ];
    let (whole, verdicts, _) = run_lines(EngineConfig::default(), &lines);
    assert!(verdicts.iter().all(|v| matches!(v, Verdict::Accepted(_))), "{verdicts:?}");
    assert_eq!(judged_days(&whole), [(WINDOW_END_DAY.to_owned(), 1.0, 3)], "o1 corrected late, o2 by its early complaint");
    assert_eq!(dead_letters(&whole).iter().map(|d| d.reason).collect::<Vec<_>>(), [RejectReason::ComplaintWithoutOrder]);
    for cut in 0..=lines.len() {
        let mut a = Engine::new(EngineConfig::default());
        for l in &lines[..cut] {
            a.ingest(l.as_bytes());
        }
        let mut out = Vec::new();
        let bytes = a.checkpoint(&mut out);
        let mut b = Engine::restore(EngineConfig::default(), &bytes).expect("the checkpoint restores");
        assert_eq!(b.checkpoint(&mut out), bytes, "cut after {cut} events: restoring and saving again gives the same bytes");
        for l in &lines[cut..] {
            b.ingest(l.as_bytes());
        }
        b.finish(&mut out);
        assert_eq!(out, whole, "cut after {cut} events");
    }
}
