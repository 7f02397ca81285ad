//! The engine's final rows against an independent batch reimplementation of
//! `docs/methodology.md` (`tests/reference/model.rs`), on generated streams in several zones
//! (two of them across DST changes, one at midnight), as generated and further perturbed; and the
//! service profile against `tests/reference/service_model.rs` (section 15) the same way.

#[path = "reference/harness.rs"]
mod harness;
#[path = "reference/model.rs"]
mod model;
#[path = "reference/service_model.rs"]
mod service_model;

use chrono::NaiveDate;
use chrono_tz::Tz;
use harness::{compare_rows, compare_verdicts, is_expiry_reason, run_engine};
use model::RefVerdict;
use quality_engine::contract::{EventType, RejectReason};
use quality_engine::EngineConfig;
use quality_pipeline::generate::{generate, Anomalies, GeneratorConfig};
use std::collections::BTreeMap;

/// splitmix64: a tiny seeded PRNG, so that the perturbations are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Extra wire noise on top of the generator's: copies of 2 % of the lines re-sent up to 2,000
/// lines later, then 30 % of the lines swapped with one up to 300 lines further on.
fn perturb(lines: &[String], seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut keyed: Vec<(usize, usize, String)> = Vec::with_capacity(lines.len() * 103 / 100);
    for (i, l) in lines.iter().enumerate() {
        keyed.push((i, 0, l.clone()));
        if rng.chance(0.02) {
            keyed.push((i + 1 + rng.below(2000) as usize, 1, l.clone()));
        }
    }
    keyed.sort_by_key(|(pos, tie, _)| (*pos, *tie));
    let mut out: Vec<String> = keyed.into_iter().map(|(_, _, l)| l).collect();
    let n = out.len();
    for i in 0..n {
        if rng.chance(0.3) {
            let j = (i + 1 + rng.below(300) as usize).min(n - 1);
            out.swap(i, j);
        }
    }
    out
}

struct Case {
    name: &'static str,
    tz: Tz,
    start: (i32, u32, u32),
    days: u32,
    seed: u64,
    /// A day the case must have rows on (its DST change, or a month's first day).
    dst_day: (i32, u32, u32),
}

const CASES: [Case; 4] = [
    // Last Sunday of October 2026 (25th): a 25-hour day at 03:00 local.
    Case { name: "berlin-autumn", tz: chrono_tz::Europe::Berlin, start: (2026, 10, 12), days: 35, seed: 7, dst_day: (2026, 10, 25) },
    // 2018-11-04: clocks jump from 00:00 to 01:00, so that local day starts at 01:00.
    Case { name: "sao-paulo-spring", tz: chrono_tz::America::Sao_Paulo, start: (2018, 10, 22), days: 35, seed: 11, dst_day: (2018, 11, 4) },
    // 2019-02-17: clocks fall back from 00:00 to 23:00; the repeated hour is the 16th's.
    Case { name: "sao-paulo-autumn", tz: chrono_tz::America::Sao_Paulo, start: (2019, 2, 4), days: 30, seed: 23, dst_day: (2019, 2, 17) },
    // The default zone, no DST, over a month boundary.
    Case { name: "moscow", tz: chrono_tz::Europe::Moscow, start: (2026, 10, 26), days: 28, seed: 42, dst_day: (2026, 11, 1) },
];

fn stream(c: &Case) -> Vec<String> {
    let cfg = GeneratorConfig {
        sellers: 24,
        days: c.days,
        start: NaiveDate::from_ymd_opt(c.start.0, c.start.1, c.start.2).unwrap(),
        timezone: c.tz,
        seed: c.seed,
        orders_per_seller_day: 6.0,
        anomalies: Anomalies::default(),
        trends: false,
    };
    generate(&cfg).collect()
}

#[derive(Default, Debug)]
struct Totals {
    lines: usize,
    rows: usize,
    pass: usize,
    fail: usize,
    no_data: usize,
    overdue: i64,
    /// Delivered orders judged for assembly accuracy (day rows), and the inaccurate ones among them.
    judged_orders: i64,
    inaccurate_orders: i64,
    verdicts: BTreeMap<String, usize>,
    /// Cadences and days that have rows.
    cadences: Vec<String>,
    days: Vec<NaiveDate>,
}

