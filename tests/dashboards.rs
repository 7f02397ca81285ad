//! The Grafana provisioning in `grafana/` (data sources, dashboards, alert rules) against the real
//! ClickHouse engine and the pipeline's metric names.
//!
//! - Structure that provisioning depends on: unique dashboard and rule uids, data source references
//!   by uid (`clickhouse` or `prometheus`, both provisioned), the ClickHouse plugin's v4 query model,
//!   alert rules in Grafana's file format with a ClickHouse query, a reduce and a threshold.
//! - Every Prometheus expression names only the pipeline's metrics and their labels.
//! - Every ClickHouse query (panels, template variables, alert rules) runs against tables a replay
//!   wrote, with the plugin's macros expanded the way v4.0 and the current v4 expand them, the
//!   template variables set to real values and the test database instead of `quality`; each one
//!   returns rows, time series come as a sorted `time` column plus numbers, and alert queries
//!   return the "one number, string labels" tables that Grafana alerting turns into instances.
//!   The database holds a marketplace and a service company: the marketplace dashboards and rules
//!   show no department or performer, the service dashboard has rows too.

mod common;

use clickhouse::Client;
use common::servers::{clickhouse_url, database};
use common::{bin, ok, replay_into_clickhouse};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const GRAFANA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/grafana");
const CLICKHOUSE_TYPE: &str = "grafana-clickhouse-datasource";
const DATASOURCE_UIDS: [&str; 2] = ["clickhouse", "prometheus"];

/// The time range the panels are evaluated over: it covers the generated data (2025-01-06 and
/// the 63 days after it, plus the deadlines that fall after the last event).
const FROM_DATE: &str = "2025-01-01";
const TO_DATE: &str = "2025-04-01";
const FROM_S: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z
const TO_S: i64 = 1_743_465_600; // 2025-04-01T00:00:00Z
const INTERVAL_S: i64 = 3600;

/// The pipeline's metrics (name, labels, histogram), as `src/telemetry` exports them.
const METRICS: &[(&str, &[&str], bool)] = &[
    ("quality_pipeline_build_info", &["version"], false),
    ("quality_pipeline_events_total", &["topic", "type", "outcome"], false),
    ("quality_pipeline_events_rejected_total", &["topic", "reason"], false),
    ("quality_pipeline_consumer_lag", &["topic", "partition"], false),
    ("quality_pipeline_watermark_seconds", &["partition"], false),
    ("quality_pipeline_watermark_delay_seconds", &["partition"], false),
    ("quality_pipeline_state_items", &["kind"], false),
    ("quality_pipeline_checkpoint_bytes", &[], false),
    ("quality_pipeline_assigned_partitions", &[], false),
    ("quality_pipeline_rebalances_total", &["kind"], false),
    ("quality_pipeline_sink_batches_total", &["sink"], false),
    ("quality_pipeline_sink_rows_total", &["sink", "table"], false),
    ("quality_pipeline_sink_errors_total", &["sink"], false),
    ("quality_pipeline_sink_flush_seconds", &["sink"], true),
    ("quality_pipeline_commit_seconds", &[], true),
    ("quality_pipeline_commits_total", &[], false),
    ("process_resident_memory_bytes", &[], false),
    ("quality_pipeline_standard_value", &["cadence", "metric"], false),
    ("quality_pipeline_standard_target", &["metric"], false),
    ("quality_pipeline_standard_sellers", &["cadence", "metric"], false),
    ("quality_pipeline_standard_breaching_sellers", &["cadence", "metric"], false),
    ("quality_pipeline_standard_period_start_seconds", &["cadence"], false),
];

/// Label values that are fixed sets: an `=` matcher on one of these labels must use one of them.
const LABEL_VALUES: &[(&str, &[&str])] = &[
    ("outcome", &["accepted", "duplicate"]),
    ("cadence", &["day", "week", "month", "rolling_7d", "rolling_30d"]),
    (
        "reason",
        &[
            "oversized",
            "invalid_utf8",
            "invalid_json",
            "not_an_object",
            "unknown_type",
            "missing_field",
            "invalid_field",
            "out_of_range",
            "negative_duration",
            "conflicting_lifecycle",
            "too_late",
            "order_without_creation",
            "reply_without_message",
            "complaint_without_order",
            "wrong_profile",
            "request_without_creation",
        ],
    ),
];

/// PromQL functions and aggregations the dashboards may use.
const PROMQL_FUNCTIONS: &[&str] = &[
    "sum",
    "max",
    "min",
    "avg",
    "count",
    "topk",
    "bottomk",
    "quantile",
    "rate",
    "irate",
    "increase",
    "delta",
    "deriv",
    "histogram_quantile",
    "time",
    "timestamp",
    "abs",
    "clamp_min",
    "clamp_max",
    "max_over_time",
    "min_over_time",
    "avg_over_time",
    "changes",
    "resets",
    "vector",
    "scalar",
    "label_replace",
];

