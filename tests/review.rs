//! `review` end to end on a generated quarter with a planted improving and a planted declining
//! seller (`generate --trends`): the verdicts, and every figure of the review against a direct
//! count from the file sink's `windows.ndjson`; the proposal file's shape; ClickHouse gives the
//! same review as the file sink.

mod common;

use common::servers::{clickhouse_url, database};
use common::{bin, ok, replay_into_clickhouse};
use quality_engine::methodology::{parse_duration_ms, MetricId, Standards};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The standards whose weekly samples the planted drift moves far beyond their noise (NPS
/// answers, audits and critics are too rare for a seller's week to show it every time).
const PLANTED: [&str; 8] = [
    "csi",
    "positive_review_share",
    "confirmation_time_avg",
    "assembly_time_avg",
    "on_time_handover_share",
    "seller_cancellation_share",
    "response_time_avg",
    "first_contact_resolution_share",
];
const DURATIONS: [&str; 3] = ["confirmation_time_avg", "assembly_time_avg", "response_time_avg"];
const LOWER_IS_BETTER: [&str; 4] = ["confirmation_time_avg", "assembly_time_avg", "response_time_avg", "seller_cancellation_share"];
/// Mondays of 2025-Q1's ISO weeks, 2025-W01 (Thursday 2025-01-02) to 2025-W13 (Thursday 2025-03-27).
const MONDAYS: [&str; 13] = [
    "2024-12-30",
    "2025-01-06",
    "2025-01-13",
    "2025-01-20",
    "2025-01-27",
    "2025-02-03",
    "2025-02-10",
    "2025-02-17",
    "2025-02-24",
    "2025-03-03",
    "2025-03-10",
    "2025-03-17",
    "2025-03-24",
];

/// Student's t 0.975 quantiles for 1 to 11 degrees of freedom, as printed in tables.
const T975: [f64; 11] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201];

/// `sellers` ordinary sellers plus the drifting pair, over the 90 days of 2025-Q1, run to files.
fn quarter_run(dir: &Path, sellers: u32) -> (PathBuf, PathBuf) {
    let events = dir.join("events.ndjson");
    ok(bin().args(["generate", "--sellers", &sellers.to_string(), "--days", "90", "--start", "2025-01-01", "--trends", "--out"]).arg(&events));
    let out = dir.join("out");
    ok(bin().args(["run", "--source", &format!("file:{}", events.display()), "--sink", &format!("file:{}", out.display())]));
    (events, out)
}

/// (cadence, seller, period_start) -> the latest version of the row, if final.
fn final_rows(windows: &Path) -> BTreeMap<(String, String, String), Value> {
    let mut latest: BTreeMap<(String, String, String), Value> = BTreeMap::new();
    for line in std::fs::read_to_string(windows).unwrap().lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let key =
            (r["cadence"].as_str().unwrap().to_owned(), r["seller_id"].as_str().unwrap().to_owned(), r["period_start"].as_str().unwrap().to_owned());
        if latest.get(&key).is_none_or(|old| r["version"].as_u64() >= old["version"].as_u64()) {
            latest.insert(key, r);
        }
    }
    latest.retain(|_, r| r["is_final"] == true);
    latest
}

