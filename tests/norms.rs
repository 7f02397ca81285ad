//! `norms` end to end: suggested targets equal an independent nearest-rank computation on the
//! file sink's rows, feeding them back as `--config` makes at least the pass rate of the cells
//! pass, and ClickHouse gives the same output as the file sink.

mod common;

use common::servers::{clickhouse_url, database};
use common::{bin, ok, replay_into_clickhouse};
use quality_engine::methodology::parse_duration_ms;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const LOWER_IS_BETTER: [&str; 4] = ["confirmation_time_avg", "assembly_time_avg", "response_time_avg", "seller_cancellation_share"];
const DURATIONS: [&str; 3] = ["confirmation_time_avg", "assembly_time_avg", "response_time_avg"];

/// (metric, seller, period_start) -> (value, status) of the final month cells with at least
/// `min_sample` observations; the latest version of every window wins.
type Cells = BTreeMap<(String, String, String), (f64, String)>;

fn month_cells(windows: &Path, min_sample: i64) -> Cells {
    let mut latest: BTreeMap<(String, String), (u64, Value)> = BTreeMap::new();
    for line in std::fs::read_to_string(windows).unwrap().lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        if r["cadence"] != "month" {
            continue;
        }
        let key = (r["seller_id"].as_str().unwrap().to_owned(), r["period_start"].as_str().unwrap().to_owned());
        let version = r["version"].as_u64().unwrap();
        if latest.get(&key).is_none_or(|(v, _)| version >= *v) {
            latest.insert(key, (version, r));
        }
    }
    let mut cells = Cells::new();
    for ((seller, period), (_, r)) in latest {
        if r["is_final"] != true {
            continue;
        }
        for c in r["metrics"].as_array().unwrap() {
            if let (Some(v), true) = (c["value"].as_f64(), c["denominator"].as_i64().unwrap() >= min_sample) {
                cells.insert(
                    (c["metric"].as_str().unwrap().to_owned(), seller.clone(), period.clone()),
                    (v, c["status"].as_str().unwrap().to_owned()),
                );
            }
        }
    }
    cells
}

fn values(cells: &Cells, metric: &str) -> Vec<f64> {
    cells.iter().filter(|(k, _)| k.0 == metric).map(|(_, v)| v.0).collect()
}

/// Cells sorted from the best to the worst.
fn best_first(mut v: Vec<f64>, metric: &str) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    if !LOWER_IS_BETTER.contains(&metric) {
        v.reverse();
    }
    v
}

fn is_better(metric: &str, a: f64, b: f64) -> bool {
    if LOWER_IS_BETTER.contains(&metric) {
        a < b
    } else {
        a > b
    }
}

fn stream(dir: &Path, sellers: u32, days: u32) -> PathBuf {
    let events = dir.join("events.ndjson");
    ok(bin().args(["generate", "--sellers", &sellers.to_string(), "--days", &days.to_string(), "--start", "2025-01-06", "--out"]).arg(&events));
    events
}

fn run_to_files(events: &Path, out: &Path, config: Option<&Path>) {
    let mut c = bin();
    if let Some(config) = config {
        c.arg("--config").arg(config);
    }
    ok(c.args(["run", "--source", &format!("file:{}", events.display()), "--sink", &format!("file:{}", out.display())]));
}