// ------------------------------------------------------------------------------------------ files

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(GRAFANA).join(path)).unwrap_or_else(|e| panic!("grafana/{path}: {e}"))
}

fn files(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(Path::new(GRAFANA).join(dir))
        .unwrap_or_else(|e| panic!("grafana/{dir}: {e}"))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names.into_iter().map(|n| format!("{dir}/{n}")).collect()
}

/// Every dashboard: (file, JSON).
fn dashboards() -> Vec<(String, Value)> {
    let list: Vec<(String, Value)> = files("dashboards")
        .into_iter()
        .map(|f| {
            assert!(f.ends_with(".json"), "{f}: the dashboard provider reads JSON files only");
            let v = serde_json::from_str(&read(&f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            (f, v)
        })
        .collect();
    assert!(list.len() >= 5, "the five dashboards are there: {list:?}");
    list
}

/// Every alert rule file: (file, JSON).
fn alert_files() -> Vec<(String, Value)> {
    files("provisioning/alerting")
        .into_iter()
        .map(|f| {
            // Grafana refuses to start on any other suffix in this directory.
            assert!(f.ends_with(".json") || f.ends_with(".yaml") || f.ends_with(".yml"), "{f}: .yaml, .yml or .json only");
            assert!(f.ends_with(".json"), "{f}: this test reads the alert rules as JSON (no YAML parser among the dependencies)");
            let v = serde_json::from_str(&read(&f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            (f, v)
        })
        .collect()
}

/// The panels of a dashboard, those inside rows included, rows excluded.
fn panels(dash: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in dash["panels"].as_array().expect("panels") {
        if p["type"] == "row" {
            out.extend(p["panels"].as_array().into_iter().flatten());
        } else {
            out.push(p);
        }
    }
    out
}

fn text<'a>(v: &'a Value, key: &str, at: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{at}: no string `{key}`"))
}

// -------------------------------------------------------------------------------- structure tests

#[test]
fn dashboards_reference_provisioned_datasources_with_the_plugins_query_model() {
    let mut uids = BTreeSet::new();
    let mut titles = BTreeSet::new();
    for (file, dash) in dashboards() {
        let uid = text(&dash, "uid", &file);
        assert!(!uid.is_empty() && uid.len() <= 40, "{file}: uid {uid:?} (Grafana allows up to 40 characters)");
        assert!(uids.insert(uid.to_string()), "{file}: uid {uid} is used twice");
        assert!(titles.insert(text(&dash, "title", &file).to_string()), "{file}: title used twice (one folder)");
        assert!(dash["id"].is_null(), "{file}: provisioned dashboards carry no id");
        assert!(dash["schemaVersion"].as_u64().is_some_and(|v| v >= 39), "{file}: schemaVersion");
        let mut ids = BTreeSet::new();
        for p in dash["panels"].as_array().unwrap() {
            assert!(ids.insert(p["id"].as_u64().unwrap_or_else(|| panic!("{file}: panel without id"))), "{file}: panel ids repeat");
            let g = &p["gridPos"];
            assert!(g["x"].as_u64().unwrap() + g["w"].as_u64().unwrap() <= 24, "{file}: {} is wider than the grid", p["title"]);
        }
        let variables: BTreeSet<&str> = dash["templating"]["list"].as_array().unwrap().iter().map(|v| text(v, "name", &file)).collect();
        for v in dash["templating"]["list"].as_array().unwrap() {
            if v["type"] == "query" {
                let at = format!("{file}: variable {}", v["name"]);
                assert_eq!(v["datasource"]["uid"], "clickhouse", "{at}");
                assert_eq!(v["datasource"]["type"], CLICKHOUSE_TYPE, "{at}");
                assert!(!text(&v["query"], "rawSql", &at).is_empty(), "{at}");
                assert_eq!(v["query"]["editorType"], "sql", "{at}");
            }
        }
        for p in panels(&dash) {
            let at = format!("{file}: panel {:?}", p["title"]);
            let ds = text(&p["datasource"], "uid", &at);
            assert!(DATASOURCE_UIDS.contains(&ds), "{at}: data source uid {ds:?}");
            for used in used_variables(text(p, "title", &at)) {
                assert!(variables.contains(used.as_str()), "{at}: the title uses ${used}, which is not a variable");
            }
            let targets = p["targets"].as_array().unwrap_or_else(|| panic!("{at}: no targets"));
            assert!(!targets.is_empty(), "{at}: no targets");
            let mut refs = BTreeSet::new();
            for t in targets {
                assert!(refs.insert(text(t, "refId", &at)), "{at}: refIds repeat");
                assert_eq!(t["datasource"]["uid"], ds, "{at}: a target's data source differs from the panel's");
                if ds == "clickhouse" {
                    assert_eq!(p["datasource"]["type"], CLICKHOUSE_TYPE, "{at}");
                    check_clickhouse_target(t, &at);
                    for used in used_variables(text(t, "rawSql", &at)) {
                        assert!(variables.contains(used.as_str()), "{at}: the query uses ${used}, which is not a variable");
                    }
                } else {
                    assert_eq!(p["datasource"]["type"], "prometheus", "{at}");
                    let expr = text(t, "expr", &at);
                    let labels = check_promql(expr).unwrap_or_else(|e| panic!("{at}: {expr}: {e}"));
                    let legend = t["legendFormat"].as_str().unwrap_or("");
                    for l in legend.split("{{").skip(1).map(|s| s.split("}}").next().unwrap().trim()) {
                        assert!(labels.contains(l), "{at}: legend {legend:?} uses label {l}, which {expr} does not have");
                    }
                }
            }
        }
    }
    for uid in ["qp-daily-monitoring", "qp-weekly-quality", "qp-monthly-composite", "qp-pipeline-health", "qp-service-company"] {
        assert!(uids.contains(uid), "dashboard {uid}");
    }
}

/// The v4 plugin's SQL query model: `editorType` sql, `rawSql`, `format` 0 (time series) or 1
/// (table) with the matching `queryType`, and a `pluginVersion` of 4 or later (without one, the
/// plugin migrates the query as a v3 query).
fn check_clickhouse_target(t: &Value, at: &str) {
    assert_eq!(t["datasource"]["type"], CLICKHOUSE_TYPE, "{at}");
    assert_eq!(t["editorType"], "sql", "{at}");
    assert!(!text(t, "rawSql", at).trim().is_empty(), "{at}");
    let major: u64 = text(t, "pluginVersion", at).split('.').next().unwrap().parse().unwrap();
    assert!(major >= 4, "{at}: pluginVersion");
    match (t["format"].as_u64(), t["queryType"].as_str()) {
        (Some(0), Some("timeseries")) | (Some(1), Some("table")) => {}
        other => panic!("{at}: format/queryType {other:?}"),
    }
}

/// Dashboard variables a text uses (`$name` or `${name}`), not the plugin's `$__` macros.
fn used_variables(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let name: String = rest.trim_start_matches('{').chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !name.is_empty() && !name.starts_with("__") {
            out.push(name);
        }
    }
    out
}

#[test]
fn provisioning_files_define_the_datasources_and_the_dashboard_folder() {
    let ds = read("provisioning/datasources/datasources.yaml");
    let pr = read("provisioning/dashboards/dashboards.yaml");
    for (name, text) in [("datasources.yaml", &ds), ("dashboards.yaml", &pr)] {
        assert!(!text.contains('\t'), "{name}: YAML forbids tabs");
        assert!(has_line(text, "apiVersion: 1"), "{name}: apiVersion 1");
    }
    // One block per data source, split on the list items.
    let blocks: Vec<&str> = ds.split("\n  - ").skip(1).collect();
    let block = |uid: &str| *blocks.iter().find(|b| has_line(b, &format!("uid: {uid}"))).unwrap_or_else(|| panic!("no data source {uid}"));
    let ch = block("clickhouse");
    for line in
        ["type: grafana-clickhouse-datasource", "host: clickhouse", "port: 8123", "protocol: http", "defaultDatabase: quality", "username: default"]
    {
        assert!(has_line(ch, line), "the ClickHouse data source has `{line}`");
    }
    let prom = block("prometheus");
    for line in ["type: prometheus", "url: http://prometheus:9090"] {
        assert!(has_line(prom, line), "the Prometheus data source has `{line}`");
    }
    assert_eq!(ds.matches("isDefault: true").count(), 1, "one default data source");
    for line in ["type: file", "path: /var/lib/grafana/dashboards"] {
        assert!(has_line(&pr, line), "dashboards.yaml has `{line}`");
    }
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l.trim().trim_start_matches("- ").trim() == line)
}

#[test]
fn alert_rules_follow_grafanas_provisioning_format() {
    let mut uids = BTreeSet::new();
    let mut rules = 0;
    for (file, doc) in alert_files() {
        assert_eq!(doc["apiVersion"], 1, "{file}");
        for g in doc["groups"].as_array().unwrap_or_else(|| panic!("{file}: groups")) {
            let at = format!("{file}: group {:?}", g["name"]);
            for key in ["name", "folder"] {
                // Provisioning expands environment variables in these; a `$` would be eaten.
                assert!(!text(g, key, &at).is_empty() && !text(g, key, &at).contains('$'), "{at}: {key}");
            }
            assert!(duration_s(text(g, "interval", &at)) > 0, "{at}: interval");
            for r in g["rules"].as_array().unwrap_or_else(|| panic!("{at}: rules")) {
                rules += 1;
                let at = format!("{file}: rule {:?}", r["title"]);
                let uid = text(r, "uid", &at);
                assert!(!uid.is_empty() && uid.len() <= 40, "{at}: uid");
                assert!(uids.insert(uid.to_string()), "{at}: uid {uid} is used twice");
                assert!(!text(r, "title", &at).contains('$'), "{at}: title");
                for (k, v) in r["labels"].as_object().into_iter().flatten() {
                    assert!(!k.contains('$') && !v.as_str().unwrap().contains('$'), "{at}: labels are env-expanded; no `$`");
                }
                assert!(!text(&r["annotations"], "summary", &at).is_empty(), "{at}: summary");
                assert!(["OK", "NoData", "Alerting", "KeepLast"].contains(&text(r, "noDataState", &at)), "{at}: noDataState");
                assert!(["OK", "Error", "Alerting", "KeepLast"].contains(&text(r, "execErrState", &at)), "{at}: execErrState");
                duration_s(text(r, "for", &at));
                let data = r["data"].as_array().unwrap_or_else(|| panic!("{at}: data"));
                let mut seen = BTreeSet::new();
                for d in data {
                    let refid = text(d, "refId", &at);
                    assert_eq!(d["model"]["refId"], refid, "{at}: the model's refId");
                    match text(d, "datasourceUid", &at) {
                        "clickhouse" => {
                            check_clickhouse_target(&d["model"], &at);
                            assert_eq!(d["model"]["format"], 1, "{at}: alert queries are tables (one number per row, string labels)");
                            assert!(d["relativeTimeRange"]["from"].as_u64().is_some_and(|f| f > 0), "{at}: relativeTimeRange");
                        }
                        "__expr__" => {
                            let m = &d["model"];
                            assert!(seen.contains(text(m, "expression", &at)), "{at}: {refid} refers to a later or missing refId");
                            match text(m, "type", &at) {
                                "reduce" => assert!(["last", "mean", "min", "max", "sum", "count"].contains(&text(m, "reducer", &at))),
                                "threshold" => {
                                    let c = m["conditions"].as_array().unwrap();
                                    assert_eq!(c.len(), 1, "{at}: a threshold has exactly one condition");
                                    assert!(["gt", "lt", "gte", "lte", "eq", "ne"].contains(&text(&c[0]["evaluator"], "type", &at)));
                                    assert!(c[0]["evaluator"]["params"][0].is_number(), "{at}: threshold value");
                                }
                                other => panic!("{at}: expression type {other}"),
                            }
                        }
                        other => panic!("{at}: data source {other}"),
                    }
                    seen.insert(refid);
                }
                assert!(seen.contains(text(r, "condition", &at)), "{at}: the condition is one of the refIds");
            }
        }
    }
    assert_eq!(rules, 4, "the daily, weekly, monthly and critic follow-up rules");
    let critics = alert_rules().into_iter().find(|r| r.uid == "qp-critic-follow-up-overdue").expect("the critic rule");
    assert_eq!(critics.threshold, ("gt".to_string(), 0.0), "any overdue critic fires");
    let monthly = alert_rules().into_iter().find(|r| r.uid == "qp-monthly-composite-below-minimum").expect("the monthly rule");
    assert_eq!(monthly.threshold, ("lt".to_string(), 60.0));
    assert!(monthly.description.contains("60") && monthly.description.contains("default"), "the rule says 60 is the product's default");
}

fn duration_s(d: &str) -> u64 {
    let (n, unit) = d.split_at(d.find(|c: char| !c.is_ascii_digit()).unwrap_or_else(|| panic!("duration {d:?} without a unit")));
    let n: u64 = n.parse().unwrap_or_else(|_| panic!("duration {d:?}"));
    n * match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => panic!("duration {d:?}"),
    }
}

