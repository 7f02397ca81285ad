//! Properties of the engine on small hand-built event lists (Europe/Berlin, across the
//! October 2026 DST change, an ISO week and a month boundary):
//!
//! (a) permuting events that all lie within the allowed lateness of each other changes nothing;
//! (b) weekly, monthly, quarterly and rolling rows are the sums of the daily rows (daily metrics), and
//!     weekly/30-day-monthly rows equal the rolling rows covering the same days (all metrics);
//! (c) feeding every event twice (adjacent, or the whole stream again) changes nothing;
//! (d) no line is lost: accepted + duplicates + rejected = lines fed, every rejection has a reason;
//! (e) the engine equals the reference model (`tests/reference/model.rs`) on arbitrary arrival orders.
//!
//! Orders may draw complaints up to 20 days after their creation: before, within and after
//! their complaint window, about delivered, undelivered and never created orders.

#[path = "reference/harness.rs"]
mod harness;
#[path = "reference/model.rs"]
mod model;

use chrono::{Duration, NaiveDate, SecondsFormat, TimeZone, Utc};
use harness::{compare_rows, compare_verdicts, is_expiry_reason, run_engine};
use model::{Key, Row};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use quality_engine::{EngineConfig, Verdict};
use serde_json::json;
use std::collections::BTreeMap;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn config() -> EngineConfig {
    EngineConfig { timezone: chrono_tz::Europe::Berlin, ..EngineConfig::default() }
}

/// 2026-10-22T00:00:00+02:00: three days before the DST change, a Thursday.
fn base() -> i64 {
    chrono::DateTime::parse_from_rfc3339("2026-10-22T00:00:00+02:00").unwrap().timestamp_millis()
}

// ---------------------------------------------------------------- hand-built worlds

#[derive(Debug, Clone)]
struct OrderSpec {
    seller: u8,
    /// Minutes after the base.
    at: u32,
    created: bool,
    /// Delays in minutes of confirm, assemble, ship, deliver (each after the previous step's time).
    steps: [Option<u32>; 4],
    /// `ship_by` in minutes after creation (at most 40 h, before the order can be forgotten).
    ship_by: u32,
    /// Cancellation minutes after creation, and by whom (0 seller, 1 customer, 2 platform).
    cancel: Option<(u32, u8)>,
    /// A second copy of one step (0 created .. 5 cancelled) under another event id, same time.
    conflict: Option<u8>,
    /// Complaints: minutes after creation and reason (0 wrong item, 1 missing item, 2 damaged, 3 other).
    complaints: Vec<(u32, u8)>,
}

#[derive(Debug, Clone)]
struct MessageSpec {
    seller: u8,
    at: u32,
    received: bool,
    /// Reply delays in minutes after the message.
    replies: Vec<u32>,
    conflict: bool,
}

#[derive(Debug, Clone)]
enum Simple {
    Inquiry(bool),
    Audit(bool),
    Review(u8),
    Nps(u8),
}

#[derive(Debug, Clone)]
struct World {
    orders: Vec<OrderSpec>,
    messages: Vec<MessageSpec>,
    simple: Vec<(u8, u32, Simple)>,
}

/// One event of a world: its time and its NDJSON line.
#[derive(Debug, Clone)]
struct Item {
    t: i64,
    line: String,
}

fn delay(target: u32, max: u32) -> impl Strategy<Value = u32> {
    prop_oneof![1 => Just(target), 4 => 0..max]
}

fn order_spec(span: u32) -> impl Strategy<Value = OrderSpec> {
    (
        0..3u8,
        0..span,
        prop::bool::weighted(0.85),
        prop::option::weighted(0.85, delay(120, 300)),
        prop::option::weighted(0.8, delay(1440, 2000)),
        prop::option::weighted(0.8, 0..1500u32),
        prop::option::weighted(0.7, 0..3000u32),
        0..2400u32,
        prop::option::weighted(0.2, (0..3000u32, 0..3u8)),
        prop::option::weighted(0.1, 0..6u8),
        prop::option::weighted(0.3, prop::collection::vec((0..20 * 24 * 60u32, 0..4u8), 1..3)),
    )
        .prop_map(|(seller, at, created, c, a, s, d, ship_by, cancel, conflict, complaints)| OrderSpec {
            seller,
            at,
            created,
            steps: [c, a, s, d],
            ship_by,
            cancel,
            conflict,
            complaints: complaints.unwrap_or_default(),
        })
}

