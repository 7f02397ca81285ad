//! The weekly seller report (regulation, Appendix 1): `quality-pipeline report` from a file
//! sink in Markdown, JSON and HTML, the HTML rendered by headless Chromium, and the service's
//! `/reports/{seller}/{week}` endpoint reading ClickHouse, with its token rule.
//!
//! Every figure is compared exactly with the stored results, read back here independently
//! of the report code (windows.ndjson, reasons.ndjson, critics.ndjson, escalations.ndjson,
//! incentives.ndjson).
//! A missing Chromium or ClickHouse adapter is a failure, never a skip.

mod common;

use chrono::{Datelike, NaiveDate, TimeZone};
use common::servers::{clickhouse_url, database};
use common::web::{dump_dom, figures, get, screenshot, Figure};
use common::{bin, ok, replay_into_clickhouse};
use quality_engine::methodology::MetricId;
use quality_pipeline::report::weekly::{format, recommendation};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The zone of the test's config: not the default (Europe/Moscow), so the report must take it from the config.
const TZ: &str = "America/Sao_Paulo";
const BASE: [&str; 3] = ["csi", "nps", "positive_review_share"];
const OPERATIONAL: [&str; 5] =
    ["confirmation_time_avg", "assembly_time_avg", "on_time_handover_share", "seller_cancellation_share", "assembly_accuracy_share"];
const COMMUNICATION: [&str; 4] = ["response_time_avg", "answer_completeness_share", "first_contact_resolution_share", "critic_followup_share"];
const LOWER_IS_BETTER: [&str; 4] = ["confirmation_time_avg", "assembly_time_avg", "response_time_avg", "seller_cancellation_share"];

/// Generated events, replayed into a file sink, with a config naming the time zone.
struct World {
    dir: tempfile::TempDir,
    config: PathBuf,
    events: PathBuf,
    out: PathBuf,
}

impl World {
    fn new(sellers: u32, days: u32, seed: u64) -> World {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("quality.toml");
        std::fs::write(&config, format!("[engine]\ntimezone = \"{TZ}\"\n")).unwrap();
        let events = dir.path().join("events.ndjson");
        let out = dir.path().join("out");
        let cfg = config.to_str().unwrap();
        ok(bin()
            .args(["--config", cfg, "generate", "--sellers", &sellers.to_string(), "--days", &days.to_string(), "--seed", &seed.to_string()])
            .arg("--out")
            .arg(&events));
        ok(bin().args(["--config", cfg, "run", "--source", &format!("file:{}", events.display()), "--sink", &format!("file:{}", out.display())]));
        World { dir, config, events, out }
    }

    /// `report` output for a seller and week from the file sink.
    fn report(&self, seller: &str, week: &str, format: &str) -> String {
        ok(bin()
            .arg("--config")
            .arg(&self.config)
            .args(["report", "--seller", seller, "--week", week, "--from"])
            .arg(&self.out)
            .args(["--format", format]))
    }

    fn json(&self, seller: &str, week: &str) -> Value {
        serde_json::from_str(&self.report(seller, week, "json")).expect("the JSON report parses")
    }
}

/// The stored results, read back without the report code.
struct Stored {
    /// Latest version of every weekly window, when final: (seller, Monday) -> row.
    weeks: BTreeMap<(String, String), Value>,
    reasons: Vec<Value>,
    /// Latest version of every critic.
    critics: Vec<Value>,
    escalations: Vec<Value>,
    /// Incentive tier changes.
    incentives: Vec<Value>,
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

impl Stored {
    fn read(out: &Path) -> Stored {
        let mut latest: BTreeMap<(String, String), Value> = BTreeMap::new();
        for r in lines(&out.join("windows.ndjson")) {
            if s(&r, "cadence") != "week" {
                continue;
            }
            let key = (s(&r, "seller_id").to_owned(), s(&r, "period_start").to_owned());
            if latest.get(&key).is_none_or(|old| r["version"].as_u64() >= old["version"].as_u64()) {
                latest.insert(key, r);
            }
        }
        latest.retain(|_, r| r["is_final"] == Value::Bool(true));
        let mut critics: HashMap<String, Value> = HashMap::new();
        for c in lines(&out.join("critics.ndjson")) {
            let id = s(&c, "critic_id").to_owned();
            if critics.get(&id).is_none_or(|old| c["version"].as_u64() >= old["version"].as_u64()) {
                critics.insert(id, c);
            }
        }
        Stored {
            weeks: latest,
            reasons: lines(&out.join("reasons.ndjson")),
            critics: critics.into_values().collect(),
            escalations: lines(&out.join("escalations.ndjson")),
            incentives: lines(&out.join("incentives.ndjson")),
        }
    }