struct AlertRule {
    uid: String,
    sql: String,
    threshold: (String, f64),
    description: String,
}

/// Every rule's ClickHouse query and threshold (rules are A = query, B = reduce, C = threshold).
fn alert_rules() -> Vec<AlertRule> {
    let mut out = Vec::new();
    for (_, doc) in alert_files() {
        for g in doc["groups"].as_array().unwrap() {
            for r in g["rules"].as_array().unwrap() {
                let data = r["data"].as_array().unwrap();
                let sql = data.iter().find(|d| d["datasourceUid"] == "clickhouse").expect("a ClickHouse query")["model"]["rawSql"].as_str().unwrap();
                let t = data.iter().find(|d| d["model"]["type"] == "threshold").expect("a threshold")["model"]["conditions"][0]["evaluator"].clone();
                out.push(AlertRule {
                    uid: r["uid"].as_str().unwrap().into(),
                    sql: sql.into(),
                    threshold: (t["type"].as_str().unwrap().into(), t["params"][0].as_f64().unwrap()),
                    description: r["annotations"]["description"].as_str().unwrap_or("").into(),
                });
            }
        }
    }
    out
}

// -------------------------------------------------------------------------------------- PromQL

/// Checks that `expr` names only the pipeline's metrics (histograms through their `_bucket`,
/// `_sum` and `_count` series), known functions, and labels those metrics have; returns the
/// labels the result can carry (for legends).
fn check_promql(expr: &str) -> Result<BTreeSet<String>, String> {
    let b: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut metrics: Vec<(&str, &[&str], bool)> = Vec::new();
    let mut matchers: Vec<(usize, String, String, String)> = Vec::new(); // (metric index, label, op, value)
    let mut grouping: Vec<String> = Vec::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let skip_ws = |mut j: usize| {
        while j < b.len() && b[j].is_whitespace() {
            j += 1;
        }
        j
    };
    while i < b.len() {
        let c = b[i];
        if c == '"' || c == '\'' || c == '`' {
            let end = b[i + 1..].iter().position(|&x| x == c).ok_or("unclosed string")?;
            i += end + 2;
        } else if c == '[' {
            i += b[i..].iter().position(|&x| x == ']').ok_or("unclosed [")? + 1;
        } else if c == '{' {
            let end = i + b[i..].iter().position(|&x| x == '}').ok_or("unclosed {")?;
            let metric = metrics.len().checked_sub(1).filter(|_| i > 0 && ident(b[i - 1])).ok_or("a selector without a metric name")?;
            let body: String = b[i + 1..end].iter().collect();
            for m in body.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                let op_at = m.find(['=', '!']).ok_or_else(|| format!("matcher {m:?}"))?;
                let (label, rest) = m.split_at(op_at);
                let op: String = rest.chars().take_while(|c| "=!~".contains(*c)).collect();
                let value = rest[op.len()..].trim().trim_matches('"').to_string();
                matchers.push((metric, label.trim().to_string(), op, value));
            }
            i = end + 1;
        } else if c == '$' {
            i += 1;
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
        } else if c.is_ascii_digit() || (c == '.' && i + 1 < b.len() && b[i + 1].is_ascii_digit()) {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '.') {
                i += 1;
            }
        } else if ident(c) {
            let start = i;
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
            let word: String = b[start..i].iter().collect();
            let next = skip_ws(i);
            let paren = next < b.len() && b[next] == '(';
            match word.as_str() {
                "by" | "without" | "on" | "ignoring" | "group_left" | "group_right" => {
                    if paren {
                        let end = next + b[next..].iter().position(|&x| x == ')').ok_or("unclosed (")?;
                        let list: String = b[next + 1..end].iter().collect();
                        grouping.extend(list.split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()));
                        i = end + 1;
                    }
                }
                "and" | "or" | "unless" | "bool" | "offset" => {}
                // Aggregations may come before their `by (...)`: `max by (version) (...)`.
                _ if PROMQL_FUNCTIONS.contains(&word.as_str()) => {}
                _ if paren => return Err(format!("unknown function {word}")),
                _ => {
                    let known = METRICS.iter().find(|(name, _, histogram)| {
                        word == *name || (*histogram && ["_bucket", "_sum", "_count"].iter().any(|s| word == format!("{name}{s}")))
                    });
                    let &(name, labels, histogram) = known.ok_or_else(|| format!("{word} is not one of the pipeline's metrics"))?;
                    metrics.push((name, labels, histogram && word.ends_with("_bucket")));
                }
            }
        } else {
            i += 1;
        }
    }
    if metrics.is_empty() {
        return Err("no metric".into());
    }
    let with_target_labels = |labels: &[&str], bucket: bool| {
        let mut set: BTreeSet<String> = labels.iter().map(|l| l.to_string()).collect();
        set.extend(["instance".to_string(), "job".to_string()]);
        if bucket {
            set.insert("le".into());
        }
        set
    };
    for (metric, label, op, value) in &matchers {
        let (name, labels, bucket) = metrics[*metric];
        if !with_target_labels(labels, bucket).contains(label) {
            return Err(format!("{name} has no label {label}"));
        }
        if let Some((_, values)) = LABEL_VALUES.iter().find(|(l, _)| l == label) {
            if op == "=" && !values.contains(&value.as_str()) {
                return Err(format!("{label}={value:?} is not one of {values:?}"));
            }
        }
    }
    let available: BTreeSet<String> = metrics.iter().flat_map(|&(_, labels, bucket)| with_target_labels(labels, bucket)).collect();
    if let Some(l) = grouping.iter().find(|l| !available.contains(*l)) {
        return Err(format!("groups by {l}, which none of its metrics has"));
    }
    Ok(available)
}

