//! The norms as a table for people and as a TOML snippet for the standards config.

use super::{Norm, Norms, Outcome};
use quality_engine::methodology::{format_duration_ms, Direction, MetricId, Unit};
use std::fmt::Write;

/// A value for the table, in the metric's usual notation: `4.52`, `37.5` (NPS), `93.1%`, `2.4h`.
pub fn render_value(metric: MetricId, value: f64) -> String {
    match metric.unit() {
        Unit::Rating => format!("{value:.2}"),
        Unit::NpsPoints => format!("{value:.1}"),
        Unit::Ratio => format!("{:.1}%", value * 100.0),
        Unit::Seconds => format_duration_ms(value * 1000.0),
    }
}

/// A target as the config reads it back exactly: durations as a string in whole milliseconds
/// (`"2h"`, `"90m"`, `"45s"`, `"4741.115s"`; `parse_duration_ms` takes one number and one
/// unit), other metrics as the shortest decimal that parses to the same number.
pub fn toml_target(metric: MetricId, value: f64) -> String {
    if metric.unit() != Unit::Seconds {
        return format!("{value:?}");
    }
    let ms = (value * 1000.0).round() as i64;
    let text = if ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        let frac = format!("{:03}", (ms % 1000).abs());
        format!("{}{}.{}s", if ms < 0 { "-" } else { "" }, (ms / 1000).abs(), frac.trim_end_matches('0'))
    };
    format!("{text:?}")
}

fn share(k: usize, n: usize) -> String {
    if n == 0 {
        return "-".into();
    }
    format!("{:.1}%", 100.0 * k as f64 / n as f64)
}

fn sign(m: MetricId) -> &'static str {
    match m.direction() {
        Direction::HigherIsBetter => ">=",
        Direction::LowerIsBetter => "<=",
    }
}

fn header(norms: &Norms) -> String {
    let s = &norms.settings;
    let periods = match &norms.periods {
        Some((a, b)) if a == b => format!("the {} starting {a}", norms.cadence),
        Some((a, b)) => format!("{} periods starting {a} .. {b}", norms.cadence),
        None => format!("no {} periods", norms.cadence),
    };
    format!(
        "Norms from final {} rows: {periods}; a cell is one seller and period with at least {} observations; pass rate {}",
        norms.cadence,
        s.min_sample,
        share_of(s.pass_rate)
    )
}

fn share_of(p: f64) -> String {
    let pct = p * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("{pct:.0}%")
    } else {
        format!("{pct}%")
    }
}

/// The table: one line per standard with its distribution, then the skipped standards.
pub fn render_table(norms: &Norms) -> String {
    let mut out = header(norms) + "\n";
    let cols = ["standard", "", "cells", "p10", "p25", "p50", "p75", "p90", "target", "passing", "suggested", "passing"];
    let mut rows: Vec<Vec<String>> = vec![cols.iter().map(|c| c.to_string()).collect()];
    let mut skipped = Vec::new();
    for o in &norms.outcomes {
        match o {
            Outcome::Suggested(n) => rows.push(row(n)),
            Outcome::Skipped { metric, reason, .. } => skipped.push(format!("skipped {metric}: {reason}")),
        }
    }
    let widths: Vec<usize> = (0..cols.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    for r in &rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i == 0 {
                let _ = write!(line, "{cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(line, "  {}{cell}", " ".repeat(pad));
            }
        }
        out += line.trim_end();
        out.push('\n');
    }
    for s in skipped {
        out += &s;
        out.push('\n');
    }
    out
}

fn row(n: &Norm) -> Vec<String> {
    let m = n.metric;
    let mut r = vec![m.as_str().to_string(), sign(m).to_string(), n.cells.to_string()];
    r.extend(n.percentiles.iter().map(|v| render_value(m, *v)));
    r.push(render_value(m, n.target));
    r.push(share(n.passing_target, n.cells));
    r.push(render_value(m, n.suggested));
    r.push(share(n.passing_suggested, n.cells));
    r
}