fn message_spec(span: u32) -> impl Strategy<Value = MessageSpec> {
    (0..3u8, 0..span, prop::bool::weighted(0.85), prop::collection::vec(delay(30, 120), 0..3), prop::bool::weighted(0.1))
        .prop_map(|(seller, at, received, replies, conflict)| MessageSpec { seller, at, received, replies, conflict })
}

fn simple(span: u32) -> impl Strategy<Value = (u8, u32, Simple)> {
    let what = prop_oneof![
        any::<bool>().prop_map(Simple::Inquiry),
        any::<bool>().prop_map(Simple::Audit),
        (1..=5u8).prop_map(Simple::Review),
        (0..=10u8).prop_map(Simple::Nps),
    ];
    (0..3u8, 0..span, what)
}

fn world(span_minutes: u32, orders: usize, messages: usize, simples: usize) -> impl Strategy<Value = World> {
    (
        prop::collection::vec(order_spec(span_minutes), 0..=orders),
        prop::collection::vec(message_spec(span_minutes), 0..=messages),
        prop::collection::vec(simple(span_minutes), 0..=simples),
    )
        .prop_map(|(orders, messages, simple)| World { orders, messages, simple })
}

/// The same world without conflicting copies, whose winner depends on arrival order.
fn without_conflicts(mut w: World) -> World {
    w.orders.iter_mut().for_each(|o| o.conflict = None);
    w.messages.iter_mut().for_each(|m| m.conflict = false);
    w
}