#[test]
fn the_promql_check_catches_wrong_names() {
    assert!(check_promql("sum by (topic) (rate(quality_pipeline_events_total{outcome=\"accepted\"}[$__rate_interval]))").is_ok());
    assert!(check_promql("histogram_quantile(0.99, sum by (le, sink) (rate(quality_pipeline_sink_flush_seconds_bucket[5m])))").is_ok());
    assert!(check_promql("rate(quality_pipeline_event_total[5m])").is_err(), "misspelt metric");
    assert!(check_promql("quality_pipeline_events_total{outcome=\"accept\"}").is_err(), "unknown label value");
    assert!(check_promql("sum by (seller) (quality_pipeline_consumer_lag)").is_err(), "unknown grouping label");
    assert!(check_promql("quality_pipeline_consumer_lag{kind=\"x\"}").is_err(), "label of another metric");
    assert!(check_promql("sum by (le) (rate(quality_pipeline_commit_seconds_sum[5m]))").is_err(), "le only on buckets");
    assert!(check_promql("rte(quality_pipeline_commits_total[5m])").is_err(), "unknown function");
}

// --------------------------------------------------------------------------------- ClickHouse

/// How a plugin version expands the time macros (both are v4: 4.0.0, and 4.20's macro engine).
#[derive(Clone, Copy, Debug)]
enum Dialect {
    V4_0,
    Current,
}

