//! Standards versioned by effective date (docs/methodology.md, section 14): every window is
//! judged by the version in force on its first day and records its id; deadlines follow the
//! version in force when their clock started; a backfill re-judges history only when asked,
//! in the file sink and in ClickHouse alike.

mod common;

use clickhouse::Client;
use common::servers::{clickhouse_url, database};
use common::{bin, ok, replay_into_clickhouse};
use quality_engine::methodology::{evaluate, rejudge, MetricId, VersionedStandards};
use quality_engine::output::FINAL_VERSION;
use quality_engine::window::{Cadence, LocalDate};
use quality_engine::WindowRow;
use quality_pipeline::results::latest_rows;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// v1 (the regulation's), then "2025-03" from Wednesday 12 March (inside a month and an ISO
/// week) with a 10-minute response target and a stricter on-time handover, then "2025-04" from
/// Tuesday 1 April (inside an ISO week) with a higher CSI target.
const BOOK: &str = "[engine]\ntimezone = \"Europe/Berlin\"\n\
[[standards.revisions]]\nid = \"2025-03\"\neffective_from = \"2025-03-12\"\n\
[standards.revisions.response_time_avg]\ntarget = \"10m\"\n[standards.revisions.on_time_handover_share]\ntarget = 0.99\n\
[[standards.revisions]]\nid = \"2025-04\"\neffective_from = \"2025-04-01\"\n[standards.revisions.csi]\ntarget = 4.8\n";

/// The same standards as one version each, to compare deadline counting with.
const ONLY_V1: &str = "[engine]\ntimezone = \"Europe/Berlin\"\n";
const ONLY_MARCH: &str = "[engine]\ntimezone = \"Europe/Berlin\"\n[standards.response_time_avg]\ntarget = \"10m\"\n\
[standards.on_time_handover_share]\ntarget = 0.99\n";

type Rows = BTreeMap<(String, Cadence, LocalDate), WindowRow>;
/// (seller, cadence, period start, metric).
type CellKey = (String, String, String, String);

struct World {
    dir: tempfile::TempDir,
    events: PathBuf,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.ndjson");
        ok(bin()
            .args(["generate", "--sellers", "25", "--days", "70", "--start", "2025-02-03", "--seed", "11", "--timezone", "Europe/Berlin", "--out"])
            .arg(&events));
        World { dir, events }
    }

    fn config(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs the events through the file sink under a config; returns the output directory.
    fn run(&self, name: &str, config: &str) -> PathBuf {
        let out = self.dir.path().join(name);
        ok(bin()
            .arg("--config")
            .arg(self.config(name, config))
            .args(["run", "--source"])
            .arg(format!("file:{}", self.events.display()))
            .arg("--sink")
            .arg(format!("file:{}", out.display())));
        out
    }
}

fn final_rows(dir: &Path) -> Rows {
    latest_rows(dir, None, |_| true)
        .unwrap()
        .into_iter()
        .filter(|r| r.is_final)
        .map(|r| ((r.seller_id.to_string(), r.cadence, r.period_start), r))
        .collect()
}

fn day(s: &str) -> LocalDate {
    LocalDate::parse(s).unwrap()
}