#[test]
fn suggestions_are_the_nearest_rank_cells_and_pass_at_least_the_pass_rate() {
    let dir = tempfile::tempdir().unwrap();
    let events = stream(dir.path(), 60, 90);
    let out = dir.path().join("out");
    run_to_files(&events, &out, None);
    let snippet = dir.path().join("snippet.toml");
    let table =
        ok(bin().args(["norms", "--from", &format!("file:{}", out.display()), "--cadence", "month", "--pass-rate", "0.9", "--out"]).arg(&snippet));
    let text = std::fs::read_to_string(&snippet).unwrap();
    let toml: toml::Value = toml::from_str(&text).unwrap();
    let standards = toml["standards"].as_table().unwrap();

    let cells = month_cells(&out.join("windows.ndjson"), 20);
    let mut expected = BTreeMap::new();
    for metric in quality_engine::methodology::Standards::default().metrics().map(|m| m.as_str()) {
        let best = best_first(values(&cells, metric), metric);
        let n = best.len();
        if metric == "critic_followup_share" {
            // Critics are rare: no seller settles 20 in a month of this stream (too few to suggest).
            assert!(n < 10, "{metric}: {n} cells");
            continue;
        }
        assert!(n >= 10, "{metric}: {n} cells; the stream should give every standard enough");
        let line = table.lines().find(|l| l.split_whitespace().next() == Some(metric)).unwrap_or_else(|| panic!("{metric} in\n{table}"));
        assert_eq!(line.split_whitespace().nth(2), Some(n.to_string().as_str()), "{line}");
        // The ceil(0.9 n)-th best cell, in integers.
        let rank = (9 * n).div_ceil(10);
        let threshold = best[rank - 1];
        let target = &standards[metric]["target"];
        let target = if DURATIONS.contains(&metric) {
            // The config holds whole milliseconds: rounded up, towards passing.
            let secs = parse_duration_ms(target.as_str().unwrap()).unwrap() as f64 / 1000.0;
            assert!(secs >= threshold && secs - threshold < 0.001, "{metric}: {secs} for {threshold}");
            secs
        } else {
            assert_eq!(target.as_float(), Some(threshold), "{metric}");
            threshold
        };
        // Fewer than `rank` cells are strictly better than the threshold: it is the tightest one.
        assert!(best.iter().filter(|v| is_better(metric, **v, threshold)).count() < rank, "{metric}");
        expected.insert(metric, (n, rank, target));
    }

    // The snippet as the config: at least ceil(0.9 n) of the same cells pass.
    let out2 = dir.path().join("out2");
    run_to_files(&events, &out2, Some(&snippet));
    let judged = month_cells(&out2.join("windows.ndjson"), 20);
    assert_eq!(judged.len(), cells.len(), "targets change no value");
    for (metric, (n, rank, target)) in expected {
        let mine: Vec<&(f64, String)> = judged.iter().filter(|(k, _)| k.0 == metric).map(|(_, v)| v).collect();
        assert_eq!(mine.len(), n);
        let passed = mine.iter().filter(|(_, s)| s == "pass").count();
        assert!(passed >= rank && passed as f64 >= 0.9 * n as f64, "{metric}: {passed} of {n} pass, want at least {rank}");
        // Exactly the cells at least as good as the target pass (the engine's rule, relative tolerance 1e-9).
        let slack = 1e-9 * target.abs().max(1.0);
        let meet = mine.iter().filter(|(v, _)| if LOWER_IS_BETTER.contains(&metric) { *v <= target + slack } else { *v >= target - slack }).count();
        assert_eq!(passed, meet, "{metric}");
    }

    // Too few cells: listed as skipped with the reason, and left out of the snippet.
    let n = values(&cells, "answer_completeness_share").len();
    assert!(n < 30, "{n}");
    let printed = ok(bin().args(["norms", "--from", &format!("file:{}", out.display()), "--min-cells", "30"]));
    let reason = format!("{n} cells with at least 20 observations; a suggestion needs at least 30 (--min-cells)");
    assert!(printed.contains(&format!("skipped answer_completeness_share: {reason}")), "{printed}");
    assert!(printed.contains(&format!("# [standards.answer_completeness_share] skipped: {reason}")), "{printed}");
    assert!(printed.contains("[standards.csi]\ntarget = "), "{printed}");
}

#[test]
fn help_has_examples_and_bad_arguments_are_clear_errors() {
    let help = ok(bin().args(["norms", "--help"]));
    assert!(help.contains("Examples:") && help.contains("quality-pipeline norms --from file:out/") && help.contains("--pass-rate"), "{help}");
    assert!(ok(bin().arg("--help")).contains("quality-pipeline norms"));
    let dir = tempfile::tempdir().unwrap();
    let missing = bin().args(["norms", "--from", &format!("file:{}", dir.path().display())]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("windows.ndjson"));
    let rate = bin().args(["norms", "--from", "file:x", "--pass-rate", "1.5"]).output().unwrap();
    assert!(String::from_utf8_lossy(&rate.stderr).contains("--pass-rate must be in (0, 1]"));
    let from = bin().args(["norms", "--from", "kafka"]).output().unwrap();
    assert!(String::from_utf8_lossy(&from.stderr).contains("use file:DIR"));
}

#[test]
fn clickhouse_gives_the_file_sinks_norms() {
    let (url, db) = (clickhouse_url(), database("norms"));
    let dir = tempfile::tempdir().unwrap();
    let events = stream(dir.path(), 20, 62);
    let out = dir.path().join("out");
    run_to_files(&events, &out, None);
    replay_into_clickhouse(&events, url, &db, &[]);
    let args = ["--cadence", "month", "--pass-rate", "0.8", "--min-cells", "5"];
    let from_file = ok(bin().args(["norms", "--from", &format!("file:{}", out.display())]).args(args));
    let from_ch = ok(bin().args(["norms", "--from", "clickhouse", "--clickhouse-url", url, "--clickhouse-database", &db]).args(args));
    assert!(from_file.contains("[standards.csi]\ntarget = "), "{from_file}");
    assert_eq!(from_file, from_ch);
}