/// The plugin's macro `$__name(args)` as `dialect` expands it over [FROM, TO]; None if unknown.
fn expand_macro(name: &str, args: &[String], dialect: Dialect) -> Option<String> {
    use Dialect::*;
    let one = || {
        assert_eq!(args.len(), 1, "$__{name} takes one argument");
        args[0].clone()
    };
    Some(match (name, dialect) {
        ("dateFilter", Current) => format!("{c} >= toDate('{FROM_DATE}') AND {c} <= toDate('{TO_DATE}')", c = one()),
        ("dateFilter", V4_0) => format!("{c} >= '{FROM_DATE}' AND {c} <= '{TO_DATE}'", c = one()),
        ("timeFilter", Current) => format!("{c} >= toDateTime({FROM_S}) AND {c} <= toDateTime({TO_S})", c = one()),
        ("timeFilter", V4_0) => format!("{c} >= toDateTime64({FROM_S}000/1000, 3) AND {c} <= toDateTime64({TO_S}000/1000, 3)", c = one()),
        ("fromTime", Current) => format!("toDateTime({FROM_S})"),
        ("toTime", Current) => format!("toDateTime({TO_S})"),
        ("fromTime", V4_0) => format!("toDateTime64({FROM_S}000/1000, 3)"),
        ("toTime", V4_0) => format!("toDateTime64({TO_S}000/1000, 3)"),
        ("timeInterval", _) => format!("toStartOfInterval(toDateTime({}), INTERVAL {INTERVAL_S} second)", one()),
        ("interval_s", _) => INTERVAL_S.to_string(),
        _ => return None,
    })
}