fn iso(t: i64) -> String {
    Utc.timestamp_millis_opt(t).unwrap().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The events of a world in time order (ties in generation order), optionally limited to
/// times before `until` (minutes after the base).
fn render(w: &World, until: Option<u32>) -> Vec<Item> {
    let base = base();
    let mut items = Vec::new();
    let mut n = 0;
    let mut push = |items: &mut Vec<Item>, seller: u8, t: i64, kind: &str, fields: serde_json::Value| {
        if until.is_some_and(|u| t >= base + u as i64 * MIN) {
            return;
        }
        n += 1;
        let mut v = json!({"event_id": format!("e{n}"), "type": kind, "occurred_at": iso(t), "seller_id": format!("s{seller}")});
        for (k, x) in fields.as_object().unwrap() {
            v[k] = x.clone();
        }
        items.push(Item { t, line: v.to_string() });
    };
    for (i, o) in w.orders.iter().enumerate() {
        let id = format!("o{i}");
        let c = base + o.at as i64 * MIN;
        let cancel = o.cancel.map(|(d, by)| (c + d as i64 * MIN, ["seller", "customer", "platform"][by as usize]));
        // Steps in time order; nothing after a cancellation, no cancellation after delivery.
        let mut t = c;
        let mut steps = Vec::new();
        if o.created {
            steps.push((0u8, c));
        }
        for (k, d) in o.steps.iter().enumerate() {
            if let Some(d) = d {
                t += *d as i64 * MIN;
                steps.push((k as u8 + 1, t));
            }
        }
        let mut delivered = None;
        if let Some((ct, _)) = cancel {
            steps.retain(|(_, t)| *t <= ct);
        }
        if let Some((_, t)) = steps.iter().find(|(k, _)| *k == 4) {
            delivered = Some(*t);
        }
        if let (Some((ct, _)), None) = (cancel, delivered) {
            steps.push((5, ct));
        }
        let fields = |k: u8, alt: bool| match k {
            0 => json!({"order_id": id, "customer_id": "c1", "ship_by": iso(c + (o.ship_by as i64 + alt as i64 * 600) * MIN)}),
            5 => json!({"order_id": id, "cancelled_by": if alt { "customer" } else { cancel.unwrap().1 }}),
            _ => json!({"order_id": id}),
        };
        const TYPES: [&str; 6] = ["order.created", "order.confirmed", "order.assembled", "order.shipped", "order.delivered", "order.cancelled"];
        for &(k, t) in &steps {
            push(&mut items, o.seller, t, TYPES[k as usize], fields(k, false));
            if o.conflict == Some(k) {
                push(&mut items, o.seller, t, TYPES[k as usize], fields(k, true));
            }
        }
        for (j, &(after, reason)) in o.complaints.iter().enumerate() {
            let reason = ["wrong_item", "missing_item", "damaged", "other"][reason as usize];
            push(
                &mut items,
                o.seller,
                c + after as i64 * MIN,
                "order.complaint",
                json!({"order_id": id, "complaint_id": format!("q{i}-{j}"), "reason": reason}),
            );
        }
    }
    for (i, m) in w.messages.iter().enumerate() {
        let (msg, conv) = (format!("m{i}"), format!("k{i}"));
        let r = base + m.at as i64 * MIN;
        if m.received {
            push(&mut items, m.seller, r, "message.received", json!({"conversation_id": conv, "message_id": msg, "customer_id": "c1"}));
            if m.conflict {
                push(&mut items, m.seller, r, "message.received", json!({"conversation_id": conv, "message_id": msg, "customer_id": "c2"}));
            }
        }
        for (j, d) in m.replies.iter().enumerate() {
            let reply = json!({"conversation_id": conv, "message_id": msg, "reply_id": format!("r{i}-{j}")});
            push(&mut items, m.seller, r + *d as i64 * MIN, "message.replied", reply);
        }
    }
    for (i, (seller, at, what)) in w.simple.iter().enumerate() {
        let t = base + *at as i64 * MIN;
        let (kind, fields) = match what {
            Simple::Inquiry(f) => ("inquiry.resolved", json!({"inquiry_id": format!("i{i}"), "first_contact": f})),
            Simple::Audit(c) => ("answer.audited", json!({"message_id": format!("m{i}"), "complete": c})),
            Simple::Review(r) => (
                "review.submitted",
                json!({"review_id": format!("v{i}"), "order_id": format!("o{i}"), "customer_id": "c1", "rating": r, "channel": "app"}),
            ),
            Simple::Nps(s) => ("nps.submitted", json!({"response_id": format!("n{i}"), "customer_id": "c1", "score": s})),
        };
        push(&mut items, *seller, t, kind, fields);
    }
    items.sort_by_key(|i| i.t);
    items
}

fn lines(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.line.clone()).collect()
}

fn final_rows(lines: &[String]) -> BTreeMap<Key, Row> {
    run_engine(&config(), lines, 7).rows
}

fn same_rows(a: &BTreeMap<Key, Row>, b: &BTreeMap<Key, Row>) -> Result<(), TestCaseError> {
    compare_rows(a, b).map_err(TestCaseError::fail)
}

/// Reorders items by `t + delay`, where `delays` (hours, cycled) sometimes exceed the lateness.
fn arrival_order(items: &[Item], delays: &[u16]) -> Vec<String> {
    let mut keyed: Vec<(i64, usize, &Item)> =
        items.iter().enumerate().map(|(i, it)| (it.t + delays.get(i % delays.len().max(1)).copied().unwrap_or(0) as i64 * HOUR / 4, i, it)).collect();
    keyed.sort_by_key(|(k, i, _)| (*k, *i));
    keyed.into_iter().map(|(_, _, it)| it.line.clone()).collect()
}