fn cell<'a>(row: &'a Value, metric: &str) -> Option<&'a Value> {
    row["metrics"].as_array().unwrap().iter().find(|c| c["metric"] == metric)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn planted_trends_are_found_and_every_figure_is_the_stored_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = quarter_run(dir.path(), 40);
    let json = dir.path().join("review.json");
    let proposal = dir.path().join("revision.toml");
    let from = out.display().to_string();
    ok(bin().args(["review", "--quarter", "2025-Q1", "--from", &from, "--format", "json", "--out"]).arg(&json).arg("--propose").arg(&proposal));
    let review: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = final_rows(&out.join("windows.ndjson"));

    let weeks: Vec<String> = (1..=13).map(|w| format!("2025-W{w:02}")).collect();
    assert_eq!(review["weeks"], serde_json::json!(weeks));
    assert_eq!((review["period"]["start"].as_str(), review["period"]["end"].as_str()), (Some("2025-01-01"), Some("2025-03-31")));
    assert_eq!(review["sellers"], 42);
    let standards = review["standards"].as_array().unwrap();
    let ids: Vec<&str> = standards.iter().map(|s| s["metric"].as_str().unwrap()).collect();
    let reviewed: Vec<&str> =
        quality_engine::methodology::Standards::default().metrics().map(|m| m.as_str()).filter(|m| *m != "survey_coverage_share").collect();
    assert_eq!(ids, reviewed);

    let verdict = |metric: &str, seller: &str| -> String {
        let s = standards.iter().find(|s| s["metric"] == metric).unwrap();
        let x = s["sellers"].as_array().unwrap().iter().find(|x| x["seller_id"] == seller).unwrap();
        x["trend"]["verdict"].as_str().unwrap().to_owned()
    };
    for metric in PLANTED {
        assert_eq!(verdict(metric, "seller-0041"), "improving", "{metric}");
        assert_eq!(verdict(metric, "seller-0042"), "declining", "{metric}");
        // An ordinary seller of this seed: no trend on any of them.
        assert_eq!(verdict(metric, "seller-0001"), "stable", "{metric}");
    }

    for s in standards {
        let metric = s["metric"].as_str().unwrap();
        let mut counts = BTreeMap::new();
        for x in s["sellers"].as_array().unwrap() {
            let seller = x["seller_id"].as_str().unwrap();
            // The weekly values and the weeks failed are the seller's final weekly rows.
            let weekly: Vec<Option<&Value>> = MONDAYS.iter().map(|m| rows.get(&("week".into(), seller.into(), (*m).into()))).collect();
            let values: Vec<Option<f64>> = weekly.iter().map(|r| r.and_then(|r| cell(r, metric)).and_then(|c| c["value"].as_f64())).collect();
            let stored: Vec<Option<f64>> = x["weekly"].as_array().unwrap().iter().map(Value::as_f64).collect();
            assert_eq!(stored, values, "{metric} {seller}");
            let failed = weekly.iter().filter(|r| r.and_then(|r| cell(r, metric)).is_some_and(|c| c["status"] == "fail")).count();
            assert_eq!(x["weeks_failed"].as_u64(), Some(failed as u64), "{metric} {seller}");
            assert_eq!(x["weeks_judged"].as_u64(), Some(values.iter().flatten().count() as u64));
            // The slope is the least-squares slope of those values against the week number.
            let points: Vec<(f64, f64)> = values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i as f64, v))).collect();
            let trend = &x["trend"];
            *counts.entry(trend["verdict"].as_str().unwrap().to_owned()).or_insert(0) += 1;
            if points.len() < 4 {
                assert_eq!(trend["verdict"], "insufficient");
                assert!(trend["slope"].is_null());
            } else {
                let n = points.len() as f64;
                let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
                let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
                let slope = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
                assert!(close(trend["slope"].as_f64().unwrap(), slope), "{metric} {seller}");
                // The band: slope -+ t(0.975, n - 2) x SE, SE = sqrt(SSE / (n - 2) / Sxx).
                let intercept = my - slope * mx;
                let sse: f64 = points.iter().map(|p| (p.1 - intercept - slope * p.0).powi(2)).sum();
                let se = (sse / (n - 2.0) / sxx).sqrt();
                let (lo, hi) = (trend["low"].as_f64().unwrap(), trend["high"].as_f64().unwrap());
                let t = T975[points.len() - 3];
                assert!((hi - slope - t * se).abs() <= 1e-3 * t * se && (slope - lo - t * se).abs() <= 1e-3 * t * se, "{metric} {seller}");
                let (better, worse) = if LOWER_IS_BETTER.contains(&metric) { (hi < 0.0, lo > 0.0) } else { (lo > 0.0, hi < 0.0) };
                let want = if better {
                    "improving"
                } else if worse {
                    "declining"
                } else {
                    "stable"
                };
                assert_eq!(trend["verdict"], want, "{metric} {seller}: band {lo} .. {hi}");
            }
            // The quarter's value: the seller's quarter row, which is the three month rows summed.
            let months: Vec<&Value> = ["2025-01-01", "2025-02-01", "2025-03-01"]
                .iter()
                .filter_map(|m| rows.get(&("month".into(), seller.into(), (*m).into())))
                .filter_map(|r| cell(r, metric))
                .filter(|c| !c["value"].is_null())
                .collect();
            let q = &x["quarter"];
            if months.is_empty() {
                assert!(q.is_null(), "{metric} {seller}");
                continue;
            }
            let num: f64 = months.iter().map(|c| c["numerator"].as_f64().unwrap()).sum();
            let den: i64 = months.iter().map(|c| c["denominator"].as_i64().unwrap()).sum();
            let value = num / den as f64 * if metric == "nps" { 100.0 } else { 1.0 };
            assert!(close(q["value"].as_f64().unwrap(), value), "{metric} {seller}: {q} vs {value}");
            assert_eq!(q["denominator"].as_i64(), Some(den));
            assert_eq!(q["basis"], "quarter_row");
            let row = rows.get(&("quarter".into(), seller.into(), "2025-01-01".into())).and_then(|r| cell(r, metric)).unwrap();
            assert!(
                close(row["numerator"].as_f64().unwrap(), num) && row["denominator"].as_i64() == Some(den),
                "{metric} {seller}: quarter row = sum of months"
            );
        }
        let trends = &s["trends"];
        for v in ["improving", "stable", "declining", "insufficient"] {
            assert_eq!(trends[v].as_u64(), Some(*counts.get(v).unwrap_or(&0)), "{metric} {v}");
        }

        // Platform pass shares: a direct count of the final weekly rows judging the standard.
        for (i, w) in s["weeks"].as_array().unwrap().iter().enumerate() {
            let judged: Vec<&Value> = rows
                .iter()
                .filter(|((c, _, p), _)| c == "week" && p == MONDAYS[i])
                .filter_map(|(_, r)| cell(r, metric))
                .filter(|c| !c["value"].is_null())
                .collect();
            let passing = judged.iter().filter(|c| c["status"] == "pass").count();
            assert_eq!(w["week"], weeks[i]);
            assert_eq!((w["judged"].as_u64(), w["passing"].as_u64()), (Some(judged.len() as u64), Some(passing as u64)), "{metric} {}", weeks[i]);
            assert_eq!(w["share"].as_f64(), (!judged.is_empty()).then(|| passing as f64 / judged.len() as f64));
        }

        // The proposal learns from the quarter's daily cells (weekly for the base standards)
        // with at least 10 observations.
        let p = &s["proposal"];
        let cadence = if ["csi", "nps", "positive_review_share"].contains(&metric) { "week" } else { "day" };
        assert_eq!(p["cadence"], cadence);
        let eligible = rows
            .iter()
            .filter(|((c, _, start), _)| c == cadence && (cadence == "week" || ("2025-01-01".."2025-04-01").contains(&start.as_str())))
            .filter(|((_, _, start), _)| cadence == "day" || MONDAYS.contains(&start.as_str()))
            .filter_map(|(_, r)| cell(r, metric))
            .filter(|c| !c["value"].is_null() && c["denominator"].as_i64().unwrap() >= 10)
            .count();
        assert_eq!(p["cells"].as_u64(), Some(eligible as u64), "{metric}");
        if let Some(k) = p["passing_proposed"].as_u64() {
            assert!(k as usize >= (9 * eligible).div_ceil(10), "{metric}: {k} of {eligible}");
        }
    }

    // The proposal: one standards revision for 2025-Q2, with a target per proposed standard.
    let text = std::fs::read_to_string(&proposal).unwrap();
    let toml: toml::Value = toml::from_str(&text).unwrap();
    let revisions = toml["standards"]["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 1);
    let revision = revisions[0].as_table().unwrap();
    assert_eq!((revision["id"].as_str(), revision["effective_from"].as_str()), (Some("2025-Q2"), Some("2025-04-01")));
    let mut targets = revision.clone();
    targets.remove("id");
    targets.remove("effective_from");
    let proposed: Vec<&Value> = standards.iter().filter(|s| !s["proposal"]["proposed"].is_null()).collect();
    assert!(proposed.len() >= 8, "{text}");
    assert_eq!(targets.len(), proposed.len(), "{text}");
    // Each entry is a standards override as the config reads them (only `target`).
    let as_config: Standards = toml::Value::Table(targets.clone()).try_into().unwrap();
    for s in proposed {
        let metric = s["metric"].as_str().unwrap();
        assert_eq!(targets[metric].as_table().unwrap().keys().collect::<Vec<_>>(), ["target"]);
        let want = s["proposal"]["proposed"].as_f64().unwrap();
        let got = if DURATIONS.contains(&metric) {
            parse_duration_ms(targets[metric]["target"].as_str().unwrap()).unwrap() as f64 / 1000.0
        } else {
            targets[metric]["target"].as_float().unwrap()
        };
        assert_eq!(got, want, "{metric}");
        assert_eq!(as_config.get(MetricId::from_id(metric).unwrap()).target, want, "{metric}");
        assert!(text.contains(&format!("\n[standards.revisions.{metric}]\ntarget = ")), "{text}");
    }
    assert!(text.contains("# csi (>=): the current target 4.50 is met by "), "{text}");
    assert!(text.contains("# 2025-Q1 trends of sellers: "), "{text}");

    // The Markdown summary: the declining seller leads the CSI decliners.
    let md = ok(bin().args(["review", "--quarter", "2025-Q1", "--from", &from]));
    assert!(md.starts_with("# Quarterly review 2025-Q1\n\n2025-01-01 .. 2025-03-31 (Europe/Moscow), ISO weeks 2025-W01 .. 2025-W13"), "{md}");
    let csi = md.split("### CSI (≥ 4.50)\n\n").nth(1).unwrap();
    assert!(csi.lines().nth(2).unwrap().starts_with("| seller-0042 | -0."), "{csi}");
    assert!(md.contains("| week | CSI | NPS | Positive reviews |"), "{md}");
}