    /// The (seller, Monday) with the most failed standards in the latest week (ties: smallest seller id).
    fn worst_of_latest_week(&self) -> (String, String) {
        let latest = self.weeks.keys().map(|(_, w)| w.clone()).max().expect("weekly rows");
        let fails =
            |r: &Value| r["metrics"].as_array().unwrap().iter().filter(|c| c["status"] == "fail" && c["metric"] != "survey_coverage_share").count();
        let (key, _) = self
            .weeks
            .iter()
            .filter(|((_, w), _)| *w == latest)
            .max_by(|(ka, a), (kb, b)| fails(a).cmp(&fails(b)).then_with(|| kb.0.cmp(&ka.0)))
            .unwrap();
        key.clone()
    }
}

fn iso_week(monday: &str) -> String {
    let d = NaiveDate::parse_from_str(monday, "%Y-%m-%d").unwrap();
    format!("{:04}-W{:02}", d.iso_week().year(), d.iso_week().week())
}

fn metric(id: &str) -> MetricId {
    MetricId::from_id(id).unwrap()
}

/// Numbers compare as f64 (exactly); anything else as JSON.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[track_caller]
fn eq(what: &str, report: &Value, stored: &Value) {
    assert!(same(report, stored), "{what}: the report has {report}, the stored results {stored}");
}

/// Checks every figure of a JSON report against the stored results; returns what it held
/// (transitions, unanswered critics, reasons) so callers know the check was not vacuous.
fn check_json(report: &Value, stored: &Stored, seller: &str, monday: &str) -> [usize; 3] {
    let row = &stored.weeks[&(seller.to_owned(), monday.to_owned())];
    let cells: Vec<&Value> = row["metrics"].as_array().unwrap().iter().collect();
    let cell = |m: &str| cells.iter().copied().find(|c| c["metric"] == m);
    assert_eq!(s(report, "seller_id"), seller);
    assert_eq!(s(report, "week"), iso_week(monday));
    let start = NaiveDate::parse_from_str(monday, "%Y-%m-%d").unwrap();
    assert_eq!(report["period"], serde_json::json!({"start": monday, "end": (start + chrono::Duration::days(6)).to_string(), "timezone": TZ}));
    assert_eq!(
        (&report["standards_version"], &row["standards_version"]),
        (&serde_json::json!("v1"), &serde_json::json!("v1")),
        "the version the week was judged by"
    );

    let mut failed = Vec::new();
    let mut judged = 0;
    for (group, ids) in [("base", &BASE[..]), ("operational", &OPERATIONAL[..]), ("communication", &COMMUNICATION[..])] {
        let shown: Vec<&Value> = report[group].as_array().unwrap().iter().collect();
        let expected: Vec<&&Value> = cells.iter().filter(|c| ids.contains(&s(c, "metric"))).collect();
        assert_eq!(shown.len(), expected.len(), "{group}: one line per standard of the row");
        for (line, c) in shown.iter().zip(expected) {
            let m = s(c, "metric");
            assert_eq!(s(line, "metric"), m, "{group}: catalogue order");
            for (field, stored_field) in [
                ("target", "target"),
                ("actual", "value"),
                ("deviation", "deviation"),
                ("previous", "previous"),
                ("change", "change"),
                ("status", "status"),
                ("numerator", "numerator"),
                ("denominator", "denominator"),
                ("overdue", "overdue"),
            ] {
                eq(&format!("{seller} {monday} {m}.{field}"), &line[field], &c[stored_field]);
            }
            let compliant = match s(c, "status") {
                "pass" => Value::Bool(true),
                "fail" => Value::Bool(false),
                _ => Value::Null,
            };
            assert_eq!(line["compliant"], compliant, "{m}");
            // Changes within 1e-9 of the previous value (relative) are none (docs/methodology.md, section 11).
            let scale = c["previous"].as_f64().map_or(1.0, f64::abs).max(1.0);
            let dynamics = match c["change"].as_f64() {
                None => "no_previous",
                Some(d) if d.abs() <= 1e-9 * scale => "unchanged",
                Some(d) if (d > 0.0) != LOWER_IS_BETTER.contains(&m) => "improved",
                Some(_) => "worsened",
            };
            assert_eq!(s(line, "dynamics"), dynamics, "{m}: change {}", c["change"]);
            judged += usize::from(c["status"] != "no_data");
            if c["status"] == "fail" {
                failed.push(m.to_owned());
            }
        }
    }
    assert_eq!(report["summary"]["failed_standards"], serde_json::json!(failed));
    assert_eq!(report["summary"]["failed"], failed.len());
    assert_eq!(report["summary"]["judged"], judged);
    let recs = report["recommendations"].as_array().unwrap();
    assert_eq!(recs.iter().map(|r| s(r, "metric")).collect::<Vec<_>>(), failed, "one recommendation per failed standard");
    for r in recs {
        let (m, target) = (s(r, "metric"), cell(s(r, "metric")).unwrap()["target"].as_f64().unwrap());
        eq("recommendation target", &r["target"], &Value::from(target));
        assert!(s(r, "text").contains(&format::value(metric(m), target)), "the target is written in: {r}");
        assert_eq!(s(r, "text"), recommendation(metric(m), target));
    }

    // Reasons for negative reviews.
    let n = &report["negative_reviews"];
    match stored.reasons.iter().find(|r| r["seller_id"] == seller && r["week_start"] == monday) {
        Some(r) => {
            eq("negative reviews", &n["total"], &r["negative_reviews"]);
            let all = r["reasons"].as_array().unwrap();
            let shown = n["reasons"].as_array().unwrap();
            assert_eq!(shown.len(), all.len().min(5));
            for (a, b) in shown.iter().zip(all) {
                for k in ["reason", "count", "share"] {
                    eq(&format!("reason {k}"), &a[k], &b[k]);
                }
            }
            assert_eq!(n["more_reasons"], all.len().saturating_sub(5));
        }
        None => {
            let c = cell("positive_review_share").unwrap();
            let negative = c["denominator"].as_f64().unwrap() - c["numerator"].as_f64().unwrap();
            eq("negative reviews from the row", &n["total"], &Value::from(negative));
            assert!(n["reasons"].as_array().unwrap().is_empty());
        }
    }

    // Incidents from the weekly row.
    let i = &report["incidents"];
    let c = cell("seller_cancellation_share").unwrap();
    eq("seller cancellations", &i["seller_cancellations"], &c["numerator"]);
    eq("orders created", &i["orders_created"], &c["denominator"]);
    for (field, m) in [
        ("overdue_confirmations", "confirmation_time_avg"),
        ("overdue_assemblies", "assembly_time_avg"),
        ("overdue_handovers", "on_time_handover_share"),
        ("overdue_replies", "response_time_avg"),
        ("overdue_critic_followups", "critic_followup_share"),
    ] {
        eq(field, &i[field], &cell(m).unwrap()["overdue"]);
    }

    // Critics received in the week, in the config's zone.
    let tz: chrono_tz::Tz = TZ.parse().unwrap();
    let bound = |d: NaiveDate| tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().timestamp_millis();
    let (from, to) = (bound(start), bound(start + chrono::Duration::days(7)));
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().timestamp_millis();
    let mut week_critics: Vec<&Value> =
        stored.critics.iter().filter(|c| c["seller_id"] == seller && (from..to).contains(&at(&c["created_at"]))).collect();
    week_critics.sort_by(|a, b| at(&a["created_at"]).cmp(&at(&b["created_at"])).then_with(|| s(a, "critic_id").cmp(s(b, "critic_id"))));
    let count = |st: &str| week_critics.iter().filter(|c| c["status"] == st).count();
    assert_eq!(
        i["critics"],
        serde_json::json!({"received": week_critics.len(), "open": count("open"), "overdue": count("overdue"),
            "answered_late": count("answered_late"), "answered_in_time": count("answered_in_time")})
    );
    let unanswered: Vec<Value> = week_critics
        .iter()
        .filter(|c| c["status"] == "open" || c["status"] == "overdue")
        .map(|c| serde_json::json!({"critic_id": c["critic_id"], "source": c["source"], "score": c["score"], "created_at": c["created_at"], "due_at": c["due_at"], "status": c["status"]}))
        .collect();
    assert_eq!(i["unanswered_critics"], Value::Array(unanswered.clone()));

    // Escalations: the week's transitions and the stage after it.
    let mut history: Vec<&Value> = stored.escalations.iter().filter(|e| e["seller_id"] == seller && s(e, "week_start") <= monday).collect();
    history.sort_by_key(|e| s(e, "week_start").to_owned());
    let transitions: Vec<Value> = history
        .iter()
        .filter(|e| e["week_start"] == monday)
        .map(|e| {
            serde_json::json!({"week": iso_week(monday), "from": e["from"], "to": e["to"], "rule": e["rule"], "standards": e["standards"],
                "failed_weeks": e["failed_weeks"], "deadline": e.get("deadline").cloned().unwrap_or(Value::Null)})
        })
        .collect();
    assert_eq!(i["escalations"], Value::Array(transitions.clone()));
    let e = &report["escalation"];
    match history.last() {
        Some(last) => {
            assert_eq!(e["stage"], last["to"]);
            assert_eq!(s(e, "since"), iso_week(s(last, "week_start")));
            assert_eq!(e["deadline"], last.get("deadline").cloned().unwrap_or(Value::Null));
        }
        None => assert_eq!(e, &serde_json::json!({"stage": "ok", "since": null, "deadline": null})),
    }

    // Incentive tiers: per tier, the latest change of a month that ended by the week's Sunday, if an entry.
    let after = |month: &str| NaiveDate::parse_from_str(month, "%Y-%m-%d").unwrap() + chrono::Months::new(1);
    let mut latest: BTreeMap<&str, &Value> = BTreeMap::new();
    for c in stored.incentives.iter().filter(|c| c["seller_id"] == seller && after(s(c, "month_start")) <= start + chrono::Duration::days(7)) {
        if latest.get(s(c, "tier")).is_none_or(|l| s(l, "month_start") < s(c, "month_start")) {
            latest.insert(s(c, "tier"), c);
        }
    }
    let tiers: Vec<Value> = latest
        .values()
        .filter(|c| c["change"] == "entered")
        .map(|c| serde_json::json!({"tier": c["tier"], "entered_month": c["month_start"], "since": after(s(c, "month_start")).to_string()}))
        .collect();
    assert_eq!(report["incentive_tiers"], Value::Array(tiers), "{seller} {monday}");
    [transitions.len(), unanswered.len(), n["reasons"].as_array().unwrap().len()]
}

fn lines_of(report: &Value) -> impl Iterator<Item = &Value> {
    ["base", "operational", "communication"].into_iter().flat_map(move |g| report[g].as_array().unwrap().iter())
}

fn opt_f64(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// The Markdown report shows every figure of the JSON report, formatted.
fn check_markdown(md: &str, report: &Value) {
    assert!(md.starts_with(&format!("# Weekly quality report: {}, {}\n", s(report, "seller_id"), s(report, "week"))), "{md}");
    assert!(md.contains(&format!("{} to {}", report["period"]["start"].as_str().unwrap(), report["period"]["end"].as_str().unwrap())));
    for l in lines_of(report) {
        let m = metric(s(l, "metric"));
        let row = format!(
            "| {} | {} | {} | {} | ",
            m.label(),
            format::target(m, l["target"].as_f64().unwrap()),
            format::maybe(m, opt_f64(&l["actual"])),
            format::maybe_signed(m, opt_f64(&l["deviation"]))
        );
        assert!(md.contains(&row), "no line {row:?} in\n{md}");
    }
    let n = &report["negative_reviews"];
    assert!(md.contains(&format!("{} negative review", n["total"])), "{md}");
    for r in n["reasons"].as_array().unwrap() {
        let line = format!("| {} | {} | {:.1} % |", s(r, "reason"), r["count"], r["share"].as_f64().unwrap() * 100.0);
        assert!(md.contains(&line), "no reason line {line:?} in\n{md}");
    }
    let i = &report["incidents"];
    assert!(md.contains(&format!("| Orders cancelled by the seller | {} of {} orders |", i["seller_cancellations"], i["orders_created"])), "{md}");
    for (label, field) in [
        ("Overdue confirmations", "overdue_confirmations"),
        ("Overdue assemblies", "overdue_assemblies"),
        ("Overdue handovers", "overdue_handovers"),
        ("Overdue replies to customers", "overdue_replies"),
        ("Critics received this week", "critics"),
    ] {
        let v = if field == "critics" { &i["critics"]["received"] } else { &i[field] };
        assert!(md.contains(&format!("| {label} | {v} |")), "no {label} {v} in\n{md}");
    }
    for c in i["unanswered_critics"].as_array().unwrap() {
        assert!(md.contains(&format!("| {} | {} |", s(c, "critic_id"), c["score"])), "{md}");
    }
    for r in report["recommendations"].as_array().unwrap() {
        assert!(md.contains(s(r, "text")), "{md}");
    }
    let stage = s(&report["escalation"], "stage");
    let label = quality_pipeline::report::weekly::stage_label(serde_json::from_value(Value::from(stage)).unwrap());
    assert!(md.contains(&format!("**Escalation stage:** {label}")), "{md}");
    let tiers: Vec<String> =
        report["incentive_tiers"].as_array().unwrap().iter().map(|t| format!("{} (since {})", s(t, "tier"), s(t, "since"))).collect();
    let tiers = if tiers.is_empty() { "none".to_owned() } else { tiers.join(", ") };
    assert!(md.contains(&format!("- **Incentive tiers:** {tiers}\n")), "{md}");
}

fn find<'a>(figs: &'a [Figure], metric: Option<&str>, field: &str) -> &'a Figure {
    figs.iter()
        .find(|f| f.attr("data-field") == Some(field) && f.attr("data-metric") == metric)
        .unwrap_or_else(|| panic!("no element with data-metric={metric:?} data-field={field:?}"))
}