proptest! {
    // 64 cases each, a fixed seed (the same cases on every run) and no regression files.
    #![proptest_config(ProptestConfig {
        cases: 64,
        rng_seed: RngSeed::Fixed(0x5EED_2026),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// (a) All events within 47 h of each other (less than the 48 h lateness): no order of
    /// arrival can make one too late, so every permutation gives the same final rows.
    #[test]
    fn permuting_events_within_the_lateness_changes_nothing(
        (w, perm) in world(47 * 60, 8, 6, 10).prop_map(without_conflicts).prop_flat_map(|w| {
            let n = render(&w, Some(47 * 60)).len();
            (Just(w), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        })
    ) {
        let items = render(&w, Some(47 * 60));
        let in_order = lines(&items);
        let permuted: Vec<String> = perm.iter().map(|&i| items[i].line.clone()).collect();
        let a = final_rows(&in_order);
        let b = final_rows(&permuted);
        prop_assert!(!items.is_empty() || a.is_empty());
        same_rows(&b, &a)?;
    }

    /// (b) Over 45 days: every weekly, monthly, quarterly and rolling row carries, for the daily
    /// metrics, the sums of the seller's daily rows in the window; quarterly rows carry the sums of
    /// their monthly rows (every metric); weekly rows equal the 7-day rolling
    /// row ending on their Sunday and November's row the 30-day row ending on 30 November
    /// (every metric).
    #[test]
    fn longer_windows_are_sums_of_days(w in world(45 * 24 * 60, 30, 20, 30)) {
        let rows = final_rows(&lines(&render(&w, None)));
        let by_key: BTreeMap<(String, String, NaiveDate), &Row> = rows.iter().map(|(k, r)| (k.clone(), r)).collect();
        for row in rows.values().filter(|r| r.cadence != "day") {
            let mut sums: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
            let mut d = row.start;
            while d < row.end {
                if let Some(day) = by_key.get(&(row.seller.clone(), "day".to_owned(), d)) {
                    for c in &day.cells {
                        let s = sums.entry(c.metric).or_default();
                        s.0 += c.num_milli;
                        s.1 += c.den;
                        s.2 += c.overdue;
                    }
                }
                d += Duration::days(1);
            }
            for c in row.cells.iter().filter(|c| model::in_cadence(model::IDS.iter().position(|m| *m == c.metric).unwrap(), "day")) {
                let s = sums.get(c.metric).copied().unwrap_or_default();
                prop_assert_eq!((c.num_milli, c.den, c.overdue), s, "{} {} {} {}: window vs sum of days", row.seller, row.cadence, row.start, c.metric);
            }
            if row.cadence == "quarter" {
                let months: Vec<&&Row> =
                    by_key.iter().filter(|((s, c, start), _)| *s == row.seller && c == "month" && row.start <= *start && *start < row.end).map(|(_, r)| r).collect();
                prop_assert!(!months.is_empty());
                for (i, c) in row.cells.iter().enumerate() {
                    let sum = months.iter().fold((0, 0, 0), |s, m| (s.0 + m.cells[i].num_milli, s.1 + m.cells[i].den, s.2 + m.cells[i].overdue));
                    prop_assert_eq!((c.num_milli, c.den, c.overdue), sum, "{} quarter {} {}: quarter vs sum of months", row.seller, row.start, c.metric);
                }
            }
            let same_days = match row.cadence.as_str() {
                "week" => Some("rolling_7d"),
                "month" if (row.end - row.start).num_days() == 30 => Some("rolling_30d"),
                _ => None,
            };
            if let Some(rolling) = same_days.and_then(|c| by_key.get(&(row.seller.clone(), c.to_owned(), row.start))) {
                prop_assert_eq!(rolling.end, row.end);
                for (a, b) in row.cells.iter().zip(&rolling.cells) {
                    prop_assert_eq!((a.metric, a.num_milli, a.den, a.overdue), (b.metric, b.num_milli, b.den, b.overdue), "{} {} {}", row.seller, row.cadence, row.start);
                }
            }
        }
    }

    /// (c) Every line fed twice, right after itself or as a second pass over the whole
    /// stream, gives the same final rows as once (arrival order with some too-late events).
    #[test]
    fn feeding_every_event_twice_changes_nothing(w in world(10 * 24 * 60, 10, 6, 10), delays in prop::collection::vec(prop_oneof![3 => Just(0u16), 1 => 0..400u16], 1..40)) {
        let once = arrival_order(&render(&w, None), &delays);
        let adjacent: Vec<String> = once.iter().flat_map(|l| [l.clone(), l.clone()]).collect();
        let again: Vec<String> = once.iter().chain(once.iter()).cloned().collect();
        let rows = final_rows(&once);
        same_rows(&final_rows(&adjacent), &rows)?;
        same_rows(&final_rows(&again), &rows)?;
    }

    /// (d) Valid, duplicated, late and broken lines: each gets exactly one verdict, the
    /// counters add up to the lines fed, and every rejection names a reason and explains it.
    #[test]
    fn no_line_is_lost(
        w in world(10 * 24 * 60, 8, 5, 8),
        delays in prop::collection::vec(prop_oneof![3 => Just(0u16), 1 => 0..400u16], 1..40),
        garbage in prop::collection::vec((any::<prop::sample::Index>(), prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            "[a-z{}\\[\\]\":,0-9 .-]{0,60}".prop_map(String::into_bytes),
            Just(br#"{"event_id":"x","type":"review.submitted","occurred_at":"2026-10-23T10:00:00Z","seller_id":"s1","review_id":"v","order_id":"o","customer_id":"c","rating":9,"channel":"app"}"#.to_vec()),
            Just(br#"{"event_id":"y","type":"order.teleported","occurred_at":"2026-10-23T10:00:00Z","seller_id":"s1"}"#.to_vec()),
            Just(br#"{"event_id":"z","type":"order.shipped","occurred_at":"2026-10-23T10:00:00","seller_id":"s1","order_id":"o"}"#.to_vec()),
        ]), 0..10),
    ) {
        let mut fed: Vec<Vec<u8>> = arrival_order(&render(&w, None), &delays).into_iter().map(String::into_bytes).collect();
        let copies: Vec<Vec<u8>> = fed.iter().step_by(3).cloned().collect();
        fed.extend(copies);
        for (at, bytes) in garbage {
            let i = at.index(fed.len() + 1);
            fed.insert(i, bytes);
        }
        let run = run_engine(&config(), &fed, 5);
        prop_assert_eq!(run.verdicts.len(), fed.len());
        let expiry: u64 = quality_engine::contract::RejectReason::ALL.into_iter().filter(|r| is_expiry_reason(*r)).map(|r| run.stats.rejected(r)).sum();
        let counted = run.stats.accepted_total() + run.stats.duplicates_total() + run.stats.rejected_total() - expiry;
        prop_assert_eq!(counted, fed.len() as u64, "stats {:?}", run.stats);
        for (v, line) in run.verdicts.iter().zip(&fed) {
            if let Verdict::Rejected(r) = v {
                prop_assert!(!is_expiry_reason(r.reason), "a line rejected for {:?}", r.reason);
                prop_assert!(!r.detail.is_empty(), "no detail for {:?}: {}", r.reason, String::from_utf8_lossy(line));
            }
        }
        for d in &run.dead_letters {
            prop_assert!(is_expiry_reason(d.reason) && !d.detail.is_empty(), "unexpected dead letter {:?}", d);
        }
    }

    /// (e) The engine equals the reference model on small worlds in arbitrary arrival order
    /// (out of order, too late, duplicated, conflicting steps, orphans, DST and month change).
    #[test]
    fn engine_equals_reference_on_small_worlds(w in world(10 * 24 * 60, 12, 8, 12), delays in prop::collection::vec(prop_oneof![3 => Just(0u16), 1 => 0..400u16], 1..40), dup_every in 2..9usize) {
        let mut fed = arrival_order(&render(&w, None), &delays);
        let copies: Vec<String> = fed.iter().step_by(dup_every).cloned().collect();
        fed.extend(copies);
        let cfg = config();
        let (arrival, _, reference) = model::reference(&fed, cfg.timezone, cfg.allowed_lateness_ms, &cfg.standards.latest().standards);
        let run = run_engine(&cfg, &fed, 3);
        compare_verdicts(&fed, &run.verdicts, &arrival.verdicts).map_err(|e| TestCaseError::fail(format!("{e}\nlines:\n{}", fed.join("\n"))))?;
        compare_rows(&run.rows, &reference).map_err(|e| TestCaseError::fail(format!("{e}\nlines:\n{}", fed.join("\n"))))?;
    }
}
