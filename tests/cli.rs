//! The binary end to end: generate, run over files and stdin, demo, help and errors.

mod common;

use common::{bin, ok};
use std::path::Path;
use std::process::Stdio;

fn lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn generate_then_run_writes_rows_and_dead_letters_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.ndjson");
    ok(bin().args(["generate", "--sellers", "12", "--days", "15", "--seed", "5", "--out"]).arg(&events));
    let input = std::fs::read_to_string(&events).unwrap();
    let n_lines = input.lines().count();
    assert!(n_lines > 5000, "{n_lines} lines");

    let out1 = dir.path().join("out1");
    ok(bin().args(["run", "--source", &format!("file:{}", events.display()), "--sink", &format!("file:{}", out1.display())]));
    let rows = lines(&out1.join("windows.ndjson"));
    let dead = lines(&out1.join("dead_letter.ndjson"));
    assert!(rows.iter().all(|r| r["is_final"] == true), "a file replay without --provisional-every emits final rows only");
    for cadence in ["day", "week", "month", "rolling_7d", "rolling_30d"] {
        assert!(rows.iter().any(|r| r["cadence"] == cadence), "no {cadence} rows");
    }
    assert!(!dead.is_empty());
    for d in &dead {
        assert!(d["reason"].is_string() && d["detail"].is_string() && d["source"].is_string(), "{d}");
        assert!(d["payload"].is_string() || d["payload_hex"].is_string(), "dead letters keep the payload: {d}");
    }
    let too_late: Vec<_> = dead.iter().filter(|d| d["reason"] == "too_late").collect();
    assert!(!too_late.is_empty(), "the default stream has too-late events");
    for d in too_late {
        let line_no: usize = d["source"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap();
        assert_eq!(input.lines().nth(line_no - 1).unwrap(), d["payload"].as_str().unwrap(), "source points at the original line");
    }

    // Same input from stdin: byte-identical tables.
    let out2 = dir.path().join("out2");
    let mut child = bin().args(["run", "--source", "file:-", "--sink", &format!("file:{}", out2.display())]).stdin(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert_eq!(std::fs::read(out1.join("windows.ndjson")).unwrap(), std::fs::read(out2.join("windows.ndjson")).unwrap());
}

#[test]
fn provisional_rows_are_superseded_by_final_rows() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.ndjson");
    ok(bin().args(["generate", "--sellers", "5", "--days", "10", "--seed", "9", "--out"]).arg(&events));
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        ok(bin().args(["run", "--source", &format!("file:{}", events.display()), "--sink", &format!("file:{}", out.display())]).args(extra));
        lines(&out.join("windows.ndjson"))
    };
    let finals = run("final", &[]);
    let upserts = run("prov", &["--provisional-every", "500"]);
    assert!(upserts.iter().any(|r| r["is_final"] == false));
    // Keep the highest version per key, as ClickHouse's ReplacingMergeTree does.
    let mut latest = std::collections::BTreeMap::new();
    for r in upserts {
        let key = (r["seller_id"].to_string(), r["cadence"].to_string(), r["period_start"].to_string());
        let v = r["version"].as_u64().unwrap();
        if latest.get(&key).is_none_or(|(old, _): &(u64, serde_json::Value)| v >= *old) {
            latest.insert(key, (v, r));
        }
    }
    let merged: Vec<_> = latest.into_values().map(|(_, r)| r).collect();
    let mut expected = finals.clone();
    let key = |r: &serde_json::Value| (r["seller_id"].to_string(), r["cadence"].to_string(), r["period_start"].to_string());
    expected.sort_by_key(key);
    assert_eq!(merged.len(), expected.len());
    assert_eq!(merged, expected, "upserts with provisional rows converge to the final rows");
}

#[test]
fn demo_prints_the_weekly_breach_table() {
    let out = ok(bin().args(["demo", "--sellers", "30", "--seed", "3"]));
    assert!(out.contains("sellers breach at least one standard"), "{out}");
    assert!(out.contains("target"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("seller-") && l.contains('!')), "{out}");
}

