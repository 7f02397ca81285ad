//! The monitoring and deployment files: the Prometheus config and alert rules (checked and unit
//! tested with promtool) and docker-compose.yml (validated with docker-compose, no Docker engine
//! needed). A missing tool is a failure, never a skip: `./scripts/test.sh` installs both.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

const RULES: &str = "prometheus/rules/pipeline.rules.yml";
const RULE_TESTS: &str = "prometheus/rules/pipeline.rules.test.yml";
const COMPOSE: &str = "docker-compose.yml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `tool args` in the repository root; panics with the tool's output unless it succeeds.
fn run_ok(tool: &str, args: &[&str]) -> String {
    let out: Output = match Command::new(tool).args(args).current_dir(root()).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("`{tool}` is not installed; run ./scripts/test.sh once (it installs the Debian packages prometheus and docker-compose)")
        }
        Err(e) => panic!("cannot run `{tool}`: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "`{tool} {}` failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}", args.join(" "), out.status);
    stdout
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The value of a scalar at `path` in block-style YAML (nested mappings, as `docker-compose
/// config` prints them), or None.
fn yaml_scalar(text: &str, path: &[&str]) -> Option<String> {
    let mut depth = 0; // path elements matched so far
    let mut indents: Vec<usize> = Vec::new(); // indentation of each matched key
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        while indents.last().is_some_and(|&i| indent <= i) {
            indents.pop();
            depth -= 1;
        }
        let Some((key, value)) = trimmed.split_once(':') else { continue };
        let child_indent_ok = indents.last().is_none_or(|&i| indent > i);
        if depth < path.len() && child_indent_ok && key.trim_matches(['"', '\'']) == path[depth] {
            if depth + 1 == path.len() {
                return Some(value.trim().trim_matches(['"', '\'']).to_string());
            }
            indents.push(indent);
            depth += 1;
        }
    }
    None
}

#[test]
fn prometheus_config_is_valid_and_loads_the_rules() {
    let out = run_ok("promtool", &["check", "config", "prometheus/prometheus.yml"]);
    assert!(out.contains("1 rule files found"), "the config must load the rules file:\n{out}");
    // Relative to the config file, so it resolves the same in the container (/etc/prometheus).
    assert!(read("prometheus/prometheus.yml").contains("- rules/pipeline.rules.yml"));
    assert!(read("prometheus/prometheus.yml").contains("pipeline:9464"), "scrapes the compose service");
    run_ok("promtool", &["check", "rules", RULES]);
}

#[test]
fn alert_rules_pass_their_unit_tests() {
    let out = run_ok("promtool", &["test", "rules", RULE_TESTS]);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn every_alert_is_tested_firing_and_not_firing() {
    let alerts: BTreeSet<String> = read(RULES).lines().filter_map(|l| l.trim().strip_prefix("- alert:")).map(|a| a.trim().to_string()).collect();
    for metric in
        ["up{job=\"quality-pipeline\"}", "quality_pipeline_consumer_lag", "quality_pipeline_events_total", "quality_pipeline_sink_errors_total"]
    {
        assert!(read(RULES).contains(metric), "no rule uses {metric}");
    }
    assert!(read(RULES).contains("quality_pipeline_watermark_seconds"), "no watermark rule");
    assert!(alerts.len() >= 5, "{alerts:?}");

    let tests = read(RULE_TESTS);
    let lines: Vec<&str> = tests.lines().map(str::trim).collect();
    let (mut firing, mut silent) = (BTreeSet::new(), BTreeSet::new());
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = line.strip_prefix("alertname:") else { continue };
        match lines.get(i + 1).copied() {
            Some("exp_alerts: []") => silent.insert(name.trim().to_string()),
            Some("exp_alerts:") if lines.get(i + 2).is_some_and(|l| l.starts_with("- exp_labels:")) => firing.insert(name.trim().to_string()),
            other => panic!("{RULE_TESTS}: unexpected line after `{line}`: {other:?}"),
        };
    }
    for alert in &alerts {
        assert!(firing.contains(alert), "{RULE_TESTS} has no case where {alert} fires");
        assert!(silent.contains(alert), "{RULE_TESTS} has no case where {alert} stays silent");
    }
    let unknown: Vec<_> = firing.union(&silent).filter(|a| !alerts.contains(*a)).collect();
    assert!(unknown.is_empty(), "tests of alerts that do not exist: {unknown:?}");
}

#[test]
fn compose_file_is_valid() {
    run_ok("docker-compose", &["-f", COMPOSE, "config", "-q"]);
}

#[test]
fn compose_has_every_service() {
    let services: BTreeSet<String> = run_ok("docker-compose", &["-f", COMPOSE, "config", "--services"]).lines().map(str::to_string).collect();
    for s in ["kafka", "clickhouse", "topics", "pipeline", "generator", "prometheus", "grafana"] {
        assert!(services.contains(s), "docker-compose.yml has no `{s}` service: {services:?}");
    }
}

#[test]
fn compose_start_order_lets_up_alone_fill_the_dashboards() {
    let config = run_ok("docker-compose", &["-f", COMPOSE, "config"]);
    let condition = |service: &str, dependency: &str| yaml_scalar(&config, &["services", service, "depends_on", dependency, "condition"]);
    for (service, dependency, expected) in [
        ("topics", "kafka", "service_healthy"),
        ("pipeline", "topics", "service_completed_successfully"),
        ("pipeline", "clickhouse", "service_healthy"),
        ("generator", "topics", "service_completed_successfully"),
        ("grafana", "pipeline", "service_healthy"),
        ("grafana", "clickhouse", "service_healthy"),
    ] {
        assert_eq!(condition(service, dependency).as_deref(), Some(expected), "{service} must wait for {dependency} ({expected})");
    }
    for service in ["kafka", "clickhouse", "pipeline"] {
        assert!(yaml_scalar(&config, &["services", service, "healthcheck", "interval"]).is_some(), "{service} needs a healthcheck");
    }
    assert!(config.contains("/prometheus:/etc/prometheus"), "prometheus/ is mounted where prometheus.yml expects its rules");
    assert!(config.contains("- 0.0.0.0:9464"), "the pipeline serves /metrics to the other containers on :9464");
}

#[test]
fn yaml_scalar_follows_nesting() {
    let text = "services:\n  a:\n    depends_on:\n      b:\n        condition: x\n  b:\n    depends_on:\n      c:\n        condition: 'y'\n";
    assert_eq!(yaml_scalar(text, &["services", "a", "depends_on", "b", "condition"]).as_deref(), Some("x"));
    assert_eq!(yaml_scalar(text, &["services", "b", "depends_on", "c", "condition"]).as_deref(), Some("y"));
    assert_eq!(yaml_scalar(text, &["services", "a", "depends_on", "c", "condition"]), None);
    assert_eq!(yaml_scalar(text, &["services", "b", "depends_on", "b", "condition"]), None);
}
