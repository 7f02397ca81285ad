//! Drives the engine through its public API and compares its final rows with the reference.
#![allow(dead_code)]

use super::model::{Cell, Comp, Key, RefVerdict, Row};
use chrono::NaiveDate;
use quality_engine::contract::RejectReason;
use quality_engine::methodology::EntityKind;
use quality_engine::{Engine, EngineConfig, Output, Stats, Verdict, WindowRow};
use std::collections::BTreeMap;

pub struct Run {
    pub verdicts: Vec<Verdict>,
    pub rows: BTreeMap<Key, Row>,
    pub stats: Stats,
    pub dead_letters: Vec<quality_engine::DeadLetter>,
}

fn text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v).expect("serializable") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// An engine row in the reference's shape (numerator x 1000 rounded to an integer).
pub fn convert(r: &WindowRow) -> Row {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("bad date {s:?}: {e}"));
    let cells = r
        .metrics
        .iter()
        .map(|c| {
            let id = c.metric.as_str();
            let status = match text(&c.status).as_str() {
                "pass" => "pass",
                "fail" => "fail",
                "no_data" => "no_data",
                other => panic!("unknown status {other}"),
            };
            Cell {
                metric: id,
                num_milli: (c.numerator * 1000.0).round() as i64,
                den: c.denominator,
                overdue: c.overdue,
                value: c.value,
                target: c.target,
                deviation: c.deviation,
                previous: c.previous,
                change: c.change,
                status,
            }
        })
        .collect();
    Row {
        seller: match (r.entity, &r.department_id) {
            (EntityKind::Seller, _) => r.seller_id.to_string(),
            (EntityKind::Performer, Some(d)) => format!("performer:{d}/{}", r.seller_id),
            (kind, _) => format!("{}:{}", kind.as_str(), r.seller_id),
        },
        cadence: text(&r.cadence),
        start: date(&r.period_start.to_string()),
        end: date(&r.period_end.to_string()),
        cells,
        composite: r.composite.as_ref().map(|c| Comp { score: c.score, rank: c.rank, ranked: c.ranked_sellers }),
        questions: r.questions.iter().map(|q| (q.question_id.to_string(), moments(&q.moments))).collect(),
        excluded_feedback: r.excluded_feedback,
    }
}

fn moments(m: &quality_engine::methodology::CoMoments) -> [i64; 6] {
    [m.n, m.sx, m.sy, m.sxx, m.syy, m.sxy]
}

/// Feeds `lines` in order, draining every `drain_every` lines, and collects the final rows.
pub fn run_engine<L: AsRef<[u8]>>(cfg: &EngineConfig, lines: &[L], drain_every: usize) -> Run {
    let mut e = Engine::new(cfg.clone());
    let mut out = Vec::new();
    let mut verdicts = Vec::with_capacity(lines.len());
    let mut rows = BTreeMap::new();
    let mut dead_letters = Vec::new();
    let mut take = |out: &mut Vec<Output>, rows: &mut BTreeMap<Key, Row>| {
        for o in out.drain(..) {
            match o {
                Output::Row(r) if r.is_final => {
                    let row = convert(&r);
                    let key = (row.seller.clone(), row.cadence.clone(), row.start);
                    if let Some(old) = rows.insert(key.clone(), row.clone()) {
                        assert_eq!(old, row, "two different final rows for {key:?}");
                    }
                }
                Output::Row(_) => {}
                Output::DeadLetter(d) => dead_letters.push(d),
                Output::Escalation(_) | Output::SurveyRequest(_) | Output::Critic(_) | Output::Reasons(_) => {}
            }
        }
    };
    for (i, l) in lines.iter().enumerate() {
        verdicts.push(e.ingest(l.as_ref()));
        if drain_every > 0 && (i + 1) % drain_every == 0 {
            e.drain(&mut out);
            take(&mut out, &mut rows);
        }
    }
    e.finish(&mut out);
    take(&mut out, &mut rows);
    Run { verdicts, rows, stats: e.stats().clone(), dead_letters }
}

/// The engine's verdict in the reference's terms.
pub fn verdict(v: &Verdict) -> RefVerdict {
    match v {
        Verdict::Accepted(_) => RefVerdict::Accepted,
        Verdict::Duplicate(_) => RefVerdict::Duplicate,
        Verdict::Rejected(r) => RefVerdict::Rejected(r.reason),
    }
}

/// The first line whose verdict differs, described.
pub fn compare_verdicts<L: AsRef<[u8]>>(lines: &[L], engine: &[Verdict], reference: &[RefVerdict]) -> Result<(), String> {
    assert_eq!(engine.len(), reference.len());
    for (i, (e, r)) in engine.iter().zip(reference).enumerate() {
        if verdict(e) != *r {
            return Err(format!("line {i}: engine verdict {e:?}, reference {r:?}\n  line: {}", String::from_utf8_lossy(lines[i].as_ref())));
        }
    }
    Ok(())
}