#[test]
fn help_shows_examples_and_bad_arguments_say_what_to_do() {
    let help = ok(bin().arg("--help"));
    assert!(help.contains("Examples:") && help.contains("quality-pipeline demo"), "{help}");
    let run_help = ok(bin().args(["run", "--help"]));
    assert!(run_help.contains("file:"), "{run_help}");
    let out = bin().args(["run", "--source", "kafak:orders", "--sink", "file:/tmp/x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported source") && err.contains("file:PATH"), "{err}");
    let out = bin().args(["run", "--source", "file:/nonexistent/events.ndjson", "--sink", "file:/tmp/x"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open event file"));
}

#[test]
fn a_config_file_changes_targets_and_bad_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("qp.toml");
    std::fs::write(&cfg, "[standards.csi]\ntarget = 1.0\n[standards.nps]\ntarget = -100\n").unwrap();
    let lenient = ok(bin().arg("--config").arg(&cfg).args(["demo", "--sellers", "20", "--seed", "3"]));
    let strict = ok(bin().args(["demo", "--sellers", "20", "--seed", "3"]));
    assert_ne!(lenient, strict);
    assert!(lenient.contains(" 1.00"), "the target row shows the configured CSI target: {lenient}");
    std::fs::write(&cfg, "[standards.csat]\ntarget = 1.0\n").unwrap();
    let out = bin().arg("--config").arg(&cfg).args(["demo"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("unknown standard") && err.contains("csi"), "{err}");
}

#[test]
fn start_days_ago_begins_the_stream_relative_to_today() {
    let out = ok(bin().args(["generate", "--sellers", "1", "--days", "1", "--clean", "--start-days-ago", "3"]));
    let first: serde_json::Value = serde_json::from_str(out.lines().next().expect("events")).unwrap();
    let at = first["occurred_at"].as_str().unwrap();
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let today = chrono::DateTime::from_timestamp(secs, 0).unwrap().date_naive();
    let day = chrono::NaiveDate::parse_from_str(&at[..10], "%Y-%m-%d").unwrap();
    // Local dates of the default zone (Moscow) may be a day after the UTC date.
    let back = (today - day).num_days();
    assert!((2..=4).contains(&back), "first event {at} is {back} days before {today}");
    let clash = bin().args(["generate", "--start", "2025-01-01", "--start-days-ago", "3"]).output().unwrap();
    assert!(!clash.status.success());
}

#[test]
fn generate_service_profile_is_deterministic_keyed_by_department_and_refuses_marketplace_flags() {
    let args = ["generate", "--profile", "service", "--departments", "2", "--performers", "3", "--days", "7", "--seed", "4", "--clean"];
    let out = ok(bin().args(args));
    assert_eq!(out, ok(bin().args(args)), "same seed, same bytes");
    let events: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(events.len() > 100, "{} events", events.len());
    assert!(events.iter().all(|e| e["seller_id"] == "dept-01" || e["seller_id"] == "dept-02"), "keyed by department");
    assert!(events.iter().any(|e| e["type"] == "request.created") && events.iter().any(|e| e["type"] == "survey.answered"));
    let help = ok(bin().args(["generate", "--help"]));
    assert!(help.contains("--profile service") && help.contains("--departments"), "{help}");
    for wrong in [
        &["generate", "--departments", "3"][..],
        &["generate", "--profile", "service", "--sellers", "3"],
        &["generate", "--profile", "service", "--trends"],
    ] {
        let run = bin().args(wrong).output().unwrap();
        assert!(!run.status.success(), "{wrong:?} must fail");
    }
}

#[test]
fn bench_compares_the_profiles_run_in_turn() {
    let args = ["bench", "--compare-profiles", "--throughput-sellers", "40", "--days", "6", "--events", "2000", "--min-days", "4", "--rounds", "3"];
    let out = ok(bin().args(args));
    assert!(out.contains("round 3/3") && out.contains("median of 3 rounds"), "{out}");
    // "... 2000 events (...) ..., 40.4 events per entity-day over 4 days) in memory"
    let figure = |stream: &str, before: &str| -> f64 {
        let line = out.lines().find(|l| l.starts_with(stream)).unwrap_or_else(|| panic!("no {stream} line in: {out}"));
        let head = line.split(before).next().unwrap();
        head.rsplit(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("no figure before {before:?} in: {line}"))
    };
    let density = |stream: &str| figure(stream, " events per entity-day");
    let (service, marketplace) = (density("40 performers"), density("40 sellers"));
    assert!((service / marketplace - 1.0).abs() < 0.15, "the service stream is given the marketplace's density: {out}");
    for stream in ["40 performers", "40 sellers"] {
        assert!(figure(stream, " days) in memory") >= 4.0, "2,000 events are under 2 days; --min-days 4 asks for more: {out}");
    }
    let share: f64 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("service profile at "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no share in: {out}"));
    assert!(share > 0.0 && share.is_finite(), "{out}");
    let refused = bin().args(["bench", "--compare-profiles", "--profile", "service"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cannot be used with"), "{}", String::from_utf8_lossy(&refused.stderr));
}