#[test]
fn each_window_is_judged_by_the_version_in_force_on_its_first_day() {
    let w = World::new();
    let rows = final_rows(&w.run("book", BOOK));
    let book: VersionedStandards = toml::from_str(&BOOK.replace("[engine]\ntimezone = \"Europe/Berlin\"\n", "").replace("standards.", "")).unwrap();
    let expected = [
        (Cadence::Day, "2025-03-11", "v1"),
        (Cadence::Day, "2025-03-12", "2025-03"),
        (Cadence::Week, "2025-03-10", "v1"),
        (Cadence::Week, "2025-03-17", "2025-03"),
        (Cadence::Week, "2025-03-31", "2025-03"),
        (Cadence::Week, "2025-04-07", "2025-04"),
        (Cadence::Month, "2025-03-01", "v1"),
        (Cadence::Month, "2025-04-01", "2025-04"),
        (Cadence::Quarter, "2025-01-01", "v1"),
        (Cadence::Quarter, "2025-04-01", "2025-04"),
        (Cadence::Rolling7d, "2025-03-11", "v1"),
        (Cadence::Rolling7d, "2025-03-12", "2025-03"),
    ];
    for (cadence, start, version) in expected {
        let found: Vec<&WindowRow> = rows.values().filter(|r| r.cadence == cadence && r.period_start == day(start)).collect();
        assert!(!found.is_empty(), "{cadence} {start} has rows");
        assert!(found.iter().all(|r| &*r.standards_version == version), "{cadence} {start}: {version}");
    }
    let mut judged = 0;
    for r in rows.values() {
        let v = book.at(r.period_start.0);
        assert_eq!(r.standards_version, v.id, "{} {} {}", r.seller_id, r.cadence, r.period_start);
        for c in &r.metrics {
            let s = v.standards.get(c.metric);
            let (value, deviation, status) = evaluate(c.metric, c.metric.raw_numerator(c.numerator), c.denominator, s);
            assert_eq!(
                (c.target, c.value, c.deviation, c.status),
                (s.target, value, deviation, status),
                "{} {} {} {}",
                r.seller_id,
                r.cadence,
                r.period_start,
                c.metric
            );
            judged += 1;
        }
    }
    assert!(judged > 10_000, "{judged} cells judged");
    let target = |cadence, start: &str, m| {
        rows.values().find(|r| r.cadence == cadence && r.period_start == day(start)).unwrap().metrics.iter().find(|c| c.metric == m).unwrap().target
    };
    assert_eq!(
        (target(Cadence::Week, "2025-03-10", MetricId::ResponseTimeAvg), target(Cadence::Week, "2025-03-17", MetricId::ResponseTimeAvg)),
        (1800.0, 600.0)
    );
    assert_eq!((target(Cadence::Month, "2025-03-01", MetricId::Csi), target(Cadence::Month, "2025-04-01", MetricId::Csi)), (4.5, 4.8));
}

#[test]
fn deadlines_follow_the_version_in_force_when_their_clock_started() {
    let w = World::new();
    let book = final_rows(&w.run("book", BOOK));
    let v1 = final_rows(&w.run("v1", ONLY_V1));
    let march = final_rows(&w.run("march", ONLY_MARCH));
    let (change, metrics) = (day("2025-03-12"), [MetricId::ResponseTimeAvg, MetricId::OnTimeHandoverShare, MetricId::ConfirmationTimeAvg]);
    let mut compared = (0, 0);
    for ((seller, cadence, start), r) in book.iter().filter(|(k, _)| k.1 == Cadence::Day) {
        // Response deadlines are at most hours long: days before the change count them like v1, days after it like the March version.
        let other = if start.0 < change.0 {
            compared.0 += 1;
            &v1
        } else if start.0 > change.0 {
            compared.1 += 1;
            &march
        } else {
            continue;
        };
        let o = &other[&(seller.clone(), *cadence, *start)];
        for m in metrics {
            let (a, b) = (r.metrics.iter().find(|c| c.metric == m).unwrap(), o.metrics.iter().find(|c| c.metric == m).unwrap());
            assert_eq!((a.numerator, a.denominator, a.overdue, a.status), (b.numerator, b.denominator, b.overdue, b.status), "{seller} {start} {m}");
        }
    }
    assert!(compared.0 > 500 && compared.1 > 500, "{compared:?} day rows compared");
    let overdue = |rows: &Rows, from: LocalDate| -> i64 {
        rows.values()
            .filter(|r| r.cadence == Cadence::Day && r.period_start.0 > from.0)
            .flat_map(|r| &r.metrics)
            .filter(|c| c.metric == MetricId::ResponseTimeAvg)
            .map(|c| c.overdue)
            .sum()
    };
    assert!(overdue(&book, change) > overdue(&v1, change), "the 10-minute deadline finds more late replies than the 30-minute one");
}