pub fn close(a: f64, b: f64) -> bool {
    // Relative 1e-9; values near 0 (deviations, changes) compared at the scale of 1.
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn close_opt(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => close(a, b),
        _ => false,
    }
}

/// Compares two rows with the same key; describes the first differing field.
pub fn compare_row(engine: &Row, reference: &Row) -> Result<(), String> {
    let key = format!("({}, {}, {})", reference.seller, reference.cadence, reference.start);
    if engine.end != reference.end {
        return Err(format!("{key}: period_end engine {} != reference {}", engine.end, reference.end));
    }
    let ids = |r: &Row| r.cells.iter().map(|c| c.metric).collect::<Vec<_>>();
    if ids(engine) != ids(reference) {
        return Err(format!("{key}: metrics engine {:?} != reference {:?}", ids(engine), ids(reference)));
    }
    for (e, r) in engine.cells.iter().zip(&reference.cells) {
        let m = r.metric;
        let ints = [("numerator*1000", e.num_milli, r.num_milli), ("denominator", e.den, r.den), ("overdue", e.overdue, r.overdue)];
        for (field, a, b) in ints {
            if a != b {
                return Err(format!("{key} {m}.{field}: engine {a} != reference {b}\n  engine:    {e:?}\n  reference: {r:?}"));
            }
        }
        let floats = [
            ("value", e.value, r.value),
            ("target", Some(e.target), Some(r.target)),
            ("deviation", e.deviation, r.deviation),
            ("previous", e.previous, r.previous),
            ("change", e.change, r.change),
        ];
        for (field, a, b) in floats {
            if !close_opt(a, b) {
                return Err(format!("{key} {m}.{field}: engine {a:?} != reference {b:?}\n  engine:    {e:?}\n  reference: {r:?}"));
            }
        }
        if e.status != r.status {
            return Err(format!("{key} {m}.status: engine {} != reference {}\n  engine:    {e:?}\n  reference: {r:?}", e.status, r.status));
        }
    }
    if engine.excluded_feedback != reference.excluded_feedback {
        return Err(format!("{key} excluded_feedback: engine {} != reference {}", engine.excluded_feedback, reference.excluded_feedback));
    }
    if engine.questions != reference.questions {
        return Err(format!("{key} questions: engine {:?} != reference {:?}", engine.questions, reference.questions));
    }
    match (&engine.composite, &reference.composite) {
        (None, None) => {}
        (Some(e), Some(r)) => {
            if !close(e.score, r.score) {
                return Err(format!("{key} composite.score: engine {} != reference {}", e.score, r.score));
            }
            if (e.rank, e.ranked) != (r.rank, r.ranked) {
                return Err(format!("{key} composite.rank: engine {:?}/{:?} != reference {:?}/{:?}", e.rank, e.ranked, r.rank, r.ranked));
            }
        }
        (e, r) => return Err(format!("{key} composite: engine {e:?} != reference {r:?}")),
    }
    Ok(())
}

/// Same keys, then every row equal; the error names the first difference (in key order).
pub fn compare_rows(engine: &BTreeMap<Key, Row>, reference: &BTreeMap<Key, Row>) -> Result<(), String> {
    let only_engine: Vec<_> = engine.keys().filter(|k| !reference.contains_key(*k)).collect();
    let only_ref: Vec<_> = reference.keys().filter(|k| !engine.contains_key(*k)).collect();
    if !only_engine.is_empty() || !only_ref.is_empty() {
        let show = |v: &[&Key]| v.iter().take(5).map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ");
        let mut msg = format!(
            "row keys differ: {} only in engine (first: {}), {} only in reference (first: {})",
            only_engine.len(),
            show(&only_engine),
            only_ref.len(),
            show(&only_ref)
        );
        if let Some(k) = only_engine.first() {
            msg += &format!("\n  first engine-only row: {:?}", engine[*k]);
        }
        if let Some(k) = only_ref.first() {
            msg += &format!("\n  first reference-only row: {:?}", reference[*k]);
        }
        return Err(msg);
    }
    let mut errors = Vec::new();
    for (k, r) in reference {
        if let Err(e) = compare_row(&engine[k], r) {
            errors.push(e);
        }
    }
    match errors.len() {
        0 => Ok(()),
        n => Err(format!("{n} of {} rows differ; first:\n{}", reference.len(), errors[0])),
    }
}

/// Reasons found only when state expires, never a verdict on a line.
pub fn is_expiry_reason(r: RejectReason) -> bool {
    matches!(
        r,
        RejectReason::OrderWithoutCreation
            | RejectReason::ReplyWithoutMessage
            | RejectReason::ComplaintWithoutOrder
            | RejectReason::RequestWithoutCreation
    )
}