/// The suggestion as a config snippet: a `[standards.<id>]` table with `target` per suggested
/// standard, and the skipped standards as comments. Valid as a whole `--config` file.
pub fn render_toml(norms: &Norms) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Suggested targets from `quality-pipeline norms`. {}.", header(norms));
    let _ = writeln!(
        out,
        "# Each target is met by at least {} of the cells (nearest rank from the best cell; docs/methodology.md, \"Norms from history\").",
        share_of(norms.settings.pass_rate)
    );
    for o in &norms.outcomes {
        match o {
            Outcome::Suggested(n) => {
                let m = n.metric;
                let _ = writeln!(out, "\n[standards.{m}]");
                let _ = writeln!(
                    out,
                    "target = {}  # {} {}; {} of {} cells pass ({}); current target {} passes {}",
                    toml_target(m, n.suggested),
                    sign(m),
                    render_value(m, n.suggested),
                    n.passing_suggested,
                    n.cells,
                    share(n.passing_suggested, n.cells),
                    render_value(m, n.target),
                    share(n.passing_target, n.cells)
                );
            }
            Outcome::Skipped { metric, reason, .. } => {
                let _ = writeln!(out, "\n# [standards.{metric}] skipped: {reason}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{analyse, compute, Cell, Settings};
    use super::*;
    use quality_engine::methodology::{parse_duration_ms, Standards};
    use quality_engine::window::Cadence;

    #[test]
    fn duration_targets_parse_back_to_the_same_milliseconds() {
        for (secs, text) in [
            (7200.0, "\"2h\""),
            (9000.0, "\"150m\""),
            (5400.0, "\"90m\""),
            (45.0, "\"45s\""),
            (4741.115, "\"4741.115s\""),
            (4741.1, "\"4741.1s\""),
            (0.25, "\"0.25s\""),
            (0.0, "\"0h\""),
        ] {
            let t = toml_target(MetricId::ResponseTimeAvg, secs);
            assert_eq!(t, text);
            let ms = parse_duration_ms(t.trim_matches('"')).unwrap();
            assert_eq!(ms as f64 / 1000.0, secs, "{t}");
        }
    }

    #[test]
    fn number_targets_round_trip_exactly() {
        for v in [0.9473684210526315, 4.5, 60.0, -12.5, 0.0, 1.0 / 3.0] {
            let t = toml_target(MetricId::Csi, v);
            let parsed: toml::Value = toml::from_str(&format!("x = {t}")).unwrap();
            assert_eq!(parsed["x"].as_float(), Some(v), "{t}");
        }
        assert_eq!(toml_target(MetricId::Nps, 60.0), "60.0");
    }

    #[test]
    fn the_snippet_is_a_valid_standards_config() {
        let s = Settings { pass_rate: 0.9, min_sample: 1, min_cells: 2 };
        let cell = |m: MetricId, i: usize, v: f64| Cell {
            metric: m,
            seller_id: format!("s{i}"),
            period_start: "2025-01-01".into(),
            denominator: 30,
            value: v,
        };
        let mut cells: Vec<Cell> = (0..10).map(|i| cell(MetricId::Csi, i, 4.0 + i as f64 * 0.1)).collect();
        cells.extend((0..10).map(|i| cell(MetricId::ConfirmationTimeAvg, i, 3600.0 + i as f64 * 600.5)));
        cells.push(cell(MetricId::Nps, 0, 50.0));
        let norms = compute(&cells, &Standards::default(), Cadence::Month, &s);
        let snippet = render_toml(&norms);
        // 9th best CSI of 4.0..4.9 is the 2nd lowest, 4.1; the 9th shortest confirmation is
        // 3600 + 8 * 600.5 = 8404 s.
        assert!(
            snippet.contains("[standards.csi]\ntarget = 4.1  # >= 4.10; 9 of 10 cells pass (90.0%); current target 4.50 passes 50.0%"),
            "{snippet}"
        );
        assert!(snippet.contains("[standards.confirmation_time_avg]\ntarget = \"8404s\"  # <= 2.3h; 9 of 10 cells pass (90.0%)"), "{snippet}");
        assert!(
            snippet.contains("# [standards.nps] skipped: 1 cell with at least 1 observations; a suggestion needs at least 2 (--min-cells)"),
            "{snippet}"
        );
        #[derive(serde::Deserialize)]
        struct File {
            standards: Standards,
        }
        let f: File = toml::from_str(&snippet).unwrap();
        assert_eq!(f.standards.get(MetricId::ConfirmationTimeAvg).target, 8404.0);
        assert!((f.standards.get(MetricId::Csi).target - 4.1).abs() < 1e-9);
        assert_eq!(f.standards.get(MetricId::Nps).target, 60.0, "skipped standards keep their target");
    }

    #[test]
    fn the_table_lines_up_and_lists_skipped_standards() {
        let s = Settings { pass_rate: 0.9, min_sample: 20, min_cells: 1 };
        let values: Vec<f64> = (1..=10).map(|i| f64::from(i) * 0.1).collect();
        let norm = analyse(MetricId::PositiveReviewShare, &values, 0.9, &s);
        let norms = Norms {
            cadence: Cadence::Month,
            settings: s,
            periods: Some(("2025-01-01".into(), "2025-03-01".into())),
            outcomes: vec![norm, Outcome::Skipped { metric: MetricId::Nps, cells: 0, reason: "no cells".into() }],
        };
        let t = render_table(&norms);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "Norms from final month rows: month periods starting 2025-01-01 .. 2025-03-01; a cell is one seller and period with at least 20 observations; pass rate 90%");
        assert_eq!(lines[1], "standard                   cells    p10    p25    p50    p75    p90  target  passing  suggested  passing");
        assert_eq!(lines[2], "positive_review_share  >=     10  10.0%  30.0%  50.0%  80.0%  90.0%   90.0%    20.0%      20.0%    90.0%");
        assert_eq!(lines[3], "skipped nps: no cells");
    }
}