/// A data-value against a JSON figure: numbers exactly, null as empty.
#[track_caller]
fn value_eq(what: &str, f: &Figure, v: &Value) {
    let shown = f.attr("data-value").unwrap_or_else(|| panic!("{what}: no data-value"));
    match v {
        Value::Null => assert_eq!(shown, "", "{what}"),
        Value::Number(n) => assert_eq!(shown.parse::<f64>().ok(), n.as_f64(), "{what}: {shown} vs {n}"),
        Value::String(s) => assert_eq!(shown, s, "{what}"),
        Value::Bool(b) => assert_eq!(shown, if *b { "yes" } else { "no" }, "{what}"),
        other => panic!("{what}: unexpected {other}"),
    }
}

/// The figures in an HTML page (as Chromium's DOM or as served) equal the JSON report's.
fn check_html(html: &str, report: &Value) {
    let figs = figures(html);
    assert!(figs.len() > 60, "few figures in the page: {}", figs.len());
    value_eq("seller", find(&figs, None, "seller_id"), &report["seller_id"]);
    value_eq("period start", find(&figs, None, "period_start"), &report["period"]["start"]);
    value_eq("period end", find(&figs, None, "period_end"), &report["period"]["end"]);
    value_eq("failed", find(&figs, None, "failed"), &report["summary"]["failed"]);
    for l in lines_of(report) {
        let id = s(l, "metric");
        let m = metric(id);
        for field in ["target", "actual", "deviation", "previous", "change"] {
            let f = find(&figs, Some(id), field);
            value_eq(&format!("{id}.{field}"), f, &l[field]);
        }
        assert_eq!(find(&figs, Some(id), "actual").text, format::maybe(m, opt_f64(&l["actual"])), "{id}");
        assert_eq!(find(&figs, Some(id), "target").text, format::target(m, l["target"].as_f64().unwrap()), "{id}");
        assert_eq!(find(&figs, Some(id), "change").attr("data-dynamics"), l["dynamics"].as_str(), "{id}");
        if m.has_deadline() {
            value_eq(&format!("{id}.overdue"), find(&figs, Some(id), "overdue"), &l["overdue"]);
        }
        if COMMUNICATION.contains(&id) {
            value_eq(&format!("{id}.compliant"), find(&figs, Some(id), "compliant"), &l["compliant"]);
        } else {
            value_eq(&format!("{id}.status"), find(&figs, Some(id), "status"), &l["status"]);
        }
    }
    let n = &report["negative_reviews"];
    value_eq("negative reviews", find(&figs, None, "negative_reviews"), &n["total"]);
    for r in n["reasons"].as_array().unwrap() {
        let f = figs.iter().find(|f| f.attr("data-field") == Some("reason_share") && f.attr("data-reason") == r["reason"].as_str()).unwrap();
        value_eq("reason share", f, &r["share"]);
    }
    let i = &report["incidents"];
    for (field, m) in [
        ("seller_cancellations", "seller_cancellation_share"),
        ("orders_created", "seller_cancellation_share"),
        ("overdue_confirmations", "confirmation_time_avg"),
        ("overdue_assemblies", "assembly_time_avg"),
        ("overdue_handovers", "on_time_handover_share"),
        ("overdue_replies", "response_time_avg"),
        ("overdue_critic_followups", "critic_followup_share"),
    ] {
        value_eq(field, find(&figs, Some(m), field), &i[field]);
    }
    for k in ["received", "open", "overdue", "answered_late", "answered_in_time"] {
        value_eq(k, find(&figs, None, &format!("critics_{k}")), &i["critics"][k]);
    }
    let unanswered: Vec<&str> =
        figs.iter().filter(|f| f.attr("data-field") == Some("unanswered_critic")).filter_map(|f| f.attr("data-value")).collect();
    let expected: Vec<&str> = i["unanswered_critics"].as_array().unwrap().iter().map(|c| s(c, "critic_id")).collect();
    assert_eq!(unanswered, expected);
    let transitions: Vec<String> =
        figs.iter().filter(|f| f.attr("data-field") == Some("escalation")).filter_map(|f| f.attr("data-value").map(str::to_owned)).collect();
    let expected: Vec<String> = i["escalations"].as_array().unwrap().iter().map(|t| format!("{}->{}", s(t, "from"), s(t, "to"))).collect();
    assert_eq!(transitions, expected);
    value_eq("stage", find(&figs, None, "escalation_stage"), &report["escalation"]["stage"]);
    value_eq("standards version", find(&figs, None, "standards_version"), &report["standards_version"]);
    let tiers: Vec<(&str, &str)> = figs
        .iter()
        .filter(|f| f.attr("data-field") == Some("incentive_tier"))
        .map(|f| (f.attr("data-value").unwrap(), f.attr("data-since").unwrap()))
        .collect();
    let expected: Vec<(&str, &str)> = report["incentive_tiers"].as_array().unwrap().iter().map(|t| (s(t, "tier"), s(t, "since"))).collect();
    assert_eq!(tiers, expected);
    let recs: Vec<&str> = figs.iter().filter(|f| f.attr("data-field") == Some("recommendation")).filter_map(|f| f.attr("data-metric")).collect();
    let expected: Vec<&str> = report["recommendations"].as_array().unwrap().iter().map(|r| s(r, "metric")).collect();
    assert_eq!(recs, expected);
}