/// Runs the engine and the reference on `lines`; panics with the first difference.
fn check(name: &str, tz: Tz, lines: &[String]) -> Totals {
    let cfg = EngineConfig { timezone: tz, ..EngineConfig::default() };
    let (arrival, _, reference) = model::reference(lines, tz, cfg.allowed_lateness_ms, &cfg.standards.latest().standards);
    let run = run_engine(&cfg, lines, 5000);

    if let Err(e) = compare_verdicts(lines, &run.verdicts, &arrival.verdicts) {
        panic!("[{name}] verdicts differ: {e}");
    }
    // The engine's counters agree with the verdicts (expiry dead letters aside).
    let mut mine = quality_engine::Stats::default();
    run.verdicts.iter().for_each(|v| mine.count(v));
    for t in EventType::ALL {
        assert_eq!(run.stats.accepted(t), mine.accepted(t), "[{name}] accepted {t:?}");
        assert_eq!(run.stats.duplicates(t), mine.duplicates(t), "[{name}] duplicates {t:?}");
    }
    for r in RejectReason::ALL.into_iter().filter(|r| !is_expiry_reason(*r)) {
        assert_eq!(run.stats.rejected(r), mine.rejected(r), "[{name}] rejected {r:?}");
    }

    if let Err(e) = compare_rows(&run.rows, &reference) {
        panic!("[{name}] final rows differ from the reference ({} engine rows, {} reference rows):\n{e}", run.rows.len(), reference.len());
    }

    let mut t = Totals { lines: lines.len(), rows: reference.len(), ..Totals::default() };
    for r in reference.values() {
        for c in &r.cells {
            match c.status {
                "pass" => t.pass += 1,
                "fail" => t.fail += 1,
                _ => t.no_data += 1,
            }
            t.overdue += c.overdue;
            if r.cadence == "day" && c.metric == "assembly_accuracy_share" {
                t.judged_orders += c.den;
                t.inaccurate_orders += c.den - c.num_milli / 1000;
            }
        }
    }
    t.cadences = model::CADENCES.iter().filter(|c| reference.keys().any(|k| k.1 == **c)).map(|c| c.to_string()).collect();
    t.days = reference.keys().filter(|k| k.1 == "day").map(|k| k.2).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    for v in &arrival.verdicts {
        let k = match v {
            RefVerdict::Accepted => "accepted".to_owned(),
            RefVerdict::Duplicate => "duplicate".to_owned(),
            RefVerdict::Rejected(r) => r.as_str().to_owned(),
        };
        *t.verdicts.entry(k).or_default() += 1;
    }
    eprintln!(
        "[{name}] {} lines, {} rows, {} pass / {} fail / {} no_data cells, {} overdue, {} of {} orders inaccurate, {:?}",
        t.lines, t.rows, t.pass, t.fail, t.no_data, t.overdue, t.inaccurate_orders, t.judged_orders, t.verdicts
    );
    t
}

/// Guards against a vacuous comparison: both outcomes, overdue items, the generator's
/// anomalies, every cadence, and rows on the case's DST day.
fn assert_non_trivial(name: &str, t: &Totals, dst_day: NaiveDate) {
    assert!(t.rows > 1000, "[{name}] only {} rows", t.rows);
    assert!(t.pass > 100 && t.fail > 100 && t.no_data > 0, "[{name}] statuses {t:?}");
    assert!(t.overdue > 0, "[{name}] no overdue item");
    assert!(
        t.judged_orders > 100 && t.inaccurate_orders > 0,
        "[{name}] assembly accuracy {} judged, {} inaccurate",
        t.judged_orders,
        t.inaccurate_orders
    );
    for k in ["accepted", "duplicate", "too_late", "invalid_json"] {
        assert!(t.verdicts.get(k).copied().unwrap_or(0) > 0, "[{name}] no {k} line: {:?}", t.verdicts);
    }
    assert_eq!(t.cadences, model::CADENCES, "[{name}] cadences with rows");
    assert!(t.days.contains(&dst_day), "[{name}] no row on {dst_day}");
}

fn run_case(c: &Case) {
    let lines = stream(c);
    let tz = c.tz;
    let plain = check(c.name, tz, &lines);
    let dst_day = NaiveDate::from_ymd_opt(c.dst_day.0, c.dst_day.1, c.dst_day.2).unwrap();
    assert_non_trivial(c.name, &plain, dst_day);

    let noisy = perturb(&lines, c.seed ^ 0xA5A5);
    let name = format!("{}+shuffled+duplicated", c.name);
    let t = check(&name, tz, &noisy);
    assert_non_trivial(&name, &t, dst_day);
    assert!(t.verdicts["too_late"] >= plain.verdicts["too_late"], "[{name}] the shuffle should not reduce lateness");
}

#[test]
fn berlin_across_the_october_dst_change() {
    run_case(&CASES[0]);
}