#[test]
fn bad_arguments_and_missing_rows_say_what_to_do() {
    let help = ok(bin().args(["review", "--help"]));
    assert!(
        help.contains("Examples:") && help.contains("quality-pipeline review --quarter 2025-Q1 --from out/") && help.contains("--propose"),
        "{help}"
    );
    assert!(ok(bin().arg("--help")).contains("quality-pipeline review"));
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| -> (Option<i32>, String) {
        let o = bin().arg("review").args(args).output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let d = dir.path().display().to_string();
    let (code, err) = run(&["--quarter", "2025Q1", "--from", &d]);
    assert_eq!(code, Some(2));
    assert!(err.contains("\"2025Q1\" is not a quarter; write it as YYYY-Qn, e.g. 2025-Q1"), "{err}");
    let (_, err) = run(&["--quarter", "2025-Q1", "--from", &d]);
    assert!(err.contains("windows.ndjson") && err.contains("run --sink file:DIR"), "{err}");
    // One final weekly row in 2025-W14, whose Thursday (2025-04-03) is in Q2.
    let row = serde_json::json!({"seller_id": "s", "cadence": "week", "period_start": "2025-03-31", "period_end": "2025-04-07", "is_final": true,
        "version": 1, "metrics": [{"metric": "csi", "numerator": 5.0, "denominator": 1, "value": 5.0, "target": 4.5, "status": "pass", "overdue": 0}]});
    std::fs::write(dir.path().join("windows.ndjson"), format!("{row}\n")).unwrap();
    let (code, err) = run(&["--quarter", "2025-Q1", "--from", &format!("file:{d}")]);
    assert_eq!(code, Some(2));
    assert!(err.contains(&format!("no final rows of 2025-Q1 in {d}; quarters with final weekly rows: 2025-Q2 (pick one with --quarter)")), "{err}");
    let (_, err) = run(&["--quarter", "2025-Q1", "--from", &d, "--pass-rate", "0"]);
    assert!(err.contains("--pass-rate must be in (0, 1]"), "{err}");
    let (_, err) = run(&["--quarter", "2025-Q1"]);
    assert!(err.contains("--from"), "{err}");
}

#[test]
fn clickhouse_gives_the_file_sinks_review() {
    let (url, db) = (clickhouse_url(), database("review"));
    let dir = tempfile::tempdir().unwrap();
    let (events, out) = quarter_run(dir.path(), 8);
    replay_into_clickhouse(&events, url, &db, &[]);
    let args = ["--quarter", "2025-Q1", "--format", "json", "--min-cells", "3"];
    let from_file = ok(bin().args(["review", "--from", &out.display().to_string()]).args(args));
    let from_ch = ok(bin().args(["review", "--clickhouse", "--clickhouse-url", url, "--clickhouse-database", &db]).args(args));
    assert!(from_file.contains("\"seller_id\": \"seller-0010\""), "{from_file}");
    assert_eq!(from_file, from_ch);
}