#[test]
fn the_report_from_files_shows_exactly_the_stored_results() {
    let w = World::new(16, 28, 5);
    let stored = Stored::read(&w.out);
    let (seller, monday) = stored.worst_of_latest_week();
    let week = iso_week(&monday);
    let json = w.json(&seller, &week);
    check_json(&json, &stored, &seller, &monday);
    assert!(json["summary"]["failed"].as_u64().unwrap() >= 3, "the worst seller breaches: {}", json["summary"]);
    check_markdown(&w.report(&seller, &week, "md"), &json);
    check_html(&w.report(&seller, &week, "html"), &json);

    // Every seller-week: the same exact check, and the incidents and tiers the data holds do show.
    let mut held = [0usize; 4];
    for (seller, monday) in stored.weeks.keys() {
        let json = w.json(seller, &iso_week(monday));
        let got = check_json(&json, &stored, seller, monday);
        for (h, g) in held.iter_mut().zip(got.into_iter().chain([json["incentive_tiers"].as_array().unwrap().len()])) {
            *h += g;
        }
    }
    let [transitions, unanswered, reasons, tiers] = held;
    assert!(transitions > 0 && unanswered > 0 && reasons > 0 && tiers > 0, "the data exercises every section: {held:?}");

    // `--out` and the config's zone: the same report written to a file.
    let path = w.dir.path().join("r.json");
    ok(bin()
        .arg("--config")
        .arg(&w.config)
        .args(["report", "--seller", &seller, "--week", &week, "--format", "json", "--from"])
        .arg(format!("file:{}", w.out.display()))
        .arg("--out")
        .arg(&path));
    assert_eq!(serde_json::from_str::<Value>(&std::fs::read_to_string(&path).unwrap()).unwrap(), json);
}