/// A panel's SQL as ClickHouse receives it: macros expanded, variables substituted, and the
/// test database instead of `quality`.
fn expand(sql: &str, dialect: Dialect, vars: &BTreeMap<String, String>, db: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix("__") {
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            let name = &after[..len];
            rest = &after[len..];
            let mut args = Vec::new();
            if rest.starts_with('(') {
                let (mut depth, mut arg) = (0, String::new());
                let mut end = None;
                for (j, c) in rest.char_indices() {
                    match c {
                        '(' if depth == 0 => depth = 1,
                        '(' => {
                            depth += 1;
                            arg.push(c)
                        }
                        ')' if depth == 1 => {
                            end = Some(j);
                            break;
                        }
                        ')' => {
                            depth -= 1;
                            arg.push(c)
                        }
                        ',' if depth == 1 => args.push(std::mem::take(&mut arg).trim().to_string()),
                        _ => arg.push(c),
                    }
                }
                let end = end.unwrap_or_else(|| panic!("unclosed $__{name}( in {sql}"));
                if !arg.trim().is_empty() {
                    args.push(arg.trim().to_string());
                }
                rest = &rest[end + 1..];
            }
            let text = expand_macro(name, &args, dialect).unwrap_or_else(|| panic!("$__{name} is not a macro of the plugin in {dialect:?}: {sql}"));
            out.push_str(&text);
        } else {
            let braced = rest.starts_with('{');
            let body = rest.trim_start_matches('{');
            let len = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
            let name = &body[..len];
            let value = vars.get(name).unwrap_or_else(|| panic!("${name} is not a variable of the dashboard: {sql}"));
            out.push_str(value);
            rest = &body[len..];
            if braced {
                rest = rest.strip_prefix('}').unwrap_or_else(|| panic!("${{{name} with a format is not supported: {sql}"));
            }
        }
    }
    out.push_str(rest);
    // `quality.` as a database qualifier (not inside a longer name) becomes the test database.
    let mut qualified = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find("quality.") {
        let before = rest[..i].chars().last();
        qualified.push_str(&rest[..i]);
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            qualified.push_str("quality.");
        } else {
            qualified.push_str(db);
            qualified.push('.');
        }
        rest = &rest[i + "quality.".len()..];
    }
    qualified.push_str(rest);
    qualified
}

