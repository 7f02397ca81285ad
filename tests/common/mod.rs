//! Helpers shared by integration tests: building events, collecting engine output, servers.

#![allow(dead_code)]

pub mod servers;
pub mod web;

use quality_engine::methodology::MetricId;
use quality_engine::output::{MetricCell, WindowRow};
use quality_engine::window::Cadence;
use quality_engine::{Engine, EngineConfig, Output, Verdict};
use serde_json::{json, Value};
use std::process::Command;

/// The built binary, with quiet logs.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quality-pipeline"));
    c.env("QP_LOG", "warn");
    c
}

/// Replays an event file into a ClickHouse database with the binary (`extra`: more `run` flags).
pub fn replay_into_clickhouse(events: &std::path::Path, url: &str, db: &str, extra: &[&str]) {
    ok(bin()
        .args([
            "run",
            "--source",
            &format!("file:{}", events.display()),
            "--sink",
            "clickhouse",
            "--clickhouse-url",
            url,
            "--clickhouse-database",
            db,
        ])
        .args(extra));
}

/// Runs a command that must succeed; returns its stdout.
pub fn ok(c: &mut Command) -> String {
    let out = c.output().expect("the binary runs");
    assert!(out.status.success(), "{c:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// An event line with the envelope filled in; `fields` adds the type's own fields.
pub fn event(id: &str, kind: &str, at: &str, seller: &str, fields: Value) -> String {
    let mut v = json!({"event_id": id, "type": kind, "occurred_at": at, "seller_id": seller});
    if let (Some(obj), Some(extra)) = (v.as_object_mut(), fields.as_object()) {
        obj.extend(extra.clone());
    }
    v.to_string()
}

/// Feeds lines into a fresh engine, finishes it and returns every output plus the verdicts.
pub fn run_lines(config: EngineConfig, lines: &[String]) -> (Vec<Output>, Vec<Verdict>, Engine) {
    let mut engine = Engine::new(config);
    let verdicts = lines.iter().map(|l| engine.ingest(l.as_bytes())).collect();
    let mut out = Vec::new();
    engine.finish(&mut out);
    (out, verdicts, engine)
}

/// The final row of a seller, cadence and period start.
pub fn final_row<'a>(out: &'a [Output], seller: &str, cadence: Cadence, period_start: &str) -> &'a WindowRow {
    out.iter()
        .filter_map(|o| match o {
            Output::Row(r) if r.is_final && &*r.seller_id == seller && r.cadence == cadence && r.period_start == period_start => Some(r),
            _ => None,
        })
        .next()
        .unwrap_or_else(|| panic!("no final {cadence} row for {seller} starting {period_start}"))
}

/// One metric's cell of a row.
pub fn cell(row: &WindowRow, m: MetricId) -> &MetricCell {
    row.metrics.iter().find(|c| c.metric == m).unwrap_or_else(|| panic!("{m} not in the {} row", row.cadence))
}