#[test]
fn a_missing_week_or_a_bad_week_is_a_clear_error() {
    let w = World::new(3, 14, 9);
    let stored = Stored::read(&w.out);
    let (seller, _) = stored.weeks.keys().next().unwrap().clone();
    let weeks: Vec<String> = stored.weeks.keys().filter(|(s, _)| *s == seller).map(|(_, m)| iso_week(m)).collect();
    let run = |seller: &str, week: &str| {
        let out = bin().arg("--config").arg(&w.config).args(["report", "--seller", seller, "--week", week, "--from"]).arg(&w.out).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&seller, "2030-W10");
    assert_eq!(code, Some(2));
    assert!(err.contains(&format!("no final weekly row for seller {seller} in 2030-W10; weeks available: {}", weeks.join(", "))), "{err}");
    let (code, err) = run("nobody", "2030-W10");
    assert_eq!(code, Some(2));
    assert!(err.contains("no final weekly row for seller nobody in 2030-W10; weeks available: none"), "{err}");
    let (code, err) = run(&seller, "2030-10");
    assert_eq!(code, Some(2));
    assert!(err.contains("\"2030-10\" is not an ISO week") && err.contains("2025-W10"), "{err}");
}

#[test]
fn chromium_renders_the_html_with_the_stored_figures() {
    let w = World::new(16, 28, 5);
    let stored = Stored::read(&w.out);
    // The worst seller of the latest week, and the seller-week with the most incidents to show.
    let worst = stored.worst_of_latest_week();
    let richest = stored
        .weeks
        .keys()
        .max_by_key(|(seller, monday)| {
            let j = w.json(seller, &iso_week(monday));
            let i = &j["incidents"];
            (
                i["escalations"].as_array().unwrap().len().min(1),
                i["unanswered_critics"].as_array().unwrap().len().min(1),
                j["negative_reviews"]["reasons"].as_array().unwrap().len(),
            )
        })
        .unwrap()
        .clone();
    // And the latest week of a seller that entered a tier (October's entries hold in every later week here).
    let entered = stored.incentives.iter().find(|c| c["change"] == "entered").expect("a tier entry in the data");
    let tiered =
        stored.weeks.keys().filter(|(seller, _)| entered["seller_id"] == seller.as_str()).max_by_key(|(_, monday)| monday.clone()).unwrap().clone();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&shots).unwrap();
    for (seller, monday) in [worst, richest, tiered.clone()] {
        let week = iso_week(&monday);
        let json = w.json(&seller, &week);
        check_json(&json, &stored, &seller, &monday);
        let shows_tiers = !json["incentive_tiers"].as_array().unwrap().is_empty();
        assert!(shows_tiers || (seller.as_str(), monday.as_str()) != (tiered.0.as_str(), tiered.1.as_str()), "{json}");
        let page = w.dir.path().join(format!("{seller}-{week}.html"));
        std::fs::write(&page, w.report(&seller, &week, "html")).unwrap();
        let dom = dump_dom(&page);
        check_html(&dom, &json);
        let png = shots.join(format!("{seller}-{week}.png"));
        screenshot(&page, &png);
        let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png.display()));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", png.display());
        assert!(bytes.len() > 10 * 1024, "{} is only {} bytes", png.display(), bytes.len());
    }
}