#[test]
fn sao_paulo_across_a_dst_gap_at_midnight() {
    run_case(&CASES[1]);
    // The DST day exists and starts at 01:00 local (03:00 UTC).
    let cal = model::Calendar::new(chrono_tz::America::Sao_Paulo);
    let d = NaiveDate::from_ymd_opt(2018, 11, 4).unwrap();
    assert_eq!(cal.midnight(d), 1_541_300_400_000);
}

#[test]
fn sao_paulo_across_a_repeated_hour_before_midnight() {
    run_case(&CASES[2]);
    // 2019-02-16T23:30-03:00 is in the repeated hour: its local date, the 16th, decides.
    let cal = model::Calendar::new(chrono_tz::America::Sao_Paulo);
    let t = chrono::DateTime::parse_from_rfc3339("2019-02-16T23:30:00-03:00").unwrap().timestamp_millis();
    assert_eq!(cal.day(t), NaiveDate::from_ymd_opt(2019, 2, 16).unwrap());
    let t = chrono::DateTime::parse_from_rfc3339("2019-02-16T23:30:00-02:00").unwrap().timestamp_millis();
    assert_eq!(cal.day(t), NaiveDate::from_ymd_opt(2019, 2, 16).unwrap());
}

#[test]
fn moscow_default_zone() {
    run_case(&CASES[3]);
}

// ---------------------------------------------------------------- minimal documented cases
//
// Each case below is the smallest input found (by proptest and by hand) on which the engine
// and the document disagreed; they assert the document.

/// Runs one small case through the engine and the reference (verdicts and final rows).
fn small_case(tz: Tz, lines: &[&str]) -> Result<(), String> {
    let cfg = EngineConfig { timezone: tz, ..EngineConfig::default() };
    let (arrival, _, reference) = model::reference(lines, tz, cfg.allowed_lateness_ms, &cfg.standards.latest().standards);
    let run = run_engine(&cfg, lines, 1);
    compare_verdicts(lines, &run.verdicts, &arrival.verdicts)?;
    compare_rows(&run.rows, &reference)
}

/// Minimal case of the rule above, engine against the document: one inquiry at
/// 2019-02-16T23:30:00-03:00 (02:30Z), in the hour repeated after São Paulo's clocks went
/// back from 00:00 (-02:00) to 23:00 (-03:00). Section 4: a repeated hour belongs to the date
/// it shows, so the daily row is the 16th's (a 25-hour day).
#[test]
fn repeated_hour_before_midnight_counts_on_the_date_it_shows() {
    let tz = chrono_tz::America::Sao_Paulo;
    let lines = [
        r#"{"event_id":"e1","type":"inquiry.resolved","occurred_at":"2019-02-16T23:30:00-03:00","seller_id":"s1","inquiry_id":"i1","first_contact":true}"#,
    ];
    let cfg = EngineConfig { timezone: tz, ..EngineConfig::default() };
    let (_, _, reference) = model::reference(&lines, tz, cfg.allowed_lateness_ms, &cfg.standards.latest().standards);
    let days = |rows: &BTreeMap<model::Key, model::Row>| rows.keys().filter(|k| k.1 == "day").map(|k| k.2.to_string()).collect::<Vec<_>>();
    assert_eq!(days(&reference), ["2019-02-16"]);
    let run = run_engine(&cfg, &lines, 1);
    assert_eq!(days(&run.rows), ["2019-02-16"], "engine: daily row of the repeated hour");
    compare_rows(&run.rows, &reference).unwrap();
}

/// Section 1: "An event whose `event_id` was already *accepted* is a duplicate". A second
/// `order.confirmed` under another id is rejected as `conflicting_lifecycle`; when that same
/// rejected line is re-sent, its id was never accepted, so it is rejected again, not a duplicate.
#[test]
fn resent_conflicting_step_is_rejected_again_not_a_duplicate() {
    let lines = [
        r#"{"event_id":"e1","type":"order.created","occurred_at":"2026-10-21T06:00:00Z","seller_id":"s1","order_id":"o1","customer_id":"c1","ship_by":"2026-10-22T06:00:00Z"}"#,
        r#"{"event_id":"e2","type":"order.confirmed","occurred_at":"2026-10-21T07:00:00Z","seller_id":"s1","order_id":"o1"}"#,
        r#"{"event_id":"e3","type":"order.confirmed","occurred_at":"2026-10-21T07:00:00Z","seller_id":"s1","order_id":"o1"}"#,
        r#"{"event_id":"e3","type":"order.confirmed","occurred_at":"2026-10-21T07:00:00Z","seller_id":"s1","order_id":"o1"}"#,
    ];
    let (arrival, _, _) = model::reference(&lines, chrono_tz::Europe::Berlin, 48 * 3_600_000, &EngineConfig::default().standards.latest().standards);
    let conflict = RefVerdict::Rejected(RejectReason::ConflictingLifecycle);
    assert_eq!(arrival.verdicts, [RefVerdict::Accepted, RefVerdict::Accepted, conflict, conflict]);
    small_case(chrono_tz::Europe::Berlin, &lines).unwrap();
}