#[test]
fn backfill_rejudges_history_only_when_asked_and_says_what_changed() {
    let w = World::new();
    let out = w.run("book", BOOK);
    let config = w.config("book", BOOK);
    let windows = out.join("windows.ndjson");
    let before = final_rows(&out);
    let size = std::fs::metadata(&windows).unwrap().len();
    let args = [
        "backfill",
        "--from",
        &format!("file:{}", out.display()),
        "--standards-version",
        "2025-04",
        "--since",
        "2025-03-01",
        "--until",
        "2025-04-01",
    ];
    let dry = ok(bin().arg("--config").arg(&config).args(args).arg("--dry-run"));
    assert!(dry.contains("Dry run: nothing written."), "{dry}");
    assert_eq!(std::fs::metadata(&windows).unwrap().len(), size, "a dry run writes nothing");
    let printed = ok(bin().arg("--config").arg(&config).args(args));
    assert!(printed.contains("under standards version \"2025-04\""), "{printed}");
    let line = printed
        .lines()
        .find(|l| l.starts_with("month") && l.contains("csi"))
        .unwrap_or_else(|| panic!("the March CSI target change is listed:\n{printed}"));
    assert!(line.contains("4.5") && line.contains("4.8"), "{line}");
    let after = final_rows(&out);
    assert_eq!(after.len(), before.len());
    let book: VersionedStandards = toml::from_str(&BOOK.replace("[engine]\ntimezone = \"Europe/Berlin\"\n", "").replace("standards.", "")).unwrap();
    let april = book.get("2025-04").unwrap();
    let mut changed = 0;
    for (k, b) in &before {
        let a = &after[k];
        if (day("2025-03-01").0..day("2025-04-01").0).contains(&k.2 .0) {
            let mut expected = rejudge(b, april);
            if k.1 == Cadence::Month {
                // Ranks are recomputed among all sellers of the month; the rest must match the pure re-judgement.
                expected.composite.as_mut().unwrap().rank = a.composite.as_ref().unwrap().rank;
            }
            assert_eq!(a, &expected, "{k:?}");
            assert_eq!((a.version, &*a.standards_version), (FINAL_VERSION + 1, "2025-04"));
            changed += 1;
        } else {
            assert_eq!(a, b, "{k:?} is outside the backfill and unchanged");
        }
    }
    assert!(changed > 500, "{changed}");
    let err = bin()
        .arg("--config")
        .arg(&config)
        .args(["backfill", "--from", &format!("file:{}", out.display()), "--standards-version", "2026"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(!err.status.success() && stderr.contains("v1, 2025-03, 2025-04"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn backfill_in_clickhouse_equals_backfill_in_files() {
    let w = World::new();
    let out = w.run("book", BOOK);
    let config = w.config("book", BOOK);
    let (url, db) = (clickhouse_url(), database("versions_backfill"));
    replay_into_clickhouse(&w.events, url, &db, &["--config", config.to_str().unwrap()]);
    let scope = ["--standards-version", "2025-04", "--since", "2025-03-01", "--until", "2025-04-01"];
    ok(bin().arg("--config").arg(&config).args(["backfill", "--from", &format!("file:{}", out.display())]).args(scope));
    ok(bin()
        .arg("--config")
        .arg(&config)
        .args(["backfill", "--from", "clickhouse", "--clickhouse-url", url, "--clickhouse-database", &db])
        .args(scope));
    let file: BTreeMap<CellKey, (String, f64, String)> = final_rows(&out)
        .values()
        .flat_map(|r| {
            r.metrics.iter().map(move |c| {
                (
                    (r.seller_id.to_string(), r.cadence.to_string(), r.period_start.to_string(), c.metric.to_string()),
                    (r.standards_version.to_string(), c.target, serde_json::to_value(c.status).unwrap().as_str().unwrap().to_owned()),
                )
            })
        })
        .collect();
    let client = Client::default().with_url(url).with_database(&db);
    let rows: Vec<(String, String, String, String, String, f64, String)> = client
        .query("SELECT seller_id, cadence, toString(period_start), metric, standards_version, target, status FROM standards WHERE is_final")
        .fetch_all()
        .await
        .unwrap();
    let ch: BTreeMap<_, _> = rows.into_iter().map(|(s, c, p, m, v, t, st)| ((s, c, p, m), (v, t, st))).collect();
    assert_eq!(ch.len(), file.len());
    for (k, v) in &file {
        assert_eq!(ch.get(k), Some(v), "{k:?}");
    }
    let scores: Vec<(String, f64)> =
        client.query("SELECT seller_id, score FROM performer_rating WHERE period_start = '2025-03-01' ORDER BY seller_id").fetch_all().await.unwrap();
    let expected: Vec<(String, f64)> = final_rows(&out)
        .values()
        .filter(|r| r.cadence == Cadence::Month && r.period_start == day("2025-03-01"))
        .map(|r| (r.seller_id.to_string(), r.composite.as_ref().unwrap().score))
        .collect();
    assert_eq!(scores, expected, "the March ratings are those of the 2025-04 version in both stores");
}