/// A `run` reading stdin (held open, so the process and its HTTP server stay up) and writing
/// to ClickHouse; returns it and the address it serves on.
fn serving(w: &World, url: &str, db: &str, args: &[&str], log: &str) -> (Child, String) {
    serving_with(clickhouse_run(w, url, db).env_remove("QP_REPORTS_TOKEN").args(args), w, log)
}

/// `run --source file:- --sink clickhouse` into `db`, with the world's config and info logs.
fn clickhouse_run(w: &World, url: &str, db: &str) -> Command {
    let mut c = bin();
    c.env("QP_LOG", "info").arg("--config").arg(&w.config).args([
        "run",
        "--source",
        "file:-",
        "--sink",
        "clickhouse",
        "--clickhouse-url",
        url,
        "--clickhouse-database",
        db,
    ]);
    c
}

/// Spawns `cmd` (a serving run) with its log in `log`; returns it and the HTTP address on loopback.
fn serving_with(cmd: &mut Command, w: &World, log: &str) -> (Child, String) {
    let log = w.dir.path().join(log);
    let mut child = cmd.stdin(Stdio::piped()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("serving /metrics")) {
            assert!(line.contains("/reports/{seller}/{week}"), "{line}");
            let addr = line.split_whitespace().find_map(|t| t.strip_prefix("address=")).unwrap().to_owned();
            // 0.0.0.0:PORT is reached on loopback.
            let port = addr.rsplit(':').next().unwrap();
            return (child, format!("127.0.0.1:{port}"));
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run exited ({status}) before serving:\n{text}");
        }
        assert!(Instant::now() < deadline, "no HTTP server:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Ends a serving run: end of input, then it exits cleanly.
fn stop(mut child: Child) {
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the run failed: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "the run did not stop at the end of its input");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_service_serves_reports_from_clickhouse_behind_a_token() {
    let (url, db) = (clickhouse_url(), database("report"));
    let w = World::new(8, 21, 13);
    replay_into_clickhouse(&w.events, url, &db, &["--config", w.config.to_str().unwrap()]);
    // The tiers come from the `incentives` table, which the command fills.
    ok(bin().arg("--config").arg(&w.config).args(["incentives", "--clickhouse", "--clickhouse-url", url, "--clickhouse-database", &db]));
    let stored = Stored::read(&w.out);
    let (seller, monday) = stored.worst_of_latest_week();
    let week = iso_week(&monday);
    let json = w.json(&seller, &week);
    check_json(&json, &stored, &seller, &monday);

    // The `report` command reads ClickHouse to the same report as the files.
    let from_ch = ok(bin().arg("--config").arg(&w.config).args([
        "report",
        "--seller",
        &seller,
        "--week",
        &week,
        "--clickhouse",
        "--clickhouse-url",
        url,
        "--clickhouse-database",
        &db,
        "--format",
        "json",
    ]));
    assert_eq!(serde_json::from_str::<Value>(&from_ch).unwrap(), json, "ClickHouse and the file sink give the same report");
    // And for every seller-week, critics, reasons and escalations included.
    let mut held = [0usize; 3];
    for (seller, monday) in stored.weeks.keys() {
        let week = iso_week(monday);
        let args = [
            "report",
            "--seller",
            seller,
            "--week",
            &week,
            "--clickhouse",
            "--clickhouse-url",
            url,
            "--clickhouse-database",
            &db,
            "--format",
            "json",
        ];
        let from_ch: Value = serde_json::from_str(&ok(bin().arg("--config").arg(&w.config).args(args))).unwrap();
        let from_files = w.json(seller, &week);
        assert_eq!(from_ch, from_files, "{seller} {week}");
        let got = check_json(&from_ch, &stored, seller, monday);
        let i = &from_ch["incidents"];
        for (h, g) in held.iter_mut().zip([got[0], i["critics"]["received"].as_u64().unwrap() as usize, got[2]]) {
            *h += g;
        }
    }
    assert!(held.iter().all(|n| *n > 0), "transitions, critics and reasons all came from ClickHouse: {held:?}");

    let path = format!("/reports/{seller}/{week}");
    let (run, addr) = serving(&w, url, &db, &["--metrics-addr", "127.0.0.1:0", "--reports-token", "s3cret"], "token.log");
    let r = get(&addr, &path, &["Authorization: Bearer s3cret"]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.head.to_ascii_lowercase().contains("content-type: text/html"), "{}", r.head);
    check_html(&r.body, &json);
    assert_eq!(r.body, w.report(&seller, &week, "html"), "the same page as `report --format html`");
    let r = get(&addr, &path, &[]);
    assert_eq!(r.status, 401, "no token: {}", r.body);
    assert!(r.head.contains("WWW-Authenticate: Bearer"), "{}", r.head);
    assert!(!r.body.contains(&seller), "nothing of the report without the token");
    assert_eq!(get(&addr, &path, &["Authorization: Bearer s3cre"]).status, 401, "wrong token");
    assert_eq!(get(&addr, &path, &["Authorization: Basic czNjcmV0"]).status, 401, "not a bearer token");
    let r = get(&addr, &format!("/reports/{seller}/2030-W10"), &["Authorization: Bearer s3cret"]);
    assert_eq!(r.status, 404);
    assert!(
        r.body.contains(&format!("no final weekly row for seller {seller} in 2030-W10; weeks available: ")) && r.body.contains(&week),
        "{}",
        r.body
    );
    let r = get(&addr, "/reports/nobody/2030-W10", &["Authorization: Bearer s3cret"]);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("weeks available: none"), "{}", r.body);
    let r = get(&addr, &format!("/reports/{seller}/2030-10"), &["Authorization: Bearer s3cret"]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not an ISO week"), "{}", r.body);
    assert_eq!(get(&addr, "/metrics", &[]).status, 200, "the metrics need no token");
    stop(run);

    // On loopback without a token, reports are open.
    let (run, addr) = serving(&w, url, &db, &["--metrics-addr", "127.0.0.1:0"], "open.log");
    let r = get(&addr, &path, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    check_html(&r.body, &json);
    stop(run);

    // On every interface: refused without a token, guarded with one (QP_REPORTS_TOKEN works too).
    let out =
        clickhouse_run(&w, url, &db).env_remove("QP_REPORTS_TOKEN").args(["--metrics-addr", "0.0.0.0:0"]).stdin(Stdio::null()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refusing to serve /reports") && err.contains("not a loopback address") && err.contains("QP_REPORTS_TOKEN"), "{err}");
    let (run, addr) =
        serving_with(clickhouse_run(&w, url, &db).env("QP_REPORTS_TOKEN", "env-token").args(["--metrics-addr", "0.0.0.0:0"]), &w, "public.log");
    assert_eq!(get(&addr, &path, &[]).status, 401);
    assert_eq!(get(&addr, &path, &["Authorization: Bearer env-token"]).status, 200);
    stop(run);
}

#[test]
fn the_report_from_outputs_in_memory_equals_the_report_from_files() {
    // What `demo` does: the engine in memory, then the report API on its outputs.
    let w = World::new(6, 21, 17);
    let stored = Stored::read(&w.out);
    let config = quality_pipeline::config::ConfigFile::load(Some(&w.config)).unwrap().engine_config(None, None).unwrap();
    let (tz, actions) = (config.timezone, config.actions.clone());
    let mut engine = quality_engine::Engine::new(config);
    let mut outputs = Vec::new();
    for line in std::fs::read_to_string(&w.events).unwrap().lines() {
        engine.ingest(line.as_bytes());
        engine.drain(&mut outputs);
    }
    engine.finish(&mut outputs);
    for (seller, monday) in stored.weeks.keys() {
        let week: quality_pipeline::report::weekly::IsoWeek = iso_week(monday).parse().unwrap();
        let report = quality_pipeline::report::weekly::from_outputs(&outputs, seller, week, tz, &actions).unwrap();
        let from_files = w.json(seller, &week.to_string());
        assert_eq!(serde_json::from_str::<Value>(&quality_pipeline::report::weekly::render_json(&report)).unwrap(), from_files, "{seller} {week}");
        let dir_report = quality_pipeline::report::weekly::from_dir(&w.out, seller, week, tz).unwrap();
        assert_eq!(dir_report, report);
    }
    let missing = quality_pipeline::report::weekly::from_outputs(&outputs, "nobody", "2030-W01".parse().unwrap(), tz, &actions).unwrap_err();
    assert!(missing.to_string().contains("weeks available: none"), "{missing}");
}