/// Sections 3 and 4: an overdue item withdrawn because the cancellation (dated before the
/// deadline) arrived after the deadline passed is not a counted contribution, and where an
/// event arrives never decides its window: both arrival orders must give the same rows, and
/// seller s0 has no row for 2026-10-23 (its only data is the cancellation of the 22nd).
#[test]
fn withdrawn_overdue_leaves_no_row_whatever_the_arrival_order() {
    let confirmed = r#"{"event_id":"a1","type":"order.confirmed","occurred_at":"2026-10-22T00:00:00Z","seller_id":"s0","order_id":"o0"}"#;
    let cancelled =
        r#"{"event_id":"a2","type":"order.cancelled","occurred_at":"2026-10-22T00:00:00Z","seller_id":"s0","order_id":"o0","cancelled_by":"seller"}"#;
    let other =
        r#"{"event_id":"b1","type":"inquiry.resolved","occurred_at":"2026-10-23T00:01:00Z","seller_id":"s1","inquiry_id":"i1","first_contact":true}"#;
    let tz = chrono_tz::Europe::Berlin;
    let cfg = EngineConfig { timezone: tz, ..EngineConfig::default() };
    let in_order = run_engine(&cfg, &[confirmed, cancelled, other], 1).rows;
    let cancel_last = run_engine(&cfg, &[confirmed, other, cancelled], 1).rows;
    assert!(!in_order.keys().any(|k| k.0 == "s0" && k.1 == "day" && k.2.to_string() == "2026-10-23"));
    compare_rows(&cancel_last, &in_order).unwrap();
    small_case(tz, &[confirmed, other, cancelled]).unwrap();
}

/// Section 3: an overdue item is counted "as soon as event time reaches the deadline". Here
/// the creation arrives (within the lateness) when its confirmation and handover deadlines
/// have already passed; the next event closes 2026-10-24. Both deadlines are overdue on the
/// 24th. (The engine loses them when another deadline, here o0's assembly, is pending.)
#[test]
fn deadline_already_passed_on_arrival_is_counted() {
    let lines = [
        r#"{"event_id":"e1","type":"order.confirmed","occurred_at":"2026-10-26T05:00:00Z","seller_id":"s0","order_id":"o0"}"#,
        r#"{"event_id":"e2","type":"order.created","occurred_at":"2026-10-24T05:00:00Z","seller_id":"s0","order_id":"o2","customer_id":"c1","ship_by":"2026-10-24T06:00:00Z"}"#,
        r#"{"event_id":"e3","type":"inquiry.resolved","occurred_at":"2026-10-27T05:00:00Z","seller_id":"s0","inquiry_id":"i2","first_contact":true}"#,
    ];
    let tz = chrono_tz::Europe::Berlin;
    let (_, _, reference) = model::reference(&lines, tz, 48 * 3_600_000, &EngineConfig::default().standards.latest().standards);
    let day = &reference[&("s0".to_owned(), "day".to_owned(), NaiveDate::from_ymd_opt(2026, 10, 24).unwrap())];
    let overdue: Vec<(&str, i64)> = day.cells.iter().filter(|c| c.overdue > 0).map(|c| (c.metric, c.overdue)).collect();
    assert_eq!(overdue, [("confirmation_time_avg", 1), ("on_time_handover_share", 1)]);
    small_case(tz, &lines).unwrap();
}

// ---------------------------------------------------------------- the service profile (section 15)

fn service_config(tz: Tz) -> EngineConfig {
    let standards = quality_engine::methodology::StandardsBook::default().resolve(quality_engine::methodology::Profile::Service).unwrap();
    EngineConfig { timezone: tz, standards, ..EngineConfig::default() }
}