#[test]
fn macros_and_variables_expand_like_the_plugin() {
    let vars = BTreeMap::from([("seller".to_string(), "seller-0001".to_string())]);
    let sql = "SELECT * FROM quality.standards WHERE seller_id = '${seller}' AND $__dateFilter(period_start) AND s = '$seller'";
    assert_eq!(
        expand(sql, Dialect::Current, &vars, "db"),
        "SELECT * FROM db.standards WHERE seller_id = 'seller-0001' AND period_start >= toDate('2025-01-01') AND period_start <= \
         toDate('2025-04-01') AND s = 'seller-0001'"
    );
    assert_eq!(
        expand("SELECT $__timeInterval(toDateTime(d)) FROM x WHERE $__timeFilter(t)", Dialect::V4_0, &vars, "db"),
        "SELECT toStartOfInterval(toDateTime(toDateTime(d)), INTERVAL 3600 second) FROM x WHERE t >= toDateTime64(1735689600000/1000, 3) AND \
         t <= toDateTime64(1743465600000/1000, 3)"
    );
}

/// One ClickHouse query of a dashboard or rule.
struct Query {
    at: String,
    sql: String,
    /// The dashboard's variables (for panels) or none (rules).
    vars: BTreeMap<String, String>,
    panel: Option<Value>,
    rule: Option<(String, f64)>,
    /// Reads sellers' rows only (no department or performer may appear).
    marketplace: bool,
}

/// The result of a query in ClickHouse's JSONCompact format: (column name, type) and rows.
struct Answer {
    columns: Vec<(String, String)>,
    rows: Vec<Vec<Value>>,
}

async fn run(client: &Client, sql: &str) -> Result<Answer, String> {
    let bytes = async { client.query_raw(sql).fetch_bytes("JSONCompact")?.collect().await }.await.map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let columns = v["meta"].as_array().unwrap().iter().map(|m| (m["name"].as_str().unwrap().into(), m["type"].as_str().unwrap().into())).collect();
    let rows = v["data"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().clone()).collect();
    Ok(Answer { columns, rows })
}

fn numeric(ty: &str) -> bool {
    let inner = ty.trim_start_matches("Nullable(").trim_start_matches("LowCardinality(");
    ["Int", "UInt", "Float", "Decimal"].iter().any(|p| inner.starts_with(p))
}