/// Runs the engine in the service profile and the section-15 reference on `lines`; panics with the first difference.
fn check_service(name: &str, tz: Tz, lines: &[String]) -> BTreeMap<String, usize> {
    let cfg = service_config(tz);
    let reference = service_model::reference(lines, tz, cfg.allowed_lateness_ms, &cfg.standards.latest().standards);
    let run = run_engine(&cfg, lines, 3000);
    if let Err(e) = compare_verdicts(lines, &run.verdicts, &reference.verdicts) {
        panic!("[{name}] verdicts differ: {e}");
    }
    if let Err(e) = compare_rows(&run.rows, &reference.rows) {
        panic!("[{name}] final rows differ from the reference ({} engine rows, {} reference rows):\n{e}", run.rows.len(), reference.rows.len());
    }
    let orphans = run.dead_letters.iter().filter(|d| d.reason == RejectReason::RequestWithoutCreation).count();
    assert_eq!(orphans, reference.orphans, "[{name}] requests never created");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in &reference.verdicts {
        let k = match v {
            RefVerdict::Accepted => "accepted".to_owned(),
            RefVerdict::Duplicate => "duplicate".to_owned(),
            RefVerdict::Rejected(r) => r.as_str().to_owned(),
        };
        *counts.entry(k).or_default() += 1;
    }
    // Non-trivial: every entity kind and cadence, both outcomes of each satisfaction and request
    // standard, overdue requests, reopens, moved and excluded feedback.
    let kinds: std::collections::BTreeSet<&str> = reference.rows.keys().map(|k| k.0.split(':').next().unwrap()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["department", "performer"], "[{name}]");
    let cadences: std::collections::BTreeSet<&str> = reference.rows.keys().map(|k| k.1.as_str()).collect();
    assert_eq!(cadences.len(), model::CADENCES.len(), "[{name}] cadences {cadences:?}");
    let cells = || reference.rows.values().filter(|r| r.cadence == "week").flat_map(|r| r.cells.iter());
    for m in ["csat_satisfied_share", "csat_avg", "nps", "on_time_closure_share", "closure_time_avg", "reopen_share", "critic_followup_share"] {
        let statuses: std::collections::BTreeSet<&str> =
            reference.rows.values().flat_map(|r| r.cells.iter()).filter(|c| c.metric == m).map(|c| c.status).collect();
        assert!(statuses.contains("pass") && statuses.contains("fail"), "[{name}] {m}: {statuses:?}");
    }
    assert!(cells().any(|c| c.metric == "on_time_closure_share" && c.overdue > 0), "[{name}] no overdue request");
    assert!(cells().any(|c| c.metric == "reopen_share" && c.num_milli > 0), "[{name}] no reopened request");
    // Every created request's client is known, so an eligible request is always covered: by an app rating or a request.
    assert!(reference.rows.values().any(|r| r.excluded_feedback > 0), "[{name}] no disputed feedback");
    let coverage: i64 = cells().filter(|c| c.metric == "survey_coverage_share").map(|c| c.den).sum();
    assert!(coverage > 100, "[{name}] survey decisions: {coverage}");
    let asked: std::collections::BTreeSet<&str> = reference.rows.values().flat_map(|r| r.questions.keys().map(|q| q.as_str())).collect();
    assert_eq!(asked.into_iter().collect::<Vec<_>>(), ["cleanliness", "overall", "politeness", "quality", "timeliness"], "[{name}] questions");
    for k in ["accepted", "duplicate", "too_late", "invalid_json", "out_of_range", "missing_field"] {
        assert!(counts.get(k).copied().unwrap_or(0) > 0, "[{name}] no {k} line: {counts:?}");
    }
    eprintln!("[{name}] {} lines, {} rows, {} orphans, {counts:?}", lines.len(), reference.rows.len(), orphans);
    counts
}

fn run_service_case(name: &str, tz: Tz, start: (i32, u32, u32), days: u32, seed: u64) {
    use quality_pipeline::generate::service::{generate as generate_service, ServiceConfig};
    let cfg = ServiceConfig {
        start: NaiveDate::from_ymd_opt(start.0, start.1, start.2).unwrap(),
        days,
        timezone: tz,
        seed,
        bad_surveys: 0.01,
        ..ServiceConfig::default()
    };
    let lines: Vec<String> = generate_service(&cfg).collect();
    check_service(name, tz, &lines);
    let noisy = perturb(&lines, seed ^ 0x5A5A);
    check_service(&format!("{name}+shuffled+duplicated"), tz, &noisy);
}

#[test]
fn service_profile_in_moscow_over_a_quarter_end() {
    run_service_case("service-moscow", chrono_tz::Europe::Moscow, (2026, 9, 14), 35, 42);
}

#[test]
fn service_profile_across_the_october_dst_change() {
    run_service_case("service-berlin-autumn", chrono_tz::Europe::Berlin, (2026, 10, 12), 35, 7);
}