/// Loads 20 sellers over 63 days into a fresh database through the binary, as production does,
/// and a service company (departments, performers, survey questions, critics per site) over the
/// same days into the same database, so that every dashboard has rows and the marketplace
/// panels must keep the service rows out.
fn load(url: &str, db: &str, dir: &Path) {
    let events = dir.join("events.ndjson");
    ok(bin().args(["generate", "--sellers", "20", "--days", "63", "--start", "2025-01-06", "--out"]).arg(&events));
    replay_into_clickhouse(&events, url, db, &["--until", "2026-01-01T00:00:00Z"]);
    let service = dir.join("service.ndjson");
    ok(bin().args(["generate", "--profile", "service", "--days", "63", "--start", "2025-01-06", "--seed", "3", "--out"]).arg(&service));
    let config = dir.join("service.toml");
    std::fs::write(&config, "[engine]\nprofile = \"service\"\n").unwrap();
    replay_into_clickhouse(&service, url, db, &["--config", config.to_str().unwrap(), "--until", "2026-01-01T00:00:00Z"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_clickhouse_query_runs_and_returns_rows() {
    let (url, db) = (clickhouse_url(), database("dashboards"));
    let dir = tempfile::tempdir().unwrap();
    load(url, &db, dir.path());
    let client = Client::default().with_url(url).with_database(&db);

    let mut queries = Vec::new();
    for (file, dash) in dashboards() {
        // Service rows share the database with the sellers' rows: the marketplace dashboards must not show them.
        let marketplace = dash["uid"] != "qp-service-company";
        // Variables first: each takes the first value its query returns, as Grafana does.
        let mut vars = BTreeMap::new();
        for v in dash["templating"]["list"].as_array().unwrap() {
            let name = v["name"].as_str().unwrap().to_string();
            let sql = expand(v["query"]["rawSql"].as_str().expect("query variables only"), Dialect::Current, &vars, &db);
            let answer = run(&client, &sql).await.unwrap_or_else(|e| panic!("{file}: variable {name}: {e}\n{sql}"));
            assert!(answer.rows.len() >= 2, "{file}: variable {name} offers a choice: {:?}", answer.rows);
            if marketplace {
                assert_eq!(service_value(&answer), None, "{file}: variable {name} offers service rows");
            }
            let first = answer.rows[0][0].as_str().expect("a string value").to_string();
            vars.insert(name, first);
        }
        for p in panels(&dash) {
            for t in p["targets"].as_array().unwrap().iter().filter(|t| t["datasource"]["uid"] == "clickhouse") {
                queries.push(Query {
                    at: format!("{file}: {} ({})", p["title"], t["refId"]),
                    sql: t["rawSql"].as_str().unwrap().into(),
                    vars: vars.clone(),
                    panel: Some(serde_json::json!({"panel": p, "target": t})),
                    rule: None,
                    marketplace,
                });
            }
        }
    }
    for r in alert_rules() {
        // Overdue critics fire for sellers and departments alike; the other rules judge sellers.
        let marketplace = !r.sql.contains("quality.critics");
        let rule = Some(r.threshold);
        queries.push(Query { at: format!("alert rule {}", r.uid), sql: r.sql, vars: BTreeMap::new(), panel: None, rule, marketplace });
    }
    assert!(queries.len() >= 30, "{} queries", queries.len());

    let mut failures = Vec::new();
    for q in &queries {
        for dialect in [Dialect::V4_0, Dialect::Current] {
            let sql = expand(&q.sql, dialect, &q.vars, &db);
            match run(&client, &sql).await {
                Ok(answer) => {
                    if let Err(e) = check_answer(q, &answer) {
                        failures.push(format!("{} ({dialect:?}): {e}\n{sql}", q.at));
                    }
                }
                Err(e) => failures.push(format!("{} ({dialect:?}): {e}\n{sql}", q.at)),
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} queries failed:\n\n{}", failures.len(), queries.len(), failures.join("\n\n"));
}

/// A value of the service profile's generated ids (departments, performers) in an answer, if any.
fn service_value(a: &Answer) -> Option<String> {
    a.rows.iter().flatten().filter_map(Value::as_str).find(|v| v.starts_with("dept-") || v.starts_with("perf-")).map(str::to_owned)
}

/// What a panel or rule needs of its result.
fn check_answer(q: &Query, a: &Answer) -> Result<(), String> {
    if a.rows.is_empty() {
        return Err("no rows".into());
    }
    if let Some(v) = service_value(a).filter(|_| q.marketplace) {
        return Err(format!("a service row ({v}) leaks into a marketplace query"));
    }
    let names: BTreeSet<&str> = a.columns.iter().map(|(n, _)| n.as_str()).collect();
    if let Some(v) = &q.panel {
        let (p, t) = (&v["panel"], &v["target"]);
        if t["format"] == 0 {
            // A time series: a `time` column first, ascending, then numbers (a wide frame).
            let (name, ty) = &a.columns[0];
            if name != "time" || !ty.starts_with("Date") {
                return Err(format!("a time series starts with a Date/DateTime column named time, not {name} {ty}"));
            }
            if let Some((name, ty)) = a.columns[1..].iter().find(|(_, ty)| !numeric(ty)) {
                return Err(format!("time series column {name} is {ty}, not a number"));
            }
            let times: Vec<&str> = a.rows.iter().map(|r| r[0].as_str().unwrap_or("")).collect();
            if times.windows(2).any(|w| w[0] > w[1]) {
                return Err("time is not ascending".into());
            }
        }
        // Columns that the panel's options and overrides name must exist.
        let mut named: Vec<String> = p["fieldConfig"]["overrides"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["matcher"]["id"] == "byName")
            .map(|o| o["matcher"]["options"].as_str().unwrap().to_string())
            .collect();
        named.extend(p["options"]["xField"].as_str().map(String::from));
        if let Some(f) = p["options"]["reduceOptions"]["fields"].as_str().and_then(|f| f.strip_prefix("/^")).and_then(|f| f.strip_suffix("$/")) {
            named.push(f.to_string());
        }
        if let Some(n) = named.iter().find(|n| !names.contains(n.as_str())) {
            return Err(format!("the panel refers to column {n}, which the query does not return ({names:?})"));
        }
    }
    if let Some((op, threshold)) = &q.rule {
        // Grafana alerting reads a table as one instance per row only if it has exactly one
        // numeric column and every other column is a string (its labels), unique per row.
        let numbers: Vec<&(String, String)> = a.columns.iter().filter(|(_, ty)| numeric(ty)).collect();
        if numbers.len() != 1 || numbers[0].1.starts_with("LowCardinality") {
            return Err(format!("an alert query returns exactly one plain numeric column: {:?}", a.columns));
        }
        if let Some(c) = a.columns.iter().find(|(_, ty)| !numeric(ty) && ty != "String" && ty != "Nullable(String)") {
            return Err(format!("label column {c:?} is not a String"));
        }
        let at = a.columns.iter().position(|(_, ty)| numeric(ty)).unwrap();
        let labels: BTreeSet<Vec<String>> =
            a.rows.iter().map(|r| r.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, v)| v.to_string()).collect()).collect();
        if labels.len() != a.rows.len() {
            return Err("two rows have the same labels (Grafana rejects duplicate instances)".into());
        }
        let firing = a.rows.iter().filter_map(|r| r[at].as_f64()).filter(|v| if op == "gt" { *v > *threshold } else { *v < *threshold }).count();
        if firing == 0 {
            return Err(format!("no instance fires on data with breaches ({op} {threshold})"));
        }
    }
    Ok(())
}
